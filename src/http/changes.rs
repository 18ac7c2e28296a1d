//! The audit trail as a feed: every committed change in commit order, so that a
//! mirror can sync incrementally and an editor can see who changed what.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use super::listing::{DEFAULT_LIMIT, MAX_LIMIT};
use super::params::{Choice, Params};
use crate::error::AppResult;
use crate::store::changes::{self, Change};
use crate::store::keyset::Cursor;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/changes", get(list_changes))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Statement,
    Signature,
    /// A statement's list of participations, as one import changed it.
    Signatories,
    Source,
    Topic,
    Country,
}

impl Choice for Entity {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("statement", Self::Statement),
        ("signature", Self::Signature),
        ("signatories", Self::Signatories),
        ("source", Self::Source),
        ("topic", Self::Topic),
        ("country", Self::Country),
    ];
}

#[derive(Debug, Serialize)]
struct FeedPage {
    limit: u32,
    /// Where to continue from: after the last change returned, or where the request
    /// started when nothing new was there. Never null, so a poller always has one.
    next_cursor: String,
    /// Whether more changes wait right now.
    more: bool,
}

#[derive(Debug, Serialize)]
struct Feed {
    data: Vec<Change>,
    page: FeedPage,
}

const FEED_SORT: &str = "id";

fn cursor_after(id: i64) -> String {
    Cursor {
        sort: FEED_SORT.into(),
        key: String::new(),
        id: id.to_string(),
    }
    .encode()
}

async fn list_changes(State(state): State<AppState>, mut params: Params) -> AppResult<Response> {
    // `since` is the feed's name for the cursor.
    let since = params.token("since");
    let entity = params.one::<String>("entity").and_then(|word| {
        match Entity::CHOICES.iter().find(|(w, _)| *w == word) {
            Some((_, e)) => Some(*e),
            None => {
                let allowed: Vec<&str> = Entity::CHOICES.iter().map(|(w, _)| *w).collect();
                params.reject(
                    "entity",
                    format!("{word:?} is not one of: {}", allowed.join(", ")),
                );
                None
            }
        }
    });
    let entity_id = params.one::<String>("entity_id");
    let limit = params.bounded("limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    let after = match since.as_deref().map(Cursor::decode) {
        None => 0,
        Some(Some(cursor)) if cursor.sort == FEED_SORT => cursor.id.parse::<i64>().unwrap_or(-1),
        Some(_) => -1,
    };
    if after < 0 {
        params.reject(
            "since",
            "is not a cursor this feed issued; use page.next_cursor as given",
        );
    }
    params.finish()?;

    let mut rows = changes::feed(
        &state.db,
        after,
        entity.map(Entity::name),
        entity_id.as_deref(),
        i64::from(limit) + 1,
    )
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = cursor_after(rows.last().map_or(after, |c| c.id));
    // A poller must see a write at once: revalidate every time (the ETag makes that cheap).
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(Feed {
            data: rows,
            page: FeedPage {
                limit,
                next_cursor,
                more,
            },
        }),
    )
        .into_response())
}
