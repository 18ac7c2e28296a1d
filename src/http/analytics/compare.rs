//! `GET /v1/statements/compare?a=…&b=…`: which countries took part in both statements,
//! which in only one, and which took opposite sides in them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use sqlx::types::Json as SqlJson;

use super::json_or_csv;
use crate::domain::{EffectiveStance, Role, Slug};
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::countries::Country;
use crate::http::listing::Format;
use crate::http::params::Params;
use crate::http::statements::{STATEMENT_COLUMNS, Statement};

/// One country of either statement.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct ComparedCountry {
    country: SqlJson<Country>,
    /// `both`, `only_a` or `only_b`.
    presence: String,
    a: Option<SqlJson<Part>>,
    b: Option<SqlJson<Part>>,
    opposite_sides: bool,
}

/// A country's part in one of the two statements.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
struct Part {
    role: Role,
    effective_stance: EffectiveStance,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    both: usize,
    only_a: usize,
    only_b: usize,
    opposite_sides: usize,
}

#[derive(Debug, Serialize)]
struct Comparison {
    a: Statement,
    b: Statement,
    counts: Counts,
    countries: Vec<ComparedCountry>,
}

#[derive(Debug, Default, Serialize)]
struct ComparedCountryCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    presence: String,
    a_role: Option<String>,
    a_effective_stance: Option<String>,
    b_role: Option<String>,
    b_effective_stance: Option<String>,
    opposite_sides: bool,
}

impl From<ComparedCountry> for ComparedCountryCsv {
    fn from(c: ComparedCountry) -> Self {
        let country = c.country.0;
        let role = |p: &Option<SqlJson<Part>>| p.as_ref().map(|p| p.role.as_str().to_owned());
        let stance =
            |p: &Option<SqlJson<Part>>| p.as_ref().map(|p| p.effective_stance.as_str().to_owned());
        Self {
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            presence: c.presence,
            a_role: role(&c.a),
            a_effective_stance: stance(&c.a),
            b_role: role(&c.b),
            b_effective_stance: stance(&c.b),
            opposite_sides: c.opposite_sides,
        }
    }
}

pub(super) async fn compare(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let a = params.one::<Slug>("a");
    let b = params.one::<Slug>("b");
    let format = Format::negotiate(&mut params, &headers);
    for (name, given) in [("a", a.is_some()), ("b", b.is_some())] {
        if !given {
            params.reject(name, "is required: the id of a statement to compare");
        }
    }
    if let (Some(a), Some(b)) = (&a, &b)
        && a == b
    {
        params.reject(
            "b",
            "is the same statement as a; compare two different ones",
        );
    }
    params.finish()?;
    let (a, b) = (a.expect("checked"), b.expect("checked"));

    let mut statements: Vec<Statement> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {STATEMENT_COLUMNS} from statement s where s.id in ($1, $2)"
    )))
    .bind(a.as_str())
    .bind(b.as_str())
    .fetch_all(&state.db)
    .await?;
    let mut take = |id: &Slug| {
        let at = statements.iter().position(|s| s.id == id.as_str());
        at.map(|i| statements.swap_remove(i))
            .ok_or_else(|| AppError::NotFound(format!("Statement {:?}", id.as_str())))
    };
    let (a, b) = (take(&a)?, take(&b)?);

    // Both participations side by side; opposite_sides() is the SQL definition of
    // taking opposite sides (critical against supportive, yes against no).
    let countries: Vec<ComparedCountry> = sqlx::query_as(
        "with a as (select * from participation where statement_id = $1), \
              b as (select * from participation where statement_id = $2) \
         select to_jsonb(c) as country, \
                case when a.country_code is null then 'only_b' \
                     when b.country_code is null then 'only_a' else 'both' end as presence, \
                case when a.country_code is not null \
                     then jsonb_build_object('role', a.role, 'effective_stance', a.effective_stance) end as a, \
                case when b.country_code is not null \
                     then jsonb_build_object('role', b.role, 'effective_stance', b.effective_stance) end as b, \
                coalesce(opposite_sides(a.effective_stance, b.effective_stance), false) as opposite_sides \
         from a full join b on b.country_code = a.country_code \
         join country c on c.code = coalesce(a.country_code, b.country_code) \
         order by (a.country_code is null), (b.country_code is null), c.name, c.code",
    )
    .bind(&a.id)
    .bind(&b.id)
    .fetch_all(&state.db)
    .await?;

    let mut counts = Counts::default();
    for c in &countries {
        match c.presence.as_str() {
            "both" => counts.both += 1,
            "only_a" => counts.only_a += 1,
            _ => counts.only_b += 1,
        }
        counts.opposite_sides += usize::from(c.opposite_sides);
    }
    let file_stem = format!("compare-{}-{}", a.id, b.id);
    Ok(json_or_csv(
        format,
        Comparison {
            a,
            b,
            counts,
            countries,
        },
        &file_stem,
        |c| {
            c.countries
                .into_iter()
                .map(ComparedCountryCsv::from)
                .collect()
        },
    ))
}
