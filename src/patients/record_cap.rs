//! Readers that hold a patient file to one record at a time: a CSV record, an NDJSON line or
//! a JSON array element over [`MAX_RECORD_BYTES`] is an error naming its line, never a buffer
//! that grows with the file (issue 14, class 18).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use super::source::MAX_RECORD_BYTES;
use crate::load::input_file;

/// The error a capped reader gives for a record over [`MAX_RECORD_BYTES`], told apart from
/// the disk's errors by its type.
#[derive(Debug)]
pub(super) struct TooLong(String);

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TooLong {}

pub(super) fn too_long(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, TooLong(message))
}

/// Whether a CSV error is a capped reader's [`TooLong`].
pub(super) fn is_too_long(e: &csv::Error) -> bool {
    match e.kind() {
        csv::ErrorKind::Io(io) => io
            .get_ref()
            .is_some_and(<dyn std::error::Error + Send + Sync>::is::<TooLong>),
        _ => false,
    }
}

/// A reader that refuses to go on past [`MAX_RECORD_BYTES`] since `read` was last reset
/// (the JSON readers reset it after each element of the array).
pub(super) struct ElementCap<R> {
    pub(super) inner: R,
    pub(super) read: Rc<Cell<u64>>,
}

impl<R: Read> Read for ElementCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.read.get() + n as u64;
        self.read.set(total);
        if total > MAX_RECORD_BYTES {
            return Err(too_long(format!(
                "a record is longer than {}",
                input_file::size(MAX_RECORD_BYTES)
            )));
        }
        Ok(n)
    }
}

/// A CSV file's bytes, refused once one record runs past [`MAX_RECORD_BYTES`]: the parser
/// would buffer a record whole. Records end at a line break outside quotes, as the parser
/// reads them (a quote opens a quoted field only at a field's start).
pub(super) struct RecordCap<R> {
    inner: R,
    delimiter: u8,
    state: CsvState,
    /// Bytes of the record under way.
    since: u64,
    /// The line the record under way starts on, and the line being read.
    start_line: u64,
    line: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> RecordCap<R> {
    pub(super) fn new(inner: R, delimiter: u8) -> Self {
        RecordCap {
            inner,
            delimiter,
            state: CsvState::FieldStart,
            since: 0,
            start_line: 1,
            line: 1,
        }
    }
}

impl<R> RecordCap<R> {
    /// Follows `bytes` as the parser reads them, byte by byte.
    fn follow(&mut self, bytes: &[u8]) -> io::Result<()> {
        use CsvState::{FieldStart, QuoteInQuoted, Quoted, Unquoted};
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
            }
            self.state = match (self.state, b) {
                (Quoted, b'"') => QuoteInQuoted,
                (FieldStart | QuoteInQuoted, b'"') | (Quoted, _) => Quoted,
                (FieldStart | Unquoted | QuoteInQuoted, b'\n') => {
                    self.since = 0;
                    self.start_line = self.line;
                    FieldStart
                }
                (FieldStart | Unquoted | QuoteInQuoted, d) if d == self.delimiter => FieldStart,
                _ => Unquoted,
            };
            self.since += 1;
            if self.since > MAX_RECORD_BYTES {
                return Err(too_long(format!(
                    "the record that starts on line {} is longer than {}",
                    self.start_line,
                    input_file::size(MAX_RECORD_BYTES)
                )));
            }
        }
        Ok(())
    }

    /// [`RecordCap::follow`] for the common case, a read outside quotes with no quote in it
    /// and no record too long, without its byte-by-byte steps (they were a fifth of reading a
    /// large file). `false`: not that case, nothing was changed.
    fn skim(&mut self, bytes: &[u8]) -> bool {
        use CsvState::{FieldStart, Unquoted};
        let Some(&last) = bytes.last() else {
            return true;
        };
        if !matches!(self.state, FieldStart | Unquoted) || bytes.contains(&b'"') {
            return false;
        }
        let len = bytes.len() as u64;
        let (first, after_last) = match (
            bytes.iter().position(|&b| b == b'\n'),
            bytes.iter().rposition(|&b| b == b'\n'),
        ) {
            (Some(first), Some(last_break)) => (first as u64, Some(len - last_break as u64)),
            _ => (len, None),
        };
        // A record too long is found (and its error worded) byte by byte.
        if self.since + first > MAX_RECORD_BYTES || len > MAX_RECORD_BYTES {
            return false;
        }
        if let Some(after) = after_last {
            self.line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            self.start_line = self.line;
            self.since = after;
        } else {
            self.since += len;
        }
        self.state = if last == b'\n' || last == self.delimiter {
            FieldStart
        } else {
            Unquoted
        };
        true
    }
}

