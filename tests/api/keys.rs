//! Who may write: API keys by role, made, listed and revoked on the command line;
//! reads need none.

use axum::http::{Method, StatusCode};
use serde_json::json;
use signatories::keys::ApiRole;

use crate::helpers::{TestApp, new_statement, run_cli};

#[tokio::test]
async fn writing_needs_a_valid_key_and_reads_stay_public() {
    let app = TestApp::spawn().await;
    let before = app.snapshot().await;
    let missing = app
        .send_json(Method::POST, "/v1/statements", None, &new_statement(), &[])
        .await;
    missing.problem(StatusCode::UNAUTHORIZED);
    assert!(
        missing
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );

    let wrong = app
        .write(
            Method::POST,
            "/v1/statements",
            "sig_not-a-real-key",
            &new_statement(),
        )
        .await;
    wrong.problem(StatusCode::UNAUTHORIZED);
    assert!(
        !wrong.text().contains("sig_not-a-real-key"),
        "keys never appear in error bodies"
    );

    let key = app.key("desk", ApiRole::Editor).await;
    assert!(signatories::keys::revoke(&app.db, "desk").await.unwrap());
    app.write(Method::POST, "/v1/statements", &key, &new_statement())
        .await
        .problem(StatusCode::UNAUTHORIZED);

    let editor = app.key("editor", ApiRole::Editor).await;
    let kosovo = json!({"code": "XKX", "name": "Kosovo"});
    app.write(Method::POST, "/v1/countries", &editor, &kosovo)
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.snapshot().await,
        before,
        "rejected writes change nothing"
    );

    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select key_hash from api_key")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(stored.iter().all(|h| {
        h.len() == 32
            && !h
                .windows(8)
                .any(|w| editor.as_bytes().windows(8).any(|k| k == w))
    }));
}

#[tokio::test]
async fn an_admin_creates_lists_and_revokes_keys_from_the_command_line() {
    let app = TestApp::spawn().await;
    let created = run_cli(
        &app,
        &["keys", "create", "--name", "desk", "--role", "editor"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let key = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("sig_") && key.len() > 40, "{key}");

    let topic = json!({"slug": "tibet", "name": "Human rights in Tibet"});
    let written = app.write(Method::POST, "/v1/topics", &key, &topic).await;
    assert_eq!(written.status, StatusCode::CREATED);

    let listed = run_cli(&app, &["keys", "list"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains("\"name\":\"desk\"") && listed.contains("\"role\":\"editor\""),
        "{listed}"
    );
    assert!(
        !listed.contains(&key),
        "the key itself is never shown again"
    );

    assert!(run_cli(&app, &["keys", "revoke", "desk"]).status.success());
    let topic = json!({"slug": "hong-kong", "name": "Hong Kong"});
    app.write(Method::POST, "/v1/topics", &key, &topic)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let again = run_cli(&app, &["keys", "revoke", "desk"]);
    assert!(!again.status.success(), "revoking twice is an error");
}
