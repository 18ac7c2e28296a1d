//! Shutting down under load, through the real server on loopback: once the shutdown
//! signal comes, readiness fails and responses close their connections for the grace
//! period, and every request already in flight, long CSV streams included, completes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signatories::datasets::{self, GenerateOptions};
use signatories::{AppState, ConnectionLimits, HttpSettings, transfer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::helpers::loopback::request;
use crate::helpers::{fresh_database, import_options};

const EXPORT: &str = "/v1/participations?format=csv";

/// What one keep-alive client saw.
#[derive(Default, Debug)]
struct Seen {
    complete: usize,
    /// Requests sent whose response broke off or never came.
    failed_in_flight: usize,
    closed_by_server: usize,
}

/// Reads one chunked response to its end: whether it was whole, its CSV lines, and
/// whether the server asked to close the connection.
async fn read_response(stream: &mut BufReader<TcpStream>) -> Option<(usize, bool)> {
    let mut close = false;
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    if !line.starts_with("HTTP/1.1 200") {
        return None;
    }
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        if line == "\r\n" {
            break;
        }
        close |= line.to_ascii_lowercase().starts_with("connection: close");
    }
    let mut lines = 0;
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let size = usize::from_str_radix(line.trim(), 16).ok()?;
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).await.ok()?;
        if size == 0 {
            return Some((lines, close));
        }
        lines += chunk[..size].iter().filter(|b| **b == b'\n').count();
    }
}

/// Streams the export again and again on keep-alive connections until the server
/// refuses new ones.
async fn client(address: SocketAddr, expected_lines: usize, stopping: Arc<AtomicBool>) -> Seen {
    let mut seen = Seen::default();
    'connections: loop {
        let Ok(stream) = TcpStream::connect(address).await else {
            break;
        };
        let mut stream = BufReader::new(stream);
        loop {
            let sent = stream
                .get_mut()
                .write_all(format!("GET {EXPORT} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
                .await;
            if sent.is_err() {
                // Closed before the request went out: nothing was in flight.
                continue 'connections;
            }
            match read_response(&mut stream).await {
                Some((lines, close)) => {
                    assert_eq!(lines, expected_lines, "a whole export");
                    seen.complete += 1;
                    if close {
                        seen.closed_by_server += 1;
                        continue 'connections;
                    }
                }
                None => {
                    seen.failed_in_flight += 1;
                    continue 'connections;
                }
            }
            if stopping.load(Ordering::Relaxed) && seen.closed_by_server > 0 {
                break 'connections;
            }
        }
    }
    seen
}

#[tokio::test]
async fn a_shutdown_under_sixteen_streaming_clients_fails_no_request_in_flight() {
    let db = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    datasets::generate(
        &GenerateOptions {
            seed: 3,
            statements: 150,
        },
        dir.path(),
    )
    .unwrap();
    transfer::import(&db, &import_options(dir.path()))
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::new(db, HttpSettings::default());
    let (signal, shutdown) = tokio::sync::oneshot::channel::<()>();
    let limits = ConnectionLimits {
        shutdown_grace: Duration::from_secs(1),
        ..ConnectionLimits::default()
    };
    let server = tokio::spawn(async move {
        signatories::serve(listener, state, limits, async {
            let _ = shutdown.await;
        })
        .await
    });

    let mut once = BufReader::new(TcpStream::connect(address).await.unwrap());
    once.get_mut()
        .write_all(format!("GET {EXPORT} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (expected_lines, _) = read_response(&mut once).await.expect("a whole export");
    drop(once);
    assert!(
        expected_lines > 10_000,
        "a long stream: {expected_lines} lines"
    );

    let stopping = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16)
        .map(|_| tokio::spawn(client(address, expected_lines, stopping.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stopping.store(true, Ordering::Relaxed);
    signal.send(()).unwrap();

    // During the grace period readiness fails and the listener still accepts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = request(address, "127.0.0.2", "/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.header("connection"), Some("close"));

    let mut total = Seen::default();
    for client in clients {
        let seen = tokio::time::timeout(Duration::from_secs(60), client)
            .await
            .expect("every client ends once the server is gone")
            .unwrap();
        total.complete += seen.complete;
        total.failed_in_flight += seen.failed_in_flight;
        total.closed_by_server += seen.closed_by_server;
    }
    tokio::time::timeout(Duration::from_secs(40), server)
        .await
        .expect("the server drains and returns")
        .unwrap()
        .unwrap();
    assert_eq!(total.failed_in_flight, 0, "{total:?}");
    assert!(total.complete >= 16, "{total:?}");
    assert!(
        total.closed_by_server >= 16,
        "every client was asked to close: {total:?}"
    );
}
