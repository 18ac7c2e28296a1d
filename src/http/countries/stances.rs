//! `GET /v1/countries/{code}/stances`: where a country stands on each topic, and
//! whether it changed sides. Its record is summarised per stance, so the answer has at
//! most one span per topic and stance however many statements the country joined; the
//! steps themselves are paged by `GET /v1/countries/{code}/statements?topic=…`.

use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::QueryBuilder;
use sqlx::types::Json as SqlJson;

use super::{Country, country_from_path};
use crate::domain::{EffectiveStance, Slug};
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::params::Params;
use crate::http::stance_spans::{
    SWITCHED, StanceEvent, StanceSpan, push_spans, span_json, step_json,
};

#[derive(Debug, Serialize)]
struct TopicStances {
    topic: TopicRef,
    latest_stance: EffectiveStance,
    latest_on: NaiveDate,
    switched: bool,
    sides: Vec<EffectiveStance>,
    /// In the order it first took them.
    stances: Vec<StanceSpan>,
    latest: StanceEvent,
}

#[derive(Debug, Clone, Serialize)]
struct TopicRef {
    slug: String,
    name: String,
}

#[derive(Debug, Serialize)]
pub(super) struct CountryStances {
    country: Country,
    topics: Vec<TopicStances>,
}

#[derive(Debug, sqlx::FromRow)]
struct TopicRow {
    slug: String,
    name: String,
    switched: bool,
    sides: SqlJson<Vec<EffectiveStance>>,
    stances: SqlJson<Vec<StanceSpan>>,
    latest: SqlJson<StanceEvent>,
}

pub(super) async fn get_country_stances(
    State(state): State<AppState>,
    Path(code): Path<String>,
    mut params: Params,
) -> AppResult<Json<CountryStances>> {
    let topic = params.one::<Slug>("topic");
    params.finish()?;
    let country = country_from_path(&state.db, &code).await?;

    // The spans, sides and `switched` are those of GET /v1/topics/{slug}/switchers, over
    // this country's steps grouped by topic; the country is the first bind, `$1`, which
    // the step lookups name.
    let mut qb = QueryBuilder::new("with ");
    push_spans(&mut qb, |qb| {
        qb.push("p.country_code = ").push_bind(country.code.clone());
        if let Some(topic) = &topic {
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
    let rows: Vec<TopicRow> = qb.build_query_as().fetch_all(&state.db).await?;

    let topics = rows
        .into_iter()
        .map(|row| {
            let latest = row.latest.0;
            TopicStances {
                topic: TopicRef {
                    slug: row.slug,
                    name: row.name,
                },
                latest_stance: latest.stance,
                latest_on: latest.date,
                switched: row.switched,
                sides: row.sides.0,
                stances: row.stances.0,
                latest,
            }
        })
        .collect();
    Ok(Json(CountryStances { country, topics }))
}
