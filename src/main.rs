//! The `signatories` command: serve the API or apply migrations.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use signatories::config::{Config, LogFormat};
use signatories::db::{self, Database};
use signatories::{AppState, HttpSettings};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    version,
    about = "An open data API of joint statements between countries."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = init_logging(&cli.config) {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "exiting");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log_filter).with_context(|| {
        format!(
            "RUST_LOG: {:?} is not a valid log filter",
            config.log_filter
        )
    })?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let database = Database::open(&config).await?;
            db::migrate(&database.pool).await?;
            tracing::info!("migrations applied");
            database.close().await
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let settings = HttpSettings::from_config(&config)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("SIGNATORIES_BIND: cannot listen on {}", config.bind))?;
    let database = Database::open(&config).await?;
    db::migrate(&database.pool).await?;
    let app = signatories::app(AppState::new(database.pool.clone(), settings));
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("requests drained; shutting down");
    database.close().await
}

async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
