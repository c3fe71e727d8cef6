//! Where a clinic export's patients are, for `init` (issue 19): the sheet and the header row,
//! found by where phone-like values are (a register's title above its header, a summary as
//! its first sheet), and the text encoding of a CSV file. Each choice is said aloud by `init`
//! and written into the campaign, where a reviewer sees it.

use std::path::Path;

use encoding_rs::Encoding;

use crate::patients::encoding::{self, EncodingError};
use crate::patients::source::{SourceError, open_file};

/// How many non-blank rows from the top are searched for the first phone number.
const SEARCH_ROWS: usize = 50;
/// How many rows below a header are counted for phone numbers, to rank sheets.
const COUNT_ROWS: usize = 200;

/// Whether a cell's text looks like a phone number: 9 to 15 digits, with at most a leading
/// `+` and the spaces, dashes, dots and brackets people write between them. A count, a date
/// or a name never does.
pub fn phone_like(text: &str) -> bool {
    let text = text.trim();
    let body = text.strip_prefix('+').unwrap_or(text);
    let mut digits = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return false,
        }
    }
    (9..=15).contains(&digits)
}

/// Rows as (row number, cells as text), the header among them: the non-blank row right
/// above the first row with a phone-like cell, and how many phone-like cells the rows below
/// it have in that cell's column. `None` when no row near the top has a phone number below
/// another row.
pub fn header_above_phones(rows: &[(u64, Vec<String>)]) -> Option<(u64, usize)> {
    let (at, column) = rows
        .iter()
        .take(SEARCH_ROWS)
        .enumerate()
        .find_map(|(i, (_, cells))| cells.iter().position(|c| phone_like(c)).map(|col| (i, col)))?;
    let (header, cells) = rows.get(at.checked_sub(1)?)?;
    if cells.get(column).is_none_or(|c| c.trim().is_empty()) {
        // The row above has no name for the column: not a header (a second title line?).
        return None;
    }
    let phones = rows[at..]
        .iter()
        .take(COUNT_ROWS)
        .filter(|(_, cells)| cells.get(column).is_some_and(|c| phone_like(c)))
        .count();
    Some((*header, phones))
}

/// The sheet chosen and where its header is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetChoice {
    pub name: String,
    /// Whether it is the workbook's first sheet.
    pub first: bool,
    /// The header's row number, when it is not the sheet's first non-blank row.
    pub header_row: Option<u32>,
    /// Phone-like values found below the header; 0 when the choice was made without them.
    pub phones: usize,
}

/// The sheet to read (`wanted`, or the one with the most phone numbers below a header, the
/// first of equals), and its header row. Without a phone number anywhere: `wanted`, or the
/// first sheet with a header and a row, header on its first row. `None`: no sheet has two
/// rows.
pub fn pick_sheet(path: &Path, wanted: Option<&str>) -> Result<Option<SheetChoice>, SourceError> {
    use calamine::Reader;
    let mut workbook = crate::patients::source::open_workbook(path)?;
    let names = workbook.sheet_names();
    if let Some(w) = wanted
        && !names.iter().any(|n| n == w)
    {
        return Err(SourceError::NoSheet {
            path: path.to_path_buf(),
            sheet: w.to_owned(),
            available: names,
        });
    }
    let mut best: Option<SheetChoice> = None;
    let mut fallback: Option<SheetChoice> = None;
    for (i, name) in names.iter().enumerate() {
        if wanted.is_some_and(|w| w != name) {
            continue;
        }
        let range = crate::patients::source::sheet_range(&mut workbook, name, path)?;
        let rows = sheet_text(&range);
        if rows.len() < 2 {
            continue;
        }
        let first_row = rows[0].0;
        let found = header_above_phones(&rows);
        let choice = |header: Option<u64>, phones| SheetChoice {
            name: name.clone(),
            first: i == 0,
            header_row: header
                .filter(|&h| h != first_row)
                .and_then(|h| u32::try_from(h).ok()),
            phones,
        };
        match found {
            Some((header, phones)) => {
                if best.as_ref().is_none_or(|b| phones > b.phones) {
                    best = Some(choice(Some(header), phones));
                }
            }
            None => {
                if fallback.is_none() {
                    fallback = Some(choice(None, 0));
                }
            }
        }
    }
    Ok(best.or(fallback))
}

