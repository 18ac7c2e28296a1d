//! Sources: where a statement's text and list of countries were published.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::error::{AppError, AppResult};

#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct Source {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub publisher: String,
    pub accessed_on: Option<NaiveDate>,
}

/// A source that passed every check, to be written.
pub struct SourceFields {
    pub url: String,
    pub title: String,
    pub publisher: String,
    pub accessed_on: Option<NaiveDate>,
}

/// One source of a statement, if it has that one.
pub async fn load(
    conn: &mut PgConnection,
    statement_id: &str,
    id: i64,
) -> AppResult<Option<Source>> {
    Ok(sqlx::query_as(
        "select id, url, title, publisher, accessed_on from source where statement_id = $1 and id = $2",
    )
    .bind(statement_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn insert(
    conn: &mut PgConnection,
    statement_id: &str,
    source: &SourceFields,
) -> AppResult<Source> {
    sqlx::query_as(
        "insert into source (statement_id, url, title, publisher, accessed_on) values ($1, $2, $3, $4, $5) \
         returning id, url, title, publisher, accessed_on",
    )
    .bind(statement_id)
    .bind(&source.url)
    .bind(&source.title)
    .bind(&source.publisher)
    .bind(source.accessed_on)
    .fetch_one(&mut *conn)
    .await
    .map_err(AppError::from_db)
}

pub async fn delete(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    sqlx::query("delete from source where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
