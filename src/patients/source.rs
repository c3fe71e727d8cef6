//! Patient and exclusion sources: finding the file and reading its columns and rows.
//!
//! Every source file is hostile input: it is found only where [`super::location`] allows,
//! opened as a regular file through [`crate::load::input_file`], and read with memory bounded
//! by one record, never by the file ([`MAX_RECORD_BYTES`]). Messages name rows and lines,
//! never what a file holds: a "file" may be someone's secrets.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::campaign::{FileFormat, Source};
use crate::load::input_file::{self, InputError};
use crate::patients::location::{self, Refusal};
use crate::patients::record_cap::{CappedLines, ElementCap, LineError, RecordCap, is_too_long};

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

fn csv_delimiter(source: &dyn Source) -> u8 {
    source
        .delimiter()
        .and_then(|d| d.bytes().next())
        .unwrap_or(b',')
}

fn csv_reader(path: &Path, delimiter: u8) -> Result<csv::Reader<RecordCap<File>>, SourceError> {
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(RecordCap::new(open_file(path)?, delimiter)))
}

/// The column names a source provides, in file order (inline and JSON records: the union of
/// their keys, in first-seen order).
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
                FileFormat::Csv => {
                    let mut reader = csv_reader(&path, csv_delimiter(source))?;
                    let headers = reader.headers().map_err(|e| {
                        if is_too_long(&e) {
                            SourceError::TooLarge(path.clone(), e.to_string())
                        } else {
                            unreadable(&e)
                        }
                    })?;
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
                    cols
                }
                FileFormat::Xlsx | FileFormat::Ods => spreadsheet_columns(&path, source.sheet())?,
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

/// The most a spreadsheet may unpack to (the sum of its parts' sizes): a sheet of 100,000
/// patients is a few tens of MiB; a zip bomb of 1.5 KB unpacks to gigabytes.
pub const MAX_SPREADSHEET_UNPACKED: u64 = 200 * 1024 * 1024;

/// The most cells a sheet's used area (from its first to its last cell) may hold: the
/// reader allocates the area whole, and one cell at the far corner (XFD1048576) of an
/// otherwise empty sheet is 17 billion of them.
pub const MAX_SHEET_CELLS: u64 = 5_000_000;

/// A workbook that is a regular file and unpacks to at most [`MAX_SPREADSHEET_UNPACKED`]
/// (counted as it inflates, see [`super::unpack`]).
pub type Workbook = calamine::Sheets<BufReader<File>>;

/// Opens a spreadsheet (xlsx, xlsm, xlsb, ods, xls), its unpacked size checked first.
pub fn open_workbook(path: &Path) -> Result<Workbook, SourceError> {
    let unreadable =
        |e: &dyn std::fmt::Display| SourceError::Unreadable(path.to_path_buf(), e.to_string());
    let mut file = open_file(path)?;
    let zipped = {
        let mut magic = [0u8; 4];
        file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04"
    };
    io::Seek::rewind(&mut file).map_err(|e| unreadable(&e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if zipped {
        super::unpack::check(BufReader::new(&file), ext.as_deref() == Some("ods")).map_err(
            |p| match p {
                super::unpack::Problem::Unreadable(m) => unreadable(&m),
                super::unpack::Problem::TooLarge(m) => SourceError::TooLarge(path.to_path_buf(), m),
            },
        )?;
        io::Seek::rewind(&mut file).map_err(|e| unreadable(&e))?;
    }
    let reader = BufReader::new(file);
    let workbook = match ext.as_deref() {
        Some("xls" | "xla") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xls)
            .map_err(|e| unreadable(&e)),
        Some("xlsb") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xlsb)
            .map_err(|e| unreadable(&e)),
        Some("ods") => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Ods)
            .map_err(|e| unreadable(&e)),
        _ if zipped => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xlsx)
            .map_err(|e| unreadable(&e)),
        _ => calamine::open_workbook_from_rs(reader)
            .map(calamine::Sheets::Xls)
            .map_err(|e| unreadable(&e)),
    }?;
    Ok(workbook)
}

/// A sheet's cells, once its used area is known to be within [`MAX_SHEET_CELLS`] (xlsx and
/// xlsm, whose cells can be counted before the area is allocated; ods sheets are counted
/// before the workbook is opened, by [`super::unpack`]).
pub fn sheet_range(
    workbook: &mut Workbook,
    name: &str,
    path: &Path,
) -> Result<calamine::Range<calamine::Data>, SourceError> {
    use calamine::Reader;
    let unreadable =
        |e: &dyn std::fmt::Display| SourceError::Unreadable(path.to_path_buf(), e.to_string());
    if let calamine::Sheets::Xlsx(xlsx) = workbook {
        let mut cells = xlsx
            .worksheet_cells_reader(name)
            .map_err(|e| unreadable(&e))?;
        let (mut rows, mut cols) = ((u32::MAX, 0u32), (u32::MAX, 0u32));
        let mut count = 0u64;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (r, c) = cell.get_position();
            rows = (rows.0.min(r), rows.1.max(r));
            cols = (cols.0.min(c), cols.1.max(c));
            count += 1;
            let area = u64::from(rows.1 - rows.0 + 1) * u64::from(cols.1 - cols.0 + 1);
            if count > MAX_SHEET_CELLS || area > MAX_SHEET_CELLS {
                return Err(SourceError::TooLarge(
                    path.to_path_buf(),
                    format!(
                        "the sheet `{name}` spans {} rows by {} columns, more than the {MAX_SHEET_CELLS} cells a sheet may (a cell far from the others, such as one at the sheet's last row or column?)",
                        rows.1 - rows.0 + 1,
                        cols.1 - cols.0 + 1
                    ),
                ));
            }
        }
    }
    workbook.worksheet_range(name).map_err(|e| unreadable(&e))
}

