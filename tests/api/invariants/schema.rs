//! Rows the schema refuses, whatever writes them, and references that hold like
//! foreign keys on every write path.

use sqlx::PgPool;

use crate::helpers::{fresh_database, scalar_i64};

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

/// Every rule of the records clients write, as the database names it, is told to a
/// client by the field it concerns and in words of its own, never the database's.
#[tokio::test]
async fn every_rule_a_write_can_break_names_its_field() {
    let db = fresh_database().await;
    let mut rules: Vec<String> = sqlx::query_scalar(
        "select conname::text from pg_constraint \
         where conrelid = any(array['statement', 'signature', 'source', 'country', 'topic', \
                                    'statement_topic']::regclass[]) \
           and contype in ('c', 'f')",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    // Raised by the triggers that check a statement against its participations.
    rules.extend(
        [
            "statement_fits_signatures",
            "signature_joined_after_issued",
            "signature_withdrawn_after_issued",
            "signature_role_fits_kind",
        ]
        .map(str::to_owned),
    );
    assert!(rules.len() > 15, "{rules:?}");
    for rule in rules {
        let (field, message) = signatories::error::broken_rule(&rule);
        assert_ne!(field, "body", "{rule} has no field and message of its own");
        assert!(!message.contains(&rule), "{rule}: {message}");
    }
}
