//! A local PostgreSQL cluster run from the server binaries already on the machine.
//! Used by `serve` when no `DATABASE_URL` is given, and by the test harness.
//!
//! The cluster listens only on a Unix socket inside its own directory, so it never
//! clashes with another server's TCP port. `initdb` and `postgres` refuse to run as
//! root, so a root process runs them as the `postgres` system user.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

pub use self::binaries::find_binaries;

mod binaries;

/// The superuser that `initdb` creates; trust authentication over the socket only.
const SUPERUSER: &str = "signatories";
const PORT: u16 = 5432;
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// The unprivileged account that runs the cluster when this process is root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> anyhow::Result<Option<RunAs>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name("postgres")?.context(
        "PostgreSQL refuses to run as root and there is no `postgres` system user to run it as: \
         create one (`useradd --system postgres`), run as another user, or set DATABASE_URL",
    )?;
    Ok(Some(RunAs {
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    }))
}

/// How to set a cluster up.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster directory (`PGDATA`).
    pub data_dir: PathBuf,
    /// Extra `postgres -c name=value` settings.
    pub settings: Vec<(String, String)>,
    /// Delete the whole cluster directory once stopped (throwaway test clusters).
    pub remove_on_stop: bool,
}

impl ClusterOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            settings: Vec::new(),
            remove_on_stop: false,
        }
    }
}

/// A running cluster. Stopping it is tied to this process's life: a watchdog child
/// holds the read end of a pipe and stops the server once the pipe closes, so the
/// server goes down with [`Cluster::stop`], with `Drop`, or when this process dies in
/// any way at all (tests never leave a server behind).
#[derive(Debug)]
pub struct Cluster {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    watchdog: Option<Child>,
    /// How to start the server again, when this process started it.
    launcher: Option<Launcher>,
}

/// What `pg_ctl start` needs to start a cluster's server.
#[derive(Debug, Clone)]
pub struct Launcher {
    bindir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<RunAs>,
    server_options: String,
}

impl Launcher {
    /// Starts the server and waits until it accepts connections. After a crash,
    /// PostgreSQL replays its write-ahead log before it does.
    pub fn start(&self) -> anyhow::Result<()> {
        if !server_running(&self.data_dir) {
            clear_stale_lock(&self.data_dir, &self.socket_dir);
        }
        let mut pg_ctl = pg_command(&self.bindir.join("pg_ctl"), &self.data_dir, self.run_as);
        pg_ctl
            .arg("start")
            .arg("--wait")
            .arg("--pgdata")
            .arg(&self.data_dir)
            .arg("--log")
            .arg(self.data_dir.join("server.log"))
            .arg("-o")
            .arg(&self.server_options);
        run(&mut pg_ctl).with_context(|| {
            format!(
                "PostgreSQL did not start; see {}",
                self.data_dir.join("server.log").display()
            )
        })
    }

    /// Whether the server is running on this cluster.
    pub fn is_running(&self) -> bool {
        server_running(&self.data_dir)
    }
}

