//! Admission control for the public API: a token bucket per client (its address, or
//! the address a trusted proxy forwarded) and per API key, answered `429` with
//! `Retry-After` and the `RateLimit`/`RateLimit-Policy` fields of the IETF httpapi
//! draft; and a global cap on requests in flight, beyond which a request is answered
//! `503` at once rather than queued behind the database pool.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;

use super::AppState;
use super::auth::{bearer_key, identify};
use crate::config::Config;
use crate::error::Problem;

/// The limits the public API admits requests within.
#[derive(Debug, Clone)]
pub struct AdmissionSettings {
    /// Requests a minute one client address may make, sustained (0: no limit).
    pub per_client_per_minute: u32,
    /// Requests one client may make at once before the rate applies.
    pub burst: u32,
    /// Requests a minute one API key may make (0: no limit).
    pub per_key_per_minute: u32,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` name the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Requests served at once; one more is answered 503 at once.
    pub max_in_flight: usize,
}

impl AdmissionSettings {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let trusted_proxies = config
            .trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "SIGNATORIES_TRUSTED_PROXIES: {entry:?} is not an address or a network like 10.0.0.0/8"
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            per_client_per_minute: config.rate_limit,
            burst: config.rate_burst,
            per_key_per_minute: config.key_rate_limit,
            trusted_proxies,
            max_in_flight: usize::try_from(config.max_in_flight)?,
        })
    }
}

impl Default for AdmissionSettings {
    fn default() -> Self {
        Self {
            per_client_per_minute: 1200,
            burst: 200,
            per_key_per_minute: 0,
            trusted_proxies: Vec::new(),
            max_in_flight: 256,
        }
    }
}

type Limiter = DefaultKeyedRateLimiter<String, StateInformationMiddleware>;

/// One bucket per key, with the policy it announces.
struct Bucket {
    limiter: Limiter,
    policy: String,
    quota: u32,
    window: u64,
}

impl Bucket {
    fn new(name: &str, per_minute: u32, burst: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let limiter = RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>();
        // The window in which a full burst refills.
        let window = (60 * u64::from(burst.get())).div_ceil(u64::from(per_minute.get()));
        Some(Self {
            limiter,
            policy: format!("\"{name}\";q={};w={window}", burst.get()),
            quota: burst.get(),
            window,
        })
    }
}

/// The buckets of one service instance.
pub struct RateLimits {
    clients: Option<Bucket>,
    keys: Option<Bucket>,
    trusted_proxies: Vec<IpNet>,
}

impl RateLimits {
    pub fn new(settings: &AdmissionSettings) -> Self {
        Self {
            clients: Bucket::new("client", settings.per_client_per_minute, settings.burst),
            keys: Bucket::new("key", settings.per_key_per_minute, settings.burst),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// Forgets the buckets that have refilled, so that memory follows the clients of
    /// the last minutes rather than every client ever seen.
    pub fn forget_idle(&self) {
        for bucket in [&self.clients, &self.keys].into_iter().flatten() {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
    }

    /// The client a request comes from: the peer's address, or, when the peer is a
    /// trusted proxy, the nearest address it forwarded that is not itself trusted.
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        forwarded_chain(headers)
            .into_iter()
            .rev()
            .find(|ip| !self.is_trusted(*ip))
            .unwrap_or(peer)
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// The addresses a request passed through, nearest last: `Forwarded` (RFC 7239) when
/// present, else `X-Forwarded-For`. Entries that are not addresses are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| parse_node(value))?
                })
            })
            .collect();
    }
    values(header::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .filter_map(|value| parse_node(value))
        .collect()
}

/// An address as `Forwarded` or `X-Forwarded-For` write it: `192.0.2.1`,
/// `"[2001:db8::1]:443"`, `192.0.2.1:8080`.
fn parse_node(value: &str) -> Option<IpAddr> {
    let value = value.trim().trim_matches('"');
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Ok(socket) = value.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    value
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

/// Admits a request within its client's (or key's) rate, else answers 429. Requests
/// that reach the router without a client address (called in-process) are not limited.
pub async fn limit_rate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.rate_limits;
    let holder = match bearer_key(request.headers()) {
        Some(key) => identify(&state, key).await.ok().flatten(),
        None => None,
    };
    let key = match holder {
        Some(holder) => limits
            .keys
            .as_ref()
            .map(|bucket| (bucket, format!("key:{}", holder.name))),
        None => client_bucket(limits, &request),
    };
    let Some((bucket, key)) = key else {
        return next.run(request).await;
    };
    match bucket.limiter.check_key(&key) {
        Ok(snapshot) => {
            let mut response = next.run(request).await;
            let remaining = snapshot.remaining_burst_capacity();
            // Time until the bucket is full again, at the policy's rate.
            let refill = u64::from(bucket.quota - remaining.min(bucket.quota)) * bucket.window
                / u64::from(bucket.quota);
            announce(response.headers_mut(), bucket, remaining, refill);
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "This client has made more requests than its rate allows; try again in {seconds} s."
                ),
            )
            .into_response();
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            announce(headers, bucket, 0, seconds);
            response
        }
    }
}

fn client_bucket<'a>(limits: &'a RateLimits, request: &Request) -> Option<(&'a Bucket, String)> {
    let bucket = limits.clients.as_ref()?;
    let ConnectInfo(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    let client = limits.client(peer.ip(), request.headers());
    Some((bucket, client.to_string()))
}

/// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers).
fn announce(headers: &mut HeaderMap, bucket: &Bucket, remaining: u32, reset_seconds: u64) {
    let name = bucket.policy.split(';').next().unwrap_or("\"default\"");
    let fields = [
        ("ratelimit-policy", bucket.policy.clone()),
        (
            "ratelimit",
            format!("{name};r={remaining};t={reset_seconds}"),
        ),
    ];
    for (field, value) in fields {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(field, value);
        }
    }
}

/// How often forgotten buckets are swept.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn limits(trusted: &[&str]) -> RateLimits {
        RateLimits::new(&AdmissionSettings {
            trusted_proxies: trusted.iter().map(|n| n.parse().unwrap()).collect(),
            ..AdmissionSettings::default()
        })
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(limits(&[]).client(peer, &forwarded), peer, "nobody trusted");
        assert_eq!(
            limits(&["10.0.0.0/8"]).client(peer, &forwarded),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "the nearest untrusted address"
        );
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7")]);
        assert_eq!(
            limits(&["10.0.0.0/8"]).client(peer, &spoofed),
            "203.0.113.7".parse::<IpAddr>().unwrap(),
            "what the client wrote itself, further left, is not believed"
        );
    }

    #[test]
    fn forwarded_is_read_before_x_forwarded_for() {
        let both = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::1]:4711\";proto=https, for=192.0.2.60",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(
            forwarded_chain(&both),
            vec![
                "2001:db8::1".parse::<IpAddr>().unwrap(),
                "192.0.2.60".parse::<IpAddr>().unwrap()
            ]
        );
    }

    #[test]
    fn bearer_is_read_in_any_case() {
        assert_eq!(
            bearer_key(&headers(&[("authorization", "bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer_key(&headers(&[("authorization", "BEARER  abc ")])),
            Some("abc")
        );
        assert_eq!(
            bearer_key(&headers(&[("authorization", "Basic abc")])),
            None
        );
        assert_eq!(bearer_key(&headers(&[("authorization", "Bearer ")])), None);
    }
}
