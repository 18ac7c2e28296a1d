//! `GET /v1/countries/{code}/alignment`: every other country ranked by how often it
//! took the same stance as this one in the statements both took part in.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use sqlx::types::Json as SqlJson;

use super::json_or_csv;
use crate::domain::Slug;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::countries::{Country, country_from_path};
use crate::http::listing::Format;
use crate::http::params::Params;

/// How one other country lines up with this one.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Alignment {
    country: SqlJson<Country>,
    /// Statements both took part in (withdrawn participations do not count).
    shared: i64,
    /// Of those, the ones where both had the same effective stance.
    agreed: i64,
    /// Of those, the ones where they took opposite sides.
    opposed: i64,
    /// `agreed / shared`, rounded to four decimals.
    agreement: f64,
}

#[derive(Debug, Serialize)]
struct AlignmentReport {
    country: Country,
    topic: Option<String>,
    min_shared: u32,
    data: Vec<Alignment>,
}

#[derive(Debug, Default, Serialize)]
struct AlignmentCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    shared: i64,
    agreed: i64,
    opposed: i64,
    agreement: f64,
}

impl From<Alignment> for AlignmentCsv {
    fn from(a: Alignment) -> Self {
        let country = a.country.0;
        Self {
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            shared: a.shared,
            agreed: a.agreed,
            opposed: a.opposed,
            agreement: a.agreement,
        }
    }
}

/// Not paged: one row per other country (about 250 at most whatever the number of
/// statements), and every page would have to run the same aggregation in full.
pub(super) async fn alignment(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let topic = params.one::<Slug>("topic");
    let min_shared = params.bounded("min_shared", 1, 1, 100_000);
    let format = Format::negotiate(&mut params, &headers);
    params.finish()?;
    let country = country_from_path(&state.db, &code).await?;

    // The other countries of every statement this one took part in, by signature's
    // primary key (statement_id, country_code); their stances come from the same
    // statement row as this country's, so it is read once.
    let data: Vec<Alignment> = sqlx::query_as(
        "with mine as ( \
             select g.statement_id, s.stance as statement_stance, \
                    effective_stance(s.stance, g.role, g.withdrawn_on) as effective_stance \
             from signature g join statement s on s.id = g.statement_id \
             where g.country_code = $1 \
               and effective_stance(s.stance, g.role, g.withdrawn_on) <> 'withdrawn' \
               and ($2::text is null or exists ( \
                   select 1 from statement_topic st where st.statement_id = g.statement_id and st.topic_slug = $2)) \
         ), theirs as ( \
             select o.country_code, m.effective_stance as mine, \
                    effective_stance(m.statement_stance, o.role, o.withdrawn_on) as effective_stance \
             from mine m join signature o on o.statement_id = m.statement_id \
             where o.country_code <> $1 \
         ), pairs as ( \
             select country_code, count(*) as shared, \
                    count(*) filter (where effective_stance = mine) as agreed, \
                    count(*) filter (where opposite_sides(effective_stance, mine)) as opposed \
             from theirs where effective_stance <> 'withdrawn' \
             group by country_code \
         ) \
         select to_jsonb(c) as country, p.shared, p.agreed, p.opposed, \
                round(p.agreed::numeric / p.shared, 4)::float8 as agreement \
         from pairs p join country c on c.code = p.country_code \
         where p.shared >= $3 \
         order by agreement desc, p.shared desc, c.code",
    )
    .bind(&country.code)
    .bind(topic.as_ref().map(Slug::as_str))
    .bind(i64::from(min_shared))
    .fetch_all(&state.db)
    .await?;

    let file_stem = format!("{}-alignment", country.code.to_lowercase());
    Ok(json_or_csv(
        format,
        AlignmentReport {
            country,
            topic: topic.map(|t| t.as_str().to_owned()),
            min_shared,
            data,
        },
        &file_stem,
        |r| r.data.into_iter().map(AlignmentCsv::from).collect(),
    ))
}
