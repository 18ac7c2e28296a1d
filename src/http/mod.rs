//! The HTTP layer: shared state, middleware, and one module per resource.

mod admission;
mod analytics;
mod auth;
mod body;
mod changes;
mod conditional;
mod countries;
mod docs;
mod download;
mod explorer;
mod fields;
mod health;
mod listing;
mod metrics;
mod params;
mod participations;
mod reference;
mod replicas;
mod response_cache;
mod server;
mod statements;
mod topics;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use self::admission::AdmissionSettings;
use self::admission::RateLimits;
use self::metrics::Metrics;
use self::reference::CountryCodes;
pub use self::replicas::ReplicaSettings;
use self::replicas::Replicas;
use self::response_cache::ResponseCache;
pub use self::server::ConnectionLimits;
use crate::config::Config;
use crate::error::{PROBLEM_JSON, Problem};
use crate::store::alignment::AlignmentMatrix;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    /// Connections beside the request pool, for the `LISTEN` connection and readiness
    /// probes, so that neither waits behind requests nor takes a request's place.
    pub control_db: PgPool,
    /// Connections for the batches of CSV exports, a quarter of the request pool's, so
    /// that however many exports run, requests keep the rest.
    pub export_db: PgPool,
    /// Where public GETs read: a replica that has replayed what they must see, else
    /// the primary (`db`, `export_db`).
    pub replicas: Arc<Replicas>,
    pub settings: Arc<HttpSettings>,
    pub cache: Arc<ResponseCache>,
    pub metrics: Arc<Metrics>,
    pub alignment: Arc<AlignmentMatrix>,
    pub country_codes: Arc<CountryCodes>,
    /// Set once a shutdown signal arrives: readiness fails and every response closes
    /// its connection.
    pub draining: Arc<AtomicBool>,
    pub rate_limits: Arc<RateLimits>,
}

/// The HTTP-facing part of the configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    /// `None`: any origin may read.
    pub cors_origins: Option<Vec<HeaderValue>>,
    pub cache_max_age: u32,
    /// SHA-256 of `SIGNATORIES_ADMIN_KEY`, the bootstrap admin key.
    pub admin_key_hash: Option<[u8; 32]>,
    /// Memory for cached GET responses, in bytes.
    pub cache_bytes: u64,
    pub admission: AdmissionSettings,
    /// Read replicas of the database; none: every query runs on the primary.
    pub replicas: Vec<ReplicaSettings>,
}

