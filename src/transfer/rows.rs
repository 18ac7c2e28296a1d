//! The rows of the import/export files. Every field is text, as in CSV; empty means
//! none. NDJSON accepts strings, numbers, booleans or null for any field.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Reads any JSON scalar (or a CSV field) as text; null and absent become "".
/// A visitor rather than an untagged enum, which would buffer every field of every
/// row before looking at it.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Text;

    impl Visitor<'_> for Text {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("text, a number, true, false or null")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }

        fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
            Ok(value)
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_none<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }

    deserializer.deserialize_any(Text)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountryRow {
    #[serde(alias = "iso3", deserialize_with = "text")]
    pub code: String,
    #[serde(default, deserialize_with = "text")]
    pub iso2: String,
    #[serde(default, alias = "numeric_code", deserialize_with = "text")]
    pub numeric: String,
    #[serde(default, deserialize_with = "text")]
    pub iso3166_3: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub official_name: String,
    #[serde(default, deserialize_with = "text")]
    pub common_name: String,
    #[serde(default, deserialize_with = "text")]
    pub region: String,
    #[serde(default, deserialize_with = "text")]
    pub subregion: String,
    #[serde(default, deserialize_with = "text")]
    pub intermediate_region: String,
    #[serde(default, deserialize_with = "text")]
    pub un_member: String,
    #[serde(default, deserialize_with = "text")]
    pub un_observer: String,
    #[serde(default, deserialize_with = "text")]
    pub un_admission_date: String,
    #[serde(default, deserialize_with = "text")]
    pub ended_on: String,
    #[serde(default, deserialize_with = "text")]
    pub successor_code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicRow {
    #[serde(deserialize_with = "text")]
    pub slug: String,
    #[serde(deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementRow {
    #[serde(deserialize_with = "text")]
    pub slug: String,
    #[serde(deserialize_with = "text")]
    pub title: String,
    #[serde(deserialize_with = "text")]
    pub kind: String,
    #[serde(deserialize_with = "text")]
    pub forum: String,
    #[serde(default, deserialize_with = "text")]
    pub session: String,
    #[serde(deserialize_with = "text")]
    pub date: String,
    #[serde(default, deserialize_with = "text")]
    pub un_symbol: String,
    #[serde(default, deserialize_with = "text")]
    pub stance: String,
    #[serde(default, deserialize_with = "text")]
    pub lead_country: String,
    #[serde(default, deserialize_with = "text")]
    pub reported_count: String,
    #[serde(default, deserialize_with = "text")]
    pub list_complete: String,
    /// Space-separated; the first is the main source. Used when there is no sources file.
    #[serde(default, deserialize_with = "text")]
    pub source_urls: String,
    #[serde(default, deserialize_with = "text")]
    pub notes: String,
    #[serde(default, deserialize_with = "text")]
    pub summary: String,
    /// Space-separated topic slugs; absent means the import's `--topic`.
    #[serde(default, deserialize_with = "text")]
    pub topics: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignatoryRow {
    #[serde(deserialize_with = "text")]
    pub statement_slug: String,
    #[serde(alias = "country", alias = "country_code", deserialize_with = "text")]
    pub country_iso3: String,
    /// For readers of the file; the import goes by the code.
    #[serde(default, deserialize_with = "text")]
    pub country_name: String,
    #[serde(deserialize_with = "text")]
    pub role: String,
    #[serde(default, deserialize_with = "text")]
    pub joined_on: String,
    #[serde(default, deserialize_with = "text")]
    pub withdrawn_on: String,
    #[serde(default, deserialize_with = "text")]
    pub source_url: String,
    #[serde(default, deserialize_with = "text")]
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    #[serde(deserialize_with = "text")]
    pub statement_slug: String,
    #[serde(deserialize_with = "text")]
    pub url: String,
    #[serde(default, deserialize_with = "text")]
    pub title: String,
    #[serde(default, deserialize_with = "text")]
    pub publisher: String,
    #[serde(default, deserialize_with = "text")]
    pub accessed_on: String,
}