fn spreadsheet_columns(path: &Path, sheet: Option<&str>) -> Result<Vec<String>, SourceError> {
    use calamine::Reader;
    let mut workbook = open_workbook(path)?;
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
    let range = sheet_range(&mut workbook, &name, path)?;
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
            let format = source
                .resolved_format()
                .ok_or_else(|| SourceError::UnknownFormat(resolve_path(base, file)))?;
            let path = locate(base, file)?;
            let iter: Box<dyn Iterator<Item = Result<Row, RowError>> + Send> = match format {
                FileFormat::Csv => Box::new(CsvRows {
                    reader: csv_reader(&path, csv_delimiter(source))?,
                    width: header.len(),
                    lines: LineCounter {
                        reader: BufReader::new(open_file(&path)?),
                        byte: 0,
                        line: 1,
                    },
                    done: false,
                }),
                FileFormat::Xlsx | FileFormat::Ods => Box::new(
                    spreadsheet_rows(&path, source.sheet(), source.phone_column(), &header)?
                        .into_iter(),
                ),
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

struct CsvRows {
    reader: csv::Reader<RecordCap<File>>,
    width: usize,
    lines: LineCounter,
    /// The file cannot be read on (a record too long, a disk error): nothing more comes.
    done: bool,
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
        if self.done {
            return None;
        }
        let mut record = csv::StringRecord::new();
        loop {
            return match self.reader.read_record(&mut record) {
                Ok(false) => None,
                Ok(true) => {
                    let number = record
                        .position()
                        .map_or(0, |p| self.lines.line_at(p.byte()));
                    if record.len() != self.width && record.iter().all(|c| c.trim().is_empty()) {
                        // A blank line: nothing to call, nothing to report.
                        continue;
                    }
                    Some(Ok(Row {
                        number,
                        cells: record,
                        numeric_phone: false,
                    }))
                }
                Err(e) => {
                    let number = e.position().map_or(0, |p| self.lines.line_at(p.byte()));
                    if let csv::ErrorKind::Io(io) = e.kind() {
                        self.done = true;
                        return Some(Err(RowError {
                            number,
                            message: format!("{io}; the rest of the file is not read"),
                        }));
                    }
                    Some(Err(RowError {
                        number,
                        message: e.to_string(),
                    }))
                }
            };
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
    let mut workbook = open_workbook(path)?;
    let name = match sheet {
        Some(s) => s.to_owned(),
        None => workbook
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| SourceError::NoHeader(path.to_path_buf()))?,
    };
    let range = sheet_range(&mut workbook, &name, path)?;
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

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`, with its time of day
/// (`YYYY-MM-DDTHH:MM:SS`) when the cell has one: an appointment's time matters as much as
/// its date.
fn excel_date(serial: f64) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded by the range check above"
    )]
    let mut days = serial.floor() as i64;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a fraction of a day in seconds, 0 to 86400"
    )]
    let mut seconds = ((serial - serial.floor()) * 86_400.0).round() as i64;
    if seconds >= 86_400 {
        // Rounded up to the next midnight.
        days += 1;
        seconds = 0;
    }
    let date = jiff::civil::date(1899, 12, 30)
        .checked_add(jiff::Span::new().days(days))
        .ok()?;
    if seconds == 0 {
        return Some(date.to_string());
    }
    let part = |n: i64| i8::try_from(n).ok();
    let time = jiff::civil::Time::new(
        part(seconds / 3600)?,
        part(seconds / 60 % 60)?,
        part(seconds % 60)?,
        0,
    )
    .ok()?;
    Some(date.to_datetime(time).to_string())
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

#[cfg(test)]
mod tests {
    use super::excel_date;

    #[test]
    fn xlsx_datetime_cells_keep_their_time_of_day() {
        assert_eq!(excel_date(46_082.0).as_deref(), Some("2026-03-01"));
        let half_past_two = 46_082.0 + 14.5 / 24.0;
        assert_eq!(
            excel_date(half_past_two).as_deref(),
            Some("2026-03-01T14:30:00")
        );
        // A time a hair before midnight rounds to the next day, with no time left over.
        assert_eq!(excel_date(46_082.999_999_9).as_deref(), Some("2026-03-02"));
        assert_eq!(excel_date(-1.0), None);
        // And the date reader reads the time back (what a template's date helpers show).
        let rules = crate::render::dates::DateRules::strict_today();
        let moment = rules.read("2026-03-01T14:30:00", None).unwrap();
        assert_eq!(moment.time, Some(jiff::civil::time(14, 30, 0, 0)));
    }
}
