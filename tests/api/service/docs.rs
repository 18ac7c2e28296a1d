//! The contract, served: openapi.yaml as written and as JSON, and the documentation
//! page, which must work with nothing but this server.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

fn spec_file() -> String {
    std::fs::read_to_string("openapi.yaml").unwrap()
}

#[tokio::test]
async fn the_contract_is_served_as_written_in_yaml_and_in_json() {
    let app = TestApp::spawn().await;

    let yaml = app.get("/openapi.yaml").await;
    assert_eq!(yaml.status, StatusCode::OK);
    assert_eq!(yaml.header("content-type"), Some("application/yaml"));
    assert_eq!(yaml.text(), spec_file());

    let json = app.get("/openapi.json").await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header("content-type"), Some("application/json"));
    let parsed: Value = serde_yaml_ng::from_str(&spec_file()).unwrap();
    assert_eq!(json.json(), parsed);
}

#[tokio::test]
async fn a_copy_of_the_contract_is_revalidated_with_its_etag() {
    let app = TestApp::spawn().await;
    for path in [
        "/openapi.yaml",
        "/openapi.json",
        "/docs",
        "/docs/swagger-ui.css",
    ] {
        let first = app.get(path).await;
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert_eq!(first.header("cache-control"), Some("public, max-age=60"));

        let again = app.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));

        let other = app
            .get_with(path, &[("if-none-match", "\"someone-elses\"")])
            .await;
        assert_eq!(other.status, StatusCode::OK, "{path}");
        assert_eq!(other.body, first.body);
    }
    let json_tag = app
        .get("/openapi.json")
        .await
        .header("etag")
        .map(str::to_owned);
    let yaml_tag = app
        .get("/openapi.yaml")
        .await
        .header("etag")
        .map(str::to_owned);
    assert_ne!(json_tag, yaml_tag, "two representations, two tags");
}

/// The `src` and `href` values of an HTML page.
fn references(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| {
            html.split(attribute)
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_docs_page_needs_nothing_but_this_server() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(
        html.contains(r#"url: "openapi.json""#),
        "it reads /openapi.json"
    );
    // Browsers enforce it: nothing may come from another origin, even when online.
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");

    let files = references(&html);
    assert_eq!(files.len(), 2, "a script and a style sheet: {files:?}");
    for file in files {
        assert!(
            !file.contains(':') && !file.starts_with('/'),
            "{file} is relative to /docs, so the page also works under a path prefix"
        );
        let served = app.get(&format!("/{file}")).await;
        assert_eq!(served.status, StatusCode::OK, "{file}");
        let expected = if file.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert_eq!(served.header("content-type"), Some(expected), "{file}");
        assert!(served.body.len() > 100_000, "{file} is the real bundle");
        assert!(
            !served.text().contains("sourceMappingURL=http"),
            "{file} points at no outside source map"
        );
    }
}

#[tokio::test]
async fn every_documented_docs_file_is_served_and_no_other() {
    let app = TestApp::spawn().await;
    let spec: Value = serde_yaml_ng::from_str(&spec_file()).unwrap();
    let names = spec["paths"]["/docs/{asset}"]["get"]["parameters"][0]["schema"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!names.is_empty());
    for name in names {
        let name = name.as_str().unwrap();
        let served = app.get(&format!("/docs/{name}")).await;
        assert_eq!(served.status, StatusCode::OK, "{name}");
    }
    let problem = app
        .get("/docs/oauth2-redirect.html")
        .await
        .problem(StatusCode::NOT_FOUND);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("oauth2-redirect.html")
    );
}
