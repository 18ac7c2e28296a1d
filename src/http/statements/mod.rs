//! Statements: the list with its filters, one statement with its signatories and
//! sources, a statement's signatories as a list of their own, and the writes that
//! correct and extend them. Their CSV shapes live here; the handlers in `read` and
//! `write`, the checks of what editors send in `input`.

mod input;
mod read;
mod write;

use axum::Router;
use axum::routing::{delete, get, post, put};
use chrono::NaiveDate;
use serde::Serialize;

use super::AppState;
use super::fields::{Item, flattened};
use crate::store::signatures::Signatory;
use crate::store::statements::{Statement, StatementDetail};

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

impl Item for Statement {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "title",
        "kind",
        "forum",
        "session",
        "issued_on",
        "un_symbol",
        "stance",
        "lead_country",
        "topics",
        "summary",
        "notes",
        "reported_count",
        "list_complete",
        "signatory_count",
        "participant_count",
        "stance_counts",
        "created_at",
        "updated_at",
        "version",
    ];
}

/// A statement's own fields, then its signatories and sources.
impl Item for StatementDetail {
    const FIELDS: &'static [&'static str] =
        &flattened::<22>(Statement::FIELDS, &["signatories", "sources"]);
}

impl Item for Signatory {
    const FIELDS: &'static [&'static str] = &[
        "country",
        "role",
        "effective_stance",
        "joined_on",
        "withdrawn_on",
        "effective_on",
        "source_url",
        "note",
    ];
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
            lead_country: s.lead_country.map(|c| c.code),
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
