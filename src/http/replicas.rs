//! Read replicas: the public GETs' queries run on a streaming standby that has replayed
//! the data version the request must see, and on the primary otherwise.
//!
//! `conditional_get` reads the primary's data version for every GET: that is the
//! version the request must see, whichever instance made the last write. A poller
//! reads each replica's own `data_version` row every [`POLL_EVERY`]. A request goes to
//! a replica only when that row is the very row the primary showed (same version, same
//! row version `xmin`, same cluster by `system_identifier`): the replica then holds every
//! write the request must see, and a replica that lags, is down, belongs to another
//! cluster, or holds another history after a restore is never chosen. Writes, key
//! checks, `LISTEN` and the alignment matrix stay on the primary.
//!
//! A replica failing during a request (a 503: connection refused or lost, the server
//! shutting down, a query cancelled by a replication conflict) is marked down until the
//! poller sees it answer again, and the request runs again on the primary; a CSV
//! export reads its remaining batches from the primary instead.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::gauge::Gauge;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use super::AppState;
use super::conditional::DataVersion;
use super::metrics::Metrics;
use crate::error::AppError;

/// How often each replica's replayed data version is read.
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// A replica (or the primary) that does not answer the poller within this is down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The primary's versions remembered for measuring lag, one per poll that saw it move.
const HISTORY: usize = 3000;

/// One replica to read from: its name in metrics and logs, and how to connect.
#[derive(Clone)]
pub struct ReplicaSettings {
    pub name: String,
    pub options: PgConnectOptions,
}

impl std::fmt::Debug for ReplicaSettings {
    // The options may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaSettings")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The primary's pools and the replicas, with the state the poller keeps of each.
pub struct Replicas {
    primary: Reader,
    replicas: Vec<Arc<Replica>>,
    metrics: Arc<Metrics>,
    /// Where the next search for a fresh replica starts, so that reads spread.
    next: AtomicUsize,
}

struct Replica {
    name: String,
    db: PgPool,
    keyed_db: PgPool,
    export_db: PgPool,
    /// The poller's own connection, so that polling never waits behind requests.
    probe: PgPool,
    /// The data version row replayed at the last poll; `None` while down.
    replayed: Mutex<Option<Replayed>>,
    lag: Gauge<f64, AtomicU64>,
    up: Gauge,
}

/// A `data_version` row as a server shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Replayed {
    system: String,
    version: i64,
    xmin: String,
}

/// Both sides read the same row the same way.
const REPLAYED: &str = "select (select system_identifier::text from pg_control_system()) as system, \
     version, xmin::text as xmin from data_version";

/// Where a request's queries run: the pool for its queries and the pools for the
/// batches of a CSV export. GET handlers take it in place of `state.db`.
#[derive(Clone)]
pub struct Reader {
    pub db: PgPool,
    /// The same server through sessions that keep generic plans (`AppState::keyed_db`).
    pub keyed: PgPool,
    pub exports: Exports,
}

/// The pool an export reads its batches from, and the primary's to fall back on.
#[derive(Clone)]
pub struct Exports {
    pub pool: PgPool,
    fallback: Option<(PgPool, Arc<Replica>)>,
}

impl Exports {
    /// Whether a batch that failed with `err` should be read again from the primary:
    /// it was read on a replica and the error is a state of that server (a 503), not
    /// of the query. The replica is marked down and the export stays on the primary.
    pub fn fall_back(&mut self, err: &AppError) -> bool {
        if err.status() != StatusCode::SERVICE_UNAVAILABLE {
            return false;
        }
        let Some((primary, replica)) = self.fallback.take() else {
            return false;
        };
        replica.mark_down("an export batch failed on it");
        self.pool = primary;
        true
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = std::convert::Infallible;

    /// The reader `Replicas::run` chose, or the primary (a request that did not pass
    /// through it, e.g. when the data version could not be read).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Reader>()
            .cloned()
            .unwrap_or_else(|| state.replicas.primary.clone()))
    }
}

