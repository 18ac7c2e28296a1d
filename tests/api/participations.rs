//! The whole record at once, for those who analyse it: every participation, in JSON
//! pages or one CSV file, narrowed by country, stance, kind, role or dates.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::Value;
use signatories::store::keyset::Cursor;
use signatories::store::participations::{self, ParticipationFilter};
use sqlx::Execute;

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetSignature};
use crate::helpers::pages::{csv_rows, data, walk};

#[tokio::test]
async fn the_bulk_download_is_every_participation_once_in_json_pages_and_in_one_csv() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let expected: BTreeMap<(String, String), String> = dataset
        .signatures
        .iter()
        .map(|g| {
            let key = (g.statement_slug.clone(), g.country_iso3.clone());
            (key, dataset.stance(g))
        })
        .collect();

    let pages = walk(&app, "/v1/participations?limit=97").await;
    let paged: BTreeMap<(String, String), String> = pages
        .iter()
        .map(|p| {
            let key = (
                p["statement_id"].as_str().unwrap().to_owned(),
                p["country_code"].as_str().unwrap().to_owned(),
            );
            (key, p["effective_stance"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(pages.len(), dataset.signatures.len(), "no row twice");
    assert_eq!(paged, expected);
    let total = app
        .get("/v1/participations?count=exact&limit=1")
        .await
        .json();
    assert_eq!(total["page"]["total"], dataset.signatures.len());

    let csv = csv_rows(&app.get("/v1/participations?format=csv").await);
    let in_file: Vec<(&str, &str)> = csv
        .iter()
        .map(|r| (r["statement_id"].as_str(), r["country_code"].as_str()))
        .collect();
    let in_pages: Vec<(&str, &str)> = pages
        .iter()
        .map(|p| {
            (
                p["statement_id"].as_str().unwrap(),
                p["country_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        in_file, in_pages,
        "the file holds the pages' rows, in their order"
    );

    // Within dates (a first page is bounded by the dates' statement ids, later pages by
    // their cursor; the file is one batch).
    let keys = |rows: &[Value]| -> Vec<(String, String)> {
        rows.iter()
            .map(|p| {
                (
                    p["statement_id"].as_str().unwrap().to_owned(),
                    p["country_code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let dates = "from=2019-07-10&to=2022-10-06";
    let dated: BTreeSet<(String, String)> = dataset
        .signatures
        .iter()
        .filter(|g| {
            ("2019-07-10"..="2022-10-06")
                .contains(&dataset.statements[&g.statement_slug].date.as_str())
        })
        .map(|g| (g.statement_slug.clone(), g.country_iso3.clone()))
        .collect();
    let dated_pages = keys(&walk(&app, &format!("/v1/participations?{dates}&limit=13")).await);
    assert_eq!(dated_pages.len(), dated.len(), "no row twice");
    assert_eq!(dated_pages.iter().cloned().collect::<BTreeSet<_>>(), dated);
    let dated_file: Vec<(String, String)> = csv_rows(
        &app.get(&format!("/v1/participations?{dates}&format=csv"))
            .await,
    )
    .iter()
    .map(|r| (r["statement_id"].clone(), r["country_code"].clone()))
    .collect();
    assert_eq!(
        dated_file, dated_pages,
        "the file holds the pages' rows, in their order"
    );

    // Narrowed: Qatar's record, every withdrawal, and the 2022 vote's no votes.
    let qatar = data(&app.get("/v1/participations?country=qa").await);
    let qatar_rows: Vec<&DatasetSignature> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "QAT")
        .collect();
    assert_eq!(qatar.len(), qatar_rows.len());
    assert!(qatar.iter().any(|p| p["withdrawn_on"] == "2019-07-18"
        && p["statement_id"] == "hrc41-letter-supportive-2019-07-12"));
    let withdrawn = walk(&app, "/v1/participations?stance=withdrawn").await;
    assert_eq!(
        withdrawn.len(),
        expected.values().filter(|s| *s == "withdrawn").count()
    );
    let no_votes = walk(
        &app,
        "/v1/participations?kind=recorded_vote&role=vote_no&from=2022-01-01&to=2022-12-31",
    )
    .await;
    let expected_no: BTreeSet<&str> = dataset
        .signatures
        .iter()
        .filter(|g| g.role == "vote_no" && dataset.date(g).starts_with("2022"))
        .map(|g| g.country_iso3.as_str())
        .collect();
    assert!(!expected_no.is_empty());
    assert_eq!(
        no_votes
            .iter()
            .map(|p| p["country_code"].as_str().unwrap())
            .collect::<BTreeSet<_>>(),
        expected_no
    );
    app.get("/v1/participations?country=ZZZ")
        .await
        .problem(StatusCode::BAD_REQUEST);
}

/// A page after a cursor bounds the statements it joins as well as the signatures, today
/// and on a past day: a merge join, which the planner picks over millions of rows, would
/// otherwise walk the statements' key from its start on every page. Merge joins over
/// index scans are forced here, as the test database's few rows would not make the
/// planner choose them.
#[tokio::test]
async fn a_page_after_a_cursor_bounds_both_sides_of_its_join() {
    let app = TestApp::spawn().await;
    let key = "hrc41-letter-critical-2019-07-08";
    let cursor = Cursor {
        sort: "statement".into(),
        key: key.into(),
        id: "CHN".into(),
    };
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::raw_sql("set enable_hashjoin = off; set enable_nestloop = off; set enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    for as_of in [None, NaiveDate::from_ymd_opt(2020, 1, 1)] {
        let filter = ParticipationFilter {
            as_of,
            ..ParticipationFilter::default()
        };
        let mut page = participations::list(&filter, Some(&cursor)).rows;
        page.push(" limit 50");
        let mut query = page.build();
        let arguments = query.take_arguments().unwrap().unwrap();
        let explain = format!("explain (costs off) {}", query.sql().as_str());
        let plan: Vec<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(explain), arguments)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        // The statements' scan node: its line, then its conditions up to the next node.
        let plan = plan.join("\n");
        let scan = plan
            .split_once(" on statement s")
            .and_then(|(_, rest)| rest.split("->").next())
            .unwrap_or_else(|| panic!("{as_of:?}: no scan of the statements\n{plan}"));
        assert!(plan.contains("Merge Join"), "{as_of:?}\n{plan}");
        assert!(
            scan.contains(&format!("id >= '{key}'::text")),
            "{as_of:?}: the statements' scan is not bounded\n{plan}"
        );
    }
}
