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
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use super::fields::Fields;
use super::listing::csv_stream;

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

/// The rows of a whole (unpaged) answer as CSV, with the columns `fields` selects.
fn csv_rows<C>(file_stem: &str, fields: Option<Fields>, rows: Vec<C>) -> Response
where
    C: Serialize + Default + Send + 'static,
{
    csv_stream(
        file_stem,
        fields,
        futures::stream::iter(rows.into_iter().map(Ok)),
    )
}
