//! What changed since I last looked: the changes feed, followed page by page.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_changes_feed_is_followed_page_by_page_without_gaps() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    for n in 0..5 {
        let topic = json!({"slug": format!("topic-{n}"), "name": format!("Topic {n}")});
        assert_eq!(
            app.write(Method::POST, "/v1/topics", &key, &topic)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let first = app.get("/v1/changes?limit=2").await.json();
    assert_eq!(first["page"]["more"], true);
    let mut seen: Vec<String> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entity_id"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["page"]["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let page = app
            .get(&format!("/v1/changes?limit=2&since={cursor}"))
            .await
            .json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["entity_id"].as_str().unwrap().to_owned()),
        );
        cursor = page["page"]["next_cursor"].as_str().unwrap().to_owned();
        if page["page"]["more"] == false {
            break;
        }
    }
    assert_eq!(
        seen,
        ["topic-0", "topic-1", "topic-2", "topic-3", "topic-4"]
    );
    // A poller keeps its cursor and later sees only what came after.
    let topic = json!({"slug": "topic-5", "name": "Topic 5"});
    app.write(Method::POST, "/v1/topics", &key, &topic).await;
    let later = app.get(&format!("/v1/changes?since={cursor}")).await.json();
    assert_eq!(later["data"].as_array().unwrap().len(), 1);
    assert_eq!(later["data"][0]["entity_id"], "topic-5");
    app.get("/v1/changes?since=garbage")
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.get("/v1/changes?entity=planet")
        .await
        .problem(StatusCode::BAD_REQUEST);
}
