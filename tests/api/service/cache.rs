//! Polled GETs are served from memory and revalidated by ETag, and never stale: not
//! after a write on this instance, nor after a write on another instance.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use signatories::HttpSettings;
use signatories::keys::ApiRole;

use crate::helpers::pages::data;
use crate::helpers::{TestApp, eventually, metric, second_pool};

#[tokio::test]
async fn a_repeated_get_is_a_cache_hit_until_the_data_changes() {
    let app = TestApp::spawn().await;
    let uri = "/v1/statements?stance=critical&limit=3";
    let first = app.get(uri).await;
    let hits = metric(&app, "signatories_cache_hits_total").await;
    let again = app.get("/v1/statements?limit=3&stance=critical").await;
    assert_eq!(
        again.body, first.body,
        "the same answer, whatever the parameter order"
    );
    assert_eq!(
        metric(&app, "signatories_cache_hits_total").await,
        hits + 1.0
    );

    let key = app.key("editor", ApiRole::Editor).await;
    let patch = json!({"title": "Joint statement, corrected title"});
    let newest = first.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let patched = app
        .write(
            Method::PATCH,
            &format!("/v1/statements/{newest}"),
            &key,
            &patch,
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let after = app.get(uri).await.json();
    assert_eq!(
        after["data"][0]["title"], "Joint statement, corrected title",
        "no stale read after a write"
    );
}

#[tokio::test]
async fn csv_exports_stream_and_are_not_held_in_the_cache() {
    let app = TestApp::spawn().await;
    let misses = metric(&app, "signatories_cache_misses_total").await;
    app.get("/v1/statements?format=csv").await;
    app.get("/v1/statements?format=csv").await;
    assert_eq!(metric(&app, "signatories_cache_misses_total").await, misses);
    assert_eq!(metric(&app, "signatories_cache_hits_total").await, 0.0);
}

#[tokio::test]
async fn two_instances_on_one_database_never_serve_each_other_stale_data() {
    let first = TestApp::spawn().await;
    let second = TestApp::on(second_pool(&first.db), HttpSettings::default());
    let uri = "/v1/statements/hrc41-letter-critical-2019-07-08";
    assert_eq!(second.get(uri).await.json()["signatory_count"], 22);
    assert_eq!(second.get(uri).await.json()["signatory_count"], 22);
    assert!(metric(&second, "signatories_cache_hits_total").await >= 1.0);

    // Alignment is counted in each instance's own copy of the participations.
    let shared_with_britain = async || {
        second.get("/v1/countries/FJI/alignment").await.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["country"]["code"] == "GBR")
            .map_or(0, |row| row["shared"].as_u64().unwrap())
    };
    let shared_before = shared_with_britain().await;

    let key = first.key("editor", ApiRole::Editor).await;
    let fiji = json!({"role": "signatory"});
    let added = first
        .write(Method::PUT, &format!("{uri}/signatories/FJI"), &key, &fiji)
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    // Straight after the write's response, the other instance answers with the change.
    assert_eq!(second.get(uri).await.json()["signatory_count"], 23);
    assert_eq!(shared_with_britain().await, shared_before + 1);

    // And its cache was emptied by the NOTIFY, not only bypassed.
    assert!(
        eventually(async || metric(&second, "signatories_cache_invalidations_total").await >= 1.0)
            .await,
        "the second instance heard of the write"
    );
}

#[tokio::test]
async fn responses_carry_etags_and_revalidate_with_304_until_the_data_changes() {
    let app = TestApp::spawn().await;
    let first = app
        .get("/v1/statements/hrc41-letter-critical-2019-07-08")
        .await;
    let etag = first.header("etag").unwrap().to_owned();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "a strong ETag: {etag}"
    );
    assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
    assert!(first.header("last-modified").is_some());

    let again = app
        .get_with(
            "/v1/statements/hrc41-letter-critical-2019-07-08",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    let csv = app.get("/v1/statements?format=csv").await;
    assert_ne!(
        csv.header("etag"),
        app.get("/v1/statements").await.header("etag"),
        "per representation"
    );

    sqlx::query(
        "update statement set summary = 'Corrected.' where id = 'hrc41-letter-critical-2019-07-08'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let changed = app
        .get_with(
            "/v1/statements/hrc41-letter-critical-2019-07-08",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["summary"], "Corrected.");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn analytics_revalidate_with_304_until_the_data_changes() {
    let app = TestApp::spawn().await;
    for uri in [
        "/v1/stats/stances?group_by=year",
        "/v1/stats/coverage",
        "/v1/topics/xinjiang/timeline",
        "/v1/topics/xinjiang/switchers",
        "/v1/statements/compare?a=hrc41-letter-critical-2019-07-08&b=hrc41-letter-supportive-2019-07-12",
        "/v1/countries/FRA/alignment",
    ] {
        let first = app.get(uri).await;
        assert_eq!(first.status, StatusCode::OK, "{uri}");
        let etag = first.header("etag").unwrap().to_owned();
        assert_eq!(first.header("cache-control"), Some("public, max-age=60"));
        let again = app.get_with(uri, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        let csv = app.get_with(uri, &[("accept", "text/csv")]).await;
        assert_ne!(
            csv.header("etag"),
            Some(etag.as_str()),
            "per representation"
        );
    }
    let before = app.get("/v1/topics/xinjiang/switchers").await;
    let etag = before.header("etag").unwrap().to_owned();
    sqlx::query("delete from signature where country_code = 'SOM' and statement_id = 'unga77-statement-critical-2022-10-31'")
        .execute(&app.db)
        .await
        .unwrap();
    let after = app
        .get_with("/v1/topics/xinjiang/switchers", &[("if-none-match", &etag)])
        .await;
    assert_eq!(after.status, StatusCode::OK);
    let still: Vec<Value> = data(&after);
    let somalia = still
        .iter()
        .find(|s| s["country"]["code"] == "SOM")
        .unwrap();
    assert_eq!(
        somalia["sides"][1]["participations"], 1,
        "one critical step left"
    );
}

/// A restore puts the data version back to an older value with other data behind it;
/// neither a tag nor a cached answer of that version may be served for the new data.
#[tokio::test]
async fn a_restore_that_rewinds_the_data_version_never_repeats_a_tag() {
    let app = TestApp::spawn().await;
    let uri = "/v1/statements?limit=1";
    let before = app.get(uri).await;
    let etag = before.header("etag").unwrap().to_owned();
    let id = before.json()["data"][0]["id"].as_str().unwrap().to_owned();
    let version: i64 = sqlx::query_scalar("select version from data_version")
        .fetch_one(&app.db)
        .await
        .unwrap();

    // What a restore of other data at the same counter value leaves behind.
    sqlx::query("update statement set title = 'Restored from another copy' where id = $1")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update data_version set version = $1")
        .bind(version)
        .execute(&app.db)
        .await
        .unwrap();

    let after = app.get_with(uri, &[("if-none-match", &etag)]).await;
    assert_eq!(after.status, StatusCode::OK, "an old tag is not current");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    assert_eq!(
        after.json()["data"][0]["title"],
        "Restored from another copy",
        "no cached answer of the old copy"
    );
}