impl HttpSettings {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Ok(Self {
            request_timeout: config.request_timeout(),
            max_body_bytes: usize::try_from(config.max_body_bytes)?,
            cors_origins: config.cors_origins()?,
            cache_max_age: config.cache_max_age,
            admin_key_hash: config
                .admin_key
                .as_ref()
                .map(|key| crate::keys::hash(key.expose())),
            cache_bytes: config.cache_bytes,
            admission: AdmissionSettings::from_config(config)?,
            replicas: config
                .replica_urls
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    Ok(ReplicaSettings {
                        name: format!("replica-{}", i + 1),
                        options: crate::db::serving_settings(
                            url.expose().parse()?,
                            config.statement_timeout,
                        ),
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 1 << 20,
            cors_origins: None,
            cache_max_age: 60,
            admin_key_hash: None,
            cache_bytes: 32 << 20,
            admission: AdmissionSettings::default(),
            replicas: Vec::new(),
        }
    }
}

impl AppState {
    /// The state of one service instance. Inside a tokio runtime it also starts
    /// following other instances' writes (`response_cache::follow_changes`).
    pub fn new(db: PgPool, settings: HttpSettings) -> Self {
        let cache = Arc::new(ResponseCache::new(settings.cache_bytes));
        let metrics = Arc::new(Metrics::default());
        let alignment = Arc::new(AlignmentMatrix::new(metrics.alignment_matrix_loads.clone()));
        let control_db =
            crate::db::pool_options(2).connect_lazy_with((*db.connect_options()).clone());
        // Sessions that keep PostgreSQL's cached generic plans, for the queries that plan
        // alike for every key they are given (`Reader::keyed`).
        let keyed_db = crate::db::pool_options(db.options().get_max_connections())
            .connect_lazy_with(crate::db::keeping_generic_plans(
                (*db.connect_options()).clone(),
            ));
        let export_connections = (db.options().get_max_connections() / 4).max(1);
        let export_db = crate::db::pool_options(export_connections)
            // An export's next batch waits its turn behind other exports'.
            .acquire_timeout(settings.request_timeout)
            .connect_lazy_with(crate::db::exporting((*db.connect_options()).clone()));
        let replicas = Replicas::new(
            &db,
            &keyed_db,
            &export_db,
            &control_db,
            &settings.replicas,
            metrics.clone(),
        );
        let rate_limits = Arc::new(RateLimits::new(&settings.admission));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let sweep = Arc::downgrade(&rate_limits);
            runtime.spawn(async move {
                let mut every = tokio::time::interval(admission::SWEEP_EVERY);
                every.tick().await;
                loop {
                    every.tick().await;
                    let Some(limits) = sweep.upgrade() else {
                        return;
                    };
                    limits.forget_idle();
                }
            });
            runtime.spawn(response_cache::follow_changes(
                control_db.clone(),
                cache.clone(),
                metrics.clone(),
                alignment.clone(),
            ));
        }
        Self {
            db,
            control_db,
            export_db,
            replicas,
            settings: Arc::new(settings),
            cache,
            metrics,
            alignment,
            country_codes: Arc::default(),
            draining: Arc::new(AtomicBool::new(false)),
            rate_limits,
        }
    }
}

/// Serves the whole application on `listener` within `limits` until `shutdown`
/// resolves, then drains (see [`ConnectionLimits`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let (metrics, draining, grace, control_db) = (
        state.metrics.clone(),
        state.draining.clone(),
        limits.shutdown_grace,
        state.control_db.clone(),
    );
    let shutdown = async move {
        shutdown.await;
        draining.store(true, Ordering::Relaxed);
        tracing::info!(
            grace_seconds = grace.as_secs(),
            "shutting down: readiness fails"
        );
        tokio::time::sleep(grace).await;
    };
    server::serve(listener, app(state), metrics, limits, shutdown).await?;
    control_db.close().await;
    Ok(())
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let settings = state.settings.clone();
    let cors = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::ACCEPT,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LAST_MODIFIED,
            header::CONTENT_DISPOSITION,
            header::LINK,
            header::LOCATION,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(3600))
        .allow_origin(match &settings.cors_origins {
            None => AllowOrigin::any(),
            Some(origins) => AllowOrigin::list(origins.clone()),
        });

    // The public read API: every GET answers conditional requests.
    let v1 = Router::new()
        .merge(statements::router())
        .merge(countries::router())
        .merge(topics::router())
        .merge(changes::router())
        .merge(analytics::router())
        .merge(participations::router())
        .route_layer(axum::middleware::from_fn(download::byte_order_mark))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            conditional::conditional_get,
        ))
        .route_layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: axum::BoxError| async {
                    Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The service is answering as many requests as it can; try again shortly.",
                    )
                }))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(
                    settings.admission.max_in_flight,
                )),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admission::limit_rate,
        ));

    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(docs::router())
        .merge(
            // The charts query the store like the API: cached and rate-limited like it.
            explorer::router()
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    conditional::conditional_get,
                ))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    admission::limit_rate,
                )),
        )
        .merge(v1)
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(
            state.draining.clone(),
            close_while_draining,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO))
                        // A 5xx whose cause is a fault (a database or internal error, a
                        // panic) is logged at error, with that cause, where it happens;
                        // the others are states of the instance (warming up, overloaded,
                        // its database gone), which at error made every probe of a
                        // starting instance's /readyz an alarm.
                        .on_failure(DefaultOnFailure::new().level(Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_problem))
                .layer(axum::middleware::map_response(problem_for_bare_errors))
                .layer(cors)
                .layer(CompressionLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    settings.request_timeout,
                ))
                .layer(RequestBodyLimitLayer::new(settings.max_body_bytes)),
        )
}

/// While the instance drains, every response asks its client to close the connection,
/// so that keep-alive clients move to another instance before the listener closes.
async fn close_while_draining(
    State(draining): State<Arc<AtomicBool>>,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if draining.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Every log line of a request carries its method, path and request id.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        format!("There is no resource at {method} {}", uri.path()),
    )
}

fn panic_problem(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An internal error occurred; it has been logged.",
    )
    .into_response()
}

/// Errors produced by middleware and the router itself (405, 408, 413, 503 on
/// timeout…) come without a body or as plain text; clients always get problem+json.
async fn problem_for_bare_errors<B>(response: Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if status.as_u16() < 400 || is_problem {
        return response.map(Body::new);
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "This resource does not support that method; see the Allow header."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than this server accepts.",
        StatusCode::SERVICE_UNAVAILABLE => {
            "The request took too long and was abandoned; try again."
        }
        _ => "The request could not be served.",
    };
    let (mut parts, _) = response.into_parts();
    let (problem_parts, body) = Problem::new(status, detail).into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(problem_parts.headers);
    Response::from_parts(parts, body)
}
