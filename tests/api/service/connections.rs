//! Connections from the socket up, against the real server on loopback: a slow or
//! silent client cannot hold a connection for long, and a flood of connections cannot
//! crowd out the clients already served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use signatories::{ConnectionLimits, HttpSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::helpers::loopback::{self, Served};

async fn serve(limits: ConnectionLimits) -> (SocketAddr, Served) {
    let served = loopback::serve(HttpSettings::default(), limits).await;
    (served.address, served)
}

/// One whole HTTP/1.1 exchange on a new connection: the status line and the time taken.
async fn get(address: SocketAddr, path: &str) -> (String, Duration) {
    let response = loopback::request(address, "127.0.0.1", path, &[]).await;
    (
        response.head.lines().next().unwrap_or_default().to_owned(),
        response.took,
    )
}

/// Waits for the server to close `stream` (end of file or a reset), at most `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn slow_headers_are_cut_off_while_other_clients_are_served() {
    let header_timeout = Duration::from_secs(2);
    let limits = ConnectionLimits {
        header_timeout,
        idle_timeout: Duration::from_secs(1),
        max_per_client: 0,
        ..ConnectionLimits::default()
    };
    let (address, server) = serve(limits).await;
    let (status, _) = get(address, "/v1/statements?limit=1").await;
    assert!(status.contains("200"), "{status}");

    // 500 clients each send a request line, then one header line at a time, never
    // ending the head; bytes keep moving, so only the header timeout can close them.
    let slowloris: Vec<JoinHandle<Option<Duration>>> = (0..500)
        .map(|i| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(address).await.ok()?;
                let opened = Instant::now();
                stream
                    .write_all(b"GET /v1/statements HTTP/1.1\r\nHost: test\r\n")
                    .await
                    .ok()?;
                let mut buffer = [0u8; 1024];
                for line in 0.. {
                    tokio::select! {
                        read = stream.read(&mut buffer) => match read {
                            Ok(0) | Err(_) => return Some(opened.elapsed()),
                            Ok(_) => {}
                        },
                        () = tokio::time::sleep(Duration::from_millis(300)) => {
                            let header = format!("X-Trickle-{i}-{line}: a\r\n");
                            if stream.write_all(header.as_bytes()).await.is_err() {
                                return Some(opened.elapsed());
                            }
                        }
                    }
                    if opened.elapsed() > Duration::from_secs(10) {
                        return None;
                    }
                }
                None
            })
        })
        .collect();

    // While they trickle, a statement is served quickly on a connection of its own.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let (status, took) = get(address, "/v1/statements/hrc41-letter-critical-2019-07-08").await;
        assert!(status.contains("200"), "{status}");
        slowest = slowest.max(took);
    }
    assert!(
        slowest < Duration::from_millis(100),
        "a statement took {slowest:?} while 500 connections trickled"
    );

    for (i, client) in slowloris.into_iter().enumerate() {
        let held = client.await.unwrap();
        let held = held.unwrap_or_else(|| panic!("slow connection {i} was never closed"));
        assert!(
            held <= header_timeout + Duration::from_secs(1),
            "slow connection {i} was held {held:?}"
        );
    }
    drop(server);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let idle_timeout = Duration::from_secs(1);
    let limits = ConnectionLimits {
        idle_timeout,
        header_timeout: Duration::from_secs(5),
        ..ConnectionLimits::default()
    };
    let (address, server) = serve(limits).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 4096];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));

    // Kept alive: a second request on the same connection is answered.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));

    let closed = closed_within(&mut stream, Duration::from_secs(4))
        .await
        .expect("an idle connection is closed");
    assert!(
        closed >= idle_timeout - Duration::from_millis(100)
            && closed <= idle_timeout + Duration::from_secs(1),
        "closed after {closed:?}"
    );
    drop(server);
}

#[tokio::test]
async fn connections_beyond_the_caps_are_closed_at_once_and_held_ones_still_served() {
    let limits = ConnectionLimits {
        max_connections: 6,
        max_per_client: 4,
        idle_timeout: Duration::from_secs(30),
        header_timeout: Duration::from_secs(30),
        ..ConnectionLimits::default()
    };
    let (address, server) = serve(limits).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(address).await.unwrap());
    }
    // The fifth from the same address is over its client's cap.
    let mut fifth = TcpStream::connect(address).await.unwrap();
    assert!(
        closed_within(&mut fifth, Duration::from_secs(1))
            .await
            .is_some(),
        "a fifth connection from one client is closed at once"
    );
    // Other addresses share the global cap: two more fill it, and a third is refused.
    let from = |ip: &'static str| async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        socket.connect(address).await.unwrap()
    };
    held.push(from("127.0.0.2").await);
    held.push(from("127.0.0.2").await);
    let mut seventh = from("127.0.0.3").await;
    assert!(
        closed_within(&mut seventh, Duration::from_secs(1))
            .await
            .is_some(),
        "a connection beyond the global cap is closed at once"
    );
    // The ones held are still served.
    let first = &mut held[0];
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    first.read_to_end(&mut response).await.unwrap();
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
    drop(held.remove(0));
    drop(held.remove(0));
    // Slots came back: the client may connect again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = get(address, "/healthz").await;
    assert!(status.contains("200"), "{status}");

    let metrics = loopback::request(address, "127.0.0.1", "/metrics", &[])
        .await
        .body;
    assert!(
        metrics.contains("signatories_connections_refused_total{reason=\"max_per_client\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signatories_connections_refused_total{reason=\"max_connections\"} 1"),
        "{metrics}"
    );
    drop(server);
}
