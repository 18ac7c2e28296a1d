//! The country codes held in memory for the data version they were read at, so that a
//! request naming a country resolves it without a query of its own. The version comes
//! from `conditional_get`, which reads it for every GET; a request without one (its
//! read failed) asks the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::PgPool;

use super::conditional::DataVersion;
use crate::error::AppResult;
use crate::store::countries;

/// The stored code of every country under its alpha-3 and its alpha-2 code.
type Codes = Arc<HashMap<String, String>>;

#[derive(Default)]
pub struct CountryCodes {
    read_at: RwLock<Option<(String, i64, Codes)>>,
}

impl CountryCodes {
    /// The stored code of the country `written` (alpha-3 or alpha-2, as parsed), or
    /// `None` when no country has it.
    pub async fn resolve(
        &self,
        db: &PgPool,
        version: &RequestVersion,
        written: &str,
    ) -> AppResult<Option<String>> {
        let Some(version) = version.get() else {
            return countries::code_of(&mut *db.acquire().await?, written).await;
        };
        let held = self.read_at.read().expect("not poisoned").clone();
        let codes = match held {
            Some((epoch, at, codes)) if epoch == version.epoch && at == version.version => codes,
            _ => {
                let codes: Codes = Arc::new(countries::codes(db).await?);
                *self.read_at.write().expect("not poisoned") =
                    Some((version.epoch.clone(), version.version, codes.clone()));
                codes
            }
        };
        Ok(codes.get(written).cloned())
    }
}

/// The data version `conditional_get` read for this request, if it did.
pub struct RequestVersion(Option<DataVersion>);

impl RequestVersion {
    pub fn get(&self) -> Option<&DataVersion> {
        self.0.as_ref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestVersion {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<DataVersion>().cloned()))
    }
}
