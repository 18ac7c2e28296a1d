//! Which countries agree with a given country most often, and the in-memory matrix
//! each instance answers that from.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::json;
use signatories::{AppState, HttpSettings};

use crate::helpers::oracle::Dataset;
use crate::helpers::pages::csv_rows;
use crate::helpers::{TestApp, eventually, fresh_database, metric};

#[tokio::test]
async fn alignment_ranks_countries_by_agreement_on_shared_statements() {
    let app = TestApp::spawn().await;
    let dataset = Dataset::load();
    let mut expected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let france: BTreeMap<&String, String> = dataset
        .signatures
        .iter()
        .filter(|g| g.country_iso3 == "FRA" && g.withdrawn_on.is_empty())
        .map(|g| (&g.statement_slug, dataset.stance(g)))
        .collect();
    for g in &dataset.signatures {
        if g.country_iso3 == "FRA" || !g.withdrawn_on.is_empty() {
            continue;
        }
        if let Some(stance) = france.get(&g.statement_slug) {
            let entry = expected.entry(g.country_iso3.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(*stance == dataset.stance(g));
        }
    }

    let report = app.get("/v1/countries/fr/alignment?topic=xinjiang").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let report = report.json();
    assert_eq!(report["country"]["code"], "FRA");
    let rows = report["data"].as_array().unwrap();
    assert_eq!(rows.len(), expected.len());
    let mut previous = (f64::INFINITY, u64::MAX);
    for row in rows {
        let code = row["country"]["code"].as_str().unwrap();
        let (shared, agreed) = expected[code];
        assert_eq!(
            (row["shared"].as_u64(), row["agreed"].as_u64()),
            (Some(shared as u64), Some(agreed as u64)),
            "{code}"
        );
        let agreement = row["agreement"].as_f64().unwrap();
        assert!(
            (agreement - agreed as f64 / shared as f64).abs() < 1e-4,
            "{code}"
        );
        let key = (agreement, row["shared"].as_u64().unwrap());
        assert!(
            key <= previous,
            "ranked by agreement, then by shared: {code}"
        );
        previous = key;
    }
    let vote_no = rows
        .iter()
        .find(|r| r["country"]["code"] == "CHN")
        .expect("China voted in the 2022 vote with France");
    assert_eq!(vote_no["agreed"], 0);
    assert!(vote_no["opposed"].as_u64().unwrap() >= 1);

    let well_founded = app
        .get("/v1/countries/FRA/alignment?topic=xinjiang&min_shared=8")
        .await
        .json();
    assert_eq!(
        well_founded["data"].as_array().unwrap().len(),
        expected.values().filter(|(shared, _)| *shared >= 8).count()
    );
    let csv = csv_rows(
        &app.get_with("/v1/countries/FRA/alignment", &[("accept", "text/csv")])
            .await,
    );
    assert_eq!(csv.len(), expected.len(), "all topics: only Xinjiang here");
}

/// The application on `db` as `signatories serve` starts it: loading its alignment
/// matrix in the background.
fn warming_up(db: sqlx::PgPool) -> TestApp {
    let state = AppState::new(db.clone(), HttpSettings::default());
    state.alignment.clone().warm_up(db.clone());
    TestApp {
        router: signatories::app(state),
        db,
    }
}

const MATRIX_LOADS: &str = "signatories_alignment_matrix_load_seconds_count";

/// Waits until `/metrics` shows `loads` full loads of the alignment matrix.
async fn wait_for_matrix_loads(app: &TestApp, loads: f64) {
    eventually(async || metric(app, MATRIX_LOADS).await >= loads).await;
    assert_eq!(metric(app, MATRIX_LOADS).await, loads);
}

/// A started instance loads its alignment matrix in the background and is not ready
/// until it has, so that no alignment request pays for a full load, which is slow on
/// a large record.
#[tokio::test]
async fn an_instance_is_ready_once_its_alignment_matrix_is_loaded() {
    let db = fresh_database().await;
    // Holds the load back, so that the instance is seen warming up.
    let mut blocker = db.begin().await.unwrap();
    sqlx::query("lock table statement in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let app = warming_up(db);

    let warming = app.get("/readyz").await;
    assert_eq!(warming.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        warming.json()["detail"]
            .as_str()
            .unwrap()
            .contains("alignment matrix"),
        "{}",
        warming.text()
    );
    assert_eq!(metric(&app, MATRIX_LOADS).await, 0.0);

    blocker.rollback().await.unwrap();
    wait_for_matrix_loads(&app, 1.0).await;
    assert!(
        eventually(async || app.get("/readyz").await.status == StatusCode::OK).await,
        "still not ready once the matrix is loaded"
    );

    let alignment = app.get("/v1/countries/FRA/alignment").await;
    assert_eq!(alignment.status, StatusCode::OK);
    assert!(!alignment.json()["data"].as_array().unwrap().is_empty());
    assert_eq!(
        metric(&app, MATRIX_LOADS).await,
        1.0,
        "the request was answered from the loaded matrix"
    );
}

/// After a change to most statements (an import, say), the instance reloads its
/// matrix in the background rather than in the next alignment request.
#[tokio::test]
async fn an_instance_reloads_its_alignment_matrix_after_a_bulk_change_unasked() {
    let app = warming_up(fresh_database().await);
    wait_for_matrix_loads(&app, 1.0).await;
    let signed: i64 = sqlx::query_scalar(
        "select count(*) from signature where country_code = 'FRA' and withdrawn_on is null",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let statements: i64 = sqlx::query_scalar("select count(*) from statement")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        signed * 8 > statements,
        "France's statements are more than an eighth of them: a full reload"
    );

    sqlx::query("delete from signature where country_code = 'FRA'")
        .execute(&app.db)
        .await
        .unwrap();
    wait_for_matrix_loads(&app, 2.0).await;

    let alignment = app.get("/v1/countries/FRA/alignment").await.json();
    assert_eq!(
        alignment["data"],
        json!([]),
        "France took part in nothing now"
    );
    assert_eq!(
        metric(&app, MATRIX_LOADS).await,
        2.0,
        "the request was answered from the matrix reloaded in the background"
    );
}
