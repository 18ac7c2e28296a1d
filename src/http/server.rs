//! The server below the router: it accepts connections within a global cap and a cap
//! per client address, closes a connection that has not sent a complete request head
//! in time or has sat idle too long, limits HTTP/2 streams and headers, and drains on
//! shutdown. hyper serves each connection (HTTP/1.1, or HTTP/2 with prior knowledge).

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use super::metrics::Metrics;
use crate::config::Config;

/// The limits every connection is served within.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A connection must send a complete request head within this of opening or of
    /// its previous response.
    pub header_timeout: Duration,
    /// A connection with no request in flight and no bytes moving is closed after this.
    pub idle_timeout: Duration,
    /// Connections held at once; one more is closed as soon as it is accepted.
    pub max_connections: usize,
    /// Connections held at once from one client address (0: no cap of its own).
    pub max_per_client: usize,
    /// How long the server keeps accepting after a shutdown signal, with readiness
    /// failing and every response closing its connection, so that a load balancer
    /// stops sending before the listener closes.
    pub shutdown_grace: Duration,
    /// How long in-flight requests and streams may take to finish once the listener
    /// closes; what is still open then is cut.
    pub drain_deadline: Duration,
}

impl ConnectionLimits {
    pub fn from_config(config: &Config) -> Self {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Self {
            header_timeout: Duration::from_secs(config.header_timeout),
            idle_timeout: Duration::from_secs(config.idle_timeout),
            max_connections: count(config.max_connections),
            max_per_client: count(config.max_connections_per_client),
            shutdown_grace: Duration::from_secs(config.shutdown_grace),
            drain_deadline: Duration::from_secs(config.drain_timeout),
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            max_connections: 8192,
            max_per_client: 1024,
            shutdown_grace: Duration::ZERO,
            drain_deadline: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets
/// every connection finish its in-flight requests (`Connection: close` on HTTP/1.1,
/// GOAWAY on HTTP/2) and returns once all are closed or the drain deadline has passed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    metrics: Arc<Metrics>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(100);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100)
        .max_header_list_size(64 << 10)
        .max_pending_accept_reset_streams(20);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let clients = Arc::new(ClientCounts::new(limits.max_per_client));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.refused("max_connections");
            continue;
        };
        let Some(client) = clients.enter(peer.ip()) else {
            metrics.refused("max_per_client");
            continue;
        };
        // Streamed responses (CSV) are written in pieces; Nagle's algorithm would hold
        // each piece back for the client's delayed ACK.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        let connection = Connection {
            builder: builder.clone(),
            app: app.clone(),
            peer,
            idle_timeout: limits.idle_timeout,
            stopping: stopping.clone(),
            metrics: metrics.clone(),
        };
        tokio::spawn(connection.serve(stream, slot, client));
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection holds a slot until it closes.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.drain_deadline, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("the drain deadline passed with connections still open; closing them");
    }
    Ok(())
}

/// How quiet a connection must be before a stopping server closes it.
const LAST_CALL: Duration = Duration::from_millis(200);

/// One accepted connection and what serving it needs.
struct Connection {
    builder: auto::Builder<TokioExecutor>,
    app: Router,
    peer: SocketAddr,
    idle_timeout: Duration,
    stopping: watch::Receiver<bool>,
    metrics: Arc<Metrics>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, _slot: OwnedSemaphorePermit, _client: ClientSlot) {
        self.metrics.connections_open.inc();
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let (app, peer, busy) = (self.app.clone(), self.peer, activity.clone());
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = busy.begin();
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await?;
                // In flight until its body is sent (or dropped), streams included.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(UntilSent {
                        body,
                        _in_flight: in_flight,
                    })
                }))
            }
        });
        let connection = self.builder.serve_connection_with_upgrades(io, service);
        let mut connection = pin!(connection);
        let (mut stopping, mut closing) = (false, false);
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, peer = %peer, "connection ended with an error");
                    }
                    break;
                }
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                Ok(()) = self.stopping.changed(), if !stopping => stopping = true,
                // Once the server stops, a connection closes as soon as it is quiet: a
                // request just sent on it is read and answered first.
                () = activity.idle_for(LAST_CALL), if stopping && !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
        self.metrics.connections_open.dec();
    }
}

/// When bytes last moved on a connection, and how many of its requests are in flight.
struct Activity {
    started: Instant,
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(now, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Resolves once no request has been in flight and no bytes have moved for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last =
                self.started + Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() >= deadline && self.in_flight.load(Ordering::Relaxed) == 0 {
                return;
            }
            let wake = deadline.max(Instant::now() + idle.min(Duration::from_secs(1)) / 4);
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
struct UntilSent {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for UntilSent {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request in flight on its connection, until its response is sent.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A TCP stream that notes every read and write that moves bytes.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Open connections per client address, within a cap.
struct ClientCounts {
    cap: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl ClientCounts {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A slot for one more connection from `ip`, or `None` at the cap.
    fn enter(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        if self.cap == 0 {
            return Some(ClientSlot(None));
        }
        let mut open = self
            .open
            .lock()
            .expect("the client counts are never poisoned");
        let count = open.entry(ip).or_default();
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(ClientSlot(Some((self.clone(), ip))))
    }
}

/// One connection's place in its client's count, given back when it closes.
struct ClientSlot(Option<(Arc<ClientCounts>, IpAddr)>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Some((counts, ip)) = self.0.take() {
            let mut open = counts
                .open
                .lock()
                .expect("the client counts are never poisoned");
            if let Some(count) = open.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_holds_at_most_its_cap_and_gets_slots_back_as_connections_close() {
        let counts = Arc::new(ClientCounts::new(2));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let first = counts.enter(ip).unwrap();
        let _second = counts.enter(ip).unwrap();
        assert!(counts.enter(ip).is_none());
        assert!(
            counts.enter(other).is_some(),
            "another client has its own count"
        );
        drop(first);
        assert!(counts.enter(ip).is_some());
    }

    #[test]
    fn no_cap_counts_nothing() {
        let counts = Arc::new(ClientCounts::new(0));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let slots: Vec<_> = (0..10).map(|_| counts.enter(ip).unwrap()).collect();
        assert_eq!(slots.len(), 10);
        assert!(counts.open.lock().unwrap().is_empty());
    }
}
