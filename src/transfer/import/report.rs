//! What an import tells its caller: the rows it changed in each table, or every bad
//! row it found instead.

use serde::Serialize;

/// Rows created, updated and deleted per table (unchanged rows are not counted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub created: i64,
    pub updated: i64,
    pub deleted: i64,
}

/// A merge's (created, updated, deleted).
impl From<(i64, i64, i64)> for Tally {
    fn from((created, updated, deleted): (i64, i64, i64)) -> Self {
        Self {
            created,
            updated,
            deleted,
        }
    }
}

/// The files an import read and what it changed in each table (or would have
/// changed, on a dry run).
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
    /// Whether every table was left as it was: importing the same files twice
    /// changes nothing the second time.
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
