//! `signatories import DIR`: validate every row first (reporting each bad row with
//! its file and line), then apply all of it in one transaction through `COPY` into
//! staging tables and set-based merges. Importing the same files twice changes
//! nothing the second time; `--dry-run` reports what would change and rolls back.
//!
//! A statement in the statements file is the truth about itself: when a signatories
//! (or sources) file is given, each statement it covers gets exactly the rows listed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use sqlx::{PgConnection, PgPool};

use super::rows::{CountryRow, SignatoryRow, SourceRow, StatementRow, TopicRow};
use crate::store::changes as audit;
use crate::domain::{Role, Stance, StatementKind};
use crate::validation::{Checker, check_participation};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dir: PathBuf,
    pub dry_run: bool,
    /// The topic of statements whose row names none (the `topics` column is optional).
    pub default_topic: Option<String>,
    /// Who the changes are attributed to in the audit trail.
    pub actor: String,
}

/// Rows created, updated and deleted per table (unchanged rows are not counted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub files: Vec<String>,
    pub rows_read: usize,
    pub countries: Tally,
    pub topics: Tally,
    pub statements: Tally,
    pub signatories: Tally,
    pub sources: Tally,
    pub dry_run: bool,
}

impl ImportReport {
    pub fn changed_nothing(&self) -> bool {
        [
            self.countries,
            self.topics,
            self.statements,
            self.signatories,
            self.sources,
        ]
        .iter()
        .all(|t| *t == Tally::default())
    }
}

/// Every bad row, as `file:line: field: message`; nothing was written.
#[derive(Debug)]
pub struct InvalidRows(pub Vec<String>);

impl std::fmt::Display for InvalidRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} problem(s) found; nothing was imported:",
            self.0.len()
        )?;
        for line in &self.0 {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidRows {}

/// Rows of one file with their line numbers.
struct Lines<R> {
    file: String,
    rows: Vec<(u64, R)>,
}

fn read_file<R: DeserializeOwned>(
    dir: &Path,
    name: &str,
    problems: &mut Vec<String>,
) -> anyhow::Result<Option<Lines<R>>> {
    let csv_path = dir.join(format!("{name}.csv"));
    let ndjson_path = dir.join(format!("{name}.ndjson"));
    if csv_path.exists() && ndjson_path.exists() {
        bail!(
            "both {name}.csv and {name}.ndjson are in {}; keep one",
            dir.display()
        );
    }
    if csv_path.exists() {
        let file = csv_path.display().to_string();
        let mut reader =
            csv::Reader::from_path(&csv_path).with_context(|| format!("reading {file}"))?;
        let headers = reader.headers()?.clone();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(record) => record,
                Err(err) => {
                    let line = err.position().map_or(0, |p| p.line());
                    problems.push(format!("{file}:{line}: {err}"));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            // Every field as a string (the csv crate's own deserializer would read a
            // code like "004" as the number 4).
            let fields = MapDeserializer::<_, serde::de::value::Error>::new(
                headers.iter().zip(record.iter()),
            );
            match R::deserialize(fields) {
                Ok(row) => rows.push((line, row)),
                Err(err) => problems.push(format!("{file}:{line}: {err}")),
            }
        }
        return Ok(Some(Lines { file, rows }));
    }
    if ndjson_path.exists() {
        let file = ndjson_path.display().to_string();
        let text =
            std::fs::read_to_string(&ndjson_path).with_context(|| format!("reading {file}"))?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<R>(line) {
                Ok(row) => rows.push((i as u64 + 1, row)),
                Err(err) => problems.push(format!("{file}:{}: {err}", i + 1)),
            }
        }
        return Ok(Some(Lines { file, rows }));
    }
    Ok(None)
}

