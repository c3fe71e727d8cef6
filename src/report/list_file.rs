//! A per-patient list (`plan --list skipped`, and `report --list`'s lists): columns, then rows
//! of typed [`Cell`]s, written as CSV, XLSX or JSON, one row at a time.
//!
//! - **Where**: a file ([`Destination::File`]) is written owner-only through
//!   [`crate::private::create`] to a temporary file beside it, renamed onto the path only by
//!   [`ListWriter::finish`]: a crash or an error leaves the old file (or none), never half a
//!   list, and a symbolic link at the path is refused. CSV and JSON may go to stdout; XLSX,
//!   a binary file, is refused there in words.
//! - **Hostile cells**: patient files are hostile, so every [`Cell::Text`] that a spreadsheet
//!   would run as a formula (its first character `=`, `+`, `-`, `@`, a tab or a carriage
//!   return, leading spaces ignored) is made inert in CSV by a leading `'` (the OWASP rule).
//!   Only a [`Cell::Phone`] of the form we write (`+` and digits, masked or not) is kept as
//!   it is; any other "phone" is treated as text. XLSX writes every text as a string, never
//!   a formula.
//! - **Bounded**: CSV and JSON stream row by row; XLSX uses rust_xlsxwriter's constant-memory
//!   mode (each row goes to an unnamed owner-only temporary file beside the list as it is
//!   written), and refuses a list longer than a sheet's 1,048,575 rows in words.
//!
//! ```
//! use outreach::report::list_file::{Cell, Column, Destination, ListWriter};
//! use outreach::settings::formats::ListFormat;
//!
//! let mut out = Vec::new();
//! let columns = [Column::new("row", 6), Column::new("phone", 16), Column::new("name", 20)];
//! let zone = jiff::tz::TimeZone::UTC;
//! let mut list = ListWriter::create(
//!     ListFormat::Csv,
//!     Destination::Stdout(&mut out),
//!     "skipped",
//!     &columns,
//!     &zone,
//! )?;
//! list.row(&[Cell::Whole(2), Cell::Phone("+234*******4567"), Cell::Text("=HYPERLINK(1)")])?;
//! assert_eq!(list.finish()?, 1);
//! assert_eq!(
//!     String::from_utf8(out).unwrap(),
//!     "row,phone,name\n2,+234*******4567,'=HYPERLINK(1)\n"
//! );
//! # Ok::<(), outreach::report::list_file::ListError>(())
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::Serialize;

use crate::report::document::{Document, Versioned};
use crate::settings::formats::ListFormat;

/// One cell of a list row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text from anywhere, a patient file included: made inert in CSV when a spreadsheet
    /// would run it.
    Text(&'a str),
    /// A phone number written by us, in E.164 or masked (`+234*******4567`): kept as it is.
    /// Anything else given as a phone is written as [`Cell::Text`] would be.
    Phone(&'a str),
    /// A whole number (a row number, a count): a number in XLSX and JSON.
    Whole(i64),
    /// An instant: RFC 3339 in CSV and JSON; in XLSX an Excel date and time in the list's
    /// zone (see [`ListWriter::create`]).
    Time(Timestamp),
    /// Nothing: an empty cell, `null` in JSON.
    Empty,
}

/// A column: its name (the CSV and XLSX header, the JSON key) and its width in XLSX, in
/// characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub width: u8,
}

impl Column {
    /// A column named `name`, `width` characters wide in XLSX (at least its name's width).
    pub fn new(name: impl Into<String>, width: u8) -> Self {
        let name = name.into();
        let own = u8::try_from(name.chars().count() + 2).unwrap_or(u8::MAX);
        Column {
            width: width.max(own).min(80),
            name,
        }
    }
}

