//! Writing the checked rows: one transaction under the writers' lock, in which each
//! table's rows are staged and merged by its `merge_*.sql`, which counts and audits
//! what it changes; new signatory lists are copied straight in.

use std::time::Instant;

use serde::Serialize;
use sqlx::postgres::PgCopyIn;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Batch;
use super::indexes::{SetAside, Unneeded};
use super::report::{ImportReport, Tally};
use super::signatories::{Part, Streamed};
use super::stage::{analyze, copy_file, create_staging, stage};
use crate::progress::Progress;
use crate::store::changes;

const MERGE_COUNTRIES: &str = include_str!("merge_countries.sql");
const MERGE_TOPICS: &str = include_str!("merge_topics.sql");
const MERGE_STATEMENTS: &str = include_str!("merge_statements.sql");
const MERGE_STATEMENT_TOPICS: &str = include_str!("merge_statement_topics.sql");
const MERGE_SIGNATURES: &str = include_str!("merge_signatures.sql");
const MERGE_SOURCES: &str = include_str!("merge_sources.sql");
const AUDIT_SCATTERED_LISTS: &str = include_str!("audit_scattered_lists.sql");
const COPY_NEW_SIGNATURES: &str = "copy signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note, issued_on) \
     from stdin (format csv, force_not_null (note))";
const STAGE_SIGNATURES: &str = "copy import_signature from stdin (format csv)";
const COPY_AUDIT: &str =
    "copy change (entity, entity_id, action, actor, before, after) from stdin (format csv)";

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
        batch: &Batch,
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

    /// Sources, once the statements are written.
    pub(super) async fn sources(
        &mut self,
        batch: &Batch,
        report: &mut ImportReport,
    ) -> anyhow::Result<()> {
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
        let tally: (i64, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
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
        Ok(tally.into())
    }

    /// The statements that hold signatures, before any are imported; queried inside
    /// the transaction and under the writers' lock, so no one adds any meanwhile.
    pub(super) async fn holding_signatures(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "select s.id from statement s where exists (select 1 from signature g where g.statement_id = s.id)",
        )
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Writes the signatories file as `streaming` reads it (signatories.rs), its new
    /// lists as they arrive in `parts`. One COPY, so that the triggers that check and
    /// count the rows run once over all of them: in parts, each part would update the
    /// same tally and span rows again. `holding`: the statements that held signatures
    /// before (`holding_signatures`).
    pub(super) async fn signatures(
        &mut self,
        parts: &mut mpsc::Receiver<Part>,
        streaming: JoinHandle<anyhow::Result<Streamed>>,
        holding: &[String],
        progress: &Progress,
    ) -> anyhow::Result<(Streamed, Tally)> {
        let started = Instant::now();
        let first = loop {
            match parts.recv().await {
                Some(part) if part.csv.is_empty() => progress.inc(part.rows_read),
                next => break next,
            }
        };
        let copying = match first {
            Some(first) => Some(self.copy_new_lists(first, parts, progress).await?),
            None => None,
        };
        let mut streamed = streaming.await??;
        let created = match (copying, &streamed.kept) {
            (Some(copy), Some(_)) => copy.finish().await?,
            (Some(copy), None) => {
                copy.abort("the signatories file has bad rows").await?;
                0
            }
            (None, _) => 0,
        };
        let Some(kept) = streamed.kept.take() else {
            return Ok((streamed, Tally::default()));
        };
        let copied = started.elapsed();
        let audited_before: i64 = sqlx::query_scalar("select coalesce(max(id), 0) from change")
            .fetch_one(&mut *self.tx)
            .await?;
        let entries = copy_file(&mut self.tx, COPY_AUDIT, kept.audit).await?;
        if !kept.scattered.is_empty() {
            sqlx::query(AUDIT_SCATTERED_LISTS)
                .bind(audited_before)
                .bind(&kept.scattered)
                .bind(self.actor)
                .execute(&mut *self.tx)
                .await?;
        }
        tracing::info!(
            rows = created,
            statements = entries,
            copy_ms = copied.as_millis() as u64,
            audit_ms = (started.elapsed() - copied).as_millis() as u64,
            "import: new signatory lists copied"
        );
        let started = Instant::now();
        let staged = copy_file(&mut self.tx, STAGE_SIGNATURES, kept.listed).await?;
        analyze(&mut self.tx, "import_signature").await?;
        let tally: (i64, i64, i64) = sqlx::query_as(MERGE_SIGNATURES)
            .bind(self.actor)
            .bind(holding)
            .fetch_one(&mut *self.tx)
            .await?;
        let mut tally = Tally::from(tally);
        tracing::info!(
            table = "import_signature",
            rows = staged,
            merge_ms = started.elapsed().as_millis() as u64,
            "import: merged"
        );
        tally.created += created as i64;
        Ok((streamed, tally))
    }

    /// Sets the tables' keys aside for the new lists the file is expected to hold,
    /// then copies `first` and the parts after it into `signature`.
    async fn copy_new_lists(
        &mut self,
        first: Part,
        parts: &mut mpsc::Receiver<Part>,
        progress: &Progress,
    ) -> anyhow::Result<PgCopyIn<&mut PgConnection>> {
        let expected = usize::try_from(first.expected_new_rows).unwrap_or(usize::MAX);
        // The tally trigger adds rows to the forum tallies in no order, which go in
        // faster without their keys, built afresh after; their merge joins the rows
        // it counts on by hashing, not through the key.
        for table in [
            "signature",
            "stance_tally_by_forum",
            "stance_tally_by_forum_all_kinds",
        ] {
            self.set_aside
                .before_load(&mut self.tx, table, expected, Unneeded::AlsoPrimaryKey)
                .await?;
        }
        let mut copy = self.tx.copy_in_raw(COPY_NEW_SIGNATURES).await?;
        progress.inc(first.rows_read);
        copy.send(first.csv).await?;
        while let Some(part) = parts.recv().await {
            progress.inc(part.rows_read);
            copy.send(part.csv).await?;
        }
        Ok(copy)
    }
}
