//! The domain's vocabulary, parsed at the edge: handlers never see unchecked strings.

use serde::{Deserialize, Serialize};

/// Enums shared by the database (PostgreSQL enum types), JSON and query parameters.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident = $pg:literal { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type,
                 strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        #[sqlx(type_name = $pg, rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

vocabulary! {
    /// What kind of text or vote a statement is.
    StatementKind = "statement_kind" { JointLetter, JointStatement, RecordedVote, Resolution }
}

vocabulary! {
    /// A statement's stance toward its topic; for a recorded vote, the stance of a yes vote.
    Stance = "stance" { Critical, Supportive, Neutral }
}

vocabulary! {
    /// How a country took part in a statement.
    Role = "signature_role" { Signatory, Lead, VoteYes, VoteNo, VoteAbstain }
}

vocabulary! {
    /// Where a country's participation leaves it, derived in SQL by `effective_stance()`.
    EffectiveStance = "effective_stance" { Critical, Supportive, Neutral, Abstain, Withdrawn, Yes, No }
}

impl StatementKind {
    /// Votes take vote roles; letters and statements take signatory and lead.
    pub fn is_vote(self) -> bool {
        matches!(self, Self::RecordedVote | Self::Resolution)
    }
}

impl Role {
    pub fn is_vote(self) -> bool {
        matches!(self, Self::VoteYes | Self::VoteNo | Self::VoteAbstain)
    }
}

/// A country code as a client writes it: ISO alpha-3 or alpha-2, any case.
/// Which country it names is resolved against the database (`code` or `iso2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(input: &str) -> Result<Self, String> {
        let code = input.trim();
        if (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(code.to_ascii_uppercase()))
        } else {
            Err(format!(
                "{input:?} is not an ISO 3166-1 alpha-3 or alpha-2 country code"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A statement id or topic slug: lowercase words joined by hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Self, String> {
        let valid = !input.is_empty()
            && input.len() <= 120
            && input.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(format!(
                "{input:?} is not a slug (lowercase letters and digits joined by hyphens)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date written exactly `YYYY-MM-DD` (RFC 3339 `full-date`, the contract's
/// `format: date`). chrono alone also takes `2019-7-8`, `+2019-07-08` or a leading
/// space, which the contract rejects.
pub fn parse_date(value: &str) -> Option<chrono::NaiveDate> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_normalised() {
        assert_eq!(CountryCode::parse("fr").unwrap().as_str(), "FR");
        assert_eq!(CountryCode::parse(" chn ").unwrap().as_str(), "CHN");
        assert!(CountryCode::parse("FRAN").is_err());
        assert!(CountryCode::parse("F1").is_err());
    }

    #[test]
    fn vocabulary_round_trips_through_its_names() {
        assert_eq!("vote_abstain".parse::<Role>().unwrap(), Role::VoteAbstain);
        assert_eq!(Role::VoteAbstain.as_str(), "vote_abstain");
        assert!("hostile".parse::<Stance>().is_err());
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert_eq!(
            parse_date("2019-07-08"),
            chrono::NaiveDate::from_ymd_opt(2019, 7, 8)
        );
        for loose in [
            "2019-7-8",
            "2019-07-8",
            " 2019-07-08",
            "+2019-07-08",
            "2019-02-30",
            "",
        ] {
            assert_eq!(parse_date(loose), None, "{loose:?}");
        }
    }

    #[test]
    fn slugs_are_checked() {
        assert!(Slug::parse("hrc41-letter-critical-2019-07-08").is_ok());
        assert!(Slug::parse("Not-A-Slug").is_err());
        assert!(Slug::parse("double--hyphen").is_err());
    }
}
