//! The database dies under writers, as the real binary meets it: every failed request
//! is a quick 503 with `Retry-After`, no acknowledged write is lost, and service comes
//! back by itself (the embedded server is started again by the service; an external
//! one is started again by its operator). A second service on the same embedded
//! cluster is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use signatories::embedded::{Cluster, ClusterOptions};

use crate::helpers::binary::{
    http_get, http_request, signatories_bin, start_service, terminate, wait_until_ready,
};
use crate::helpers::replication::postmaster_pid;

const ADMIN_KEY: &str = "outage-drill-admin-key-0123456789";

/// The drills read back every topic written: no rate limit for that one client.
const NO_RATE_LIMIT: (&str, &str) = ("SIGNATORIES_RATE_LIMIT", "0");

/// What one write saw.
struct Write {
    slug: String,
    status: u16,
    took: Duration,
    retry_after: bool,
    at: Instant,
}

/// Four writers adding topics until `stop`, each write on a new connection.
fn writers(address: &str, stop: &Arc<AtomicBool>) -> Vec<JoinHandle<Vec<Write>>> {
    (0..4)
        .map(|writer| {
            let (address, stop) = (address.to_owned(), stop.clone());
            std::thread::spawn(move || {
                let mut writes = Vec::new();
                let bearer = format!("Bearer {ADMIN_KEY}");
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let slug = format!("drill-{writer}-{n}");
                    let body =
                        format!(r#"{{"slug": "{slug}", "name": "Drill topic {writer}/{n}"}}"#);
                    let started = Instant::now();
                    let (status, response) = http_request(
                        &address,
                        "POST",
                        "/v1/topics",
                        &[
                            ("authorization", &bearer),
                            ("content-type", "application/json"),
                        ],
                        &body,
                    );
                    writes.push(Write {
                        slug,
                        status,
                        took: started.elapsed(),
                        retry_after: response.to_ascii_lowercase().contains("\r\nretry-after: "),
                        at: Instant::now(),
                    });
                    std::thread::sleep(Duration::from_millis(20));
                }
                writes
            })
        })
        .collect()
}

fn kill_hard(pid: i32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

/// Lets the writers run until a write succeeds a second after `since` (at most
/// `limit`), stops them, and checks what they saw: every failure a quick 503 with
/// `Retry-After`, every acknowledged topic still there. Returns when writes came back.
fn check_the_writers(
    address: &str,
    stop: &Arc<AtomicBool>,
    handles: Vec<JoinHandle<Vec<Write>>>,
    since: Instant,
    limit: Duration,
) -> Duration {
    let deadline = since + limit;
    let mut back = None;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        let (status, _) = http_get(address, "/v1/topics?limit=1");
        if status == 200 && since.elapsed() > Duration::from_secs(1) {
            back = Some(since.elapsed());
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let writes: Vec<Write> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let back = back.unwrap_or_else(|| panic!("not serving again within {limit:?}"));

    let failed: Vec<&Write> = writes.iter().filter(|w| w.status != 201).collect();
    assert!(!failed.is_empty(), "the outage was seen by some write");
    for write in &failed {
        assert_eq!(
            write.status, 503,
            "{} failed with {}",
            write.slug, write.status
        );
        assert!(
            write.retry_after,
            "{}: a 503 says when to retry",
            write.slug
        );
        assert!(
            write.took < Duration::from_millis(2500),
            "{} waited {:?} for its 503",
            write.slug,
            write.took
        );
    }
    let acknowledged: Vec<&Write> = writes.iter().filter(|w| w.status == 201).collect();
    assert!(
        acknowledged.iter().any(|w| w.at > since + back),
        "writes succeed again after the outage"
    );
    for write in acknowledged {
        let (status, _) = http_get(address, &format!("/v1/topics/{}", write.slug));
        assert_eq!(
            status, 200,
            "acknowledged topic {} was lost ({status})",
            write.slug
        );
    }
    back
}

fn cluster_dir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    // The cluster may run as the postgres user, which must reach its directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

#[test]
fn the_embedded_database_killed_under_writers_is_started_again_by_the_service() {
    let dir = cluster_dir("signatories-outage-");
    let data_dir = dir.path().join("postgres");
    let (service, address) = start_service(
        &data_dir,
        &[("SIGNATORIES_ADMIN_KEY", ADMIN_KEY), NO_RATE_LIMIT],
    );
    wait_until_ready(&address);

    // A second service on the same cluster is refused, naming the first.
    let second = signatories_bin()
        .args(["serve"])
        .env("SIGNATORIES_DATA_DIR", &data_dir)
        .env("SIGNATORIES_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another signatories process")
            && stderr.contains(&service.id().to_string()),
        "{stderr}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let handles = writers(&address, &stop);
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    kill_hard(postmaster_pid(&data_dir));
    let back = check_the_writers(&address, &stop, handles, killed, Duration::from_secs(20));
    assert!(
        back < Duration::from_secs(10),
        "serving again after {back:?}"
    );
    let (status, _) = http_get(&address, "/readyz");
    assert_eq!(status, 200);
    terminate(service);
}

#[test]
fn an_external_database_killed_under_writers_and_restarted_loses_no_write() {
    let dir = cluster_dir("signatories-external-");
    let cluster = Cluster::start(&ClusterOptions::new(dir.path().join("postgres"))).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(cluster.create_database("external", None))
        .unwrap();
    let url = format!(
        "postgres://signatories@localhost/external?host={}&port=5432",
        cluster.data_dir().display()
    );
    let service_dir = dir.path().join("unused");
    let (service, address) = start_service(
        &service_dir,
        &[
            ("SIGNATORIES_ADMIN_KEY", ADMIN_KEY),
            ("DATABASE_URL", &url),
            NO_RATE_LIMIT,
        ],
    );
    wait_until_ready(&address);

    let stop = Arc::new(AtomicBool::new(false));
    let handles = writers(&address, &stop);
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    kill_hard(postmaster_pid(cluster.data_dir()));
    std::thread::sleep(Duration::from_secs(5));
    cluster.launcher().unwrap().start().unwrap();
    let down = killed.elapsed();
    let back = check_the_writers(&address, &stop, handles, killed, Duration::from_secs(30));
    assert!(
        back < down + Duration::from_secs(5),
        "serving again {:?} after the database was back",
        back.saturating_sub(down)
    );
    terminate(service);
}