/// A sheet's non-blank rows near the top, as the spreadsheet numbers them, cells as text
/// (whole numbers without a decimal point, as a phone number typed as a number shows).
fn sheet_text(range: &calamine::Range<calamine::Data>) -> Vec<(u64, Vec<String>)> {
    use calamine::Data;
    let first = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let text = cells
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                    other => other.to_string().trim().to_owned(),
                })
                .collect::<Vec<_>>();
            (first + i as u64, text)
        })
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .take(SEARCH_ROWS + COUNT_ROWS)
        .collect()
}

/// A CSV file's header line, when it is not the file's first non-blank line.
pub fn csv_header_row(
    path: &Path,
    delimiter: u8,
    encoding: Option<&'static Encoding>,
) -> Result<Option<u32>, SourceError> {
    let rows =
        crate::patients::csv_file::head(path, delimiter, encoding, SEARCH_ROWS + COUNT_ROWS)?;
    let first = rows.first().map(|(line, _)| *line);
    Ok(header_above_phones(&rows)
        .map(|(line, _)| line)
        .filter(|&line| Some(line) != first)
        .and_then(|line| u32::try_from(line).ok()))
}

/// How a CSV file's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextChoice {
    /// UTF-8, or UTF-16 by its byte-order mark: read as it is, nothing to write.
    AsItIs(&'static Encoding),
    /// Not UTF-8, and the whole file reads in this encoding: `encoding:` must name it.
    Named(&'static Encoding, &'static str),
}

impl TextChoice {
    /// The encoding to read the file in (for the rest of `init`).
    pub fn encoding(self) -> Option<&'static Encoding> {
        match self {
            TextChoice::AsItIs(e) if e == encoding_rs::UTF_8 => None,
            TextChoice::AsItIs(e) | TextChoice::Named(e, _) => Some(e),
        }
    }

    /// The value `encoding:` must have, if any.
    pub fn label(self) -> Option<&'static str> {
        match self {
            TextChoice::AsItIs(_) => None,
            TextChoice::Named(_, label) => Some(label),
        }
    }
}

/// The encoding of a CSV file: as it is when it is UTF-8 (or UTF-16 with its mark), else the
/// one its bytes look like, if the whole file reads in it.
pub fn csv_text(path: &Path) -> Result<TextChoice, SourceError> {
    let refused = |e: &std::io::Error| match EncodingError::of_io(e) {
        Some(enc) => SourceError::Encoding(path.to_path_buf(), enc.clone()),
        None => SourceError::Unreadable(path.to_path_buf(), e.to_string()),
    };
    match encoding::check(open_file(path)?, None) {
        Ok(found) => Ok(TextChoice::AsItIs(found)),
        Err(e) => match EncodingError::of_io(&e) {
            Some(EncodingError::NotUtf8 { likely, .. }) => {
                let label = likely.label();
                let named = encoding::resolve(Some(label))
                    .ok()
                    .flatten()
                    .ok_or_else(|| refused(&e))?;
                encoding::check(open_file(path)?, Some(named)).map_err(|e2| refused(&e2))?;
                Ok(TextChoice::Named(named, label))
            }
            _ => Err(refused(&e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(rows: &[&[&str]]) -> Vec<(u64, Vec<String>)> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 1, r.iter().map(|c| (*c).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn phone_like_values_are_long_runs_of_digits() {
        assert!(phone_like("0803 123 4567"));
        assert!(phone_like("+234-803-123-4567"));
        assert!(phone_like("8031234567"));
        assert!(!phone_like("120"));
        assert!(!phone_like("2027-01-15"));
        assert!(!phone_like("Gwale PHC - ANC Register, January 2027"));
        assert!(!phone_like("1234567890123456"));
    }

    #[test]
    fn the_header_is_the_row_above_the_first_phone_number() {
        // Regression (issue 19): a title row above the header made `init` take the title as
        // the header and write `phone_column: ""`.
        let register = rows(&[
            &["Gwale PHC - ANC Register, January 2027", "", ""],
            &["name", "phone", "next_visit"],
            &["Amina", "08031234567", "2027-01-20"],
            &["Bola", "08051234567", "2027-01-21"],
        ]);
        assert_eq!(header_above_phones(&register), Some((2, 2)));
        let summary = rows(&[&["clinic", "patients"], &["Gwale", "120"]]);
        assert_eq!(header_above_phones(&summary), None);
        // A phone number on the first row has no header above it.
        assert_eq!(header_above_phones(&rows(&[&["08031234567"]])), None);
        // Nor does one under a row that leaves its column unnamed.
        let untitled = rows(&[&["Register", ""], &["Amina", "08031234567"]]);
        assert_eq!(header_above_phones(&untitled), None);
    }
}
