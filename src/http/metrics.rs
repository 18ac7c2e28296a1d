//! `GET /metrics` in the OpenMetrics text format: requests and latency by route
//! template and status, open and refused connections, the database pool, the response
//! cache, the alignment matrix's full loads, and reads per database server with each
//! replica's lag.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplicaLabels {
    replica: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    reason: &'static str,
}

/// The service's own instruments, one registry per application.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool: Family<PoolLabels, Gauge>,
    pub connections_open: Gauge,
    connections_refused: Family<RefusedLabels, Counter>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub cache_invalidations: Counter,
    pub alignment_matrix_loads: Histogram,
    reads: Family<TargetLabels, Counter>,
    replica_lag: Family<ReplicaLabels, Gauge<f64, AtomicU64>>,
    replica_up: Family<ReplicaLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("signatories");
        let requests = Family::<RequestLabels, Counter>::default();
        // Exponential buckets wide enough for both a cached hit and a whole CSV export.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.000_25, 2.0, 16))) as fn() -> Histogram,
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        let connections_open = Gauge::default();
        let connections_refused = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "connections_open",
            "TCP connections being served",
            connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "TCP connections closed at once because a connection cap was reached",
            connections_refused.clone(),
        );
        let (cache_hits, cache_misses, cache_invalidations) =
            (Counter::default(), Counter::default(), Counter::default());
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route template",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool.clone(),
        );
        registry.register(
            "cache_hits",
            "GET responses served from the response cache",
            cache_hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Cacheable GET responses computed afresh",
            cache_misses.clone(),
        );
        registry.register(
            "cache_invalidations",
            "Times the response cache was emptied because the data changed",
            cache_invalidations.clone(),
        );
        // Exponential buckets from an empty database to the largest one the service serves.
        let alignment_matrix_loads = Histogram::new(exponential_buckets(0.001, 2.0, 18));
        registry.register(
            "alignment_matrix_load_seconds",
            "Full loads of the in-memory alignment matrix, timed",
            alignment_matrix_loads.clone(),
        );
        let reads = Family::<TargetLabels, Counter>::default();
        registry.register(
            "db_reads",
            "GET requests whose queries ran on each database server (primary or replica)",
            reads.clone(),
        );
        let replica_lag = Family::<ReplicaLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "replica_lag_seconds",
            "Seconds since the primary first showed a data version the replica has not replayed, as polled",
            replica_lag.clone(),
        );
        let replica_up = Family::<ReplicaLabels, Gauge>::default();
        registry.register(
            "replica_up",
            "Whether the replica answers its poller (1) or is skipped (0)",
            replica_up.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool,
            connections_open,
            connections_refused,
            cache_hits,
            cache_misses,
            cache_invalidations,
            alignment_matrix_loads,
            reads,
            replica_lag,
            replica_up,
        }
    }
}

impl Metrics {
    /// Counts a GET whose queries run on `target` (`primary` or a replica's name).
    pub fn read_on(&self, target: &str) {
        self.reads
            .get_or_create(&TargetLabels {
                target: target.to_owned(),
            })
            .inc();
    }

    /// The lag gauge of the replica named `replica`.
    pub fn replica_lag(&self, replica: &str) -> Gauge<f64, AtomicU64> {
        self.replica_lag
            .get_or_create(&ReplicaLabels {
                replica: replica.to_owned(),
            })
            .clone()
    }

    /// The gauge saying whether the replica named `replica` is used.
    pub fn replica_up(&self, replica: &str) -> Gauge {
        self.replica_up
            .get_or_create(&ReplicaLabels {
                replica: replica.to_owned(),
            })
            .clone()
    }

    /// Counts a connection closed at once because the cap named `reason` was reached.
    pub fn refused(&self, reason: &'static str) {
        self.connections_refused
            .get_or_create(&RefusedLabels { reason })
            .inc();
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(render))
}

/// What `prometheus_client::encoding::text::encode` writes: the OpenMetrics text
/// format (`_total` samples of counter families, `# EOF` last), which Prometheus asks
/// for first in its `Accept` header.
const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn render(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    let size = i64::from(state.db.size());
    let idle = state.db.num_idle() as i64;
    metrics
        .pool
        .get_or_create(&PoolLabels { state: "open" })
        .set(size);
    metrics
        .pool
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle);
    metrics
        .pool
        .get_or_create(&PoolLabels { state: "in_use" })
        .set(size - idle);
    metrics
        .pool
        .get_or_create(&PoolLabels { state: "max" })
        .set(i64::from(state.db.options().get_max_connections()));
    let mut body = String::new();
    if encode(&mut body, &metrics.registry).is_err() {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "metrics could not be encoded",
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, OPENMETRICS_TEXT)], body).into_response()
}

/// Counts and times every routed request under its route template.
pub async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
