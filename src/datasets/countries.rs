//! The countries of the seed migrations (`data/countries/`), compiled into the binary so
//! that the generators map and pick country codes exactly as the database holds them,
//! without a database, and who held which UN seat when.

use std::collections::HashMap;

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

/// UN seats that passed from a state to its successor, as (predecessor, successor):
/// the successor held the seat only once the predecessor ended, although the seed
/// (following the UN) gives it the predecessor's admission date. Germany, Yemen and
/// Tanzania are not here: they sat next to the GDR, Democratic Yemen and Zanzibar
/// before the unions, under their own seats.
const SEAT_CONTINUATIONS: [(&str, &str); 3] = [("SUN", "RUS"), ("YUG", "SCG"), ("SCG", "SRB")];

/// Every current country (`countries.csv`) and former state (`former_states.csv`).
pub struct Countries {
    all: Vec<SeedCountry>,
    by_code: HashMap<String, usize>,
}

impl Countries {
    pub fn load() -> Self {
        let mut all = parse(include_str!("../../data/countries/countries.csv"));
        all.extend(parse(include_str!(
            "../../data/countries/former_states.csv"
        )));
        let by_code = all
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        Self { all, by_code }
    }

    pub fn all(&self) -> &[SeedCountry] {
        &self.all
    }

    pub fn get(&self, code: &str) -> Option<&SeedCountry> {
        self.by_code.get(code).map(|&i| &self.all[i])
    }

    /// Who held `code`'s UN seat on `date`: its predecessor before that one ended, its
    /// successor after it ended, else itself. Russia before 25 December 1991 is the
    /// Soviet Union; Yugoslavia after 4 February 2003 is Serbia and Montenegro, and
    /// after 3 June 2006 Serbia.
    pub fn seat_holder<'a>(&'a self, code: &'a str, date: NaiveDate) -> &'a str {
        let ended_by = |code: &str| {
            self.get(code)
                .and_then(|c| c.ended_on)
                .is_some_and(|ended| ended <= date)
        };
        let mut holder = code;
        while let Some((_, successor)) = SEAT_CONTINUATIONS
            .iter()
            .find(|(predecessor, _)| *predecessor == holder && ended_by(holder))
        {
            holder = successor;
        }
        while let Some((predecessor, _)) = SEAT_CONTINUATIONS
            .iter()
            .find(|(predecessor, successor)| *successor == holder && !ended_by(predecessor))
        {
            holder = predecessor;
        }
        holder
    }

    /// The UN members on `date`: admitted, not yet ended, and holding their own seat.
    pub fn members(&self, date: NaiveDate) -> Vec<&SeedCountry> {
        self.all
            .iter()
            .filter(|c| {
                c.un_admission_date.is_some_and(|admitted| admitted <= date)
                    && c.ended_on.is_none_or(|ended| date < ended)
                    && self.seat_holder(&c.code, date) == c.code
            })
            .collect()
    }
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

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_seed_holds_current_and_former_states() {
        let countries = Countries::load();
        assert_eq!(countries.all().len(), 249 + 7);
        assert_eq!(countries.get("NAM").unwrap().iso2, "NA");
        for (predecessor, successor) in SEAT_CONTINUATIONS {
            assert!(countries.get(predecessor).unwrap().ended_on.is_some());
            assert!(countries.get(successor).is_some());
        }
    }

    #[test]
    fn seats_pass_from_state_to_successor() {
        let countries = Countries::load();
        let holder = |code, on| countries.seat_holder(code, date(on));
        assert_eq!(holder("RUS", "1960-01-01"), "SUN");
        assert_eq!(holder("RUS", "1991-12-25"), "RUS");
        assert_eq!(holder("YUG", "2002-12-01"), "YUG");
        assert_eq!(holder("YUG", "2004-12-01"), "SCG");
        assert_eq!(holder("YUG", "2019-12-01"), "SRB");
        assert_eq!(holder("SRB", "1999-01-01"), "YUG");
        assert_eq!(holder("DEU", "1980-01-01"), "DEU");
        assert_eq!(holder("DDR", "1980-01-01"), "DDR");
    }

    #[test]
    fn members_are_those_of_the_day() {
        let countries = Countries::load();
        let codes = |on: &str| -> Vec<String> {
            countries
                .members(date(on))
                .into_iter()
                .map(|c| c.code.clone())
                .collect()
        };
        let in_1950 = codes("1950-07-01");
        assert!(in_1950.contains(&"SUN".into()) && !in_1950.contains(&"RUS".into()));
        assert!(in_1950.contains(&"YUG".into()) && !in_1950.contains(&"DEU".into()));
        let in_1980 = codes("1980-07-01");
        assert!(in_1980.contains(&"DEU".into()) && in_1980.contains(&"DDR".into()));
        assert!(in_1980.contains(&"YEM".into()) && in_1980.contains(&"YMD".into()));
        let in_2004 = codes("2004-07-01");
        assert!(in_2004.contains(&"SCG".into()));
        assert!(!in_2004.contains(&"YUG".into()) && !in_2004.contains(&"SRB".into()));
        assert_eq!(codes("2025-07-01").len(), 193);
    }
}
