//! The countries of the seed migrations (`data/countries/`), compiled into the binary so
//! that the generators map and pick country codes exactly as the database holds them,
//! without a database.

use chrono::NaiveDate;
use serde::Deserialize;

/// A country as the seed data has it, with the dates of its UN membership.
#[derive(Debug, Clone, Deserialize)]
pub struct SeedCountry {
    /// ISO 3166-1 alpha-3 (the database's `country.code`).
    #[serde(alias = "iso3")]
    pub code: String,
    pub iso2: String,
    pub name: String,
    pub region: String,
    pub subregion: String,
    pub un_admission_date: Option<NaiveDate>,
    #[serde(default)]
    pub ended_on: Option<NaiveDate>,
}

/// Every current country (`countries.csv`), then the former states.
pub fn seed_countries() -> Vec<SeedCountry> {
    let mut countries = parse(include_str!("../../data/countries/countries.csv"));
    countries.extend(parse(include_str!(
        "../../data/countries/former_states.csv"
    )));
    countries
}

fn parse(text: &str) -> Vec<SeedCountry> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("the seed country files parse (scripts/gen_seed.py checks them too)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_holds_current_and_former_states() {
        let countries = seed_countries();
        assert_eq!(countries.len(), 249 + 7);
        let namibia = countries.iter().find(|c| c.code == "NAM").unwrap();
        assert_eq!(namibia.iso2, "NA", "Namibia's code is not a missing value");
        let ussr = countries.iter().find(|c| c.code == "SUN").unwrap();
        assert_eq!(ussr.ended_on, NaiveDate::from_ymd_opt(1991, 12, 25));
    }
}
