//! API keys: made here, shown once, stored only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// What a key may do: editors write statements, signatures, sources and topics;
/// admins also countries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, sqlx::Type, clap::ValueEnum,
)]
#[sqlx(type_name = "api_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ApiRole {
    Editor,
    Admin,
}

/// A key's public record (never the key).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KeyRecord {
    pub name: String,
    pub role: ApiRole,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A new random key: `sig_` and 256 bits, base64url.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    format!("sig_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates a key and returns it; it is not stored and cannot be shown again.
pub async fn create(db: &PgPool, name: &str, role: ApiRole) -> anyhow::Result<String> {
    let key = generate();
    let result = sqlx::query("insert into api_key (name, role, key_hash) values ($1, $2, $3)")
        .bind(name)
        .bind(role)
        .bind(&hash(&key)[..])
        .execute(db)
        .await;
    match result {
        Ok(_) => Ok(key),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("api_key_name_key") => {
            anyhow::bail!("a key named {name:?} exists already")
        }
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("api_key_name_format") => {
            anyhow::bail!(
                "a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn list(db: &PgPool) -> anyhow::Result<Vec<KeyRecord>> {
    Ok(sqlx::query_as(
        "select name, role, created_at, last_used_at, revoked_at from api_key order by name",
    )
    .fetch_all(db)
    .await?)
}

/// Revokes a key by name; false when no active key has that name.
pub async fn revoke(db: &PgPool, name: &str) -> anyhow::Result<bool> {
    let done =
        sqlx::query("update api_key set revoked_at = now() where name = $1 and revoked_at is null")
            .bind(name)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The active key with this hash, marking it used.
pub async fn authenticate(
    db: &PgPool,
    key_hash: &[u8; 32],
) -> Result<Option<(String, ApiRole)>, sqlx::Error> {
    sqlx::query_as(
        "update api_key set last_used_at = now() where key_hash = $1 and revoked_at is null returning name, role",
    )
    .bind(&key_hash[..])
    .fetch_optional(db)
    .await
}
