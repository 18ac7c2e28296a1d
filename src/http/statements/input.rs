//! What editors send for a statement, a participation or a source, and the checks it
//! must pass: every missing or invalid field is reported together, by name.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::domain::{Role, Stance, StatementKind};
use crate::error::AppResult;
use crate::store::signatures::SignatureFields;
use crate::store::sources::SourceFields;
use crate::store::statements::{Statement, StatementFields};
use crate::store::{countries, topics};
use crate::validation::{Checker, check_participation, slugify};

/// A statement as a client writes it. Every field is optional here so that all
/// missing and invalid fields are reported together by [`validate_statement`].
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatementInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: Option<String>,
    pub kind: Option<String>,
    pub forum: Option<String>,
    pub session: Option<String>,
    pub issued_on: Option<String>,
    pub un_symbol: Option<String>,
    pub stance: Option<String>,
    pub lead_country: Option<String>,
    pub topics: Option<Vec<String>>,
    pub summary: Option<String>,
    pub notes: Option<String>,
    pub reported_count: Option<serde_json::Number>,
    pub list_complete: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatories: Option<Vec<SignatoryInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<SourceInput>>,
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
            lead_country: s.lead_country.as_ref().map(|c| c.code.clone()),
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
    pub country: Option<String>,
    pub role: Option<String>,
    pub joined_on: Option<String>,
    pub withdrawn_on: Option<String>,
    pub source_url: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceInput {
    pub url: Option<String>,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub accessed_on: Option<String>,
}

pub(super) async fn validate_statement(
    conn: &mut PgConnection,
    input: StatementInput,
    check: &mut Checker,
) -> AppResult<Option<StatementFields>> {
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
        Some(code) => match countries::code_of(conn, &code).await? {
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
        if !topics::exists(conn, slug).await? {
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
    Ok(Some(StatementFields {
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
pub(super) async fn validate_signature(
    conn: &mut PgConnection,
    prefix: &str,
    country: &str,
    input: SignatoryInput,
    statement: Option<(StatementKind, NaiveDate)>,
    check: &mut Checker,
) -> AppResult<Option<SignatureFields>> {
    let field = |name: &str| format!("{prefix}{name}");
    let code = countries::code_of(conn, country).await?;
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
        (Some(country), Some(role)) => Some(SignatureFields {
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

pub(super) fn validate_source(
    prefix: &str,
    input: SourceInput,
    check: &mut Checker,
) -> Option<SourceFields> {
    let field = |name: &str| format!("{prefix}{name}");
    let url = check.required(&field("url"), input.url);
    let url = check.url(&field("url"), url);
    let title = check.free_text(&field("title"), input.title, 500);
    let publisher = check.free_text(&field("publisher"), input.publisher, 200);
    let accessed_on = check.date(&field("accessed_on"), input.accessed_on.as_deref());
    Some(SourceFields {
        url: url?,
        title,
        publisher,
        accessed_on,
    })
}
