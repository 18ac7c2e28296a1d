//! Countries: the reference list, and what each country signed and where it stands
//! (`stances`); admins correct and extend the list (`write`).

mod stances;
mod write;

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use super::AppState;
use super::caching::tagged_json;
use super::listing::{Cursor, Paging, Reading, list_response};
use super::params::{Choice, Params};
use super::participations::ParticipationFilter;
use super::statements::{STATEMENT_COLUMNS, Statement};
use crate::domain::{CountryCode, EffectiveStance, Role, Slug};
use crate::error::{AppError, AppResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/countries",
            get(list_countries).post(write::create_country),
        )
        .route(
            "/v1/countries/{code}",
            get(get_country).patch(write::update_country),
        )
        .route(
            "/v1/countries/{code}/statements",
            get(list_country_statements),
        )
        .route(
            "/v1/countries/{code}/stances",
            get(stances::get_country_stances),
        )
}

/// A country, in the same shape wherever one appears. Read from SQL as
/// `to_jsonb(country)`, so adding a column never breaks a query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, sqlx::FromRow)]
pub struct Country {
    pub code: String,
    pub iso2: Option<String>,
    pub numeric_code: Option<String>,
    pub iso3166_3: Option<String>,
    pub name: String,
    pub official_name: Option<String>,
    pub common_name: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub intermediate_region: Option<String>,
    pub un_member: bool,
    pub un_observer: bool,
    pub un_admission_date: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub successor_code: Option<String>,
}

/// Resolves a code from a path or parameter (alpha-3 or alpha-2, any case).
pub async fn resolve(db: &sqlx::PgPool, code: &CountryCode) -> AppResult<Option<Country>> {
    Ok(
        sqlx::query_as::<_, Country>("select * from country where code = $1 or iso2 = $1")
            .bind(code.as_str())
            .fetch_optional(db)
            .await?,
    )
}

/// Resolves the codes of a filter parameter; an unknown one is the client's error.
pub async fn resolve_filter(
    db: &sqlx::PgPool,
    param: &'static str,
    codes: &[CountryCode],
) -> AppResult<Vec<String>> {
    let mut resolved = Vec::with_capacity(codes.len());
    let mut unknown = Vec::new();
    for code in codes {
        match resolve(db, code).await? {
            Some(country) => resolved.push(country.code),
            None => unknown.push(crate::error::FieldError::new(
                param,
                format!("{:?} is not a known country code", code.as_str()),
            )),
        }
    }
    if unknown.is_empty() {
        Ok(resolved)
    } else {
        Err(AppError::BadRequest(unknown))
    }
}

/// The country a path names (alpha-3 or alpha-2), or a 404.
pub(in crate::http) async fn country_from_path(
    db: &sqlx::PgPool,
    code: &str,
) -> AppResult<Country> {
    load_country(&mut *db.acquire().await?, code, false).await
}

/// The first and the last day of the years in which any of the countries took part in
/// any statement, `None` when they took part in none. Bounding a list of their
/// statements by them lets the planner see where those lie on the timeline (see
/// migrations/…_country_years.sql).
pub(in crate::http) async fn participation_years(
    db: &sqlx::PgPool,
    codes: &[String],
) -> AppResult<Option<(NaiveDate, NaiveDate)>> {
    let (first, last): (Option<NaiveDate>, Option<NaiveDate>) = sqlx::query_as(
        "select make_date(min(year), 1, 1), make_date(max(year), 12, 31) \
         from stance_tally where topic_slug = '' and country_code = any($1)",
    )
    .bind(codes)
    .fetch_one(db)
    .await?;
    Ok(first.zip(last))
}

/// The country a path names (alpha-3 or alpha-2); `lock` takes its row lock for a write.
async fn load_country(conn: &mut sqlx::PgConnection, code: &str, lock: bool) -> AppResult<Country> {
    let not_found = || AppError::NotFound(format!("Country {code:?}"));
    let parsed = CountryCode::parse(code).map_err(|_| not_found())?;
    let lock = if lock { " for update" } else { "" };
    sqlx::query_as::<_, Country>(sqlx::AssertSqlSafe(format!(
        "select * from country where code = $1 or iso2 = $1{lock}"
    )))
    .bind(parsed.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)
}

const COUNTRY_SORT: &str = "name";

async fn list_countries(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let region = params.one::<String>("region");
    let subregion = params.one::<String>("subregion");
    let un_member = params.one::<bool>("un_member");
    let q = params.one::<String>("q");
    let paging = Paging::parse(&mut params, &headers, COUNTRY_SORT);
    params.finish()?;

    let filtered = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where true");
        if let Some(region) = &region {
            qb.push(" and c.region = ").push_bind(region.clone());
        }
        if let Some(subregion) = &subregion {
            qb.push(" and c.subregion = ").push_bind(subregion.clone());
        }
        if let Some(un_member) = un_member {
            qb.push(" and c.un_member = ").push_bind(un_member);
        }
        if let Some(q) = &q {
            // Case- and accent-insensitive, on every name a reader might type.
            qb.push(" and lower(unaccent(concat_ws(' ', c.name, c.common_name, c.official_name))) like '%' || lower(unaccent(")
                .push_bind(q.clone())
                .push(")) || '%'");
        }
    };
    let mut qb = QueryBuilder::new("select c.* from country c");
    filtered(&mut qb);
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        cursor.push_after(&mut qb, ("c.name", "text"), "c.code", true);
    }
    qb.push(" order by c.name, c.code");
    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*) from country c");
            filtered(&mut count);
            count
        },
        &paging,
        &uri,
        ("countries", std::convert::identity),
        |c: &Country| Cursor {
            sort: COUNTRY_SORT.into(),
            key: c.name.clone(),
            id: c.code.clone(),
        },
    )
    .await
}

