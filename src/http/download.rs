//! Downloads for spreadsheets: with `bom=true` a CSV answer starts with the UTF-8 byte
//! order mark, which Excel needs to read the file as UTF-8 rather than its local code
//! page. It is opt-in because other tools (scripts, Datawrapper, `IMPORTDATA`) read the
//! mark as part of the first column's name. The handlers check `bom` like every
//! parameter (`listing::Format::negotiate`); this layer only adds the bytes.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub async fn byte_order_mark(request: Request, next: Next) -> Response {
    let wanted = request.uri().query().is_some_and(|query| {
        form_urlencoded::parse(query.as_bytes())
            .any(|(name, value)| name == "bom" && value == "true")
    });
    let response = next.run(request).await;
    let is_csv = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/csv"));
    if !wanted || !is_csv {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let mark = futures::stream::once(async { Ok(Bytes::from_static(UTF8_BOM)) });
    Response::from_parts(
        parts,
        Body::from_stream(mark.chain(body.into_data_stream())),
    )
}
