//! The write API: authenticated, validated, atomic, attributed and traceable.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use signatories::keys::ApiRole;

use crate::helpers::TestApp;

fn new_statement() -> Value {
    json!({
        "id": "hrc60-statement-critical-2025-09-15",
        "title": "Joint statement of 3 states on Xinjiang at HRC60",
        "kind": "joint_statement",
        "forum": "UN Human Rights Council",
        "session": "HRC60",
        "issued_on": "2025-09-15",
        "stance": "critical",
        "lead_country": "gb",
        "topics": ["xinjiang"],
        "summary": "A test statement.",
        "reported_count": 3,
        "list_complete": true,
        "signatories": [
            {"country": "GBR", "role": "lead", "source_url": "https://example.org/hrc60"},
            {"country": "fr", "role": "signatory", "source_url": "https://example.org/hrc60"},
            {"country": "DEU", "role": "signatory", "joined_on": "2025-09-20"}
        ],
        "sources": [{"url": "https://example.org/hrc60", "publisher": "example.org"}]
    })
}

#[tokio::test]
async fn writing_needs_a_valid_key_and_reads_stay_public() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let missing = app
        .send_json(Method::POST, "/v1/statements", None, &new_statement(), &[])
        .await;
    missing.problem(StatusCode::UNAUTHORIZED);
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    let wrong = app
        .send_json(
            Method::POST,
            "/v1/statements",
            Some("sig_not-a-real-key"),
            &new_statement(),
            &[],
        )
        .await;
    wrong.problem(StatusCode::UNAUTHORIZED);
    assert!(
        !wrong.text().contains("sig_not-a-real-key"),
        "keys never appear in error bodies"
    );

    let key = app.key("desk", ApiRole::Editor).await;
    assert!(signatories::keys::revoke(&app.db, "desk").await.unwrap());
    app.send_json(
        Method::POST,
        "/v1/statements",
        Some(&key),
        &new_statement(),
        &[],
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);

    let editor = app.key("editor", ApiRole::Editor).await;
    let kosovo = json!({"code": "XKX", "name": "Kosovo"});
    app.send_json(Method::POST, "/v1/countries", Some(&editor), &kosovo, &[])
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.snapshot().await,
        before,
        "rejected writes change nothing"
    );

    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select key_hash from api_key")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(stored.iter().all(|h| {
        h.len() == 32
            && !h
                .windows(8)
                .any(|w| editor.as_bytes().windows(8).any(|k| k == w))
    }));
}

