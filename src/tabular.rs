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

/// The column names of a CSV of `R` rows, as its header line gives them.
pub fn csv_columns<R: Serialize + Default>() -> Vec<String> {
    let header = csv_header::<R>();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header.as_slice());
    reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: &[u8] = b"=+-@\t\r";

/// One CSV record (as the `csv` writer writes it) with every field that begins like a
/// formula prefixed with an apostrophe, inside its quotes if it has them, so that a
/// spreadsheet shows it as text rather than running it (OWASP's advice on CSV
/// injection). No field of ours is a negative number, so no number is changed.
pub fn neutralise_formulas(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 2);
    let (mut field_start, mut quoted) = (true, false);
    let mut bytes = record.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        if field_start {
            field_start = false;
            if byte == b'"' {
                out.push(byte);
                quoted = true;
                if bytes
                    .peek()
                    .is_some_and(|next| FORMULA_STARTS.contains(next))
                {
                    out.push(b'\'');
                }
                continue;
            }
            if FORMULA_STARTS.contains(&byte) {
                out.push(b'\'');
            }
        }
        out.push(byte);
        match (quoted, byte) {
            // A doubled quote inside quotes is a quote, not the field's end.
            (true, b'"') if bytes.peek() == Some(&b'"') => {
                out.push(bytes.next().expect("peeked"));
            }
            (true, b'"') => quoted = false,
            (false, b',' | b'\n') => field_start = true,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neutralised(record: &str) -> String {
        String::from_utf8(neutralise_formulas(record.as_bytes())).unwrap()
    }

    #[test]
    fn cells_that_begin_like_formulas_are_prefixed_and_others_left_alone() {
        assert_eq!(
            neutralised("=SUM(A1),+1,-x,@me,plain,2019-07-08,12\n"),
            "'=SUM(A1),'+1,'-x,'@me,plain,2019-07-08,12\n"
        );
        assert_eq!(
            neutralised("\"=HYPERLINK(\"\"http://x\"\"),\"\"y\"\"\",\"a, b\",\"\tTab\"\n"),
            "\"'=HYPERLINK(\"\"http://x\"\"),\"\"y\"\"\",\"a, b\",\"'\tTab\"\n"
        );
        assert_eq!(neutralised("a,,=b\n"), "a,,'=b\n");
        assert_eq!(neutralised("\"line\nbreak\",-1\n"), "\"line\nbreak\",'-1\n");
    }
}
