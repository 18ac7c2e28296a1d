//! Topics: what statements are about. Editors add and rename them.

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::auth::Editor;
use super::body::{self, JsonBody};
use super::conditional::{check_if_match, created, tag_of, tagged_json};
use super::fields::{Fields, Item, Sparse};
use super::listing::{Paging, list_response};
use super::params::Params;
use super::replicas::Reader;
use crate::error::AppResult;
use crate::store::changes;
use crate::store::keyset::{Cursor, Reading};
use crate::store::topics::{self, Topic};
use crate::validation::Checker;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/topics", get(list_topics).post(create_topic))
        .route("/v1/topics/{slug}", get(get_topic).patch(update_topic))
}

impl Item for Topic {
    const FIELDS: &'static [&'static str] = &[
        "slug",
        "name",
        "description",
        "statement_count",
        "first_issued_on",
        "last_issued_on",
        "created_at",
        "updated_at",
        "version",
    ];
}

const TOPIC_SORT: &str = "slug";

async fn list_topics(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let paging = Paging::parse::<Topic, Topic>(&mut params, &headers, TOPIC_SORT);
    params.finish()?;
    list_response(
        &reader.exports,
        Reading::planned(&reader.db).await?,
        topics::list,
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

async fn get_topic(
    reader: Reader,
    Path(slug): Path<String>,
    mut params: Params,
) -> AppResult<Response> {
    let fields = Fields::json::<Topic>(&mut params);
    params.finish()?;
    let topic = topics::load(&mut *reader.db.acquire().await?, &slug).await?;
    Ok(tagged_json(
        StatusCode::OK,
        &Sparse::new(fields.as_ref(), &topic),
    ))
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
    let mut tx = changes::begin(&state.db).await?;
    topics::insert(&mut tx, &slug, &name, &description).await?;
    let topic = topics::load(&mut tx, &slug).await?;
    changes::created(&mut tx, "topic", &slug, &editor.name, &topic).await?;
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
    let mut tx = changes::begin(&state.db).await?;
    let before = topics::load(&mut tx, &slug).await?;
    topics::lock(&mut tx, &slug).await?;
    let current = TopicInput {
        slug: Some(before.slug.clone()),
        name: Some(before.name.clone()),
        description: Some(before.description.clone()),
    };
    let (_, name, description) = validate(body::merge_patch(&current, &patch, &["slug"])?)?;
    // After validation, as for statements (RFC 9110 §13.2.2).
    check_if_match(&headers, Some(&tag_of(&before)))?;
    topics::update(&mut tx, &slug, &name, &description).await?;
    let after = topics::load(&mut tx, &slug).await?;
    changes::updated(&mut tx, "topic", &slug, &editor.name, &before, &after).await?;
    tx.commit().await?;
    Ok(tagged_json(StatusCode::OK, &after))
}
