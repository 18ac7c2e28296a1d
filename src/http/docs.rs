//! The contract, served: `openapi.yaml` as written, the same document as JSON, and
//! interactive documentation at `/docs` (Swagger UI, whose files are compiled into
//! the binary, so the page works without internet access).

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::OnceCell;
use tower::ServiceExt;

use super::AppState;
use super::conditional::Fixed;
use crate::error::Problem;

/// The contract as written: the file the tests check the router and every response
/// against.
const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

static YAML: LazyLock<Fixed> = LazyLock::new(|| {
    Fixed::new(
        HeaderValue::from_static("application/yaml"),
        OPENAPI_YAML.as_bytes(),
    )
});

/// The same document as JSON, converted once.
static JSON: LazyLock<Fixed> = LazyLock::new(|| {
    let document: serde_json::Value =
        serde_yaml_ng::from_str(OPENAPI_YAML).expect("openapi.yaml is valid YAML");
    Fixed::new(
        HeaderValue::from_static("application/json"),
        serde_json::to_vec(&document).expect("JSON serialises"),
    )
});

/// URLs are relative to `/docs`, so the page also works behind a proxy that mounts
/// the API under a sub-path. The validator badge is off: it would call an outside
/// service.
const INDEX_HTML: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Signatories API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      filter: true,
      validatorUrl: null,
    });
  </script>
</body>
</html>
"##;

static INDEX: LazyLock<Fixed> = LazyLock::new(|| {
    Fixed::new(
        HeaderValue::from_static("text/html; charset=utf-8"),
        INDEX_HTML.as_bytes(),
    )
});

/// Only this origin's files, so a page that reached for a CDN would break in every
/// browser rather than only offline. Swagger UI styles elements inline and draws
/// some icons from `data:` URLs.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The files of Swagger UI that the page loads (and the source maps browsers'
/// developer tools ask for), as the swagger-ui-dist crate serves them.
const ASSETS: [&str; 4] = [
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui.css.map",
    "swagger-ui-bundle.js.map",
];

static ASSET_CACHE: OnceCell<HashMap<&'static str, Fixed>> = OnceCell::const_new();

pub fn router() -> Router<AppState> {
    // Converted now, so that a broken document stops the server at start-up.
    LazyLock::force(&JSON);
    Router::new()
        .route("/openapi.yaml", get(openapi_yaml))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/docs/{asset}", get(docs_asset))
}

async fn openapi_yaml(State(state): State<AppState>, headers: HeaderMap) -> Response {
    YAML.respond(&headers, state.settings.cache_max_age)
}

async fn openapi_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    JSON.respond(&headers, state.settings.cache_max_age)
}

async fn docs(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = INDEX.respond(&headers, state.settings.cache_max_age);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    response
}

async fn docs_asset(
    State(state): State<AppState>,
    Path(asset): Path<String>,
    headers: HeaderMap,
) -> Response {
    let assets = ASSET_CACHE.get_or_init(load_assets).await;
    match assets.get(asset.as_str()) {
        Some(file) => file.respond(&headers, state.settings.cache_max_age),
        None => Problem::new(
            StatusCode::NOT_FOUND,
            format!("The documentation has no file named {asset:?}."),
        )
        .into_response(),
    }
}

/// The crate hands its files out only as routes, so each is requested from them once.
async fn load_assets() -> HashMap<&'static str, Fixed> {
    let swagger_ui = swagger_ui_dist::generate_routes(swagger_ui_dist::ApiDefinition {
        uri_prefix: "/docs",
        api_definition: swagger_ui_dist::OpenApiSource::Uri("openapi.json"),
        title: None,
    });
    let mut assets = HashMap::new();
    for name in ASSETS {
        let request = Request::get(format!("/docs/{name}"))
            .body(Body::empty())
            .expect("a valid request");
        let response = swagger_ui
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "swagger-ui-dist serves {name}"
        );
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .expect("swagger-ui-dist names its content types");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("an in-memory body");
        assets.insert(name, Fixed::new(content_type, body));
    }
    assets
}
