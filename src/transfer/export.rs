//! `signatories export`: the whole database in the import layout, streamed row by row.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use futures::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

use super::rows::{CountryRow, SignatoryRow, SourceRow, StatementRow, TopicRow};
use crate::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }
}

/// Rows are selected as JSON objects whose fields are the file's columns, as text.
const COUNTRIES: &str = "select jsonb_build_object(
        'code', code, 'iso2', coalesce(iso2, ''), 'numeric', coalesce(numeric_code, ''),
        'iso3166_3', coalesce(iso3166_3, ''), 'name', name, 'official_name', coalesce(official_name, ''),
        'common_name', coalesce(common_name, ''), 'region', coalesce(region, ''),
        'subregion', coalesce(subregion, ''), 'intermediate_region', coalesce(intermediate_region, ''),
        'un_member', un_member::text, 'un_observer', un_observer::text,
        'un_admission_date', coalesce(un_admission_date::text, ''), 'ended_on', coalesce(ended_on::text, ''),
        'successor_code', coalesce(successor_code, ''))
    from country order by code";

const TOPICS: &str =
    "select jsonb_build_object('slug', slug, 'name', name, 'description', description)
    from topic order by slug";

const STATEMENTS: &str = "select jsonb_build_object(
        'slug', s.id, 'title', s.title, 'kind', s.kind::text, 'forum', s.forum,
        'session', coalesce(s.session, ''), 'date', s.issued_on::text, 'un_symbol', coalesce(s.un_symbol, ''),
        'stance', coalesce(s.stance::text, ''), 'lead_country', coalesce(s.lead_country, ''),
        'reported_count', coalesce(s.reported_count::text, ''), 'list_complete', s.list_complete::text,
        'source_urls', coalesce((select string_agg(url, ' ' order by id) from source where statement_id = s.id), ''),
        'notes', s.notes, 'summary', s.summary,
        'topics', coalesce((select string_agg(topic_slug, ' ' order by topic_slug) from statement_topic where statement_id = s.id), ''))
    from statement s order by s.id";

const SIGNATORIES: &str = "select jsonb_build_object(
        'statement_slug', g.statement_id, 'country_iso3', g.country_code, 'country_name', c.name,
        'role', g.role::text, 'joined_on', coalesce(g.joined_on::text, ''),
        'withdrawn_on', coalesce(g.withdrawn_on::text, ''), 'source_url', coalesce(g.source_url, ''), 'note', g.note)
    from signature g join country c on c.code = g.country_code order by g.statement_id, g.country_code";

const SOURCES: &str = "select jsonb_build_object(
        'statement_slug', statement_id, 'url', url, 'title', title, 'publisher', publisher,
        'accessed_on', coalesce(accessed_on::text, ''))
    from source order by statement_id, id";

/// How many rows each file got.
#[derive(Debug, Default, Serialize)]
pub struct ExportCounts {
    pub countries: u64,
    pub topics: u64,
    pub statements: u64,
    pub signatories: u64,
    pub sources: u64,
}

pub async fn export(db: &PgPool, dir: &Path, format: ExportFormat) -> anyhow::Result<ExportCounts> {
    std::fs::create_dir_all(dir)?;
    Ok(ExportCounts {
        countries: write_file::<CountryRow>(db, dir, "countries", COUNTRIES, format).await?,
        topics: write_file::<TopicRow>(db, dir, "topics", TOPICS, format).await?,
        statements: write_file::<StatementRow>(db, dir, "statements", STATEMENTS, format).await?,
        signatories: write_file::<SignatoryRow>(db, dir, "signatories", SIGNATORIES, format)
            .await?,
        sources: write_file::<SourceRow>(db, dir, "sources", SOURCES, format).await?,
    })
}

/// One output file, CSV or NDJSON.
enum RowWriter {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Ndjson(BufWriter<File>),
}

impl RowWriter {
    fn create<R: Serialize + Default>(path: &Path, format: ExportFormat) -> anyhow::Result<Self> {
        let mut file = BufWriter::new(File::create(path)?);
        Ok(match format {
            ExportFormat::Csv => {
                // The header is written even for an empty table, so the file stays importable.
                file.write_all(&crate::tabular::csv_header::<R>())?;
                Self::Csv(Box::new(
                    csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(file),
                ))
            }
            ExportFormat::Ndjson => Self::Ndjson(file),
        })
    }

    fn write<R: Serialize>(&mut self, row: &R) -> anyhow::Result<()> {
        match self {
            Self::Csv(writer) => writer.serialize(row)?,
            Self::Ndjson(writer) => {
                serde_json::to_writer(&mut *writer, row)?;
                writer.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Self::Csv(mut writer) => writer.flush()?,
            Self::Ndjson(mut writer) => writer.flush()?,
        }
        Ok(())
    }
}

async fn write_file<R: Serialize + DeserializeOwned + Default + Send + Unpin + 'static>(
    db: &PgPool,
    dir: &Path,
    name: &str,
    sql: &'static str,
    format: ExportFormat,
) -> anyhow::Result<u64> {
    let mut writer =
        RowWriter::create::<R>(&dir.join(format!("{name}.{}", format.extension())), format)?;
    let mut rows = sqlx::query_scalar::<_, sqlx::types::Json<R>>(sql).fetch(db);
    let progress = Progress::rows(format!("export {name}"));
    let mut count = 0;
    while let Some(sqlx::types::Json(row)) = rows.try_next().await? {
        writer.write(&row)?;
        count += 1;
        progress.inc(1);
    }
    writer.finish()?;
    Ok(count)
}
