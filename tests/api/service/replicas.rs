//! Reads on a streaming replica, with real replication: never older than the last
//! write's response on any instance however far the replica lags, served by the
//! replica when it is fresh, and without a failed request when it goes down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use signatories::keys::ApiRole;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::helpers::replication::Replicated;
use crate::helpers::{TestApp, eventually, scalar_i64};

/// A value of `/metrics`, 0 while the series does not exist yet.
async fn sample(app: &TestApp, series: &str) -> f64 {
    let text = app.get("/metrics").await.text();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn reads_on(app: &TestApp, target: &str) -> f64 {
    sample(
        app,
        &format!("signatories_db_reads_total{{target=\"{target}\"}}"),
    )
    .await
}

/// A page size not asked before, so that the answer is computed, not cached.
fn uncached(path: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let limit = NEXT.fetch_add(1, Ordering::Relaxed) % 500 + 1;
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}limit={limit}")
}

/// Waits until a fresh read of `app` is served by the replica.
async fn reads_reach_the_replica(app: &TestApp) -> bool {
    eventually(async || {
        let before = reads_on(app, "replica-1").await;
        assert_eq!(
            app.get(&uncached("/v1/topics")).await.status,
            StatusCode::OK
        );
        reads_on(app, "replica-1").await > before
    })
    .await
}

#[tokio::test]
async fn a_write_is_read_at_once_on_every_instance_while_the_replica_lags() {
    let servers = Replicated::start(Duration::from_secs(2)).await;
    let (first, second) = (servers.instance().await, servers.instance().await);
    assert!(reads_reach_the_replica(&first).await);
    assert!(reads_reach_the_replica(&second).await);

    let key = first.key("editor", ApiRole::Editor).await;
    let newest = first.get("/v1/statements?limit=1").await.json()["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/v1/statements/{newest}");
    let standby = PgPool::connect_with(servers.standby_options())
        .await
        .unwrap();
    let primary_reads = (
        reads_on(&first, "primary").await,
        reads_on(&second, "primary").await,
    );
    for round in 0..3 {
        let title = format!("Joint statement, corrected {round}");
        let patched = first
            .write(Method::PATCH, &uri, &key, &json!({ "title": title }))
            .await;
        assert_eq!(patched.status, StatusCode::OK);
        let on_standby: String = sqlx::query_scalar("select title from statement where id = $1")
            .bind(&newest)
            .fetch_one(&standby)
            .await
            .unwrap();
        assert_ne!(on_standby, title, "the replica lags behind the write");
        for app in [&first, &second] {
            assert_eq!(app.get(&uri).await.json()["title"], title);
            let list = app.get(&uncached("/v1/statements")).await.json();
            assert_eq!(list["data"][0]["title"], title);
        }
    }
    // Each read after a write ran on the primary: the replica had not replayed it.
    assert_eq!(reads_on(&first, "primary").await, primary_reads.0 + 6.0);
    assert_eq!(reads_on(&second, "primary").await, primary_reads.1 + 6.0);
    let lag = r#"signatories_replica_lag_seconds{replica="replica-1"}"#;
    assert!(
        eventually(async || sample(&second, lag).await > 0.0).await,
        "the lag shows while the replica is behind"
    );

    // Once the replica has replayed the last write, it serves again.
    assert!(reads_reach_the_replica(&second).await);
    assert_eq!(
        second.get(&uri).await.json()["title"],
        "Joint statement, corrected 2"
    );
    assert_eq!(sample(&second, lag).await, 0.0);
}

#[tokio::test]
async fn reads_are_served_by_a_fresh_replica() {
    let servers = Replicated::start(Duration::ZERO).await;
    let app = servers.instance().await;
    assert!(reads_reach_the_replica(&app).await);
    let standby = PgPool::connect_with(servers.standby_options())
        .await
        .unwrap();
    let committed = async || -> i64 {
        sqlx::query_scalar(
            "select xact_commit from pg_stat_database where datname = current_database()",
        )
        .fetch_one(&standby)
        .await
        .unwrap()
    };
    let on_standby = committed().await;
    let (primary, replica) = (
        reads_on(&app, "primary").await,
        reads_on(&app, "replica-1").await,
    );
    for path in [
        "/v1/statements",
        "/v1/countries/FRA/statements",
        "/v1/statements/hrc41-letter-critical-2019-07-08/signatories",
        "/v1/participations",
        "/v1/countries",
    ] {
        for _ in 0..4 {
            assert_eq!(app.get(&uncached(path)).await.status, StatusCode::OK);
        }
    }
    assert_eq!(reads_on(&app, "primary").await, primary);
    assert_eq!(reads_on(&app, "replica-1").await, replica + 20.0);
    // The standby's own statistics count the transactions (flushed within a second).
    assert!(eventually(async || committed().await >= on_standby + 20).await);
}

#[tokio::test]
async fn stopping_the_replica_under_load_fails_no_request() {
    let servers = Arc::new(Replicated::start(Duration::ZERO).await);
    let app = Arc::new(servers.instance().await);
    assert!(reads_reach_the_replica(&app).await);

    // An export begun on the replica: its batches are read once its body is.
    let replica = reads_on(&app, "replica-1").await;
    let export = app
        .router
        .clone()
        .oneshot(
            Request::get("/v1/participations?format=csv")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(reads_on(&app, "replica-1").await, replica + 1.0);

    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|reader| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                let paths = [
                    "/v1/statements",
                    "/v1/participations?format=csv",
                    "/v1/countries/GBR/statements",
                    "/v1/topics/xinjiang/timeline",
                ];
                let mut failed = Vec::new();
                let mut n = reader;
                while !stop.load(Ordering::Relaxed) {
                    let uri = uncached(paths[n % paths.len()]);
                    let response = app.get(&uri).await;
                    if response.status != StatusCode::OK {
                        failed.push(format!("{uri}: {} {}", response.status, response.text()));
                    }
                    n += 1;
                }
                failed
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = servers.clone();
    tokio::task::spawn_blocking(move || stopping.stop_standby())
        .await
        .unwrap();
    let csv = export.into_body().collect().await.unwrap().to_bytes();
    let participations = scalar_i64(&app.db, "select count(*) from participation").await;
    assert_eq!(
        csv.iter().filter(|&&b| b == b'\n').count() as i64,
        participations + 1,
        "the export read its rows from the primary instead"
    );
    let primary = reads_on(&app, "primary").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        reads_on(&app, "primary").await > primary,
        "the primary serves meanwhile"
    );
    assert_eq!(
        sample(&app, r#"signatories_replica_up{replica="replica-1"}"#).await,
        0.0
    );

    let starting = servers.clone();
    tokio::task::spawn_blocking(move || starting.start_standby())
        .await
        .unwrap();
    let replica = reads_on(&app, "replica-1").await;
    assert!(
        eventually(async || reads_on(&app, "replica-1").await > replica).await,
        "reads return to the replica once it is back"
    );
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        let failed = reader.await.unwrap();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}
