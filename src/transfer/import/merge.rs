//! Writing the checked rows: one transaction under the writers' lock, in which each
//! table's rows are staged and merged by its `merge_*.sql`, which counts and audits
//! what it changes; new signatory lists are copied straight in.

use std::collections::HashSet;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::Batch;
use super::check_lists::Signature;
use super::indexes::{SetAside, Unneeded};
use super::report::{ImportReport, Tally};
use super::stage::{copy_rows, create_staging, stage};
use crate::domain::Role;
use crate::store::changes;

const MERGE_COUNTRIES: &str = include_str!("merge_countries.sql");
const MERGE_TOPICS: &str = include_str!("merge_topics.sql");
const MERGE_STATEMENTS: &str = include_str!("merge_statements.sql");
const MERGE_STATEMENT_TOPICS: &str = include_str!("merge_statement_topics.sql");
const MERGE_SIGNATURES: &str = include_str!("merge_signatures.sql");
const MERGE_SOURCES: &str = include_str!("merge_sources.sql");

/// The import's write transaction; dropped unfinished, it is rolled back.
pub(super) struct Writing<'a> {
    tx: Transaction<'static, Postgres>,
    actor: &'a str,
    set_aside: SetAside,
}

impl<'a> Writing<'a> {
    /// Begins the transaction under the writers' lock and creates the staging tables.
    /// `actor` is who the changes are attributed to in the audit trail.
    /// `offline`: the import may set indexes aside on tables that hold rows.
    pub(super) async fn begin(db: &PgPool, actor: &'a str, offline: bool) -> anyhow::Result<Self> {
        let mut tx = changes::begin_unhurried(db).await?;
        create_staging(&mut tx).await?;
        Ok(Self {
            tx,
            actor,
            set_aside: SetAside::new(offline),
        })
    }

