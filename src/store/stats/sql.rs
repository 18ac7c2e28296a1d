//! The SQL of the stance statistics: the groups of the matching participations,
//! counted from the signatures, from a tally, or from both for a range that is not
//! made of whole years.

use sqlx::{Postgres, QueryBuilder};

use super::GroupBy;
use super::tally::{Counted, Rows};
use crate::domain::EffectiveStance;
use crate::store::as_of;
use crate::store::keyset::Cursor;
use crate::store::statements::StatementFilter;

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
pub(super) struct StatementWindow<'a> {
    pub cursor: Option<&'a Cursor>,
    pub statements: i64,
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
/// rows are one per group and country already needs no first aggregation, which is
/// most of the work.
pub(super) fn push_groups(
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
    let stance = as_of::effective_stance(filter.as_of);
    let started = as_of::signature_started(filter.as_of);
    let needs_country = groups.contains(&GroupBy::Region) || groups.contains(&GroupBy::Subregion);
    let country_join = match needs_country {
        true => " join country c on c.code = g.country_code",
        false => "",
    };

    let mut source = "matches";
    let (reads_signatures, tally_table, tally_rows_grouped) = match counted {
        Counted::Signatures => (true, String::new(), false),
        Counted::Tally {
            tally,
            partial_years,
            ..
        } => (
            !partial_years.is_empty(),
            as_of::tally(tally.table(), filter.as_of),
            // As of a day, a country's tally rows and corrections are added up.
            filter.as_of.is_none() && tally.one_row_per_group_and_country(groups),
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
             from {source} s left join signature g on g.statement_id = s.id{started}",
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
                    "count(*) as n{flags} from {source} s join signature g on g.statement_id = s.id{country_join} where true{started}"
                ));
            }
            Rows::Tally => {
                let (sum, flags) = match (tally_rows_grouped, filter.as_of) {
                    (true, _) => ("", took_flags("", &|x| format!("g.{x} > 0"))),
                    (false, None) => ("sum", took_flags("bool_or", &|x| format!("g.{x} > 0"))),
                    // Corrections count off: a stance is taken where its sum is.
                    (false, Some(_)) => ("sum", took_flags("", &|x| format!("sum(g.{x}) > 0"))),
                };
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
        // As of a day, a country whose corrections take back all its tally rows had no
        // participation in the group then.
        if rows == Rows::Tally && filter.as_of.is_some() {
            qb.push(format!(" having sum({tally_count}) > 0"));
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