fn optional(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

fn boolean(check: &mut Checker, field: &str, value: &str) -> bool {
    match value {
        "" | "false" => false,
        "true" => true,
        _ => {
            check.error(field, format!("{value:?} is not true or false"));
            false
        }
    }
}

fn date(check: &mut Checker, field: &str, value: &str) -> Option<NaiveDate> {
    check.date(field, optional(value).as_deref())
}

fn code(check: &mut Checker, field: &str, value: &str, len: usize, digits: bool) -> Option<String> {
    let value = optional(value)?;
    let fits = value.len() == len
        && value.chars().all(|c| {
            if digits {
                c.is_ascii_digit()
            } else {
                c.is_ascii_uppercase()
            }
        });
    if !fits {
        check.error(
            field,
            format!(
                "{value:?} is not {len} {}",
                if digits {
                    "digits"
                } else {
                    "upper-case letters"
                }
            ),
        );
    }
    fits.then_some(value)
}

/// Collects a row's problems under its file and line.
fn report(problems: &mut Vec<String>, file: &str, line: u64, check: Checker) {
    for error in check.into_errors() {
        problems.push(format!("{file}:{line}: {}: {}", error.field, error.message));
    }
}

#[derive(Debug, Serialize)]
struct Country {
    code: String,
    iso2: Option<String>,
    numeric_code: Option<String>,
    iso3166_3: Option<String>,
    name: String,
    official_name: Option<String>,
    common_name: Option<String>,
    region: Option<String>,
    subregion: Option<String>,
    intermediate_region: Option<String>,
    un_member: bool,
    un_observer: bool,
    un_admission_date: Option<NaiveDate>,
    ended_on: Option<NaiveDate>,
    successor_code: Option<String>,
}

#[derive(Debug, Serialize)]
struct Topic {
    slug: String,
    name: String,
    description: String,
}

#[derive(Debug, Serialize)]
struct Statement {
    id: String,
    title: String,
    kind: StatementKind,
    forum: String,
    session: Option<String>,
    issued_on: NaiveDate,
    un_symbol: Option<String>,
    stance: Option<Stance>,
    lead_country: Option<String>,
    summary: String,
    notes: String,
    reported_count: Option<i32>,
    list_complete: bool,
    /// A PostgreSQL array literal of topic slugs.
    topics: String,
}

/// Borrowed from the file's rows: an import may hold millions.
#[derive(Debug, Serialize)]
struct Signature<'a> {
    statement_id: &'a str,
    country_code: &'a str,
    role: Role,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    source_url: Option<String>,
    note: &'a str,
    /// The row's place in key order (statement, then country) as one number, so that
    /// sorting millions of rows compares numbers rather than strings.
    #[serde(skip)]
    key: u64,
    #[serde(skip)]
    line: u64,
}

#[derive(Debug, Serialize)]
struct Source {
    statement_id: String,
    ordinal: usize,
    url: String,
    title: String,
    publisher: String,
    accessed_on: Option<NaiveDate>,
}

/// What the database already holds that rows may refer to.
struct Known {
    countries: HashSet<String>,
    topics: HashSet<String>,
    statements: HashMap<String, (StatementKind, NaiveDate)>,
}

async fn known(db: &PgPool) -> anyhow::Result<Known> {
    Ok(Known {
        countries: sqlx::query_scalar("select code from country")
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
        topics: sqlx::query_scalar("select slug from topic")
            .fetch_all(db)
            .await?
            .into_iter()
            .collect(),
        statements: sqlx::query_as::<_, (String, StatementKind, NaiveDate)>(
            "select id, kind, issued_on from statement",
        )
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|(id, kind, date)| (id, (kind, date)))
        .collect(),
    })
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

