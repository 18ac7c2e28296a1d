//! HTTP caching for every public GET: a strong `ETag`, `304 Not Modified` on a
//! matching `If-None-Match` or an unchanged `If-Modified-Since`, `Cache-Control` and
//! `Last-Modified`.
//!
//! `If-Modified-Since` is weighed against `Last-Modified`, the time of the data
//! version, when the request has no `If-None-Match`.
//!
//! The ETag is derived from the data version (a counter every committed write moves,
//! see migrations/…_data_version.sql) and the normalised request, so a conditional
//! request is answered without running the request's own query. Responses are
//! deterministic for a given version and request, which is what makes the tag strong.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::response_cache::{CachedResponse, MAX_ENTRY_BYTES, ResponseCache};

/// The data as a response depends on it: its version, when it changed, and which copy
/// of the data the version counts in (`data_epoch()` and the counter row's xmin).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DataVersion {
    pub version: i64,
    pub changed_at: DateTime<Utc>,
    pub epoch: String,
    /// The counter row's own version (`xmin`): with `version`, which row a replica
    /// must have replayed to serve the request (`replicas`).
    pub xmin: String,
}

pub async fn data_version(db: &sqlx::PgPool) -> Result<DataVersion, sqlx::Error> {
    sqlx::query_as(
        "select version, changed_at, data_epoch() || '.' || xmin::text as epoch, xmin::text as xmin \
         from data_version",
    )
    .fetch_one(db)
    .await
}

