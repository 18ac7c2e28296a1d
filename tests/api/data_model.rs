//! The schema and its seed: every country, the verified Xinjiang dataset exactly as
//! published, and constraints that reject bad rows on any write path.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::helpers::fresh_database;

/// Rows per statement, counted from the dataset file itself.
fn dataset_rows_per_statement() -> BTreeMap<String, i64> {
    let mut reader = csv::Reader::from_path("data/xinjiang/signatories.csv").unwrap();
    let mut counts = BTreeMap::new();
    for record in reader.records() {
        *counts.entry(record.unwrap()[0].to_owned()).or_insert(0) += 1;
    }
    counts
}

async fn scalar_i64(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[tokio::test]
async fn every_country_is_seeded_with_the_193_un_members_flagged() {
    let db = fresh_database().await;
    let mut reader = csv::Reader::from_path("data/countries/countries.csv").unwrap();
    let iso_rows = reader.records().count() as i64;
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
async fn maintained_counts_agree_with_the_dataset_and_follow_writes() {
    let db = fresh_database().await;
    // The HRC51 vote: yes meant a debate, so yes is critical and no is supportive.
    let mut reader = csv::Reader::from_path("data/xinjiang/signatories.csv").unwrap();
    let mut votes = BTreeMap::new();
    for record in reader.records().map(Result::unwrap) {
        if &record[0] == "hrc51-vote-2022-10-06" {
            *votes.entry(record[3].to_owned()).or_insert(0i64) += 1;
        }
    }
    let counts: serde_json::Value = sqlx::query_scalar(
        "select stance_counts from statement where id = 'hrc51-vote-2022-10-06'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(counts["critical"], votes["vote_yes"]);
    assert_eq!(counts["supportive"], votes["vote_no"]);
    assert_eq!(counts["abstain"], votes["vote_abstain"]);

    let letter = "hrc41-letter-supportive-2019-07-12";
    let (signatories, participants): (i32, i32) =
        sqlx::query_as("select signatory_count, participant_count from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((signatories, participants), (50, 51));

    sqlx::query("update signature set withdrawn_on = '2019-08-01' where statement_id = $1 and country_code = 'PAK'")
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    let (signatories, counts): (i32, serde_json::Value) =
        sqlx::query_as("select signatory_count, stance_counts from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(signatories, 49);
    assert_eq!(counts["withdrawn"], 2);

    sqlx::query("update statement set stance = 'critical' where id = $1")
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    let counts: serde_json::Value =
        sqlx::query_scalar("select stance_counts from statement where id = $1")
            .bind(letter)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        counts["critical"], 49,
        "a stance change re-derives every count"
    );
}

/// Tries a write that the schema must refuse, and returns the violated constraint.
async fn rejected(db: &PgPool, sql: &'static str) -> String {
    let err = sqlx::query(sql).execute(db).await.expect_err(sql);
    let db_err = err.as_database_error().expect("a database error");
    db_err
        .constraint()
        .map(str::to_owned)
        .unwrap_or_else(|| db_err.code().unwrap_or_default().into_owned())
}

#[tokio::test]
async fn constraints_reject_bad_rows_whatever_writes_them() {
    let db = fresh_database().await;
    let cases = [
        (
            "insert into signature (statement_id, country_code, role) values ('hrc41-letter-critical-2019-07-08', 'XXX', 'signatory')",
            "signature_country_fkey",
        ),
        (
            "insert into signature (statement_id, country_code, role) values ('no-such-statement', 'FJI', 'signatory')",
            "signature_statement_fkey",
        ),
        (
            "insert into signature (statement_id, country_code, role) values ('hrc41-letter-critical-2019-07-08', 'AUS', 'signatory')",
            "signature_pkey",
        ),
        (
            "insert into signature (statement_id, country_code, role, joined_on, withdrawn_on) values ('hrc41-letter-critical-2019-07-08', 'FJI', 'signatory', '2019-08-01', '2019-07-20')",
            "signature_withdrawn_after_joined",
        ),
        (
            "insert into signature (statement_id, country_code, role, joined_on) values ('hrc41-letter-critical-2019-07-08', 'FJI', 'signatory', '2019-01-01')",
            "signature_joined_after_issued",
        ),
        (
            "insert into signature (statement_id, country_code, role) values ('hrc41-letter-critical-2019-07-08', 'FJI', 'vote_yes')",
            "signature_role_fits_kind",
        ),
        (
            "update statement set issued_on = '2019-08-01' where id = 'hrc41-letter-supportive-2019-07-12'",
            "statement_fits_signatures",
        ),
        (
            "insert into statement (id, title, kind, forum, issued_on, stance) values ('x-2020', 'T', 'joint_letter', 'HRC', '2020-01-01', 'hostile')",
            "22P02", // invalid input value for enum stance
        ),
        (
            "insert into statement (id, title, kind, forum, issued_on) values ('x-2020', 'T', 'joint_letter', 'HRC', '2020-01-01')",
            "statement_stance_required",
        ),
        (
            "insert into statement (id, title, kind, forum, issued_on, stance) values ('x-2020', '  ', 'joint_letter', 'HRC', '2020-01-01', 'critical')",
            "statement_title_not_blank",
        ),
        (
            "insert into statement (id, title, kind, forum, issued_on, stance) values ('Not A Slug', 'T', 'joint_letter', 'HRC', '2020-01-01', 'critical')",
            "statement_id_format",
        ),
        (
            "insert into country (code, name) values ('fr', 'France again')",
            "country_code_format",
        ),
        (
            "insert into source (statement_id, url) values ('hrc41-letter-critical-2019-07-08', 'not a url')",
            "source_url_format",
        ),
    ];
    let before = scalar_i64(&db, "select count(*) from signature").await;
    for (sql, constraint) in cases {
        assert_eq!(rejected(&db, sql).await, constraint, "{sql}");
    }
    assert_eq!(
        scalar_i64(&db, "select count(*) from signature").await,
        before
    );
}

/// The references of a signature, checked set-based by triggers rather than by
/// foreign keys (see migrations/20261130000100_bulk_import.sql), hold like foreign keys.
#[tokio::test]
async fn a_signature_keeps_its_statement_and_country_on_every_write_path() {
    let db = fresh_database().await;
    let letter = "hrc41-letter-critical-2019-07-08";
    for (sql, constraint) in [
        (
            "update signature set country_code = 'XXX' where statement_id = 'hrc41-letter-critical-2019-07-08' and country_code = 'AUT'",
            "signature_country_fkey",
        ),
        // A referenced country may neither go nor change its code.
        (
            "delete from country where code = 'AUT'",
            "signature_country_fkey",
        ),
        (
            "update country set code = 'AUX' where code = 'AUT'",
            "signature_country_fkey",
        ),
        // Emptying statements but not their signatures (feature_not_supported, as a
        // foreign key answers).
        ("truncate statement, statement_topic, source", "0A000"),
    ] {
        assert_eq!(rejected(&db, sql).await, constraint, "{sql}");
    }

    // A statement id may not change under its signatures (its topics and sources,
    // held by plain foreign keys, are let go first so that this rule is the one met).
    for table in ["statement_topic", "source"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "delete from {table} where statement_id = $1"
        )))
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    }
    assert_eq!(
        rejected(
            &db,
            "update statement set id = 'renamed-2019-07-08' where id = 'hrc41-letter-critical-2019-07-08'"
        )
        .await,
        "signature_statement_fkey"
    );

    // A country nobody references goes, and a statement takes its signatures with it.
    sqlx::query("delete from country where code = 'ATA'")
        .execute(&db)
        .await
        .unwrap();
    let signatures = scalar_i64(&db, "select count(*) from signature").await;
    sqlx::query("delete from statement where id = $1")
        .bind(letter)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        scalar_i64(&db, "select count(*) from signature").await,
        signatures - 22
    );
    let mut tx = db.begin().await.unwrap();
    sqlx::query("truncate signature, statement, statement_topic, source")
        .execute(&mut *tx)
        .await
        .expect("emptying the tables together is allowed");
    tx.rollback().await.unwrap();
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

/// Each index exists for a question users ask; the plan of that question uses it.
#[tokio::test]
async fn the_questions_users_ask_are_index_scans() {
    let db = fresh_database().await;
    let mut conn = db.acquire().await.unwrap();
    // The seed is small enough for a sequential scan to win; what is checked here is
    // that each query can be answered from its index at all.
    sqlx::query("set enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (question, index) in [
        (
            "select statement_id from signature where country_code = 'FRA'",
            "signature_country_idx",
        ),
        (
            "select country_code from signature where statement_id = 'hrc41-letter-critical-2019-07-08'",
            "signature_pkey",
        ),
        (
            "select statement_id from statement_topic where topic_slug = 'xinjiang'",
            "statement_topic_topic_idx",
        ),
        (
            "select id from statement where issued_on between '2019-01-01' and '2020-12-31' order by issued_on, id",
            "statement_issued_idx",
        ),
        (
            "select code from country where region = 'Europe' order by subregion, name",
            "country_region_idx",
        ),
        (
            "select id from statement where search @@ websearch_to_tsquery('english', 'detention')",
            "statement_search_idx",
        ),
    ] {
        let plan: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("explain {question}")))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{question}\n{plan}");
    }
}
