//! `GET /v1/stats/stances` (countries per effective stance, by year, region, forum or
//! statement) and `GET /v1/stats/coverage` (how complete each statement's list is).

use axum::extract::OriginalUri;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;

use crate::error::AppResult;
use crate::http::fields::Item;
use crate::http::listing::{CSV_BATCH, Format, Paging, list_response};
use crate::http::params::{ParamValue, Params};
use crate::http::replicas::Reader;
use crate::store::keyset::{Cursor, Reading};
use crate::store::statements::StatementFilter;
use crate::store::stats::{self, Coverage, GroupBy, StanceGroup};

/// The statement filters both endpoints take: `topic`, `from`, `to`, `kind`.
fn statement_filter(params: &mut Params) -> StatementFilter {
    let (from, to) = params.date_range();
    StatementFilter {
        topic: params.one("topic"),
        kinds: params.many("kind"),
        from,
        to,
        ..StatementFilter::default()
    }
}

impl ParamValue for GroupBy {
    fn parse_param(value: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, g)| *g)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(name, _)| *name).collect();
                format!("{value:?} is not one of: {}", names.join(", "))
            })
    }
}

impl Item for StanceGroup {
    const FIELDS: &'static [&'static str] = &[
        "year",
        "region",
        "subregion",
        "forum",
        "statement_id",
        "statement_title",
        "statement_issued_on",
        "countries",
        "participations",
        "stance_counts",
    ];
}

impl Item for Coverage {
    const FIELDS: &'static [&'static str] = &[
        "statement_id",
        "title",
        "kind",
        "forum",
        "session",
        "issued_on",
        "stance",
        "reported_count",
        "list_complete",
        "signatory_count",
        "participant_count",
        "missing",
        "held_share",
    ];
}

#[derive(Debug, Default, Serialize)]
struct StanceGroupCsv {
    year: Option<i32>,
    region: Option<String>,
    subregion: Option<String>,
    forum: Option<String>,
    statement_id: Option<String>,
    statement_title: Option<String>,
    statement_issued_on: Option<NaiveDate>,
    countries: i64,
    participations: i64,
    critical: i64,
    supportive: i64,
    neutral: i64,
    abstain: i64,
    withdrawn: i64,
    yes: i64,
    no: i64,
}

impl From<StanceGroup> for StanceGroupCsv {
    fn from(g: StanceGroup) -> Self {
        let counts = g.stance_counts.0;
        Self {
            year: g.year,
            region: g.region,
            subregion: g.subregion,
            forum: g.forum,
            statement_id: g.statement_id,
            statement_title: g.statement_title,
            statement_issued_on: g.statement_issued_on,
            countries: g.countries,
            participations: g.participations,
            critical: counts.critical,
            supportive: counts.supportive,
            neutral: counts.neutral,
            abstain: counts.abstain,
            withdrawn: counts.withdrawn,
            yes: counts.yes,
            no: counts.no,
        }
    }
}

pub(super) async fn stance_stats(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let mut groups = params.many::<GroupBy>("group_by");
    groups.sort_unstable();
    groups.dedup();
    let mut filter = statement_filter(&mut params);
    filter.as_of = params.one::<NaiveDate>("as_of");
    // Statements issued after `as_of` are not part of its record.
    filter.to = match (filter.to, filter.as_of) {
        (Some(to), Some(day)) => Some(to.min(day)),
        (to, day) => to.or(day),
    };
    // A cursor belongs to one grouping; it is named in canonical order.
    let sort_name = match groups.as_slice() {
        [] => "all".to_owned(),
        _ => groups
            .iter()
            .map(|g| g.name())
            .collect::<Vec<_>>()
            .join(","),
    };
    let paging = Paging::parse::<StanceGroup, StanceGroupCsv>(&mut params, &headers, &sort_name);
    params.finish()?;

    let page_rows = match paging.format {
        Format::Json => paging.fetch_limit(),
        Format::Csv => CSV_BATCH,
    };
    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        move |cursor| stats::stance_groups(&filter, &groups, cursor, page_rows),
        &paging,
        &uri,
        ("stance-stats", StanceGroupCsv::from),
        move |g: &StanceGroup| Cursor {
            sort: sort_name.clone(),
            key: g.sort_key.clone(),
            id: g.statement_id.clone().unwrap_or_default(),
        },
    )
    .await
}

/// Statements in date order, oldest first.
const COVERAGE_SORT: &str = "date";

pub(super) async fn coverage(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let filter = statement_filter(&mut params);
    let list_complete = params.one::<bool>("list_complete");
    let paging = Paging::parse::<Coverage, Coverage>(&mut params, &headers, COVERAGE_SORT);
    params.finish()?;

    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        move |cursor| stats::coverage(&filter, list_complete, cursor),
        &paging,
        &uri,
        ("coverage", std::convert::identity),
        |c: &Coverage| Cursor {
            sort: COVERAGE_SORT.into(),
            key: c.issued_on.to_string(),
            id: c.statement_id.clone(),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groupings_parse_by_name_and_list_the_allowed_ones() {
        assert_eq!(GroupBy::parse_param("region"), Ok(GroupBy::Region));
        let err = GroupBy::parse_param("country").unwrap_err();
        assert!(
            err.contains("year, region, subregion, forum, statement"),
            "{err}"
        );
    }
}