fn entity_tag(data: &DataVersion, request: &Request) -> String {
    let mut hasher = Sha256::new();
    hasher.update(data.epoch.as_bytes());
    hasher.update([0]);
    hasher.update(data.version.to_be_bytes());
    hasher.update(request.uri().path().as_bytes());
    hasher.update([0]);
    hasher.update(request.uri().query().unwrap_or("").as_bytes());
    hasher.update([0]);
    // The representation depends on Accept (JSON or CSV).
    if let Some(accept) = request.headers().get(header::ACCEPT) {
        hasher.update(accept.as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A strong ETag of a representation's bytes.
pub fn content_tag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A JSON response tagged with the ETag of its own bytes. Single resources use it:
/// the same tag serves `If-None-Match` on reads and `If-Match` on writes.
pub fn tagged_json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("a response serialises");
    let etag = content_tag(&body);
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

/// A representation that changes only with the binary (the OpenAPI document, the
/// documentation page and its files), tagged once with the hash of its bytes.
pub struct Fixed {
    content_type: HeaderValue,
    etag: HeaderValue,
    body: Bytes,
}

impl Fixed {
    pub fn new(content_type: HeaderValue, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let etag = HeaderValue::from_str(&content_tag(&body)).expect("a hex tag is a header value");
        Self {
            content_type,
            etag,
            body,
        }
    }

    /// `304 Not Modified` when `If-None-Match` lists the tag (or is `*`: the
    /// representation always exists), else the bytes; either way with the tag and
    /// `Cache-Control`.
    pub fn respond(&self, request: &HeaderMap, max_age: u32) -> Response {
        let validators = [
            (header::ETAG, self.etag.clone()),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_str(&format!("public, max-age={max_age}"))
                    .expect("a number is a header value"),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        let etag = self.etag.to_str().expect("a hex tag");
        if request
            .get(header::IF_NONE_MATCH)
            .is_some_and(|value| matches(value, etag))
        {
            return (StatusCode::NOT_MODIFIED, validators).into_response();
        }
        (
            validators,
            [(header::CONTENT_TYPE, self.content_type.clone())],
            self.body.clone(),
        )
            .into_response()
    }
}

/// `201 Created` with the new resource, its tag and its `Location`.
pub fn created<T: Serialize>(location: &str, value: &T) -> Response {
    let mut response = tagged_json(StatusCode::CREATED, value);
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The tag of a representation as `tagged_json` would send it.
pub fn tag_of<T: Serialize>(value: &T) -> String {
    content_tag(&serde_json::to_vec(value).expect("a response serialises"))
}

/// `If-Match` (optimistic concurrency): absent passes; `*` passes when the resource
/// exists; otherwise one of the listed tags must be the current one.
pub fn check_if_match(
    headers: &HeaderMap,
    current: Option<&str>,
) -> Result<(), crate::error::AppError> {
    let Some(if_match) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let satisfied = current.is_some_and(|current| matches(if_match, current));
    if satisfied {
        Ok(())
    } else {
        Err(crate::error::AppError::PreconditionFailed)
    }
}

/// Whether a conditional header lists this tag (weak comparison, as for
/// `If-None-Match`; our tags are strong, so a `W/` copy names the same bytes).
fn lists_tag(header: &HeaderValue, etag: &str) -> bool {
    header.to_str().is_ok_and(|value| {
        value
            .split(',')
            .map(|candidate| candidate.trim().trim_start_matches("W/"))
            .any(|candidate| candidate == etag)
    })
}

fn matches(header: &HeaderValue, etag: &str) -> bool {
    header.as_bytes() == b"*" || lists_tag(header, etag)
}

pub async fn conditional_get(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let Ok(version) = data_version(&state.db).await else {
        // The handler meets the same database and reports it properly.
        return next.run(request).await;
    };
    let mut request = request;
    request.extensions_mut().insert(version.clone());
    let etag = entity_tag(&version, &request);
    let validators = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            format!("public, max-age={}", state.settings.cache_max_age),
        ),
        (
            header::LAST_MODIFIED,
            version
                .changed_at
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ),
        (header::VARY, "accept, accept-encoding".to_owned()),
    ];
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let if_modified_since = modified_since(request.headers());
    // Only an exact tag short-cuts: `*` must not answer 304 for a resource that
    // may not exist, so it is left to the handler's own response.
    if if_none_match
        .as_ref()
        .is_some_and(|value| lists_tag(value, &etag))
    {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    let mut response = cached_or_computed(&state, &version, request, next).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    // A single resource tags its own bytes; that tag is then the one to revalidate.
    let own = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let unchanged = match (&if_none_match, &own) {
        (Some(value), Some(own)) => matches(value, own),
        // If-None-Match, when sent, decides alone (RFC 9110 §13.2.2).
        (Some(_), None) => false,
        (None, _) => if_modified_since.is_some_and(|since| version.changed_at.timestamp() <= since),
    };
    if unchanged {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        if let Some(own) = own.and_then(|own| HeaderValue::from_str(&own).ok()) {
            not_modified.headers_mut().insert(header::ETAG, own);
        }
        insert_missing(&mut not_modified, validators);
        return not_modified;
    }
    insert_missing(&mut response, validators);
    response
}

/// The `If-Modified-Since` date in seconds since the epoch; an invalid date is
/// ignored, as RFC 9110 §13.1.3 asks.
fn modified_since(headers: &HeaderMap) -> Option<i64> {
    let date = httpdate::parse_http_date(headers.get(header::IF_MODIFIED_SINCE)?.to_str().ok()?);
    let seconds = date
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    i64::try_from(seconds).ok()
}

/// The answer from the response cache, or computed by the handler and kept when it
/// is a JSON body of known, moderate size (CSV exports stream and are never held).
async fn cached_or_computed(
    state: &AppState,
    data: &DataVersion,
    request: Request,
    next: Next,
) -> Response {
    let key = ResponseCache::key(
        &data.epoch,
        data.version,
        request.uri().path(),
        request.uri().query(),
        request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    if let Some(hit) = state.cache.get(&key) {
        state.metrics.cache_hits.inc();
        let mut response = Response::new(Body::from(hit.body.clone()));
        *response.status_mut() = hit.status;
        *response.headers_mut() = hit.headers.clone();
        return response;
    }
    let response = state.replicas.run(data, request, next).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ENTRY_BYTES as u64);
    if response.status() != StatusCode::OK || !is_json || !small {
        return response;
    }
    state.metrics.cache_misses.inc();
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_ENTRY_BYTES).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response body failed").into_response();
    };
    state.cache.insert(
        key,
        CachedResponse {
            status: parts.status,
            headers: parts.headers.clone(),
            body: body.clone(),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

/// Adds the validators a handler did not set itself (e.g. its own Cache-Control).
fn insert_missing(
    response: &mut Response,
    validators: impl IntoIterator<Item = (header::HeaderName, String)>,
) {
    for (name, value) in validators {
        if !response.headers().contains_key(&name)
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
    }
}
