//! What every list shares: keyset pagination with opaque cursors, the page envelope
//! and `Link` header, `count=exact`, `fields=`, and CSV output streamed row by row.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use std::pin::Pin;

use futures::{Stream, StreamExt};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, QueryBuilder};

use super::fields::{Fields, Item, Sparse};
use super::params::{Choice, Params};
use super::replicas::Exports;
use crate::error::{AppError, AppResult};
use crate::store::keyset::{Cursor, ListQuery, Reading};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl Choice for Format {
    const CHOICES: &'static [(&'static str, Self)] = &[("json", Self::Json), ("csv", Self::Csv)];
}

impl Format {
    /// `format=` wins; otherwise `Accept: text/csv` asks for CSV.
    pub fn negotiate(params: &mut Params, headers: &HeaderMap) -> Self {
        let accepts_csv = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"));
        // `bom=true` is checked here like every parameter; `download` adds the mark.
        params.one::<bool>("bom");
        params.choice("format", if accepts_csv { Self::Csv } else { Self::Json })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    None,
    Exact,
}

impl Choice for Count {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("none", Self::None), ("exact", Self::Exact)];
}

/// The paging parameters of a list request.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub with_total: bool,
    pub format: Format,
    pub fields: Option<Fields>,
}

impl Paging {
    /// Reads `limit`, `cursor`, `count`, `format` and `fields` of a list of `R` items
    /// exported as `C` rows; a cursor made for another sort order is rejected rather
    /// than silently misread.
    pub fn parse<R: Item, C: Serialize + Default>(
        params: &mut Params,
        headers: &HeaderMap,
        sort: &str,
    ) -> Self {
        let limit = params.bounded("limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
        let with_total = params.choice("count", Count::None) == Count::Exact;
        let format = Format::negotiate(params, headers);
        let fields = Fields::negotiated::<R, C>(params, format);
        let cursor = params
            .token("cursor")
            .and_then(|token| match Cursor::decode(&token) {
                Some(cursor) if cursor.sort == sort => Some(cursor),
                Some(_) => {
                    params.reject(
                        "cursor",
                        "was made for another sort order; start again without it",
                    );
                    None
                }
                None => {
                    params.reject(
                        "cursor",
                        "is not a cursor this API issued; use page.next_cursor as given",
                    );
                    None
                }
            });
        Self {
            limit,
            // A CSV export is every matching row: no page, so no cursor.
            cursor: cursor.filter(|_| format == Format::Json),
            with_total,
            format,
            fields,
        }
    }

    /// Rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

#[derive(Debug, Serialize)]
pub struct PageInfo {
    pub limit: u32,
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// `{"data": [...], "page": {...}}` with a `Link: <…>; rel="next"` header; with
/// `fields`, each item holds only the fields selected.
#[derive(Debug)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub page: PageInfo,
    next_link: Option<String>,
    fields: Option<Fields>,
}

#[derive(Serialize)]
struct PageBody<'a, T> {
    data: Sparse<'a, [T]>,
    page: &'a PageInfo,
}

impl<T> Page<T> {
    /// Cuts the extra row fetched beyond the limit and makes the next cursor from the
    /// last row kept.
    pub fn new(
        mut rows: Vec<T>,
        paging: &Paging,
        total: Option<i64>,
        uri: &Uri,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> Self {
        let more = rows.len() > paging.limit as usize;
        rows.truncate(paging.limit as usize);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|row| cursor_of(row).encode());
        let next_link = next_cursor
            .as_deref()
            .map(|cursor| link_with_cursor(uri, cursor));
        Self {
            data: rows,
            page: PageInfo {
                limit: paging.limit,
                next_cursor,
                total,
            },
            next_link,
            fields: paging.fields.clone(),
        }
    }
}

/// `<uri with cursor=…>; rel="next"`: the request's own query with its cursor (or
/// `since`, the changes feed's other name for it) replaced.
pub fn link_with_cursor(uri: &Uri, cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k != "cursor" && k != "since" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    format!("<{}?{}>; rel=\"next\"", uri.path(), query.finish())
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(PageBody {
            data: Sparse::new(self.fields.as_ref(), self.data.as_slice()),
            page: &self.page,
        })
        .into_response();
        if let Some(link) = self.next_link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

/// Rows an export reads at a time, each batch through a connection taken for it alone.
pub const CSV_BATCH: i64 = 1000;

/// Answers a list request from its query, built for a cursor by `query` (filters,
/// keyset and order applied): a JSON page through `reading`, with `count=exact` its
/// total; or with `format=csv` every matching row, streamed. An export reads its rows
/// in keyset batches, each through a connection of its own (of `reading`'s kind) from
/// `exports` that goes back to the pool before the batch is sent, so a slow or stalled
/// client never holds a database connection. A batch that fails on a replica is read
/// again, with the rest, from the primary. `csv_row` flattens a row for CSV.
pub async fn list_response<R, C>(
    exports: &Exports,
    mut reading: Reading,
    query: impl Fn(Option<&Cursor>) -> ListQuery + Send + Sync + 'static,
    paging: &Paging,
    uri: &Uri,
    (file_stem, csv_row): (&str, fn(R) -> C),
    cursor_of: impl Fn(&R) -> Cursor + Send + Sync + 'static,
) -> AppResult<Response>
where
    R: for<'r> FromRow<'r, PgRow> + Serialize + Send + Unpin + 'static,
    C: Serialize + Default + Send + 'static,
{
    if paging.format == Format::Csv {
        let keyed = reading.is_keyed();
        reading.finish().await?;
        let mut exports = exports.clone();
        let rows: Pin<Box<dyn Stream<Item = Result<C, AppError>> + Send>> =
            Box::pin(async_stream::try_stream! {
                let mut after: Option<Cursor> = None;
                loop {
                    let batch: Vec<R> =
                        match read_batch(&exports.pool, keyed, query(after.as_ref()).rows).await {
                            Err(err) if exports.fall_back(&err) => {
                                read_batch(&exports.pool, keyed, query(after.as_ref()).rows).await?
                            }
                            batch => batch?,
                        };
                    let last_batch = (batch.len() as i64) < CSV_BATCH;
                    after = batch.last().map(&cursor_of);
                    for row in batch {
                        yield csv_row(row);
                    }
                    if last_batch {
                        break;
                    }
                }
            });
        return Ok(csv_stream(file_stem, paging.fields.clone(), rows));
    }
    let ListQuery {
        rows: mut page_query,
        count,
    } = query(paging.cursor.as_ref());
    page_query.push(" limit ").push_bind(paging.fetch_limit());
    let rows: Vec<R> = page_query.build_query_as().fetch_all(&mut *reading).await?;
    let total = match paging.with_total {
        true => Some(
            count()
                .build_query_scalar::<i64>()
                .fetch_one(&mut *reading)
                .await?,
        ),
        false => None,
    };
    reading.finish().await?;
    Ok(Page::new(rows, paging, total, uri, cursor_of).into_response())
}

/// One batch of an export: the rows of `query` up to [`CSV_BATCH`], through a
/// connection (a keyed snapshot or a planned read) taken for this batch alone.
async fn read_batch<R>(
    db: &PgPool,
    keyed: bool,
    mut query: QueryBuilder<Postgres>,
) -> AppResult<Vec<R>>
where
    R: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    query.push(" limit ").push_bind(CSV_BATCH);
    let mut reading = match keyed {
        true => Reading::keyed(db).await?,
        false => Reading::planned(db).await?,
    };
    let batch = query.build_query_as().fetch_all(&mut *reading).await?;
    reading.finish().await?;
    Ok(batch)
}

/// A CSV response streamed from the database, one record per row, so that an export
/// of any size holds only one row in memory. `R::default()` gives the header; with
/// `fields`, the columns selected, in their order. Cells that a spreadsheet would run
/// as formulas are made text (`neutralise_formulas`).
pub fn csv_stream<R, S>(file_stem: &str, fields: Option<Fields>, rows: S) -> Response
where
    R: Serialize + Default + Send + 'static,
    S: Stream<Item = Result<R, AppError>> + Send + 'static,
{
    let header_line = match &fields {
        Some(fields) => fields.csv_header(),
        None => crate::tabular::csv_header::<R>(),
    };
    let records = rows.map(move |row| {
        row.and_then(|row| {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            match &fields {
                Some(fields) => writer.serialize(fields.select(&row).map_err(anyhow::Error::from)?),
                None => writer.serialize(row),
            }
            .map_err(anyhow::Error::from)?;
            writer
                .into_inner()
                .map(|record| crate::tabular::neutralise_formulas(&record))
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
        })
        .inspect_err(|err| tracing::error!(error = %err, "CSV export stopped"))
    });
    // Rows that are ready together leave in one chunk rather than one write each.
    let chunks = records.ready_chunks(256).map(|rows| {
        rows.into_iter().try_fold(Vec::new(), |mut chunk, row| {
            chunk.extend(row?);
            Ok::<_, AppError>(chunk)
        })
    });
    let body = futures::stream::once(async move { Ok(header_line) }).chain(chunks);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_stem}.csv\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_the_query_and_replaces_the_cursor() {
        let uri: Uri = "/v1/statements?stance=critical&cursor=old&limit=2"
            .parse()
            .unwrap();
        assert_eq!(
            link_with_cursor(&uri, "new"),
            "</v1/statements?stance=critical&limit=2&cursor=new>; rel=\"next\""
        );
    }
}
