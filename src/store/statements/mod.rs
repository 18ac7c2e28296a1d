//! Statements: their rows with the counts the triggers keep, one statement with its
//! signatories and sources, the filtered list (`filter`), and their writes (`write`).

mod filter;
mod write;

pub use filter::{StatementFilter, StatementOrder, list};
pub use write::{StatementFields, delete, insert, update};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::types::Json as SqlJson;
use sqlx::{FromRow, PgConnection, PgPool, Row};

use super::countries::Country;
use super::signatures::{self, Signatory};
use super::sources::Source;
use crate::domain::{Slug, Stance, StatementKind};
use crate::error::{AppError, AppResult};

/// The columns of [`Statement`], for any query over `statement s` joined to its lead
/// country as `lc` ([`LEAD_COUNTRY_JOIN`]); its counts as they were on `as_of` when given.
/// The lead country comes as columns of its own rather than as JSON built per row.
pub fn statement_columns(as_of: Option<NaiveDate>) -> String {
    format!(
        "s.id, s.title, s.kind, s.forum, s.session, s.issued_on, s.un_symbol, \
         s.stance, s.summary, s.notes, s.reported_count, s.list_complete, {counts}, \
         s.created_at, s.updated_at, s.version, \
         lc.code as lead_code, lc.iso2 as lead_iso2, lc.numeric_code as lead_numeric_code, \
         lc.iso3166_3 as lead_iso3166_3, lc.name as lead_name, lc.official_name as lead_official_name, \
         lc.common_name as lead_common_name, lc.region as lead_region, lc.subregion as lead_subregion, \
         lc.intermediate_region as lead_intermediate_region, lc.un_member as lead_un_member, \
         lc.un_observer as lead_un_observer, lc.un_admission_date as lead_un_admission_date, \
         lc.ended_on as lead_ended_on, lc.successor_code as lead_successor_code, \
         array(select t.topic_slug from statement_topic t where t.statement_id = s.id order by t.topic_slug) as topics",
        counts = super::as_of::statement_counts(as_of)
    )
}

/// Joins `statement s` to its lead country, as [`statement_columns`] reads it.
pub const LEAD_COUNTRY_JOIN: &str = " left join country lc on lc.code = s.lead_country";

/// Countries per effective stance, every stance present (zero when none).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StanceCounts {
    pub critical: i64,
    pub supportive: i64,
    pub neutral: i64,
    pub abstain: i64,
    pub withdrawn: i64,
    pub yes: i64,
    pub no: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub id: String,
    pub title: String,
    pub kind: StatementKind,
    pub forum: String,
    pub session: Option<String>,
    pub issued_on: NaiveDate,
    pub un_symbol: Option<String>,
    pub stance: Option<Stance>,
    pub lead_country: Option<Country>,
    pub topics: Vec<String>,
    pub summary: String,
    pub notes: String,
    /// As published; compare with `participant_count` to see partial lists.
    pub reported_count: Option<i32>,
    pub list_complete: bool,
    /// Countries taking part now (withdrawn ones excluded).
    pub signatory_count: i32,
    /// Rows held, withdrawn ones included.
    pub participant_count: i32,
    pub stance_counts: SqlJson<StanceCounts>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// Full-text relevance, where a list was searched; a sort key, not shown.
    #[serde(skip)]
    pub rank: f32,
}

impl<'r> FromRow<'r, PgRow> for Statement {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let lead_code: Option<String> = row.try_get("lead_code")?;
        let lead_country = match lead_code {
            None => None,
            Some(code) => Some(Country {
                code,
                iso2: row.try_get("lead_iso2")?,
                numeric_code: row.try_get("lead_numeric_code")?,
                iso3166_3: row.try_get("lead_iso3166_3")?,
                name: row.try_get("lead_name")?,
                official_name: row.try_get("lead_official_name")?,
                common_name: row.try_get("lead_common_name")?,
                region: row.try_get("lead_region")?,
                subregion: row.try_get("lead_subregion")?,
                intermediate_region: row.try_get("lead_intermediate_region")?,
                un_member: row.try_get("lead_un_member")?,
                un_observer: row.try_get("lead_un_observer")?,
                un_admission_date: row.try_get("lead_un_admission_date")?,
                ended_on: row.try_get("lead_ended_on")?,
                successor_code: row.try_get("lead_successor_code")?,
            }),
        };
        Ok(Self {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            kind: row.try_get("kind")?,
            forum: row.try_get("forum")?,
            session: row.try_get("session")?,
            issued_on: row.try_get("issued_on")?,
            un_symbol: row.try_get("un_symbol")?,
            stance: row.try_get("stance")?,
            lead_country,
            topics: row.try_get("topics")?,
            summary: row.try_get("summary")?,
            notes: row.try_get("notes")?,
            reported_count: row.try_get("reported_count")?,
            list_complete: row.try_get("list_complete")?,
            signatory_count: row.try_get("signatory_count")?,
            participant_count: row.try_get("participant_count")?,
            stance_counts: row.try_get("stance_counts")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            version: row.try_get("version")?,
            rank: match row.try_get("rank") {
                Err(sqlx::Error::ColumnNotFound(_)) => 0.0,
                rank => rank?,
            },
        })
    }
}

