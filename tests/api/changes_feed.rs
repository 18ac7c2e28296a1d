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

/// The feed pages like every list: `cursor=` and `Link: rel="next"` while more changes
/// wait, so a generic client that follows links reads it whole; `since=` still works.
#[tokio::test]
async fn a_generic_client_follows_the_feed_by_its_links() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    for n in 0..5 {
        let topic = json!({"slug": format!("linked-{n}"), "name": format!("Linked {n}")});
        let created = app.write(Method::POST, "/v1/topics", &key, &topic).await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    let mut uri = "/v1/changes?entity=topic&limit=2".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = app.get(&uri).await;
        assert_eq!(page.status, StatusCode::OK);
        let body = page.json();
        seen.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["entity_id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        let Some(link) = page.header("link") else {
            assert_eq!(body["page"]["more"], false, "no link, no more");
            break;
        };
        assert_eq!(body["page"]["more"], true);
        let target = link.trim_start_matches('<').split('>').next().unwrap();
        assert!(target.contains("cursor="), "{link}");
        assert!(
            target.contains("entity=topic"),
            "the other parameters kept: {link}"
        );
        uri = target.to_owned();
    }
    assert_eq!(
        seen,
        (0..5).map(|n| format!("linked-{n}")).collect::<Vec<_>>()
    );
    assert_eq!(pages, 3);

    // `since` names the same cursor; both at once are refused.
    let first = app.get("/v1/changes?entity=topic&limit=2").await.json();
    let cursor = first["page"]["next_cursor"].as_str().unwrap();
    let by_since = app
        .get(&format!("/v1/changes?entity=topic&limit=2&since={cursor}"))
        .await
        .json();
    let by_cursor = app
        .get(&format!("/v1/changes?entity=topic&limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(by_since["data"], by_cursor["data"]);
    let problem = app
        .get(&format!("/v1/changes?cursor={cursor}&since={cursor}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "since");
}
