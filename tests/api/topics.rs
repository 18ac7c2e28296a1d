//! Topics: which there are and their statements, and how editors keep topics and
//! admins keep countries.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::TestApp;

#[tokio::test]
async fn topics_are_listed_with_their_statements() {
    let app = TestApp::spawn().await;
    let topics = app.get("/v1/topics").await.json();
    assert_eq!(topics["data"][0]["slug"], "xinjiang");
    assert_eq!(topics["data"][0]["statement_count"], 25);
    let xinjiang = app.get("/v1/topics/xinjiang").await.json();
    assert_eq!(xinjiang["first_issued_on"], "2019-07-08");
    app.get("/v1/topics/tibet")
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn topics_and_countries_are_kept_by_editors_and_admins() {
    let app = TestApp::with_settings(signatories::HttpSettings {
        admin_key_hash: Some(signatories::keys::hash(
            "bootstrap-admin-key-for-tests-0001",
        )),
        ..Default::default()
    })
    .await;
    let editor = app.key("editor", ApiRole::Editor).await;
    let topic = json!({"slug": "tibet", "name": "Human rights in Tibet"});
    let created = app.write(Method::POST, "/v1/topics", &editor, &topic).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("location"), Some("/v1/topics/tibet"));
    app.write(Method::POST, "/v1/topics", &editor, &topic)
        .await
        .problem(StatusCode::CONFLICT);
    let renamed = app
        .write(
            Method::PATCH,
            "/v1/topics/tibet",
            &editor,
            &json!({"description": "Statements on Tibet."}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.json()["description"], "Statements on Tibet.");

    let admin = "bootstrap-admin-key-for-tests-0001";
    let kosovo = json!({"code": "XKX", "iso2": "XK", "name": "Kosovo", "region": "Europe", "subregion": "Southern Europe"});
    let created = app
        .write(Method::POST, "/v1/countries", admin, &kosovo)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(app.get("/v1/countries/xk").await.json()["name"], "Kosovo");
    let etag = created.header("etag").unwrap().to_owned();
    let patched = app
        .send_json(
            Method::PATCH,
            "/v1/countries/XKX",
            Some(admin),
            &json!({"official_name": "Republic of Kosovo"}),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    app.write(
        Method::PATCH,
        "/v1/countries/XKX",
        admin,
        &json!({"code": "KOS"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.write(
        Method::POST,
        "/v1/countries",
        admin,
        &json!({"code": "FRA", "name": "France"}),
    )
    .await
    .problem(StatusCode::CONFLICT);

    let feed = app.get("/v1/changes?entity=country").await.json();
    assert!(
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["actor"] == "bootstrap-admin")
    );
}
