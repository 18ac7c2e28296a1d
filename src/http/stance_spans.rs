//! A country's record on a topic summarised per stance: for each stance it took, how
//! many steps put it there and the first and last of them. What
//! `GET /v1/countries/{code}/stances` and `GET /v1/topics/{slug}/switchers` share, so
//! that their answers grow with the number of stances, never with the number of steps.
//! The steps are those of the SQL view `stance_event`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use crate::domain::{EffectiveStance, Role};

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

/// A step of view `stance_event` as a short text that orders as the steps do (ISO
/// date, statement id, event), so that the first and last step of a span are a plain
/// `min()`/`max()` in one hash aggregation, instead of a sort of every step; only the
/// steps shown are then read in full.
const STEP_KEY: &str = "(e.date::text || ' ' || e.statement_id || ' ' || e.event) collate \"C\"";

/// Whether the `spans p` of a country on a topic (aggregated together) put it on more
/// than one side: the one definition of `switched`.
pub(in crate::http) const SWITCHED: &str = "count(stance_side(p.stance)) > 1";

/// Pushes the common table expression `spans` (the part after `with`): for each
/// `group` (`country_code` or `topic_slug`) and stance, among the steps of
/// `stance_event e` that `filter` keeps, the number of steps (`steps`) and the
/// `STEP_KEY` of the first and the last (`first`, `last`).
pub(in crate::http) fn push_spans(
    qb: &mut QueryBuilder<Postgres>,
    group: &str,
    filter: impl FnOnce(&mut QueryBuilder<Postgres>),
) {
    qb.push(format!(
        "spans as ( \
             select e.{group}, e.stance, count(*) as steps, \
                    min({STEP_KEY}) as first, max({STEP_KEY}) as last \
             from stance_event e where "
    ));
    filter(qb);
    qb.push(format!(" group by e.{group}, e.stance)"));
}

/// The [`StanceSpan`] object of a row `p` of `spans`, whose steps are those of the
/// topic and the country these SQL expressions name.
pub(in crate::http) fn span_json(topic: &str, country: &str) -> String {
    format!(
        "jsonb_build_object('stance', p.stance, 'steps', p.steps, 'first', {first}, 'last', {last})",
        first = step_json(topic, country, "p.first"),
        last = step_json(topic, country, "p.last"),
    )
}

/// The [`StanceEvent`] object of the step that a `STEP_KEY` names in the record of
/// this topic and country (SQL expressions), looked up by its statement (signature's
/// primary key) and event.
pub(in crate::http) fn step_json(topic: &str, country: &str, key: &str) -> String {
    format!(
        "(select to_jsonb(e) - 'country_code' - 'topic_slug' from stance_event e \
          where e.topic_slug = {topic} and e.country_code = {country} \
            and e.statement_id = (split_part({key}, ' ', 2) collate \"default\") \
            and e.event = (split_part({key}, ' ', 3) collate \"default\"))"
    )
}