pub async fn import(db: &PgPool, options: &ImportOptions) -> anyhow::Result<ImportReport> {
    let dir = &options.dir;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let started = Instant::now();
    // The signatories file, by far the largest, is read on a thread of its own while the
    // other files are read, checked and written. Nothing is committed unless every row
    // of every file is good.
    let reading = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || {
            let mut problems = Vec::new();
            read_file::<SignatoryRow>(&dir, "signatories", &mut problems)
                .map(|file| (file, problems))
        })
    };
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

    let mut known = known(db).await?;
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
    let mut tx = None;
    let mut set_aside = Vec::new();
    if problems.is_empty() {
        let mut writing = db.begin().await?;
        audit::lock_writes(&mut writing).await?;
        apply_statements(
            &mut writing,
            &batch,
            &options.actor,
            &mut report,
            &mut set_aside,
        )
        .await?;
        tx = Some(writing);
    }

    let (signatories, reading_problems) = reading.await??;
    problems.extend(reading_problems);
    if let Some(file) = &signatories {
        report.rows_read += file.rows.len();
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
    let (true, Some(mut tx)) = (problems.is_empty(), tx) else {
        return Err(InvalidRows(problems).into());
    };
    tracing::info!(
        rows = report.rows_read,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: files read and checked"
    );
    apply_signatures(&mut tx, &batch, &options.actor, &mut report, &mut set_aside).await?;
    restore_indexes(&mut tx, &set_aside).await?;
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        // Until autovacuum gets round to the imported tables (minutes later, then
        // competing with readers for a while), the planner's statistics are the data's
        // shape before the import, so a first import of millions of rows is planned as
        // an empty database (seconds instead of milliseconds), and no page is marked
        // all-visible, so the index-only reads (a country's statements, a topic's
        // dates) visit the table for every entry. A vacuum of freshly inserted rows
        // costs under a second for 5 million signatures. Index cleanup always: a table
        // with few dead rows (the tallies a merge counted down) would otherwise keep
        // their pages off the all-visible list.
        sqlx::raw_sql(
            "vacuum (analyze, index_cleanup on) signature, statement, statement_topic, topic_calendar, stance_tally, stance_tally_by_forum, stance_tally_by_forum_all_kinds, stance_span",
        )
        .execute(db)
        .await?;
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import: done"
    );
    Ok(report)
}

fn check_countries(
    file: &Lines<CountryRow>,
    known: &mut Known,
    problems: &mut Vec<String>,
) -> Vec<Country> {
    let in_file: HashSet<&str> = file.rows.iter().map(|(_, r)| r.code.as_str()).collect();
    let mut seen = HashSet::new();
    let mut countries = Vec::new();
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        let code_value = code(&mut check, "code", &row.code, 3, false);
        if row.code.is_empty() {
            check.error("code", "is required");
        }
        if !seen.insert(row.code.clone()) {
            check.error("code", format!("{} appears twice", row.code));
        }
        let name = check.text("name", optional(&row.name), 200);
        if row.name.trim().is_empty() {
            check.error("name", "is required");
        }
        let un_member = boolean(&mut check, "un_member", &row.un_member);
        let un_observer = boolean(&mut check, "un_observer", &row.un_observer);
        let successor_code = optional(&row.successor_code);
        if let Some(successor) = &successor_code
            && !in_file.contains(successor.as_str())
            && !known.countries.contains(successor)
        {
            check.error(
                "successor_code",
                format!("{successor:?} is not a known country code"),
            );
        }
        let country = Country {
            code: code_value.unwrap_or_default(),
            iso2: code(&mut check, "iso2", &row.iso2, 2, false),
            numeric_code: code(&mut check, "numeric", &row.numeric, 3, true),
            iso3166_3: code(&mut check, "iso3166_3", &row.iso3166_3, 4, false),
            name: name.unwrap_or_default(),
            official_name: optional(&row.official_name),
            common_name: optional(&row.common_name),
            region: optional(&row.region),
            subregion: optional(&row.subregion),
            intermediate_region: optional(&row.intermediate_region),
            un_member,
            un_observer,
            un_admission_date: date(&mut check, "un_admission_date", &row.un_admission_date),
            ended_on: date(&mut check, "ended_on", &row.ended_on),
            successor_code,
        };
        report(problems, &file.file, *line, check);
        known.countries.insert(country.code.clone());
        countries.push(country);
    }
    countries
}

