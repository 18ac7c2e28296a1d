//! How editors add, correct and delete statements and cite their sources: validated,
//! atomic, guarded by ETags and recorded in the changes feed.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use signatories::keys::ApiRole;

use crate::helpers::{TestApp, new_statement};

#[tokio::test]
async fn an_editor_adds_a_statement_with_its_signatories_and_the_feed_shows_it() {
    let app = TestApp::spawn().await;
    let key = app.key("newsroom-editor", ApiRole::Editor).await;
    let created = app
        .write(Method::POST, "/v1/statements", &key, &new_statement())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/v1/statements/hrc60-statement-critical-2025-09-15")
    );
    let etag = created.header("etag").unwrap().to_owned();
    let body = created.json();
    assert_eq!(body["signatory_count"], 3);
    assert_eq!(body["lead_country"]["code"], "GBR");
    assert_eq!(body["signatories"].as_array().unwrap().len(), 3);
    assert_eq!(body["sources"][0]["url"], "https://example.org/hrc60");

    let read = app
        .get("/v1/statements/hrc60-statement-critical-2025-09-15")
        .await;
    assert_eq!(
        read.header("etag"),
        Some(etag.as_str()),
        "the read shows the same representation"
    );
    let france = app.get("/v1/countries/FRA/statements?limit=1").await.json();
    assert_eq!(
        france["data"][0]["statement"]["id"],
        "hrc60-statement-critical-2025-09-15"
    );

    let feed = app.get("/v1/changes").await.json();
    let change = feed["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(change["entity"], "statement");
    assert_eq!(change["entity_id"], "hrc60-statement-critical-2025-09-15");
    assert_eq!(change["action"], "create");
    assert_eq!(change["actor"], "newsroom-editor");
    assert_eq!(change["before"], Value::Null);
    assert_eq!(
        change["after"]["title"],
        "Joint statement of 3 states on Xinjiang at HRC60"
    );

    let again = app
        .write(Method::POST, "/v1/statements", &key, &new_statement())
        .await;
    again.problem(StatusCode::CONFLICT);
}

#[tokio::test]
async fn an_id_is_made_from_the_title_and_date_when_none_is_given() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let mut statement = new_statement();
    statement.as_object_mut().unwrap().remove("id");
    let created = app
        .write(Method::POST, "/v1/statements", &key, &statement)
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.json()["id"],
        "joint-statement-of-3-states-on-xinjiang-at-hrc60-2025-09-15"
    );
}

#[tokio::test]
async fn invalid_bodies_report_every_problem_and_change_nothing() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let before = app.snapshot().await;

    let bad = json!({
        "id": "Not A Slug",
        "title": "   ",
        "kind": "tweet",
        "forum": "UN Human Rights Council",
        "issued_on": "2025-02-30",
        "stance": "hostile",
        "lead_country": "XX",
        "topics": ["no-such-topic"],
        "reported_count": -1,
        "signatories": [
            {"country": "ZZZ", "role": "signatory"},
            {"country": "FRA", "role": "voter", "source_url": "not a url"},
            {"country": "DEU", "role": "signatory", "joined_on": "2025-10-01", "withdrawn_on": "2025-09-01"}
        ],
        "sources": [{"url": "ftp://example.org"}]
    });
    let problem = app
        .write(Method::POST, "/v1/statements", &key, &bad)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for expected in [
        "id",
        "title",
        "kind",
        "issued_on",
        "stance",
        "lead_country",
        "topics[0]",
        "reported_count",
        "signatories[0].country",
        "signatories[1].role",
        "signatories[1].source_url",
        "signatories[2].withdrawn_on",
        "sources[0].url",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }

    let missing = app
        .write(Method::POST, "/v1/statements", &key, &json!({}))
        .await;
    let problem = missing.problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for required in ["title", "kind", "forum", "issued_on", "topics"] {
        assert!(
            fields.contains(&required),
            "{required} missing from {fields:?}"
        );
    }

    let typo = app
        .write(Method::POST, "/v1/statements", &key, &json!({"titel": "x"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo["detail"].as_str().unwrap().contains("titel"), "{typo}");

    let early_join = json!({"role": "signatory", "joined_on": "2019-01-01"});
    let problem = app
        .write(
            Method::PUT,
            "/v1/statements/hrc41-letter-critical-2019-07-08/signatories/FJI",
            &key,
            &early_join,
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "joined_on");

    let malformed = app
        .request(
            Request::post("/v1/statements")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::from("{\"title\": \"x\",\n  \"kind\": }"))
                .unwrap(),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(
        malformed["detail"].as_str().unwrap().contains("line 2"),
        "{malformed}"
    );

    let not_json = app
        .request(
            Request::post("/v1/topics")
                .header(header::CONTENT_TYPE, "text/plain")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::from("slug=tibet"))
                .unwrap(),
        )
        .await;
    not_json.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = json!({"slug": "big", "name": "Big", "description": "x".repeat(2 << 20)});
    app.write(Method::POST, "/v1/topics", &key, &huge)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        app.snapshot().await,
        before,
        "no rejected request wrote anything"
    );
    let feed = app.get("/v1/changes").await.json();
    assert_eq!(
        feed["data"],
        json!([]),
        "failed requests never reach the feed"
    );
}

