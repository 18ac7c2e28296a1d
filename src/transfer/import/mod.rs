//! `signatories import DIR`: validate every row first (reporting each bad row with
//! its file and line), then apply all of it in one transaction through `COPY` into
//! staging tables and set-based merges. Importing the same files twice changes
//! nothing the second time; `--dry-run` reports what would change and rolls back.
//!
//! A statement in the statements file is the truth about itself: when a signatories
//! (or sources) file is given, each statement it covers gets exactly the rows listed.
//!
//! One module per step: `read` the files, `check` the rows that others refer to and
//! `check_lists` each statement's lists, `stage` them and `merge` them in, with
//! `indexes` set aside during large loads; `report` what changed.

mod check;
mod check_lists;
mod indexes;
mod merge;
mod read;
mod report;
mod stage;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use sqlx::PgPool;

use self::check::{
    Country, Known, Statement, Topic, check_countries, check_statements, check_topics,
};
use self::check_lists::{
    Signature, Source, check_signatures, check_sources, sources_from_statements,
};
use self::merge::Writing;
use self::read::{read_file, read_file_aside};
pub use self::report::{ImportReport, InvalidRows, Tally};
use super::rows::{CountryRow, SignatoryRow, SourceRow, StatementRow, TopicRow};
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

/// Every file checked and turned into typed rows.
#[derive(Default)]
struct Batch<'a> {
    countries: Option<Vec<Country>>,
    topics: Option<Vec<Topic>>,
    statements: Option<Vec<Statement>>,
    signatures: Option<Vec<Signature<'a>>>,
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
    // The signatories file, by far the largest, is read on a thread of its own while the
    // other files are read, checked and written. Nothing is committed unless every row
    // of every file is good.
    let reading = read_file_aside::<SignatoryRow>(dir.clone(), "signatories");
    let mut problems = Vec::new();
    let countries = read_file::<CountryRow>(dir, "countries", &mut problems)?;
    let topics = read_file::<TopicRow>(dir, "topics", &mut problems)?;
    let statements = read_file::<StatementRow>(dir, "statements", &mut problems)?;
    let sources = read_file::<SourceRow>(dir, "sources", &mut problems)?;
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    report.rows_read = countries.as_ref().map_or(0, |f| f.rows.len())
        + topics.as_ref().map_or(0, |f| f.rows.len())
        + statements.as_ref().map_or(0, |f| f.rows.len())
        + sources.as_ref().map_or(0, |f| f.rows.len());

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
    let mut writing = None;
    progress.set_rows(report.rows_read as u64);
    if problems.is_empty() {
        progress.phase("import: writing countries, topics and statements");
        let mut tx = Writing::begin(db, &options.actor, options.offline).await?;
        tx.statements(&batch, &mut report).await?;
        writing = Some(tx);
    }

    let (signatories, reading_problems) = reading.await??;
    problems.extend(reading_problems);
    if let Some(file) = &signatories {
        report.rows_read += file.rows.len();
        progress.set_rows(report.rows_read as u64);
        progress.phase("import: checking signatories");
        batch.signatures = Some(check_signatures(file, &known, &mut problems));
    }
    for file in [
        countries.as_ref().map(|f| &f.file),
        topics.as_ref().map(|f| &f.file),
        statements.as_ref().map(|f| &f.file),
        signatories.as_ref().map(|f| &f.file),
        sources.as_ref().map(|f| &f.file),
    ]
    .into_iter()
    .flatten()
    {
        report.files.push(file.clone());
    }
    if report.files.is_empty() {
        bail!(
            "{} holds none of countries, topics, statements, signatories or sources (.csv or .ndjson)",
            dir.display()
        );
    }
    // A transaction dropped unfinished is rolled back.
    let (true, Some(mut writing)) = (problems.is_empty(), writing) else {
        return Err(InvalidRows(problems).into());
    };
    tracing::info!(
        rows = report.rows_read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: files read and checked"
    );
    progress.phase("import: writing signatories and sources");
    writing.lists(&batch, &mut report).await?;
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
