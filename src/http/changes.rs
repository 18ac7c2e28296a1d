//! The audit trail as a feed: every committed change in commit order, so that a
//! mirror can sync incrementally and an editor can see who changed what.

use axum::extract::OriginalUri;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use super::fields::{Fields, Item, Sparse};
use super::listing::{DEFAULT_LIMIT, MAX_LIMIT, link_with_cursor};
use super::params::{Choice, Params};
use super::replicas::Reader;
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

#[derive(Serialize)]
struct Feed<'a> {
    data: Sparse<'a, [Change]>,
    page: FeedPage,
}

impl Item for Change {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "entity",
        "entity_id",
        "action",
        "actor",
        "changed_at",
        "before",
        "after",
    ];
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

async fn list_changes(
    reader: Reader,
    OriginalUri(uri): OriginalUri,
    mut params: Params,
) -> AppResult<Response> {
    // `cursor`, as for every list; `since` is the name the feed's pollers have used.
    let (cursor, since) = (params.token("cursor"), params.token("since"));
    let given = if cursor.is_some() { "cursor" } else { "since" };
    if cursor.is_some() && since.is_some() {
        params.reject("since", "names the same as cursor; give one of the two");
    }
    let since = cursor.or(since);
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
    let fields = Fields::json::<Change>(&mut params);
    let after = match since.as_deref().map(Cursor::decode) {
        None => 0,
        Some(Some(cursor)) if cursor.sort == FEED_SORT => cursor.id.parse::<i64>().unwrap_or(-1),
        Some(_) => -1,
    };
    if after < 0 {
        params.reject(
            given,
            "is not a cursor this feed issued; use page.next_cursor as given",
        );
    }
    params.finish()?;

    let mut rows = changes::feed(
        &reader.db,
        after,
        entity.map(Entity::name),
        entity_id.as_deref(),
        i64::from(limit) + 1,
    )
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = cursor_after(rows.last().map_or(after, |c| c.id));
    // A next page while more changes wait now; otherwise the poller asks again later.
    let next_link = more.then(|| link_with_cursor(&uri, &next_cursor));
    let mut response = (
        // A poller must see a write at once: revalidate every time (the ETag makes that
        // cheap).
        [(header::CACHE_CONTROL, "no-cache")],
        Json(Feed {
            data: Sparse::new(fields.as_ref(), rows.as_slice()),
            page: FeedPage {
                limit,
                next_cursor,
                more,
            },
        }),
    )
        .into_response();
    if let Some(link) = next_link.and_then(|link| HeaderValue::from_str(&link).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
