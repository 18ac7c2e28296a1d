//! The response cache for polled GETs. Dashboards ask the same questions again and
//! again; an answer is kept in memory keyed by the data version and the normalised
//! request, so a repeated GET costs one tiny version lookup instead of its query.
//!
//! Freshness never depends on timing: the version is read from the database on every
//! request (see `caching`), and an entry made at an older version simply never matches.
//! `LISTEN data_changed` (the NOTIFY of every committed write, from any instance)
//! empties the cache at once so that dead entries do not occupy memory.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use moka::sync::Cache;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::metrics::Metrics;
use crate::store::alignment::AlignmentMatrix;

/// A stored answer: the headers and body of a 200 JSON response.
#[derive(Debug, Clone)]
pub struct CachedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct ResponseCache {
    entries: Cache<String, Arc<CachedResponse>>,
}

/// Answers larger than this are not kept (they would crowd out many small ones).
pub const MAX_ENTRY_BYTES: usize = 1 << 20;

impl ResponseCache {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, value: &Arc<CachedResponse>| {
                    u32::try_from(key.len() + value.body.len() + 256).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The key of a request at a data version: path, query parameters in a
    /// canonical order, and the representation asked for.
    pub fn key(
        epoch: &str,
        version: i64,
        path: &str,
        query: Option<&str>,
        accept: Option<&str>,
    ) -> String {
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        // Stable: repeated parameters keep their relative order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{epoch} {version} {path}?{query} {}", accept.unwrap_or(""))
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedResponse>> {
        self.entries.get(key)
    }

    pub fn insert(&self, key: String, response: CachedResponse) {
        self.entries.insert(key, Arc::new(response));
    }

    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

/// Empties the cache whenever any instance commits a write, and tells the alignment
/// matrix. Runs until the pool closes; a lost connection is re-established, and the
/// same done once listening (again), since changes may have been missed meanwhile.
pub async fn follow_changes(
    db: PgPool,
    cache: Arc<ResponseCache>,
    metrics: Arc<Metrics>,
    alignment: Arc<AlignmentMatrix>,
) {
    let data_changed = || {
        cache.clear();
        alignment.data_changed();
    };
    let mut backoff = Duration::from_millis(250);
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&db).await?;
            listener.listen("data_changed").await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(250);
                data_changed();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => {
                            data_changed();
                            metrics.cache_invalidations.inc();
                        }
                        // Reconnected: whatever happened in between is unknown.
                        Ok(None) => data_changed(),
                        Err(sqlx::Error::PoolClosed) => return,
                        Err(err) => {
                            tracing::warn!(error = %err, "listening for data changes failed; retrying");
                            break;
                        }
                    }
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(err) => tracing::debug!(error = %err, "cannot listen for data changes yet"),
        }
        if db.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_parameter_order_but_not_values_versions_or_formats() {
        let key = |v, q: &str, a| ResponseCache::key("1.2.3", v, "/v1/statements", Some(q), a);
        assert_eq!(
            key(1, "stance=critical&limit=5", None),
            key(1, "limit=5&stance=critical", None)
        );
        assert_ne!(key(1, "limit=5", None), key(2, "limit=5", None));
        assert_ne!(
            ResponseCache::key("1.2.3", 1, "/v1/statements", None, None),
            ResponseCache::key("1.2.4", 1, "/v1/statements", None, None),
            "the same version of another copy of the data"
        );
        assert_ne!(key(1, "limit=5", None), key(1, "limit=6", None));
        assert_ne!(key(1, "limit=5", None), key(1, "limit=5", Some("text/csv")));
    }
}
