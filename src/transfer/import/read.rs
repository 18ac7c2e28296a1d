//! Reading the input files: each table from `NAME.csv` or `NAME.ndjson`, every row
//! with its line number. A row that does not parse is reported by file and line, and
//! the reading goes on, so that one round of fixes covers every problem.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;

/// Rows of one file with their line numbers.
pub(super) struct Lines<R> {
    pub(super) file: String,
    pub(super) rows: Vec<(u64, R)>,
}

/// A row with its line number, or the problem with it as `file:line: message`.
pub(super) type Row<R> = Result<(u64, R), String>;

/// The rows of one file, read one at a time.
pub(super) type Rows<R> = Box<dyn Iterator<Item = Row<R>> + Send>;

/// `NAME.csv` or `NAME.ndjson` in `dir` (not both); `None` when neither is there.
pub(super) fn find_file(dir: &Path, name: &str) -> anyhow::Result<Option<PathBuf>> {
    let csv_path = dir.join(format!("{name}.csv"));
    let ndjson_path = dir.join(format!("{name}.ndjson"));
    match (csv_path.exists(), ndjson_path.exists()) {
        (true, true) => bail!(
            "both {name}.csv and {name}.ndjson are in {}; keep one",
            dir.display()
        ),
        (true, false) => Ok(Some(csv_path)),
        (false, true) => Ok(Some(ndjson_path)),
        (false, false) => Ok(None),
    }
}

/// Reads the whole file of table `name` in `dir`; `None` when there is none.
pub(super) fn read_file<R: DeserializeOwned + Send + 'static>(
    dir: &Path,
    name: &str,
    problems: &mut Vec<String>,
) -> anyhow::Result<Option<Lines<R>>> {
    let Some(path) = find_file(dir, name)? else {
        return Ok(None);
    };
    let mut rows = Vec::new();
    for row in read_rows(&path)? {
        match row {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(problem),
        }
    }
    Ok(Some(Lines {
        file: path.display().to_string(),
        rows,
    }))
}

/// The rows of a `.csv` or `.ndjson` file, parsed as they are read.
pub(super) fn read_rows<R: DeserializeOwned + Send + 'static>(
    path: &Path,
) -> anyhow::Result<Rows<R>> {
    let file = path.display().to_string();
    let opened = File::open(path).with_context(|| format!("reading {file}"))?;
    if path.extension().is_some_and(|e| e == "csv") {
        csv_rows(file, opened)
    } else {
        Ok(ndjson_rows(file, opened))
    }
}

/// How many lines `path` has: at least as many as it has rows.
pub(super) fn count_lines(path: &Path) -> anyhow::Result<u64> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0; 1 << 20];
    let mut lines = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(lines);
        }
        lines += buffer[..read].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

fn csv_rows<R: DeserializeOwned + Send + 'static>(
    file: String,
    opened: File,
) -> anyhow::Result<Rows<R>> {
    let mut reader = csv::Reader::from_reader(opened);
    let headers = reader
        .headers()
        .with_context(|| format!("reading {file}"))?
        .clone();
    Ok(Box::new(reader.into_records().map(move |record| {
        let record = record.map_err(|err| {
            let line = err.position().map_or(0, |p| p.line());
            format!("{file}:{line}: {err}")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        // Every field as a string (the csv crate's own deserializer would read a
        // code like "004" as the number 4).
        let fields =
            MapDeserializer::<_, serde::de::value::Error>::new(headers.iter().zip(record.iter()));
        R::deserialize(fields)
            .map(|row| (line, row))
            .map_err(|err| format!("{file}:{line}: {err}"))
    })))
}

fn ndjson_rows<R: DeserializeOwned + Send + 'static>(file: String, opened: File) -> Rows<R> {
    let lines = BufReader::new(opened).lines().zip(1..);
    Box::new(lines.filter_map(move |(text, line)| {
        match text {
            Err(err) => Some(Err(format!("{file}:{line}: {err}"))),
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(
                serde_json::from_str::<R>(&text)
                    .map(|row| (line, row))
                    .map_err(|err| format!("{file}:{line}: {err}")),
            ),
        }
    }))
}