/// A statement with everything about it: what `GET /v1/statements/{id}` shows.
#[derive(Debug, Serialize)]
pub struct StatementDetail {
    #[serde(flatten)]
    pub statement: Statement,
    pub signatories: Vec<Signatory>,
    pub sources: Vec<Source>,
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound(format!("Statement {id:?}"))
}

/// The statement, if it exists. `lock` takes its row lock for a write.
pub async fn load(conn: &mut PgConnection, id: &str, lock: bool) -> AppResult<Statement> {
    Slug::parse(id).map_err(|_| not_found(id))?;
    let lock = if lock { " for update of s" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from statement s{LEAD_COUNTRY_JOIN} where s.id = $1{lock}",
        statement_columns(None)
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))
}

/// The statement with its signatories and sources; `lock` takes its row lock for a write.
pub async fn load_detail(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> AppResult<StatementDetail> {
    Slug::parse(id).map_err(|_| not_found(id))?;
    detail(conn, id, None, lock)
        .await?
        .ok_or_else(|| not_found(id))
}

/// The statement with its signatories and sources as they stood on `as_of`; a 404 for a
/// statement issued after it.
pub async fn detail_as_of(
    conn: &mut PgConnection,
    id: &str,
    as_of: Option<NaiveDate>,
) -> AppResult<StatementDetail> {
    Slug::parse(id).map_err(|_| not_found(id))?;
    detail(conn, id, as_of, false)
        .await?
        .ok_or_else(|| match as_of {
            Some(day) => AppError::NotFound(format!("Statement {id:?} as of {day}")),
            None => not_found(id),
        })
}

/// A statement's detail in one query, so that its counts and its list come from one
/// snapshot without a transaction around them: a row per signatory in name order (one
/// row with no signatory for a statement that has none). Only the first row carries the
/// statement's columns and its sources; the others leave them null, since sending them
/// again with every signatory cost more than the list itself.
async fn detail(
    conn: &mut PgConnection,
    id: &str,
    as_of: Option<NaiveDate>,
    lock: bool,
) -> AppResult<Option<StatementDetail>> {
    let issued_by = match as_of {
        Some(day) => format!(" and s.issued_on <= {}", super::as_of::date(day)),
        None => String::new(),
    };
    let lock = if lock { " for update of s" } else { "" };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "with s as materialized (\
             select 1::bigint as n, {}, \
                    (select coalesce(jsonb_agg(o order by o.id), '[]') \
                     from (select id, url, title, publisher, accessed_on from source \
                           where statement_id = s.id) o) as sources \
             from statement s{LEAD_COUNTRY_JOIN} where s.id = $1{issued_by}{lock}), \
         l as (\
             select row_number() over (order by c.name, c.code) as n, {} \
             from {} p join country c on c.code = p.country_code \
             where p.statement_id = (select id from s)) \
         select * from s full join l using (n) order by n",
        statement_columns(as_of),
        signatures::SIGNATORY_COLUMNS,
        super::as_of::participations(as_of),
    )))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let statement = Statement::from_row(first)?;
    let SqlJson(sources) = first.try_get("sources")?;
    let signatories = rows
        .iter()
        .filter(|row| matches!(row.try_get::<Option<&str>, _>("code"), Ok(Some(_))))
        .map(Signatory::from_row)
        .collect::<Result<_, _>>()?;
    Ok(Some(StatementDetail {
        statement,
        signatories,
        sources,
    }))
}

/// Two statements by id, each a 404 when missing.
pub async fn load_pair(db: &PgPool, a: &Slug, b: &Slug) -> AppResult<(Statement, Statement)> {
    let mut statements: Vec<Statement> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from statement s{LEAD_COUNTRY_JOIN} where s.id in ($1, $2)",
        statement_columns(None)
    )))
    .bind(a.as_str())
    .bind(b.as_str())
    .fetch_all(db)
    .await?;
    let mut take = |id: &Slug| {
        let at = statements.iter().position(|s| s.id == id.as_str());
        at.map(|i| statements.swap_remove(i))
            .ok_or_else(|| not_found(id.as_str()))
    };
    Ok((take(a)?, take(b)?))
}
