//! How the countries split, counted by year, region or statement, and how complete
//! each statement's list of signatories is.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::oracle::{Dataset, DatasetStatement, stance_counts};
use crate::helpers::pages::{csv_rows, data, walk};

#[tokio::test]
async fn the_july_2019_round_splits_22_critical_against_50_supportive_and_one_withdrawal() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let july: Vec<&DatasetStatement> = dataset
        .statements
        .values()
        .filter(|s| s.date.starts_with("2019-07"))
        .collect();
    assert_eq!(july.len(), 2, "the paired letters");

    let groups = data(
        &app.get(
            "/v1/stats/stances?group_by=statement&topic=xinjiang&from=2019-07-01&to=2019-07-31",
        )
        .await,
    );
    assert_eq!(groups.len(), july.len());
    for statement in july {
        let stances = dataset.stances_of(&statement.slug);
        let group = groups
            .iter()
            .find(|g| g["statement_id"] == statement.slug.as_str())
            .unwrap();
        assert_eq!(group["stance_counts"], stance_counts(&stances), "{group}");
        assert_eq!(group["statement_issued_on"], statement.date.as_str());
        assert_eq!(group["year"], Value::Null, "not grouped by year");
    }
    let counter = groups
        .iter()
        .find(|g| g["statement_id"] == "hrc41-letter-supportive-2019-07-12")
        .unwrap();
    assert_eq!(
        (
            &counter["stance_counts"]["supportive"],
            &counter["stance_counts"]["withdrawn"]
        ),
        (&json!(50), &json!(1)),
        "50 signers and Qatar's withdrawal"
    );
}

#[tokio::test]
async fn how_the_split_grew_year_by_year_and_region_by_region() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    // Distinct countries per (year, region) and effective stance.
    let mut expected: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for g in &dataset.signatures {
        let year = dataset.date(g)[..4].to_owned();
        let region = dataset.regions[&g.country_iso3].clone();
        expected
            .entry((year, region))
            .or_default()
            .entry(dataset.stance(g))
            .or_default()
            .insert(g.country_iso3.clone());
    }

    let by_year = data(&app.get("/v1/stats/stances?group_by=year").await);
    let years: BTreeSet<&str> = expected.keys().map(|(y, _)| y.as_str()).collect();
    assert_eq!(
        by_year
            .iter()
            .map(|g| g["year"].to_string())
            .collect::<Vec<_>>(),
        years.iter().map(|y| y.to_string()).collect::<Vec<_>>(),
        "one row per year, in order"
    );
    for group in &by_year {
        let year = group["year"].to_string();
        let mut stances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut countries = BTreeSet::new();
        for ((y, _), by_stance) in &expected {
            if *y == year {
                for (stance, codes) in by_stance {
                    stances
                        .entry(stance.clone())
                        .or_default()
                        .extend(codes.iter().cloned());
                    countries.extend(codes.iter().cloned());
                }
            }
        }
        assert_eq!(group["stance_counts"], stance_counts(&stances), "{year}");
        assert_eq!(group["countries"], countries.len(), "{year}");
    }

    // The same in two dimensions, walked page by page, and as one CSV file.
    let uri = "/v1/stats/stances?group_by=region&group_by=year&topic=xinjiang&limit=7";
    let groups = walk(&app, uri).await;
    assert_eq!(groups.len(), expected.len());
    for ((year, region), stances) in &expected {
        let group = groups
            .iter()
            .find(|g| g["year"] == year.parse::<u64>().unwrap() && g["region"] == region.as_str())
            .unwrap_or_else(|| panic!("{year} {region}"));
        assert_eq!(group["stance_counts"], stance_counts(stances));
    }
    let keys: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g["year"].to_string(),
                g["region"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        expected.keys().cloned().collect::<Vec<_>>(),
        "ordered by year, then region, each group once"
    );
    let csv = csv_rows(
        &app.get("/v1/stats/stances?group_by=year,region&format=csv")
            .await,
    );
    assert_eq!(csv.len(), expected.len(), "CSV is every group, unpaged");
    let first = &csv[0];
    let (year, region) = expected.keys().next().unwrap();
    assert_eq!((&first["year"], &first["region"]), (year, region));
    assert_eq!(first["statement_id"], "", "not grouped by statement");

    // Grouped by statement, pages follow the statements in date order, then region.
    let mut by_statement: BTreeMap<(String, String, String), BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for g in &dataset.signatures {
        let key = (
            dataset.date(g).to_owned(),
            g.statement_slug.clone(),
            dataset.regions[&g.country_iso3].clone(),
        );
        by_statement
            .entry(key)
            .or_default()
            .entry(dataset.stance(g))
            .or_default()
            .insert(g.country_iso3.clone());
    }
    let groups = walk(&app, "/v1/stats/stances?group_by=region,statement&limit=3").await;
    let keys: Vec<(String, String, String)> = groups
        .iter()
        .map(|g| {
            let text = |field: &str| g[field].as_str().unwrap().to_owned();
            (
                text("statement_issued_on"),
                text("statement_id"),
                text("region"),
            )
        })
        .collect();
    assert_eq!(keys, by_statement.keys().cloned().collect::<Vec<_>>());
    for (group, stances) in groups.iter().zip(by_statement.values()) {
        assert_eq!(group["stance_counts"], stance_counts(stances), "{group}");
    }

    // A cursor belongs to its grouping.
    let cursor = app.get(uri).await.json()["page"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let problem = app
        .get(&format!("/v1/stats/stances?group_by=year&cursor={cursor}"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "cursor");

    // Filters narrow: only the vote.
    let votes = data(&app.get("/v1/stats/stances?kind=recorded_vote").await);
    let vote = dataset.of("hrc51-vote-2022-10-06");
    assert_eq!(votes[0]["countries"], vote.len());
    assert_eq!(votes[0]["participations"], vote.len());
}

#[tokio::test]
async fn coverage_compares_the_reported_count_with_the_rows_held() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let rows = walk(&app, "/v1/stats/coverage?limit=10").await;
    assert_eq!(rows.len(), dataset.statements.len());
    for row in &rows {
        let statement = &dataset.statements[row["statement_id"].as_str().unwrap()];
        let held = dataset.of(&statement.slug);
        let active = held.values().filter(|g| g.withdrawn_on.is_empty()).count() as i64;
        assert_eq!(row["participant_count"], held.len());
        assert_eq!(row["signatory_count"], active);
        assert_eq!(row["reported_count"], json!(statement.reported_count));
        assert_eq!(row["list_complete"], statement.list_complete);
        let reported = statement.reported_count.unwrap();
        assert_eq!(row["missing"], (reported - active).max(0));
        let share = row["held_share"].as_f64().unwrap();
        assert!((share - active as f64 / reported as f64).abs() < 1e-3);
    }
    let partial = data(
        &app.get("/v1/stats/coverage?list_complete=false&limit=500")
            .await,
    );
    assert_eq!(
        partial.len(),
        dataset
            .statements
            .values()
            .filter(|s| !s.list_complete)
            .count()
    );
    let csv = csv_rows(
        &app.get("/v1/stats/coverage?format=csv&kind=recorded_vote")
            .await,
    );
    assert_eq!(csv.len(), 1);
    assert_eq!(csv[0]["statement_id"], "hrc51-vote-2022-10-06");
}
