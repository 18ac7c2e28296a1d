//! `GET /v1/statements/compare?a=…&b=…`: which countries took part in both statements,
//! which in only one, and which took opposite sides in them.

use axum::Json;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlx::types::Json as SqlJson;

use super::csv_rows;
use crate::domain::Slug;
use crate::error::AppResult;
use crate::http::fields::{Fields, Item, Sparse};
use crate::http::listing::Format;
use crate::http::params::Params;
use crate::http::replicas::Reader;
use crate::store::comparison::{self, ComparedCountry, Part};
use crate::store::statements::{self, Statement};

#[derive(Debug, Default, Serialize)]
struct Counts {
    both: usize,
    only_a: usize,
    only_b: usize,
    opposite_sides: usize,
}

#[derive(Serialize)]
struct Comparison<'a> {
    a: Statement,
    b: Statement,
    counts: Counts,
    countries: Sparse<'a, [ComparedCountry]>,
}

impl Item for ComparedCountry {
    const FIELDS: &'static [&'static str] = &["country", "presence", "a", "b", "opposite_sides"];
}

#[derive(Debug, Default, Serialize)]
struct ComparedCountryCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    presence: String,
    a_role: Option<String>,
    a_effective_stance: Option<String>,
    b_role: Option<String>,
    b_effective_stance: Option<String>,
    opposite_sides: bool,
}

impl From<ComparedCountry> for ComparedCountryCsv {
    fn from(c: ComparedCountry) -> Self {
        let country = c.country.0;
        let role = |p: &Option<SqlJson<Part>>| p.as_ref().map(|p| p.role.as_str().to_owned());
        let stance =
            |p: &Option<SqlJson<Part>>| p.as_ref().map(|p| p.effective_stance.as_str().to_owned());
        Self {
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            presence: c.presence,
            a_role: role(&c.a),
            a_effective_stance: stance(&c.a),
            b_role: role(&c.b),
            b_effective_stance: stance(&c.b),
            opposite_sides: c.opposite_sides,
        }
    }
}

pub(super) async fn compare(
    reader: Reader,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let a = params.one::<Slug>("a");
    let b = params.one::<Slug>("b");
    let format = Format::negotiate(&mut params, &headers);
    let fields = Fields::negotiated::<ComparedCountry, ComparedCountryCsv>(&mut params, format);
    for (name, given) in [("a", a.is_some()), ("b", b.is_some())] {
        if !given {
            params.reject(name, "is required: the id of a statement to compare");
        }
    }
    if let (Some(a), Some(b)) = (&a, &b)
        && a == b
    {
        params.reject(
            "b",
            "is the same statement as a; compare two different ones",
        );
    }
    params.finish()?;
    let (a, b) = (a.expect("checked"), b.expect("checked"));

    let (a, b) = statements::load_pair(&reader.db, &a, &b).await?;
    let countries = comparison::countries(&reader.db, &a.id, &b.id).await?;

    let mut counts = Counts::default();
    for c in &countries {
        match c.presence.as_str() {
            "both" => counts.both += 1,
            "only_a" => counts.only_a += 1,
            _ => counts.only_b += 1,
        }
        counts.opposite_sides += usize::from(c.opposite_sides);
    }
    let file_stem = format!("compare-{}-{}", a.id, b.id);
    Ok(match format {
        Format::Json => Json(Comparison {
            a,
            b,
            counts,
            countries: Sparse::new(fields.as_ref(), countries.as_slice()),
        })
        .into_response(),
        Format::Csv => csv_rows(
            &file_stem,
            fields,
            countries
                .into_iter()
                .map(ComparedCountryCsv::from)
                .collect(),
        ),
    })
}
