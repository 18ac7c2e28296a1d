//! The signatories file, by far the largest, streamed: read and checked on a thread
//! of its own and written as it is read, so that an import's memory stays the same
//! however long the file is.
//!
//! Lists of statements that hold no signatures yet are new: they go out as parts of
//! one `COPY` into `signature`, each part's rows in the primary key's order (statement,
//! country), with the audit entry of each list. A part is large, so that the table
//! comes out in long runs of key order whatever the file's order: a read along the key
//! (an export) then finds its rows together rather than scattered over the table. Rows
//! of statements that hold some are kept for the staging merge. Both the kept rows and
//! the audit entries wait in temporary files, since the connection is busy with the
//! `COPY` until the file ends.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::check::Known;
use super::check_signatures::{Signature, SignatureCheck};
use super::read::{count_lines, read_rows};
use crate::domain::Role;
use crate::transfer::rows::SignatoryRow;

/// How many new rows a part holds before it is sorted and sent.
pub const PART_ROWS: usize = 50_000;

/// Rows of new lists as CSV for `signature`'s `COPY`.
pub(super) struct Part {
    pub(super) csv: Vec<u8>,
    /// Rows of the file read since the last part.
    pub(super) rows_read: u64,
    /// How many new rows the whole file holds, by their share of the rows so far.
    pub(super) expected_new_rows: u64,
}

/// Where the rows go; an import with problems in other files only checks this one.
pub(super) struct Destination {
    /// Statements that held signatures before the import.
    pub(super) holding: HashSet<String>,
    /// Who the audit entries name.
    pub(super) actor: String,
    pub(super) parts: mpsc::Sender<Part>,
}

/// The signatories file once read.
pub(super) struct Streamed {
    pub(super) file: String,
    pub(super) rows_read: usize,
    pub(super) problems: Vec<String>,
    /// The rest, when there were no problems to write.
    pub(super) kept: Option<Kept>,
}

/// What waits for the `COPY` of new lists to end.
pub(super) struct Kept {
    /// Rows of statements that held signatures, as CSV for `import_signature`.
    pub(super) listed: File,
    /// One entry per new list (per run of a statement's rows), as CSV for `change`.
    pub(super) audit: File,
    /// New statements whose rows were apart in the file: their runs were audited as
    /// lists of their own, to be audited again as one.
    pub(super) scattered: Vec<String>,
}

/// Reads and checks `path` on a blocking thread, sending new lists to `destination`.
pub(super) fn stream(
    path: PathBuf,
    known: Arc<Known>,
    destination: Option<Destination>,
) -> JoinHandle<anyhow::Result<Streamed>> {
    tokio::task::spawn_blocking(move || {
        let file = path.display().to_string();
        let mut check = SignatureCheck::new(&known);
        let mut writer = match destination {
            Some(destination) => Some(Writer::new(destination, count_lines(&path)?)?),
            None => None,
        };
        let mut problems = Vec::new();
        let mut rows_read = 0;
        for row in read_rows::<SignatoryRow>(&path)? {
            rows_read += 1;
            let signature = match row {
                Ok((line, row)) => check.check(&file, line, row, &mut problems),
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            };
            if !problems.is_empty() {
                // Nothing will be written: the import only goes on checking.
                writer = None;
            }
            if let (Some(writer), Some(signature)) = (&mut writer, signature) {
                writer.add(signature)?;
            }
        }
        let kept = writer.map(Writer::finish).transpose()?;
        Ok(Streamed {
            file,
            rows_read,
            problems,
            kept,
        })
    })
}

/// Sorts the checked rows into parts, kept rows and audit entries.
struct Writer {
    destination: Destination,
    /// The new list being read: the rows of one statement so far.
    run: Vec<Signature>,
    /// The new lists read since the last part was sent.
    part: Vec<Signature>,
    /// Whether a run of each known statement has begun.
    begun: Vec<bool>,
    scattered: Vec<String>,
    listed: csv::Writer<File>,
    audit: csv::Writer<File>,
    lines: u64,
    rows_read: u64,
    rows_in_part: u64,
    new_rows: u64,
}

