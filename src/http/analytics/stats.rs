//! `GET /v1/stats/stances` (countries per effective stance, by year, region, forum or
//! statement) and `GET /v1/stats/coverage` (how complete each statement's list is).

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::types::Json as SqlJson;
use sqlx::{Postgres, QueryBuilder};

use crate::domain::Stance;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::listing::{Cursor, Paging, list_response};
use crate::http::params::{ParamValue, Params};
use crate::http::statements::{StanceCounts, StatementFilter};

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

/// What `group_by` may name, in the order groups are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum GroupBy {
    Year,
    Region,
    Subregion,
    Forum,
    Statement,
}

impl GroupBy {
    const ALL: [(&'static str, Self); 5] = [
        ("year", Self::Year),
        ("region", Self::Region),
        ("subregion", Self::Subregion),
        ("forum", Self::Forum),
        ("statement", Self::Statement),
    ];

    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, g)| *g == self)
            .expect("every grouping has a name")
            .0
    }

    /// `(expression over s = statement, c = country, output column, its SQL type)`.
    fn columns(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Self::Year => &[("extract(year from s.issued_on)::integer", "year", "integer")],
            Self::Region => &[("c.region", "region", "text")],
            Self::Subregion => &[("c.subregion", "subregion", "text")],
            Self::Forum => &[("s.forum", "forum", "text")],
            Self::Statement => &[
                ("s.id", "statement_id", "text"),
                ("s.title", "statement_title", "text"),
                ("s.issued_on", "statement_issued_on", "date"),
            ],
        }
    }

    /// This grouping's part of the sort key (a text that orders as the groups should).
    fn sort_part(self) -> &'static str {
        match self {
            Self::Year => "lpad(year::text, 4, '0')",
            Self::Region => "coalesce(region, '')",
            Self::Subregion => "coalesce(subregion, '')",
            Self::Forum => "forum",
            Self::Statement => "statement_issued_on::text || ' ' || statement_id",
        }
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

/// One group of `GET /v1/stats/stances`: the values it is grouped by (null for a
/// dimension not grouped by) and its distinct countries per effective stance.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct StanceGroup {
    year: Option<i32>,
    region: Option<String>,
    subregion: Option<String>,
    forum: Option<String>,
    statement_id: Option<String>,
    statement_title: Option<String>,
    statement_issued_on: Option<NaiveDate>,
    countries: i64,
    participations: i64,
    stance_counts: SqlJson<StanceCounts>,
    /// The keyset: the group's values as one text; not shown.
    #[serde(skip)]
    sort_key: String,
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

/// The groups of the matching participations, as a subquery named `groups`.
///
/// Distinct countries per group and stance in two hash aggregations: first one row
/// per (group, country, stance), then per group a count of those rows per stance.
/// That avoids `count(distinct …)` per stance, which would sort every group's rows
/// once per stance.
fn push_groups(qb: &mut QueryBuilder<Postgres>, filter: &StatementFilter, groups: &[GroupBy]) {
    let columns: Vec<_> = groups.iter().flat_map(|g| g.columns()).collect();
    // The inner level groups by expressions (an alias such as `statement_id` would
    // name signature's own column there), the outer by the inner level's columns.
    let list = |items: Vec<&str>| items.iter().map(|i| format!("{i}, ")).collect::<String>();
    let expressions = list(columns.iter().map(|(expr, _, _)| *expr).collect());
    let aliases = list(columns.iter().map(|(_, alias, _)| *alias).collect());
    let sort_key = match groups {
        [] => "''".to_owned(),
        _ => {
            let parts: Vec<&str> = groups.iter().map(|g| g.sort_part()).collect();
            format!("concat_ws(E'\\x1f', {})", parts.join(", "))
        }
    };
    filter.push_matches(qb);
    qb.push(format!(
        " select {aliases}count(distinct country_code) as countries, \
             coalesce(sum(n), 0)::bigint as participations, \
             jsonb_build_object('critical', count(*) filter (where effective_stance = 'critical'), \
                 'supportive', count(*) filter (where effective_stance = 'supportive'), \
                 'neutral', count(*) filter (where effective_stance = 'neutral'), \
                 'abstain', count(*) filter (where effective_stance = 'abstain'), \
                 'withdrawn', count(*) filter (where effective_stance = 'withdrawn'), \
                 'yes', count(*) filter (where effective_stance = 'yes'), \
                 'no', count(*) filter (where effective_stance = 'no')) as stance_counts, \
             {sort_key} as sort_key \
         from (select "
    ));
    for (expression, alias, _) in &columns {
        qb.push(format!("{expression} as {alias}, "));
    }
    qb.push(
        "g.country_code, effective_stance(s.stance, g.role, g.withdrawn_on) as effective_stance, \
         count(*) as n from matches s join signature g on g.statement_id = s.id",
    );
    if groups.contains(&GroupBy::Region) || groups.contains(&GroupBy::Subregion) {
        qb.push(" join country c on c.code = g.country_code");
    }
    qb.push(format!(
        " group by {expressions}g.country_code, effective_stance(s.stance, g.role, g.withdrawn_on)) per_country"
    ));
    if !columns.is_empty() {
        qb.push(format!(" group by {}", aliases.trim_end_matches(", ")));
    }
}

