//! The test harness: a throwaway cluster per test binary, a migrated template
//! database, a fresh copy of it for every test, and the app called in-process.

pub mod binary;
pub mod loopback;
pub mod oracle;
pub mod pages;
pub mod replication;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use signatories::db::MIGRATOR;
use signatories::embedded::{Cluster, ClusterOptions};
use signatories::{AppState, HttpSettings};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// Where test databases are made: `DATABASE_URL`'s server if set, else a throwaway
/// cluster that stops (and is deleted) when the test binary exits.
struct Server {
    admin: PgConnectOptions,
    template: String,
    _cluster: Option<Cluster>,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let (admin, cluster) = match std::env::var("DATABASE_URL") {
                Ok(url) => (url.parse::<PgConnectOptions>().expect("DATABASE_URL"), None),
                Err(_) => {
                    let cluster = tokio::task::spawn_blocking(|| {
                        let dir = tempfile::Builder::new()
                            .prefix("signatories-test-")
                            .tempdir()
                            .expect("a temp dir")
                            .keep();
                        Cluster::start(&throwaway_cluster(dir)).expect("a test cluster")
                    })
                    .await
                    .unwrap();
                    (cluster.connect_options("postgres"), Some(cluster))
                }
            };
            let template = format!("signatories_template_{}", std::process::id());
            create_database(&admin, &template, None).await;
            let pool = PgPool::connect_with(admin.clone().database(&template))
                .await
                .unwrap();
            MIGRATOR
                .run(&pool)
                .await
                .expect("migrations apply to an empty database");
            pool.close().await;
            Server {
                admin,
                template,
                _cluster: cluster,
            }
        })
        .await
}

