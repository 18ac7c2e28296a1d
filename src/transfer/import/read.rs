//! Reading the input files: each table from `NAME.csv` or `NAME.ndjson`, every row
//! with its line number. A row that does not parse is reported by file and line, and
//! the reading goes on, so that one round of fixes covers every problem.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use tokio::task::JoinHandle;

/// Rows of one file with their line numbers.
pub(super) struct Lines<R> {
    pub(super) file: String,
    pub(super) rows: Vec<(u64, R)>,
}

/// Reads `NAME.csv` or `NAME.ndjson` in `dir` (not both); `None` when neither is there.
pub(super) fn read_file<R: DeserializeOwned>(
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
        return read_csv(&csv_path, problems).map(Some);
    }
    if ndjson_path.exists() {
        return read_ndjson(&ndjson_path, problems).map(Some);
    }
    Ok(None)
}

/// A file read by `read_file_aside`, with the problems found in it.
type ReadAside<R> = anyhow::Result<(Option<Lines<R>>, Vec<String>)>;

/// `read_file` on a blocking thread of its own, so that a large file is read while
/// the others are checked and written.
pub(super) fn read_file_aside<R: DeserializeOwned + Send + 'static>(
    dir: PathBuf,
    name: &'static str,
) -> JoinHandle<ReadAside<R>> {
    tokio::task::spawn_blocking(move || {
        let mut problems = Vec::new();
        read_file(&dir, name, &mut problems).map(|file| (file, problems))
    })
}

fn read_csv<R: DeserializeOwned>(
    path: &Path,
    problems: &mut Vec<String>,
) -> anyhow::Result<Lines<R>> {
    let file = path.display().to_string();
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {file}"))?;
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
        let fields =
            MapDeserializer::<_, serde::de::value::Error>::new(headers.iter().zip(record.iter()));
        match R::deserialize(fields) {
            Ok(row) => rows.push((line, row)),
            Err(err) => problems.push(format!("{file}:{line}: {err}")),
        }
    }
    Ok(Lines { file, rows })
}

fn read_ndjson<R: DeserializeOwned>(
    path: &Path,
    problems: &mut Vec<String>,
) -> anyhow::Result<Lines<R>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {file}"))?;
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
    Ok(Lines { file, rows })
}
