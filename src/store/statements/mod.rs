//! Statements: their rows with the counts the triggers keep, one statement with its
//! signatories and sources, the filtered list (`filter`), and their writes (`write`).

mod filter;
mod write;

pub use filter::{StatementFilter, StatementOrder, list};
pub use write::{StatementFields, delete, insert, update};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json as SqlJson;
use sqlx::{PgConnection, PgPool};

use super::countries::Country;
use super::signatures::{self, Signatory};
use super::sources::{self, Source};
use crate::domain::{Slug, Stance, StatementKind};
use crate::error::{AppError, AppResult};

/// The columns of [`Statement`], for any query over `statement s`; its counts as they
/// were on `as_of` when given.
pub fn statement_columns(as_of: Option<NaiveDate>) -> String {
    format!(
        "s.id, s.title, s.kind, s.forum, s.session, s.issued_on, s.un_symbol, \
         s.stance, s.summary, s.notes, s.reported_count, s.list_complete, {counts}, \
         s.created_at, s.updated_at, s.version, \
         (select to_jsonb(c) from country c where c.code = s.lead_country) as lead_country, \
         array(select t.topic_slug from statement_topic t where t.statement_id = s.id order by t.topic_slug) as topics",
        counts = super::as_of::statement_counts(as_of)
    )
}

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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Statement {
    pub id: String,
    pub title: String,
    pub kind: StatementKind,
    pub forum: String,
    pub session: Option<String>,
    pub issued_on: NaiveDate,
    pub un_symbol: Option<String>,
    pub stance: Option<Stance>,
    pub lead_country: Option<SqlJson<Country>>,
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
    #[sqlx(default)]
    pub rank: f32,
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
        "select {} from statement s where s.id = $1{lock}",
        statement_columns(None)
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))
}

/// The statement with its signatories and sources.
pub async fn load_detail(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> AppResult<StatementDetail> {
    let statement = load(conn, id, lock).await?;
    let signatories = signatures::of_statement(conn, id, None).await?;
    let sources = sources::of_statement(conn, id).await?;
    Ok(StatementDetail {
        statement,
        signatories,
        sources,
    })
}

/// The statement with its signatories and sources as they stood on `as_of`; a 404 for a
/// statement issued after it.
pub async fn detail_as_of(
    conn: &mut PgConnection,
    id: &str,
    as_of: Option<NaiveDate>,
) -> AppResult<StatementDetail> {
    let Some(day) = as_of else {
        return load_detail(conn, id, false).await;
    };
    Slug::parse(id).map_err(|_| not_found(id))?;
    let statement = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from statement s where s.id = $1 and s.issued_on <= $2",
        statement_columns(as_of)
    )))
    .bind(id)
    .bind(day)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("Statement {id:?} as of {day}")))?;
    let signatories = signatures::of_statement(conn, id, as_of).await?;
    let sources = sources::of_statement(conn, id).await?;
    Ok(StatementDetail {
        statement,
        signatories,
        sources,
    })
}

/// Two statements by id, each a 404 when missing.
pub async fn load_pair(db: &PgPool, a: &Slug, b: &Slug) -> AppResult<(Statement, Statement)> {
    let mut statements: Vec<Statement> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from statement s where s.id in ($1, $2)",
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