impl Cluster {
    /// Creates the cluster on first use, clears a stale `postmaster.pid`, and starts
    /// the server unless one is already running on this directory.
    pub fn start(options: &ClusterOptions) -> anyhow::Result<Self> {
        let bindir = find_binaries()?;
        let run_as = run_as()?;
        fs::create_dir_all(&options.data_dir)
            .with_context(|| format!("cannot create {}", options.data_dir.display()))?;
        let data_dir = fs::canonicalize(&options.data_dir)?;
        prepare_dir(&data_dir, run_as)?;
        let socket_dir = socket_dir_for(&data_dir);
        if socket_dir != data_dir {
            fs::create_dir_all(&socket_dir)?;
            prepare_dir(&socket_dir, run_as)?;
        }

        if !data_dir.join("PG_VERSION").exists() {
            let mut initdb = pg_command(&bindir.join("initdb"), &data_dir, run_as);
            initdb.arg("--pgdata").arg(&data_dir).args([
                "--username",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ]);
            run(&mut initdb).context("initdb failed")?;
        }

        if server_running(&data_dir) {
            tracing::info!(data_dir = %data_dir.display(), "reusing the PostgreSQL server already running on this cluster");
            return Ok(Self {
                data_dir,
                socket_dir,
                watchdog: None,
                launcher: None,
            });
        }

        let mut server_options = format!(
            "-c listen_addresses='' -c unix_socket_directories={} -p {PORT}",
            shell_quote(&socket_dir)
        );
        for (name, value) in &options.settings {
            server_options.push_str(&format!(" -c {name}={}", shell_quote(Path::new(value))));
        }
        let launcher = Launcher {
            bindir: bindir.clone(),
            data_dir: data_dir.clone(),
            socket_dir: socket_dir.clone(),
            run_as,
            server_options,
        };
        launcher.start()?;

        let mut watchdog = pg_command(Path::new("/bin/sh"), &data_dir, run_as);
        watchdog
            .arg("-c")
            .arg(r#"cat >/dev/null; "$0" stop --pgdata "$1" --mode fast --wait --silent; if [ "$2" = remove ]; then rm -rf "$1"; fi"#)
            .arg(bindir.join("pg_ctl"))
            .arg(&data_dir)
            .arg(if options.remove_on_stop { "remove" } else { "keep" })
            .stdin(Stdio::piped());
        let watchdog = watchdog
            .spawn()
            .context("cannot start the cluster's watchdog")?;
        tracing::info!(data_dir = %data_dir.display(), socket_dir = %socket_dir.display(), "PostgreSQL started");
        Ok(Self {
            data_dir,
            socket_dir,
            watchdog: Some(watchdog),
            launcher: Some(launcher),
        })
    }

    /// How to start the server again if it dies, when this process started it.
    pub fn launcher(&self) -> Option<Launcher> {
        self.launcher.clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Connection options for `database` on this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(PORT)
            .username(SUPERUSER)
            .database(database)
    }

    /// Creates `database` unless it exists, optionally as a copy of `template`.
    pub async fn create_database(
        &self,
        database: &str,
        template: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut conn = PgConnection::connect_with(&self.connect_options("postgres")).await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
                .bind(database)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            let mut sql = format!("create database {}", quote_ident(database));
            if let Some(template) = template {
                sql.push_str(&format!(" template {}", quote_ident(template)));
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    /// Stops the server (if this process started it) and waits until it is down.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.stop_watchdog()
    }

    fn stop_watchdog(&mut self) -> anyhow::Result<()> {
        if let Some(mut watchdog) = self.watchdog.take() {
            drop(watchdog.stdin.take());
            let status = watchdog.wait()?;
            if !status.success() {
                bail!("pg_ctl stop failed ({status})");
            }
            tracing::info!(data_dir = %self.data_dir.display(), "PostgreSQL stopped");
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(err) = self.stop_watchdog() {
            tracing::warn!(error = %err, "stopping PostgreSQL");
        }
    }
}

/// The socket lives in the cluster directory unless that path is too long for a Unix
/// socket; then in a short per-cluster directory under the system temp dir.
fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let socket_file = format!(".s.PGSQL.{PORT}");
    if data_dir.as_os_str().len() + 1 + socket_file.len() <= MAX_SOCKET_PATH {
        return data_dir.to_path_buf();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    PathBuf::from("/tmp").join(format!("signatories-{short}"))
}

/// PostgreSQL wants its directories private and owned by the account that runs it.
fn prepare_dir(dir: &Path, run_as: Option<RunAs>) -> anyhow::Result<()> {
    if let Some(user) = run_as {
        nix::unistd::chown(
            dir,
            Some(nix::unistd::Uid::from_raw(user.uid)),
            Some(nix::unistd::Gid::from_raw(user.gid)),
        )
        .with_context(|| format!("cannot hand {} to the postgres user", dir.display()))?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn pg_command(program: &Path, data_dir: &Path, run_as: Option<RunAs>) -> Command {
    let mut command = Command::new(program);
    // Its own process group: a Ctrl-C in the terminal goes to the service, which
    // drains its requests before it stops the database, not to the database directly.
    command.current_dir(data_dir).process_group(0);
    if let Some(user) = run_as {
        // std drops root's supplementary groups when it changes the uid.
        command.uid(user.uid).gid(user.gid);
    }
    command
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {:?}", command.get_program()))?;
    if !output.status.success() {
        bail!(
            "{:?} exited with {}: {}{}",
            command.get_program(),
            output.status,
            String::from_utf8_lossy(&output.stdout).trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The pid recorded in `postmaster.pid`, if that file exists.
fn recorded_pid(data_dir: &Path) -> Option<i32> {
    fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A server runs on this cluster when the recorded pid is alive and is a postgres
/// process; after a crash or a reboot the pid may belong to anything else.
fn server_running(data_dir: &Path) -> bool {
    let Some(pid) = recorded_pid(data_dir) else {
        return false;
    };
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim().starts_with("postgres"),
        Err(err) if err.kind() == ErrorKind::NotFound => false,
        // No /proc (not Linux): fall back to asking whether the pid exists.
        Err(_) => nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok(),
    }
}

/// Holds a cluster directory for one serving process: a second `serve` on the same
/// directory fails at once rather than racing the first for its server.
#[derive(Debug)]
pub struct ServeLock {
    _file: nix::fcntl::Flock<fs::File>,
}

impl ServeLock {
    /// Takes the lock beside `data_dir` (`<data_dir>.lock`), or says who holds it.
    pub fn acquire(data_dir: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let mut path = fs::canonicalize(data_dir)?.into_os_string();
        path.push(".lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", Path::new(&path).display()))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(mut file) => {
                use std::io::Write;
                file.set_len(0)?;
                writeln!(*file, "{}", std::process::id())?;
                Ok(Self { _file: file })
            }
            Err((file, _)) => {
                let holder = fs::read_to_string(Path::new(&path)).unwrap_or_default();
                drop(file);
                bail!(
                    "another signatories process (pid {}) is serving the cluster in {}; \
                     stop it first, or set SIGNATORIES_DATA_DIR to another directory",
                    holder.trim(),
                    data_dir.display()
                )
            }
        }
    }
}

fn clear_stale_lock(data_dir: &Path, socket_dir: &Path) {
    if recorded_pid(data_dir).is_some() {
        tracing::warn!(data_dir = %data_dir.display(), "removing a stale postmaster.pid left by a crash");
    }
    for stale in [
        data_dir.join("postmaster.pid"),
        socket_dir.join(format!(".s.PGSQL.{PORT}.lock")),
        socket_dir.join(format!(".s.PGSQL.{PORT}")),
    ] {
        let _ = fs::remove_file(stale);
    }
}

/// Quotes a value for the shell that `pg_ctl` runs `postgres` through.
fn shell_quote(value: &Path) -> String {
    format!("'{}'", value.to_string_lossy().replace('\'', r"'\''"))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_data_dirs_get_a_short_socket_dir() {
        let short = Path::new("/srv/signatories/postgres");
        assert_eq!(socket_dir_for(short), short);
        let deep = PathBuf::from(format!("/tmp/{}/postgres", "d".repeat(120)));
        let socket_dir = socket_dir_for(&deep);
        assert!(
            socket_dir
                .to_str()
                .unwrap()
                .starts_with("/tmp/signatories-"),
            "{socket_dir:?}"
        );
        assert!(socket_dir.as_os_str().len() + 15 <= MAX_SOCKET_PATH);
        assert_eq!(socket_dir, socket_dir_for(&deep), "stable per cluster");
    }
}
