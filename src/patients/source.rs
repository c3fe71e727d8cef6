//! Patient and exclusion sources: finding the file and reading its columns and rows.
//!
//! Every source file is hostile input: it is found only where [`super::location`] allows,
//! opened as a regular file through [`crate::load::input_file`], and read with memory bounded
//! by one record, never by the file ([`MAX_RECORD_BYTES`]). Messages name rows and lines,
//! never what a file holds: a "file" may be someone's secrets.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::campaign::{FileFormat, Source};
use crate::load::input_file::{self, InputError};
use crate::patients::encoding::EncodingError;
use crate::patients::location::{self, Refusal};
use crate::patients::record_cap::{CappedLines, ElementCap, LineError};
pub use crate::patients::sheet::{
    MAX_SHEET_CELLS, MAX_SPREADSHEET_UNPACKED, Workbook, open_workbook, sheet_range,
};

/// Why a source's columns could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the file {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("the file {} cannot be read: {}", .0.display(), .1)]
    Unreadable(PathBuf, String),
    #[error("the file {} is outside the campaign's repository ({}): sources are read only from inside it", .path.display(), .root.display())]
    Outside { path: PathBuf, root: PathBuf },
    #[error("the file {} is inside a .git folder, which holds no sources", .0.display())]
    InGit(PathBuf),
    #[error("the file {} cannot be read: {}", .0.display(), .1)]
    NotAFile(PathBuf, &'static str),
    #[error("the file {} is too large to read: {}", .0.display(), .1)]
    TooLarge(PathBuf, String),
    #[error("the file {} has no sheet named `{sheet}` (its sheets: {})", .path.display(), .available.join(", "))]
    NoSheet {
        path: PathBuf,
        sheet: String,
        available: Vec<String>,
    },
    #[error("the file {} has no header row", .0.display())]
    NoHeader(PathBuf),
    #[error("the file {} has no row at or below row {} (its `header_row`) to take as its header", .0.display(), .1)]
    HeaderNotFound(PathBuf, u32),
    #[error("the file {} {}", .0.display(), .1)]
    Encoding(PathBuf, EncodingError),
    #[error("cannot tell the format of {}: name it with `format:` (csv, xlsx, ods, json or ndjson)", .0.display())]
    UnknownFormat(PathBuf),
    #[error("a source needs either `file` or `inline`")]
    Neither,
    #[error("a source takes `file` or `inline`, not both")]
    Both,
}

/// How many NDJSON records are read to learn the columns.
const HEADER_SCAN_RECORDS: usize = 1000;

/// The longest record (a CSV record, an NDJSON line, an element of a JSON array) read: a
/// patient's row is a few hundred bytes, and a file with no line break (`/dev/zero`, a
/// binary file named `.csv`) must not be buffered whole to find its first record.
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// The most columns a source may have: a header is read whole to learn them.
pub const MAX_COLUMNS: usize = 10_000;