/// Durability is pointless for a cluster deleted after the run. Commits still wait
/// for their WAL to be written (a write without fsync costs next to nothing): until an
/// asynchronous commit is flushed, its rows' hint bits cannot be set, and a vacuum then
/// leaves their pages off the all-visible list, which the server as configured for
/// real never does.
pub fn throwaway_cluster(dir: std::path::PathBuf) -> ClusterOptions {
    let mut options = ClusterOptions::new(dir);
    options.settings = [("fsync", "off"), ("full_page_writes", "off")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
    options.remove_on_stop = true;
    options
}

async fn create_database(admin: &PgConnectOptions, name: &str, template: Option<&str>) {
    let mut conn = PgConnection::connect_with(admin).await.unwrap();
    let mut sql = format!("create database \"{name}\"");
    if let Some(template) = template {
        sql.push_str(&format!(" template \"{template}\""));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// A fresh, migrated and seeded database of this test's own.
pub async fn fresh_database() -> PgPool {
    let server = server().await;
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    );
    create_database(&server.admin, &name, Some(&server.template)).await;
    signatories::db::pool_options(4)
        .connect_with(signatories::db::session_settings(
            server.admin.clone().database(&name),
        ))
        .await
        .unwrap()
}

/// How `signatories import DIR` imports a directory.
pub fn import_options(dir: &std::path::Path) -> signatories::transfer::ImportOptions {
    signatories::transfer::ImportOptions {
        dir: dir.to_owned(),
        dry_run: false,
        default_topic: None,
        actor: "import".to_owned(),
        offline: false,
    }
}

/// The application on a fresh database, called in-process.
pub struct TestApp {
    pub router: Router,
    pub db: PgPool,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_settings(HttpSettings::default()).await
    }

    pub async fn with_settings(settings: HttpSettings) -> Self {
        let db = fresh_database().await;
        Self::on(db, settings)
    }

    pub fn on(db: PgPool, settings: HttpSettings) -> Self {
        let router = signatories::app(AppState::new(db.clone(), settings));
        Self { router, db }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.request(request.body(Body::empty()).unwrap()).await
    }

    pub async fn send(&self, method: Method, uri: &str, body: Body) -> TestResponse {
        self.request(bare_request(method, uri, body)).await
    }

    /// Sends a request and checks the response against the OpenAPI document.
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let response = self.request_unchecked(request).await;
        crate::openapi_contract::check(&method, &uri, &response);
        response
    }

    /// Sends a request whose answer is not expected to follow the spec (probing).
    pub async fn send_unchecked(&self, method: Method, uri: &str, body: Body) -> TestResponse {
        self.request_unchecked(bare_request(method, uri, body))
            .await
    }

    /// Sends a request whose answer is not expected to follow the spec (probing).
    pub async fn request_unchecked(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// A request with no header.
fn bare_request(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .unwrap()
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("UTF-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    #[track_caller]
    pub fn problem(&self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header(header::CONTENT_TYPE.as_str()),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["status"], status.as_u16());
        assert!(problem["title"].is_string() && problem["detail"].is_string());
        problem
    }
}

impl TestApp {
    /// Sends a JSON body with an optional API key and extra headers.
    pub async fn send_json(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: &serde_json::Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.request(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Sends a JSON body with an API key and no other header.
    pub async fn write(&self, method: Method, uri: &str, key: &str, body: &Value) -> TestResponse {
        self.send_json(method, uri, Some(key), body, &[]).await
    }

    /// Deletes with an API key, and with `If-Match` when a tag is given.
    pub async fn delete(&self, uri: &str, key: &str, if_match: Option<&str>) -> TestResponse {
        let mut request =
            Request::delete(uri).header(header::AUTHORIZATION, format!("Bearer {key}"));
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        self.request(request.body(Body::empty()).unwrap()).await
    }

    /// A new API key of this role.
    pub async fn key(&self, name: &str, role: signatories::keys::ApiRole) -> String {
        signatories::keys::create(&self.db, name, role)
            .await
            .unwrap()
    }

    /// Every row of every data table and of the audit trail, to prove that a
    /// rejected request changed nothing.
    pub async fn snapshot(&self) -> String {
        let mut dump = String::new();
        for table in [
            "country",
            "topic",
            "statement",
            "statement_topic",
            "signature",
            "source",
            "change",
            "data_version",
        ] {
            let rows: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select string_agg(to_jsonb(t)::text, E'\\n' order by to_jsonb(t)::text) from {table} t"
            )))
            .fetch_one(&self.db)
            .await
            .unwrap();
            dump.push_str(&format!("-- {table}\n{}\n", rows.unwrap_or_default()));
        }
        dump
    }
}

/// A second pool on the same database, as another service instance would have.
pub fn second_pool(pool: &PgPool) -> PgPool {
    signatories::db::pool_options(4).connect_lazy_with((*pool.connect_options()).clone())
}

/// One value of the `/metrics` text, e.g. `signatories_cache_hits_total`.
pub async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics").await.text();
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{name} not in:\n{text}"))
}

/// Whether `check` comes to hold within 30 s, asked every 50 ms: for what a background
/// task (a NOTIFY's listener, the alignment matrix's load) brings about.
pub async fn eventually(check: impl AsyncFn() -> bool) -> bool {
    for _ in 0..600 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// One number that a query of the database answers.
pub async fn scalar_i64(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// Runs the `signatories` command line against the app's database.
pub fn run_cli(app: &TestApp, args: &[&str]) -> Output {
    let url = app.db.connect_options().to_url_lossy().to_string();
    Command::new(env!("CARGO_BIN_EXE_signatories"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// A statement an editor adds: three signatories, one of them a late joiner, and a
/// source.
pub fn new_statement() -> Value {
    json!({
        "id": "hrc60-statement-critical-2025-09-15",
        "title": "Joint statement of 3 states on Xinjiang at HRC60",
        "kind": "joint_statement",
        "forum": "UN Human Rights Council",
        "session": "HRC60",
        "issued_on": "2025-09-15",
        "stance": "critical",
        "lead_country": "gb",
        "topics": ["xinjiang"],
        "summary": "A test statement.",
        "reported_count": 3,
        "list_complete": true,
        "signatories": [
            {"country": "GBR", "role": "lead", "source_url": "https://example.org/hrc60"},
            {"country": "fr", "role": "signatory", "source_url": "https://example.org/hrc60"},
            {"country": "DEU", "role": "signatory", "joined_on": "2025-09-20"}
        ],
        "sources": [{"url": "https://example.org/hrc60", "publisher": "example.org"}]
    })
}
