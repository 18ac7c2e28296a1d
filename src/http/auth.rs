//! Who is writing: `Authorization: Bearer <key>`, checked against the stored hashes
//! (and the bootstrap admin key from the environment, compared in constant time).
//! Keys never reach a log line or an error body.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
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
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(AppError::Unauthorized(
            "Writing needs an API key: send Authorization: Bearer <key>.",
        ))?;
    let key = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .ok_or(AppError::Unauthorized(
            "The Authorization header must be: Bearer <key>.",
        ))?;
    let key_hash = keys::hash(key);
    if let Some(admin_hash) = &state.settings.admin_key_hash
        && bool::from(admin_hash.ct_eq(&key_hash))
    {
        return Ok(Editor {
            name: BOOTSTRAP_KEY_NAME.to_owned(),
            role: ApiRole::Admin,
        });
    }
    match keys::authenticate(&state.db, &key_hash).await? {
        Some((name, role)) => Ok(Editor { name, role }),
        None => Err(AppError::Unauthorized(
            "This API key is unknown or revoked.",
        )),
    }
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
