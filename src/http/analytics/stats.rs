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
    /// in rows of a tally, the year and forum are the row's (`g.year`, `g.forum`).
    fn columns(self, rows: Rows) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Self::Year if rows == Rows::Tally => &[("g.year", "year", "integer")],
            Self::Year => &[("extract(year from s.issued_on)::integer", "year", "integer")],
            Self::Region => &[("c.region", "region", "text")],
            Self::Subregion => &[("c.subregion", "subregion", "text")],
            Self::Forum if rows == Rows::Tally => &[("g.forum", "forum", "text")],
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

/// The tallies that the triggers keep in every write (migrations `…_stance_tally.sql`,
/// `…_forum_tally.sql` and `…_forum_tally_all_kinds.sql`): participations per stance
/// of each topic ('' for all statements), year and country.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tally {
    /// `stance_tally`.
    Topic,
    /// `stance_tally_by_forum_all_kinds`: split further by the statement's forum, so
    /// about three times as many rows.
    Forum,
    /// `stance_tally_by_forum`: split by forum and kind, about seven times as many.
    /// `one_kind`: the statistics are of exactly one kind.
    ForumAndKind { one_kind: bool },
}

impl Tally {
    fn table(self) -> &'static str {
        match self {
            Self::Topic => "stance_tally",
            Self::Forum => "stance_tally_by_forum_all_kinds",
            Self::ForumAndKind { .. } => "stance_tally_by_forum",
        }
    }

    /// Whether the tally's rows of one topic are one per group and country: grouped
    /// by every column of its key but the topic and country (or reading one kind), no
    /// row of a country needs adding to another of the same group.
    fn one_row_per_group_and_country(self, groups: &[GroupBy]) -> bool {
        let year = groups.contains(&GroupBy::Year);
        let year_and_forum = year && groups.contains(&GroupBy::Forum);
        match self {
            Self::Topic => year,
            Self::Forum => year_and_forum,
            Self::ForumAndKind { one_kind } => one_kind && year_and_forum,
        }
    }
}

/// Where the counts come from.
#[derive(Debug, Clone, PartialEq)]
enum Counted {
    /// The matching statements' signatures, read per request.
    Signatures,
    /// A tally: the statements on `topic` ('' for all) of the whole years
    /// `from..=to`, per country and stance. The range's days outside those years
    /// (`partial_years`: a range from 2019-07-08 has 2019 in part) are counted from
    /// their signatures.
    Tally {
        tally: Tally,
        topic: String,
        from: Option<i32>,
        to: Option<i32>,
        partial_years: Vec<(NaiveDate, NaiveDate)>,
    },
}

/// What one part of the counts reads: signatures, or rows of the tally.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rows {
    Signatures,
    Tally,
}

impl Counted {
    /// A tally answers whatever is not grouped by statement: the one with the fewest
    /// rows that holds the forum and kind when they are asked for. A range that holds
    /// no whole year is counted from its signatures alone: a year's at most.
    fn choose(filter: &StatementFilter, groups: &[GroupBy]) -> Self {
        if groups.contains(&GroupBy::Statement) {
            return Self::Signatures;
        }
        let tally = match (groups.contains(&GroupBy::Forum), filter.kinds.is_empty()) {
            (_, false) => Tally::ForumAndKind {
                one_kind: filter.kinds.iter().all(|kind| *kind == filter.kinds[0]),
            },
            (true, true) => Tally::Forum,
            (false, true) => Tally::Topic,
        };
        let starts_year = |d: NaiveDate| d.ordinal() == 1;
        let ends_year = |d: NaiveDate| d.succ_opt().is_none_or(starts_year);
        let day = |year, month, day| {
            NaiveDate::from_ymd_opt(year, month, day)
                .expect("every year has its first and last day")
        };
        let mut partial_years = Vec::new();
        let from = filter.from.map(|d| match starts_year(d) {
            true => d.year(),
            false => {
                partial_years.push((d, day(d.year(), 12, 31)));
                d.year() + 1
            }
        });
        let to = filter.to.map(|d| match ends_year(d) {
            true => d.year(),
            false => {
                partial_years.push((day(d.year(), 1, 1), d));
                d.year() - 1
            }
        });
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Self::Signatures;
        }
        Self::Tally {
            tally,
            topic: filter
                .topic
                .as_ref()
                .map_or_else(String::new, |t| t.as_str().to_owned()),
            from,
            to,
            partial_years,
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
/// (group, country) are made from the signatures or from the tally; a tally whose
/// rows are one per group and country already needs no first aggregation (which
/// took most of the time: by forum and year at five million signatures, 58 ms with it
/// against 18 ms without, over the same rows in psql).
fn push_groups(
    qb: &mut QueryBuilder<Postgres>,
    filter: &StatementFilter,
    groups: &[GroupBy],
    counted: &Counted,
    window: Option<StatementWindow>,
) {
    // Each as a list with a trailing comma, to go before the columns that follow.
    let listed = |rows: Rows, item: &dyn Fn(&str, &str) -> String| -> String {
        groups
            .iter()
            .flat_map(|g| g.columns(rows))
            .map(|(expr, alias, _)| item(expr, alias) + ", ")
            .collect()
    };
    let selected = |rows| listed(rows, &|expr, alias| format!("{expr} as {alias}"));
    let expressions = |rows| listed(rows, &|expr, _| expr.to_owned());
    let aliases = listed(Rows::Signatures, &|_, alias| alias.to_owned());
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
    let (reads_signatures, tally_table, tally_rows_grouped) = match counted {
        Counted::Signatures => (true, "", false),
        Counted::Tally {
            tally,
            partial_years,
            ..
        } => (
            !partial_years.is_empty(),
            tally.table(),
            tally.one_row_per_group_and_country(groups),
        ),
    };
    if reads_signatures {
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
            "select {}count(g.country_code) as countries, count(g.country_code) as participations, \
             {counts} as stance_counts \
             from {source} s left join signature g on g.statement_id = s.id",
            selected(Rows::Signatures)
        ));
        if needs_country {
            qb.push(" left join country c on c.code = g.country_code");
        }
        qb.push(format!(
            " group by {}",
            expressions(Rows::Signatures).trim_end_matches(", ")
        ));
        qb.push(") grouped");
        return;
    }