#[tokio::test]
async fn an_editor_adds_a_statement_with_its_signatories_and_the_feed_shows_it() {
    let app = TestApp::spawn().await;
    let key = app.key("newsroom-editor", ApiRole::Editor).await;
    let created = app
        .send_json(
            Method::POST,
            "/v1/statements",
            Some(&key),
            &new_statement(),
            &[],
        )
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
        .send_json(
            Method::POST,
            "/v1/statements",
            Some(&key),
            &new_statement(),
            &[],
        )
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
        .send_json(Method::POST, "/v1/statements", Some(&key), &statement, &[])
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
        .send_json(Method::POST, "/v1/statements", Some(&key), &bad, &[])
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
        .send_json(Method::POST, "/v1/statements", Some(&key), &json!({}), &[])
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
        .send_json(
            Method::POST,
            "/v1/statements",
            Some(&key),
            &json!({"titel": "x"}),
            &[],
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo["detail"].as_str().unwrap().contains("titel"), "{typo}");

    let early_join = json!({"role": "signatory", "joined_on": "2019-01-01"});
    let problem = app
        .send_json(
            Method::PUT,
            "/v1/statements/hrc41-letter-critical-2019-07-08/signatories/FJI",
            Some(&key),
            &early_join,
            &[],
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
    app.send_json(Method::POST, "/v1/topics", Some(&key), &huge, &[])
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
        .send_json(
            Method::PATCH,
            uri,
            Some(&key),
            &json!({"un_symbol": null}),
            &[],
        )
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
        .send_json(
            Method::PATCH,
            uri,
            Some(&key),
            &json!({"id": "renamed"}),
            &[],
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fixed["errors"][0]["field"], "id");
    app.send_json(
        Method::PATCH,
        uri,
        Some(&key),
        &json!({"signatories": []}),
        &[],
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.send_json(
        Method::PATCH,
        uri,
        Some(&key),
        &json!({"colour": "red"}),
        &[],
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    // A later date would put existing signatures before the statement.
    let moved = app
        .send_json(
            Method::PATCH,
            "/v1/statements/hrc41-letter-supportive-2019-07-12",
            Some(&key),
            &json!({"issued_on": "2019-08-01"}),
            &[],
        )
        .await;
    moved.problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.send_json(
        Method::PATCH,
        "/v1/statements/no-such-statement",
        Some(&key),
        &patch,
        &[],
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
async fn signatories_are_added_corrected_and_removed_one_country_at_a_time() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let letter = "/v1/statements/hrc41-letter-critical-2019-07-08";
    let fiji = format!("{letter}/signatories/fj");

    let created = app
        .send_json(Method::PUT, &fiji, Some(&key), &json!({"role": "signatory", "joined_on": "2019-07-20", "source_url": "https://example.org/fiji"}), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(
        created.header("location"),
        Some("/v1/statements/hrc41-letter-critical-2019-07-08/signatories/FJI")
    );
    let etag = created.header("etag").unwrap().to_owned();
    assert_eq!(created.json()["effective_stance"], "critical");
    assert_eq!(app.get(letter).await.json()["signatory_count"], 23);

    let exists = app
        .send_json(
            Method::PUT,
            &fiji,
            Some(&key),
            &json!({"role": "signatory"}),
            &[("if-none-match", "*")],
        )
        .await;
    exists.problem(StatusCode::PRECONDITION_FAILED);

    let withdrawn = app
        .send_json(
            Method::PUT,
            &fiji,
            Some(&key),
            &json!({"role": "signatory", "joined_on": "2019-07-20", "withdrawn_on": "2019-08-01"}),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["effective_stance"], "withdrawn");
    let counted = app.get(letter).await.json();
    assert_eq!(counted["signatory_count"], 22);
    assert_eq!(counted["stance_counts"]["withdrawn"], 1);

    app.send_json(
        Method::PUT,
        &fiji,
        Some(&key),
        &json!({"role": "signatory"}),
        &[("if-match", &etag)],
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED);
    app.send_json(
        Method::PUT,
        &fiji,
        Some(&key),
        &json!({"role": "vote_yes"}),
        &[],
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.send_json(
        Method::PUT,
        &format!("{letter}/signatories/QQQ"),
        Some(&key),
        &json!({"role": "signatory"}),
        &[],
    )
    .await
    .problem(StatusCode::NOT_FOUND);

    let removed = app.send(Method::DELETE, &fiji, Body::empty()).await;
    removed.problem(StatusCode::UNAUTHORIZED);
    let removed = app
        .request(
            Request::delete(&fiji)
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(letter).await.json()["participant_count"], 22);
    let gone = app
        .request(
            Request::delete(&fiji)
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    gone.problem(StatusCode::NOT_FOUND);

    let feed = app.get("/v1/changes?entity=signature").await.json();
    let actions: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "delete"]);
}

async fn delete_with_key(
    app: &TestApp,
    uri: &str,
    key: &str,
    if_match: Option<&str>,
) -> crate::helpers::TestResponse {
    let mut request = Request::delete(uri).header(header::AUTHORIZATION, format!("Bearer {key}"));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    app.request(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn sources_are_cited_and_withdrawn() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let sources = "/v1/statements/hrc51-vote-2022-10-06/sources";
    let source = json!({"url": "https://example.org/vote", "title": "Vote record", "publisher": "Example", "accessed_on": "2026-11-01"});
    let created = app
        .send_json(Method::POST, sources, Some(&key), &source, &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("{sources}/{id}").as_str())
    );
    app.send_json(Method::POST, sources, Some(&key), &source, &[])
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

    delete_with_key(&app, &format!("{sources}/{id}"), &key, Some("\"stale\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        delete_with_key(&app, &format!("{sources}/{id}"), &key, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    delete_with_key(&app, &format!("{sources}/{id}"), &key, None)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn statements_are_deleted_with_their_signatures_and_the_feed_keeps_them() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    let uri = "/v1/statements/unga79-statement-critical-2024-10-22";
    delete_with_key(&app, uri, &key, Some("\"stale\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED);
    let etag = app.get(uri).await.header("etag").unwrap().to_owned();
    assert_eq!(
        delete_with_key(&app, uri, &key, Some(&etag)).await.status,
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
    let created = app
        .send_json(Method::POST, "/v1/topics", Some(&editor), &topic, &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.header("location"), Some("/v1/topics/tibet"));
    app.send_json(Method::POST, "/v1/topics", Some(&editor), &topic, &[])
        .await
        .problem(StatusCode::CONFLICT);
    let renamed = app
        .send_json(
            Method::PATCH,
            "/v1/topics/tibet",
            Some(&editor),
            &json!({"description": "Statements on Tibet."}),
            &[],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(renamed.json()["description"], "Statements on Tibet.");

    let admin = "bootstrap-admin-key-for-tests-0001";
    let kosovo = json!({"code": "XKX", "iso2": "XK", "name": "Kosovo", "region": "Europe", "subregion": "Southern Europe"});
    let created = app
        .send_json(Method::POST, "/v1/countries", Some(admin), &kosovo, &[])
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
    app.send_json(
        Method::PATCH,
        "/v1/countries/XKX",
        Some(admin),
        &json!({"code": "KOS"}),
        &[],
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.send_json(
        Method::POST,
        "/v1/countries",
        Some(admin),
        &json!({"code": "FRA", "name": "France"}),
        &[],
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

#[tokio::test]
async fn the_changes_feed_is_followed_page_by_page_without_gaps() {
    let app = TestApp::spawn().await;
    let key = app.key("editor", ApiRole::Editor).await;
    for n in 0..5 {
        let topic = json!({"slug": format!("topic-{n}"), "name": format!("Topic {n}")});
        assert_eq!(
            app.send_json(Method::POST, "/v1/topics", Some(&key), &topic, &[])
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
    app.send_json(Method::POST, "/v1/topics", Some(&key), &topic, &[])
        .await;
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
