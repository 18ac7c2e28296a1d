//! A topic over time: each of its statements with the running count of countries
//! on each side, and the countries that have been on more than one side.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as SqlJson;
use sqlx::{Postgres, QueryBuilder};

use super::as_of;
use super::countries::Country;
use super::keyset::{Cursor, ListQuery, and_after};
use super::stance_spans::{SWITCHED, StanceEvent, StanceSpan, push_spans, span_json, step_json};
use super::statements::StanceCounts;
use crate::domain::{EffectiveStance, Slug, Stance, StatementKind};

/// Distinct countries that have taken each side.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct SideCounts {
    pub critical: i64,
    pub supportive: i64,
    pub yes: i64,
    pub no: i64,
}

/// One statement of a topic's timeline.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct TimelineEntry {
    pub statement_id: String,
    pub title: String,
    pub kind: StatementKind,
    pub forum: String,
    pub session: Option<String>,
    pub issued_on: NaiveDate,
    pub stance: Option<Stance>,
    pub reported_count: Option<i32>,
    pub participant_count: i32,
    pub stance_counts: SqlJson<StanceCounts>,
    pub cumulative: SqlJson<SideCounts>,
}

/// The running totals: for each statement date of the topic, the distinct countries
/// that have taken each side in its statements up to that date. Each country counts
/// once per side, from the date of the first statement it took that side in
/// (withdrawn participations are not a side): `first_held_on` of its span on that side
/// (table `stance_span`, kept by triggers in every write, or its rows as of a date).
/// Then a window over the topic's dates (table `topic_calendar`).
fn cumulative(as_of: Option<NaiveDate>) -> String {
    format!(
        "with newcomers as ( \
        select p.first_held_on as first_on, \
               count(*) filter (where p.stance = 'critical') as critical, \
               count(*) filter (where p.stance = 'supportive') as supportive, \
               count(*) filter (where p.stance = 'yes') as yes, \
               count(*) filter (where p.stance = 'no') as no \
        from {spans} p \
        where p.topic_slug = $1 and stance_side(p.stance) is not null and p.first_held_on is not null \
        group by p.first_held_on \
    ), cumulative as ( \
        select d.issued_on, jsonb_build_object( \
                   'critical', coalesce(sum(n.critical) over w, 0), \
                   'supportive', coalesce(sum(n.supportive) over w, 0), \
                   'yes', coalesce(sum(n.yes) over w, 0), \
                   'no', coalesce(sum(n.no) over w, 0)) as counts \
        from (select distinct c.issued_on from topic_calendar c where c.topic_slug = $1) d \
        left join newcomers n on n.first_on = d.issued_on \
        window w as (order by d.issued_on) \
    )",
        spans = as_of::spans(as_of, "e.topic_slug = $1")
    )
}

/// The topic's statements dated within `from..=to`, in date order, after `cursor`; as
/// they stood on `as_of` when given (no statement after it, counts of that day).
pub fn timeline(
    topic: &Slug,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    as_of: Option<NaiveDate>,
    cursor: Option<&Cursor>,
) -> ListQuery {
    let topic = topic.clone();
    let to = match (to, as_of) {
        (Some(to), Some(day)) => Some(to.min(day)),
        (to, day) => to.or(day),
    };
    // $1 is the topic in every query below (`cumulative` refers to it). The topic's
    // statements are read in date order from its calendar.
    let filtered = move |qb: &mut QueryBuilder<Postgres>, select: &str, join: &str| {
        qb.push(select)
            .push(" from topic_calendar t")
            .push(join)
            .push(" where t.topic_slug = ")
            .push_bind(topic.as_str().to_owned());
        if let Some(from) = from {
            qb.push(" and t.issued_on >= ").push_bind(from);
        }
        if let Some(to) = to {
            qb.push(" and t.issued_on <= ").push_bind(to);
        }
    };
    let mut rows = QueryBuilder::new("");
    filtered(
        &mut rows,
        &format!(
            "{} select s.id as statement_id, s.title, s.kind, s.forum, s.session, s.issued_on, \
             s.stance, s.reported_count, {}, c.counts as cumulative",
            cumulative(as_of),
            as_of::statement_counts(as_of)
        ),
        " join statement s on s.id = t.statement_id join cumulative c on c.issued_on = t.issued_on",
    );
    and_after(
        &mut rows,
        cursor,
        ("t.issued_on", "date"),
        "t.statement_id",
        true,
    );
    rows.push(" order by t.issued_on, t.statement_id");
    ListQuery {
        rows,
        count: Box::new(move || {
            let mut count = QueryBuilder::new("");
            filtered(&mut count, "select count(*)", "");
            count
        }),
    }
}

/// One side a switcher has been on: how often, and its first and last step there.
/// A [`StanceSpan`] whose stance is a side, under the names this list has always used.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "StanceSpan")]
pub struct SideSpan {
    pub side: EffectiveStance,
    pub participations: i64,
    pub first: StanceEvent,
    pub last: StanceEvent,
}

