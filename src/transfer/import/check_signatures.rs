//! Checking the signatories file's rows one at a time, as they are read: each refers
//! to a statement and a country in the other files or stored, and a country is listed
//! at most once per statement, wherever in the file its rows are.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::check::{Known, collect, date, optional};
use crate::domain::Role;
use crate::transfer::rows::SignatoryRow;
use crate::validation::{Checker, check_participation};

/// A signature as staged (`import_signature` in staging.sql) or copied into
/// `signature`, same column order.
#[derive(Debug, Serialize)]
pub(super) struct Signature {
    pub(super) statement_id: String,
    pub(super) country_code: String,
    pub(super) role: Role,
    pub(super) joined_on: Option<NaiveDate>,
    pub(super) withdrawn_on: Option<NaiveDate>,
    pub(super) source_url: Option<String>,
    pub(super) note: String,
    /// The statement's date, which the signature keeps a copy of.
    issued_on: NaiveDate,
    /// The statement's place among the known ones in id order.
    #[serde(skip)]
    pub(super) statement: usize,
}

/// Checks signatories rows against what is known, remembering which countries each
/// statement has listed so far (a bit per known statement and country).
pub(super) struct SignatureCheck<'k> {
    known: &'k Known,
    statements: HashMap<&'k str, usize>,
    countries: HashMap<&'k str, usize>,
    /// Words of `listed` per statement.
    words: usize,
    listed: Vec<u64>,
}

impl<'k> SignatureCheck<'k> {
    pub(super) fn new(known: &'k Known) -> Self {
        let mut ids: Vec<&str> = known.statements.keys().map(String::as_str).collect();
        ids.sort_unstable();
        let statements: HashMap<&str, usize> = ids.into_iter().zip(0..).collect();
        let countries: HashMap<&str, usize> = known
            .countries
            .iter()
            .map(String::as_str)
            .zip(0..)
            .collect();
        let words = countries.len().div_ceil(64);
        Self {
            known,
            listed: vec![0; statements.len() * words],
            statements,
            countries,
            words,
        }
    }

    /// The row as a signature, its problems added to `problems` (as
    /// `file:line: field: message`); `None` when it is too broken to be one.
    pub(super) fn check(
        &mut self,
        file: &str,
        line: u64,
        row: SignatoryRow,
        problems: &mut Vec<String>,
    ) -> Option<Signature> {
        let mut check = Checker::new();
        let statement = self.statements.get(row.statement_slug.as_str()).copied();
        if statement.is_none() {
            check.error(
                "statement_slug",
                format!(
                    "{:?} is neither in the statements file nor stored",
                    row.statement_slug
                ),
            );
        }
        let country = self.countries.get(row.country_iso3.as_str()).copied();
        if country.is_none() {
            check.error(
                "country_iso3",
                format!("{:?} is not a known country code", row.country_iso3),
            );
        }
        if let (Some(statement), Some(country)) = (statement, country)
            && !self.list(statement, country)
        {
            check.error(
                "country_iso3",
                format!(
                    "{} appears twice for {}",
                    row.country_iso3, row.statement_slug
                ),
            );
        }
        let dated = self.known.statements.get(&row.statement_slug).copied();
        let role: Option<Role> = check.vocabulary("role", Some(&row.role));
        let joined_on = date(&mut check, "joined_on", &row.joined_on);
        let withdrawn_on = date(&mut check, "withdrawn_on", &row.withdrawn_on);
        check_participation(
            &mut check,
            str::to_owned,
            role,
            joined_on,
            withdrawn_on,
            dated,
        );
        let source_url = check.url("source_url", optional(&row.source_url));
        collect(problems, file, line, check);
        let (Some(role), Some(statement), Some((_, issued_on))) = (role, statement, dated) else {
            return None;
        };
        Some(Signature {
            statement_id: row.statement_slug,
            country_code: row.country_iso3,
            role,
            joined_on,
            withdrawn_on,
            source_url,
            note: row.note,
            issued_on,
            statement,
        })
    }

    /// Notes that `country` is listed for `statement`; `false` if it already was.
    fn list(&mut self, statement: usize, country: usize) -> bool {
        let word = &mut self.listed[statement * self.words + country / 64];
        let bit = 1 << (country % 64);
        let new = *word & bit == 0;
        *word |= bit;
        new
    }
}
