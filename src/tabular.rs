//! CSV helpers shared by the HTTP exports and the admin export.

use serde::Serialize;

/// The header line of a CSV of `R` rows, also when there are no rows to infer it from.
pub fn csv_header<R: Serialize + Default>() -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .serialize(R::default())
        .expect("a CSV row type serialises");
    let bytes = writer.into_inner().expect("an in-memory writer");
    let end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    bytes[..end].to_vec()
}