/// The path of a source file, relative to the campaign's directory.
pub fn resolve_path(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The path of a source file that may be read: it exists and is where
/// [`location::check`] allows (inside the campaign's repository, out of `.git`).
pub fn locate(base: &Path, file: &str) -> Result<PathBuf, SourceError> {
    let path = resolve_path(base, file);
    if std::fs::metadata(&path).is_err_and(|e| e.kind() == io::ErrorKind::NotFound) {
        return Err(SourceError::Missing(path));
    }
    match location::check(base, &path) {
        Ok(()) => Ok(path),
        Err(Refusal::Outside { root }) => Err(SourceError::Outside { path, root }),
        Err(Refusal::InGit) => Err(SourceError::InGit(path)),
    }
}

/// Opens a located source file (regular files only).
pub fn open_file(path: &Path) -> Result<File, SourceError> {
    input_file::open(path).map_err(|e| match e {
        InputError::Missing => SourceError::Missing(path.to_path_buf()),
        InputError::NotAFile(what) => SourceError::NotAFile(path.to_path_buf(), what),
        InputError::TooLarge(_) => SourceError::TooLarge(path.to_path_buf(), e.to_string()),
        other => SourceError::Unreadable(path.to_path_buf(), other.to_string()),
    })
}

/// A JSON parser's complaint without what it quotes (serde's "invalid type: string \"…\""
/// names the text it found): its kind and where.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    if e.is_io() {
        // Ours (a record too long) or the disk's: no file content in either.
        return e.to_string();
    }
    let what = match e.classify() {
        Category::Syntax => "it is not valid JSON",
        Category::Eof => "it ends before the JSON does",
        Category::Data | Category::Io => "it is not what was expected",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

pub fn columns(source: &dyn Source, base: &Path) -> Result<Vec<String>, SourceError> {
    match (source.file(), source.inline()) {
        (Some(_), Some(_)) => Err(SourceError::Both),
        (None, None) => Err(SourceError::Neither),
        (None, Some(records)) => Ok(union(records.iter().map(|r| r.keys().cloned()))),
        (Some(file), None) => {
            let format = source
                .resolved_format()
                .ok_or_else(|| SourceError::UnknownFormat(resolve_path(base, file)))?;
            let path = locate(base, file)?;
            let unreadable =
                |e: &dyn std::fmt::Display| SourceError::Unreadable(path.clone(), e.to_string());
            let cols = match format {
                FileFormat::Csv => crate::patients::csv_file::open(&path, source, true)?.0,
                FileFormat::Xlsx | FileFormat::Ods => {
                    crate::patients::sheet::columns(&path, source)?
                }
                FileFormat::Json => json_columns(&path)?,
                FileFormat::Ndjson => {
                    // The columns are the keys of the first records; a line that is not a
                    // JSON object is skipped here and reported as a row by the plan.
                    let mut keys = Vec::new();
                    let mut read = 0;
                    for line in CappedLines::new(open_file(&path)?) {
                        let line = match line {
                            Ok((_, line)) => line,
                            Err(LineError::Io(e)) => return Err(unreadable(&e)),
                            Err(LineError::Bad(..)) => {
                                read += 1;
                                continue;
                            }
                        };
                        if line.trim().is_empty() {
                            continue;
                        }
                        read += 1;
                        if read > HEADER_SCAN_RECORDS {
                            break;
                        }
                        if let Ok(serde_json::Value::Object(value)) =
                            serde_json::from_str::<serde_json::Value>(&line)
                        {
                            keys.push(value.keys().cloned().collect::<Vec<_>>());
                        }
                    }
                    if keys.is_empty() && read > 0 {
                        return Err(SourceError::Unreadable(
                            path,
                            "no line is a JSON object".to_owned(),
                        ));
                    }
                    union(keys)
                }
            };
            if cols.len() > MAX_COLUMNS {
                return Err(SourceError::TooLarge(
                    path,
                    format!(
                        "it has {} columns, more than the {MAX_COLUMNS} a source may have",
                        cols.len()
                    ),
                ));
            }
            Ok(cols)
        }
    }
}

/// The keys of a JSON array's records, read one record at a time.
fn json_columns(path: &Path) -> Result<Vec<String>, SourceError> {
    use serde::de::{Deserializer as _, SeqAccess, Visitor};
    struct Keys {
        read: Rc<Cell<u64>>,
    }
    impl<'de> Visitor<'de> for Keys {
        type Value = Result<Vec<String>, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            let mut number = 0u64;
            self.read.set(0);
            while let Some(value) = seq.next_element::<serde_json::Value>()? {
                self.read.set(0);
                number += 1;
                let serde_json::Value::Object(obj) = value else {
                    return Ok(Err(format!("record {number} is not an object")));
                };
                for k in obj.keys() {
                    if !seen.contains(k) {
                        if out.len() == MAX_COLUMNS {
                            return Ok(Err(format!(
                                "its records have more than the {MAX_COLUMNS} keys a source may have"
                            )));
                        }
                        seen.insert(k.clone());
                        out.push(k.clone());
                    }
                }
            }
            Ok(Ok(out))
        }
    }
    let read = Rc::new(Cell::new(0));
    let reader = ElementCap {
        inner: BufReader::new(open_file(path)?),
        read: Rc::clone(&read),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let unreadable = |m: String| SourceError::Unreadable(path.to_path_buf(), m);
    let keys = match de.deserialize_seq(Keys { read }) {
        Ok(keys) => keys.map_err(unreadable)?,
        Err(e) if e.is_data() => {
            return Err(unreadable("expected a JSON array of records".to_owned()));
        }
        Err(e) if e.io_error_kind() == Some(io::ErrorKind::InvalidData) => {
            return Err(SourceError::TooLarge(path.to_path_buf(), json_problem(&e)));
        }
        Err(e) => return Err(unreadable(json_problem(&e))),
    };
    de.end().map_err(|e| unreadable(json_problem(&e)))?;
    Ok(keys)
}

fn union<I, K>(records: I) -> Vec<String>
where
    I: IntoIterator<Item = K>,
    K: IntoIterator<Item = String>,
{
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for keys in records {
        for k in keys {
            if seen.insert(k.clone()) {
                out.push(k);
            }
        }
    }
    out
}

/// One data row of a source: its position and its cells, in header order.
#[derive(Debug, Clone)]
pub struct Row {
    /// Where the row is: the line for CSV and NDJSON, the sheet row for spreadsheets, the
    /// record's position (from 1) for JSON arrays and inline lists.
    pub number: u64,
    pub cells: csv::StringRecord,
    /// The phone cell was stored as a number in a spreadsheet (its leading `0` or `+` is lost).
    pub numeric_phone: bool,
}

/// A problem with one row (the rest of the source is still read).
#[derive(Debug, Clone)]
pub struct RowError {
    pub number: u64,
    pub message: String,
}

/// The rows of a source, streamed: memory does not grow with the number of rows (spreadsheets
/// excepted: calamine reads a sheet whole).
pub struct Rows {
    pub header: Vec<String>,
    /// The file read, for digests and messages; `None` for inline records.
    pub path: Option<PathBuf>,
    iter: Box<dyn Iterator<Item = Result<Row, RowError>> + Send>,
}

impl Iterator for Rows {
    type Item = Result<Row, RowError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.iter.next()
    }
}

