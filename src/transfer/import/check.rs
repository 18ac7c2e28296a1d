//! Checking the rows of the countries, topics and statements files (what the other
//! files refer to) into the typed rows that are staged. Each row's problems are
//! collected as `file:line: field: message`; rules the HTTP writes share come from
//! `crate::validation`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgPool;

use super::ImportOptions;
use super::read::Lines;
use crate::domain::{Stance, StatementKind};
use crate::transfer::rows::{CountryRow, StatementRow, TopicRow};
use crate::validation::Checker;

/// A file's field: empty or blank means none.
pub(super) fn optional(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.to_owned())
}

/// `true`, `false` or empty (false), as the export writes them.
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

/// An optional date in the form YYYY-MM-DD.
pub(super) fn date(check: &mut Checker, field: &str, value: &str) -> Option<NaiveDate> {
    check.date(field, optional(value).as_deref())
}

/// Collects a row's problems under its file and line.
pub(super) fn collect(problems: &mut Vec<String>, file: &str, line: u64, check: Checker) {
    for error in check.into_errors() {
        problems.push(format!("{file}:{line}: {}: {}", error.field, error.message));
    }
}

/// A country as staged (`import_country` in staging.sql, same column order).
#[derive(Debug, Serialize)]
pub(super) struct Country {
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

/// A topic as staged (`import_topic`).
#[derive(Debug, Serialize)]
pub(super) struct Topic {
    slug: String,
    name: String,
    description: String,
}

/// A statement as staged (`import_statement`).
#[derive(Debug, Serialize)]
pub(super) struct Statement {
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

/// What rows may refer to: what the database holds, plus each file's rows as they
/// are checked.
pub(super) struct Known {
    pub(super) countries: HashSet<String>,
    pub(super) topics: HashSet<String>,
    pub(super) statements: HashMap<String, (StatementKind, NaiveDate)>,
}

impl Known {
    /// What the database holds.
    pub(super) async fn load(db: &PgPool) -> anyhow::Result<Self> {
        Ok(Self {
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
}

pub(super) fn check_countries(
    file: &Lines<CountryRow>,
    known: &mut Known,
    problems: &mut Vec<String>,
) -> Vec<Country> {
    let in_file: HashSet<&str> = file.rows.iter().map(|(_, r)| r.code.as_str()).collect();
    let mut seen = HashSet::new();
    let mut countries = Vec::new();
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        let code_value = check.code("code", optional(&row.code), 3, false);
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
            iso2: check.code("iso2", optional(&row.iso2), 2, false),
            numeric_code: check.code("numeric", optional(&row.numeric), 3, true),
            iso3166_3: check.code("iso3166_3", optional(&row.iso3166_3), 4, false),
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
        collect(problems, &file.file, *line, check);
        known.countries.insert(country.code.clone());
        countries.push(country);
    }
    countries
}

pub(super) fn check_topics(
    file: &Lines<TopicRow>,
    known: &mut Known,
    problems: &mut Vec<String>,
) -> Vec<Topic> {
    let mut topics = Vec::new();
    for (line, row) in &file.rows {
        let mut check = Checker::new();
        let slug = check.slug("slug", Some(row.slug.clone()), 80);
        let name = check.text("name", Some(row.name.clone()), 200);
        collect(problems, &file.file, *line, check);
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

pub(super) fn check_statements(
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
        collect(problems, &file.file, *line, check);
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
