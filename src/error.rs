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
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the database is unavailable")]
    Unavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_param(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response()
    }
}

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
            Self::Conflict(detail) => Problem::new(status, detail),
            Self::Unavailable => {
                Problem::new(status, "The database is not answering; try again shortly.")
            }
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

pub type AppResult<T> = Result<T, AppError>;