    // `, <any>(<took(stance)>) as took_<stance>` for every stance: `any` is the
    // aggregate, or "" for rows not grouped.
    let took_flags = |any: &str, took: &dyn Fn(&str) -> String| -> String {
        stances
            .iter()
            .map(|x| format!(", {any}({}) as took_{x}", took(x)))
            .collect()
    };
    let tally_count = format!("g.{}", stances.join(" + g."));
    // One row per (group, country): its participations and a flag per stance taken.
    let per_country = |qb: &mut QueryBuilder<Postgres>, rows: Rows| {
        qb.push(format!("select {}g.country_code, ", selected(rows)));
        match rows {
            Rows::Signatures => {
                let flags = took_flags("bool_or", &|x| format!("{stance} = '{x}'"));
                qb.push(format!(
                    "count(*) as n{flags} from {source} s join signature g on g.statement_id = s.id{country_join} where true"
                ));
            }
            Rows::Tally => {
                let (sum, any) = match tally_rows_grouped {
                    true => ("", ""),
                    false => ("sum", "bool_or"),
                };
                let flags = took_flags(any, &|x| format!("g.{x} > 0"));
                qb.push(format!(
                    "{sum}({tally_count}) as n{flags} from {tally_table} g{country_join} where true"
                ));
            }
        }
        if let Counted::Tally {
            topic,
            from,
            to,
            partial_years,
            ..
        } = counted
        {
            match rows {
                Rows::Tally => {
                    qb.push(" and g.topic_slug = ").push_bind(topic.clone());
                    if !filter.kinds.is_empty() {
                        qb.push(" and g.kind = any(")
                            .push_bind(filter.kinds.clone())
                            .push(")");
                    }
                    if let Some(from) = from {
                        qb.push(" and g.year >= ").push_bind(*from);
                    }
                    if let Some(to) = to {
                        qb.push(" and g.year <= ").push_bind(*to);
                    }
                }
                // Each part as a range of its own: the planner estimates a
                // range, but not its complement within the range of `matches`.
                Rows::Signatures => {
                    qb.push(" and (false");
                    for (first, last) in partial_years {
                        qb.push(" or s.listed_on between ")
                            .push_bind(*first)
                            .push(" and ")
                            .push_bind(*last);
                    }
                    qb.push(")");
                }
            }
        }
        if !(rows == Rows::Tally && tally_rows_grouped) {
            qb.push(format!(" group by {}g.country_code", expressions(rows)));
        }
    };
    let counts = stance_counts_sql(|x| format!("count(*) filter (where took_{x})"));
    qb.push(format!(
        "select {aliases}count(*) as countries, coalesce(sum(n), 0)::bigint as participations, \
         {counts} as stance_counts from ("
    ));
    match counted {
        Counted::Signatures => per_country(qb, Rows::Signatures),
        Counted::Tally { partial_years, .. } if partial_years.is_empty() => {
            per_country(qb, Rows::Tally)
        }
        Counted::Tally { .. } => {
            // A country can have rows in both parts.
            let flags = took_flags("bool_or", &|x| format!("took_{x}"));
            qb.push(format!(
                "select {aliases}country_code, sum(n) as n{flags} from ("
            ));
            per_country(qb, Rows::Tally);
            qb.push(" union all ");
            per_country(qb, Rows::Signatures);
            qb.push(format!(") parts group by {aliases}country_code"));
        }
    }
    qb.push(") per_country");
    if !aliases.is_empty() {
        qb.push(format!(" group by {}", aliases.trim_end_matches(", ")));
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
        for (_, alias, sql_type) in group.columns(Rows::Signatures) {
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
