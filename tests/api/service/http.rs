//! What every answer carries: health and readiness, request ids, problems for wrong
//! routes, CORS, compression, and the metrics that count requests.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use signatories::HttpSettings;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer_on_a_live_database() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["status"], "ready");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let echoed = app
        .get_with("/healthz", &[("x-request-id", "dashboard-42")])
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("dashboard-42"));
    let generated = app.get("/healthz").await;
    let id = generated
        .header("x-request-id")
        .expect("a generated request id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_ne!(app.get("/healthz").await.header("x-request-id"), Some(id));
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems() {
    let app = TestApp::spawn().await;
    let missing = app
        .get("/v1/nothing-here")
        .await
        .problem(StatusCode::NOT_FOUND);
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("/v1/nothing-here")
    );

    let wrong = app.send(Method::DELETE, "/healthz", Body::empty()).await;
    wrong.problem(StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.header("allow").unwrap().contains("GET"));
}

#[tokio::test]
async fn cors_lets_any_origin_read_by_default_and_only_listed_ones_when_configured() {
    let app = TestApp::spawn().await;
    let response = app
        .get_with("/healthz", &[("origin", "https://dashboard.example")])
        .await;
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));

    let settings = HttpSettings {
        cors_origins: Some(vec!["https://newsroom.example".parse().unwrap()]),
        ..HttpSettings::default()
    };
    let app = TestApp::with_settings(settings).await;
    let allowed = app
        .get_with("/healthz", &[("origin", "https://newsroom.example")])
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://newsroom.example")
    );
    let other = app
        .get_with("/healthz", &[("origin", "https://elsewhere.example")])
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let response = app
        .get_with(
            "/nothing-here-but-a-long-enough-path",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
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
