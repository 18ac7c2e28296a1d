//! The explorer: web pages for people who would rather see the data than read JSON,
//! and each of its charts alone, for articles.
//!
//! - `/` (search statements), `/explore/statements/{id}`, `/explore/countries/{code}`
//!   and `/explore/topics/{slug}` are one static page whose script reads the public
//!   `/v1` API, so every view shows the request behind it; an unknown id is a 404.
//! - `/embed/statements/{id}/map` and `/embed/topics/{slug}/timeline` are pages sized
//!   for an iframe, drawn here with no script; `….svg` beside each is the chart alone.
//!
//! Everything is compiled into the binary, and every page is served under a
//! Content-Security-Policy that allows only this origin's files and nothing inline;
//! only `/embed/` pages may be framed by other sites. These routes are not part of the
//! API contract (`openapi.yaml`); docs/ARCHITECTURE.md lists them.

mod svg;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::LazyLock;

use sqlx::PgPool;

use super::AppState;
use super::conditional::{Fixed, data_version};
use super::reference::RequestVersion;
use super::replicas::Reader;
use crate::error::{AppError, AppResult};
use crate::store::keyset::ListQuery;
use crate::store::timeline::TimelineEntry;
use crate::store::{countries, statements, timeline, topics};

/// Pages: this origin's scripts, styles and images only; `data:` images for the
/// stylesheet's icons; framed by no one.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Embeds: no script at all, and any site may frame them.
const EMBED_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    base-uri 'none'; form-action 'none'; frame-ancestors *";

/// The most statements a timeline chart draws.
const TIMELINE_MAX: i64 = 5000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/explore/statements/{id}", get(statement_page))
        .route("/explore/countries/{code}", get(country_page))
        .route("/explore/topics/{slug}", get(topic_page))
        .route("/explore/assets/{asset}", get(asset))
        .route("/embed/statements/{id}/map", get(map_embed))
        .route("/embed/statements/{id}/map.svg", get(map_svg))
        .route("/embed/topics/{slug}/timeline", get(timeline_embed))
        .route("/embed/topics/{slug}/timeline.svg", get(timeline_svg))
        .route_layer(axum::middleware::from_fn(security_headers))
}

