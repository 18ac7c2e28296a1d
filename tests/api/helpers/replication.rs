//! A primary and a streaming standby of it, both throwaway clusters on Unix sockets:
//! the primary holds a migrated, seeded database; the standby is its `pg_basebackup -R`
//! copy, replaying each commit a set delay after the primary made it.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use signatories::embedded::{Cluster, find_binaries};
use signatories::{AppState, HttpSettings, ReplicaSettings};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use super::{TestApp, throwaway_cluster};

const DATABASE: &str = "signatories";

pub struct Replicated {
    pub primary: Cluster,
    pub standby: Cluster,
    _dir: tempfile::TempDir,
}

impl Replicated {
    /// Starts both servers; the standby applies each commit `apply_delay` after it
    /// was made (`recovery_min_apply_delay`), so that a lag is certain.
    pub async fn start(apply_delay: Duration) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("signatories-replicated-")
            .tempdir()
            .unwrap();
        // The servers may run as the postgres user, which must reach their directories
        // and delete them when they stop.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        if let Some(user) = postgres_user() {
            nix::unistd::chown(dir.path(), Some(user.uid), Some(user.gid)).unwrap();
        }
        let (primary_dir, standby_dir) = (dir.path().join("primary"), dir.path().join("standby"));
        let primary = tokio::task::spawn_blocking(move || {
            Cluster::start(&throwaway_cluster(primary_dir)).expect("a primary")
        })
        .await
        .unwrap();
        primary.create_database(DATABASE, None).await.unwrap();
        let pool = PgPool::connect_with(primary.connect_options(DATABASE))
            .await
            .unwrap();
        signatories::db::MIGRATOR.run(&pool).await.unwrap();
        pool.close().await;

        let source = primary.data_dir().to_owned();
        let standby = tokio::task::spawn_blocking(move || {
            base_backup(&source, &standby_dir);
            let mut options = throwaway_cluster(standby_dir);
            options.settings.extend(
                [
                    (
                        "recovery_min_apply_delay",
                        format!("{}ms", apply_delay.as_millis()),
                    ),
                    ("hot_standby_feedback", "on".to_owned()),
                ]
                .map(|(name, value)| (name.to_owned(), value)),
            );
            Cluster::start(&options).expect("a standby")
        })
        .await
        .unwrap();
        Self {
            primary,
            standby,
            _dir: dir,
        }
    }

    /// An instance of the service reading from this standby: in-process, with a pool of
    /// its own on the primary.
    pub async fn instance(&self) -> TestApp {
        let db = signatories::db::pool_options(4)
            .connect_with(signatories::db::serving_settings(
                self.primary.connect_options(DATABASE),
                20,
            ))
            .await
            .unwrap();
        let settings = HttpSettings {
            replicas: vec![ReplicaSettings {
                name: "replica-1".to_owned(),
                options: signatories::db::serving_settings(
                    self.standby.connect_options(DATABASE),
                    20,
                ),
            }],
            // The tests read many pages at once from one client.
            admission: signatories::AdmissionSettings {
                per_client_per_minute: 0,
                ..Default::default()
            },
            ..HttpSettings::default()
        };
        TestApp {
            router: signatories::app(AppState::new(db.clone(), settings)),
            db,
        }
    }

    /// The standby's own connection options, to ask it what it replayed.
    pub fn standby_options(&self) -> PgConnectOptions {
        self.standby.connect_options(DATABASE)
    }

    /// Stops the standby (a fast shutdown: its sessions are ended) and waits for it.
    pub fn stop_standby(&self) {
        let launcher = self.standby.launcher().unwrap();
        let pid = postmaster_pid(self.standby.data_dir());
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        for _ in 0..200 {
            if !launcher.is_running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the standby did not stop");
    }

    pub fn start_standby(&self) {
        self.standby.launcher().unwrap().start().unwrap();
    }
}

/// `pg_basebackup -R`: a copy of the primary that starts as its streaming standby,
/// made by the account that runs the servers.
fn base_backup(primary: &Path, standby: &Path) {
    std::fs::create_dir_all(standby).unwrap();
    std::fs::set_permissions(standby, std::fs::Permissions::from_mode(0o700)).unwrap();
    // Beside the server's own pg_ctl (PATH may hold links to a few binaries only).
    let pg_ctl = std::fs::canonicalize(find_binaries().unwrap().join("pg_ctl")).unwrap();
    let mut command = Command::new(pg_ctl.with_file_name("pg_basebackup"));
    command
        .arg("--pgdata")
        .arg(standby)
        .arg("--host")
        .arg(primary)
        .args([
            "--port",
            "5432",
            "--username",
            "signatories",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
        ]);
    if let Some(user) = postgres_user() {
        nix::unistd::chown(standby, Some(user.uid), Some(user.gid)).unwrap();
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "pg_basebackup: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The account the servers run as when the tests run as root.
fn postgres_user() -> Option<nix::unistd::User> {
    nix::unistd::geteuid()
        .is_root()
        .then(|| nix::unistd::User::from_name("postgres").unwrap().unwrap())
}

/// The pid of the postmaster running a cluster, from its `postmaster.pid`.
pub fn postmaster_pid(data_dir: &std::path::Path) -> i32 {
    std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
