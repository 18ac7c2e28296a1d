//! Admins correct and extend the country list.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgConnection;

use crate::error::AppResult;
use crate::http::AppState;
use crate::http::auth::Admin;
use crate::http::body::{self, JsonBody};
use crate::http::conditional::{check_if_match, created, tag_of, tagged_json};
use crate::store::changes;
use crate::store::countries::{self, Country};
use crate::validation::Checker;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CountryInput {
    code: Option<String>,
    iso2: Option<String>,
    numeric_code: Option<String>,
    iso3166_3: Option<String>,
    name: Option<String>,
    official_name: Option<String>,
    common_name: Option<String>,
    region: Option<String>,
    subregion: Option<String>,
    intermediate_region: Option<String>,
    un_member: Option<bool>,
    un_observer: Option<bool>,
    un_admission_date: Option<String>,
    ended_on: Option<String>,
    successor_code: Option<String>,
}

impl From<&Country> for CountryInput {
    fn from(c: &Country) -> Self {
        Self {
            code: Some(c.code.clone()),
            iso2: c.iso2.clone(),
            numeric_code: c.numeric_code.clone(),
            iso3166_3: c.iso3166_3.clone(),
            name: Some(c.name.clone()),
            official_name: c.official_name.clone(),
            common_name: c.common_name.clone(),
            region: c.region.clone(),
            subregion: c.subregion.clone(),
            intermediate_region: c.intermediate_region.clone(),
            un_member: Some(c.un_member),
            un_observer: Some(c.un_observer),
            un_admission_date: c.un_admission_date.map(|d| d.to_string()),
            ended_on: c.ended_on.map(|d| d.to_string()),
            successor_code: c.successor_code.clone(),
        }
    }
}

fn code_field(
    check: &mut Checker,
    field: &str,
    value: Option<String>,
    letters: usize,
    digits: bool,
) -> Option<String> {
    let value = value?;
    let valid = value.len() == letters
        && value.chars().all(|c| {
            if digits {
                c.is_ascii_digit()
            } else {
                c.is_ascii_uppercase()
            }
        });
    if valid {
        Some(value)
    } else {
        let kind = if digits {
            "digits"
        } else {
            "upper-case letters"
        };
        check.error(field, format!("{value:?} must be {letters} {kind}"));
        None
    }
}

/// Checks a country and returns it in its stored form.
async fn validate(conn: &mut PgConnection, input: CountryInput) -> AppResult<Country> {
    let mut check = Checker::new();
    let code = check.required("code", input.code);
    let code = code_field(&mut check, "code", code, 3, false);
    let iso2 = code_field(&mut check, "iso2", input.iso2, 2, false);
    let numeric_code = code_field(&mut check, "numeric_code", input.numeric_code, 3, true);
    let iso3166_3 = code_field(&mut check, "iso3166_3", input.iso3166_3, 4, false);
    let name = check.required("name", input.name);
    let name = check.text("name", name, 200);
    let mut optional_text =
        |field: &str, value: Option<String>| value.and_then(|v| check.text(field, Some(v), 300));
    let official_name = optional_text("official_name", input.official_name);
    let common_name = optional_text("common_name", input.common_name);
    let region = optional_text("region", input.region);
    let subregion = optional_text("subregion", input.subregion);
    let intermediate_region = optional_text("intermediate_region", input.intermediate_region);
    let un_member = input.un_member.unwrap_or(false);
    let un_observer = input.un_observer.unwrap_or(false);
    if un_member && un_observer {
        check.error("un_observer", "a UN member is not also an observer");
    }
    let un_admission_date = check.date("un_admission_date", input.un_admission_date.as_deref());
    let ended_on = check.date("ended_on", input.ended_on.as_deref());
    let successor_code = input.successor_code;
    if let Some(successor) = &successor_code {
        if ended_on.is_none() {
            check.error(
                "successor_code",
                "only a country that ended (ended_on) has a successor",
            );
        }
        if !countries::exists(conn, successor).await? {
            check.error(
                "successor_code",
                format!("{successor:?} is not a known country code"),
            );
        }
    }
    check.finish()?;
    Ok(Country {
        code: code.expect("checked"),
        iso2,
        numeric_code,
        iso3166_3,
        name: name.expect("checked"),
        official_name,
        common_name,
        region,
        subregion,
        intermediate_region,
        un_member,
        un_observer,
        un_admission_date,
        ended_on,
        successor_code,
    })
}

pub(super) async fn create_country(
    State(state): State<AppState>,
    Admin(admin): Admin,
    JsonBody(input): JsonBody<CountryInput>,
) -> AppResult<Response> {
    let mut tx = changes::begin(&state.db).await?;
    let country = validate(&mut tx, input).await?;
    let country = countries::save(&mut tx, &country, true).await?;
    changes::created(&mut tx, "country", &country.code, &admin.name, &country).await?;
    tx.commit().await?;
    Ok(created(
        &format!("/v1/countries/{}", country.code),
        &country,
    ))
}

pub(super) async fn update_country(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    Admin(admin): Admin,
    JsonBody(patch): JsonBody<Value>,
) -> AppResult<Response> {
    let mut tx = changes::begin(&state.db).await?;
    let before = countries::load(&mut tx, &code, true).await?;
    let input = body::merge_patch(&CountryInput::from(&before), &patch, &["code"])?;
    let country = validate(&mut tx, input).await?;
    // After validation, as for statements (RFC 9110 §13.2.2).
    check_if_match(&headers, Some(&tag_of(&before)))?;
    let after = countries::save(&mut tx, &country, false).await?;
    changes::updated(
        &mut tx,
        "country",
        &after.code,
        &admin.name,
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(tagged_json(StatusCode::OK, &after))
}
