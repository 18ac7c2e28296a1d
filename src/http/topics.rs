//! Topics: what statements are about. Editors add and rename them.

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, QueryBuilder};

use super::AppState;
use super::auth::Editor;
use super::body::{self, JsonBody};
use super::caching::{check_if_match, created, tag_of, tagged_json};
use super::listing::{Cursor, Paging, Reading, list_response};
use super::params::Params;
use crate::audit;
use crate::domain::Slug;
use crate::error::{AppError, AppResult};
use crate::validation::Checker;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/topics", get(list_topics).post(create_topic))
        .route("/v1/topics/{slug}", get(get_topic).patch(update_topic))
}

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

const TOPIC_SORT: &str = "slug";

async fn list_topics(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let paging = Paging::parse(&mut params, &headers, TOPIC_SORT);
    params.finish()?;
    let mut qb = QueryBuilder::new(format!("{TOPIC_SELECT} where true"));
    if let Some(cursor) = &paging.cursor {
        qb.push(" and t.slug > ").push_bind(cursor.id.clone());
    }
    qb.push(" group by t.slug order by t.slug");
    list_response(
        Reading::planned(&state.db).await?,
        qb,
        || QueryBuilder::new("select count(*) from topic"),
        &paging,
        &uri,
        ("topics", std::convert::identity),
        |t: &Topic| Cursor {
            sort: TOPIC_SORT.into(),
            key: String::new(),
            id: t.slug.clone(),
        },
    )
    .await
}

async fn load_topic(conn: &mut PgConnection, slug: &str) -> AppResult<Topic> {
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

async fn get_topic(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    params: Params,
) -> AppResult<Response> {
    params.finish()?;
    let topic = load_topic(&mut *state.db.acquire().await?, &slug).await?;
    Ok(tagged_json(StatusCode::OK, &topic))
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TopicInput {
    slug: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

fn validate(input: TopicInput) -> AppResult<(String, String, String)> {
    let mut check = Checker::new();
    let slug = check.required("slug", input.slug);
    let slug = check.slug("slug", slug, 80);
    let name = check.required("name", input.name);
    let name = check.text("name", name, 200);
    let description = check.free_text("description", input.description, 2000);
    check.finish()?;
    Ok((slug.expect("checked"), name.expect("checked"), description))
}

async fn create_topic(
    State(state): State<AppState>,
    editor: Editor,
    JsonBody(input): JsonBody<TopicInput>,
) -> AppResult<Response> {
    let (slug, name, description) = validate(input)?;
    let mut tx = audit::begin(&state.db).await?;
    sqlx::query("insert into topic (slug, name, description) values ($1, $2, $3)")
        .bind(&slug)
        .bind(&name)
        .bind(&description)
        .execute(&mut *tx)
        .await
        .map_err(AppError::from_db)?;
    let topic = load_topic(&mut tx, &slug).await?;
    audit::created(&mut tx, "topic", &slug, &editor.name, &topic).await?;
    tx.commit().await?;
    Ok(created(&format!("/v1/topics/{slug}"), &topic))
}

async fn update_topic(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    editor: Editor,
    JsonBody(patch): JsonBody<Value>,
) -> AppResult<Response> {
    let mut tx = audit::begin(&state.db).await?;
    let before = load_topic(&mut tx, &slug).await?;
    sqlx::query("select 1 from topic where slug = $1 for update")
        .bind(&slug)
        .execute(&mut *tx)
        .await?;
    let current = TopicInput {
        slug: Some(before.slug.clone()),
        name: Some(before.name.clone()),
        description: Some(before.description.clone()),
    };
    let (_, name, description) = validate(body::merge_patch(&current, &patch, &["slug"])?)?;
    // After validation, as for statements (RFC 9110 §13.2.2).
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sqlx::query("update topic set name = $2, description = $3 where slug = $1")
        .bind(&slug)
        .bind(&name)
        .bind(&description)
        .execute(&mut *tx)
        .await
        .map_err(AppError::from_db)?;
    let after = load_topic(&mut tx, &slug).await?;
    audit::updated(&mut tx, "topic", &slug, &editor.name, &before, &after).await?;
    tx.commit().await?;
    Ok(tagged_json(StatusCode::OK, &after))
}
