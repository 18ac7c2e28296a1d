//! Strict JSON request bodies: the right content type (415), well-formed JSON (400,
//! saying where it broke), and no unknown or mistyped fields (422, naming the field).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, FieldError};

pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let is_json = content_type == "application/json"
            || (content_type.starts_with("application/") && content_type.ends_with("+json"));
        if !is_json {
            return Err(AppError::UnsupportedMediaType(format!(
                "The body must be JSON (Content-Type: application/json), not {:?}.",
                content_type
            )));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        parse(&bytes).map(Self)
    }
}

/// The first string (or key) holding U+0000, named as a field; PostgreSQL text cannot
/// store it, so such a body is refused before it reaches the database.
fn find_nul(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let field = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            if name.contains('\0') {
                Some(field)
            } else {
                find_nul(item, field)
            }
        }),
        _ => None,
    }
}

/// Parses a JSON document into `T`, mapping serde's errors to client errors.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if let Ok(document) = serde_json::from_slice::<Value>(bytes)
        && let Some(field) = find_nul(&document, String::new())
    {
        let field = if field.is_empty() {
            "body".to_owned()
        } else {
            field
        };
        return Err(AppError::invalid(field, super::params::NUL_MESSAGE));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let inner = err.inner();
        if inner.is_data() {
            let path = err.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            AppError::Unprocessable(vec![FieldError::new(field, inner.to_string())])
        } else {
            AppError::bad_param(
                "body",
                format!(
                    "malformed JSON at line {} column {}: {}",
                    inner.line(),
                    inner.column(),
                    inner
                ),
            )
        }
    })?;
    // Text after the document is not silently dropped.
    deserializer
        .end()
        .map_err(|err| AppError::bad_param("body", format!("malformed JSON: {err}")))?;
    Ok(value)
}

/// Applies a JSON merge patch (RFC 7396) to the editable form of a resource and reads
/// the result back, strictly. Fields in `fixed` may be repeated but not changed.
pub fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: &Value,
    fixed: &[&str],
) -> Result<T, AppError> {
    let Value::Object(fields) = patch else {
        return Err(AppError::invalid(
            "body",
            "a merge patch is a JSON object of the fields to change",
        ));
    };
    // Merging drops a field set to null, so the patch's own fields are checked first:
    // `{"bogus": null}` is an unknown field, not an empty change.
    parse::<T>(&serde_json::to_vec(patch).expect("JSON serialises"))?;
    let mut merged = serde_json::to_value(current).expect("a resource serialises");
    let fixed_errors: Vec<FieldError> = fields
        .iter()
        .filter(|(name, value)| {
            fixed.contains(&name.as_str()) && merged.get(name.as_str()) != Some(value)
        })
        .map(|(name, _)| FieldError::new(name.as_str(), "cannot be changed by a patch"))
        .collect();
    if !fixed_errors.is_empty() {
        return Err(AppError::Unprocessable(fixed_errors));
    }
    json_patch::merge(&mut merged, patch);
    parse(&serde_json::to_vec(&merged).expect("JSON serialises"))
}
