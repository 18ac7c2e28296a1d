//! A topic over time: `GET /v1/topics/{slug}/timeline` (each statement with the
//! running count of countries on each side) and `GET /v1/topics/{slug}/switchers`
//! (the countries that have been on more than one side).

use axum::extract::{OriginalUri, Path};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;

use crate::error::AppResult;
use crate::http::fields::Item;
use crate::http::listing::{CSV_BATCH, Format, Paging, list_response};
use crate::http::params::Params;
use crate::http::replicas::Reader;
use crate::store::keyset::{Cursor, Reading};
use crate::store::timeline::{self, SideSpan, Switcher, TimelineEntry};
use crate::store::topics;

impl Item for TimelineEntry {
    const FIELDS: &'static [&'static str] = &[
        "statement_id",
        "title",
        "kind",
        "forum",
        "session",
        "issued_on",
        "stance",
        "reported_count",
        "participant_count",
        "stance_counts",
        "cumulative",
    ];
}

impl Item for Switcher {
    const FIELDS: &'static [&'static str] = &["country", "sides", "latest"];
}

#[derive(Debug, Default, Serialize)]
struct TimelineCsv {
    statement_id: String,
    title: String,
    kind: String,
    forum: String,
    session: Option<String>,
    issued_on: String,
    stance: Option<String>,
    reported_count: Option<i32>,
    participant_count: i32,
    critical: i64,
    supportive: i64,
    neutral: i64,
    abstain: i64,
    withdrawn: i64,
    yes: i64,
    no: i64,
    cumulative_critical: i64,
    cumulative_supportive: i64,
    cumulative_yes: i64,
    cumulative_no: i64,
}

impl From<TimelineEntry> for TimelineCsv {
    fn from(e: TimelineEntry) -> Self {
        let (counts, cumulative) = (e.stance_counts.0, e.cumulative.0);
        Self {
            statement_id: e.statement_id,
            title: e.title,
            kind: e.kind.as_str().to_owned(),
            forum: e.forum,
            session: e.session,
            issued_on: e.issued_on.to_string(),
            stance: e.stance.map(|s| s.as_str().to_owned()),
            reported_count: e.reported_count,
            participant_count: e.participant_count,
            critical: counts.critical,
            supportive: counts.supportive,
            neutral: counts.neutral,
            abstain: counts.abstain,
            withdrawn: counts.withdrawn,
            yes: counts.yes,
            no: counts.no,
            cumulative_critical: cumulative.critical,
            cumulative_supportive: cumulative.supportive,
            cumulative_yes: cumulative.yes,
            cumulative_no: cumulative.no,
        }
    }
}

const TIMELINE_SORT: &str = "date";

pub(super) async fn timeline(
    reader: Reader,
    Path(slug): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let (from, to) = params.date_range();
    let as_of = params.one::<NaiveDate>("as_of");
    let paging = Paging::parse::<TimelineEntry, TimelineCsv>(&mut params, &headers, TIMELINE_SORT);
    params.finish()?;
    let topic = topics::slug_from_path(&reader.db, &slug).await?;

    let file_stem = format!("{}-timeline", topic.as_str());
    list_response(
        &reader.exports,
        Reading::keyed(&reader.db).await?,
        move |cursor| timeline::timeline(&topic, (from, to), as_of, cursor),
        &paging,
        &uri,
        (&file_stem, TimelineCsv::from),
        |e: &TimelineEntry| Cursor {
            sort: TIMELINE_SORT.into(),
            key: e.issued_on.to_string(),
            id: e.statement_id.clone(),
        },
    )
    .await
}

#[derive(Debug, Default, Serialize)]
struct SwitcherCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    sides: String,
    first_on: String,
    participations: i64,
    latest_stance: String,
    latest_on: String,
    latest_statement_id: String,
}

impl From<Switcher> for SwitcherCsv {
    fn from(s: Switcher) -> Self {
        let (country, sides, latest) = (s.country.0, s.sides.0, s.latest.0);
        let joined = |part: &dyn Fn(&SideSpan) -> String| {
            sides.iter().map(part).collect::<Vec<_>>().join(";")
        };
        Self {
            sides: joined(&|s| s.side.as_str().to_owned()),
            first_on: joined(&|s| s.first.date.to_string()),
            participations: sides.iter().map(|s| s.participations).sum(),
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            latest_stance: latest.stance.as_str().to_owned(),
            latest_on: latest.date.to_string(),
            latest_statement_id: latest.statement_id,
        }
    }
}

const SWITCHER_SORT: &str = "name";

pub(super) async fn switchers(
    reader: Reader,
    Path(slug): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let as_of = params.one::<NaiveDate>("as_of");
    let paging = Paging::parse::<Switcher, SwitcherCsv>(&mut params, &headers, SWITCHER_SORT);
    params.finish()?;
    let topic = topics::slug_from_path(&reader.db, &slug).await?;
    let page_rows = match paging.format {
        Format::Json => paging.fetch_limit(),
        Format::Csv => CSV_BATCH,
    };
    let file_stem = format!("{}-switchers", topic.as_str());
    list_response(
        &reader.exports,
        Reading::keyed(&reader.db).await?,
        move |cursor| timeline::switchers(&topic, as_of, cursor, page_rows),
        &paging,
        &uri,
        (&file_stem, SwitcherCsv::from),
        |s: &Switcher| Cursor {
            sort: SWITCHER_SORT.into(),
            key: s.country.0.name.clone(),
            id: s.country.0.code.clone(),
        },
    )
    .await
}
