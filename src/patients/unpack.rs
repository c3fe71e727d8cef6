//! What a spreadsheet unpacks to, bounded before calamine reads it (issue 14, class 15):
//!
//! - every part of its zip is inflated once and counted, the sizes the zip declares summed
//!   first: a zip bomb declares gigabytes, and a part that declares less than it inflates to
//!   is refused when it passes its declared size (the zip reader stops there, and calamine
//!   reads the same parts with the same reader);
//! - an ODS file's cells are counted from its `content.xml`, streamed: calamine reads every
//!   sheet whole when it opens the file and repeats cells and rows
//!   (`table:number-columns-repeated`, `table:number-rows-repeated`) up to 100 million
//!   cells, gigabytes, so a few kilobytes of XML could ask for them.

use std::io::{self, BufReader, Read, Seek};

use super::sheet::{MAX_SHEET_CELLS, MAX_SPREADSHEET_UNPACKED};
use crate::load::input_file;

/// Why a spreadsheet is not read.
pub(super) enum Problem {
    /// It is not a zip, or not a spreadsheet's.
    Unreadable(String),
    /// It unpacks to more than a patient list may.
    TooLarge(String),
}

fn bomb(what: &str) -> Problem {
    Problem::TooLarge(format!(
        "{what}, more than the {} a patient list may (is it a zip bomb?)",
        input_file::size(MAX_SPREADSHEET_UNPACKED)
    ))
}

/// Checks a zipped spreadsheet (`ods`: an OpenDocument one) before calamine opens it.
pub(super) fn check<R: Read + Seek>(reader: R, ods: bool) -> Result<(), Problem> {
    let unreadable = |e: &dyn std::fmt::Display| Problem::Unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| unreadable(&e))?;
    let mut declared = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| unreadable(&e))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > MAX_SPREADSHEET_UNPACKED {
        return Err(bomb(&format!(
            "it unpacks to {} MiB",
            declared / (1024 * 1024)
        )));
    }
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| unreadable(&e))?;
        let size = entry.size();
        io::copy(&mut (&mut entry).take(size), &mut io::sink()).map_err(|e| unreadable(&e))?;
        // The declared size read, not one byte more may come (the zip reader refuses it
        // with an error that says so).
        let lies = || {
            Problem::TooLarge(format!(
                "a part of it inflates to more than the {} its zip declares (is it a zip bomb?)",
                input_file::size(size)
            ))
        };
        match entry.read(&mut [0u8; 1]) {
            Ok(0) => {}
            Ok(_) => return Err(lies()),
            Err(e) if e.to_string().contains("declared") => return Err(lies()),
            Err(e) => return Err(unreadable(&e)),
        }
    }
    if ods {
        let content = archive.by_name("content.xml").map_err(|e| unreadable(&e))?;
        ods_cells(content.take(MAX_SPREADSHEET_UNPACKED))?;
    } else {
        let tables: Vec<String> = archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"))
            .map(std::borrow::Cow::into_owned)
            .collect();
        for name in tables {
            let part = archive.by_name(&name).map_err(|e| unreadable(&e))?;
            shared_strings(part.take(MAX_SPREADSHEET_UNPACKED))?;
        }
    }
    Ok(())
}

/// Refuses an xlsx shared-string table that declares more entries than a sheet may have
/// cells: calamine reserves room for the `uniqueCount` it declares before reading one, so
/// `uniqueCount="4294967295"` in a 2 KB file asks for 100 GB and aborts the process.
fn shared_strings(part: impl Read) -> Result<(), Problem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                let declared = e.try_get_attribute("uniqueCount").ok().flatten().map(|a| {
                    let digits: String = a
                        .value
                        .trim()
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    // More digits than any count this side of u64 is a count too large.
                    if digits.len() > 12 {
                        u64::MAX
                    } else {
                        digits.parse().unwrap_or(0)
                    }
                });
                if declared.is_some_and(|n| n > MAX_SHEET_CELLS) {
                    return Err(Problem::TooLarge(format!(
                        "its table of shared strings declares more entries than the {MAX_SHEET_CELLS} cells a patient list may"
                    )));
                }
                return Ok(());
            }
            // Not there, or not XML: calamine says so when it reads the table.
            Ok(Event::Eof) | Err(_) => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}

/// The most rows and columns calamine reads in an ODS sheet (it caps repeats at these).
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// A row of a sheet being counted: its repeats, the column reached, and the columns up to
/// its last cell with a value (calamine keeps a row to its last value).
struct Row {
    repeats: u64,
    column: u64,
    first: u64,
    width: u64,
}

impl Row {
    fn cells(&mut self, repeats: u64, valued: bool) {
        let repeats = repeats.min(MAX_COLUMNS - self.column);
        if valued && repeats > 0 {
            self.first = self.first.min(self.column);
            self.width = self.column + repeats;
        }
        self.column += repeats;
    }
}