impl Replicas {
    /// The primary's pools and, for each replica, pools of the same sizes, opened
    /// lazily: a replica that is down at start is simply not used until it answers.
    /// Inside a tokio runtime the poller starts with them.
    pub fn new(
        db: &PgPool,
        keyed_db: &PgPool,
        export_db: &PgPool,
        control_db: &PgPool,
        settings: &[ReplicaSettings],
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let size = |pool: &PgPool| pool.options().get_max_connections();
        let replicas = settings
            .iter()
            .map(|replica| {
                let open = |connections| {
                    crate::db::pool_options(connections).connect_lazy_with(replica.options.clone())
                };
                Arc::new(Replica {
                    name: replica.name.clone(),
                    db: open(size(db)),
                    keyed_db: crate::db::pool_options(size(keyed_db)).connect_lazy_with(
                        crate::db::keeping_generic_plans(replica.options.clone()),
                    ),
                    export_db: crate::db::pool_options(size(export_db))
                        .acquire_timeout(export_db.options().get_acquire_timeout())
                        .connect_lazy_with(crate::db::exporting(replica.options.clone())),
                    probe: open(1),
                    replayed: Mutex::new(None),
                    lag: metrics.replica_lag(&replica.name),
                    up: metrics.replica_up(&replica.name),
                })
            })
            .collect::<Vec<_>>();
        let replicas = Arc::new(Self {
            primary: Reader {
                db: db.clone(),
                keyed: keyed_db.clone(),
                exports: Exports {
                    pool: export_db.clone(),
                    fallback: None,
                },
            },
            replicas,
            metrics,
            next: AtomicUsize::new(0),
        });
        if !replicas.replicas.is_empty()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(poll(Arc::downgrade(&replicas), control_db.clone()));
        }
        replicas
    }

    /// A replica that has replayed exactly `data`, else the primary.
    fn reader(&self, data: &DataVersion) -> Option<Arc<Replica>> {
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .map(|i| &self.replicas[(start + i) % count])
            .find(|replica| {
                replica
                    .replayed
                    .lock()
                    .expect("never poisoned")
                    .as_ref()
                    .is_some_and(|row| row.version == data.version && row.xmin == data.xmin)
            })
            .cloned()
    }

    /// Runs the rest of a GET's stack (the handler) with the reader chosen for
    /// `data`, counted per target; a replica's 503 is answered again from the primary.
    pub async fn run(&self, data: &DataVersion, mut request: Request, next: Next) -> Response {
        let Some(replica) = self.reader(data) else {
            self.metrics.read_on("primary");
            request.extensions_mut().insert(self.primary.clone());
            return next.run(request).await;
        };
        let (parts, body) = request.into_parts();
        let mut again = Request::from_parts(parts.clone(), Body::empty());
        let mut request = Request::from_parts(parts, body);
        request.extensions_mut().insert(Reader {
            db: replica.db.clone(),
            keyed: replica.keyed_db.clone(),
            exports: Exports {
                pool: replica.export_db.clone(),
                fallback: Some((self.primary.exports.pool.clone(), replica.clone())),
            },
        });
        self.metrics.read_on(&replica.name);
        let response = next.clone().run(request).await;
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            return response;
        }
        replica.mark_down("a request failed on it");
        self.metrics.read_on("primary");
        again.extensions_mut().insert(self.primary.clone());
        next.run(again).await
    }
}

impl Replica {
    fn mark_down(&self, why: &str) {
        if self
            .replayed
            .lock()
            .expect("never poisoned")
            .take()
            .is_some()
        {
            tracing::warn!(replica = %self.name, why, "replica skipped until it answers again");
            self.up.set(0);
        }
    }

    /// Reads the replica's row and keeps it if the replica follows `primary`'s
    /// cluster; sets its lag from the primary's `history`.
    async fn poll(&self, primary: &Replayed, history: &VecDeque<(i64, Instant)>) {
        let sample = tokio::time::timeout(
            PROBE_TIMEOUT,
            sqlx::query_as::<_, Replayed>(REPLAYED).fetch_one(&self.probe),
        )
        .await;
        let row = match sample {
            Ok(Ok(row)) if row.system == primary.system => row,
            Ok(Ok(_)) => return self.mark_down("it is not a standby of the primary"),
            Ok(Err(err)) => {
                tracing::debug!(replica = %self.name, error = %err, "replica poll failed");
                return self.mark_down("it does not answer");
            }
            Err(_) => return self.mark_down("it does not answer in time"),
        };
        self.lag.set(lag(row.version, primary.version, history));
        let was_down = self
            .replayed
            .lock()
            .expect("never poisoned")
            .replace(row)
            .is_none();
        if was_down {
            tracing::info!(replica = %self.name, "replica serving reads");
            self.up.set(1);
        }
    }
}

/// Seconds since the primary first showed a version the replica has not replayed
/// (0 when it has them all), as far as the polls saw.
fn lag(replayed: i64, current: i64, history: &VecDeque<(i64, Instant)>) -> f64 {
    if replayed >= current {
        return 0.0;
    }
    history
        .iter()
        .find(|(version, _)| *version > replayed)
        .or(history.front())
        .map_or(0.0, |(_, since)| since.elapsed().as_secs_f64())
}

/// Reads the primary's row and each replica's every [`POLL_EVERY`] until the
/// replicas are dropped or the primary's pool closes.
async fn poll(replicas: Weak<Replicas>, control_db: PgPool) {
    let mut history: VecDeque<(i64, Instant)> = VecDeque::new();
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        if control_db.is_closed() {
            return;
        }
        let primary = tokio::time::timeout(
            PROBE_TIMEOUT,
            sqlx::query_as::<_, Replayed>(REPLAYED).fetch_one(&control_db),
        )
        .await;
        // Without the primary no GET is answered at all; the replicas wait.
        let Ok(Ok(primary)) = primary else {
            continue;
        };
        // Versions start again after a restore: so does the lag's memory.
        if history.back().is_some_and(|(v, _)| *v > primary.version) {
            history.clear();
        }
        if history.back().is_none_or(|(v, _)| *v != primary.version) {
            history.push_back((primary.version, Instant::now()));
            if history.len() > HISTORY {
                history.pop_front();
            }
        }
        futures::future::join_all(
            replicas
                .replicas
                .iter()
                .map(|replica| replica.poll(&primary, &history)),
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_first_version_the_replica_lacks() {
        let now = Instant::now();
        let history: VecDeque<(i64, Instant)> = [
            (5, now - Duration::from_secs(9)),
            (7, now - Duration::from_secs(4)),
            (8, now - Duration::from_secs(1)),
        ]
        .into();
        assert_eq!(lag(8, 8, &history), 0.0);
        let behind = lag(6, 8, &history);
        assert!((4.0..5.0).contains(&behind), "{behind}");
        let forgotten = lag(2, 8, &history);
        assert!(
            forgotten >= 9.0,
            "at least the oldest remembered: {forgotten}"
        );
    }
}
