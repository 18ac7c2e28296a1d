//! Checking input field by field (request bodies, import rows), collecting every
//! problem so that it can all be fixed in one round.

use std::str::FromStr;

use chrono::NaiveDate;

use crate::domain::{Role, StatementKind};
use crate::error::{AppError, FieldError};

/// Words that name API paths beside statement ids (`/v1/statements/compare`), so no
/// statement may take them; the database refuses them too (`statement_id_not_reserved`).
const RESERVED_STATEMENT_IDS: [&str; 1] = ["compare"];

#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// The problems recorded, for callers that report them their own way.
    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// Fails with every problem recorded.
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Unprocessable(self.errors))
        }
    }

    pub fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            self.error(field, "is required");
        }
        value
    }

    /// Text of at most `max` characters, not blank.
    pub fn text(&mut self, field: &str, value: Option<String>, max: usize) -> Option<String> {
        let value = value?;
        if value.trim().is_empty() {
            self.error(field, "must not be blank");
            None
        } else if value.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
            None
        } else {
            Some(value)
        }
    }

    /// Optional free text; absent means empty.
    pub fn free_text(&mut self, field: &str, value: Option<String>, max: usize) -> String {
        let value = value.unwrap_or_default();
        if value.chars().count() > max {
            self.error(field, format!("must be at most {max} characters"));
        }
        value
    }

    pub fn date(&mut self, field: &str, value: Option<&str>) -> Option<NaiveDate> {
        let value = value?;
        match crate::domain::parse_date(value) {
            Some(date) => Some(date),
            None => {
                self.error(
                    field,
                    format!("{value:?} is not a date in the form YYYY-MM-DD"),
                );
                None
            }
        }
    }

    /// A word of one of the domain's vocabularies.
    pub fn vocabulary<T: FromStr + strum::VariantNames>(
        &mut self,
        field: &str,
        value: Option<&str>,
    ) -> Option<T> {
        let value = value?;
        match T::from_str(value) {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                self.error(
                    field,
                    format!("{value:?} is not one of: {}", T::VARIANTS.join(", ")),
                );
                None
            }
        }
    }

    /// An absolute http(s) URL, as `UrlInput` in openapi.yaml defines it.
    pub fn url(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let value = value?;
        if is_http_url(&value) {
            Some(value)
        } else {
            self.error(field, format!("{value:?} is not an http(s) URL"));
            None
        }
    }

    /// A country code of exactly `len` upper-case letters, or `len` digits when
    /// `digits` (ISO 3166-1 numeric).
    pub fn code(
        &mut self,
        field: &str,
        value: Option<String>,
        len: usize,
        digits: bool,
    ) -> Option<String> {
        let value = value?;
        let fits = value.len() == len
            && value.chars().all(|c| {
                if digits {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_uppercase()
                }
            });
        if !fits {
            let kind = if digits {
                "digits"
            } else {
                "upper-case letters"
            };
            self.error(field, format!("{value:?} is not {len} {kind}"));
        }
        fits.then_some(value)
    }

    /// A slug of at most `max` characters: lowercase letters and digits joined by hyphens.
    pub fn slug(&mut self, field: &str, value: Option<String>, max: usize) -> Option<String> {
        let value = value?;
        match crate::domain::Slug::parse(&value) {
            Ok(_) if value.len() <= max => Some(value),
            Ok(_) => {
                self.error(field, format!("must be at most {max} characters"));
                None
            }
            Err(message) => {
                self.error(field, message);
                None
            }
        }
    }
    /// A statement id: a slug of at most 120 characters that no API path uses.
    pub fn statement_id(&mut self, field: &str, value: Option<String>) -> Option<String> {
        let id = self.slug(field, value, 120)?;
        if RESERVED_STATEMENT_IDS.contains(&id.as_str()) {
            self.error(
                field,
                format!("{id:?} is reserved for an API path; choose another id"),
            );
            return None;
        }
        Some(id)
    }
}