pub(super) async fn stance_stats(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let mut groups = params.many::<GroupBy>("group_by");
    groups.sort_unstable();
    groups.dedup();
    let filter = statement_filter(&mut params);
    // A cursor belongs to one grouping; it is named in canonical order.
    let sort_name = match groups.as_slice() {
        [] => "all".to_owned(),
        _ => groups
            .iter()
            .map(|g| g.name())
            .collect::<Vec<_>>()
            .join(","),
    };
    let paging = Paging::parse(&mut params, &headers, &sort_name);
    params.finish()?;

    let mut columns = String::new();
    for group in GroupBy::ALL.map(|(_, g)| g) {
        for (_, alias, sql_type) in group.columns() {
            match groups.contains(&group) {
                true => columns.push_str(&format!("{alias}, ")),
                false => columns.push_str(&format!("null::{sql_type} as {alias}, ")),
            }
        }
    }
    let mut qb = QueryBuilder::new(format!(
        "select {columns}countries, participations, stance_counts, sort_key from ("
    ));
    push_groups(&mut qb, &filter, &groups);
    qb.push(") groups where true");
    if let Some(cursor) = &paging.cursor {
        qb.push(" and sort_key collate \"C\" > ")
            .push_bind(cursor.key.clone());
    }
    qb.push(" order by sort_key collate \"C\"");
    list_response(
        &state.db,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*) from (");
            push_groups(&mut count, &filter, &groups);
            count.push(") groups");
            count
        },
        &paging,
        &uri,
        ("stance-stats", StanceGroupCsv::from),
        |g: &StanceGroup| Cursor {
            sort: sort_name.clone(),
            key: g.sort_key.clone(),
            id: String::new(),
        },
    )
    .await
}

/// How complete one statement's list of countries is.
#[derive(Debug, Default, Serialize, sqlx::FromRow)]
struct Coverage {
    statement_id: String,
    title: String,
    kind: String,
    forum: String,
    session: Option<String>,
    issued_on: NaiveDate,
    stance: Option<Stance>,
    reported_count: Option<i32>,
    list_complete: bool,
    signatory_count: i32,
    participant_count: i32,
    missing: Option<i32>,
    held_share: Option<f64>,
}

/// Statements in date order, oldest first.
const COVERAGE_SORT: &str = "date";

pub(super) async fn coverage(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let filter = statement_filter(&mut params);
    let list_complete = params.one::<bool>("list_complete");
    let paging = Paging::parse(&mut params, &headers, COVERAGE_SORT);
    params.finish()?;

    let filtered = |qb: &mut QueryBuilder<Postgres>| {
        filter.push_matches(qb);
        qb.push(" select s.id as statement_id, s.title, s.kind::text, s.forum, s.session, s.issued_on, \
                  s.stance, s.reported_count, s.list_complete, s.signatory_count, s.participant_count, \
                  greatest(s.reported_count - s.signatory_count, 0) as missing, \
                  round(s.signatory_count::numeric / nullif(s.reported_count, 0), 3)::float8 as held_share \
                  from matches s where true");
        if let Some(list_complete) = list_complete {
            qb.push(" and s.list_complete = ").push_bind(list_complete);
        }
    };
    let mut qb = QueryBuilder::new("");
    filtered(&mut qb);
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, ("s.issued_on", "date"), "s.id", true);
    }
    qb.push(" order by s.issued_on, s.id");
    list_response(
        &state.db,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*) from (");
            filtered(&mut count);
            count.push(") rows");
            count
        },
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
