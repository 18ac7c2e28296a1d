//! `GET /v1/countries/{code}/alignment`: every other country ranked by how often it
//! took the same stance as this one in the statements both took part in, counted in
//! the instance's in-memory matrix of participations (see `store::alignment`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;

use super::csv_rows;
use crate::domain::Slug;
use crate::error::AppResult;
use crate::http::AppState;
use crate::http::fields::{Fields, Item, Sparse};
use crate::http::listing::Format;
use crate::http::params::Params;
use crate::http::replicas::Reader;
use crate::store::alignment::Counts;
use crate::store::countries::{self, Country};

/// How one other country lines up with this one.
#[derive(Debug, Serialize)]
struct Alignment {
    country: Country,
    /// Statements both took part in (withdrawn participations do not count).
    shared: u64,
    /// Of those, the ones where both had the same effective stance.
    agreed: u64,
    /// Of those, the ones where they took opposite sides.
    opposed: u64,
    /// `agreed / shared`, rounded to four decimals.
    agreement: f64,
    #[serde(skip)]
    agreement_in_ten_thousandths: u64,
}

impl Item for Alignment {
    const FIELDS: &'static [&'static str] =
        &["country", "shared", "agreed", "opposed", "agreement"];
}

impl Alignment {
    fn new(country: Country, counts: Counts) -> Self {
        // Rounded half up in integers, so that a share exactly halfway between two
        // four-decimal values rounds as in decimal arithmetic.
        let ten_thousandths = (counts.agreed * 20_000 + counts.shared) / (2 * counts.shared);
        Self {
            country,
            shared: counts.shared,
            agreed: counts.agreed,
            opposed: counts.opposed,
            agreement: ten_thousandths as f64 / 10_000.0,
            agreement_in_ten_thousandths: ten_thousandths,
        }
    }
}

#[derive(Serialize)]
struct AlignmentReport<'a> {
    country: Country,
    topic: Option<String>,
    min_shared: u32,
    data: Sparse<'a, [Alignment]>,
}

#[derive(Debug, Default, Serialize)]
struct AlignmentCsv {
    country_code: String,
    country_name: String,
    region: Option<String>,
    subregion: Option<String>,
    shared: u64,
    agreed: u64,
    opposed: u64,
    agreement: f64,
}

impl From<Alignment> for AlignmentCsv {
    fn from(a: Alignment) -> Self {
        let country = a.country;
        Self {
            country_code: country.code,
            country_name: country.name,
            region: country.region,
            subregion: country.subregion,
            shared: a.shared,
            agreed: a.agreed,
            opposed: a.opposed,
            agreement: a.agreement,
        }
    }
}

/// Not paged: one row per other country (about 250 at most whatever the number of
/// statements).
pub(super) async fn alignment(
    State(state): State<AppState>,
    reader: Reader,
    Path(code): Path<String>,
    headers: HeaderMap,
    mut params: Params,
) -> AppResult<Response> {
    let topic = params.one::<Slug>("topic");
    let min_shared = params.bounded("min_shared", 1, 1, 100_000);
    let format = Format::negotiate(&mut params, &headers);
    let fields = Fields::negotiated::<Alignment, AlignmentCsv>(&mut params, format);
    params.finish()?;
    let country = countries::from_path(&reader.db, &code).await?;

    let matrix = state.alignment.current(&state.db).await?;
    let counted: HashMap<&str, Counts> = matrix
        .compare(&country.code, topic.as_ref().map(Slug::as_str))
        .into_iter()
        .filter(|(_, counts)| counts.shared >= u64::from(min_shared))
        .collect();
    let codes: Vec<&str> = counted.keys().copied().collect();
    let mut data: Vec<Alignment> = countries::with_codes(&reader.db, &codes)
        .await?
        .into_iter()
        .map(|other| {
            let counts = counted[other.code.as_str()];
            Alignment::new(other, counts)
        })
        .collect();
    data.sort_by(|a, b| {
        (b.agreement_in_ten_thousandths, b.shared, &a.country.code).cmp(&(
            a.agreement_in_ten_thousandths,
            a.shared,
            &b.country.code,
        ))
    });

    let file_stem = format!("{}-alignment", country.code.to_lowercase());
    Ok(match format {
        Format::Json => Json(AlignmentReport {
            country,
            topic: topic.map(|t| t.as_str().to_owned()),
            min_shared,
            data: Sparse::new(fields.as_ref(), data.as_slice()),
        })
        .into_response(),
        Format::Csv => csv_rows(
            &file_stem,
            fields,
            data.into_iter().map(AlignmentCsv::from).collect(),
        ),
    })
}
