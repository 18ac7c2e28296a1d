//! Reading lists as a client does: the rows of a page, every page of a list, and the
//! rows of a CSV file.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestResponse};

/// The rows of a successful JSON page.
pub fn data(response: &TestResponse) -> Vec<Value> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()["data"].as_array().unwrap().clone()
}

/// The rows of a successful CSV answer, by column name.
pub fn csv_rows(response: &TestResponse) -> Vec<BTreeMap<String, String>> {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    csv::Reader::from_reader(response.body.as_ref())
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

/// Every row of a paged list, following `next_cursor` to the end.
pub async fn walk(app: &TestApp, first: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut uri = first.to_owned();
    loop {
        let page = app.get(&uri).await;
        rows.extend(data(&page));
        match page.json()["page"]["next_cursor"].as_str() {
            Some(cursor) => uri = format!("{first}&cursor={cursor}"),
            None => return rows,
        }
    }
}

/// The `id` of each row of a page.
pub fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}
