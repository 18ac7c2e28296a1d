//! The explorer and its embeddable charts: pages under a strict Content-Security-Policy,
//! a 404 for what does not exist, and charts that show the record as the data files
//! say it is, cached like the API. These routes are outside the API contract, so their
//! answers are not checked against `openapi.yaml`; `tests/browser/` drives them in a
//! real browser.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::helpers::oracle::Dataset;
use crate::helpers::{TestApp, TestResponse};

const COUNTER_LETTER: &str = "hrc41-letter-supportive-2019-07-12";

async fn get(app: &TestApp, uri: &str) -> TestResponse {
    app.send_unchecked(Method::GET, uri, Body::empty()).await
}

/// `data-code` → `data-stance` of every shape of a map that has a stance.
fn stances_drawn(svg: &str) -> BTreeMap<String, String> {
    svg.split("<path ")
        .skip(1)
        .filter_map(|shape| {
            let attribute = |name: &str| {
                let start = shape.find(&format!(" {name}=\""))? + name.len() + 3;
                Some(shape[start..].split('"').next()?.to_owned())
            };
            Some((attribute("data-code")?, attribute("data-stance")?))
        })
        .collect()
}

#[tokio::test]
async fn explorer_pages_load_under_a_strict_policy_and_unknown_ones_are_404() {
    let app = TestApp::spawn().await;
    for uri in [
        "/",
        "/?q=detention",
        &format!("/explore/statements/{COUNTER_LETTER}"),
        "/explore/countries/qa",
        "/explore/topics/xinjiang",
    ] {
        let page = get(&app, uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}");
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let policy = page.header("content-security-policy").unwrap();
        for rule in [
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(rule), "{uri}: {policy}");
        }
        assert!(!policy.contains("unsafe-inline"), "{uri}");
        let html = page.text();
        assert!(html.contains("/explore/assets/explorer.js"), "{uri}");
        assert!(!html.contains("<script>"), "{uri}: no inline script");
        assert!(!html.contains("style="), "{uri}: no inline style");
    }
    let script = get(&app, "/explore/assets/explorer.js").await;
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    for uri in [
        "/explore/statements/no-such-statement",
        "/explore/countries/XXX",
        "/explore/topics/no-such-topic",
        "/explore/assets/missing.js",
        "/explore/elsewhere",
        "/embed/statements/no-such-statement/map",
        "/embed/topics/no-such-topic/timeline.svg",
    ] {
        get(&app, uri).await.problem(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_counter_letter_map_shows_its_signatories_supportive_and_qatar_withdrawn() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let svg = get(&app, &format!("/embed/statements/{COUNTER_LETTER}/map.svg")).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(
        svg.header("content-type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let drawn = stances_drawn(&svg.text());
    let expected: BTreeMap<String, String> = dataset
        .of(COUNTER_LETTER)
        .into_iter()
        .map(|(code, signature)| (code, dataset.stance(signature)))
        // Tuvalu is too small for the map's shapes.
        .filter(|(code, _)| code != "TUV")
        .collect();
    assert_eq!(drawn, expected);
    assert_eq!(drawn["QAT"], "withdrawn");
    assert_eq!(drawn.values().filter(|s| *s == "supportive").count(), 50);

    let embed = get(&app, &format!("/embed/statements/{COUNTER_LETTER}/map")).await;
    assert_eq!(embed.status, StatusCode::OK);
    let policy = embed.header("content-security-policy").unwrap();
    assert!(policy.contains("frame-ancestors *") && !policy.contains("script-src"));
    let html = embed.text();
    assert!(html.contains("data-code=\"QAT\" data-stance=\"withdrawn\""));
    assert!(
        html.contains("Source: Signatories"),
        "a source and date line"
    );
    assert!(html.contains("<table>"), "a table of the same figures");
}

#[tokio::test]
async fn a_topic_timeline_has_a_point_per_statement_on_each_side() {
    let app = TestApp::spawn().await;
    let statements = Dataset::load().statements.len();
    let svg = get(&app, "/embed/topics/xinjiang/timeline.svg")
        .await
        .text();
    for side in ["critical", "supportive"] {
        assert_eq!(
            svg.matches(&format!("stroke-width=\"2.5\" data-side=\"{side}\"/>"))
                .count(),
            1,
            "a line for {side}"
        );
        assert_eq!(
            svg.matches(&format!("data-side=\"{side}\" data-statement="))
                .count(),
            statements,
            "a point per statement for {side}"
        );
    }
    let embed = get(&app, "/embed/topics/xinjiang/timeline").await;
    assert_eq!(embed.status, StatusCode::OK);
    assert_eq!(embed.text().matches("<tr><td>").count(), statements);
}

#[tokio::test]
async fn charts_and_pages_revalidate_with_their_etag() {
    let app = TestApp::spawn().await;
    for uri in [
        "/",
        "/explore/assets/explorer.css",
        "/embed/topics/xinjiang/timeline.svg",
        &format!("/embed/statements/{COUNTER_LETTER}/map"),
    ] {
        let first = get(&app, uri).await;
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(
            first
                .header("cache-control")
                .unwrap()
                .starts_with("public, max-age=")
        );
        let again = app
            .request_unchecked(
                Request::get(uri)
                    .header("if-none-match", &etag)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(again.body.is_empty());
    }
}