/// Where a list goes.
pub enum Destination<'a> {
    /// A file (`--out FILE`), owner-only, replaced whole when the list is finished.
    File(&'a Path),
    /// The command's output (CSV and JSON only).
    Stdout(&'a mut dyn Write),
}

/// Why a list could not be written. None of them quotes a cell.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(
        "an XLSX list is a binary file and is not written to standard output: name the file with --out FILE.xlsx"
    )]
    XlsxToStdout,
    #[error("the list names the column `{0}` twice")]
    DuplicateColumn(String),
    #[error("cannot write {path}: {source}")]
    File {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("writing the list: {0}")]
    Write(#[source] io::Error),
    #[error("writing the spreadsheet {path}: {message}")]
    Xlsx { path: String, message: String },
    #[error(
        "the list has more than {max} rows, more than one sheet of a spreadsheet holds: write it as CSV or JSON"
    )]
    TooManyRows { max: u32 },
    #[error("a row of the list has {got} cells for {expected} columns")]
    Cells { expected: usize, got: usize },
}

/// The rows an XLSX sheet holds below its header.
const XLSX_MAX_ROWS: u32 = 1_048_575;
/// The longest text an XLSX cell holds, in characters.
const XLSX_MAX_CHARS: usize = 32_767;

/// The JSON list's head: `{"format": "outreach-list", "version": 1, "list": …, "columns":
/// […], "rows": [ {column: value, …}, … ]}`; the rows are streamed after it.
#[derive(Debug, Serialize)]
struct ListHead<'a> {
    list: &'a str,
    columns: Vec<&'a str>,
}

impl Document for ListHead<'_> {
    const FORMAT: &'static str = "outreach-list";
    const VERSION: u32 = 1;
}

/// Bytes on their way to the list's place: the temporary file beside it, or stdout.
enum Out<'a> {
    File(BufWriter<File>),
    Stdout(&'a mut dyn Write),
}

impl Write for Out<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Stdout(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(w) => w.flush(),
        }
    }
}

impl Out<'_> {
    /// Flushes; a file is synced to disk before it is renamed into place.
    fn close(self) -> io::Result<()> {
        match self {
            Out::File(f) => f
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .sync_all(),
            Out::Stdout(w) => w.flush(),
        }
    }
}

/// The temporary file a list is written to, renamed onto its path when finished and removed
/// otherwise.
struct Temp {
    part: PathBuf,
    path: PathBuf,
    renamed: bool,
}

