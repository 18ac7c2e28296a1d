//! Strict query-string parsing. Every parameter is named, typed and checked; an
//! unknown or repeated parameter, or a value out of its domain, is a 400 that names
//! the parameter and says what is allowed. All problems are reported at once.

use std::collections::HashSet;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::NaiveDate;

use crate::error::{AppError, FieldError};

/// The raw query string, parsed into pairs; consumed with [`Params::one`] and friends
/// and closed with [`Params::finish`].
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    known: HashSet<&'static str>,
    errors: Vec<FieldError>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_query(parts.uri.query().unwrap_or("")))
    }
}

pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Values a list parameter may hold (`country=FRA,DEU,…`), repeats included.
pub const MAX_LIST_VALUES: usize = 100;

/// Characters one parameter value may hold.
pub const MAX_VALUE_CHARS: usize = 200;

/// Characters an opaque token this API issued (a cursor) may hold: a cursor carries
/// a sort key, which may be a long title.
pub const MAX_TOKEN_CHARS: usize = 2048;

/// A type a query parameter can hold.
pub trait ParamValue: Sized {
    fn parse_param(value: &str) -> Result<Self, String>;
}

impl ParamValue for String {
    fn parse_param(value: &str) -> Result<Self, String> {
        if value.trim().is_empty() {
            Err("must not be empty".to_owned())
        } else if value.contains('\0') {
            // PostgreSQL text cannot hold it: a 500 otherwise.
            Err(NUL_MESSAGE.to_owned())
        } else {
            Ok(value.to_owned())
        }
    }
}

impl ParamValue for NaiveDate {
    fn parse_param(value: &str) -> Result<Self, String> {
        crate::domain::parse_date(value)
            .ok_or_else(|| format!("{value:?} is not a date in the form YYYY-MM-DD"))
    }
}

impl ParamValue for bool {
    fn parse_param(value: &str) -> Result<Self, String> {
        match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{value:?} is not one of: true, false")),
        }
    }
}

impl ParamValue for crate::domain::CountryCode {
    fn parse_param(value: &str) -> Result<Self, String> {
        Self::parse(value)
    }
}

impl ParamValue for crate::domain::Slug {
    fn parse_param(value: &str) -> Result<Self, String> {
        Self::parse(value)
    }
}

/// The domain vocabularies: an unknown value lists the allowed ones.
macro_rules! vocabulary_params {
    ($($ty:ty),+) => {$(
        impl ParamValue for $ty {
            fn parse_param(value: &str) -> Result<Self, String> {
                <$ty>::from_str(value).map_err(|_| {
                    format!("{value:?} is not one of: {}",
                        <$ty as strum::VariantNames>::VARIANTS.join(", "))
                })
            }
        }
    )+};
}
vocabulary_params!(
    crate::domain::Stance,
    crate::domain::StatementKind,
    crate::domain::Role,
    crate::domain::EffectiveStance
);

/// A parameter limited to a fixed set of words, e.g. `sort` or `format`.
pub trait Choice: Sized + Copy + PartialEq + 'static {
    const CHOICES: &'static [(&'static str, Self)];

    /// The word a client writes for this choice.
    fn name(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(_, choice)| *choice == self)
            .expect("every choice has a name")
            .0
    }
}

