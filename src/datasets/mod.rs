//! Producers of files in the import layout (see [`crate::transfer`]): the UN General
//! Assembly roll calls (`signatories unvotes`) and synthetic data at scale
//! (`signatories generate`). Both only write files; `signatories import` loads them.

mod countries;
mod synthetic;
mod unvotes;

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;

pub use synthetic::{GenerateOptions, GenerateReport, generate};
pub use unvotes::{UnvotesReport, convert_unvotes};

/// A CSV file in `dir`, its header taken from the first row written.
fn csv_file(dir: &Path, name: &str) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let path = dir.join(name);
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(
        1 << 20,
        file,
    )))
}