fn check_topics(
    file: &Lines<TopicRow>,
    known: &mut Known,
    problems: &mut Vec<String>,
) -> Vec<Topic> {
    let mut topics = Vec::new();
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        let slug = check.slug("slug", Some(row.slug.clone()), 80);
        let name = check.text("name", Some(row.name.clone()), 200);
        report(problems, &file.file, *line, check);
        if let (Some(slug), Some(name)) = (slug, name) {
            known.topics.insert(slug.clone());
            topics.push(Topic {
                slug,
                name,
                description: row.description.clone(),
            });
        }
    }
    topics
}

fn check_statements(
    file: &Lines<StatementRow>,
    options: &ImportOptions,
    known: &mut Known,
    problems: &mut Vec<String>,
) -> Vec<Statement> {
    let mut seen = HashSet::new();
    let mut statements = Vec::new();
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        let id = check.statement_id("slug", Some(row.slug.clone()));
        if !seen.insert(row.slug.clone()) {
            check.error("slug", format!("{} appears twice", row.slug));
        }
        let title = check.text("title", Some(row.title.clone()), 500);
        let kind: Option<StatementKind> = check.vocabulary("kind", Some(&row.kind));
        let forum = check.text("forum", Some(row.forum.clone()), 200);
        let issued_on = check.date("date", Some(&row.date));
        let stance: Option<Stance> = check.vocabulary("stance", optional(&row.stance).as_deref());
        if stance.is_none()
            && row.stance.is_empty()
            && matches!(
                kind,
                Some(StatementKind::JointLetter | StatementKind::JointStatement)
            )
        {
            check.error("stance", "is required for a letter or statement");
        }
        let lead_country = optional(&row.lead_country);
        if let Some(lead) = &lead_country
            && !known.countries.contains(lead)
        {
            check.error(
                "lead_country",
                format!("{lead:?} is not a known country code"),
            );
        }
        let reported_count = optional(&row.reported_count).and_then(|n| match n.parse::<i32>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                check.error(
                    "reported_count",
                    format!("{n:?} is not a whole number of at least 0"),
                );
                None
            }
        });
        let list_complete = boolean(&mut check, "list_complete", &row.list_complete);
        let mut topics: Vec<String> = row.topics.split_whitespace().map(str::to_owned).collect();
        if topics.is_empty() {
            match &options.default_topic {
                Some(topic) => topics.push(topic.clone()),
                None => check.error("topics", "names no topic, and no --topic was given"),
            }
        }
        for topic in &topics {
            if !known.topics.contains(topic) {
                check.error("topics", format!("{topic:?} is not a known topic"));
            }
        }
        for url in row.source_urls.split_whitespace() {
            check.url("source_urls", Some(url.to_owned()));
        }
        report(problems, &file.file, *line, check);
        if let (Some(id), Some(title), Some(kind), Some(forum), Some(issued_on)) =
            (id, title, kind, forum, issued_on)
        {
            known.statements.insert(id.clone(), (kind, issued_on));
            statements.push(Statement {
                id,
                title,
                kind,
                forum,
                session: optional(&row.session),
                issued_on,
                un_symbol: optional(&row.un_symbol),
                stance,
                lead_country,
                summary: row.summary.clone(),
                notes: row.notes.clone(),
                reported_count,
                list_complete,
                topics: format!("{{{}}}", topics.join(",")),
            });
        }
    }
    statements
}

