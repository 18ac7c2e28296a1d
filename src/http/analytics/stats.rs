//! `GET /v1/stats/stances` (countries per effective stance, by year, region, forum or
//! statement) and `GET /v1/stats/coverage` (how complete each statement's list is).

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::types::Json as SqlJson;
use sqlx::{Postgres, QueryBuilder};

use crate::domain::{EffectiveStance, Stance};
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::listing::{Cursor, Format, Paging, Reading, list_response};
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

/// What `group_by` may name, in canonical order.
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

    /// `(expression over s = statement, c = country, output column, its SQL type)`;
    /// counted from the tally, the year is its row's (`g.year`).
    fn columns(self, counted: &Counted) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Self::Year if *counted != Counted::Signatures => &[("g.year", "year", "integer")],
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
            Self::Statement => "statement_issued_on::text || ' ' || (statement_id collate \"C\")",
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

/// `jsonb_build_object('critical', <count>, …)` over every effective stance, the
/// count for each made by `count_of(stance)`.
fn stance_counts_sql(count_of: impl Fn(&str) -> String) -> String {
    let pairs: Vec<String> = <EffectiveStance as strum::VariantNames>::VARIANTS
        .iter()
        .map(|stance| format!("'{stance}', {}", count_of(stance)))
        .collect();
    format!("jsonb_build_object({})", pairs.join(", "))
}

/// Where a page of statement groups starts: at the cursor's statement, and no more
/// statements than the page can use.
struct StatementWindow<'a> {
    cursor: Option<&'a Cursor>,
    statements: i64,
}

/// Where the counts come from.
#[derive(Debug, Clone, PartialEq)]
enum Counted {
    /// The matching statements' signatures, read per request.
    Signatures,
    /// Table `stance_tally` (kept by triggers in every write): the statements on
    /// `topic` ('' for all) of the years `from..=to`, per country and stance.
    Tally {
        topic: String,
        from: Option<i32>,
        to: Option<i32>,
    },
}

impl Counted {
    /// The tally answers whatever needs nothing it does not keep: grouped by year,
    /// region or subregion only, filtered by topic and by whole years only.
    fn choose(filter: &StatementFilter, groups: &[GroupBy]) -> Self {
        let tallied = groups
            .iter()
            .all(|g| matches!(g, GroupBy::Year | GroupBy::Region | GroupBy::Subregion));
        let whole_years = filter.from.is_none_or(|d| d.ordinal() == 1)
            && filter
                .to
                .is_none_or(|d| d.succ_opt().is_none_or(|next| next.ordinal() == 1));
        if !tallied || !whole_years || !filter.kinds.is_empty() {
            return Self::Signatures;
        }
        Self::Tally {
            topic: filter
                .topic
                .as_ref()
                .map_or_else(String::new, |t| t.as_str().to_owned()),
            from: filter.from.map(|d| d.year()),
            to: filter.to.map(|d| d.year()),
        }
    }
}