async fn get_country(
    State(state): State<AppState>,
    Path(code): Path<String>,
    params: Params,
) -> AppResult<Response> {
    params.finish()?;
    Ok(tagged_json(
        StatusCode::OK,
        &country_from_path(&state.db, &code).await?,
    ))
}

/// A country's participation in one statement.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Participation {
    #[sqlx(flatten)]
    pub statement: Statement,
    pub role: Role,
    pub effective_stance: EffectiveStance,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub effective_on: NaiveDate,
    pub source_url: Option<String>,
}

/// The flat CSV form of [`Participation`].
#[derive(Debug, Default, Serialize)]
struct ParticipationCsv {
    statement_id: String,
    title: String,
    kind: String,
    forum: String,
    session: Option<String>,
    issued_on: String,
    statement_stance: Option<String>,
    role: String,
    effective_stance: String,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    effective_on: String,
    source_url: Option<String>,
}

impl From<Participation> for ParticipationCsv {
    fn from(p: Participation) -> Self {
        Self {
            statement_id: p.statement.id,
            title: p.statement.title,
            kind: p.statement.kind.as_str().to_owned(),
            forum: p.statement.forum,
            session: p.statement.session,
            issued_on: p.statement.issued_on.to_string(),
            statement_stance: p.statement.stance.map(|s| s.as_str().to_owned()),
            role: p.role.as_str().to_owned(),
            effective_stance: p.effective_stance.as_str().to_owned(),
            joined_on: p.joined_on,
            withdrawn_on: p.withdrawn_on,
            effective_on: p.effective_on.to_string(),
            source_url: p.source_url,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateOrder {
    Oldest,
    Newest,
}

impl Choice for DateOrder {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("date", Self::Oldest), ("-date", Self::Newest)];
}

async fn list_country_statements(
    State(state): State<AppState>,
    Path(code): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let topic = params.one::<Slug>("topic");
    let stances = params.many::<EffectiveStance>("stance");
    let roles = params.many::<Role>("role");
    let (from, to) = params.date_range();
    let order = params.choice("sort", DateOrder::Newest);
    let sort_name = if order == DateOrder::Newest {
        "-date"
    } else {
        "date"
    };
    let paging = Paging::parse(&mut params, &headers, sort_name);
    params.finish()?;
    let country = country_from_path(&state.db, &code).await?;
    // The dates asked for, within the years in which the country took part, bound the
    // statement that the list is ordered by (`s`). On `p.issued_on`, the same date
    // through the view's own join, the planner would not see where they lie: a
    // two-year range newest first walked every statement since (130 ms).
    let years = participation_years(&state.db, std::slice::from_ref(&country.code)).await?;
    let first = years.map(|(first, _)| first).max(from);
    let last = match (years.map(|(_, last)| last), to) {
        (Some(last), Some(to)) => Some(last.min(to)),
        (last, to) => last.or(to),
    };

    let filter = ParticipationFilter {
        topic,
        roles,
        stances,
        ..ParticipationFilter::default()
    };
    let filtered = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" from participation p join statement s on s.id = p.statement_id where p.country_code = ")
            .push_bind(country.code.clone());
        if let Some(first) = first {
            qb.push(" and s.issued_on >= ").push_bind(first);
        }
        if let Some(last) = last {
            qb.push(" and s.issued_on <= ").push_bind(last);
        }
        filter.push_conditions(qb);
    };
    let mut qb = QueryBuilder::new(format!(
        "select {STATEMENT_COLUMNS}, p.role, p.effective_stance, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url"
    ));
    filtered(&mut qb);
    let direction = if order == DateOrder::Newest {
        "desc"
    } else {
        "asc"
    };
    if let Some(cursor) = &paging.cursor {
        qb.push(" and ");
        let ascending = order == DateOrder::Oldest;
        cursor.push_after(&mut qb, ("s.issued_on", "date"), "s.id", ascending);
    }
    qb.push(format!(
        " order by s.issued_on {direction}, s.id {direction}"
    ));
    let file_stem = format!("{}-statements", country.code.to_lowercase());
    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || {
            let mut count = QueryBuilder::new("select count(*)");
            filtered(&mut count);
            count
        },
        &paging,
        &uri,
        (&file_stem, ParticipationCsv::from),
        |p: &Participation| Cursor {
            sort: sort_name.into(),
            key: p.statement.issued_on.to_string(),
            id: p.statement.id.clone(),
        },
    )
    .await
}
