//! The admin's command line against a live database: keys and import.

use std::process::{Command, Output};

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::ConnectOptions;

use crate::helpers::TestApp;

fn signatories(app: &TestApp, args: &[&str]) -> Output {
    let url = app.db.connect_options().to_url_lossy().to_string();
    Command::new(env!("CARGO_BIN_EXE_signatories"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn an_admin_creates_lists_and_revokes_keys_from_the_command_line() {
    let app = TestApp::spawn().await;
    let created = signatories(
        &app,
        &["keys", "create", "--name", "desk", "--role", "editor"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("sig_") && key.len() > 40, "{key}");

    let topic = json!({"slug": "tibet", "name": "Human rights in Tibet"});
    let written = app
        .send_json(Method::POST, "/v1/topics", Some(&key), &topic, &[])
        .await;
    assert_eq!(written.status, StatusCode::CREATED);

    let listed = signatories(&app, &["keys", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("\"name\":\"desk\"") && listed.contains("\"role\":\"editor\""),
        "{listed}"
    );
    assert!(
        !listed.contains(&key),
        "the key itself is never shown again"
    );

    assert!(
        signatories(&app, &["keys", "revoke", "desk"])
            .status
            .success()
    );
    let topic = json!({"slug": "hong-kong", "name": "Hong Kong"});
    app.send_json(Method::POST, "/v1/topics", Some(&key), &topic, &[])
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let again = signatories(&app, &["keys", "revoke", "desk"]);
    assert!(!again.status.success(), "revoking twice is an error");
}

#[tokio::test]
async fn the_import_command_reports_and_rejects_bad_rows_with_their_lines() {
    let app = TestApp::spawn().await;
    let dry = signatories(
        &app,
        &[
            "import",
            "data/xinjiang",
            "--topic",
            "xinjiang",
            "--dry-run",
        ],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        report["statements"]["created"], 0,
        "the seed already holds the dataset"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("signatories.csv"),
        "statement_slug,country_iso3,role\nhrc41-letter-critical-2019-07-08,ATL,signatory\n",
    )
    .unwrap();
    let rejected = signatories(&app, &["import", dir.path().to_str().unwrap()]);
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        stderr.contains("signatories.csv:2: country_iso3"),
        "{stderr}"
    );
}
