//! Bulk import and export: the admin's path for seeding and correcting at scale.
//!
//! The file layout is the one of `data/xinjiang/` (statements.csv, signatories.csv),
//! extended with optional files and columns so that an export holds the whole
//! database: countries, topics, statements (+ `summary`, `topics` columns),
//! signatories (+ `note`) and sources. Each file may also be NDJSON (`.ndjson`), one
//! object per line with the same field names.

mod export;
mod import;
pub(crate) mod rows;

pub use export::{ExportCounts, ExportFormat, export};
pub use import::{ImportOptions, ImportReport, InvalidRows, PART_ROWS, Tally, import};
