//! Configuration: every setting is an environment variable and a command-line flag.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Settings shared by every subcommand. Each flag's value name is its environment
/// variable, so that an invalid value is reported under the name the user set.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL server to use. Without it, a local cluster is kept in --data-dir.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", global = true, hide_env_values = true,
          value_parser = parse_database_url)]
    pub database_url: Option<Secret>,

    /// Streaming replicas of the database (comma-separated postgres:// URLs) for the
    /// public reads; each is used only once it has replayed what a request must see.
    #[arg(long, env = "SIGNATORIES_REPLICA_URLS", value_name = "SIGNATORIES_REPLICA_URLS", global = true,
          hide_env_values = true, value_delimiter = ',', value_parser = parse_database_url)]
    pub replica_urls: Vec<Secret>,

    /// Directory of the embedded PostgreSQL cluster (used when DATABASE_URL is unset).
    #[arg(
        long,
        env = "SIGNATORIES_DATA_DIR",
        value_name = "SIGNATORIES_DATA_DIR",
        global = true,
        default_value = ".signatories/postgres"
    )]
    pub data_dir: PathBuf,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "SIGNATORIES_BIND",
        value_name = "SIGNATORIES_BIND",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// Log output: human-readable or one JSON object per line.
    #[arg(
        long,
        env = "SIGNATORIES_LOG_FORMAT",
        value_name = "SIGNATORIES_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,

    /// Log filter in tracing's EnvFilter syntax.
    #[arg(
        long = "log",
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        global = true,
        default_value = "info"
    )]
    pub log_filter: String,

    /// Maximum number of database connections.
    #[arg(long, env = "SIGNATORIES_POOL_SIZE", value_name = "SIGNATORIES_POOL_SIZE", global = true, default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_size: u32,

    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "SIGNATORIES_REQUEST_TIMEOUT", value_name = "SIGNATORIES_REQUEST_TIMEOUT", global = true, default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,

    /// Seconds any one SQL statement may run before PostgreSQL cancels it (0: no
    /// limit). The import and the other commands set 0 for themselves.
    #[arg(long, env = "SIGNATORIES_STATEMENT_TIMEOUT", value_name = "SIGNATORIES_STATEMENT_TIMEOUT", global = true, default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub statement_timeout: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SIGNATORIES_MAX_BODY_BYTES", value_name = "SIGNATORIES_MAX_BODY_BYTES", global = true, default_value_t = 1_048_576,
          value_parser = clap::value_parser!(u64).range(1..=1_073_741_824))]
    pub max_body_bytes: u64,

    /// Origins allowed to read the API from a browser: `*` or a comma-separated list.
    #[arg(
        long,
        env = "SIGNATORIES_CORS_ORIGINS",
        value_name = "SIGNATORIES_CORS_ORIGINS",
        global = true,
        default_value = "*"
    )]
    pub cors_origins: String,

    /// `Cache-Control: max-age` of public GET responses, in seconds.
    #[arg(long, env = "SIGNATORIES_CACHE_MAX_AGE", value_name = "SIGNATORIES_CACHE_MAX_AGE", global = true, default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(0..=86_400))]
    pub cache_max_age: u32,

    /// Memory for cached GET responses, in bytes (0 turns the cache off).
    #[arg(long, env = "SIGNATORIES_CACHE_BYTES", value_name = "SIGNATORIES_CACHE_BYTES", global = true,
          default_value_t = 32 << 20, value_parser = clap::value_parser!(u64).range(0..=(1 << 34)))]
    pub cache_bytes: u64,

    /// Seconds a connection may take to send a complete request head, counted from
    /// when it opens or finishes its previous response.
    #[arg(long, env = "SIGNATORIES_HEADER_TIMEOUT", value_name = "SIGNATORIES_HEADER_TIMEOUT", global = true, default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,

    /// Seconds a keep-alive connection may sit with no request and no traffic.
    #[arg(long, env = "SIGNATORIES_IDLE_TIMEOUT", value_name = "SIGNATORIES_IDLE_TIMEOUT", global = true, default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout: u64,

    /// Connections served at once; more are closed as soon as they are accepted.
    #[arg(long, env = "SIGNATORIES_MAX_CONNECTIONS", value_name = "SIGNATORIES_MAX_CONNECTIONS", global = true, default_value_t = 8192,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Connections served at once from one client address (0: no cap of its own).
    #[arg(long, env = "SIGNATORIES_MAX_CONNECTIONS_PER_CLIENT", value_name = "SIGNATORIES_MAX_CONNECTIONS_PER_CLIENT", global = true,
          default_value_t = 1024, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub max_connections_per_client: u64,

    /// Seconds to keep serving after SIGTERM, with /readyz failing, before the
    /// listener closes.
    #[arg(long, env = "SIGNATORIES_SHUTDOWN_GRACE", value_name = "SIGNATORIES_SHUTDOWN_GRACE", global = true, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub shutdown_grace: u64,

    /// Seconds in-flight requests and streams may take to finish once the listener
    /// closes.
    #[arg(long, env = "SIGNATORIES_DRAIN_TIMEOUT", value_name = "SIGNATORIES_DRAIN_TIMEOUT", global = true, default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_timeout: u64,

    /// Requests a minute one client address may make to the API (0: no limit).
    #[arg(long, env = "SIGNATORIES_RATE_LIMIT", value_name = "SIGNATORIES_RATE_LIMIT", global = true, default_value_t = 1200,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub rate_limit: u32,

    /// Requests one client (or key) may make at once before its rate applies.
    #[arg(long, env = "SIGNATORIES_RATE_BURST", value_name = "SIGNATORIES_RATE_BURST", global = true, default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_burst: u32,

    /// Requests a minute one API key may make (0: no limit).
    #[arg(long, env = "SIGNATORIES_KEY_RATE_LIMIT", value_name = "SIGNATORIES_KEY_RATE_LIMIT", global = true, default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub key_rate_limit: u32,

    /// Proxies (addresses or networks, comma-separated) whose Forwarded or
    /// X-Forwarded-For header names the client.
    #[arg(
        long,
        env = "SIGNATORIES_TRUSTED_PROXIES",
        value_name = "SIGNATORIES_TRUSTED_PROXIES",
        global = true,
        default_value = ""
    )]
    pub trusted_proxies: String,

    /// API requests served at once; one more is answered 503 at once.
    #[arg(long, env = "SIGNATORIES_MAX_IN_FLIGHT", value_name = "SIGNATORIES_MAX_IN_FLIGHT", global = true, default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_in_flight: u64,

    /// A bootstrap admin API key for first setup; never logged.
    #[arg(long, env = "SIGNATORIES_ADMIN_KEY", value_name = "SIGNATORIES_ADMIN_KEY", global = true,
          hide_env_values = true, value_parser = parse_admin_key)]
    pub admin_key: Option<Secret>,
}