impl<R: Read> Read for RecordCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.skim(&buf[..n]) {
            self.follow(&buf[..n])?;
        }
        Ok(n)
    }
}

/// Why a line of an NDJSON file could not be read.
pub(super) enum LineError {
    /// The file cannot be read on: the lines stop.
    Io(io::Error),
    /// This line (its number) is too long or not text; the next lines are read.
    Bad(u64, String),
}

/// The lines of a file with their numbers, each at most [`MAX_RECORD_BYTES`] long: a longer
/// one is skipped (read through, not kept) and reported.
pub(super) struct CappedLines {
    reader: BufReader<File>,
    number: u64,
    done: bool,
}

impl CappedLines {
    pub(super) fn new(file: File) -> Self {
        CappedLines {
            reader: BufReader::new(file),
            number: 0,
            done: false,
        }
    }
}

impl Iterator for CappedLines {
    type Item = Result<(u64, String), LineError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        let mut too_long = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(LineError::Io(e)));
                }
            };
            if buf.is_empty() {
                self.done = true;
                if line.is_empty() && !too_long {
                    return None;
                }
                break;
            }
            let (take, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !too_long {
                if (line.len() + take) as u64 > MAX_RECORD_BYTES + 1 {
                    too_long = true;
                    line = Vec::new();
                } else {
                    line.extend_from_slice(&buf[..take]);
                }
            }
            self.reader.consume(take);
            if end {
                break;
            }
        }
        self.number += 1;
        if too_long {
            return Some(Err(LineError::Bad(
                self.number,
                format!(
                    "the line is longer than {}",
                    input_file::size(MAX_RECORD_BYTES)
                ),
            )));
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Some(match String::from_utf8(line) {
            Ok(text) => Ok((self.number, text)),
            Err(_) => Err(LineError::Bad(
                self.number,
                "the line is not UTF-8 text".to_owned(),
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(c: &RecordCap<()>) -> (CsvState, u64, u64, u64) {
        (c.state, c.since, c.start_line, c.line)
    }

    /// Reads `chunks` both ways: skimmed where it can be, and byte by byte only.
    fn both(chunks: &[Vec<u8>]) -> (Vec<bool>, Vec<bool>, RecordCap<()>, RecordCap<()>) {
        let (mut fast, mut slow) = (RecordCap::new((), b','), RecordCap::new((), b','));
        let (mut fast_ok, mut slow_ok) = (Vec::new(), Vec::new());
        for chunk in chunks {
            fast_ok.push(fast.skim(chunk) || fast.follow(chunk).is_ok());
            slow_ok.push(slow.follow(chunk).is_ok());
        }
        (fast_ok, slow_ok, fast, slow)
    }

    proptest::proptest! {
        /// Skimming a read ends where following it byte by byte does.
        #[test]
        fn skimming_agrees_with_following_byte_by_byte(
            chunks in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec![b'a', b',', b'\n', b'"', b'\r']), 0..64),
                1..20,
            ),
        ) {
            let (fast_ok, slow_ok, fast, slow) = both(&chunks);
            proptest::prop_assert_eq!(fast_ok, slow_ok);
            proptest::prop_assert_eq!(state(&fast), state(&slow));
        }
    }

    #[test]
    fn a_record_too_long_is_refused_either_way() {
        let line = vec![b'a'; 300 * 1024];
        let mut chunks = vec![b"phone\n".to_vec()];
        chunks.extend(std::iter::repeat_n(line, 5));
        let (fast_ok, slow_ok, ..) = both(&chunks);
        assert_eq!(fast_ok, slow_ok);
        assert_eq!(fast_ok, [true, true, true, true, false, false]);
    }
}
