//! CSV sources: the text decoded as it streams ([`super::encoding`]), the header found on
//! its row, the rows below it, each with the line it starts on.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::encoding::{self, Decoded, EncodingError};
use super::record_cap::{RecordCap, is_too_long};
use super::source::{Row, RowError, SourceError, open_file};
use crate::campaign::Source;

/// A CSV file's text: decoded to UTF-8, then held to one record at a time.
type Text = RecordCap<Decoded<File>>;

fn delimiter(source: &dyn Source) -> u8 {
    source
        .delimiter()
        .and_then(|d| d.bytes().next())
        .unwrap_or(b',')
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|c| c.trim().is_empty())
}

/// What a CSV reader's error says of the file, without what it holds.
fn problem(path: &Path, e: &csv::Error) -> SourceError {
    if is_too_long(e) {
        SourceError::TooLarge(path.to_path_buf(), e.to_string())
    } else if let Some(enc) = EncodingError::of_csv(e) {
        SourceError::Encoding(path.to_path_buf(), enc.clone())
    } else {
        SourceError::Unreadable(path.to_path_buf(), e.to_string())
    }
}

/// A version of a file whose text was decoded whole and found good in this process: `plan`
/// validates a campaign (which checks its sources) and then opens them to plan, and a
/// million-row file was decoded twice before its first row. A file written since has another
/// length or modification time, and is checked again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
    encoding: Option<&'static str>,
}

/// The versions checked, the latest last (at most [`CHECKED_KEPT`]).
static CHECKED: std::sync::Mutex<Vec<Version>> = std::sync::Mutex::new(Vec::new());
const CHECKED_KEPT: usize = 64;

impl Version {
    /// The version of the file opened (`None` where it cannot be told).
    #[cfg(not(unix))]
    fn of(_: &File, _: Option<&'static encoding_rs::Encoding>) -> Option<Version> {
        None
    }

    /// The version of the file opened (`None` where it cannot be told).
    #[cfg(unix)]
    fn of(file: &File, encoding: Option<&'static encoding_rs::Encoding>) -> Option<Version> {
        use std::os::unix::fs::MetadataExt as _;
        let meta = file.metadata().ok()?;
        Some(Version {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: meta.modified().ok(),
            encoding: encoding.map(encoding_rs::Encoding::name),
        })
    }

    fn was_checked(&self) -> bool {
        CHECKED.lock().is_ok_and(|c| c.contains(self))
    }

    fn remember(self) {
        if let Ok(mut checked) = CHECKED.lock() {
            if checked.len() == CHECKED_KEPT {
                checked.remove(0);
            }
            checked.push(self);
        }
    }
}

/// Opens a CSV source: its columns, and its rows below the header and the `skip_rows` after
/// it. With `check`, the whole file is decoded once first, so that a file not in its
/// encoding is refused before any row is planned rather than cut short at the row that
/// shows it (a file changed since it was checked is still cut short there, with a row error).
pub(super) fn open(
    path: &Path,
    source: &dyn Source,
    check: bool,
) -> Result<(Vec<String>, CsvRows), SourceError> {
    let named = encoding::resolve(source.encoding())
        .map_err(|e| SourceError::Encoding(path.to_path_buf(), e))?;
    if check {
        let file = open_file(path)?;
        let version = Version::of(&file, named);
        if !version.as_ref().is_some_and(Version::was_checked) {
            encoding::check(file, named).map_err(|e| match EncodingError::of_io(&e) {
                Some(enc) => SourceError::Encoding(path.to_path_buf(), enc.clone()),
                None => SourceError::Unreadable(path.to_path_buf(), e.to_string()),
            })?;
            if let Some(v) = version {
                v.remember();
            }
        }
    }
    let delimiter = delimiter(source);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(RecordCap::new(
            Decoded::new(open_file(path)?, named),
            delimiter,
        ));
    let mut lines = LineCounter {
        reader: BufReader::new(Decoded::new(open_file(path)?, named)),
        byte: 0,
        line: 1,
    };
    let header_row = u64::from(source.header_row());
    let mut record = csv::StringRecord::new();
    let header: Vec<String> = loop {
        match reader.read_record(&mut record) {
            Ok(false) if header_row > 1 => {
                return Err(SourceError::HeaderNotFound(
                    path.to_path_buf(),
                    source.header_row(),
                ));
            }
            Ok(false) => return Err(SourceError::NoHeader(path.to_path_buf())),
            Ok(true) => {
                let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                if line < header_row || is_blank(&record) {
                    continue;
                }
                break record
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
            }
            Err(e) => return Err(problem(path, &e)),
        }
    };
    let mut skip = source.skip_rows();
    while skip > 0 {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => {}
            Ok(true) => skip -= 1,
            Err(e) => return Err(problem(path, &e)),
        }
    }
    let rows = CsvRows {
        reader,
        width: header.len(),
        lines,
        done: false,
    };
    Ok((header, rows))
}

pub(super) struct CsvRows {
    reader: csv::Reader<Text>,
    width: usize,
    lines: LineCounter,
    /// The file cannot be read on (a record too long, a disk error): nothing more comes.
    done: bool,
}

/// Turns byte offsets into line numbers by reading the file alongside the CSV parser (whose
/// own line count drifts on CRLF files and quoted line breaks).
struct LineCounter {
    reader: BufReader<Decoded<File>>,
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
                        let message = match EncodingError::of_io(io) {
                            Some(e) => format!("the file {e}; the rest of it is not read"),
                            None => format!("{io}; the rest of the file is not read"),
                        };
                        return Some(Err(RowError { number, message }));
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
/// The first `max` non-blank records of a CSV file, each with the line it starts on, read
/// in `encoding` (for `init`, to find the header by where the phone numbers are).
pub fn head(
    path: &Path,
    delimiter: u8,
    encoding: Option<&'static encoding_rs::Encoding>,
    max: usize,
) -> Result<Vec<(u64, Vec<String>)>, SourceError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(RecordCap::new(
            Decoded::new(open_file(path)?, encoding),
            delimiter,
        ));
    let mut lines = LineCounter {
        reader: BufReader::new(Decoded::new(open_file(path)?, encoding)),
        byte: 0,
        line: 1,
    };
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    while out.len() < max {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => {}
            Ok(true) => {
                let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                out.push((line, record.iter().map(|c| c.trim().to_owned()).collect()));
            }
            Err(e) => return Err(problem(path, &e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> crate::campaign::PatientSource {
        serde_json::from_value(serde_json::json!({"file": "p.csv", "phone_column": "phone"}))
            .unwrap()
    }

    /// A version checked once is not decoded again, but a file written since is: the check
    /// that refuses a file not in its encoding still runs on what is there now.
    #[test]
    fn a_file_written_since_it_was_checked_is_checked_again() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.csv");
        std::fs::write(&file, "phone,name\n+2348031234567,Ada\n").unwrap();
        assert!(open(&file, &source(), true).is_ok());
        let opened = open_file(&file).unwrap();
        assert!(Version::of(&opened, None).unwrap().was_checked());
        // Not UTF-8, one byte longer.
        std::fs::write(&file, b"phone,name\n+2348031234567,Ad\xe9a\n").unwrap();
        let opened = open_file(&file).unwrap();
        assert!(!Version::of(&opened, None).unwrap().was_checked());
        assert!(matches!(
            open(&file, &source(), true),
            Err(SourceError::Encoding(..))
        ));
        // A refused file is never remembered as checked.
        assert!(matches!(
            open(&file, &source(), true),
            Err(SourceError::Encoding(..))
        ));
    }
}