impl From<StanceSpan> for SideSpan {
    fn from(span: StanceSpan) -> Self {
        Self {
            side: span.stance,
            participations: span.steps,
            first: span.first,
            last: span.last,
        }
    }
}

/// A country that has been on more than one side of a topic.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Switcher {
    pub country: SqlJson<Country>,
    /// In the order it first took them.
    pub sides: SqlJson<Vec<SideSpan>>,
    pub latest: SqlJson<StanceEvent>,
}

/// The topic's switchers by country name, after `cursor`.
pub fn switchers(
    topic: &Slug,
    as_of: Option<NaiveDate>,
    cursor: Option<&Cursor>,
    page_rows: i64,
) -> ListQuery {
    if let Some(day) = as_of {
        return switchers_as_of(topic, day, cursor, page_rows);
    }
    let topic = topic.clone();
    // A switcher has more than one side among its steps (stance_side() of the stance it
    // took on joining), as `switched` in a country's stances. The topic is the first
    // bind, `$1`, which the step lookups name.
    let switched = move |qb: &mut QueryBuilder<Postgres>| {
        qb.push("with ");
        push_spans(qb, (None, ""), |qb| {
            qb.push("p.topic_slug = ")
                .push_bind(topic.as_str().to_owned());
        });
        qb.push(format!(
            ", switchers as ( \
                 select p.country_code, max(p.last) as latest \
                 from spans p group by p.country_code \
                 having {SWITCHED} \
             )"
        ));
    };
    // The sides are looked up for the rows of the page only (after the sort and limit).
    let mut rows = QueryBuilder::new("");
    switched(&mut rows);
    rows.push(format!(
        " select to_jsonb(c) as country, \
                 (select jsonb_agg({span} order by p.first) from spans p \
                  where p.country_code = w.country_code and stance_side(p.stance) is not null) as sides, \
                 {latest} as latest \
         from switchers w join country c on c.code = w.country_code where true",
        span = span_json("$1", "p.country_code"),
        latest = step_json("$1", "w.country_code", "w.latest"),
    ));
    and_after(&mut rows, cursor, ("c.name", "text"), "c.code", true);
    rows.push(" order by c.name, c.code");
    with_switchers_count(rows, switched)
}

/// The topic's switchers as the record stood on `day`: a country had taken a side by
/// then if its first step onto it (today's span, which later steps never move) was, so
/// who had switched is read from today's spans; the day's spans, for the sides and the
/// latest step shown, are made for the countries of the page (`page_rows`) alone.
fn switchers_as_of(
    topic: &Slug,
    day: NaiveDate,
    cursor: Option<&Cursor>,
    page_rows: i64,
) -> ListQuery {
    let topic = topic.clone();
    let next_day = day + chrono::Days::new(1);
    // The topic is the first bind, `$1`, which the step lookups name.
    let switched = move |qb: &mut QueryBuilder<Postgres>| {
        qb.push(
            "with switchers as (select p.country_code from stance_span p where p.topic_slug = ",
        )
        .push_bind(topic.as_str().to_owned())
        .push(format!(
            " and p.first_step < '{next_day}' group by p.country_code having {SWITCHED})"
        ));
    };
    let mut rows = QueryBuilder::new("");
    switched(&mut rows);
    rows.push(", page as (select c.* from switchers w join country c on c.code = w.country_code where true");
    and_after(&mut rows, cursor, ("c.name", "text"), "c.code", true);
    rows.push(" order by c.name, c.code limit ")
        .push_bind(page_rows)
        .push(format!(
            "), spans as materialized ( \
                 select p.country_code, p.stance, p.steps, p.first_step as first, p.last_step as last \
                 from {} p where p.topic_slug = $1) \
             select to_jsonb(pg) as country, \
                    (select jsonb_agg({span} order by p.first) from spans p \
                     where p.country_code = pg.code and stance_side(p.stance) is not null) as sides, \
                    {latest} as latest \
             from page pg order by pg.name, pg.code",
            as_of::spans(
                Some(day),
                "e.topic_slug = $1 and e.country_code in (select code from page)"
            ),
            span = span_json("$1", "p.country_code"),
            latest = step_json(
                "$1",
                "pg.code",
                "(select max(p.last) from spans p where p.country_code = pg.code)"
            ),
        ));
    with_switchers_count(rows, switched)
}

/// A switchers list: its rows, and the count of every switcher that `switched` (the
/// common table expression `switchers`, with what it needs) finds.
fn with_switchers_count(
    rows: QueryBuilder<Postgres>,
    switched: impl Fn(&mut QueryBuilder<Postgres>) + Send + 'static,
) -> ListQuery {
    ListQuery {
        rows,
        count: Box::new(move || {
            let mut count = QueryBuilder::new("");
            switched(&mut count);
            count.push(" select count(*) from switchers");
            count
        }),
    }
}
