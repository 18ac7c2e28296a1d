//! Signatures: a country's participation in a statement as editors write it (table
//! `signature`), and as readers see it with its effective stance (view `participation`).

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::as_of;
use super::countries::Country;
use super::keyset::{Cursor, ListQuery, and_after};
use crate::domain::{EffectiveStance, Role};
use crate::error::{AppError, AppResult};

/// A country's participation, as embedded in a statement or listed on its own.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Signatory {
    #[sqlx(flatten)]
    pub country: Country,
    pub role: Role,
    pub effective_stance: EffectiveStance,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    /// When the participation took effect: `joined_on`, else the statement's date.
    pub effective_on: NaiveDate,
    pub source_url: Option<String>,
    pub note: String,
}

/// The country's own columns rather than `to_jsonb(c)`: a statement embeds a hundred or
/// more, and building each as JSON in the database and parsing it again in the service
/// cost both more than the columns themselves.
pub(super) const SIGNATORY_COLUMNS: &str = "c.code, c.iso2, c.numeric_code, c.iso3166_3, c.name, \
    c.official_name, c.common_name, c.region, c.subregion, c.intermediate_region, c.un_member, \
    c.un_observer, c.un_admission_date, c.ended_on, c.successor_code, \
    p.role, p.effective_stance, p.joined_on, p.withdrawn_on, p.effective_on, p.source_url, p.note";

/// One country's participation in a statement, if it has one.
pub async fn load(
    conn: &mut PgConnection,
    statement_id: &str,
    code: &str,
) -> AppResult<Option<Signatory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SIGNATORY_COLUMNS} from participation p join country c on c.code = p.country_code \
         where p.statement_id = $1 and p.country_code = $2"
    )))
    .bind(statement_id)
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?)
}

/// What a statement's list of signatories may be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct SignatoryFilter {
    pub statement_id: String,
    pub roles: Vec<Role>,
    pub region: Option<String>,
    pub stances: Vec<EffectiveStance>,
    pub as_of: Option<NaiveDate>,
}

/// The order of a statement's signatories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatoryOrder {
    Name,
    Joined,
}

/// The signatories `filter` keeps in `order` (then by code), after `cursor`.
pub fn list(filter: &SignatoryFilter, order: SignatoryOrder, cursor: Option<&Cursor>) -> ListQuery {
    let filter = filter.clone();
    let key = match order {
        SignatoryOrder::Name => ("c.name", "text"),
        SignatoryOrder::Joined => ("p.effective_on", "date"),
    };
    ListQuery::over(
        &format!("select {SIGNATORY_COLUMNS}"),
        move |qb: &mut QueryBuilder<Postgres>| {
            qb.push(format!(
                " from {} p join country c on c.code = p.country_code where p.statement_id = ",
                as_of::participations(filter.as_of)
            ))
            .push_bind(filter.statement_id.clone());
            if !filter.roles.is_empty() {
                qb.push(" and p.role = any(")
                    .push_bind(filter.roles.clone())
                    .push(")");
            }
            if let Some(region) = &filter.region {
                qb.push(" and c.region = ").push_bind(region.clone());
            }
            if !filter.stances.is_empty() {
                qb.push(" and p.effective_stance = any(")
                    .push_bind(filter.stances.clone())
                    .push(")");
            }
        },
        |qb| and_after(qb, cursor, key, "c.code", true),
        &format!(" order by {}, c.code", key.0),
    )
}

/// A participation that passed every check, to be written.
pub struct SignatureFields {
    pub country: String,
    pub role: Role,
    pub joined_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub source_url: Option<String>,
    pub note: String,
}

/// Adds a new statement's participations in one statement.
pub async fn insert_all(
    conn: &mut PgConnection,
    statement_id: &str,
    rows: &[SignatureFields],
) -> AppResult<()> {
    sqlx::query(
        "insert into signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note) \
         select $1, * from unnest($2::text[], $3::signature_role[], $4::date[], $5::date[], $6::text[], $7::text[])",
    )
    .bind(statement_id)
    .bind(rows.iter().map(|r| r.country.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.role).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.joined_on).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.withdrawn_on).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.source_url.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.note.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(AppError::from_db)?;
    Ok(())
}

/// Adds or replaces one country's participation in a statement.
pub async fn upsert(
    conn: &mut PgConnection,
    statement_id: &str,
    row: &SignatureFields,
) -> AppResult<()> {
    sqlx::query(
        "insert into signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (statement_id, country_code) do update set role = excluded.role, \
         joined_on = excluded.joined_on, withdrawn_on = excluded.withdrawn_on, \
         source_url = excluded.source_url, note = excluded.note",
    )
    .bind(statement_id)
    .bind(&row.country)
    .bind(row.role)
    .bind(row.joined_on)
    .bind(row.withdrawn_on)
    .bind(&row.source_url)
    .bind(&row.note)
    .execute(&mut *conn)
    .await
    .map_err(AppError::from_db)?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, statement_id: &str, code: &str) -> AppResult<()> {
    sqlx::query("delete from signature where statement_id = $1 and country_code = $2")
        .bind(statement_id)
        .bind(code)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
