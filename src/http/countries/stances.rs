//! `GET /v1/countries/{code}/stances`: where a country stands on each topic, and
//! whether it changed sides. Its record is summarised per stance, so the answer has at
//! most one span per topic and stance however many statements the country joined; the
//! steps themselves are paged by `GET /v1/countries/{code}/statements?topic=…`.

use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{EffectiveStance, Slug};
use crate::error::AppResult;
use crate::http::fields::{Fields, Item, Sparse};
use crate::http::params::Params;
use crate::http::replicas::Reader;
use crate::store::countries::{self, Country};
use crate::store::stance_spans::{self, StanceEvent, StanceSpan};

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

impl Item for TopicStances {
    const FIELDS: &'static [&'static str] = &[
        "topic",
        "latest_stance",
        "latest_on",
        "switched",
        "sides",
        "stances",
        "latest",
    ];
}

#[derive(Debug, Clone, Serialize)]
struct TopicRef {
    slug: String,
    name: String,
}

#[derive(Serialize)]
struct CountryStances<'a> {
    country: Country,
    topics: Sparse<'a, [TopicStances]>,
}

pub(super) async fn get_country_stances(
    reader: Reader,
    Path(code): Path<String>,
    mut params: Params,
) -> AppResult<Response> {
    let topic = params.one::<Slug>("topic");
    let as_of = params.one::<NaiveDate>("as_of");
    let fields = Fields::json::<TopicStances>(&mut params);
    params.finish()?;
    let country = countries::from_path(&reader.db, &code).await?;

    let rows = stance_spans::of_country(&reader.db, &country.code, topic.as_ref(), as_of).await?;
    let topics: Vec<TopicStances> = rows
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
    Ok(Json(CountryStances {
        country,
        topics: Sparse::new(fields.as_ref(), topics.as_slice()),
    })
    .into_response())
}
