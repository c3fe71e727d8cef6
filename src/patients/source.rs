//! Patient and exclusion sources: finding the file and reading its columns.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::campaign::{FileFormat, Source};

/// Why a source's columns could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the file {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("the file {} cannot be read: {}", .0.display(), .1)]
    Unreadable(PathBuf, String),
    #[error("the file {} has no sheet named `{sheet}` (its sheets: {})", .path.display(), .available.join(", "))]
    NoSheet {
        path: PathBuf,
        sheet: String,
        available: Vec<String>,
    },
    #[error("the file {} has no header row", .0.display())]
    NoHeader(PathBuf),
    #[error("cannot tell the format of {}: name it with `format:` (csv, xlsx, ods, json or ndjson)", .0.display())]
    UnknownFormat(PathBuf),
    #[error("a source needs either `file` or `inline`")]
    Neither,
    #[error("a source takes `file` or `inline`, not both")]
    Both,
}

/// How many NDJSON records are read to learn the columns.
const HEADER_SCAN_RECORDS: usize = 1000;

/// The path of a source file, relative to the campaign's directory.
pub fn resolve_path(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The column names a source provides, in file order (inline and JSON records: the union of
/// their keys, in first-seen order).
pub fn columns(source: &dyn Source, base: &Path) -> Result<Vec<String>, SourceError> {
    match (source.file(), source.inline()) {
        (Some(_), Some(_)) => Err(SourceError::Both),
        (None, None) => Err(SourceError::Neither),
        (None, Some(records)) => Ok(union(records.iter().map(|r| r.keys().cloned()))),
        (Some(file), None) => {
            let path = resolve_path(base, file);
            let format = source
                .resolved_format()
                .ok_or_else(|| SourceError::UnknownFormat(path.clone()))?;
            if !path.exists() {
                return Err(SourceError::Missing(path));
            }
            let unreadable =
                |e: &dyn std::fmt::Display| SourceError::Unreadable(path.clone(), e.to_string());
            match format {
                FileFormat::Csv => {
                    let delimiter = source
                        .delimiter()
                        .and_then(|d| d.bytes().next())
                        .unwrap_or(b',');
                    let mut reader = csv::ReaderBuilder::new()
                        .delimiter(delimiter)
                        .flexible(true)
                        .from_path(&path)
                        .map_err(|e| unreadable(&e))?;
                    let headers = reader.headers().map_err(|e| unreadable(&e))?;
                    let cols: Vec<String> = headers
                        .iter()
                        .enumerate()
                        .map(|(i, h)| {
                            let h = if i == 0 {
                                h.trim_start_matches('\u{feff}')
                            } else {
                                h
                            };
                            h.trim().to_owned()
                        })
                        .collect();
                    if cols.iter().all(String::is_empty) {
                        return Err(SourceError::NoHeader(path));
                    }
                    Ok(cols)
                }
                FileFormat::Xlsx | FileFormat::Ods => spreadsheet_columns(&path, source.sheet()),
                FileFormat::Json => {
                    let file = File::open(&path).map_err(|e| unreadable(&e))?;
                    let value: serde_json::Value = serde_json::from_reader(BufReader::new(file))
                        .map_err(|e| unreadable(&e))?;
                    let records = value.as_array().ok_or_else(|| {
                        SourceError::Unreadable(
                            path.clone(),
                            "expected a JSON array of records".to_owned(),
                        )
                    })?;
                    let mut keys = Vec::new();
                    for (i, r) in records.iter().enumerate() {
                        let obj = r.as_object().ok_or_else(|| {
                            SourceError::Unreadable(
                                path.clone(),
                                format!("record {} is not an object", i + 1),
                            )
                        })?;
                        keys.push(obj.keys().cloned().collect::<Vec<_>>());
                    }
                    Ok(union(keys))
                }
                FileFormat::Ndjson => {
                    // The columns are the keys of the first records; a line that is not a
                    // JSON object is skipped here and reported as a row by the plan.
                    let file = File::open(&path).map_err(|e| unreadable(&e))?;
                    let mut keys = Vec::new();
                    let mut read = 0;
                    for line in BufReader::new(file).lines() {
                        let line = line.map_err(|e| unreadable(&e))?;
                        if line.trim().is_empty() {
                            continue;
                        }
                        read += 1;
                        if read > HEADER_SCAN_RECORDS {
                            break;
                        }
                        if let Ok(value) = serde_json::from_str::<
                            serde_json::Map<String, serde_json::Value>,
                        >(&line)
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
                    Ok(union(keys))
                }
            }
        }
    }
}

fn spreadsheet_columns(path: &Path, sheet: Option<&str>) -> Result<Vec<String>, SourceError> {
    use calamine::Reader;
    let mut workbook = calamine::open_workbook_auto(path)
        .map_err(|e| SourceError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_owned(),
        Some(s) => {
            return Err(SourceError::NoSheet {
                path: path.to_path_buf(),
                sheet: s.to_owned(),
                available: names,
            });
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| SourceError::NoHeader(path.to_path_buf()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| SourceError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let header = range
        .rows()
        .next()
        .ok_or_else(|| SourceError::NoHeader(path.to_path_buf()))?;
    Ok(header
        .iter()
        .map(|c| c.to_string().trim().to_owned())
        .collect())
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
            let path = resolve_path(base, file);
            let format = source
                .resolved_format()
                .ok_or_else(|| SourceError::UnknownFormat(path.clone()))?;
            let unreadable =
                |e: &dyn std::fmt::Display| SourceError::Unreadable(path.clone(), e.to_string());
            let iter: Box<dyn Iterator<Item = Result<Row, RowError>> + Send> = match format {
                FileFormat::Csv => {
                    let delimiter = source
                        .delimiter()
                        .and_then(|d| d.bytes().next())
                        .unwrap_or(b',');
                    let reader = csv::ReaderBuilder::new()
                        .delimiter(delimiter)
                        .flexible(true)
                        .from_path(&path)
                        .map_err(|e| unreadable(&e))?;
                    let lines = File::open(&path).map_err(|e| unreadable(&e))?;
                    Box::new(CsvRows {
                        reader,
                        width: header.len(),
                        lines: LineCounter {
                            reader: BufReader::new(lines),
                            byte: 0,
                            line: 1,
                        },
                    })
                }
                FileFormat::Xlsx | FileFormat::Ods => Box::new(
                    spreadsheet_rows(&path, source.sheet(), source.phone_column(), &header)?
                        .into_iter(),
                ),
                FileFormat::Json => Box::new(json_rows(&path, header.clone())?),
                FileFormat::Ndjson => {
                    let file = File::open(&path).map_err(|e| unreadable(&e))?;
                    let header2 = header.clone();
                    Box::new(BufReader::new(file).lines().enumerate().filter_map(
                        move |(i, line)| {
                            let number = i as u64 + 1;
                            let line = match line {
                                Ok(l) => l,
                                Err(e) => {
                                    return Some(Err(RowError {
                                        number,
                                        message: e.to_string(),
                                    }));
                                }
                            };
                            if line.trim().is_empty() {
                                return None;
                            }
                            Some(
                                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                                    &line,
                                )
                                .map(|obj| record_row(number, &obj, &header2))
                                .map_err(|e| RowError {
                                    number,
                                    message: format!("not a JSON object: {e}"),
                                }),
                            )
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

struct CsvRows {
    reader: csv::Reader<File>,
    width: usize,
    lines: LineCounter,
}

/// Turns byte offsets into line numbers by reading the file alongside the CSV parser (whose
/// own line count drifts on CRLF files and quoted line breaks).
struct LineCounter {
    reader: BufReader<File>,
    byte: u64,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, byte: u64) -> u64 {
        while self.byte < byte {
            let Ok(buf) = self.reader.fill_buf() else {
                break;
            };
            if buf.is_empty() {
                break;
            }
            let take = usize::try_from(byte - self.byte)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            self.line += buf[..take].iter().filter(|&&b| b == b'\n').count() as u64;
            self.byte += take as u64;
            self.reader.consume(take);
        }
        // The parser reports a record as starting at the previous line's terminator; blank
        // lines before it are skipped too. Step over them to the record's first byte.
        while let Ok(buf) = self.reader.fill_buf() {
            let run = buf
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if run == 0 {
                break;
            }
            self.line += buf[..run].iter().filter(|&&b| b == b'\n').count() as u64;
            self.byte += run as u64;
            self.reader.consume(run);
        }
        self.line
    }
}

impl Iterator for CsvRows {
    type Item = Result<Row, RowError>;
    fn next(&mut self) -> Option<Self::Item> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let number = record
                    .position()
                    .map_or(0, |p| self.lines.line_at(p.byte()));
                if record.len() != self.width && record.iter().all(|c| c.trim().is_empty()) {
                    // A blank line: nothing to call, nothing to report.
                    return self.next();
                }
                Some(Ok(Row {
                    number,
                    cells: record,
                    numeric_phone: false,
                }))
            }
            Err(e) => {
                let number = e.position().map_or(0, |p| self.lines.line_at(p.byte()));
                Some(Err(RowError {
                    number,
                    message: e.to_string(),
                }))
            }
        }
    }
}

fn spreadsheet_rows(
    path: &Path,
    sheet: Option<&str>,
    phone_column: &str,
    header: &[String],
) -> Result<Vec<Result<Row, RowError>>, SourceError> {
    use calamine::{Data, Reader};
    let mut workbook = calamine::open_workbook_auto(path)
        .map_err(|e| SourceError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let name = match sheet {
        Some(s) => s.to_owned(),
        None => workbook
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| SourceError::NoHeader(path.to_path_buf()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| SourceError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let phone = header.iter().position(|h| h == phone_column);
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    Ok(range
        .rows()
        .enumerate()
        .skip(1)
        .filter(|(_, cells)| cells.iter().any(|c| !matches!(c, Data::Empty)))
        .map(|(i, cells)| {
            let numeric_phone = phone
                .and_then(|p| cells.get(p))
                .is_some_and(|c| matches!(c, Data::Float(_) | Data::Int(_)));
            let text: Vec<String> = (0..header.len())
                .map(|j| match cells.get(j) {
                    None | Some(Data::Empty) => String::new(),
                    Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{f:.0}")
                    }
                    Some(Data::DateTime(d)) => {
                        excel_date(d.as_f64()).unwrap_or_else(|| d.to_string())
                    }
                    Some(c) => c.to_string().trim().to_owned(),
                })
                .collect();
            Ok(Row {
                number: first_row + i as u64,
                cells: text.into(),
                numeric_phone,
            })
        })
        .collect())
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded by the range check above"
    )]
    let days = serial.floor() as i64;
    let date = jiff::civil::date(1899, 12, 30)
        .checked_add(jiff::Span::new().days(days))
        .ok()?;
    Some(date.to_string())
}

/// Streams the records of a JSON array from a parser thread through a bounded channel, so a
/// large file is never held whole.
fn json_rows(
    path: &Path,
    header: Vec<String>,
) -> Result<impl Iterator<Item = Result<Row, RowError>> + Send + use<>, SourceError> {
    use serde::de::{Deserializer as _, SeqAccess, Visitor};
    struct Records {
        tx: std::sync::mpsc::SyncSender<Result<Row, RowError>>,
        header: Vec<String>,
    }
    impl<'de> Visitor<'de> for Records {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut number = 0u64;
            while let Some(value) = seq.next_element::<serde_json::Value>()? {
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
    let file =
        File::open(path).map_err(|e| SourceError::Unreadable(path.to_path_buf(), e.to_string()))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Row, RowError>>(1024);

    std::thread::spawn(move || {
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
        let err_tx = tx.clone();
        if let Err(e) = de.deserialize_seq(Records { tx, header }) {
            let _ = err_tx.send(Err(RowError {
                number: 0,
                message: format!("the file stops being valid JSON: {e}"),
            }));
        }
    });
    Ok(rx.into_iter())
}
