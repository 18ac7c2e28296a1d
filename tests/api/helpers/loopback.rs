//! The real server on an ephemeral loopback port, and raw HTTP/1.1 exchanges with it:
//! for what only a socket shows (connections, client addresses, shedding).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use signatories::{AppState, ConnectionLimits, HttpSettings};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::fresh_database;

/// A server on a fresh database; it runs until its task is aborted.
pub struct Served {
    pub address: SocketAddr,
    pub db: PgPool,
    pub task: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn serve(settings: HttpSettings, limits: ConnectionLimits) -> Served {
    let db = fresh_database().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::new(db.clone(), settings);
    let task = tokio::spawn(async move {
        signatories::serve(listener, state, limits, std::future::pending())
            .await
            .unwrap();
    });
    Served { address, db, task }
}

/// A response as read off the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
    pub took: Duration,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (field, value) = line.split_once(':')?;
            field.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One GET on a new connection from `source` (a loopback address), with extra header
/// lines, read to the end.
pub async fn request(
    address: SocketAddr,
    source: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    exchange(address, source, "GET", path, headers, "").await
}

/// One request with a body, from 127.0.0.1.
pub async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    exchange(address, "127.0.0.1", method, path, headers, body).await
}

async fn exchange(
    address: SocketAddr,
    source: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let started = Instant::now();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream: TcpStream = socket.connect(address).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
        took: started.elapsed(),
    }
}