/// The text of a JSON cell value: strings as they are, numbers and booleans as written,
/// null as empty, nested values as JSON.
fn cell_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn record_row(
    number: u64,
    obj: &serde_json::Map<String, serde_json::Value>,
    header: &[String],
) -> Row {
    let cells: csv::StringRecord = header
        .iter()
        .map(|h| obj.get(h).map(cell_text).unwrap_or_default())
        .collect::<Vec<_>>()
        .into();
    Row {
        number,
        cells,
        numeric_phone: false,
    }
}

/// Opens a source for streaming. `phone_column` is used to flag numeric spreadsheet cells.
pub fn open(source: &dyn Source, base: &Path) -> Result<Rows, SourceError> {
    let header = columns(source, base)?;
    match (source.file(), source.inline()) {
        (None, Some(records)) => {
            let rows: Vec<Result<Row, RowError>> = records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let obj: serde_json::Map<String, serde_json::Value> =
                        r.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    Ok(record_row(i as u64 + 1, &obj, &header))
                })
                .collect();
            Ok(Rows {
                header,
                path: None,
                iter: Box::new(rows.into_iter()),
            })
        }
        (Some(file), None) => {
            let format = source
                .resolved_format()
                .ok_or_else(|| SourceError::UnknownFormat(resolve_path(base, file)))?;
            let path = locate(base, file)?;
            let iter: Box<dyn Iterator<Item = Result<Row, RowError>> + Send> = match format {
                // `columns` has just decoded the whole file once.
                FileFormat::Csv => {
                    Box::new(crate::patients::csv_file::open(&path, source, false)?.1)
                }
                FileFormat::Xlsx | FileFormat::Ods => {
                    Box::new(crate::patients::sheet::rows(&path, source, &header)?.into_iter())
                }
                FileFormat::Json => Box::new(json_rows(&path, header.clone())?),
                FileFormat::Ndjson => {
                    let header2 = header.clone();
                    Box::new(CappedLines::new(open_file(&path)?).filter_map(
                        move |line| match line {
                            Err(LineError::Io(e)) => Some(Err(RowError {
                                number: 0,
                                message: format!("the file cannot be read on: {e}"),
                            })),
                            Err(LineError::Bad(number, message)) => {
                                Some(Err(RowError { number, message }))
                            }
                            Ok((_, line)) if line.trim().is_empty() => None,
                            Ok((number, line)) => {
                                Some(match serde_json::from_str::<serde_json::Value>(&line) {
                                    Ok(serde_json::Value::Object(obj)) => {
                                        Ok(record_row(number, &obj, &header2))
                                    }
                                    Ok(_) => Err(RowError {
                                        number,
                                        message: "not a JSON object".to_owned(),
                                    }),
                                    Err(e) => Err(RowError {
                                        number,
                                        message: format!("not a JSON object: {}", json_problem(&e)),
                                    }),
                                })
                            }
                        },
                    ))
                }
            };
            Ok(Rows {
                header,
                path: Some(path),
                iter,
            })
        }
        (Some(_), Some(_)) => Err(SourceError::Both),
        (None, None) => Err(SourceError::Neither),
    }
}

/// large file is never held whole.
fn json_rows(
    path: &Path,
    header: Vec<String>,
) -> Result<impl Iterator<Item = Result<Row, RowError>> + Send + use<>, SourceError> {
    use serde::de::{Deserializer as _, SeqAccess, Visitor};
    struct Records {
        tx: std::sync::mpsc::SyncSender<Result<Row, RowError>>,
        header: Vec<String>,
        read: Rc<Cell<u64>>,
    }
    impl<'de> Visitor<'de> for Records {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut number = 0u64;
            self.read.set(0);
            while let Some(value) = seq.next_element::<serde_json::Value>()? {
                self.read.set(0);
                number += 1;
                let row = match value.as_object() {
                    Some(obj) => Ok(record_row(number, obj, &self.header)),
                    None => Err(RowError {
                        number,
                        message: "this record is not an object".to_owned(),
                    }),
                };
                if self.tx.send(row).is_err() {
                    break; // the reader stopped
                }
            }
            Ok(())
        }
    }
    let file = open_file(path)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Row, RowError>>(1024);

    std::thread::spawn(move || {
        let read = Rc::new(Cell::new(0));
        let reader = ElementCap {
            inner: BufReader::new(file),
            read: Rc::clone(&read),
        };
        let mut de = serde_json::Deserializer::from_reader(reader);
        let err_tx = tx.clone();
        if let Err(e) = de.deserialize_seq(Records { tx, header, read }) {
            let _ = err_tx.send(Err(RowError {
                number: 0,
                message: format!("the file stops being valid JSON: {}", json_problem(&e)),
            }));
        }
    });
    Ok(rx.into_iter())
}
