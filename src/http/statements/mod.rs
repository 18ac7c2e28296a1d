//! Statements: the list with its filters, one statement with its signatories and
//! sources, a statement's signatories as a list of their own, and the writes that
//! correct and extend them. The shapes and the SQL that loads them live here; the
//! handlers in `read` and `write`.

mod read;
mod write;

pub(super) use read::StatementFilter;

use axum::Router;
use axum::routing::{delete, get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use sqlx::types::Json as SqlJson;

use super::AppState;
use super::countries::Country;
use crate::domain::{EffectiveStance, Role, Slug, Stance, StatementKind};
use crate::error::{AppError, AppResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/statements",
            get(read::list_statements).post(write::create_statement),
        )
        .route(
            "/v1/statements/{id}",
            get(read::get_statement)
                .patch(write::update_statement)
                .delete(write::delete_statement),
        )
        .route(
            "/v1/statements/{id}/signatories",
            get(read::list_signatories),
        )
        .route(
            "/v1/statements/{id}/signatories/{code}",
            put(write::put_signatory).delete(write::delete_signatory),
        )
        .route("/v1/statements/{id}/sources", post(write::add_source))
        .route(
            "/v1/statements/{id}/sources/{source_id}",
            delete(write::delete_source),
        )
}

/// The columns of [`Statement`], for any query over `statement s`.
pub const STATEMENT_COLUMNS: &str = "s.id, s.title, s.kind, s.forum, s.session, s.issued_on, s.un_symbol, \
    s.stance, s.summary, s.notes, s.reported_count, s.list_complete, s.signatory_count, \
    s.participant_count, s.stance_counts, s.created_at, s.updated_at, s.version, \
    (select to_jsonb(c) from country c where c.code = s.lead_country) as lead_country, \
    array(select t.topic_slug from statement_topic t where t.statement_id = s.id order by t.topic_slug) as topics";

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

/// The flat CSV form of [`Statement`].
#[derive(Debug, Default, Serialize)]
pub(super) struct StatementCsv {
    id: String,
    title: String,
    kind: String,
    forum: String,
    session: Option<String>,
    issued_on: String,
    un_symbol: Option<String>,
    stance: Option<String>,
    lead_country: Option<String>,
    topics: String,
    reported_count: Option<i32>,
    list_complete: bool,
    signatory_count: i32,
    participant_count: i32,
    critical: i64,
    supportive: i64,
    neutral: i64,
    abstain: i64,
    withdrawn: i64,
    yes: i64,
    no: i64,
    summary: String,
    notes: String,
}

impl From<Statement> for StatementCsv {
    fn from(s: Statement) -> Self {
        let counts = s.stance_counts.0;
        Self {
            id: s.id,
            title: s.title,
            kind: s.kind.as_str().to_owned(),
            forum: s.forum,
            session: s.session,
            issued_on: s.issued_on.to_string(),
            un_symbol: s.un_symbol,
            stance: s.stance.map(|x| x.as_str().to_owned()),
            lead_country: s.lead_country.map(|c| c.0.code),
            topics: s.topics.join(";"),
            reported_count: s.reported_count,
            list_complete: s.list_complete,
            signatory_count: s.signatory_count,
            participant_count: s.participant_count,
            critical: counts.critical,
            supportive: counts.supportive,
            neutral: counts.neutral,
            abstain: counts.abstain,
            withdrawn: counts.withdrawn,
            yes: counts.yes,
            no: counts.no,
            summary: s.summary,
            notes: s.notes,
        }
    }
}

/// A country's participation, as embedded in a statement or listed on its own.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Signatory {
    #[sqlx(flatten)]
    pub country: Country,
    pub role: Role,
    pub effective_stance: EffectiveStance,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    /// When the participation took effect: `joined_on`, else the statement's date.
    pub effective_on: NaiveDate,
    pub source_url: Option<String>,
    pub note: String,
}

#[derive(Debug, Default, Serialize)]
pub(super) struct SignatoryCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    role: String,
    effective_stance: String,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    effective_on: String,
    source_url: Option<String>,
    note: String,
}

impl From<Signatory> for SignatoryCsv {
    fn from(s: Signatory) -> Self {
        let country = s.country;
        Self {
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            role: s.role.as_str().to_owned(),
            effective_stance: s.effective_stance.as_str().to_owned(),
            joined_on: s.joined_on,
            withdrawn_on: s.withdrawn_on,
            effective_on: s.effective_on.to_string(),
            source_url: s.source_url,
            note: s.note,
        }
    }
}

/// The country's own columns rather than `to_jsonb(c)`: a statement embeds a hundred or
/// more, and building each as JSON in the database and parsing it again in the service
/// cost both more than the columns themselves.
pub(super) const SIGNATORY_COLUMNS: &str = "c.code, c.iso2, c.numeric_code, c.iso3166_3, c.name, \
    c.official_name, c.common_name, c.region, c.subregion, c.intermediate_region, c.un_member, \
    c.un_observer, c.un_admission_date, c.ended_on, c.successor_code, \
    p.role, p.effective_stance, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url, p.note";

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Source {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub publisher: String,
    pub accessed_on: Option<NaiveDate>,
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
pub(super) async fn load_statement(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> AppResult<Statement> {
    Slug::parse(id).map_err(|_| not_found(id))?;
    let lock = if lock { " for update of s" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {STATEMENT_COLUMNS} from statement s where s.id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))
}

pub(super) async fn load_detail(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> AppResult<StatementDetail> {
    let statement = load_statement(conn, id, lock).await?;
    let signatories = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SIGNATORY_COLUMNS} from participation p join country c on c.code = p.country_code \
         where p.statement_id = $1 order by c.name, c.code"
    )))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let sources = sqlx::query_as(
        "select id, url, title, publisher, accessed_on from source where statement_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(StatementDetail {
        statement,
        signatories,
        sources,
    })
}
