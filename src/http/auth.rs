//! Who is writing: `Authorization: Bearer <key>`, checked against the stored hashes
//! (and the bootstrap admin key from the environment, compared in constant time).
//! Keys never reach a log line or an error body.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::error::AppError;
use crate::keys::{self, ApiRole};

/// The name that the bootstrap key's changes are attributed to.
pub const BOOTSTRAP_KEY_NAME: &str = "bootstrap-admin";

/// An authenticated caller of at least the editor role.
#[derive(Debug, Clone)]
pub struct Editor {
    pub name: String,
    pub role: ApiRole,
}

/// An authenticated caller with the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub Editor);

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Editor, AppError> {
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return Err(AppError::Unauthorized(
            "Writing needs an API key: send Authorization: Bearer <key>.",
        ));
    }
    let key = bearer_key(&parts.headers).ok_or(AppError::Unauthorized(
        "The Authorization header must be: Bearer <key>.",
    ))?;
    identify(state, key).await?.ok_or(AppError::Unauthorized(
        "This API key is unknown or revoked.",
    ))
}

/// The key of `Authorization: Bearer <key>` (the scheme in any case, RFC 9110 §11.1).
pub fn bearer_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// Who holds `key`: the bootstrap admin (compared in constant time) or a stored key
/// that is not revoked.
pub async fn identify(state: &AppState, key: &str) -> Result<Option<Editor>, AppError> {
    let key_hash = keys::hash(key);
    if let Some(admin_hash) = &state.settings.admin_key_hash
        && bool::from(admin_hash.ct_eq(&key_hash))
    {
        return Ok(Some(Editor {
            name: BOOTSTRAP_KEY_NAME.to_owned(),
            role: ApiRole::Admin,
        }));
    }
    Ok(keys::authenticate(&state.db, &key_hash)
        .await?
        .map(|(name, role)| Editor { name, role }))
}

impl FromRequestParts<AppState> for Editor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = authenticate(parts, state).await?;
        if caller.role < ApiRole::Admin {
            return Err(AppError::Forbidden(
                "Only an admin key may change countries.",
            ));
        }
        Ok(Self(caller))
    }
}
