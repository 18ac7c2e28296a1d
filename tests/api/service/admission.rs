//! Admission control as a public client meets it, through the real server on
//! loopback: each client address has its rate, answered 429 beyond it; API keys have
//! their own allowance; a trusted proxy's forwarded address counts as the client; and
//! requests beyond the in-flight cap are shed at once with 503.

use std::time::Duration;

use signatories::keys::ApiRole;
use signatories::{AdmissionSettings, ConnectionLimits, HttpSettings};

use crate::helpers::loopback::{self, request};

const LIST: &str = "/v1/statements?limit=1";

fn settings(admission: AdmissionSettings) -> HttpSettings {
    HttpSettings {
        admission,
        ..HttpSettings::default()
    }
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_to_wait_and_others_are_not() {
    let served = loopback::serve(
        settings(AdmissionSettings {
            per_client_per_minute: 60,
            burst: 5,
            ..AdmissionSettings::default()
        }),
        ConnectionLimits::default(),
    )
    .await;
    let address = served.address;
    for i in 0..5 {
        let within = request(address, "127.0.0.1", LIST, &[]).await;
        assert_eq!(within.status, 200, "request {i} is within the burst");
        assert_eq!(
            within.header("ratelimit-policy"),
            Some("\"client\";q=5;w=5")
        );
        assert_eq!(
            within
                .header("ratelimit")
                .map(|v| v.split(';').nth(1).unwrap().to_owned()),
            Some(format!("r={}", 4 - i))
        );
    }
    let over = request(address, "127.0.0.1", LIST, &[]).await;
    assert_eq!(over.status, 429);
    assert_eq!(
        over.header("content-type"),
        Some("application/problem+json")
    );
    let wait: u64 = over.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After: {wait}");
    assert!(over.header("ratelimit").unwrap().contains("r=0"));
    assert!(over.body.contains("\"status\":429"), "{}", over.body);

    // Another address has a bucket of its own; health probes are never limited.
    assert_eq!(request(address, "127.0.0.2", LIST, &[]).await.status, 200);
    assert_eq!(
        request(address, "127.0.0.1", "/readyz", &[]).await.status,
        200
    );

    // An API key has its own allowance (unlimited by default), whatever its address.
    let key = signatories::keys::create(&served.db, "dashboard", ApiRole::Editor)
        .await
        .unwrap();
    let bearer = format!("bearer {key}");
    for _ in 0..10 {
        let keyed = request(address, "127.0.0.1", LIST, &[("authorization", &bearer)]).await;
        assert_eq!(keyed.status, 200);
    }
    // After the wait it asked for, the client is served again.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(request(address, "127.0.0.1", LIST, &[]).await.status, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_rate() {
    let served = loopback::serve(
        settings(AdmissionSettings {
            per_client_per_minute: 60,
            burst: 2,
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..AdmissionSettings::default()
        }),
        ConnectionLimits::default(),
    )
    .await;
    let address = served.address;
    let from = |client: &'static str| [("x-forwarded-for", client)];
    for _ in 0..2 {
        assert_eq!(
            request(address, "127.0.0.1", LIST, &from("203.0.113.7"))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        request(address, "127.0.0.1", LIST, &from("203.0.113.7"))
            .await
            .status,
        429
    );
    assert_eq!(
        request(address, "127.0.0.1", LIST, &from("203.0.113.8"))
            .await
            .status,
        200
    );
    let standard = [("forwarded", "for=203.0.113.9;proto=https")];
    assert_eq!(
        request(address, "127.0.0.1", LIST, &standard).await.status,
        200
    );

    // An untrusted peer's header is not believed: it is limited by its own address.
    for _ in 0..2 {
        assert_eq!(
            request(address, "127.0.0.2", LIST, &from("198.51.100.1"))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        request(address, "127.0.0.2", LIST, &from("198.51.100.2"))
            .await
            .status,
        429
    );
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_are_shed_at_once() {
    let served = loopback::serve(
        settings(AdmissionSettings {
            max_in_flight: 1,
            ..AdmissionSettings::default()
        }),
        ConnectionLimits::default(),
    )
    .await;
    let address = served.address;
    // A lock holds every statement read back until it is released.
    let mut blocker = served.db.begin().await.unwrap();
    sqlx::query("lock table statement in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let held = tokio::spawn(async move { request(address, "127.0.0.1", LIST, &[]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let shed = request(address, "127.0.0.2", "/v1/topics", &[]).await;
    assert_eq!(shed.status, 503);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert!(
        shed.took < Duration::from_millis(200),
        "shed after {:?}",
        shed.took
    );
    assert_eq!(
        request(address, "127.0.0.2", "/healthz", &[]).await.status,
        200
    );

    blocker.rollback().await.unwrap();
    assert_eq!(held.await.unwrap().status, 200);
    assert_eq!(
        request(address, "127.0.0.2", "/v1/topics", &[])
            .await
            .status,
        200
    );
}
