//! A topic over time: `GET /v1/topics/{slug}/timeline` (each statement with the
//! running count of countries on each side) and `GET /v1/topics/{slug}/switchers`
//! (the countries that have been on more than one side).

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as SqlJson;
use sqlx::{Postgres, QueryBuilder};

use super::topic_from_path;
use crate::domain::{EffectiveStance, Slug, Stance, StatementKind};
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::countries::Country;
use crate::http::listing::{Cursor, Paging, Reading, list_response};
use crate::http::params::Params;
use crate::http::stance_spans::{
    SWITCHED, StanceEvent, StanceSpan, push_spans, span_json, step_json,
};
use crate::http::statements::StanceCounts;

/// Distinct countries that have taken each side.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct SideCounts {
    critical: i64,
    supportive: i64,
    yes: i64,
    no: i64,
}

/// One statement of a topic's timeline.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct TimelineEntry {
    statement_id: String,
    title: String,
    kind: StatementKind,
    forum: String,
    session: Option<String>,
    issued_on: NaiveDate,
    stance: Option<Stance>,
    reported_count: Option<i32>,
    participant_count: i32,
    stance_counts: SqlJson<StanceCounts>,
    cumulative: SqlJson<SideCounts>,
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

/// The running totals: for each statement date of the topic, the distinct countries
/// that have taken each side in its statements up to that date. Each country counts
/// once per side, from the date of the first statement it took that side in
/// (withdrawn participations are not a side): `first_held_on` of its span on that side
/// (table `stance_span`, kept by triggers in every write). Then a window over the
/// topic's dates (table `topic_calendar`).
const CUMULATIVE: &str = "with newcomers as ( \
        select p.first_held_on as first_on, \
               count(*) filter (where p.stance = 'critical') as critical, \
               count(*) filter (where p.stance = 'supportive') as supportive, \
               count(*) filter (where p.stance = 'yes') as yes, \
               count(*) filter (where p.stance = 'no') as no \
        from stance_span p \
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
    )";

pub(super) async fn timeline(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let (from, to) = params.date_range();
    let paging = Paging::parse(&mut params, &headers, TIMELINE_SORT);
    params.finish()?;
    let topic = topic_from_path(&state.db, &slug).await?;

    // $1 is the topic in every query below (CUMULATIVE refers to it). The topic's
    // statements are read in date order from its calendar.
    let filtered = |qb: &mut QueryBuilder<Postgres>, select: &str, join: &str| {
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
    let mut qb = QueryBuilder::new("");
    filtered(
        &mut qb,
        &format!(
            "{CUMULATIVE} select s.id as statement_id, s.title, s.kind, s.forum, s.session, s.issued_on, \
             s.stance, s.reported_count, s.participant_count, s.stance_counts, c.counts as cumulative"
        ),
        " join statement s on s.id = t.statement_id join cumulative c on c.issued_on = t.issued_on",
    );
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, ("t.issued_on", "date"), "t.statement_id", true);
    }
    qb.push(" order by t.issued_on, t.statement_id");
    list_response(
        Reading::keyed(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("");
            filtered(&mut count, "select count(*)", "");
            count
        },
        &paging,
        &uri,
        (&format!("{}-timeline", topic.as_str()), TimelineCsv::from),
        |e: &TimelineEntry| Cursor {
            sort: TIMELINE_SORT.into(),
            key: e.issued_on.to_string(),
            id: e.statement_id.clone(),
        },
    )
    .await
}

/// One side a switcher has been on: how often, and its first and last step there.
/// A [`StanceSpan`] whose stance is a side, under the names this list has always used.
#[derive(Debug, Serialize, Deserialize)]
#[serde(from = "StanceSpan")]
struct SideSpan {
    side: EffectiveStance,
    participations: i64,
    first: StanceEvent,
    last: StanceEvent,
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
struct Switcher {
    country: SqlJson<Country>,
    /// In the order it first took them.
    sides: SqlJson<Vec<SideSpan>>,
    latest: SqlJson<StanceEvent>,
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
    State(state): State<AppState>,
    Path(slug): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let paging = Paging::parse(&mut params, &headers, SWITCHER_SORT);
    params.finish()?;
    let topic: Slug = topic_from_path(&state.db, &slug).await?;

    // A switcher has more than one side among its steps (stance_side() of the stance it
    // took on joining), as `switched` in GET /v1/countries/{code}/stances. The topic is
    // the first bind, `$1`, which the step lookups name.
    let switched = |qb: &mut QueryBuilder<Postgres>| {
        qb.push("with ");
        push_spans(qb, |qb| {
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
    let mut qb = QueryBuilder::new("");
    switched(&mut qb);
    qb.push(format!(
        " select to_jsonb(c) as country, \
                 (select jsonb_agg({span} order by p.first) from spans p \
                  where p.country_code = w.country_code and stance_side(p.stance) is not null) as sides, \
                 {latest} as latest \
         from switchers w join country c on c.code = w.country_code where true",
        span = span_json("$1", "p.country_code"),
        latest = step_json("$1", "w.country_code", "w.latest"),
    ));
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, ("c.name", "text"), "c.code", true);
    }
    qb.push(" order by c.name, c.code");
    list_response(
        Reading::keyed(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("");
            switched(&mut count);
            count.push(" select count(*) from switchers");
            count
        },
        &paging,
        &uri,
        (&format!("{}-switchers", topic.as_str()), SwitcherCsv::from),
        |s: &Switcher| Cursor {
            sort: SWITCHER_SORT.into(),
            key: s.country.0.name.clone(),
            id: s.country.0.code.clone(),
        },
    )
    .await
}
