//! Starting and stopping: the embedded cluster's life cycle, configuration errors,
//! the real binary serving and shutting down, and the compose file.

use std::process::Stdio;
use std::time::Duration;

use axum::http::StatusCode;
use signatories::HttpSettings;
use signatories::embedded::{Cluster, ClusterOptions};
use sqlx::{Connection, PgConnection};

use crate::helpers::binary::{
    http_get, signatories_bin, start_service, terminate, wait_until_ready,
};
use crate::helpers::{TestApp, throwaway_cluster};

/// Start, stop and start again one embedded cluster: readiness follows the database,
/// data survives, and a stale `postmaster.pid` from a crash does not block a start.
#[tokio::test]
async fn embedded_cluster_restarts_with_its_data_and_readiness_follows_it() {
    let dir = tempfile::Builder::new()
        .prefix("signatories-restart-")
        .tempdir()
        .unwrap()
        .keep();
    let options = ClusterOptions::new(&dir);
    let start = |options: ClusterOptions| async move {
        tokio::task::spawn_blocking(move || Cluster::start(&options))
            .await
            .unwrap()
            .unwrap()
    };

    let cluster = start(options.clone()).await;
    cluster.create_database("kept", None).await.unwrap();
    let connect = cluster.connect_options("kept");
    let mut conn = PgConnection::connect_with(&connect).await.unwrap();
    sqlx::raw_sql("create table marker (note text); insert into marker values ('still here')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let pool = signatories::db::pool_options(2).connect_lazy_with(connect.clone());
    let app = TestApp::on(pool, HttpSettings::default());
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(!dir.join("postmaster.pid").exists(), "the server is down");
    let started = std::time::Instant::now();
    app.get("/readyz")
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "readiness must not hang"
    );

    // A crash leaves postmaster.pid behind, naming a pid that is now something else.
    std::fs::write(
        dir.join("postmaster.pid"),
        format!("{}\n{}\n", std::process::id(), dir.display()),
    )
    .unwrap();
    let mut options = throwaway_cluster(dir.clone());
    options.settings.clear();
    let cluster = start(options).await;
    let mut conn = PgConnection::connect_with(&cluster.connect_options("kept"))
        .await
        .unwrap();
    let note: String = sqlx::query_scalar("select note from marker")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(note, "still here");
    conn.close().await.unwrap();
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    drop(app);
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
    assert!(!dir.exists(), "a throwaway cluster is deleted once stopped");
}

#[test]
fn invalid_configuration_stops_the_process_naming_the_variable() {
    for (variable, value) in [
        ("SIGNATORIES_BIND", "not-an-address"),
        ("SIGNATORIES_LOG_FORMAT", "xml"),
        ("SIGNATORIES_POOL_SIZE", "0"),
        ("SIGNATORIES_REQUEST_TIMEOUT", "soon"),
        ("SIGNATORIES_MAX_BODY_BYTES", "-1"),
        ("SIGNATORIES_CORS_ORIGINS", "dashboard.example"),
        ("SIGNATORIES_CACHE_MAX_AGE", "forever"),
        ("RUST_LOG", "info,[[["),
        ("DATABASE_URL", "mysql://nope"),
    ] {
        let output = signatories_bin()
            .env(variable, value)
            .env(
                "SIGNATORIES_BIND",
                if variable == "SIGNATORIES_BIND" {
                    value
                } else {
                    "127.0.0.1:0"
                },
            )
            .env("SIGNATORIES_DATA_DIR", "/nonexistent/never-created")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{variable}={value} must fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(variable), "{variable}={value}: {stderr}");
    }
}

#[test]
fn the_binary_serves_on_its_embedded_default_stops_cleanly_and_keeps_its_data() {
    let dir = tempfile::Builder::new()
        .prefix("signatories-serve-")
        .tempdir()
        .unwrap();
    // The cluster may run as the postgres user, which must reach its directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data_dir = dir.path().join("postgres");

    let (service, address) = start_service(&data_dir, &[]);
    let (status, _) = http_get(&address, "/healthz");
    assert_eq!(status, 200);
    wait_until_ready(&address);
    terminate(service);
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "PostgreSQL stopped with the service"
    );

    let (service, address) = start_service(&data_dir, &[]);
    wait_until_ready(&address);
    terminate(service);
    assert!(
        data_dir.join("PG_VERSION").exists(),
        "the same cluster was reused"
    );
}

/// No Docker engine runs in CI, so the compose file is checked against the Compose
/// Specification's own schema (tests/fixtures/compose-spec.json, copied from the
/// compose-spec/compose-spec repository).
#[test]
fn docker_compose_file_follows_the_compose_specification() {
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fixtures/compose-spec.json").unwrap())
            .unwrap();
    // The jsonschema crate knows draft 7 by its canonical http:// URI only.
    schema["$schema"] = "http://json-schema.org/draft-07/schema#".into();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // Compose resolves YAML merge keys (`<<: *api`) before it reads the file.
    let mut yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string("docker-compose.yml").unwrap()).unwrap();
    yaml.apply_merge().unwrap();
    let compose: serde_json::Value = serde_json::to_value(yaml).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&compose)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        compose["services"]["api"]["depends_on"]["db"]["condition"], "service_healthy",
        "the API waits for a healthy database"
    );

    // The replicated profile: two instances reading from the replica, behind the proxy.
    for instance in ["api-1", "api-2"] {
        let service = &compose["services"][instance];
        assert_eq!(service["profiles"][0], "replicated");
        assert_eq!(
            service["environment"]["DATABASE_URL"],
            compose["services"]["api"]["environment"]["DATABASE_URL"]
        );
        assert!(
            service["environment"]["SIGNATORIES_REPLICA_URLS"]
                .as_str()
                .unwrap()
                .contains("@replica:5432/")
        );
    }
    assert_eq!(compose["services"]["replica"]["profiles"][0], "replicated");
    assert!(compose["services"]["api"].get("profiles").is_none());

    let mut broken = compose.clone();
    broken["services"]["api"]["ports"] = "8080".into();
    assert!(!validator.is_valid(&broken), "the check can fail");
}