/// Checked before anything connects, so that a typo never sends a lookup anywhere.
/// A setting that must never reach a log line or a `Debug` print: a database URL (it
/// may hold a password) or a key.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

fn parse_database_url(url: &str) -> Result<Secret, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("expected a postgres:// or postgresql:// URL".to_owned());
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|err| err.to_string())?;
    Ok(Secret(url.to_owned()))
}

fn parse_admin_key(key: &str) -> Result<Secret, String> {
    if key.trim().len() < 24 {
        return Err(
            "must be at least 24 characters (make one with `signatories keys generate`)".to_owned(),
        );
    }
    Ok(Secret(key.trim().to_owned()))
}

impl Config {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout)
    }

    /// The CORS origins, checked: `None` means any origin.
    pub fn cors_origins(&self) -> anyhow::Result<Option<Vec<axum::http::HeaderValue>>> {
        let value = self.cors_origins.trim();
        if value == "*" {
            return Ok(None);
        }
        value
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/');
                if !valid {
                    anyhow::bail!(
                        "SIGNATORIES_CORS_ORIGINS: {origin:?} is not an origin like https://example.org (or use *)"
                    );
                }
                Ok(axum::http::HeaderValue::from_str(origin)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn replica_urls_are_a_checked_comma_separated_list() {
        let cli = Cli::parse_from([
            "signatories",
            "--replica-urls",
            "postgres://reader:pw@replica-a/signatories,postgres://reader:pw@replica-b/signatories",
        ]);
        assert_eq!(cli.config.replica_urls.len(), 2);
        assert!(!format!("{:?}", cli.config).contains("pw@"));
        assert!(Cli::try_parse_from(["signatories", "--replica-urls", "mysql://replica"]).is_err());
        let none = Cli::parse_from(["signatories"]);
        assert!(none.config.replica_urls.is_empty());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let cli = Cli::parse_from([
            "signatories",
            "--database-url",
            "postgres://reader:hunter2-password@db.example/signatories",
            "--admin-key",
            "an-admin-key-long-enough-to-be-accepted",
        ]);
        let printed = format!("{:?}", cli.config);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("an-admin-key"), "{printed}");
        assert_eq!(
            cli.config.database_url.as_ref().map(Secret::expose),
            Some("postgres://reader:hunter2-password@db.example/signatories")
        );
    }
}
