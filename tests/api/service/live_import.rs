//! An import into a database that is serving, through the real server on loopback:
//! reads keep answering while it runs, and a write that waits behind it is answered
//! 503 within its lock timeout instead of hanging.

use std::time::{Duration, Instant};

use signatories::datasets::{self, GenerateOptions};
use signatories::{ConnectionLimits, HttpSettings, transfer};

use crate::helpers::import_options;
use crate::helpers::loopback::{self, request};

const ADMIN_KEY: &str = "live-import-admin-key-0123456789";

#[tokio::test]
async fn reads_keep_answering_while_an_import_runs_and_writes_wait_no_longer_than_their_timeout() {
    // No response cache: every read goes to the tables the import is filling.
    let settings = HttpSettings {
        admin_key_hash: Some(signatories::keys::hash(ADMIN_KEY)),
        cache_bytes: 0,
        ..HttpSettings::default()
    };
    let served = loopback::serve(settings, ConnectionLimits::default()).await;
    let dir = tempfile::tempdir().unwrap();
    datasets::generate(
        &GenerateOptions {
            seed: 5,
            statements: 400,
        },
        dir.path(),
    )
    .unwrap();
    let options = import_options(dir.path());
    let finished = std::sync::atomic::AtomicBool::new(false);
    let importing = async {
        let report = transfer::import(&served.db, &options).await;
        finished.store(true, std::sync::atomic::Ordering::Relaxed);
        report
    };

    let address = served.address;
    let reads = [
        "/v1/statements/hrc41-letter-supportive-2019-07-12",
        "/v1/statements/hrc41-letter-supportive-2019-07-12/signatories?limit=5",
        "/v1/participations?country=FRA&limit=5",
        "/v1/stats/stances?group_by=year&topic=xinjiang",
    ];
    let probing = async {
        let mut latencies = Vec::new();
        let mut write = None;
        let started = Instant::now();
        while !finished.load(std::sync::atomic::Ordering::Relaxed) {
            for path in reads {
                let response = request(address, "127.0.0.2", path, &[]).await;
                assert_eq!(response.status, 200, "{path} during the import");
                latencies.push(response.took);
            }
            if write.is_none() && started.elapsed() > Duration::from_millis(300) {
                let bearer = format!("Bearer {ADMIN_KEY}");
                let posted = std::time::Instant::now();
                let response = loopback::send(
                    address,
                    "POST",
                    "/v1/topics",
                    &[
                        ("authorization", &bearer),
                        ("content-type", "application/json"),
                    ],
                    r#"{"slug": "written-during-import", "name": "Written during an import"}"#,
                )
                .await;
                write = Some((response, posted.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (latencies, write)
    };
    // One task: the import and the reads interleave at every wait on the database.
    let (report, (mut latencies, write)) = tokio::join!(importing, probing);
    let report = report.unwrap();
    assert!(report.signatories.created > 20_000, "a large import");

    latencies.sort();
    assert!(latencies.len() >= 8, "reads ran during the import");
    let p99 = latencies[latencies.len() * 99 / 100];
    assert!(
        p99 < Duration::from_secs(1),
        "reads waited {p99:?} for the import"
    );

    let (response, took) = write.expect("a write was tried during the import");
    assert!(
        took < Duration::from_secs(5),
        "a write behind the import waited {took:?}"
    );
    match response.status {
        201 => {}
        503 => assert!(response.header("retry-after").is_some()),
        other => panic!(
            "a write during an import answered {other}: {}",
            response.body
        ),
    }
}
