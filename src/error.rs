//! The one error type of the HTTP layer. Every error leaves as an RFC 9457
//! `application/problem+json` body; server errors are logged and their text is never
//! returned to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A malformed request: unknown or invalid query parameter, bad cursor, bad JSON.
    #[error("bad request")]
    BadRequest(Vec<FieldError>),
    /// A well-formed body whose content is invalid.
    #[error("validation failed")]
    Unprocessable(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(String),
    /// No key, or a wrong or revoked one.
    #[error("unauthorized")]
    Unauthorized(&'static str),
    /// A valid key whose role does not allow this.
    #[error("forbidden")]
    Forbidden(&'static str),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("payload too large")]
    PayloadTooLarge,
    /// `If-Match` named a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the database is unavailable")]
    Unavailable,
    /// The instance is still loading what it answers from (see `/readyz`).
    #[error("warming up")]
    WarmingUp,
    /// The instance received a shutdown signal and is draining (see `/readyz`).
    #[error("shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Tables the triggers keep from the others: their checks guard the triggers' own
/// arithmetic, so a violation is a fault of the service, never of the request.
const DERIVED_TABLES: &[&str] = &[
    "stance_tally",
    "stance_tally_by_forum",
    "stance_tally_by_forum_all_kinds",
];

impl AppError {
    pub fn bad_param(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest(vec![FieldError::new(field, message)])
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unprocessable(vec![FieldError::new(field, message)])
    }

    /// Maps a violated database constraint to the client error it means; anything
    /// else stays a server error. Validation catches these first; this covers races
    /// and any path that reaches the database directly.
    pub fn from_db(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && !db
                .table()
                .is_some_and(|table| DERIVED_TABLES.contains(&table))
        {
            let constraint = db.constraint().unwrap_or_default();
            let conflict = |what: &str| Self::Conflict(format!("{what} exists already"));
            match constraint {
                "statement_pkey" => return conflict("A statement with this id"),
                "topic_pkey" => return conflict("A topic with this slug"),
                "country_pkey" => return conflict("A country with this code"),
                "country_iso2_key" => return conflict("A country with this iso2 code"),
                "source_statement_url_key" => return conflict("This source of the statement"),
                "signature_pkey" => return conflict("This country's participation"),
                _ => {}
            }
            if db.is_foreign_key_violation() || db.is_check_violation() {
                let (field, rule) = broken_rule(constraint);
                if field == "body" {
                    tracing::warn!(constraint, error = %db.message(), "a rule with no message of its own");
                }
                return Self::invalid(field, rule);
            }
        }
        Self::Database(err)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable | Self::WarmingUp | Self::ShuttingDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // The database is overloaded, restarting or down: a state, not a fault.
            Self::Database(err) if is_unavailable(err) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(err) if is_data_exception(err) => StatusCode::BAD_REQUEST,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            type_: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// What a `503` asks a client to wait before it tries again.
pub const RETRY_AFTER_SECONDS: &str = "1";

fn summarise(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = match self {
            Self::BadRequest(errors) | Self::Unprocessable(errors) => Problem {
                detail: summarise(&errors),
                errors,
                ..Problem::new(status, "")
            },
            Self::NotFound(what) => Problem::new(status, format!("{what} was not found")),
            Self::Unauthorized(detail) => {
                let mut response = Problem::new(status, detail).into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"signatories\""),
                );
                return response;
            }
            Self::Forbidden(detail) => Problem::new(status, detail),
            Self::UnsupportedMediaType(detail) => Problem::new(status, detail),
            Self::PayloadTooLarge => Problem::new(
                status,
                "The request body is larger than this server accepts.",
            ),
            Self::PreconditionFailed => Problem::new(
                status,
                "The resource changed since the ETag in If-Match was issued; fetch it again and reapply your change.",
            ),
            Self::Conflict(detail) => Problem::new(status, detail),
            Self::Unavailable => {
                Problem::new(status, "The database is not answering; try again shortly.")
            }
            Self::Database(err) if is_unavailable(&err) => {
                tracing::warn!(error = %err, "database unavailable");
                Problem::new(status, "The database is not answering; try again shortly.")
            }
            Self::WarmingUp => Problem::new(
                status,
                "The service is loading its alignment matrix; try again shortly.",
            ),
            Self::ShuttingDown => Problem::new(
                status,
                "This instance is shutting down; send new requests to another one.",
            ),
            Self::Database(err) if is_data_exception(&err) => Problem {
                errors: vec![FieldError::new(
                    "cursor",
                    "holds a value this API did not issue",
                )],
                ..Problem::new(
                    status,
                    "A value in the request could not be read; use page.next_cursor exactly as given.",
                )
            },
            Self::Database(err) => {
                tracing::error!(error = %err, "database error");
                Problem::new(status, "An internal error occurred; it has been logged.")
            }
            Self::Internal(err) => {
                tracing::error!(error = ?err, "internal error");
                Problem::new(status, "An internal error occurred; it has been logged.")
            }
        };
        problem.into_response()
    }
}

/// The field a client should look at, and the rule it broke, for each constraint a
/// write can break that the request's own checks cannot see first (the database's
/// wording and constraint names are never shown).
pub fn broken_rule(constraint: &str) -> (&'static str, &'static str) {
    match constraint {
        "statement_fits_signatures" => (
            "issued_on",
            "no longer fits the statement's date or kind: a recorded participation would start before it, or its role would not fit the kind",
        ),
        "signature_joined_after_issued" => ("joined_on", "is before the statement's date"),
        "signature_withdrawn_after_issued" => ("withdrawn_on", "is before the statement's date"),
        "signature_withdrawn_after_joined" => ("withdrawn_on", "is before joined_on"),
        "signature_role_fits_kind" => (
            "role",
            "does not fit the statement's kind: a vote takes vote_yes, vote_no or vote_abstain; a letter or statement takes the others",
        ),
        "signature_country_fkey" | "statement_lead_country_fkey" | "country_successor_fkey" => {
            ("country", "is not a known country code")
        }
        "signature_statement_fkey" | "source_statement_fkey" | "statement_topic_statement_fkey" => {
            ("statement", "does not exist (any more)")
        }
        "statement_topic_topic_fkey" => ("topics", "is not a known topic"),
        "country_successor_needs_end" => (
            "successor_code",
            "only a country that ended (ended_on) has a successor",
        ),
        "country_member_or_observer" => ("un_observer", "a UN member is not also an observer"),
        "country_code_format" => ("code", "must be three upper-case letters"),
        "country_numeric_format" => ("numeric_code", "must be three digits"),
        "country_name_not_blank" => ("name", "must not be blank"),
        "source_url_format" => ("url", "must be an http or https URL"),
        "signature_source_url_format" => ("source_url", "must be an http or https URL"),
        "statement_forum_not_blank" => ("forum", "must not be blank"),
        "statement_title_not_blank" => ("title", "must not be blank"),
        "statement_id_format" => (
            "id",
            "must be a slug of lower-case letters, digits and dashes",
        ),
        "statement_id_not_reserved" => ("id", "is a word the API's paths use"),
        "statement_reported_count_positive" => ("reported_count", "must not be negative"),
        "statement_stance_required" => (
            "stance",
            "is required for a letter or statement; only votes may have none",
        ),
        "country_iso2_format" => ("iso2", "must be two upper-case letters"),
        "country_iso3166_3_format" => ("iso3166_3", "must be four upper-case letters"),
        "topic_slug_format" => (
            "slug",
            "must be a slug of lower-case letters, digits and dashes",
        ),
        "topic_name_not_blank" => ("name", "must not be blank"),
        _ => ("body", "breaks a rule of the record"),
    }
}

/// Whether an error says the database cannot serve right now rather than that a
/// query is wrong: no connection came free in time, the connection broke, or the
/// server is shutting down, restarting, out of resources, or cancelled the statement
/// (its timeout, a lock wait's timeout).
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 53: insufficient resources; 57P: operator
            // intervention (shutdown, crash, cannot connect now); 57014: query
            // cancelled; 55P03: lock not available; 40001: a read on a replica
            // cancelled by a replication conflict (a serialization failure).
            ["08", "53", "57P"]
                .iter()
                .any(|class| code.starts_with(class))
                || code == "57014"
                || code == "55P03"
                || code == "40001"
        }),
        _ => false,
    }
}

/// SQLSTATE class 22 (data exception: a malformed date, number…). Every value a client
/// sends is checked before it reaches SQL except a cursor's sort key, which the
/// queries cast; a tampered cursor is the client's error, not the server's.
fn is_data_exception(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code.starts_with("22"))
}

pub type AppResult<T> = Result<T, AppError>;