impl Writer {
    fn new(destination: Destination, lines: u64) -> anyhow::Result<Self> {
        let spill = || -> anyhow::Result<csv::Writer<File>> {
            Ok(csv_writer(
                tempfile::tempfile().context("creating a temporary file")?,
            ))
        };
        Ok(Self {
            destination,
            run: Vec::new(),
            begun: Vec::new(),
            part: Vec::new(),
            scattered: Vec::new(),
            listed: spill()?,
            audit: spill()?,
            lines,
            rows_read: 0,
            rows_in_part: 0,
            new_rows: 0,
        })
    }

    fn add(&mut self, signature: Signature) -> anyhow::Result<()> {
        self.rows_read += 1;
        self.rows_in_part += 1;
        if self.destination.holding.contains(&signature.statement_id) {
            self.listed.serialize(&signature)?;
            return Ok(());
        }
        if self
            .run
            .first()
            .is_some_and(|s| s.statement != signature.statement)
        {
            self.end_run()?;
        }
        if self.run.is_empty() {
            if self.begun.len() <= signature.statement {
                self.begun.resize(signature.statement + 1, false);
            }
            if std::mem::replace(&mut self.begun[signature.statement], true) {
                self.scattered.push(signature.statement_id.clone());
            }
        }
        self.run.push(signature);
        if self.part.len() >= PART_ROWS {
            self.send()?;
        }
        Ok(())
    }

    /// Writes the run's audit entry (its rows in country order) and moves its rows to
    /// the part.
    fn end_run(&mut self) -> anyhow::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        self.run
            .sort_unstable_by(|a, b| a.country_code.cmp(&b.country_code));
        self.audit
            .serialize(NewList::new(&self.run, &self.destination.actor))?;
        self.new_rows += self.run.len() as u64;
        self.part.append(&mut self.run);
        Ok(())
    }

    /// Sends the part's rows as CSV, in key order.
    fn send(&mut self) -> anyhow::Result<()> {
        self.part.sort_unstable_by(|a, b| {
            (a.statement, &a.country_code).cmp(&(b.statement, &b.country_code))
        });
        let mut csv = csv_writer(Vec::new());
        for signature in self.part.drain(..) {
            csv.serialize(signature)?;
        }
        let csv = csv.into_inner()?;
        let new_rows = self.new_rows + self.run.len() as u64;
        let part = Part {
            csv,
            rows_read: std::mem::take(&mut self.rows_in_part),
            expected_new_rows: new_rows * self.lines.max(1) / self.rows_read.max(1),
        };
        self.destination
            .parts
            .blocking_send(part)
            .context("the import's transaction ended before the signatories file")
    }

    fn finish(mut self) -> anyhow::Result<Kept> {
        self.end_run()?;
        self.send()?;
        let rewound = |writer: csv::Writer<File>| -> anyhow::Result<File> {
            let mut file = writer.into_inner()?;
            file.flush()?;
            file.rewind()?;
            Ok(file)
        };
        Ok(Kept {
            listed: rewound(self.listed)?,
            audit: rewound(self.audit)?,
            scattered: self.scattered,
        })
    }
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out)
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
    fn new(rows: &'a [Signature], actor: &'a str) -> Self {
        let after: Vec<Listed> = rows.iter().map(Listed::from).collect();
        Self {
            entity: "signatories",
            entity_id: &rows[0].statement_id,
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

impl<'a> From<&'a Signature> for Listed<'a> {
    fn from(s: &'a Signature) -> Self {
        Self {
            country: &s.country_code,
            role: s.role,
            joined_on: s.joined_on,
            withdrawn_on: s.withdrawn_on,
            source_url: s.source_url.as_deref(),
            note: &s.note,
        }
    }
}
