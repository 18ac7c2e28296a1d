//! Checking the rows of the signatories and sources files: each statement's lists,
//! whose rows refer to statements and countries in the other files or stored.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::check::{Known, collect, date, optional};
use super::read::Lines;
use crate::domain::Role;
use crate::transfer::rows::{SignatoryRow, SourceRow, StatementRow};
use crate::validation::{Checker, check_participation};

/// A signature as staged (`import_signature` in staging.sql) or copied into
/// `signature`. Borrowed from the file's rows, the bulk of an import, rather than
/// copied.
#[derive(Debug, Serialize)]
pub(super) struct Signature<'a> {
    pub(super) statement_id: &'a str,
    pub(super) country_code: &'a str,
    pub(super) role: Role,
    pub(super) joined_on: Option<NaiveDate>,
    pub(super) withdrawn_on: Option<NaiveDate>,
    pub(super) source_url: Option<String>,
    pub(super) note: &'a str,
    /// The row's place in key order (statement, then country) as one number, so that
    /// sorting the rows compares numbers rather than strings.
    #[serde(skip)]
    key: u64,
    #[serde(skip)]
    line: u64,
}

/// A source as staged (`import_source`).
#[derive(Debug, Serialize)]
pub(super) struct Source {
    statement_id: String,
    ordinal: usize,
    url: String,
    title: String,
    publisher: String,
    accessed_on: Option<NaiveDate>,
}

/// The signatories file's rows, in key order; a country listed twice for a statement
/// is a problem.
pub(super) fn check_signatures<'a>(
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
        collect(problems, &file.file, *line, check);
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

/// The sources file's rows, numbered in file order (the order a statement cites them).
pub(super) fn check_sources(
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
        collect(problems, &file.file, *line, check);
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
/// seed migrations made them. The URLs themselves are checked with their statement.
pub(super) fn sources_from_statements(
    file: &Lines<StatementRow>,
    problems: &mut Vec<String>,
) -> Vec<Source> {
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
