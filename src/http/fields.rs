//! Sparse fieldsets: `fields=a,b` keeps only those top-level fields of each item (each
//! item of a list, or the one resource), in the order asked; an envelope such as `page`
//! stays whole. A CSV answer selects and orders its columns the same way, by column
//! name. Without `fields` an item serialises straight through; only a selection goes
//! through `serde_json::Value`.

use std::collections::HashSet;

use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::listing::Format;
use super::params::Params;

/// A kind of item the API shows, with its top-level fields as `fields=` names them.
pub trait Item: Serialize {
    const FIELDS: &'static [&'static str];
}

/// The fields of an item that flattens another: the other's `a`, then its own `b`;
/// `N` is their number, checked as the constant is evaluated.
pub const fn flattened<const N: usize>(
    a: &[&'static str],
    b: &[&'static str],
) -> [&'static str; N] {
    assert!(a.len() + b.len() == N, "N counts the fields of both");
    let mut fields = [""; N];
    let mut i = 0;
    while i < N {
        fields[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    fields
}

/// The names a request selected, in its order: fields of a JSON item, or CSV columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields(Vec<String>);

impl Fields {
    /// `fields=` of a JSON answer whose items are `T`.
    pub fn json<T: Item>(params: &mut Params) -> Option<Self> {
        Self::parse(params, "field", || {
            T::FIELDS.iter().map(|&name| name.to_owned()).collect()
        })
    }

    /// `fields=` of an answer in `format`: fields of `T` for JSON, columns of the CSV
    /// rows `C` for CSV.
    pub fn negotiated<T: Item, C: Serialize + Default>(
        params: &mut Params,
        format: Format,
    ) -> Option<Self> {
        match format {
            Format::Json => Self::json::<T>(params),
            Format::Csv => Self::parse(params, "CSV column", crate::tabular::csv_columns::<C>),
        }
    }

    /// Names out of `allowed` (listed only when `fields` is given), each at most once.
    fn parse(
        params: &mut Params,
        kind: &str,
        allowed: impl FnOnce() -> Vec<String>,
    ) -> Option<Self> {
        let names = params.many::<String>("fields");
        if names.is_empty() {
            // Absent, or refused already (an empty name).
            return None;
        }
        let allowed = allowed();
        let unknown: Vec<String> = names
            .iter()
            .filter(|name| !allowed.contains(name))
            .map(|name| format!("{name:?}"))
            .collect();
        if !unknown.is_empty() {
            params.reject(
                "fields",
                format!(
                    "names no such {kind}: {}; the {kind}s are: {}",
                    unknown.join(", "),
                    allowed.join(", ")
                ),
            );
        }
        let mut seen = HashSet::new();
        let repeated: Vec<String> = names
            .iter()
            .filter(|name| !seen.insert(name.as_str()))
            .map(|name| format!("{name:?}"))
            .collect();
        if !repeated.is_empty() {
            params.reject(
                "fields",
                format!("names {} more than once", repeated.join(", ")),
            );
        }
        (unknown.is_empty() && repeated.is_empty()).then_some(Self(names))
    }

    /// The selected values of `item`, in the selection's order.
    pub fn select<T: Serialize>(&self, item: &T) -> serde_json::Result<Vec<Value>> {
        let mut whole = match serde_json::to_value(item)? {
            Value::Object(fields) => fields,
            _ => return Err(serde_json::Error::custom("an item is a JSON object")),
        };
        Ok(self
            .0
            .iter()
            .map(|name| whole.remove(name).unwrap_or(Value::Null))
            .collect())
    }

    /// The header line of a CSV of the selected columns.
    pub fn csv_header(&self) -> Vec<u8> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.0).expect("an in-memory writer");
        writer.into_inner().expect("an in-memory writer")
    }
}

/// An item serialised whole, or with only the selected fields.
pub struct Sparse<'a, T: ?Sized> {
    fields: Option<&'a Fields>,
    item: &'a T,
}

impl<'a, T: ?Sized> Sparse<'a, T> {
    pub fn new(fields: Option<&'a Fields>, item: &'a T) -> Self {
        Self { fields, item }
    }
}

impl<T: Serialize> Serialize for Sparse<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(fields) = self.fields else {
            return self.item.serialize(serializer);
        };
        let values = fields.select(self.item).map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(Some(values.len()))?;
        for (name, value) in fields.0.iter().zip(&values) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Items of a list, each serialised as [`Sparse`].
impl<T: Serialize> Serialize for Sparse<'_, [T]> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.item.iter().map(|item| Sparse::new(self.fields, item)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Thing {
        id: u32,
        name: &'static str,
        note: Option<&'static str>,
    }

    impl Item for Thing {
        const FIELDS: &'static [&'static str] = &["id", "name", "note"];
    }

    fn parsed(query: &str) -> Result<Option<Fields>, crate::error::AppError> {
        let mut params = Params::from_query(query);
        let fields = Fields::json::<Thing>(&mut params);
        params.finish().map(|()| fields)
    }

    fn problem(query: &str) -> String {
        match parsed(query) {
            Err(crate::error::AppError::BadRequest(errors)) => {
                assert!(errors.iter().all(|e| e.field == "fields"), "{errors:?}");
                errors
                    .iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            other => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn a_selection_keeps_its_fields_in_the_order_asked() {
        let fields = parsed("fields=note,id").unwrap();
        let thing = Thing {
            id: 7,
            name: "seven",
            note: None,
        };
        let json = serde_json::to_string(&Sparse::new(fields.as_ref(), &thing)).unwrap();
        assert_eq!(json, r#"{"note":null,"id":7}"#);
        let whole = serde_json::to_string(&Sparse::new(None, &thing)).unwrap();
        assert_eq!(whole, r#"{"id":7,"name":"seven","note":null}"#);
        let list = serde_json::to_string(&Sparse::new(fields.as_ref(), &[thing][..])).unwrap();
        assert_eq!(list, r#"[{"note":null,"id":7}]"#);
    }

    #[test]
    fn unknown_repeated_and_empty_names_are_refused() {
        assert_eq!(parsed("").unwrap(), None);
        let unknown = problem("fields=id,colour,size");
        assert!(unknown.contains(r#""colour", "size""#), "{unknown}");
        assert!(
            unknown.contains("the fields are: id, name, note"),
            "{unknown}"
        );
        assert!(problem("fields=id,id").contains(r#"names "id" more than once"#));
        assert!(problem("fields=").contains("must not be empty"));
        assert!(problem("fields=id,,name").contains("must not be empty"));
    }
}
