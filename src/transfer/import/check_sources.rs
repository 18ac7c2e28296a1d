//! Checking the sources, from the sources file or the statements file's
//! `source_urls`: each statement's list of the documents it is reported in.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::check::{Known, collect, date};
use super::read::Lines;
use crate::transfer::rows::{SourceRow, StatementRow};
use crate::validation::Checker;

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
