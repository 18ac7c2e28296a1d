//! Writing statements, their signatories and sources. Each request is one
//! transaction that also records its audit row; a failed request changes nothing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;

use super::{SIGNATORY_COLUMNS, Signatory, Source, Statement, load_detail, load_statement};
use crate::audit;
use crate::domain::{CountryCode, Role, Stance, StatementKind};
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::auth::Editor;
use crate::http::body::{self, JsonBody};
use crate::http::caching::{check_if_match, created, tag_of, tagged_json};
use crate::validation::{Checker, check_participation, slugify};

/// A statement as a client writes it. Every field is optional here so that all
/// missing and invalid fields are reported together by [`validate_statement`].
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatementInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    title: Option<String>,
    kind: Option<String>,
    forum: Option<String>,
    session: Option<String>,
    issued_on: Option<String>,
    un_symbol: Option<String>,
    stance: Option<String>,
    lead_country: Option<String>,
    topics: Option<Vec<String>>,
    summary: Option<String>,
    notes: Option<String>,
    reported_count: Option<serde_json::Number>,
    list_complete: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signatories: Option<Vec<SignatoryInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<SourceInput>>,
}

impl From<&Statement> for StatementInput {
    /// The editable fields of a stored statement, which a merge patch applies to.
    fn from(s: &Statement) -> Self {
        Self {
            id: None,
            title: Some(s.title.clone()),
            kind: Some(s.kind.as_str().to_owned()),
            forum: Some(s.forum.clone()),
            session: s.session.clone(),
            issued_on: Some(s.issued_on.to_string()),
            un_symbol: s.un_symbol.clone(),
            stance: s.stance.map(|x| x.as_str().to_owned()),
            lead_country: s.lead_country.as_ref().map(|c| c.0.code.clone()),
            topics: Some(s.topics.clone()),
            summary: Some(s.summary.clone()),
            notes: Some(s.notes.clone()),
            reported_count: s.reported_count.map(serde_json::Number::from),
            list_complete: Some(s.list_complete),
            signatories: None,
            sources: None,
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignatoryInput {
    /// Only inline in a new statement; the path names it on PUT.
    country: Option<String>,
    role: Option<String>,
    joined_on: Option<String>,
    withdrawn_on: Option<String>,
    source_url: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceInput {
    url: Option<String>,
    title: Option<String>,
    publisher: Option<String>,
    accessed_on: Option<String>,
}

/// A statement that passed every check.
struct ValidStatement {
    id: String,
    title: String,
    kind: StatementKind,
    forum: String,
    session: Option<String>,
    issued_on: NaiveDate,
    un_symbol: Option<String>,
    stance: Option<Stance>,
    lead_country: Option<String>,
    topics: Vec<String>,
    summary: String,
    notes: String,
    reported_count: Option<i32>,
    list_complete: bool,
}

struct ValidSignature {
    country: String,
    role: Role,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    source_url: Option<String>,
    note: String,
}

struct ValidSource {
    url: String,
    title: String,
    publisher: String,
    accessed_on: Option<NaiveDate>,
}

/// The stored code for a code as written (alpha-3 or alpha-2), if the country exists.
async fn country_code(conn: &mut PgConnection, written: &str) -> AppResult<Option<String>> {
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

async fn validate_statement(
    conn: &mut PgConnection,
    input: StatementInput,
    check: &mut Checker,
) -> AppResult<Option<ValidStatement>> {
    let title = check.required("title", input.title);
    let title = check.text("title", title, 500);
    let kind = check.required("kind", input.kind);
    let kind: Option<StatementKind> = check.vocabulary("kind", kind.as_deref());
    let forum = check.required("forum", input.forum);
    let forum = check.text("forum", forum, 200);
    let session = input
        .session
        .and_then(|s| check.text("session", Some(s), 50));
    let issued_on = check.required("issued_on", input.issued_on);
    let issued_on = check.date("issued_on", issued_on.as_deref());
    let un_symbol = input
        .un_symbol
        .and_then(|s| check.text("un_symbol", Some(s), 100));
    let stance: Option<Stance> = check.vocabulary("stance", input.stance.as_deref());
    if input.stance.is_none()
        && matches!(
            kind,
            Some(StatementKind::JointLetter | StatementKind::JointStatement)
        )
    {
        check.error(
            "stance",
            "is required for a letter or statement; only votes may have none",
        );
    }
    let summary = check.free_text("summary", input.summary, 2000);
    let notes = check.free_text("notes", input.notes, 4000);
    // JSON Schema counts `12.0` as an integer, and so does the contract.
    let whole = |n: &serde_json::Number| {
        n.as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
    };
    let reported_count = match input.reported_count.as_ref().map(whole) {
        Some(Some(n)) if (0..=10_000).contains(&n) => Some(n as i32),
        Some(_) => {
            check.error("reported_count", "must be a whole number from 0 to 10000");
            None
        }
        None => None,
    };
    let lead_country = match input.lead_country {
        Some(code) => match country_code(conn, &code).await? {
            Some(found) => Some(found),
            None => {
                check.error(
                    "lead_country",
                    format!("{code:?} is not a known country code"),
                );
                None
            }
        },
        None => None,
    };
    let topics = match input.topics {
        None => {
            check.error("topics", "is required");
            Vec::new()
        }
        Some(topics) if topics.is_empty() => {
            check.error("topics", "must name at least one topic");
            topics
        }
        Some(topics) => topics,
    };
    for (i, slug) in topics.iter().enumerate() {
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from topic where slug = $1)")
                .bind(slug)
                .fetch_one(&mut *conn)
                .await?;
        if !exists {
            check.error(
                format!("topics[{i}]"),
                format!("{slug:?} is not a known topic"),
            );
        }
    }
    let id = match input.id {
        Some(id) => check.statement_id("id", Some(id)),
        None => match (&title, issued_on) {
            (Some(title), Some(date)) => Some(match slugify(title, 80) {
                words if words.is_empty() => format!("statement-{date}"),
                words => format!("{words}-{date}"),
            }),
            _ => None,
        },
    };
    let (Some(id), Some(title), Some(kind), Some(forum), Some(issued_on)) =
        (id, title, kind, forum, issued_on)
    else {
        return Ok(None);
    };
    Ok(Some(ValidStatement {
        id,
        title,
        kind,
        forum,
        session,
        issued_on,
        un_symbol,
        stance,
        lead_country,
        topics,
        summary,
        notes,
        reported_count,
        list_complete: input.list_complete.unwrap_or(false),
    }))
}

/// Checks one participation against its statement's kind and date.
async fn validate_signature(
    conn: &mut PgConnection,
    prefix: &str,
    country: &str,
    input: SignatoryInput,
    statement: Option<(StatementKind, NaiveDate)>,
    check: &mut Checker,
) -> AppResult<Option<ValidSignature>> {
    let field = |name: &str| format!("{prefix}{name}");
    let code = country_code(conn, country).await?;
    if code.is_none() {
        check.error(
            field("country"),
            format!("{country:?} is not a known country code"),
        );
    }
    let role = check.required(&field("role"), input.role);
    let role: Option<Role> = check.vocabulary(&field("role"), role.as_deref());
    let joined_on = check.date(&field("joined_on"), input.joined_on.as_deref());
    let withdrawn_on = check.date(&field("withdrawn_on"), input.withdrawn_on.as_deref());
    let source_url = check.url(&field("source_url"), input.source_url);
    let note = check.free_text(&field("note"), input.note, 1000);
    check_participation(check, field, role, joined_on, withdrawn_on, statement);
    Ok(match (code, role) {
        (Some(country), Some(role)) => Some(ValidSignature {
            country,
            role,
            joined_on,
            withdrawn_on,
            source_url,
            note,
        }),
        _ => None,
    })
}

fn validate_source(prefix: &str, input: SourceInput, check: &mut Checker) -> Option<ValidSource> {
    let field = |name: &str| format!("{prefix}{name}");
    let url = check.required(&field("url"), input.url);
    let url = check.url(&field("url"), url);
    let title = check.free_text(&field("title"), input.title, 500);
    let publisher = check.free_text(&field("publisher"), input.publisher, 200);
    let accessed_on = check.date(&field("accessed_on"), input.accessed_on.as_deref());
    Some(ValidSource {
        url: url?,
        title,
        publisher,
        accessed_on,
    })
}

async fn insert_signatures(
    conn: &mut PgConnection,
    statement_id: &str,
    rows: &[ValidSignature],
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

async fn insert_source(
    conn: &mut PgConnection,
    statement_id: &str,
    source: &ValidSource,
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

pub(super) async fn create_statement(
    State(state): State<AppState>,
    editor: Editor,
    JsonBody(mut input): JsonBody<StatementInput>,
) -> AppResult<Response> {
    let mut tx = audit::begin(&state.db).await?;
    let signatories = input.signatories.take().unwrap_or_default();
    let sources = input.sources.take().unwrap_or_default();
    let mut check = Checker::new();
    let statement = validate_statement(&mut tx, input, &mut check).await?;
    let context = statement.as_ref().map(|s| (s.kind, s.issued_on));
    let mut valid_signatures = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, signatory) in signatories.into_iter().enumerate() {
        let prefix = format!("signatories[{i}].");
        let Some(country) = check.required(&format!("{prefix}country"), signatory.country.clone())
        else {
            continue;
        };
        if let Some(valid) =
            validate_signature(&mut tx, &prefix, &country, signatory, context, &mut check).await?
        {
            if !seen.insert(valid.country.clone()) {
                check.error(
                    format!("{prefix}country"),
                    format!("{} is listed twice", valid.country),
                );
            }
            valid_signatures.push(valid);
        }
    }
    let valid_sources: Vec<ValidSource> = sources
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| validate_source(&format!("sources[{i}]."), s, &mut check))
        .collect();
    check.finish()?;
    let statement = statement.expect("a statement without errors is valid");

    sqlx::query(
        "insert into statement (id, title, kind, forum, session, issued_on, un_symbol, stance, lead_country, \
         summary, notes, reported_count, list_complete) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&statement.id)
    .bind(&statement.title)
    .bind(statement.kind)
    .bind(&statement.forum)
    .bind(&statement.session)
    .bind(statement.issued_on)
    .bind(&statement.un_symbol)
    .bind(statement.stance)
    .bind(&statement.lead_country)
    .bind(&statement.summary)
    .bind(&statement.notes)
    .bind(statement.reported_count)
    .bind(statement.list_complete)
    .execute(&mut *tx)
    .await
    .map_err(AppError::from_db)?;
    write_topics(&mut tx, &statement.id, &statement.topics).await?;
    if !valid_signatures.is_empty() {
        insert_signatures(&mut tx, &statement.id, &valid_signatures).await?;
    }
    for source in &valid_sources {
        insert_source(&mut tx, &statement.id, source).await?;
    }
    let detail = load_detail(&mut tx, &statement.id, false).await?;
    audit::created(&mut tx, "statement", &statement.id, &editor.name, &detail).await?;
    tx.commit().await?;
    Ok(created(
        &format!("/v1/statements/{}", statement.id),
        &detail,
    ))
}

/// Applies a JSON merge patch (RFC 7396) to the statement's editable fields.
pub(super) async fn update_statement(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    editor: Editor,
    JsonBody(patch): JsonBody<Value>,
) -> AppResult<Response> {
    let mut tx = audit::begin(&state.db).await?;
    let before = load_detail(&mut tx, &id, true).await?;
    let current = StatementInput {
        id: Some(id.clone()),
        ..StatementInput::from(&before.statement)
    };
    let input = body::merge_patch(&current, &patch, &["id"])?;
    let mut check = Checker::new();
    for (field, given) in [
        ("signatories", input.signatories.is_some()),
        ("sources", input.sources.is_some()),
    ] {
        if given {
            check.error(
                field,
                "is changed through its own resource, not a statement patch",
            );
        }
    }
    let statement = validate_statement(&mut tx, input, &mut check).await?;
    check.finish()?;
    let statement = statement.expect("a statement without errors is valid");
    // Preconditions are weighed once the request itself is known to be valid
    // (RFC 9110 §13.2.2), so a broken patch hears about its errors, not a 412.
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sqlx::query(
        "update statement set title = $2, kind = $3, forum = $4, session = $5, issued_on = $6, un_symbol = $7, \
         stance = $8, lead_country = $9, summary = $10, notes = $11, reported_count = $12, list_complete = $13 \
         where id = $1",
    )
    .bind(&id)
    .bind(&statement.title)
    .bind(statement.kind)
    .bind(&statement.forum)
    .bind(&statement.session)
    .bind(statement.issued_on)
    .bind(&statement.un_symbol)
    .bind(statement.stance)
    .bind(&statement.lead_country)
    .bind(&statement.summary)
    .bind(&statement.notes)
    .bind(statement.reported_count)
    .bind(statement.list_complete)
    .execute(&mut *tx)
    .await
    .map_err(AppError::from_db)?;
    write_topics(&mut tx, &id, &statement.topics).await?;
    let after = load_detail(&mut tx, &id, false).await?;
    audit::updated(&mut tx, "statement", &id, &editor.name, &before, &after).await?;
    tx.commit().await?;
    Ok(tagged_json(StatusCode::OK, &after))
}

pub(super) async fn delete_statement(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    editor: Editor,
) -> AppResult<StatusCode> {
    let mut tx = audit::begin(&state.db).await?;
    let before = load_detail(&mut tx, &id, true).await?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sqlx::query("delete from statement where id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    audit::deleted(&mut tx, "statement", &id, &editor.name, &before).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn load_signatory(
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

/// The stored code of a country named in the path; unknown ones are 404s.
async fn path_country(conn: &mut PgConnection, written: &str) -> AppResult<String> {
    country_code(conn, written)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Country {written:?}")))
}

/// Adds or replaces a country's participation in a statement.
pub(super) async fn put_signatory(
    State(state): State<AppState>,
    Path((id, code)): Path<(String, String)>,
    headers: HeaderMap,
    editor: Editor,
    JsonBody(input): JsonBody<SignatoryInput>,
) -> AppResult<Response> {
    let mut tx = audit::begin(&state.db).await?;
    let statement = load_statement(&mut tx, &id, true).await?;
    let code = path_country(&mut tx, &code).await?;
    let before = load_signatory(&mut tx, &id, &code).await?;
    let mut check = Checker::new();
    if input.country.is_some() {
        check.error("country", "is given by the path, not the body");
    }
    let valid = validate_signature(
        &mut tx,
        "",
        &code,
        input,
        Some((statement.kind, statement.issued_on)),
        &mut check,
    )
    .await?;
    check.finish()?;
    let valid = valid.expect("a participation without errors is valid");
    check_if_match(&headers, before.as_ref().map(tag_of).as_deref())?;
    if before.is_some() && headers.get(header::IF_NONE_MATCH).is_some_and(|v| v == "*") {
        return Err(AppError::PreconditionFailed);
    }
    sqlx::query(
        "insert into signature (statement_id, country_code, role, joined_on, withdrawn_on, source_url, note) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (statement_id, country_code) do update set role = excluded.role, \
         joined_on = excluded.joined_on, withdrawn_on = excluded.withdrawn_on, \
         source_url = excluded.source_url, note = excluded.note",
    )
    .bind(&id)
    .bind(&valid.country)
    .bind(valid.role)
    .bind(valid.joined_on)
    .bind(valid.withdrawn_on)
    .bind(&valid.source_url)
    .bind(&valid.note)
    .execute(&mut *tx)
    .await
    .map_err(AppError::from_db)?;
    let after = load_signatory(&mut tx, &id, &code)
        .await?
        .expect("the row just written");
    let entity_id = format!("{id}/{code}");
    match &before {
        Some(before) => {
            audit::updated(
                &mut tx,
                "signature",
                &entity_id,
                &editor.name,
                before,
                &after,
            )
            .await?
        }
        None => audit::created(&mut tx, "signature", &entity_id, &editor.name, &after).await?,
    }
    tx.commit().await?;
    Ok(match before {
        Some(_) => tagged_json(StatusCode::OK, &after),
        None => created(&format!("/v1/statements/{id}/signatories/{code}"), &after),
    })
}

pub(super) async fn delete_signatory(
    State(state): State<AppState>,
    Path((id, code)): Path<(String, String)>,
    headers: HeaderMap,
    editor: Editor,
) -> AppResult<StatusCode> {
    let mut tx = audit::begin(&state.db).await?;
    load_statement(&mut tx, &id, true).await?;
    let code = path_country(&mut tx, &code).await?;
    let before = load_signatory(&mut tx, &id, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{code}'s participation in {id:?}")))?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sqlx::query("delete from signature where statement_id = $1 and country_code = $2")
        .bind(&id)
        .bind(&code)
        .execute(&mut *tx)
        .await?;
    audit::deleted(
        &mut tx,
        "signature",
        &format!("{id}/{code}"),
        &editor.name,
        &before,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn add_source(
    State(state): State<AppState>,
    Path(id): Path<String>,
    editor: Editor,
    JsonBody(input): JsonBody<SourceInput>,
) -> AppResult<Response> {
    let mut tx = audit::begin(&state.db).await?;
    load_statement(&mut tx, &id, true).await?;
    let mut check = Checker::new();
    let valid = validate_source("", input, &mut check);
    check.finish()?;
    let source = insert_source(
        &mut tx,
        &id,
        &valid.expect("a source without errors is valid"),
    )
    .await?;
    audit::created(
        &mut tx,
        "source",
        &source.id.to_string(),
        &editor.name,
        &source,
    )
    .await?;
    tx.commit().await?;
    Ok(created(
        &format!("/v1/statements/{id}/sources/{}", source.id),
        &source,
    ))
}

pub(super) async fn delete_source(
    State(state): State<AppState>,
    Path((id, source_id)): Path<(String, String)>,
    headers: HeaderMap,
    editor: Editor,
) -> AppResult<StatusCode> {
    let not_found = || AppError::NotFound(format!("Source {source_id:?} of statement {id:?}"));
    let numeric: i64 = source_id.parse().map_err(|_| not_found())?;
    let mut tx = audit::begin(&state.db).await?;
    load_statement(&mut tx, &id, true).await?;
    let before: Source = sqlx::query_as(
        "select id, url, title, publisher, accessed_on from source where statement_id = $1 and id = $2",
    )
    .bind(&id)
    .bind(numeric)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_found)?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sqlx::query("delete from source where id = $1")
        .bind(numeric)
        .execute(&mut *tx)
        .await?;
    audit::deleted(&mut tx, "source", &source_id, &editor.name, &before).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