/// The groups of the matching participations with their `sort_key`, as a subquery.
///
/// Grouped by statement, a country appears at most once per group, so one level of
/// aggregation counts distinct countries; statements without recorded countries
/// still make a group (of zeros), so every statement has at least one. `window`
/// then limits the work of a page to the statements the page can show.
///
/// Otherwise two hash aggregations: one row per (group, country) with a flag per
/// stance it took there, then per group the count of countries with each flag.
/// That avoids `count(distinct …)`, which sorts every group's rows. The rows per
/// (group, country) are made from the signatures or from the tally.
fn push_groups(
    qb: &mut QueryBuilder<Postgres>,
    filter: &StatementFilter,
    groups: &[GroupBy],
    counted: &Counted,
    window: Option<StatementWindow>,
) {
    let columns: Vec<_> = groups.iter().flat_map(|g| g.columns(counted)).collect();
    // Each as a list with a trailing comma, to go before the columns that follow.
    let listed = |item: &dyn Fn(&str, &str) -> String| -> String {
        columns
            .iter()
            .map(|(expr, alias, _)| item(expr, alias) + ", ")
            .collect()
    };
    let selected = listed(&|expr, alias| format!("{expr} as {alias}"));
    let expressions = listed(&|expr, _| expr.to_owned());
    let aliases = listed(&|_, alias| alias.to_owned());
    let parts: Vec<&str> = sort_order(groups).iter().map(|g| g.sort_part()).collect();
    let sort_key = match parts.as_slice() {
        [] => "''".to_owned(),
        _ => format!("concat_ws(E'\\x1f', {})", parts.join(", ")),
    };
    let stances = <EffectiveStance as strum::VariantNames>::VARIANTS;
    let stance = "effective_stance(s.stance, g.role, g.withdrawn_on)";
    let needs_country = groups.contains(&GroupBy::Region) || groups.contains(&GroupBy::Subregion);
    let country_join = match needs_country {
        true => " join country c on c.code = g.country_code",
        false => "",
    };

    let mut source = "matches";
    if *counted == Counted::Signatures {
        filter.push_matches(qb);
        if let Some(window) = window {
            source = "window_statements";
            qb.push(", window_statements as (select * from matches s");
            if let Some(cursor) = window.cursor {
                qb.push(" where (s.issued_on, s.id collate \"C\") >= (select issued_on, id from statement where id = ")
                    .push_bind(cursor.id.clone())
                    .push(")");
            }
            qb.push(" order by s.issued_on, s.id collate \"C\" limit ")
                .push_bind(window.statements)
                .push(")");
        }
    }
    qb.push(format!(
        " select {aliases}countries, participations, stance_counts, {sort_key} as sort_key from ("
    ));
    if groups.contains(&GroupBy::Statement) {
        let counts =
            stance_counts_sql(|x| format!("count(g.country_code) filter (where {stance} = '{x}')"));
        qb.push(format!(
            "select {selected}count(g.country_code) as countries, count(g.country_code) as participations, \
             {counts} as stance_counts \
             from {source} s left join signature g on g.statement_id = s.id"
        ));
        if needs_country {
            qb.push(" left join country c on c.code = g.country_code");
        }
        qb.push(format!(" group by {}", expressions.trim_end_matches(", ")));
    } else {
        let counts = stance_counts_sql(|x| format!("count(*) filter (where took_{x})"));
        qb.push(format!(
            "select {aliases}count(*) as countries, coalesce(sum(n), 0)::bigint as participations, \
             {counts} as stance_counts from (select {selected}g.country_code, "
        ));
        match counted {
            Counted::Signatures => {
                let flags: String = stances
                    .iter()
                    .map(|x| format!(", bool_or({stance} = '{x}') as took_{x}"))
                    .collect();
                qb.push(format!(
                    "count(*) as n{flags} from {source} s join signature g on g.statement_id = s.id{country_join} where true"
                ));
            }
            Counted::Tally { topic, from, to } => {
                let flags: String = stances
                    .iter()
                    .map(|x| format!(", bool_or(g.{x} > 0) as took_{x}"))
                    .collect();
                qb.push(format!(
                    "sum(g.{}) as n{flags} from stance_tally g{country_join} where g.topic_slug = ",
                    stances.join(" + g.")
                ))
                .push_bind(topic.clone());
                if let Some(from) = from {
                    qb.push(" and g.year >= ").push_bind(*from);
                }
                if let Some(to) = to {
                    qb.push(" and g.year <= ").push_bind(*to);
                }
            }
        }
        qb.push(format!(
            " group by {expressions}g.country_code) per_country"
        ));
        if !columns.is_empty() {
            qb.push(format!(" group by {}", aliases.trim_end_matches(", ")));
        }
    }
    qb.push(") grouped");
}

/// The order of the groups: by statement (date, then id) and the country's region
/// when grouped by statement (its year and forum follow from it), else by year,
/// region, subregion and forum.
fn sort_order(groups: &[GroupBy]) -> Vec<GroupBy> {
    match groups.contains(&GroupBy::Statement) {
        true => [GroupBy::Statement, GroupBy::Region, GroupBy::Subregion]
            .into_iter()
            .filter(|g| groups.contains(g))
            .collect(),
        false => groups.to_vec(),
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

    let counted = Counted::choose(&filter, &groups);
    let mut columns = String::new();
    for group in GroupBy::ALL.map(|(_, g)| g) {
        for (_, alias, sql_type) in group.columns(&counted) {
            match groups.contains(&group) {
                true => columns.push_str(&format!("{alias}, ")),
                false => columns.push_str(&format!("null::{sql_type} as {alias}, ")),
            }
        }
    }
    let by_statement = groups.contains(&GroupBy::Statement);
    // A page needs its rows after the cursor, plus one to tell whether more follow;
    // the cursor's own statement may have none left.
    let window = (by_statement && paging.format == Format::Json).then(|| StatementWindow {
        cursor: paging.cursor.as_ref(),
        statements: paging.fetch_limit() + 1,
    });
    let mut qb = QueryBuilder::new(format!(
        "select {columns}countries, participations, stance_counts, sort_key from ("
    ));
    push_groups(&mut qb, &filter, &groups, &counted, window);
    qb.push(") groups where true");
    if let Some(cursor) = &paging.cursor {
        qb.push(" and sort_key collate \"C\" > ")
            .push_bind(cursor.key.clone());
    }
    qb.push(" order by sort_key collate \"C\"");
    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*) from (");
            push_groups(&mut count, &filter, &groups, &counted, None);
            count.push(") groups");
            count
        },
        &paging,
        &uri,
        ("stance-stats", StanceGroupCsv::from),
        |g: &StanceGroup| Cursor {
            sort: sort_name.clone(),
            key: g.sort_key.clone(),
            id: g.statement_id.clone().unwrap_or_default(),
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
        Reading::planned(&state.db).await?,
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