/// The contract's URL, exactly its pattern
/// `^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?([/?#][!-~]*)?$`, at most
/// 2000 bytes: a lower-case scheme (as the database's check has it), a host name of
/// ASCII labels, an optional port, then printable ASCII. One grammar that a JSON
/// Schema states and this code checks, where a full URL parser would accept or refuse
/// hosts (IDNA, IPv4 forms) in ways no pattern can describe.
fn is_http_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
    else {
        return false;
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let label =
        |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    value.len() <= 2000
        && host.split('.').all(label)
        && port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        && tail.bytes().all(|b| b.is_ascii_graphic())
}

/// The rules a participation must keep with its statement, which the database also
/// enforces: withdrawn after joined, neither before the statement's date, and a role
/// that fits the statement's kind. `field` names a field as the caller reports it.
pub fn check_participation(
    check: &mut Checker,
    field: impl Fn(&str) -> String,
    role: Option<Role>,
    joined_on: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
    statement: Option<(StatementKind, NaiveDate)>,
) {
    if let (Some(joined), Some(withdrawn)) = (joined_on, withdrawn_on)
        && withdrawn < joined
    {
        check.error(
            field("withdrawn_on"),
            format!("{withdrawn} is before joined_on ({joined})"),
        );
    }
    let Some((kind, issued_on)) = statement else {
        return;
    };
    for (name, date) in [("joined_on", joined_on), ("withdrawn_on", withdrawn_on)] {
        if let Some(date) = date.filter(|d| *d < issued_on) {
            check.error(
                field(name),
                format!("{date} is before the statement's date ({issued_on})"),
            );
        }
    }
    if let Some(role) = role
        && role.is_vote() != kind.is_vote()
    {
        check.error(
            field("role"),
            if kind.is_vote() {
                "a vote takes vote_yes, vote_no or vote_abstain"
            } else {
                "a letter or statement takes signatory or lead"
            },
        );
    }
}

/// A slug made from a title, e.g. for a statement posted without an id.
pub fn slugify(text: &str, max_len: usize) -> String {
    let mut slug = String::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if slug.len() + word.len() + 1 > max_len {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_slugs() {
        assert_eq!(
            slugify("Joint letter of 22 states: Xinjiang (HRC41)", 40),
            "joint-letter-of-22-states-xinjiang-hrc41"
        );
        assert_eq!(slugify("Déclaration commune", 60), "d-claration-commune");
        assert_eq!(slugify("a very long title indeed", 10), "a-very");
    }

    #[test]
    fn urls_follow_the_contracts_pattern() {
        for good in [
            "https://www.gov.uk/government/speeches/x?y=1#z",
            "http://example.org",
            "https://example.org:8443/a%20b",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "ftp://example.org",
            "HTTPS://example.org",
            "https://",
            "https://#",
            "https://:80",
            "https://a..b",
            "https://example.org:",
            "https://user@example.org",
            "https://d\u{e9}claration.fr",
            "https://\u{81}+x",
            "https://example.org/a b",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn codes_are_letters_or_digits_of_one_length() {
        let mut checker = Checker::new();
        assert_eq!(
            checker
                .code("code", Some("FRA".into()), 3, false)
                .as_deref(),
            Some("FRA")
        );
        assert_eq!(
            checker
                .code("numeric_code", Some("004".into()), 3, true)
                .as_deref(),
            Some("004")
        );
        assert_eq!(checker.code("iso2", None, 2, false), None);
        assert_eq!(checker.code("code", Some("fra".into()), 3, false), None);
        assert_eq!(
            checker.code("numeric_code", Some("4".into()), 3, true),
            None
        );
        let messages: Vec<String> = checker
            .into_errors()
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(
            messages,
            [
                "\"fra\" is not 3 upper-case letters",
                "\"4\" is not 3 digits"
            ]
        );
    }

    #[test]
    fn every_problem_is_collected() {
        let mut checker = Checker::new();
        checker.text("title", Some("  ".into()), 10);
        checker.date("issued_on", Some("2019-02-30"));
        checker.url("source_url", Some("ftp://x".into()));
        checker.required::<String>("kind", None);
        let AppError::Unprocessable(errors) = checker.finish().unwrap_err() else {
            panic!()
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "issued_on", "source_url", "kind"]);
    }
}
