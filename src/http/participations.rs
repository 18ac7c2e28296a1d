//! `GET /v1/participations`: every country's participation in every statement, one flat
//! row each. The bulk download of the data: as CSV it streams every matching row in the
//! order of signature's primary key, holding one row at a time.

use axum::Router;
use axum::extract::OriginalUri;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;

use super::AppState;
use super::fields::Item;
use super::listing::{Paging, list_response};
use super::params::Params;
use super::replicas::Reader;
use crate::domain::{CountryCode, EffectiveStance, Role, Slug, StatementKind};
use crate::error::AppResult;
use crate::store::countries;
use crate::store::keyset::{Cursor, Reading};
use crate::store::participations::{self, ParticipationFilter, ParticipationRecord};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/participations", get(list_participations))
}

impl Item for ParticipationRecord {
    const FIELDS: &'static [&'static str] = &[
        "statement_id",
        "statement_issued_on",
        "country_code",
        "role",
        "effective_stance",
        "joined_on",
        "withdrawn_on",
        "effective_on",
        "source_url",
        "note",
    ];
}

/// By statement id, then country code: signature's primary key.
const PARTICIPATION_SORT: &str = "statement";

async fn list_participations(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let countries = params.many::<CountryCode>("country");
    let topic = params.one::<Slug>("topic");
    let kinds = params.many::<StatementKind>("kind");
    let roles = params.many::<Role>("role");
    let stances = params.many::<EffectiveStance>("stance");
    let (from, to) = params.date_range();
    let as_of = params.one::<NaiveDate>("as_of");
    let paging = Paging::parse::<ParticipationRecord, ParticipationRecord>(
        &mut params,
        &headers,
        PARTICIPATION_SORT,
    );
    params.finish()?;

    let filter = ParticipationFilter {
        countries: countries::resolve_filter(&reader.db, "country", &countries).await?,
        topic,
        kinds,
        roles,
        stances,
        from,
        to,
        as_of,
    };
    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        move |cursor| participations::list(&filter, cursor),
        &paging,
        &uri,
        ("participations", std::convert::identity),
        |p: &ParticipationRecord| Cursor {
            sort: PARTICIPATION_SORT.into(),
            key: p.statement_id.clone(),
            id: p.country_code.clone(),
        },
    )
    .await
}
