//! Writing statements, their signatories and sources. Each request is one
//! transaction that also records its audit row; a failed request changes nothing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use sqlx::PgConnection;

use super::input::{
    SignatoryInput, SourceInput, StatementInput, validate_signature, validate_source,
    validate_statement,
};
use crate::error::{AppError, AppResult};
use crate::http::AppState;
use crate::http::auth::Editor;
use crate::http::body::{self, JsonBody};
use crate::http::conditional::{check_if_match, created, tag_of, tagged_json};
use crate::store::sources::SourceFields;
use crate::store::{changes, countries, signatures, sources, statements};
use crate::validation::Checker;

pub(super) async fn create_statement(
    State(state): State<AppState>,
    editor: Editor,
    JsonBody(mut input): JsonBody<StatementInput>,
) -> AppResult<Response> {
    let mut tx = changes::begin(&state.db).await?;
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
    let valid_sources: Vec<SourceFields> = sources
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| validate_source(&format!("sources[{i}]."), s, &mut check))
        .collect();
    check.finish()?;
    let statement = statement.expect("a statement without errors is valid");

    statements::insert(&mut tx, &statement).await?;
    if !valid_signatures.is_empty() {
        signatures::insert_all(&mut tx, &statement.id, &valid_signatures).await?;
    }
    for source in &valid_sources {
        sources::insert(&mut tx, &statement.id, source).await?;
    }
    let detail = statements::load_detail(&mut tx, &statement.id, false).await?;
    changes::created(&mut tx, "statement", &statement.id, &editor.name, &detail).await?;
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
    let mut tx = changes::begin(&state.db).await?;
    let before = statements::load_detail(&mut tx, &id, true).await?;
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
    statements::update(&mut tx, &id, &statement).await?;
    let after = statements::load_detail(&mut tx, &id, false).await?;
    changes::updated(&mut tx, "statement", &id, &editor.name, &before, &after).await?;
    tx.commit().await?;
    Ok(tagged_json(StatusCode::OK, &after))
}

pub(super) async fn delete_statement(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    editor: Editor,
) -> AppResult<StatusCode> {
    let mut tx = changes::begin(&state.db).await?;
    let before = statements::load_detail(&mut tx, &id, true).await?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    statements::delete(&mut tx, &id).await?;
    changes::deleted(&mut tx, "statement", &id, &editor.name, &before).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The stored code of a country named in the path; unknown ones are 404s.
async fn path_country(conn: &mut PgConnection, written: &str) -> AppResult<String> {
    countries::code_of(conn, written)
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
    let mut tx = changes::begin(&state.db).await?;
    let statement = statements::load(&mut tx, &id, true).await?;
    let code = path_country(&mut tx, &code).await?;
    let before = signatures::load(&mut tx, &id, &code).await?;
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
    signatures::upsert(&mut tx, &id, &valid).await?;
    let after = signatures::load(&mut tx, &id, &code)
        .await?
        .expect("the row just written");
    let entity_id = format!("{id}/{code}");
    match &before {
        Some(before) => {
            changes::updated(
                &mut tx,
                "signature",
                &entity_id,
                &editor.name,
                before,
                &after,
            )
            .await?
        }
        None => changes::created(&mut tx, "signature", &entity_id, &editor.name, &after).await?,
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
    let mut tx = changes::begin(&state.db).await?;
    statements::load(&mut tx, &id, true).await?;
    let code = path_country(&mut tx, &code).await?;
    let before = signatures::load(&mut tx, &id, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{code}'s participation in {id:?}")))?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    signatures::delete(&mut tx, &id, &code).await?;
    changes::deleted(
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
    let mut tx = changes::begin(&state.db).await?;
    statements::load(&mut tx, &id, true).await?;
    let mut check = Checker::new();
    let valid = validate_source("", input, &mut check);
    check.finish()?;
    let source = sources::insert(
        &mut tx,
        &id,
        &valid.expect("a source without errors is valid"),
    )
    .await?;
    changes::created(
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
    let mut tx = changes::begin(&state.db).await?;
    statements::load(&mut tx, &id, true).await?;
    let before = sources::load(&mut tx, &id, numeric)
        .await?
        .ok_or_else(not_found)?;
    check_if_match(&headers, Some(&tag_of(&before)))?;
    sources::delete(&mut tx, numeric).await?;
    changes::deleted(&mut tx, "source", &source_id, &editor.name, &before).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