/// A sheet being counted: the rows read, those with values, and their columns.
#[derive(Default)]
struct Sheet {
    name: String,
    rows: u64,
    first_row: Option<u64>,
    end_row: u64,
    first_column: u64,
    end_column: u64,
}

impl Sheet {
    fn area(&self) -> (u64, u64) {
        match self.first_row {
            None => (0, 0),
            Some(first) => (
                self.end_row - first,
                self.end_column.saturating_sub(self.first_column),
            ),
        }
    }
}

/// The repeat count an ODS element gives in `attribute` (1 when it gives none, or none
/// that is a number: calamine refuses those).
fn repeats(e: &quick_xml::events::BytesStart<'_>, attribute: &str) -> u64 {
    e.try_get_attribute(attribute)
        .ok()
        .flatten()
        .and_then(|a| a.value.trim().parse::<u64>().ok())
        .unwrap_or(1)
}

/// Whether a cell's attributes give it a value (a type, a value, a formula).
fn valued(e: &quick_xml::events::BytesStart<'_>) -> bool {
    e.attributes().with_checks(false).flatten().any(|a| {
        let key: &str = a.key.as_ref();
        key.starts_with("office:") || key == "table:formula"
    })
}

/// Counts the cells calamine would hold for an ODS `content.xml`, refusing a sheet whose
/// area, or a workbook whose cells in all, is over [`MAX_SHEET_CELLS`].
fn ods_cells(content: impl Read) -> Result<(), Problem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let mut buf = Vec::new();
    let mut sheet = Sheet::default();
    let mut row: Option<Row> = None;
    // An open cell: its repeats, and whether it has a value so far.
    let mut cell: Option<(u64, bool)> = None;
    // What calamine keeps: each row's cells up to its last value, then each sheet's area.
    let mut kept = 0u64;
    let mut areas = 0u64;
    let too_many = |sheet: &Sheet| {
        let (rows, columns) = sheet.area();
        Problem::TooLarge(format!(
            "the sheet `{}` spans {rows} rows by {columns} columns (its repeated rows and cells counted), more than the {MAX_SHEET_CELLS} cells a patient list may",
            sheet.name
        ))
    };
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| {
            Problem::Unreadable(format!("its content.xml is not a spreadsheet's XML: {e}"))
        })?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                sheet = Sheet {
                    name: e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .map(|a| crate::load::diagnostic::inert(&a.value))
                        .unwrap_or_default(),
                    first_column: u64::MAX,
                    ..Sheet::default()
                };
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                let (rows, columns) = sheet.area();
                areas = areas.saturating_add(rows.saturating_mul(columns));
                if areas > MAX_SHEET_CELLS {
                    return Err(too_many(&sheet));
                }
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                row = Some(Row {
                    repeats: repeats(&e, "table:number-rows-repeated")
                        .min(MAX_ROWS.saturating_sub(sheet.rows)),
                    column: 0,
                    first: u64::MAX,
                    width: 0,
                });
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if let Some(r) = row.take() {
                    if r.width > 0 {
                        kept = kept.saturating_add(r.width);
                        sheet.first_row.get_or_insert(sheet.rows);
                        sheet.end_row = sheet.rows + r.repeats;
                        sheet.first_column = sheet.first_column.min(r.first);
                        sheet.end_column = sheet.end_column.max(r.width);
                    }
                    sheet.rows += r.repeats;
                    let (rows, columns) = sheet.area();
                    if kept > MAX_SHEET_CELLS
                        || areas.saturating_add(rows.saturating_mul(columns)) > MAX_SHEET_CELLS
                    {
                        return Err(too_many(&sheet));
                    }
                }
            }
            Event::Start(e) | Event::Empty(e)
                if row.is_some()
                    && cell.is_none()
                    && matches!(
                        e.name().as_ref(),
                        "table:table-cell" | "table:covered-table-cell"
                    ) =>
            {
                let cell_repeats = repeats(&e, "table:number-columns-repeated");
                let has_value = valued(&e);
                if empty {
                    if let Some(r) = row.as_mut() {
                        r.cells(cell_repeats, has_value);
                    }
                } else {
                    cell = Some((cell_repeats, has_value));
                }
            }
            Event::End(e)
                if matches!(
                    e.name().as_ref(),
                    "table:table-cell" | "table:covered-table-cell"
                ) =>
            {
                if let (Some((n, has_value)), Some(r)) = (cell.take(), row.as_mut()) {
                    r.cells(n, has_value);
                }
            }
            // Anything inside a cell, text or element, may be its value.
            Event::Start(_) | Event::Empty(_) | Event::CData(_) | Event::GeneralRef(_) => {
                if let Some((_, has_value)) = cell.as_mut() {
                    *has_value = true;
                }
            }
            Event::Text(t) => {
                if let Some((_, has_value)) = cell.as_mut() {
                    *has_value |= !t.trim().is_empty();
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
        buf.clear();
    }
}