impl Params {
    pub fn from_query(query: &str) -> Self {
        let pairs = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            pairs,
            ..Self::default()
        }
    }

    fn values(&mut self, name: &'static str) -> Vec<String> {
        self.known.insert(name);
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `value` parsed as a `T`, or the problem reported; a value longer than
    /// [`MAX_VALUE_CHARS`] is not parsed at all.
    fn parse<T: ParamValue>(&mut self, name: &'static str, value: &str) -> Option<T> {
        self.parse_within(name, value, MAX_VALUE_CHARS)
    }

    fn parse_within<T: ParamValue>(
        &mut self,
        name: &'static str,
        value: &str,
        max_chars: usize,
    ) -> Option<T> {
        if value.chars().count() > max_chars {
            self.error(name, format!("is longer than {max_chars} characters"));
            return None;
        }
        T::parse_param(value)
            .map_err(|message| self.error(name, message))
            .ok()
    }

    fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(name, message));
    }

    /// An optional parameter given at most once.
    pub fn one<T: ParamValue>(&mut self, name: &'static str) -> Option<T> {
        let values = self.values(name);
        match values.as_slice() {
            [] => None,
            [value] => self.parse(name, value),
            _ => {
                self.error(name, "may be given only once");
                None
            }
        }
    }

    /// An opaque token this API issued (a cursor), given at most once.
    pub fn token(&mut self, name: &'static str) -> Option<String> {
        let values = self.values(name);
        match values.as_slice() {
            [] => None,
            [value] => self.parse_within(name, value, MAX_TOKEN_CHARS),
            _ => {
                self.error(name, "may be given only once");
                None
            }
        }
    }

    /// A parameter that may be repeated (`?country=FRA&country=DEU`); commas also
    /// separate. At most [`MAX_LIST_VALUES`] values, checked before any is parsed.
    pub fn many<T: ParamValue>(&mut self, name: &'static str) -> Vec<T> {
        let values = self.values(name);
        let parts: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect();
        if parts.len() > MAX_LIST_VALUES {
            self.error(
                name,
                format!(
                    "lists {} values; at most {MAX_LIST_VALUES} are allowed",
                    parts.len()
                ),
            );
            return Vec::new();
        }
        parts
            .into_iter()
            .filter_map(|part| self.parse(name, part.trim()))
            .collect()
    }

    /// One word out of a fixed set, with a default.
    pub fn choice<T: Choice>(&mut self, name: &'static str, default: T) -> T {
        let values = self.values(name);
        match values.as_slice() {
            [] => default,
            [value] => match T::CHOICES.iter().find(|(word, _)| word == value) {
                Some((_, choice)) => *choice,
                None => {
                    let allowed: Vec<&str> = T::CHOICES.iter().map(|(word, _)| *word).collect();
                    self.error(
                        name,
                        format!("{value:?} is not one of: {}", allowed.join(", ")),
                    );
                    default
                }
            },
            _ => {
                self.error(name, "may be given only once");
                default
            }
        }
    }

    /// A whole number within `min..=max`.
    pub fn bounded(&mut self, name: &'static str, default: u32, min: u32, max: u32) -> u32 {
        let values = self.values(name);
        match values.as_slice() {
            [] => default,
            [value] => match value.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.error(name, format!("must be a whole number from {min} to {max}"));
                    default
                }
            },
            _ => {
                self.error(name, "may be given only once");
                default
            }
        }
    }

    /// `from` and `to`, inclusive ISO dates, in order.
    pub fn date_range(&mut self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let from = self.one::<NaiveDate>("from");
        let to = self.one::<NaiveDate>("to");
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            self.error("to", format!("{to} is before from ({from})"));
        }
        (from, to)
    }

    /// Records a problem found while interpreting the parameters.
    pub fn reject(&mut self, name: &str, message: impl Into<String>) {
        self.error(name, message);
    }

    /// Fails with every problem found, unknown parameters included.
    pub fn finish(mut self) -> Result<(), AppError> {
        let mut unknown: Vec<String> = self
            .pairs
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| !self.known.contains(k.as_str()))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            let mut allowed: Vec<&str> = self.known.iter().copied().collect();
            allowed.sort_unstable();
            let message = if allowed.is_empty() {
                "is not a parameter of this resource, which takes none".to_owned()
            } else {
                format!(
                    "is not a parameter of this resource; known: {}",
                    allowed.join(", ")
                )
            };
            for name in unknown {
                self.error(&name, message.clone());
            }
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            // Enough to say what is wrong, however many values a client sent.
            self.errors.truncate(MAX_LIST_VALUES);
            Err(AppError::BadRequest(self.errors))
        }
    }
}
