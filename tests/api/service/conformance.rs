//! What ordinary HTTP clients rely on: revalidation by date (`If-Modified-Since`) as
//! well as by tag, and a `/metrics` body that matches the content type it declares.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::TestApp;

const LIST: &str = "/v1/statements?limit=1";

fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// Waits until the wall clock is past the second `date` names, so that a write after
/// it falls in a later second than the `Last-Modified` a client holds.
async fn after_the_second_of(date: &str) {
    let next_second = httpdate::parse_http_date(date).unwrap() + Duration::from_secs(1);
    while SystemTime::now() < next_second {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_copy_revalidated_by_date_is_not_modified_until_a_write_changes_the_data() {
    let app = TestApp::spawn().await;
    let first = app.get(LIST).await;
    assert_eq!(first.status, StatusCode::OK);
    let last_modified = first.header("last-modified").unwrap().to_owned();
    let modified_at = httpdate::parse_http_date(&last_modified).unwrap();

    let since = |date: &str| {
        let date = date.to_owned();
        let app = &app;
        async move { app.get_with(LIST, &[("if-modified-since", &date)]).await }
    };
    let same = since(&last_modified).await;
    assert_eq!(
        same.status,
        StatusCode::NOT_MODIFIED,
        "the date it was sent"
    );
    assert!(same.body.is_empty());
    assert_eq!(same.header("last-modified"), Some(last_modified.as_str()));
    assert!(same.header("etag").is_some());
    let later = since(&http_date(modified_at + Duration::from_secs(3600))).await;
    assert_eq!(later.status, StatusCode::NOT_MODIFIED, "a later date");
    let earlier = since(&http_date(modified_at - Duration::from_secs(1))).await;
    assert_eq!(earlier.status, StatusCode::OK, "an earlier date");
    assert_eq!(earlier.body, first.body);
    let invalid = since("yesterday").await;
    assert_eq!(invalid.status, StatusCode::OK, "an invalid date is ignored");

    after_the_second_of(&last_modified).await;
    let key = app.key("editor", ApiRole::Editor).await;
    let id = first.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let patched = app
        .send_json(
            Method::PATCH,
            &format!("/v1/statements/{id}"),
            Some(&key),
            &json!({"summary": "Revised after a reader's note."}),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let changed = since(&last_modified).await;
    assert_eq!(changed.status, StatusCode::OK, "the data changed since");
    assert_eq!(
        changed.json()["data"][0]["summary"],
        "Revised after a reader's note."
    );
    let newer = changed.header("last-modified").unwrap().to_owned();
    assert_eq!(since(&newer).await.status, StatusCode::NOT_MODIFIED);

    // A single resource, tagged by its own bytes, revalidates by date too.
    let one = app.get(&format!("/v1/statements/{id}")).await;
    let date = one.header("last-modified").unwrap();
    let again = app
        .get_with(
            &format!("/v1/statements/{id}"),
            &[("if-modified-since", date)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), one.header("etag"));
}

#[tokio::test]
async fn if_none_match_takes_precedence_over_if_modified_since() {
    let app = TestApp::spawn().await;
    let first = app.get(LIST).await;
    let last_modified = first.header("last-modified").unwrap();
    let etag = first.header("etag").unwrap();

    let stale_tag = app
        .get_with(
            LIST,
            &[
                ("if-none-match", "\"not-the-current-tag\""),
                ("if-modified-since", last_modified),
            ],
        )
        .await;
    assert_eq!(
        stale_tag.status,
        StatusCode::OK,
        "a tag that does not match wins over a date that does"
    );
    let old_date = http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400));
    let current_tag = app
        .get_with(
            LIST,
            &[("if-none-match", etag), ("if-modified-since", &old_date)],
        )
        .await;
    assert_eq!(
        current_tag.status,
        StatusCode::NOT_MODIFIED,
        "a matching tag wins over a date that does not"
    );
}

#[tokio::test]
async fn a_resource_that_does_not_exist_is_never_not_modified() {
    let app = TestApp::spawn().await;
    let future = http_date(SystemTime::now() + Duration::from_secs(86_400));
    let missing = app
        .get_with(
            "/v1/statements/no-such-statement",
            &[("if-modified-since", &future)],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Checks an OpenMetrics 1.0 text exposition line by line: every family declared once
/// with `# TYPE` before its samples, every sample named after its family with the
/// suffixes its type allows, numeric values, and `# EOF` as the last line.
fn check_openmetrics(text: &str) -> Result<BTreeMap<String, String>, String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.last() != Some(&"# EOF") {
        return Err("the last line is not # EOF".into());
    }
    if !text.ends_with("# EOF\n") {
        return Err("# EOF does not end with a newline".into());
    }
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    let known = [
                        "counter",
                        "gauge",
                        "histogram",
                        "gaugehistogram",
                        "stateset",
                        "info",
                        "summary",
                        "unknown",
                    ];
                    if !known.contains(&kind) {
                        return Err(format!("unknown type {kind} of {name}"));
                    }
                    if families.insert(name.into(), kind.into()).is_some() {
                        return Err(format!("{name} declared twice"));
                    }
                }
                (Some("HELP" | "UNIT"), Some(_), _) => {}
                _ => return Err(format!("not a descriptor: {line}")),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or(format!("no value: {line}"))?;
        let name = &line[..name_end];
        let value = line.rsplit(' ').next().unwrap();
        if value.parse::<f64>().is_err() && !["+Inf", "-Inf", "NaN"].contains(&value) {
            return Err(format!("not a number: {line}"));
        }
        let allowed: &[&str] = &[
            "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info", "",
        ];
        let family = allowed
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .find(|family| families.contains_key(*family))
            .ok_or(format!("a sample of no declared family: {line}"))?;
        let suffix = &name[family.len()..];
        let fits = match families[family].as_str() {
            "counter" => ["_total", "_created"].contains(&suffix),
            "histogram" => ["_bucket", "_count", "_sum", "_created"].contains(&suffix),
            "gauge" | "unknown" => suffix.is_empty(),
            _ => true,
        };
        if !fits {
            return Err(format!("{name} does not fit a {}", families[family]));
        }
    }
    Ok(families)
}

#[tokio::test]
async fn metrics_declare_the_openmetrics_format_their_body_is_in() {
    let app = TestApp::spawn().await;
    app.get("/v1/countries/FRA").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert_eq!(
        metrics.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let families = check_openmetrics(&metrics.text()).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        families
            .get("signatories_http_requests")
            .map(String::as_str),
        Some("counter")
    );
    assert_eq!(
        families
            .get("signatories_http_request_duration_seconds")
            .map(String::as_str),
        Some("histogram")
    );

    // The checker itself refuses what the 0.0.4 parsers choke on.
    assert!(check_openmetrics("# TYPE a counter\na 1\n# EOF\n").is_err());
    assert!(check_openmetrics("# TYPE a counter\na_total 1\n").is_err());
    assert!(check_openmetrics("# TYPE a counter\na_total 1\n# EOF\n").is_ok());
}