fn check_signatures<'a>(
    file: &'a Lines<SignatoryRow>,
    known: &Known,
    problems: &mut Vec<String>,
) -> Vec<Signature<'a>> {
    // Each statement's rank in id order, for the rows' keys.
    let mut ids: Vec<&str> = known.statements.keys().map(String::as_str).collect();
    ids.sort_unstable();
    let ranks: HashMap<&str, u64> = ids.into_iter().zip(0..).collect();
    let mut signatures = Vec::with_capacity(file.rows.len());
    // A file lists each statement's rows together: look each statement up once.
    let mut current_id = None;
    let mut current = (None, 0);
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        if current_id != Some(row.statement_slug.as_str()) {
            current_id = Some(row.statement_slug.as_str());
            current = (
                known.statements.get(&row.statement_slug).copied(),
                ranks.get(row.statement_slug.as_str()).copied().unwrap_or(0),
            );
        }
        let (statement, rank) = current;
        if statement.is_none() {
            check.error(
                "statement_slug",
                format!(
                    "{:?} is neither in the statements file nor stored",
                    row.statement_slug
                ),
            );
        }
        if !known.countries.contains(&row.country_iso3) {
            check.error(
                "country_iso3",
                format!("{:?} is not a known country code", row.country_iso3),
            );
        }
        let role: Option<Role> = check.vocabulary("role", Some(&row.role));
        let joined_on = date(&mut check, "joined_on", &row.joined_on);
        let withdrawn_on = date(&mut check, "withdrawn_on", &row.withdrawn_on);
        check_participation(
            &mut check,
            str::to_owned,
            role,
            joined_on,
            withdrawn_on,
            statement,
        );
        let source_url = check.url("source_url", optional(&row.source_url));
        report(problems, &file.file, *line, check);
        if let Some(role) = role {
            // A known country code is three letters, 24 bits.
            let country = row
                .country_iso3
                .bytes()
                .take(3)
                .fold(0, |code, b| code << 8 | u64::from(b));
            signatures.push(Signature {
                statement_id: &row.statement_slug,
                country_code: &row.country_iso3,
                role,
                joined_on,
                withdrawn_on,
                source_url,
                note: &row.note,
                key: rank << 24 | country,
                line: *line,
            });
        }
    }
    // In key order, the order they are stored in: each insert then goes next to the
    // previous one in the primary key, whose pages fill up one after another. A
    // country listed twice for a statement is then next to itself.
    // (The key is exact for known statements and countries, which are all there are
    // once the problems are fixed; the strings settle the rest.)
    signatures.sort_unstable_by(|a, b| {
        (a.key, a.statement_id, a.country_code, a.line).cmp(&(
            b.key,
            b.statement_id,
            b.country_code,
            b.line,
        ))
    });
    for pair in signatures.windows(2) {
        if (pair[0].statement_id, pair[0].country_code)
            == (pair[1].statement_id, pair[1].country_code)
        {
            problems.push(format!(
                "{}:{}: country_iso3: {} appears twice for {}",
                file.file, pair[1].line, pair[1].country_code, pair[1].statement_id
            ));
        }
    }
    signatures
}

fn check_sources(
    file: &Lines<SourceRow>,
    known: &Known,
    problems: &mut Vec<String>,
) -> Vec<Source> {
    let mut seen = HashSet::new();
    let mut sources = Vec::new();
    for (ordinal, (line, row)) in file.rows.iter().enumerate() {
        let mut check = Checker::new();
        if !known.statements.contains_key(&row.statement_slug) {
            check.error(
                "statement_slug",
                format!(
                    "{:?} is neither in the statements file nor stored",
                    row.statement_slug
                ),
            );
        }
        if !seen.insert((row.statement_slug.clone(), row.url.clone())) {
            check.error(
                "url",
                format!("{} appears twice for {}", row.url, row.statement_slug),
            );
        }
        let url = check.url("url", Some(row.url.clone()));
        let accessed_on = date(&mut check, "accessed_on", &row.accessed_on);
        report(problems, &file.file, *line, check);
        if let Some(url) = url {
            sources.push(Source {
                statement_id: row.statement_slug.clone(),
                ordinal,
                url,
                title: row.title.clone(),
                publisher: row.publisher.clone(),
                accessed_on,
            });
        }
    }
    sources
}