    /// Countries, topics and statements: what the other files refer to.
    pub(super) async fn statements(
        &mut self,
        batch: &Batch<'_>,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
        if let Some(countries) = &batch.countries {
            report.countries = self
                .merge("import_country", countries, MERGE_COUNTRIES)
                .await?;
        }
        if let Some(topics) = &batch.topics {
            report.topics = self.merge("import_topic", topics, MERGE_TOPICS).await?;
        }
        if let Some(statements) = &batch.statements {
            let outnumbered = self
                .set_aside
                .before_load(
                    &mut self.tx,
                    "statement",
                    statements.len(),
                    Unneeded::Secondary,
                )
                .await?;
            report.statements = self
                .merge("import_statement", statements, MERGE_STATEMENTS)
                .await?;
            sqlx::raw_sql(MERGE_STATEMENT_TOPICS)
                .execute(&mut *self.tx)
                .await?;
            // The signatures' triggers plan their joins to these tables on their
            // statistics, which for a first load describe the seeded handful of
            // statements, or nothing. A rollback undoes these statistics but not the
            // row count, which PostgreSQL writes in place; the next vacuum counts again.
            if outnumbered {
                sqlx::raw_sql("analyze statement, statement_topic, topic_calendar")
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Signatories and sources, once the statements are written.
    pub(super) async fn lists(
        &mut self,
        batch: &Batch<'_>,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
        if let Some(signatures) = &batch.signatures {
            report.signatories = self.merge_signatures(signatures).await?;
        }
        if let Some(sources) = &batch.sources {
            report.sources = self.merge("import_source", sources, MERGE_SOURCES).await?;
        }
        Ok(())
    }

    /// Makes the indexes set aside again, then commits, or rolls back on a dry run.
    pub(super) async fn finish(mut self, dry_run: bool) -> anyhow::Result<()> {
        self.set_aside.restore(&mut self.tx).await?;
        if dry_run {
            self.tx.rollback().await?;
        } else {
            self.tx.commit().await?;
        }
        Ok(())
    }

    /// Copies rows into their staging table and merges them by `sql`, which returns
    /// (created, updated, deleted); logs the time of each step.
    async fn merge<R: Serialize>(
        &mut self,
        table: &str,
        rows: &[R],
        sql: &str,
    ) -> anyhow::Result<Tally> {
        let started = Instant::now();
        stage(&mut self.tx, table, rows).await?;
        let copied = started.elapsed();
        let (created, updated, deleted): (i64, i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
                .bind(self.actor)
                .fetch_one(&mut *self.tx)
                .await?;
        tracing::info!(
            table,
            rows = rows.len(),
            copy_ms = copied.as_millis() as u64,
            merge_ms = (started.elapsed() - copied).as_millis() as u64,
            "import: merged"
        );
        Ok(Tally {
            created,
            updated,
            deleted,
        })
    }

    /// Signatures in two parts. The rows of statements that hold none yet are all
    /// new: they are copied straight into `signature` (so a first import skips
    /// staging, comparing and sorting them) and audited as they are copied. The rest
    /// are staged and merged, which also empties the lists of the statements file's
    /// statements that the signatories file no longer lists.
    async fn merge_signatures(&mut self, signatures: &[Signature<'_>]) -> anyhow::Result<Tally> {
        let mut ids: Vec<&str> = signatures.iter().map(|s| s.statement_id).collect();
        ids.dedup();
        // Inside the transaction and under the writers' lock, so no one adds any meanwhile.
        let stored: HashSet<String> = sqlx::query_scalar(
            "select id from unnest($1::text[]) id where exists (select 1 from signature g where g.statement_id = id)",
        )
        .bind(&ids)
        .fetch_all(&mut *self.tx)
        .await?
        .into_iter()
        .collect();
        let (listed, new): (Vec<&Signature>, Vec<&Signature>) = signatures
            .iter()
            .partition(|s| stored.contains(s.statement_id));
        let mut tally = self
            .merge("import_signature", &listed, MERGE_SIGNATURES)
            .await?;

        let started = Instant::now();
        // The copy's tally trigger adds rows to the forum tallies in no order, which go
        // in faster without their keys, built afresh after; their merge joins the rows
        // it counts on by hashing, not through the key.
        for table in [
            "signature",
            "stance_tally_by_forum",
            "stance_tally_by_forum_all_kinds",
        ] {
            self.set_aside
                .before_load(&mut self.tx, table, new.len(), Unneeded::AlsoPrimaryKey)
                .await?;
        }
        // One COPY, so that the triggers that check and count the rows run once over
        // all of them: in parts, each part would update the same tally and span rows
        // again.
        tally.created += copy_rows(
            &mut self.tx,
            "copy signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note) \
             from stdin (format csv, force_not_null (note))",
            new.iter(),
        )
        .await? as i64;
        let copied = started.elapsed();
        let entries = audit_new_lists(&mut self.tx, &new, self.actor).await?;
        tracing::info!(
            rows = new.len(),
            statements = entries,
            copy_ms = copied.as_millis() as u64,
            audit_ms = (started.elapsed() - copied).as_millis() as u64,
            "import: new signatory lists copied"
        );
        Ok(tally)
    }
}

/// Copies one audit entry per statement of `new`, rows in key order, as
/// merge_signatures.sql would write it; returns how many.
async fn audit_new_lists(
    conn: &mut PgConnection,
    new: &[&Signature<'_>],
    actor: &str,
) -> anyhow::Result<u64> {
    // The rows are in key order, so each statement's are together.
    let lists = new.chunk_by(|a, b| a.statement_id == b.statement_id);
    copy_rows(
        conn,
        "copy change (entity, entity_id, action, actor, before, after) from stdin (format csv)",
        lists.map(|rows| NewList::new(rows, actor)),
    )
    .await
}

/// The audit entry of a statement's new list, as merge_signatures.sql writes one: the
/// list was empty before and holds these participations after.
#[derive(Serialize)]
struct NewList<'a> {
    entity: &'static str,
    entity_id: &'a str,
    action: &'static str,
    actor: &'a str,
    before: &'static str,
    after: String,
}

impl<'a> NewList<'a> {
    fn new(rows: &[&'a Signature<'a>], actor: &'a str) -> Self {
        let after: Vec<Listed> = rows.iter().map(|s| Listed::from(*s)).collect();
        Self {
            entity: "signatories",
            entity_id: rows[0].statement_id,
            action: "update",
            actor,
            before: "[]",
            after: serde_json::to_string(&after).expect("a serialisable list"),
        }
    }
}

/// A participation as the audit trail lists it (`participation_content` in
/// merge_signatures.sql): fields without a value are left out.
#[derive(Serialize)]
struct Listed<'a> {
    country: &'a str,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    joined_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    withdrawn_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_url: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    note: &'a str,
}

impl<'a> From<&'a Signature<'a>> for Listed<'a> {
    fn from(s: &'a Signature<'a>) -> Self {
        Self {
            country: s.country_code,
            role: s.role,
            joined_on: s.joined_on,
            withdrawn_on: s.withdrawn_on,
            source_url: s.source_url.as_deref(),
            note: s.note,
        }
    }
}
