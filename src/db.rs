//! Opening the database: an external server from `DATABASE_URL`, or the embedded cluster.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::config::Config;
use crate::embedded::{Cluster, ClusterOptions};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// How often the embedded server is checked, and how many failed starts in a row
/// make the process give up.
const SUPERVISION_INTERVAL: Duration = Duration::from_secs(1);
const MAX_FAILED_STARTS: u32 = 5;

/// The database the embedded cluster serves.
pub const EMBEDDED_DATABASE: &str = "signatories";

/// An open database, and the embedded cluster behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    pub cluster: Option<Cluster>,
}

impl Database {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let (options, cluster) = match &config.database_url {
            Some(url) => (
                url.expose()
                    .parse::<PgConnectOptions>()
                    .context("DATABASE_URL")?,
                None,
            ),
            None => {
                let options = ClusterOptions::new(&config.data_dir);
                let cluster =
                    tokio::task::spawn_blocking(move || Cluster::start(&options)).await??;
                cluster.create_database(EMBEDDED_DATABASE, None).await?;
                (cluster.connect_options(EMBEDDED_DATABASE), Some(cluster))
            }
        };
        let pool = pool_options(config.pool_size)
            .connect_with(serving_settings(options, config.statement_timeout))
            .await
            .context("cannot connect to the database")?;
        Ok(Self { pool, cluster })
    }

    /// Keeps the embedded server up: checks it every second and starts it again when
    /// it has died (PostgreSQL recovers from its write-ahead log). Resolves only with
    /// the error that made it give up, after several failed starts in a row, so that
    /// the process can exit and its supervisor start it afresh. Pending forever for an
    /// external database or a server this process did not start.
    pub async fn supervise(&self) -> anyhow::Error {
        let Some(launcher) = self.cluster.as_ref().and_then(Cluster::launcher) else {
            return std::future::pending().await;
        };
        let mut failures = 0;
        loop {
            tokio::time::sleep(SUPERVISION_INTERVAL).await;
            let check = launcher.clone();
            if tokio::task::spawn_blocking(move || check.is_running())
                .await
                .unwrap_or(true)
            {
                failures = 0;
                continue;
            }
            tracing::error!("the embedded PostgreSQL server is down; starting it again");
            let start = launcher.clone();
            match tokio::task::spawn_blocking(move || start.start()).await {
                Ok(Ok(())) => tracing::info!("the embedded PostgreSQL server is up again"),
                Ok(Err(err)) => {
                    failures += 1;
                    tracing::error!(error = %err, failures, "starting PostgreSQL again failed");
                    if failures >= MAX_FAILED_STARTS {
                        return err
                            .context("the embedded PostgreSQL server cannot be started again");
                    }
                }
                Err(err) => return anyhow::Error::from(err),
            }
        }
    }

    /// Closes the pool, then stops the embedded cluster if this process started it.
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await??;
        }
        Ok(())
    }
}

/// The settings of the service's database sessions.
///
/// Every query is planned for its own parameters: one country has signed tens of
/// thousands of statements and another two, so the generic plan PostgreSQL would
/// otherwise settle on after five executions of a prepared statement is wrong for most
/// of them. No JIT compilation: when the planner overestimates a query's rows, compiling
/// costs more than running it.
pub fn session_settings(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("plan_cache_mode", "force_custom_plan"), ("jit", "off")])
}

/// The settings of sessions that plan each prepared statement once, for any parameters
/// (`force_generic_plan`). For queries that plan alike for every parameter: left to
/// choose (`auto`), PostgreSQL kept planning them afresh, since a generic plan's cost
/// for an unknown `LIMIT` looks higher than a custom one's. Nor do they start parallel
/// workers: they walk an index to a `LIMIT`, and a generic plan's row count for a key
/// that averages many rows made workers look worth their start-up.
pub fn keeping_generic_plans(options: PgConnectOptions) -> PgConnectOptions {
    options.options([
        ("plan_cache_mode", "force_generic_plan"),
        ("max_parallel_workers_per_gather", "0"),
    ])
}

/// The settings of sessions that read CSV exports in keyset batches, planned without
/// merge joins: a batch walks an index from its cursor to a `LIMIT`, and looking up
/// what each row joins by its key reads less than a merge join, which walks the joined
/// table's key alongside from the first one the cursor allows.
pub fn exporting(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("enable_mergejoin", "off")])
}

/// The settings of a serving session: [`session_settings`] and the statement timeout
/// (`SIGNATORIES_STATEMENT_TIMEOUT`, seconds; 0: none).
pub fn serving_settings(options: PgConnectOptions, statement_timeout: u64) -> PgConnectOptions {
    session_settings(options).options([("statement_timeout", format!("{statement_timeout}s"))])
}

/// Begins a read-only transaction on one snapshot for queries that each look rows up by
/// one unique key (a statement's row, its list, its sources; a topic's calendar and
/// spans): those plan the same for every key, so they keep PostgreSQL's cached generic
/// plan rather than being planned again on every run as the session setting above has
/// it. Planning them costs more than running them.
pub const BEGIN_KEYED_READ: &str =
    "begin isolation level repeatable read, read only; set local plan_cache_mode = auto";

pub fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size)
        // A request waits this long for a connection before it is answered 503.
        .acquire_timeout(Duration::from_secs(1))
}

/// Applies the pending migrations through a connection of their own, without the
/// serving sessions' statement timeout: a migration may rebuild a whole table.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let options = (*pool.connect_options())
        .clone()
        .options([("statement_timeout", "0")]);
    let mut conn = PgConnection::connect_with(&options).await?;
    MIGRATOR
        .run(&mut conn)
        .await
        .context("applying migrations")?;
    conn.close().await?;
    Ok(())
}