#[tokio::test]
async fn a_merge_patch_corrects_a_statement_guarded_by_if_match() {
    let app = TestApp::spawn().await;
    let key = app.key("corrections", ApiRole::Editor).await;
    let uri = "/v1/statements/hrc41-letter-critical-2019-07-08";
    let etag = app.get(uri).await.header("etag").unwrap().to_owned();

    let patch =
        json!({"un_symbol": "A/HRC/41/G/11", "summary": "Twenty-two states wrote to the Council."});
    let patched = app
        .send_json(
            Method::PATCH,
            uri,
            Some(&key),
            &patch,
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    let new_etag = patched.header("etag").unwrap().to_owned();
    // The new summary's words are searchable at once.
    let found = app.get("/v1/statements?q=twenty-two").await.json();
    assert_eq!(found["data"][0]["id"], "hrc41-letter-critical-2019-07-08");
    assert_ne!(new_etag, etag);
    let body = patched.json();
    assert_eq!(body["un_symbol"], "A/HRC/41/G/11");
    assert_eq!(body["signatory_count"], 22, "untouched fields stay");

    // null removes an optional field
    let cleared = app
        .write(Method::PATCH, uri, &key, &json!({"un_symbol": null}))
        .await;
    assert_eq!(cleared.json()["un_symbol"], Value::Null);

    let before = app.snapshot().await;
    app.send_json(
        Method::PATCH,
        uri,
        Some(&key),
        &json!({"title": "Stale"}),
        &[("if-match", &etag)],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED);
    let fixed = app
        .write(Method::PATCH, uri, &key, &json!({"id": "renamed"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fixed["errors"][0]["field"], "id");
    app.write(Method::PATCH, uri, &key, &json!({"signatories": []}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.write(Method::PATCH, uri, &key, &json!({"colour": "red"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A later date would put existing signatures before the statement.
    let moved = app
        .write(
            Method::PATCH,
            "/v1/statements/hrc41-letter-supportive-2019-07-12",
            &key,
            &json!({"issued_on": "2019-08-01"}),
        )
        .await;
    moved.problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.write(
        Method::PATCH,
        "/v1/statements/no-such-statement",
        &key,
        &patch,
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);

    let feed = app.get("/v1/changes?entity=statement").await.json();
    let updates = feed["data"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["before"]["un_symbol"], Value::Null);
    assert_eq!(updates[0]["after"]["un_symbol"], "A/HRC/41/G/11");
    assert_eq!(updates[1]["actor"], "corrections");
}

#[tokio::test]
async fn sources_are_cited_and_withdrawn() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let sources = "/v1/statements/hrc51-vote-2022-10-06/sources";
    let source = json!({"url": "https://example.org/vote", "title": "Vote record", "publisher": "Example", "accessed_on": "2026-11-01"});
    let created = app.write(Method::POST, sources, &key, &source).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("{sources}/{id}").as_str())
    );
    app.write(Method::POST, sources, &key, &source)
        .await
        .problem(StatusCode::CONFLICT);
    let detail = app.get("/v1/statements/hrc51-vote-2022-10-06").await.json();
    assert!(
        detail["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["title"] == "Vote record")
    );

    app.delete(&format!("{sources}/{id}"), &key, Some("\"stale\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.delete(&format!("{sources}/{id}"), &key, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.delete(&format!("{sources}/{id}"), &key, None)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn statements_are_deleted_with_their_signatures_and_the_feed_keeps_them() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let uri = "/v1/statements/unga79-statement-critical-2024-10-22";
    app.delete(uri, &key, Some("\"stale\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    let etag = app.get(uri).await.header("etag").unwrap().to_owned();
    assert_eq!(
        app.delete(uri, &key, Some(&etag)).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(uri).await.problem(StatusCode::NOT_FOUND);
    let feed = app.get("/v1/changes").await.json();
    let deletion = &feed["data"][0];
    assert_eq!(deletion["action"], "delete");
    assert_eq!(deletion["after"], Value::Null);
    assert_eq!(
        deletion["before"]["signatories"].as_array().unwrap().len(),
        15
    );
    let remaining: i64 = sqlx::query_scalar("select count(*) from signature where statement_id = 'unga79-statement-critical-2024-10-22'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(remaining, 0);
}