impl Temp {
    fn create(path: &Path) -> Result<(Temp, File), ListError> {
        let fail = |source| ListError::File {
            path: path.display().to_string(),
            source,
        };
        // Refused before anything is written: a link at the path would be replaced by the
        // rename, not followed, but the user meant the file it names.
        crate::private::refuse_link(path).map_err(fail)?;
        let name = path.file_name().ok_or_else(|| {
            fail(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it names no file",
            ))
        })?;
        let nanos = Timestamp::now().subsec_nanosecond();
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.{nanos}.part", std::process::id()));
        let temp = path.with_file_name(temp_name);
        let file = crate::private::create(&temp, crate::private::Existing::Refuse).map_err(fail)?;
        Ok((
            Temp {
                part: temp,
                path: path.to_owned(),
                renamed: false,
            },
            file,
        ))
    }

    fn rename(mut self) -> Result<(), ListError> {
        let fail = |source| ListError::File {
            path: self.path.display().to_string(),
            source,
        };
        crate::private::refuse_link(&self.path).map_err(fail)?;
        std::fs::rename(&self.part, &self.path).map_err(fail)?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.renamed {
            // Best effort: the temporary file is owner-only, and named as ours.
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

enum Writer<'a> {
    Csv(Box<csv::Writer<Out<'a>>>),
    Json(Out<'a>),
    Xlsx(Box<Sheet>),
}

/// The workbook being written, and the file it is saved to when finished.
struct Sheet {
    book: Workbook,
    file: File,
    path: String,
    time: Format,
}

/// Writes one list, a row at a time; [`ListWriter::finish`] completes it (a list dropped
/// unfinished leaves no file).
pub struct ListWriter<'a> {
    writer: Writer<'a>,
    columns: Vec<Column>,
    zone: TimeZone,
    rows: u64,
    temp: Option<Temp>,
}

impl<'a> ListWriter<'a> {
    /// Starts the list `list` (its name: the JSON's `list` field and the XLSX sheet's name)
    /// of `columns` in `format` at `destination`, its header written. `zone` is the
    /// campaign's: XLSX writes times as Excel dates and times in it (format
    /// `yyyy-mm-dd hh:mm`), which a clinic can sort and filter; CSV and JSON as RFC 3339 with
    /// its offset (`2026-12-01T09:14:00+01:00`).
    pub fn create(
        format: ListFormat,
        destination: Destination<'a>,
        list: &str,
        columns: &[Column],
        zone: &TimeZone,
    ) -> Result<Self, ListError> {
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].iter().any(|d| d.name == c.name) {
                return Err(ListError::DuplicateColumn(c.name.clone()));
            }
        }
        if format == ListFormat::Xlsx && matches!(destination, Destination::Stdout(_)) {
            return Err(ListError::XlsxToStdout);
        }
        let (out, temp, file) = match destination {
            Destination::Stdout(w) => (Some(Out::Stdout(w)), None, None),
            Destination::File(path) => {
                let (temp, file) = Temp::create(path)?;
                if format == ListFormat::Xlsx {
                    (None, Some(temp), Some(file))
                } else {
                    (Some(Out::File(BufWriter::new(file))), Some(temp), None)
                }
            }
        };
        let mut writer = match (format, out, file) {
            (ListFormat::Csv, Some(out), _) => Writer::Csv(Box::new(csv::Writer::from_writer(out))),
            (ListFormat::Json, Some(out), _) => Writer::Json(out),
            (_, _, Some(file)) => {
                let path = temp.as_ref().map_or_else(PathBuf::new, |t| t.path.clone());
                Writer::Xlsx(Box::new(Sheet::new(file, &path, list, columns)?))
            }
            _ => return Err(ListError::XlsxToStdout),
        };
        match &mut writer {
            Writer::Csv(w) => {
                let names: Vec<String> = columns.iter().map(|c| inert(&c.name)).collect();
                w.write_record(&names).map_err(csv_error)?;
            }
            Writer::Json(out) => {
                let head = ListHead {
                    list,
                    columns: columns.iter().map(|c| c.name.as_str()).collect(),
                };
                let mut text = serde_json::to_vec(&Versioned::new(&head))
                    .map_err(|e| ListError::Write(e.into()))?;
                text.pop(); // the closing brace: the rows follow
                text.extend_from_slice(b",\"rows\":[");
                out.write_all(&text).map_err(ListError::Write)?;
            }
            Writer::Xlsx(_) => {}
        }
        Ok(ListWriter {
            writer,
            columns: columns.to_vec(),
            zone: zone.clone(),
            rows: 0,
            temp,
        })
    }

    /// Writes one row: a cell per column, in the columns' order.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), ListError> {
        if cells.len() != self.columns.len() {
            return Err(ListError::Cells {
                expected: self.columns.len(),
                got: cells.len(),
            });
        }
        match &mut self.writer {
            Writer::Csv(w) => {
                for cell in cells {
                    w.write_field(csv_text(*cell, &self.zone))
                        .map_err(csv_error)?;
                }
                w.write_record(None::<&[u8]>).map_err(csv_error)?;
            }
            Writer::Json(out) => {
                json_row(out, self.rows == 0, &self.columns, cells, &self.zone)
                    .map_err(ListError::Write)?;
            }
            Writer::Xlsx(sheet) => {
                let row = u32::try_from(self.rows + 1)
                    .ok()
                    .filter(|r| *r <= XLSX_MAX_ROWS)
                    .ok_or(ListError::TooManyRows { max: XLSX_MAX_ROWS })?;
                sheet.row(row, cells, &self.zone)?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Completes the list (a file is synced and renamed into place); how many rows it holds.
    pub fn finish(self) -> Result<u64, ListError> {
        match self.writer {
            Writer::Csv(w) => {
                let out = w
                    .into_inner()
                    .map_err(|e| ListError::Write(e.into_error()))?;
                out.close().map_err(ListError::Write)?;
            }
            Writer::Json(mut out) => {
                let end: &[u8] = if self.rows == 0 { b"]}\n" } else { b"\n]}\n" };
                out.write_all(end).map_err(ListError::Write)?;
                out.close().map_err(ListError::Write)?;
            }
            Writer::Xlsx(sheet) => sheet.save()?,
        }
        if let Some(temp) = self.temp {
            temp.rename()?;
        }
        Ok(self.rows)
    }
}

impl Sheet {
    fn new(file: File, path: &Path, list: &str, columns: &[Column]) -> Result<Self, ListError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let path = path.display().to_string();
        let fail = |e: XlsxError| ListError::Xlsx {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut book = Workbook::new();
        // The rows' own temporary file goes beside the list, not to a /tmp that may be
        // memory or another disk.
        book.set_tempdir(&dir).map_err(fail)?;
        let bold = Format::new().set_bold();
        let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
        ws.set_name(list).map_err(fail)?;
        // Widths and the frozen header before any row: constant-memory mode writes rows as
        // they come.
        for (i, c) in columns.iter().enumerate() {
            let col = u16::try_from(i).map_err(|_| ListError::Xlsx {
                path: path.clone(),
                message: "too many columns".to_owned(),
            })?;
            ws.set_column_width(col, c.width).map_err(fail)?;
            ws.write_string_with_format(0, col, truncated(&c.name), &bold)
                .map_err(fail)?;
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
        Ok(Sheet {
            book,
            file,
            path,
            time,
        })
    }

    fn row(&mut self, row: u32, cells: &[Cell<'_>], zone: &TimeZone) -> Result<(), ListError> {
        let fail = |e: XlsxError| ListError::Xlsx {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let ws = self.book.worksheet_from_index(0).map_err(fail)?;
        for (i, cell) in cells.iter().enumerate() {
            // `create` refused more columns than a u16 holds.
            let col = u16::try_from(i).unwrap_or(u16::MAX);
            match *cell {
                // Strings, never formulas, whatever they start with.
                Cell::Text(t) | Cell::Phone(t) => ws.write_string(row, col, truncated(t)),
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "row numbers and counts are far below 2^53"
                )]
                Cell::Whole(n) => ws.write_number(row, col, n as f64),
                Cell::Time(at) => {
                    let dt = at.to_zoned_datetime(zone.clone()).datetime();
                    let excel = u16::try_from(dt.year())
                        .map_err(|_| XlsxError::DateTimeRangeError("year".to_owned()))
                        .and_then(|y| {
                            ExcelDateTime::from_ymd(
                                y,
                                dt.month().unsigned_abs(),
                                dt.day().unsigned_abs(),
                            )
                        })
                        .and_then(|d| {
                            d.and_hms(
                                dt.hour().unsigned_abs().into(),
                                dt.minute().unsigned_abs(),
                                dt.second(),
                            )
                        });
                    match excel {
                        Ok(e) => ws.write_datetime_with_format(row, col, e, &self.time),
                        // Outside Excel's dates (before 1900): written as text.
                        Err(_) => ws.write_string(row, col, at.to_string()),
                    }
                }
                Cell::Empty => Ok(&mut *ws),
            }
            .map_err(fail)?;
        }
        Ok(())
    }

    fn save(mut self) -> Result<(), ListError> {
        let path = self.path.clone();
        let mut out = BufWriter::new(&self.file);
        self.book
            .save_to_writer(&mut out)
            .map_err(|e| ListError::Xlsx {
                path: path.clone(),
                message: e.to_string(),
            })?;
        out.flush().map_err(ListError::Write)?;
        drop(out);
        self.file.sync_all().map_err(ListError::Write)
    }
}

/// At most what an XLSX cell holds; a longer text is cut, with `…`.
fn truncated(text: &str) -> String {
    match text.char_indices().nth(XLSX_MAX_CHARS - 1) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether a spreadsheet opening the CSV would run `text` as a formula.
fn runs(text: &str) -> bool {
    text.starts_with(['\t', '\r'])
        || text
            .trim_start_matches(' ')
            .starts_with(['=', '+', '-', '@'])
}

/// `text` as a CSV cell that no spreadsheet runs (OWASP: a leading `'`).
fn inert(text: &str) -> String {
    if runs(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// Whether `p` has the form of a phone number we write: `+` and digits, or the masker's
/// `+` digits, a run of three or more `*`, digits. Nothing else with a `*` (`+2*3` is
/// arithmetic to a spreadsheet).
fn ours(p: &str) -> bool {
    let Some(rest) = p.strip_prefix('+').filter(|r| r.len() <= 20) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.find('*') {
        None => digits(rest),
        Some(first) => {
            let (head, masked) = rest.split_at(first);
            let tail = masked.trim_start_matches('*');
            digits(head) && masked.len() - tail.len() >= 3 && digits(tail)
        }
    }
}

/// An instant as RFC 3339 with the offset of the list's zone (the campaign's): the time a
/// clinic reads, and still one machines parse.
/// To the second: the ledger's nanoseconds are noise to a clinic.
fn local(at: Timestamp, zone: &TimeZone) -> String {
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    at.display_with_offset(zone.to_offset(at)).to_string()
}

fn csv_text(cell: Cell<'_>, zone: &TimeZone) -> String {
    match cell {
        Cell::Phone(p) if ours(p) => p.to_owned(),
        Cell::Text(t) | Cell::Phone(t) => inert(t),
        Cell::Whole(n) => n.to_string(),
        Cell::Time(at) => local(at, zone),
        Cell::Empty => String::new(),
    }
}

fn csv_error(e: csv::Error) -> ListError {
    ListError::Write(e.into())
}

/// One JSON row: `{"column": value, …}`, on a line of its own.
fn json_row(
    out: &mut Out<'_>,
    first: bool,
    columns: &[Column],
    cells: &[Cell<'_>],
    zone: &TimeZone,
) -> io::Result<()> {
    out.write_all(if first { b"\n{" } else { b",\n{" })?;
    for (i, (c, cell)) in columns.iter().zip(cells).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &c.name)?;
        out.write_all(b":")?;
        match *cell {
            Cell::Text(t) | Cell::Phone(t) => serde_json::to_writer(&mut *out, t)?,
            Cell::Whole(n) => serde_json::to_writer(&mut *out, &n)?,
            Cell::Time(at) => serde_json::to_writer(&mut *out, &local(at, zone))?,
            Cell::Empty => out.write_all(b"null")?,
        }
    }
    out.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader as _};

    fn columns() -> Vec<Column> {
        vec![
            Column::new("row", 6),
            Column::new("phone", 16),
            Column::new("name", 20),
            Column::new("at", 18),
            Column::new("note", 10),
        ]
    }

    fn at() -> Timestamp {
        "2026-12-01T08:14:00Z".parse().unwrap()
    }

    fn lagos() -> TimeZone {
        TimeZone::get("Africa/Lagos").unwrap()
    }

    fn write_to(format: ListFormat, path: &Path, rows: &[Vec<Cell<'_>>]) -> u64 {
        let mut list = ListWriter::create(
            format,
            Destination::File(path),
            "skipped",
            &columns(),
            &lagos(),
        )
        .unwrap();
        for r in rows {
            list.row(r).unwrap();
        }
        list.finish().unwrap()
    }

    fn csv_of(cells: &[Cell<'_>]) -> String {
        let mut out = Vec::new();
        let cols: Vec<Column> = (0..cells.len())
            .map(|i| Column::new(format!("c{i}"), 4))
            .collect();
        let mut list = ListWriter::create(
            ListFormat::Csv,
            Destination::Stdout(&mut out),
            "t",
            &cols,
            &TimeZone::UTC,
        )
        .unwrap();
        list.row(cells).unwrap();
        list.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        text.split_once('\n').unwrap().1.to_owned()
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_made_inert() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+2348031234567", "'+2348031234567"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("  =cmd|' /C calc'!A0", "'  =cmd|' /C calc'!A0"),
            ("\t=1", "'\t=1"),
            ("\r=1", "\"'\r=1\""),
            ("Ada Okafor", "Ada Okafor"),
            ("O'Brien, \"Ada\"", "\"O'Brien, \"\"Ada\"\"\""),
            ("", "\"\""),
        ] {
            assert_eq!(
                csv_of(&[Cell::Text(cell)]),
                format!("{written}\n"),
                "{cell:?}"
            );
        }
    }

    #[test]
    fn only_a_phone_of_our_form_is_kept_as_it_is() {
        assert_eq!(csv_of(&[Cell::Phone("+2348031234567")]), "+2348031234567\n");
        assert_eq!(
            csv_of(&[Cell::Phone("+234*******4567")]),
            "+234*******4567\n"
        );
        // A "phone" from a hostile file is text.
        assert_eq!(csv_of(&[Cell::Phone("+1+cmd")]), "'+1+cmd\n");
        assert_eq!(csv_of(&[Cell::Phone("=1")]), "'=1\n");
        assert_eq!(csv_of(&[Cell::Phone("+")]), "'+\n");
        // Arithmetic is not a masked number (found by a second reader).
        assert_eq!(csv_of(&[Cell::Phone("+2*3")]), "'+2*3\n");
        assert_eq!(csv_of(&[Cell::Phone("+2***3*4")]), "'+2***3*4\n");
    }

    #[test]
    fn csv_keeps_numbers_times_in_rfc_3339_and_empty_cells() {
        assert_eq!(
            csv_of(&[Cell::Whole(-3), Cell::Time(at()), Cell::Empty]),
            "-3,2026-12-01T08:14:00+00:00,\n"
        );
    }

    #[test]
    fn a_header_from_a_patient_file_is_inert_too() {
        let mut out = Vec::new();
        let list = ListWriter::create(
            ListFormat::Csv,
            Destination::Stdout(&mut out),
            "t",
            &[Column::new("=evil()", 4)],
            &TimeZone::UTC,
        )
        .unwrap();
        list.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "'=evil()\n");
    }

    #[test]
    fn json_is_one_document_with_rows_keyed_by_column() {
        let mut out = Vec::new();
        let mut list = ListWriter::create(
            ListFormat::Json,
            Destination::Stdout(&mut out),
            "skipped",
            &columns(),
            &lagos(),
        )
        .unwrap();
        list.row(&[
            Cell::Whole(2),
            Cell::Phone("+234*******4567"),
            Cell::Text("=x"),
            Cell::Time(at()),
            Cell::Empty,
        ])
        .unwrap();
        list.row(&[
            Cell::Whole(3),
            Cell::Empty,
            Cell::Text("Ada"),
            Cell::Empty,
            Cell::Text("\"quoted\"\n"),
        ])
        .unwrap();
        assert_eq!(list.finish().unwrap(), 2);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "format": "outreach-list",
                "version": 1,
                "list": "skipped",
                "columns": ["row", "phone", "name", "at", "note"],
                "rows": [
                    {"row": 2, "phone": "+234*******4567", "name": "=x",
                     "at": "2026-12-01T09:14:00+01:00", "note": null},
                    {"row": 3, "phone": null, "name": "Ada", "at": null, "note": "\"quoted\"\n"},
                ]
            })
        );
        let mut empty = Vec::new();
        let list = ListWriter::create(
            ListFormat::Json,
            Destination::Stdout(&mut empty),
            "skipped",
            &columns(),
            &lagos(),
        )
        .unwrap();
        list.finish().unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(doc["rows"], serde_json::json!([]));
    }

    #[test]
    fn xlsx_reads_back_with_strings_numbers_and_local_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.xlsx");
        let n = write_to(
            ListFormat::Xlsx,
            &path,
            &[
                vec![
                    Cell::Whole(2),
                    Cell::Phone("+2348031234567"),
                    Cell::Text("=HYPERLINK(\"http://x\")"),
                    Cell::Time(at()),
                    Cell::Empty,
                ],
                vec![
                    Cell::Whole(7),
                    Cell::Text("0803 123 4567"),
                    Cell::Text("Ada"),
                    Cell::Empty,
                    Cell::Text("note"),
                ],
            ],
        );
        assert_eq!(n, 2);
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), vec!["skipped".to_owned()]);
        let range = book.worksheet_range("skipped").unwrap();
        let rows: Vec<_> = range.rows().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            ["row", "phone", "name", "at", "note"].map(|s| Data::String(s.into()))
        );
        assert_eq!(rows[1][0], Data::Float(2.0));
        assert_eq!(rows[1][1], Data::String("+2348031234567".into()));
        // A string, not a formula: calamine sees no formula in the sheet.
        assert_eq!(rows[1][2], Data::String("=HYPERLINK(\"http://x\")".into()));
        let formulas = book.worksheet_formula("skipped").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
        // 08:14 UTC is 09:14 in Lagos (WAT, UTC+1).
        match &rows[1][3] {
            Data::DateTime(d) => {
                // Excel's serial date: days since 1899-12-30, and the time as a fraction.
                let days = jiff::civil::date(1899, 12, 30)
                    .until(jiff::civil::date(2026, 12, 1))
                    .unwrap()
                    .get_days();
                let want = f64::from(days) + (9.0 * 60.0 + 14.0) / 1440.0;
                assert!(
                    (d.as_f64() - want).abs() < 1e-6,
                    "{} for {want}",
                    d.as_f64()
                );
            }
            other => panic!("not a date: {other:?}"),
        }
        assert_eq!(rows[1][4], Data::Empty);
        assert_eq!(rows[2][1], Data::String("0803 123 4567".into()));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_is_owner_only_replaced_whole_and_never_written_through_a_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        for format in [ListFormat::Csv, ListFormat::Json, ListFormat::Xlsx] {
            let path = dir.path().join(format!("{format:?}"));
            std::fs::write(&path, "old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            write_to(format, &path, &[]);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{format:?}");
            assert_ne!(std::fs::read(&path).unwrap(), b"old");
        }
        // Only the lists remain: no temporary file is left beside them.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);

        let target = dir.path().join("target");
        std::fs::write(&target, "keep me").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = ListWriter::create(
            ListFormat::Csv,
            Destination::File(&link),
            "t",
            &columns(),
            &TimeZone::UTC,
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[test]
    fn an_unfinished_list_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.csv");
        {
            let mut list = ListWriter::create(
                ListFormat::Csv,
                Destination::File(&path),
                "t",
                &columns(),
                &TimeZone::UTC,
            )
            .unwrap();
            list.row(&[Cell::Empty; 5]).unwrap();
            // A wrong row is an error in words, not a panic.
            let error = list.row(&[Cell::Empty]).unwrap_err();
            assert!(
                error.to_string().contains("1 cells for 5 columns"),
                "{error}"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn xlsx_to_stdout_and_a_column_named_twice_are_refused_in_words() {
        let mut out = Vec::new();
        let error = ListWriter::create(
            ListFormat::Xlsx,
            Destination::Stdout(&mut out),
            "t",
            &columns(),
            &TimeZone::UTC,
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("--out FILE.xlsx"), "{error}");
        let error = ListWriter::create(
            ListFormat::Csv,
            Destination::Stdout(&mut out),
            "t",
            &[Column::new("row", 4), Column::new("row", 4)],
            &TimeZone::UTC,
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("`row` twice"), "{error}");
        assert!(out.is_empty());
    }

    #[test]
    fn a_long_text_is_cut_to_what_a_cell_holds() {
        let long = "x".repeat(XLSX_MAX_CHARS + 10);
        assert_eq!(truncated(&long).chars().count(), XLSX_MAX_CHARS);
        assert_eq!(truncated("short"), "short");
    }
}
