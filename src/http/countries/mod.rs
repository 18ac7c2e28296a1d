//! Countries: the reference list, and what each country signed and where it stands
//! (`stances`); admins correct and extend the list (`write`).

mod stances;
mod write;

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::Serialize;

use super::AppState;
use super::conditional::tagged_json;
use super::fields::{Fields, Item, Sparse};
use super::listing::{Paging, list_response};
use super::params::{Choice, Params};
use super::reference::RequestVersion;
use super::replicas::Reader;
use crate::domain::{CountryCode, EffectiveStance, Role, Slug};
use crate::error::{AppError, AppResult};
use crate::store::countries::{self, Country, CountryFilter};
use crate::store::keyset::{Cursor, Reading};
use crate::store::participations::{self, Participation, ParticipationFilter};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/countries",
            get(list_countries).post(write::create_country),
        )
        .route(
            "/v1/countries/{code}",
            get(get_country).patch(write::update_country),
        )
        .route(
            "/v1/countries/{code}/statements",
            get(list_country_statements),
        )
        .route(
            "/v1/countries/{code}/stances",
            get(stances::get_country_stances),
        )
}

impl Item for Country {
    const FIELDS: &'static [&'static str] = &[
        "code",
        "iso2",
        "numeric_code",
        "iso3166_3",
        "name",
        "official_name",
        "common_name",
        "region",
        "subregion",
        "intermediate_region",
        "un_member",
        "un_observer",
        "un_admission_date",
        "ended_on",
        "successor_code",
    ];
}

impl Item for Participation {
    const FIELDS: &'static [&'static str] = &[
        "statement",
        "role",
        "effective_stance",
        "joined_on",
        "withdrawn_on",
        "effective_on",
        "source_url",
    ];
}

const COUNTRY_SORT: &str = "name";

async fn list_countries(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let region = params.one::<String>("region");
    let subregion = params.one::<String>("subregion");
    let un_member = params.one::<bool>("un_member");
    let q = params.one::<String>("q");
    let paging = Paging::parse::<Country, Country>(&mut params, &headers, COUNTRY_SORT);
    params.finish()?;

    let filter = CountryFilter {
        region,
        subregion,
        un_member,
        q,
    };
    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        move |cursor| countries::list(&filter, cursor),
        &paging,
        &uri,
        ("countries", std::convert::identity),
        |c: &Country| Cursor {
            sort: COUNTRY_SORT.into(),
            key: c.name.clone(),
            id: c.code.clone(),
        },
    )
    .await
}

async fn get_country(
    reader: Reader,
    Path(code): Path<String>,
    mut params: Params,
) -> AppResult<Response> {
    let fields = Fields::json::<Country>(&mut params);
    params.finish()?;
    let country = countries::from_path(&reader.db, &code).await?;
    Ok(tagged_json(
        StatusCode::OK,
        &Sparse::new(fields.as_ref(), &country),
    ))
}

/// The flat CSV form of [`Participation`].
#[derive(Debug, Default, Serialize)]
struct ParticipationCsv {
    statement_id: String,
    title: String,
    kind: String,
    forum: String,
    session: Option<String>,
    issued_on: String,
    statement_stance: Option<String>,
    role: String,
    effective_stance: String,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    effective_on: String,
    source_url: Option<String>,
}

impl From<Participation> for ParticipationCsv {
    fn from(p: Participation) -> Self {
        Self {
            statement_id: p.statement.id,
            title: p.statement.title,
            kind: p.statement.kind.as_str().to_owned(),
            forum: p.statement.forum,
            session: p.statement.session,
            issued_on: p.statement.issued_on.to_string(),
            statement_stance: p.statement.stance.map(|s| s.as_str().to_owned()),
            role: p.role.as_str().to_owned(),
            effective_stance: p.effective_stance.as_str().to_owned(),
            joined_on: p.joined_on,
            withdrawn_on: p.withdrawn_on,
            effective_on: p.effective_on.to_string(),
            source_url: p.source_url,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    Oldest,
    Newest,
}

impl Choice for DateOrder {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("date", Self::Oldest), ("-date", Self::Newest)];
}

async fn list_country_statements(
    State(state): State<AppState>,
    reader: Reader,
    Path(code): Path<String>,
    version: RequestVersion,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let topic = params.one::<Slug>("topic");
    let stances = params.many::<EffectiveStance>("stance");
    let roles = params.many::<Role>("role");
    let (from, to) = params.date_range();
    let as_of = params.one::<NaiveDate>("as_of");
    let order = params.choice("sort", DateOrder::Newest);
    let sort_name = order.name();
    let paging = Paging::parse::<Participation, ParticipationCsv>(&mut params, &headers, sort_name);
    params.finish()?;
    let not_found = || AppError::NotFound(format!("Country {code:?}"));
    let written = CountryCode::parse(&code).map_err(|_| not_found())?;
    let country = state
        .country_codes
        .resolve(&reader.db, &version, written.as_str())
        .await?
        .ok_or_else(not_found)?;
    // Statements issued after `as_of` are not part of its record.
    let to = match (to, as_of) {
        (Some(to), Some(day)) => Some(to.min(day)),
        (to, day) => to.or(day),
    };
    let mut filter = ParticipationFilter {
        topic,
        roles,
        stances,
        as_of,
        ..ParticipationFilter::default()
    };
    // Today's record plans alike for every country; a past day's is bounded by the
    // years in which the country took part, within the dates asked for, so that the
    // planner sees where its statements lie on the timeline.
    let (years, reading) = match as_of {
        None => {
            (filter.from, filter.to) = (from, to);
            ((None, None), Reading::planned(&reader.keyed).await?)
        }
        Some(_) => {
            let years =
                countries::participation_years(&reader.db, std::slice::from_ref(&country)).await?;
            let first = years.map(|(first, _)| first).max(from);
            let last = match (years.map(|(_, last)| last), to) {
                (Some(last), Some(to)) => Some(last.min(to)),
                (last, to) => last.or(to),
            };
            ((first, last), Reading::planned(&reader.db).await?)
        }
    };
    let file_stem = format!("{}-statements", country.to_lowercase());
    list_response(
        &reader.exports,
        reading,
        move |cursor| {
            participations::of_country(&country, &filter, years, order == DateOrder::Oldest, cursor)
        },
        &paging,
        &uri,
        (&file_stem, ParticipationCsv::from),
        |p: &Participation| Cursor {
            sort: sort_name.into(),
            key: p.statement.issued_on.to_string(),
            id: p.statement.id.clone(),
        },
    )
    .await
}
