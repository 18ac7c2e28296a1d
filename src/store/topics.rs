//! Topics: what statements are about, each with the count and date range of its
//! statements (from table `topic_calendar`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, QueryBuilder};

use super::keyset::{Cursor, ListQuery};
use crate::domain::Slug;
use crate::error::{AppError, AppResult};

#[derive(Debug, Default, Serialize, sqlx::FromRow)]
pub struct Topic {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub statement_count: i64,
    pub first_issued_on: Option<NaiveDate>,
    pub last_issued_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

const TOPIC_SELECT: &str = "select t.slug, t.name, t.description, \
        count(c.statement_id) as statement_count, min(c.issued_on) as first_issued_on, max(c.issued_on) as last_issued_on, \
        t.created_at, t.updated_at, t.version \
    from topic t \
    left join topic_calendar c on c.topic_slug = t.slug";

/// Every topic by slug, after `cursor` (whose id is the last slug shown).
pub fn list(cursor: Option<&Cursor>) -> ListQuery {
    let mut rows = QueryBuilder::new(format!("{TOPIC_SELECT} where true"));
    if let Some(cursor) = cursor {
        rows.push(" and t.slug > ").push_bind(cursor.id.clone());
    }
    rows.push(" group by t.slug order by t.slug");
    ListQuery {
        rows,
        count: Box::new(|| QueryBuilder::new("select count(*) from topic")),
    }
}

/// The topic a path names, or a 404.
pub async fn load(conn: &mut PgConnection, slug: &str) -> AppResult<Topic> {
    let not_found = || AppError::NotFound(format!("Topic {slug:?}"));
    Slug::parse(slug).map_err(|_| not_found())?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TOPIC_SELECT} where t.slug = $1 group by t.slug"
    )))
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)
}

/// Whether a topic with this slug exists.
pub async fn exists(conn: &mut PgConnection, slug: &str) -> AppResult<bool> {
    Ok(
        sqlx::query_scalar("select exists (select 1 from topic where slug = $1)")
            .bind(slug)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// The topic a path names as a checked slug, or a 404.
pub async fn slug_from_path(db: &PgPool, slug: &str) -> AppResult<Slug> {
    let not_found = || AppError::NotFound(format!("Topic {slug:?}"));
    let slug = Slug::parse(slug).map_err(|_| not_found())?;
    if exists(&mut *db.acquire().await?, slug.as_str()).await? {
        Ok(slug)
    } else {
        Err(not_found())
    }
}

pub async fn insert(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
    description: &str,
) -> AppResult<()> {
    let sql = "insert into topic (slug, name, description) values ($1, $2, $3)";
    write_row(conn, sql, slug, name, description).await
}

/// Locks the topic's row for a write.
pub async fn lock(conn: &mut PgConnection, slug: &str) -> AppResult<()> {
    sqlx::query("select 1 from topic where slug = $1 for update")
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn update(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
    description: &str,
) -> AppResult<()> {
    let sql = "update topic set name = $2, description = $3 where slug = $1";
    write_row(conn, sql, slug, name, description).await
}

/// Runs `sql` with the slug, name and description as `$1`, `$2` and `$3`.
async fn write_row(
    conn: &mut PgConnection,
    sql: &'static str,
    slug: &str,
    name: &str,
    description: &str,
) -> AppResult<()> {
    sqlx::query(sql)
        .bind(slug)
        .bind(name)
        .bind(description)
        .execute(&mut *conn)
        .await
        .map_err(AppError::from_db)?;
    Ok(())
}
