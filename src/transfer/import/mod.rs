//! `signatories import DIR`: validate every row first (reporting each bad row with
//! its file and line), then apply all of it in one transaction through `COPY` into
//! staging tables and set-based merges. Importing the same files twice changes
//! nothing the second time; `--dry-run` reports what would change and rolls back.
//!
//! A statement in the statements file is the truth about itself: when a signatories
//! (or sources) file is given, each statement it covers gets exactly the rows listed.
//!
//! One module per step: `read` the files, `check` the rows that others refer to,
//! `check_sources` and `check_signatures` each statement's lists, `stage` them and
//! `merge` them in, with `indexes` set aside during large loads; `report` what
//! changed. The signatories file is streamed (`signatories`), written as it is read.

mod check;
mod check_signatures;
mod check_sources;
mod indexes;
mod merge;
mod read;
mod report;
mod signatories;
mod stage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use sqlx::PgPool;
use tokio::sync::mpsc;

use self::check::{
    Country, Known, Statement, Topic, check_countries, check_statements, check_topics,
};
use self::check_sources::{Source, check_sources, sources_from_statements};
use self::merge::Writing;
use self::read::{find_file, read_file};
pub use self::report::{ImportReport, InvalidRows, Tally};
use self::signatories::Destination;
pub use self::signatories::PART_ROWS;
use super::rows::{CountryRow, SourceRow, StatementRow, TopicRow};
use crate::progress::Progress;

/// What to import from where, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The folder of the files (`statements.csv`, `signatories.ndjson`, …).
    pub dir: PathBuf,
    /// Check and apply everything, report, then roll back.
    pub dry_run: bool,
    /// The topic of statements whose row names none (the `topics` column is optional).
    pub default_topic: Option<String>,
    /// Who the changes are attributed to in the audit trail.
    pub actor: String,
    /// Nothing else uses the database meanwhile: a large load may set the indexes of
    /// tables that hold rows aside, locking their readers out until it commits.
    pub offline: bool,
}

/// Every file but the signatories checked and turned into typed rows.
#[derive(Default)]
struct Batch {
    countries: Option<Vec<Country>>,
    topics: Option<Vec<Topic>>,
    statements: Option<Vec<Statement>>,
    sources: Option<Vec<Source>>,
}

/// Imports the files in `options.dir`; fails with [`InvalidRows`] (writing nothing)
/// when any row is bad.
pub async fn import(db: &PgPool, options: &ImportOptions) -> anyhow::Result<ImportReport> {
    let dir = &options.dir;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let started = Instant::now();
    let progress = Progress::rows("import: reading and checking files");
    let mut problems = Vec::new();
    let countries = read_file::<CountryRow>(dir, "countries", &mut problems)?;
    let topics = read_file::<TopicRow>(dir, "topics", &mut problems)?;
    let statements = read_file::<StatementRow>(dir, "statements", &mut problems)?;
    let sources = read_file::<SourceRow>(dir, "sources", &mut problems)?;
    let signatories = find_file(dir, "signatories")?;
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    report.rows_read = countries.as_ref().map_or(0, |f| f.rows.len())
        + topics.as_ref().map_or(0, |f| f.rows.len())
        + statements.as_ref().map_or(0, |f| f.rows.len())
        + sources.as_ref().map_or(0, |f| f.rows.len());
    report.files = [
        countries.as_ref().map(|f| &f.file),
        topics.as_ref().map(|f| &f.file),
        statements.as_ref().map(|f| &f.file),
        sources.as_ref().map(|f| &f.file),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    if report.files.is_empty() && signatories.is_none() {
        bail!(
            "{} holds none of countries, topics, statements, signatories or sources (.csv or .ndjson)",
            dir.display()
        );
    }

    let mut known = Known::load(db).await?;
    let mut batch = Batch::default();
    if let Some(file) = &countries {
        batch.countries = Some(check_countries(file, &mut known, &mut problems));
    }
    if let Some(file) = &topics {
        batch.topics = Some(check_topics(file, &mut known, &mut problems));
    }
    if let Some(file) = &statements {
        batch.statements = Some(check_statements(file, options, &mut known, &mut problems));
    }
    match (&sources, &statements) {
        (Some(file), _) => batch.sources = Some(check_sources(file, &known, &mut problems)),
        (None, Some(file))
            if file
                .rows
                .iter()
                .any(|(_, r)| !r.source_urls.trim().is_empty()) =>
        {
            batch.sources = Some(sources_from_statements(file, &mut problems));
        }
        _ => {}
    }
    progress.set_rows(report.rows_read as u64);
    // Nothing is committed unless every row of every file is good: with a problem,
    // the files are only checked to the end; a transaction dropped unfinished is
    // rolled back.
    let mut writing = None;
    if problems.is_empty() {
        progress.phase("import: writing countries, topics, statements and sources");
        let mut tx = Writing::begin(db, &options.actor, options.offline).await?;
        tx.statements(&batch, &mut report).await?;
        tx.sources(&batch, &mut report).await?;
        writing = Some(tx);
    }
    if let Some(path) = signatories {
        progress.phase("import: reading, checking and writing signatories");
        let known = Arc::new(known);
        let (parts, mut receiving) = mpsc::channel(2);
        let streamed = match &mut writing {
            Some(writing) => {
                let holding = writing.holding_signatures().await?;
                let destination = Destination {
                    holding: holding.iter().cloned().collect(),
                    actor: options.actor.clone(),
                    parts,
                };
                let streaming = signatories::stream(path, known, Some(destination));
                let (streamed, tally) = writing
                    .signatures(&mut receiving, streaming, &holding, &progress)
                    .await?;
                report.signatories = tally;
                streamed
            }
            None => signatories::stream(path, known, None).await??,
        };
        report.rows_read += streamed.rows_read;
        report.files.push(streamed.file);
        problems.extend(streamed.problems);
    }
    let (true, Some(writing)) = (problems.is_empty(), writing) else {
        return Err(InvalidRows(problems).into());
    };
    tracing::info!(
        rows = report.rows_read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: files read, checked and written"
    );
    progress.phase("import: committing");
    writing.finish(options.dry_run).await?;
    if !options.dry_run {
        progress.phase("import: vacuuming and analysing");
        vacuum_imported(db).await?;
    }
    progress.phase("import: done");
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: done"
    );
    Ok(report)
}

/// Vacuums and analyses the tables an import fills, once it has committed: until
/// autovacuum comes round, the planner would plan them by their shape before the
/// import, and index-only reads would visit the table (no page is all-visible yet).
async fn vacuum_imported(db: &PgPool) -> anyhow::Result<()> {
    // Index cleanup always, or the few dead rows a merge leaves (tallies counted
    // down) keep their pages off the all-visible list.
    sqlx::raw_sql(
        "vacuum (analyze, index_cleanup on) signature, statement, statement_topic, topic_calendar, stance_tally, stance_tally_by_forum, stance_tally_by_forum_all_kinds, stance_span",
    )
    .execute(db)
    .await?;
    Ok(())
}
