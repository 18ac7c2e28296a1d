//! Countries: the reference list every participation points to, looked up by alpha-3
//! or alpha-2 code, listed with filters, and corrected by admins.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::keyset::{Cursor, ListQuery, and_after};
use crate::domain::CountryCode;
use crate::error::{AppError, AppResult, FieldError};

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

/// Resolves the codes of a filter parameter in one query, in the order given and
/// each once; an unknown one is the client's error.
pub async fn resolve_filter(
    db: &PgPool,
    param: &'static str,
    codes: &[CountryCode],
) -> AppResult<Vec<String>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let written: Vec<&str> = codes.iter().map(CountryCode::as_str).collect();
    let found: Vec<(String, Option<String>)> = sqlx::query_as(
        "select w.code, c.code from unnest($1::text[]) with ordinality as w(code, n) \
         left join country c on c.code = w.code or c.iso2 = w.code order by w.n",
    )
    .bind(&written)
    .fetch_all(db)
    .await?;
    let mut resolved = Vec::with_capacity(found.len());
    let mut unknown = Vec::new();
    for (written, code) in found {
        match code {
            Some(code) if !resolved.contains(&code) => resolved.push(code),
            Some(_) => {}
            None => unknown.push(FieldError::new(
                param,
                format!("{written:?} is not a known country code"),
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
pub async fn from_path(db: &PgPool, code: &str) -> AppResult<Country> {
    load(&mut *db.acquire().await?, code, false).await
}

/// The country a path names (alpha-3 or alpha-2); `lock` takes its row lock for a write.
pub async fn load(conn: &mut PgConnection, code: &str, lock: bool) -> AppResult<Country> {
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

/// The stored code for a code as written (alpha-3 or alpha-2), if the country exists.
pub async fn code_of(conn: &mut PgConnection, written: &str) -> AppResult<Option<String>> {
    let Ok(code) = CountryCode::parse(written) else {
        return Ok(None);
    };
    Ok(
        sqlx::query_scalar("select code from country where code = $1 or iso2 = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// Every country's stored code, under that code and under its alpha-2 code.
pub async fn codes(db: &PgPool) -> AppResult<HashMap<String, String>> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("select code, iso2 from country")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .flat_map(|(code, iso2)| {
            let by_iso2 = iso2.map(|iso2| (iso2, code.clone()));
            std::iter::once((code.clone(), code)).chain(by_iso2)
        })
        .collect())
}

/// Whether a country with exactly this stored code exists.
pub async fn exists(conn: &mut PgConnection, code: &str) -> AppResult<bool> {
    Ok(
        sqlx::query_scalar("select exists (select 1 from country where code = $1)")
            .bind(code)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// The countries with these stored codes, in no particular order.
pub async fn with_codes(db: &PgPool, codes: &[&str]) -> AppResult<Vec<Country>> {
    Ok(
        sqlx::query_as("select * from country where code = any ($1)")
            .bind(codes)
            .fetch_all(db)
            .await?,
    )
}

/// The first and the last day of the years in which any of the countries took part in
/// any statement, `None` when they took part in none. Bounding a list of their
/// statements by them lets the planner see where those lie on the timeline (see
/// migrations/…_country_years.sql).
pub async fn participation_years(
    db: &PgPool,
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

/// What `GET /v1/countries` may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct CountryFilter {
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub un_member: Option<bool>,
    pub q: Option<String>,
}

/// The countries `filter` keeps, by name then code, after `cursor`.
pub fn list(filter: &CountryFilter, cursor: Option<&Cursor>) -> ListQuery {
    let filter = filter.clone();
    ListQuery::over(
        "select c.*",
        move |qb: &mut QueryBuilder<Postgres>| {
            qb.push(" from country c where true");
            if let Some(region) = &filter.region {
                qb.push(" and c.region = ").push_bind(region.clone());
            }
            if let Some(subregion) = &filter.subregion {
                qb.push(" and c.subregion = ").push_bind(subregion.clone());
            }
            if let Some(un_member) = filter.un_member {
                qb.push(" and c.un_member = ").push_bind(un_member);
            }
            if let Some(q) = &filter.q {
                // Case- and accent-insensitive, on every name a reader might type.
                qb.push(" and lower(unaccent(concat_ws(' ', c.name, c.common_name, c.official_name))) like '%' || lower(unaccent(")
                    .push_bind(q.clone())
                    .push(")) || '%'");
            }
        },
        |qb| and_after(qb, cursor, ("c.name", "text"), "c.code", true),
        " order by c.name, c.code",
    )
}

/// Writes a checked country: a new row (`insert`) or the row with its code.
pub async fn save(conn: &mut PgConnection, c: &Country, insert: bool) -> AppResult<Country> {
    let sql = if insert {
        "insert into country (code, iso2, numeric_code, iso3166_3, name, official_name, common_name, region, \
         subregion, intermediate_region, un_member, un_observer, un_admission_date, ended_on, successor_code) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) returning *"
    } else {
        "update country set iso2 = $2, numeric_code = $3, iso3166_3 = $4, name = $5, official_name = $6, \
         common_name = $7, region = $8, subregion = $9, intermediate_region = $10, un_member = $11, \
         un_observer = $12, un_admission_date = $13, ended_on = $14, successor_code = $15 \
         where code = $1 returning *"
    };
    sqlx::query_as(sql)
        .bind(&c.code)
        .bind(&c.iso2)
        .bind(&c.numeric_code)
        .bind(&c.iso3166_3)
        .bind(&c.name)
        .bind(&c.official_name)
        .bind(&c.common_name)
        .bind(&c.region)
        .bind(&c.subregion)
        .bind(&c.intermediate_region)
        .bind(c.un_member)
        .bind(c.un_observer)
        .bind(c.un_admission_date)
        .bind(c.ended_on)
        .bind(&c.successor_code)
        .fetch_one(&mut *conn)
        .await
        .map_err(AppError::from_db)
}
