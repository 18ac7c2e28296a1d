//! A statement's own row and its topics as editors write them; its signatures and
//! sources have modules of their own.

use chrono::NaiveDate;
use sqlx::PgConnection;

use crate::domain::{Stance, StatementKind};
use crate::error::{AppError, AppResult};

/// A statement that passed every check, to be written.
pub struct StatementFields {
    pub id: String,
    pub title: String,
    pub kind: StatementKind,
    pub forum: String,
    pub session: Option<String>,
    pub issued_on: NaiveDate,
    pub un_symbol: Option<String>,
    pub stance: Option<Stance>,
    pub lead_country: Option<String>,
    pub topics: Vec<String>,
    pub summary: String,
    pub notes: String,
    pub reported_count: Option<i32>,
    pub list_complete: bool,
}

/// Adds a statement and its topics.
pub async fn insert(conn: &mut PgConnection, s: &StatementFields) -> AppResult<()> {
    let sql = "insert into statement (id, title, kind, forum, session, issued_on, un_symbol, stance, \
               lead_country, summary, notes, reported_count, list_complete) \
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    write_row(conn, sql, &s.id, s).await
}

/// Replaces the editable fields and the topics of the statement `id`.
pub async fn update(conn: &mut PgConnection, id: &str, s: &StatementFields) -> AppResult<()> {
    let sql = "update statement set title = $2, kind = $3, forum = $4, session = $5, issued_on = $6, \
               un_symbol = $7, stance = $8, lead_country = $9, summary = $10, notes = $11, \
               reported_count = $12, list_complete = $13 where id = $1";
    write_row(conn, sql, id, s).await
}

/// Runs `sql` with the statement's id as `$1` and its fields as `$2`…`$13`, then
/// writes its topics.
async fn write_row(
    conn: &mut PgConnection,
    sql: &'static str,
    id: &str,
    s: &StatementFields,
) -> AppResult<()> {
    sqlx::query(sql)
        .bind(id)
        .bind(&s.title)
        .bind(s.kind)
        .bind(&s.forum)
        .bind(&s.session)
        .bind(s.issued_on)
        .bind(&s.un_symbol)
        .bind(s.stance)
        .bind(&s.lead_country)
        .bind(&s.summary)
        .bind(&s.notes)
        .bind(s.reported_count)
        .bind(s.list_complete)
        .execute(&mut *conn)
        .await
        .map_err(AppError::from_db)?;
    write_topics(conn, id, &s.topics).await
}

/// Deletes a statement; its signatures, sources and topics go with it.
pub async fn delete(conn: &mut PgConnection, id: &str) -> AppResult<()> {
    sqlx::query("delete from statement where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes the statement's topics exactly `topics`.
async fn write_topics(
    conn: &mut PgConnection,
    statement_id: &str,
    topics: &[String],
) -> AppResult<()> {
    sqlx::query("delete from statement_topic where statement_id = $1 and topic_slug <> all($2)")
        .bind(statement_id)
        .bind(topics)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into statement_topic (statement_id, topic_slug) select $1, unnest($2::text[]) on conflict do nothing",
    )
    .bind(statement_id)
    .bind(topics)
    .execute(&mut *conn)
    .await
    .map_err(AppError::from_db)?;
    Ok(())
}
