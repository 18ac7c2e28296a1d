//! Polled GETs are served from memory, and never stale: not after a write on this
//! instance, nor after a write on another instance of the service.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::HttpSettings;
use signatories::keys::ApiRole;

use crate::helpers::{TestApp, eventually, metric, second_pool};

#[tokio::test]
async fn a_repeated_get_is_a_cache_hit_until_the_data_changes() {
    let app = TestApp::spawn().await;
    let uri = "/v1/statements?stance=critical&limit=3";
    let first = app.get(uri).await;
    let hits = metric(&app, "signatories_cache_hits_total").await;
    let again = app.get("/v1/statements?limit=3&stance=critical").await;
    assert_eq!(
        again.body, first.body,
        "the same answer, whatever the parameter order"
    );
    assert_eq!(
        metric(&app, "signatories_cache_hits_total").await,
        hits + 1.0
    );

    let key = app.key("editor", ApiRole::Editor).await;
    let patch = json!({"title": "Joint statement, corrected title"});
    let newest = first.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let patched = app
        .send_json(
            Method::PATCH,
            &format!("/v1/statements/{newest}"),
            Some(&key),
            &patch,
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let after = app.get(uri).await.json();
    assert_eq!(
        after["data"][0]["title"], "Joint statement, corrected title",
        "no stale read after a write"
    );
}

#[tokio::test]
async fn csv_exports_stream_and_are_not_held_in_the_cache() {
    let app = TestApp::spawn().await;
    let misses = metric(&app, "signatories_cache_misses_total").await;
    app.get("/v1/statements?format=csv").await;
    app.get("/v1/statements?format=csv").await;
    assert_eq!(metric(&app, "signatories_cache_misses_total").await, misses);
    assert_eq!(metric(&app, "signatories_cache_hits_total").await, 0.0);
}

#[tokio::test]
async fn two_instances_on_one_database_never_serve_each_other_stale_data() {
    let first = TestApp::spawn().await;
    let second = TestApp::on(second_pool(&first.db), HttpSettings::default());
    let uri = "/v1/statements/hrc41-letter-critical-2019-07-08";
    assert_eq!(second.get(uri).await.json()["signatory_count"], 22);
    assert_eq!(second.get(uri).await.json()["signatory_count"], 22);
    assert!(metric(&second, "signatories_cache_hits_total").await >= 1.0);

    // Alignment is counted in each instance's own copy of the participations.
    let shared_with_britain = async || {
        second.get("/v1/countries/FJI/alignment").await.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["country"]["code"] == "GBR")
            .map_or(0, |row| row["shared"].as_u64().unwrap())
    };
    let shared_before = shared_with_britain().await;

    let key = first.key("editor", ApiRole::Editor).await;
    let fiji = json!({"role": "signatory"});
    let added = first
        .send_json(
            Method::PUT,
            &format!("{uri}/signatories/FJI"),
            Some(&key),
            &fiji,
            &[],
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    // Straight after the write's response, the other instance answers with the change.
    assert_eq!(second.get(uri).await.json()["signatory_count"], 23);
    assert_eq!(shared_with_britain().await, shared_before + 1);

    // And its cache was emptied by the NOTIFY, not only bypassed.
    assert!(
        eventually(async || metric(&second, "signatories_cache_invalidations_total").await >= 1.0)
            .await,
        "the second instance heard of the write"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    app.get("/v1/countries/FRA").await;
    app.get("/v1/countries/DEU").await;
    app.get("/v1/countries/QQQ").await;
    let text = app.get("/metrics").await.text();
    let count = |status: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("signatories_http_requests_total{")
                    && l.contains("route=\"/v1/countries/{code}\"")
                    && l.contains(&format!("status=\"{status}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    assert_eq!(count("200"), Some(2.0), "{text}");
    assert_eq!(count("404"), Some(1.0));
    assert!(text.contains("signatories_http_request_duration_seconds_bucket{"));
    assert!(text.contains("signatories_db_pool_connections{state=\"max\"} 4"));
}
