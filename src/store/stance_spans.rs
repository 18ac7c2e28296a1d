//! A country's record on a topic summarised per stance: for each stance it took, how
//! many steps put it there and the first and last of them. What
//! `GET /v1/countries/{code}/stances` and `GET /v1/topics/{slug}/switchers` share, so
//! that their answers grow with the number of stances, never with the number of steps.
//! The steps are those of the SQL view `stance_event`; their spans are kept in table
//! `stance_span` (migration `20261130000400_stance_spans.sql`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as SqlJson;
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::as_of;
use crate::domain::{EffectiveStance, Role, Slug};

/// One dated step of a country's record on a topic, as the SQL view `stance_event`
/// gives it: joining a statement (with the stance taken on joining) or withdrawing.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct StanceEvent {
    pub date: NaiveDate,
    /// `joined` or `withdrew`.
    pub event: String,
    pub statement_id: String,
    pub statement_title: String,
    pub role: Role,
    pub stance: EffectiveStance,
}

/// The steps of a country's record on a topic that put it on one stance: how many,
/// and the first and the last of them. The JSON object [`span_json`] builds.
#[derive(Debug, Serialize, Deserialize)]
pub struct StanceSpan {
    pub stance: EffectiveStance,
    pub steps: i64,
    pub first: StanceEvent,
    pub last: StanceEvent,
}

/// Whether the `spans p` of a country on a topic (aggregated together) put it on more
/// than one side: the one definition of `switched`.
pub const SWITCHED: &str = "count(stance_side(p.stance)) > 1";

/// Pushes the common table expression `spans` (the part after `with`): the rows of
/// table `stance_span p` (kept by triggers in every write), or of the same rows as they
/// were on `as_of`, that `filter` keeps, each a
/// topic (`topic_slug`), a country (`country_code`) and a stance with the number of
/// steps that put the country there (`steps`) and the step keys of the first and the
/// last (`first`, `last`: date, statement id and event as one text that orders as the
/// steps do).
pub fn push_spans(
    qb: &mut QueryBuilder<Postgres>,
    (as_of, steps_where): (Option<NaiveDate>, &str),
    filter: impl FnOnce(&mut QueryBuilder<Postgres>),
) {
    qb.push(format!(
        "spans as not materialized ( \
             select p.topic_slug, p.country_code, p.stance, p.steps, \
                    p.first_step as first, p.last_step as last \
             from {} p where ",
        as_of::spans(as_of, steps_where)
    ));
    filter(qb);
    qb.push(")");
}

/// The [`StanceSpan`] object of a row `p` of `spans`, whose steps are those of the
/// topic and the country these SQL expressions name.
pub fn span_json(topic: &str, country: &str) -> String {
    format!(
        "jsonb_build_object('stance', p.stance, 'steps', p.steps, 'first', {first}, 'last', {last})",
        first = step_json(topic, country, "p.first"),
        last = step_json(topic, country, "p.last"),
    )
}

/// The [`StanceEvent`] object of the step that a step key names in the record of
/// this topic and country (SQL expressions), looked up by its statement (signature's
/// primary key) and event.
pub fn step_json(topic: &str, country: &str, key: &str) -> String {
    format!(
        "(select jsonb_build_object('date', e.date, 'event', e.event, 'statement_id', e.statement_id, \
                                   'statement_title', e.statement_title, 'role', e.role, 'stance', e.stance) \
          from stance_event e \
          where e.topic_slug = {topic} and e.country_code = {country} \
            and e.statement_id = (split_part({key}, ' ', 2) collate \"default\") \
            and e.event = (split_part({key}, ' ', 3) collate \"default\"))"
    )
}

/// A country's record on one topic: its spans per stance, its sides and its latest step.
#[derive(Debug, sqlx::FromRow)]
pub struct TopicStanceRow {
    pub slug: String,
    pub name: String,
    pub switched: bool,
    pub sides: SqlJson<Vec<EffectiveStance>>,
    pub stances: SqlJson<Vec<StanceSpan>>,
    pub latest: SqlJson<StanceEvent>,
}

/// The record of `country` (its stored code) on each topic, or on `topic` alone.
pub async fn of_country(
    db: &PgPool,
    country: &str,
    topic: Option<&Slug>,
    as_of: Option<NaiveDate>,
) -> Result<Vec<TopicStanceRow>, sqlx::Error> {
    // The spans, sides and `switched` are those of a topic's switchers, over this
    // country's steps grouped by topic; the country is the first bind, `$1`, which the
    // step lookups name.
    let mut qb = QueryBuilder::new("with ");
    // `country` is a stored code (three letters), written as a literal for the steps.
    let steps_where = format!("e.country_code = '{country}'");
    push_spans(&mut qb, (as_of, &steps_where), |qb| {
        qb.push("p.country_code = ").push_bind(country.to_owned());
        if let Some(topic) = topic {
            qb.push(" and p.topic_slug = ")
                .push_bind(topic.as_str().to_owned());
        }
    });
    qb.push(format!(
        ", topics as ( \
             select p.topic_slug, {SWITCHED} as switched, \
                    coalesce(jsonb_agg(p.stance order by p.first) \
                                 filter (where stance_side(p.stance) is not null), '[]') as sides, \
                    jsonb_agg({span} order by p.first) as stances, \
                    max(p.last) as latest \
             from spans p group by p.topic_slug \
         ) \
         select t.slug, t.name, x.switched, x.sides, x.stances, {latest} as latest \
         from topics x join topic t on t.slug = x.topic_slug \
         order by t.slug",
        span = span_json("p.topic_slug", "$1"),
        latest = step_json("x.topic_slug", "$1", "x.latest"),
    ));
    qb.build_query_as().fetch_all(db).await
}
