//! Dashboard analytics: aggregates that answer journalists' questions directly
//! (how the split grew, who switched sides, who votes with whom, how complete the
//! record is), each computed in SQL in a fixed number of round trips whatever the
//! size of the data. The definitions they rest on (effective stance, sides, the steps
//! of a country's record) live in SQL once: see migrations/…_schema.sql and
//! migrations/…_analytics.sql.

mod alignment;
mod compare;
mod stats;
mod topic;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use super::listing::{Format, csv_stream};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/stats/stances", get(stats::stance_stats))
        .route("/v1/stats/coverage", get(stats::coverage))
        .route("/v1/topics/{slug}/timeline", get(topic::timeline))
        .route("/v1/topics/{slug}/switchers", get(topic::switchers))
        // A path of its own: axum matches the literal segment before `/v1/statements/{id}`.
        .route("/v1/statements/compare", get(compare::compare))
        .route("/v1/countries/{code}/alignment", get(alignment::alignment))
}

/// A whole (unpaged) answer: the JSON document, or its rows flattened for CSV.
fn json_or_csv<T, C>(
    format: Format,
    document: T,
    file_stem: &str,
    csv_rows: impl FnOnce(T) -> Vec<C>,
) -> Response
where
    T: Serialize,
    C: Serialize + Default + Send + 'static,
{
    match format {
        Format::Json => axum::Json(document).into_response(),
        Format::Csv => {
            let rows = csv_rows(document).into_iter().map(Ok);
            csv_stream(file_stem, futures::stream::iter(rows))
        }
    }
}