/// Sources from the statements file's `source_urls`, published by their host, as the
/// seed migrations made them.
fn sources_from_statements(file: &Lines<StatementRow>, problems: &mut Vec<String>) -> Vec<Source> {
    let mut sources = Vec::new();
    for (line, row) in &file.rows {
        let mut seen = HashSet::new();
        for url in row.source_urls.split_whitespace() {
            if !seen.insert(url) {
                problems.push(format!(
                    "{}:{line}: source_urls: {url} appears twice",
                    file.file
                ));
                continue;
            }
            let publisher = url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            sources.push(Source {
                statement_id: row.slug.clone(),
                ordinal: sources.len(),
                url: url.to_owned(),
                title: String::new(),
                publisher,
                accessed_on: None,
            });
        }
    }
    sources
}

/// Streams rows as CSV through `copy`, a `COPY … FROM STDIN (FORMAT csv)` statement;
/// returns how many were copied.
async fn copy_rows<R: Serialize>(
    conn: &mut PgConnection,
    copy: &str,
    rows: impl IntoIterator<Item = R>,
) -> anyhow::Result<u64> {
    let mut copy = conn.copy_in_raw(copy).await?;
    // A megabyte at a time: the whole table as one CSV text would double the import's
    // memory.
    let csv = || {
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new())
    };
    let mut writer = csv();
    for row in rows {
        writer.serialize(row)?;
        if writer.get_ref().len() >= 1 << 20 {
            let full = std::mem::replace(&mut writer, csv());
            copy.send(full.into_inner()?.as_slice()).await?;
        }
    }
    copy.send(writer.into_inner()?.as_slice()).await?;
    Ok(copy.finish().await?)
}

/// Copies rows into a staging table and analyses it: temp tables are never analysed
/// automatically, and without statistics the merges' planner would guess a few
/// hundred rows and pick nested loops over millions.
async fn stage<R: Serialize>(
    conn: &mut PgConnection,
    table: &str,
    rows: &[R],
) -> anyhow::Result<()> {
    copy_rows(conn, &format!("copy {table} from stdin (format csv)"), rows).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("analyze {table}")))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Runs a merge that returns (created, updated, deleted).
async fn tally(conn: &mut PgConnection, sql: &str, actor: &str) -> anyhow::Result<Tally> {
    let (created, updated, deleted): (i64, i64, i64) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(actor)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Tally {
        created,
        updated,
        deleted,
    })
}