async fn security_headers(request: Request, next: Next) -> Response {
    let embed = request.uri().path().starts_with("/embed/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if embed { EMBED_CSP } else { PAGE_CSP }),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

static SHELL: LazyLock<Fixed> = LazyLock::new(|| {
    Fixed::new(
        HeaderValue::from_static("text/html; charset=utf-8"),
        include_str!("../../../assets/explorer/index.html"),
    )
});

/// The explorer's files, each tagged once with the hash of its bytes.
static ASSETS: LazyLock<[(&str, Fixed); 3]> = LazyLock::new(|| {
    let file = |content_type: &'static str, body: &'static str| {
        Fixed::new(HeaderValue::from_static(content_type), body)
    };
    [
        (
            "explorer.js",
            file(
                "text/javascript; charset=utf-8",
                include_str!("../../../assets/explorer/explorer.js"),
            ),
        ),
        (
            "explorer.css",
            file(
                "text/css; charset=utf-8",
                include_str!("../../../assets/explorer/explorer.css"),
            ),
        ),
        (
            "embed.css",
            file(
                "text/css; charset=utf-8",
                include_str!("../../../assets/explorer/embed.css"),
            ),
        ),
    ]
});

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    SHELL.respond(&headers, state.settings.cache_max_age)
}

async fn statement_page(
    State(state): State<AppState>,
    reader: Reader,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    statements::load(&mut *reader.db.acquire().await?, &id, false).await?;
    Ok(page(State(state), headers).await)
}

async fn country_page(
    State(state): State<AppState>,
    reader: Reader,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    countries::from_path(&reader.db, &code).await?;
    Ok(page(State(state), headers).await)
}

async fn topic_page(
    State(state): State<AppState>,
    reader: Reader,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    topics::slug_from_path(&reader.db, &slug).await?;
    Ok(page(State(state), headers).await)
}

async fn asset(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    ASSETS
        .iter()
        .find(|(asset, _)| *asset == name)
        .map(|(_, file)| file.respond(&headers, state.settings.cache_max_age))
        .ok_or_else(|| AppError::NotFound(format!("Explorer file {name:?}")))
}

/// A chart: its title, the page it comes from, its CSV, its SVG, and a table of the
/// same figures for readers who cannot see it.
struct Chart {
    title: String,
    page: String,
    csv: String,
    svg: String,
    table: String,
}

/// The date the data last changed, for the source line: from the version read for
/// the request, or from `db` when none was.
async fn data_date(db: &PgPool, version: &RequestVersion) -> AppResult<String> {
    let changed_at = match version.get() {
        Some(version) => version.changed_at,
        None => data_version(db).await?.changed_at,
    };
    Ok(changed_at.format("%-d %B %Y").to_string())
}

fn svg_response(svg: String) -> Response {
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response()
}

/// An embeddable page: the chart inline, a source and date line, the table folded away.
fn embed_page(chart: Chart) -> Response {
    let Chart {
        title,
        page,
        csv,
        svg,
        table,
    } = chart;
    let title = svg::escape(&title);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<link rel=\"stylesheet\" href=\"/explore/assets/embed.css\">\n\
         </head>\n<body>\n<figure>\n<figcaption><a href=\"{page}\" target=\"_blank\" rel=\"noopener\">{title}</a></figcaption>\n\
         {svg}\n<details><summary>Table</summary>{table}</details>\n\
         <p class=\"source\"><a href=\"{page}\" target=\"_blank\" rel=\"noopener\">Signatories</a> · \
         <a href=\"{csv}\">data (CSV)</a></p>\n</figure>\n</body>\n</html>\n"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn map_chart(db: &PgPool, version: &RequestVersion, id: &str) -> AppResult<Chart> {
    let mut conn = db.acquire().await?;
    let detail = statements::load_detail(&mut conn, id, false).await?;
    drop(conn);
    let (statement, signatories) = (detail.statement, detail.signatories);
    let source = format!(
        "Source: Signatories, /v1/statements/{id} · data of {}",
        data_date(db, version).await?
    );
    let mut table = String::from(
        "<table><thead><tr><th scope=\"col\">Country</th><th scope=\"col\">Stance</th>\
         <th scope=\"col\">Joined</th><th scope=\"col\">Withdrew</th></tr></thead><tbody>",
    );
    for s in &signatories {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            svg::escape(&s.country.name),
            s.effective_stance.as_str(),
            s.joined_on.unwrap_or(s.effective_on),
            s.withdrawn_on.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    table.push_str("</tbody></table>");
    Ok(Chart {
        svg: svg::map(&statement.title, &signatories, &source),
        title: statement.title,
        page: format!("/explore/statements/{id}"),
        csv: format!("/v1/statements/{id}/signatories?format=csv"),
        table,
    })
}

async fn map_svg(
    reader: Reader,
    version: RequestVersion,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(svg_response(
        map_chart(&reader.db, &version, &id).await?.svg,
    ))
}

async fn map_embed(
    reader: Reader,
    version: RequestVersion,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(embed_page(map_chart(&reader.db, &version, &id).await?))
}

async fn timeline_chart(db: &PgPool, version: &RequestVersion, slug: &str) -> AppResult<Chart> {
    let slug = topics::slug_from_path(db, slug).await?;
    let topic = topics::load(&mut *db.acquire().await?, slug.as_str()).await?;
    let ListQuery { mut rows, .. } = timeline::timeline(&slug, (None, None), None, None);
    rows.push(" limit ").push_bind(TIMELINE_MAX);
    let entries: Vec<TimelineEntry> = rows.build_query_as().fetch_all(db).await?;
    let slug = slug.as_str();
    let source = format!(
        "Source: Signatories, /v1/topics/{slug}/timeline · data of {}",
        data_date(db, version).await?
    );
    let mut table = String::from(
        "<table><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Statement</th>\
         <th scope=\"col\">Critical so far</th><th scope=\"col\">Supportive so far</th>\
         </tr></thead><tbody>",
    );
    for e in &entries {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.issued_on,
            svg::escape(&e.title),
            e.cumulative.0.critical,
            e.cumulative.0.supportive
        ));
    }
    table.push_str("</tbody></table>");
    Ok(Chart {
        svg: svg::timeline(&topic.name, &entries, &source),
        title: topic.name,
        page: format!("/explore/topics/{slug}"),
        csv: format!("/v1/topics/{slug}/timeline?format=csv"),
        table,
    })
}

async fn timeline_svg(
    reader: Reader,
    version: RequestVersion,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    Ok(svg_response(
        timeline_chart(&reader.db, &version, &slug).await?.svg,
    ))
}

async fn timeline_embed(
    reader: Reader,
    version: RequestVersion,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    Ok(embed_page(
        timeline_chart(&reader.db, &version, &slug).await?,
    ))
}
