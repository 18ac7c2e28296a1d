//! What a new database holds: every country, and the Xinjiang dataset exactly as
//! published, from migrations that can run again.

use std::collections::BTreeMap;

use crate::helpers::oracle::{self, Dataset};
use crate::helpers::{fresh_database, scalar_i64};

/// Rows per statement, counted from the dataset file itself.
fn dataset_rows_per_statement() -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for g in Dataset::load().signatures {
        *counts.entry(g.statement_slug).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn every_country_is_seeded_with_the_193_un_members_flagged() {
    let db = fresh_database().await;
    let iso_rows = oracle::countries().len() as i64;
    assert_eq!(iso_rows, 249);
    assert_eq!(
        scalar_i64(&db, "select count(*) from country where ended_on is null").await,
        iso_rows
    );
    assert_eq!(
        scalar_i64(&db, "select count(*) from country where un_member").await,
        193
    );
    let (name, successor): (String, Option<String>) =
        sqlx::query_as("select name, successor_code from country where code = 'DDR'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(name, "German Democratic Republic");
    assert_eq!(successor.as_deref(), Some("DEU"));
}

#[tokio::test]
async fn the_xinjiang_statements_hold_exactly_the_dataset_rows() {
    let db = fresh_database().await;
    let expected = dataset_rows_per_statement();
    assert_eq!(expected.len(), 25);
    assert_eq!(expected.values().sum::<i64>(), 508);
    let held: BTreeMap<String, i64> = sqlx::query_as(
        "select s.id, count(g.country_code) from statement s \
         left join signature g on g.statement_id = s.id group by s.id",
    )
    .fetch_all(&db)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(held, expected);
    assert_eq!(held["hrc41-letter-critical-2019-07-08"], 22);
    let unsourced = scalar_i64(
        &db,
        "select count(*) from statement s where not exists (select 1 from source where statement_id = s.id)",
    )
    .await;
    assert_eq!(unsourced, 0, "every seeded statement cites a source");
}

#[tokio::test]
async fn qatar_withdrew_from_the_counter_letter_and_late_joiners_are_dated() {
    let db = fresh_database().await;
    let (role, withdrawn, stance): (String, Option<chrono::NaiveDate>, String) = sqlx::query_as(
        "select role::text, withdrawn_on, effective_stance::text from participation \
         where statement_id = 'hrc41-letter-supportive-2019-07-12' and country_code = 'QAT'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(role, "signatory");
    assert_eq!(withdrawn, chrono::NaiveDate::from_ymd_opt(2019, 7, 18));
    assert_eq!(stance, "withdrawn");
    let late = scalar_i64(
        &db,
        "select count(*) from signature where statement_id = 'hrc41-letter-supportive-2019-07-12' \
         and joined_on = '2019-07-26'",
    )
    .await;
    assert_eq!(late, 13);
}

#[tokio::test]
async fn migrations_apply_twice_and_the_second_run_changes_nothing() {
    let db = fresh_database().await;
    let applied = scalar_i64(&db, "select count(*) from _sqlx_migrations").await;
    signatories::db::migrate(&db).await.unwrap();
    assert_eq!(
        scalar_i64(&db, "select count(*) from _sqlx_migrations").await,
        applied
    );
    assert_eq!(scalar_i64(&db, "select count(*) from statement").await, 25);
}
