//! The `signatories` command: serve the API or apply migrations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use signatories::config::{Config, LogFormat};
use signatories::datasets::{self, GenerateOptions};
use signatories::db::{self, Database};
use signatories::embedded::ServeLock;
use signatories::keys::{self, ApiRole};
use signatories::transfer::{self, ExportFormat, ImportOptions};
use signatories::{AppState, ConnectionLimits, HttpSettings};
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
    /// Import statements, signatories, sources, topics and countries from a directory
    /// of CSV or NDJSON files (the layout of data/xinjiang/, see README). All or nothing.
    Import {
        /// The directory holding statements.csv, signatories.csv, … (or .ndjson).
        dir: PathBuf,
        /// Validate and report what would change, then roll back.
        #[arg(long)]
        dry_run: bool,
        /// The topic of statements whose row names none.
        #[arg(long)]
        topic: Option<String>,
        /// Nothing else uses the database meanwhile: a large load may set the indexes
        /// of tables that hold rows aside (faster), locking their readers out until it
        /// commits. Without it, only empty tables' indexes are set aside.
        #[arg(long)]
        offline: bool,
    },
    /// Export the whole database in the import layout.
    Export {
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
    },
    /// Convert the UN General Assembly roll calls (Voeten's data as packaged by R
    /// unvotes) into the import layout: topics.csv, statements.csv, signatories.csv.
    Unvotes {
        /// The directory holding un_roll_calls.csv.gz, un_roll_call_issues.csv and
        /// un_votes.csv.gz.
        #[arg(long, default_value = "data/unvotes")]
        from: PathBuf,
        /// Where to write the files (created if missing).
        out_dir: PathBuf,
    },
    /// Write deterministic synthetic statements and signatories in the import layout,
    /// for load tests (about 100 signatories per statement).
    Generate {
        /// The same seed and size give the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many statements.
        #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
        statements: u64,
        /// Where to write the files (created if missing).
        out_dir: PathBuf,
    },
    /// Manage API keys for the write endpoints.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print it once; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "editor")]
        role: ApiRole,
    },
    /// List keys (names, roles, dates; never the keys).
    List,
    /// Revoke a key by name.
    Revoke { name: String },
    /// Print a new random key without storing it (e.g. for SIGNATORIES_ADMIN_KEY).
    Generate,
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
    // Logs go to stderr: stdout carries the commands' own output (keys, import reports).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
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
    let mut config = cli.config;
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Serve) {
        // An import or an export may run one statement for minutes.
        config.statement_timeout = 0;
    }
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let database = Database::open(&config).await?;
            db::migrate(&database.pool).await?;
            tracing::info!("migrations applied");
            database.close().await
        }
        Command::Keys(command) => run_keys(&config, command).await,
        Command::Import {
            dir,
            dry_run,
            topic,
            offline,
        } => {
            let database = Database::open(&config).await?;
            db::migrate(&database.pool).await?;
            let options = ImportOptions {
                dir,
                dry_run,
                default_topic: topic,
                actor: "import".to_owned(),
                offline,
            };
            let result = transfer::import(&database.pool, &options).await;
            database.close().await?;
            let report = result?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.dry_run {
                eprintln!("Dry run: nothing was written.");
            } else if report.changed_nothing() {
                eprintln!("Nothing changed: the database already holds these files.");
            }
            Ok(())
        }
        Command::Unvotes { from, out_dir } => {
            let report = datasets::convert_unvotes(&from, &out_dir)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            eprintln!(
                "Wrote {}; load it with: signatories import {}",
                out_dir.display(),
                out_dir.display()
            );
            Ok(())
        }
        Command::Generate {
            seed,
            statements,
            out_dir,
        } => {
            let options = GenerateOptions {
                seed,
                statements: statements as usize,
            };
            let report = datasets::generate(&options, &out_dir)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Export { dir, format } => {
            let database = Database::open(&config).await?;
            db::migrate(&database.pool).await?;
            let result = transfer::export(&database.pool, &dir, format).await;
            database.close().await?;
            println!("{}", serde_json::to_string_pretty(&result?)?);
            Ok(())
        }
    }
}

async fn run_keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    if let KeysCommand::Generate = command {
        println!("{}", keys::generate());
        return Ok(());
    }
    let database = Database::open(config).await?;
    db::migrate(&database.pool).await?;
    let result = manage_keys(&database.pool, command).await;
    database.close().await?;
    result
}

async fn manage_keys(db: &sqlx::PgPool, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { name, role } => {
            let key = keys::create(db, &name, role).await?;
            eprintln!("Created {role:?} key {name:?}. It is shown once; store it now:");
            println!("{key}");
        }
        KeysCommand::List => {
            for key in keys::list(db).await? {
                println!("{}", serde_json::to_string(&key)?);
            }
        }
        KeysCommand::Revoke { name } => {
            if !keys::revoke(db, &name).await? {
                anyhow::bail!("no active key is named {name:?}");
            }
            eprintln!("Revoked key {name:?}.");
        }
        KeysCommand::Generate => println!("{}", keys::generate()),
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let settings = HttpSettings::from_config(&config)?;
    // One serving process per embedded cluster; held until this process exits.
    let _serving = match config.database_url {
        None => Some(ServeLock::acquire(&config.data_dir)?),
        Some(_) => None,
    };
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("SIGNATORIES_BIND: cannot listen on {}", config.bind))?;
    let address = listener.local_addr()?;
    let database = Database::open(&config).await?;
    db::migrate(&database.pool).await?;
    let state = AppState::new(database.pool.clone(), settings);
    state.alignment.clone().warm_up(state.db.clone());
    tracing::info!(address = %address, "serving");
    let serving = signatories::serve(
        listener,
        state,
        ConnectionLimits::from_config(&config),
        shutdown_signal(),
    );
    tokio::select! {
        served = serving => served?,
        gave_up = database.supervise() => return Err(gave_up),
    }
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
