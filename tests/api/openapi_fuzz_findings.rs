//! The server answers exactly as openapi.yaml says, at the edges the Schemathesis run
//! (tests/fuzz) found it did not: each test here is one of its findings.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::TestApp;

const STALE: &str = "\"df2690025f7d220e9683bff819a7001d\"";

#[tokio::test]
async fn an_invalid_write_with_a_stale_etag_is_told_what_is_wrong_with_it() {
    // The tag is weighed only once the request is valid (RFC 9110 §13.2.2): a 412
    // would send the editor to re-read a resource only to meet the 422 next.
    let app = TestApp::spawn().await;
    let admin = app.key("desk", ApiRole::Admin).await;
    let before = app.snapshot().await;
    let statement = "/v1/statements/hrc41-letter-critical-2019-07-08";
    let france = format!("{statement}/signatories/FRA");
    for (method, uri, invalid, valid) in [
        (
            Method::PATCH,
            statement,
            json!([null]),
            json!({"notes": "checked"}),
        ),
        (
            Method::PATCH,
            "/v1/topics/xinjiang",
            json!({"name": "  "}),
            json!({"name": "Xinjiang"}),
        ),
        (
            Method::PATCH,
            "/v1/countries/FRA",
            json!({"iso2": "france"}),
            json!({"common_name": "France"}),
        ),
        (
            Method::PUT,
            france.as_str(),
            json!({"note": "no role"}),
            json!({"role": "signatory"}),
        ),
    ] {
        let stale = [("if-match", STALE)];
        app.send_json(method.clone(), uri, Some(&admin), &invalid, &stale)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        app.send_json(method, uri, Some(&admin), &valid, &stale)
            .await
            .problem(StatusCode::PRECONDITION_FAILED);
    }
    assert_eq!(app.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn dates_are_written_exactly_yyyy_mm_dd() {
    let app = TestApp::spawn().await;
    let problem = app
        .get("/v1/statements?from=2019-7-8")
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "from");

    let editor = app.key("desk", ApiRole::Editor).await;
    for loose in ["2019-7-8", "+2019-07-08", " 2019-07-08"] {
        let problem = app
            .write(
                Method::PATCH,
                "/v1/statements/hrc41-letter-critical-2019-07-08",
                &editor,
                &json!({"issued_on": loose}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "issued_on", "{loose:?}");
    }
}

#[tokio::test]
async fn a_count_written_with_a_decimal_point_is_still_a_whole_number() {
    // JSON Schema's `integer` includes 22.0, and so the contract does.
    let app = TestApp::spawn().await;
    let editor = app.key("desk", ApiRole::Editor).await;
    let uri = "/v1/statements/hrc41-letter-critical-2019-07-08";
    let response = app
        .write(
            Method::PATCH,
            uri,
            &editor,
            &json!({"reported_count": 22.0}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["reported_count"], 22);

    app.write(
        Method::PATCH,
        uri,
        &editor,
        &json!({"reported_count": 22.5}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_source_url_is_accepted_exactly_when_the_contracts_pattern_matches() {
    let app = TestApp::spawn().await;
    let editor = app.key("desk", ApiRole::Editor).await;
    let uri = "/v1/statements/hrc41-letter-critical-2019-07-08/sources";
    for refused in [
        "https://\u{81}+x",
        "https://d\u{e9}claration.example/",
        "https://user@example.org/",
        "https://example.org/a b",
    ] {
        let problem = app
            .write(Method::POST, uri, &editor, &json!({"url": refused}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "url", "{refused:?}");
    }
    let accepted = app
        .write(
            Method::POST,
            uri,
            &editor,
            &json!({"url": "https://example.org:8443/d%C3%A9claration?lang=fr#p2"}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.text());
}

#[tokio::test]
async fn text_with_a_nul_character_is_refused_not_a_server_error() {
    // PostgreSQL text cannot hold U+0000: a search for it was a 500.
    let app = TestApp::spawn().await;
    for uri in ["/v1/statements?q=hong%00kong", "/v1/countries?q=%00"] {
        let problem = app.get(uri).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(problem["errors"][0]["field"], "q", "{uri}");
    }

    let editor = app.key("desk", ApiRole::Editor).await;
    let before = app.snapshot().await;
    let mut statement = json!({
        "title": "A letter\u{0}", "kind": "joint_letter", "forum": "UN Human Rights Council",
        "issued_on": "2025-09-15", "stance": "critical", "topics": ["xinjiang"],
    });
    let problem = app
        .write(Method::POST, "/v1/statements", &editor, &statement)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "title");

    statement["title"] = json!("A letter");
    statement["signatories"] = json!([{"country": "FRA", "role": "signatory", "note": "\u{0}"}]);
    let problem = app
        .write(Method::POST, "/v1/statements", &editor, &statement)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "signatories[0].note");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_patch_naming_an_unknown_field_is_refused_even_when_it_is_null() {
    // A merge patch's null removes a field, which hid the unknown name from the check.
    let app = TestApp::spawn().await;
    let admin = app.key("desk", ApiRole::Admin).await;
    let before = app.snapshot().await;
    for uri in [
        "/v1/topics/xinjiang",
        "/v1/countries/SYR",
        "/v1/statements/hrc41-letter-critical-2019-07-08",
    ] {
        let problem = app
            .write(Method::PATCH, uri, &admin, &json!({"bogus": null}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"].as_str().unwrap().contains("bogus"),
            "{uri}"
        );
    }
    assert_eq!(app.snapshot().await, before);
}