/// Countries, topics and statements: what the other files refer to.
async fn apply_statements(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    actor: &str,
    report: &mut ImportReport,
    set_aside: &mut Vec<String>,
) -> anyhow::Result<()> {
    sqlx::raw_sql(include_str!("staging.sql"))
        .execute(&mut *conn)
        .await?;
    if let Some(countries) = &batch.countries {
        report.countries = merge(conn, "import_country", countries, MERGE_COUNTRIES, actor).await?;
    }
    if let Some(topics) = &batch.topics {
        report.topics = merge(conn, "import_topic", topics, MERGE_TOPICS, actor).await?;
    }
    if let Some(statements) = &batch.statements {
        let outnumbered = set_aside_indexes(
            conn,
            "statement",
            statements.len(),
            Unneeded::Secondary,
            set_aside,
        )
        .await?;
        report.statements = merge(
            conn,
            "import_statement",
            statements,
            MERGE_STATEMENTS,
            actor,
        )
        .await?;
        sqlx::raw_sql(MERGE_STATEMENT_TOPICS)
            .execute(&mut *conn)
            .await?;
        // The signatures' triggers plan their joins to these tables on what the
        // planner knows of them, which for a first load is the seeded handful of
        // statements, or nothing: the plans then depended on whether some migration's
        // CREATE INDEX had left a row count behind. With two more indexes on
        // `statement` (388d4b8), the spans' trigger took 12.6 s over 5 million
        // signatures instead of 5.7 s; analyzed here first, 6.1 s. A rollback (a dry
        // run, a bad signatory row) undoes these statistics but not the row count,
        // which PostgreSQL writes in place; the next vacuum counts again.
        if outnumbered {
            sqlx::raw_sql("analyze statement, statement_topic, topic_calendar")
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Signatories and sources, once the statements are written.
async fn apply_signatures(
    conn: &mut PgConnection,
    batch: &Batch<'_>,
    actor: &str,
    report: &mut ImportReport,
    set_aside: &mut Vec<String>,
) -> anyhow::Result<()> {
    if let Some(signatures) = &batch.signatures {
        report.signatories = merge_signatures(conn, signatures, actor, set_aside).await?;
    }
    if let Some(sources) = &batch.sources {
        report.sources = merge(conn, "import_source", sources, MERGE_SOURCES, actor).await?;
    }
    Ok(())
}

const MERGE_COUNTRIES: &str = include_str!("merge_countries.sql");
const MERGE_TOPICS: &str = include_str!("merge_topics.sql");
const MERGE_STATEMENTS: &str = include_str!("merge_statements.sql");
const MERGE_STATEMENT_TOPICS: &str = include_str!("merge_statement_topics.sql");
const MERGE_SIGNATURES: &str = include_str!("merge_signatures.sql");
const MERGE_SOURCES: &str = include_str!("merge_sources.sql");

/// Copies rows into their staging table and merges them, logging the time of each step.
async fn merge<R: Serialize>(
    conn: &mut PgConnection,
    table: &str,
    rows: &[R],
    sql: &str,
    actor: &str,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    stage(conn, table, rows).await?;
    let copied = started.elapsed();
    let tally = tally(conn, sql, actor).await?;
    tracing::info!(
        table,
        rows = rows.len(),
        copy_ms = copied.as_millis() as u64,
        merge_ms = (started.elapsed() - copied).as_millis() as u64,
        "import: merged"
    );
    Ok(tally)
}

/// Signatures in two parts. The rows of statements that hold none yet are all new:
/// they are copied straight into `signature` (a first import of millions of rows
/// skips staging, comparing and sorting them) and audited as they are copied. The
/// rest are staged and merged, which also empties the lists of the statements file's
/// statements that the signatories file no longer lists.
async fn merge_signatures(
    conn: &mut PgConnection,
    signatures: &[Signature<'_>],
    actor: &str,
    set_aside: &mut Vec<String>,
) -> anyhow::Result<Tally> {
    let mut ids: Vec<&str> = signatures.iter().map(|s| s.statement_id).collect();
    ids.dedup();
    // Inside the transaction and under the writers' lock, so no one adds any meanwhile.
    let stored: HashSet<String> = sqlx::query_scalar(
        "select id from unnest($1::text[]) id where exists (select 1 from signature g where g.statement_id = id)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let (listed, new): (Vec<&Signature>, Vec<&Signature>) = signatures
        .iter()
        .partition(|s| stored.contains(s.statement_id));
    let mut tally = merge(conn, "import_signature", &listed, MERGE_SIGNATURES, actor).await?;

    let started = Instant::now();
    set_aside_indexes(
        conn,
        "signature",
        new.len(),
        Unneeded::AlsoPrimaryKey,
        set_aside,
    )
    .await?;
    // The rows the copy's tally trigger adds to stance_tally_by_forum (about one for
    // every five signatures of a first load, in no order) go in faster without its
    // keys (8.5 s for a million rows, against 3 s without and as much to build it),
    // and its merge joins the rows it counts on by hashing, not through the key. So do
    // those of the tally without kinds (half as many).
    for tally in ["stance_tally_by_forum", "stance_tally_by_forum_all_kinds"] {
        set_aside_indexes(conn, tally, new.len(), Unneeded::AlsoPrimaryKey, set_aside).await?;
    }
    // One COPY: the triggers that check and count the rows then run once over all of
    // them (in parts of 250,000, each part updated the same tally and span rows again:
    // about 15 s more for 5 million rows).
    tally.created += copy_rows(
        conn,
        "copy signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note) \
         from stdin (format csv, force_not_null (note))",
        new.iter(),
    )
    .await? as i64;
    let copied = started.elapsed();
    // The rows are in key order, so each statement's are together.
    let lists = new.chunk_by(|a, b| a.statement_id == b.statement_id);
    let mut entries = 0;
    copy_rows(
        conn,
        "copy change (entity, entity_id, action, actor, before, after) from stdin (format csv)",
        lists.map(|rows| {
            entries += 1;
            NewList::new(rows, actor)
        }),
    )
    .await?;
    tracing::info!(
        rows = new.len(),
        statements = entries,
        copy_ms = copied.as_millis() as u64,
        audit_ms = (started.elapsed() - copied).as_millis() as u64,
        "import: new signatory lists copied"
    );
    Ok(tally)
}

/// Which of a table's indexes a bulk load into it can do without.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unneeded {
    /// Neither primary key nor unique ones: the load upserts, finding conflicts
    /// through them.
    Secondary,
    /// The primary key too: nothing in the load finds rows through it, and nothing
    /// can duplicate one (signatures are only appended, to statements that hold none,
    /// and the file's own duplicates were refused before; the tally's merge groups its
    /// rows by the key first). Made again, it checks the rows once more.
    AlsoPrimaryKey,
}

/// Before a bulk load of `incoming` rows into `table` (one of the import's own table
/// names): when they outnumber the stored rows, drops the table's `unneeded` indexes
/// and adds the statements that make them again to `set_aside`, to be run before the
/// import commits (a primary key made again checks its rows once more). Adding
/// millions of keys one at a time to an index ordered otherwise than the rows arrive
/// (signatures by country, statements by words) took a third of a first import (30 s
/// for 5 million signatures); building it afresh takes seconds. Even in key order, a
/// primary key that already holds greater keys (the seeded statements' ids) splits
/// its pages in halves: it came out of a first import 70 % larger than built afresh.
/// The cost: reads of the table wait for the import to commit (a first load has no
/// readers to speak of). Returns whether the incoming rows outnumbered the stored ones.
async fn set_aside_indexes(
    conn: &mut PgConnection,
    table: &'static str,
    incoming: usize,
    unneeded: Unneeded,
    set_aside: &mut Vec<String>,
) -> anyhow::Result<bool> {
    let incoming = i64::try_from(incoming).unwrap_or(i64::MAX);
    let outnumbered: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) < $1 from (select from {table} limit $1) stored"
    )))
    .bind(incoming)
    .fetch_one(&mut *conn)
    .await?;
    if !outnumbered {
        return Ok(false);
    }
    // Each as the statement that drops it and the one that makes it again.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select format('drop index %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) \
         from pg_index i \
         where i.indrelid = $1::regclass and not i.indisprimary and not i.indisunique \
         union all \
         select format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname), \
                format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) \
         from pg_constraint c \
         where c.conrelid = $1::regclass and c.contype = 'p' and $2",
    )
    .bind(table)
    .bind(unneeded == Unneeded::AlsoPrimaryKey)
    .fetch_all(&mut *conn)
    .await?;
    for (drop, make) in indexes {
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut *conn)
            .await?;
        set_aside.push(make);
    }
    Ok(true)
}

/// Creates the indexes that `set_aside_indexes` dropped.
async fn restore_indexes(conn: &mut PgConnection, set_aside: &[String]) -> anyhow::Result<()> {
    let started = Instant::now();
    for definition in set_aside {
        sqlx::query(sqlx::AssertSqlSafe(definition.as_str()))
            .execute(&mut *conn)
            .await?;
    }
    if !set_aside.is_empty() {
        tracing::info!(
            indexes = set_aside.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "import: indexes created again"
        );
    }
    Ok(())
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
