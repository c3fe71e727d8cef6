//! The text of a CSV source as UTF-8, decoded as it streams (issue 19).
//!
//! Left to itself, a source is read as UTF-8, with or without a byte-order mark, or as
//! UTF-16 when a byte-order mark says so. Any other file that is not valid UTF-8 is refused,
//! naming the encoding it looks like and the option to set: a wrong guess would put garbled
//! names in patients' ears, so none is made. With `encoding:` the file is decoded by
//! `encoding_rs`. Memory is two fixed buffers, whatever the file holds.

use std::io::{self, Read};

use encoding_rs::{DecoderResult, Encoding, REPLACEMENT, UTF_8};

/// Bytes read from the file at a time.
const INPUT_BUFFER: usize = 8 * 1024;
/// Decoded bytes held at a time (the decoder stops when it is full and goes on at the next
/// read).
const OUTPUT_BUFFER: usize = 16 * 1024;

/// Why a source's text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// `encoding:` names no encoding (a WHATWG label) this tool can decode.
    #[error("`{0}` is not a text encoding this tool knows")]
    Unknown(String),
    /// No `encoding:` was given and the file is not UTF-8 (nor UTF-16 with a byte-order mark).
    #[error("is not UTF-8 text (line {line} is not) and has no byte-order mark; it looks like {}", likely.describe())]
    NotUtf8 { line: u64, likely: Likely },
    /// The file is not valid in the encoding it was read in.
    #[error("is not valid {encoding} text (line {line} is not)")]
    Malformed { line: u64, encoding: &'static str },
}

impl EncodingError {
    /// What to do about it, naming the option to set.
    pub fn advice(&self) -> String {
        match self {
            EncodingError::Unknown(_) => "name an encoding such as `windows-1252`, `iso-8859-1`, `utf-16le` or `utf-16be` (the WHATWG labels), or leave `encoding:` out for UTF-8".to_owned(),
            EncodingError::NotUtf8 { likely, .. } => format!(
                "if it is, set `encoding: {}` on the source (or save the file as UTF-8): the encoding is never guessed, since a wrong one garbles patients' names",
                likely.label()
            ),
            EncodingError::Malformed { .. } => "check the source's `encoding:`: the file was saved in another one".to_owned(),
        }
    }

    /// The error of a CSV reader that read through a [`Decoded`], if that is what it is.
    pub fn of_csv(e: &csv::Error) -> Option<&EncodingError> {
        match e.kind() {
            csv::ErrorKind::Io(io) => Self::of_io(io),
            _ => None,
        }
    }

    /// The error of a [`Decoded`] reader, if that is what `io` is.
    pub fn of_io(io: &io::Error) -> Option<&EncodingError> {
        io.get_ref().and_then(|e| e.downcast_ref::<EncodingError>())
    }
}

/// The encoding a file that is not UTF-8 looks like, from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likely {
    /// Every other byte is zero, the zeros second: UTF-16 little-endian without its mark.
    Utf16Le,
    /// Every other byte is zero, the zeros first.
    Utf16Be,
    /// Anything else: Windows' own single-byte text, as Excel on Windows saves CSV.
    Windows1252,
}

impl Likely {
    /// The value of `encoding:` that reads it.
    pub fn label(self) -> &'static str {
        match self {
            Likely::Utf16Le => "utf-16le",
            Likely::Utf16Be => "utf-16be",
            Likely::Windows1252 => "windows-1252",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Likely::Utf16Le => "UTF-16 (little-endian) without a byte-order mark",
            Likely::Utf16Be => "UTF-16 (big-endian) without a byte-order mark",
            Likely::Windows1252 => "Windows-1252, as Excel on Windows saves CSV",
        }
    }

    /// From some of the file's bytes, `start` being the offset of `bytes[0]` in the file.
    fn of(bytes: &[u8], start: u64) -> Likely {
        let (mut even, mut odd) = (0usize, 0usize);
        for (i, &b) in bytes.iter().enumerate() {
            if b == 0 {
                if (start + i as u64).is_multiple_of(2) {
                    even += 1;
                } else {
                    odd += 1;
                }
            }
        }
        // Latin text in UTF-16 has a zero in nearly every other byte.
        if odd * 4 > bytes.len() && odd > even * 4 {
            Likely::Utf16Le
        } else if even * 4 > bytes.len() && even > odd * 4 {
            Likely::Utf16Be
        } else {
            Likely::Windows1252
        }
    }
}

/// The encoding a source names, or `None` for the default (UTF-8, or UTF-16 by its mark).
pub fn resolve(label: Option<&str>) -> Result<Option<&'static Encoding>, EncodingError> {
    let Some(label) = label else {
        return Ok(None);
    };
    match Encoding::for_label(label.trim().as_bytes()) {
        // The "replacement" encoding decodes everything to one U+FFFD: never a patient's name.
        Some(e) if e != REPLACEMENT => Ok(Some(e)),
        _ => Err(EncodingError::Unknown(label.chars().take(40).collect())),
    }
}

/// A reader of UTF-8 over a file in another (or the same) encoding.
pub struct Decoded<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    /// Whether an encoding was named (else a malformed byte is "not UTF-8").
    named: bool,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    /// The file's offset of `input[0]`.
    in_offset: u64,
    output: Box<[u8]>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    finished: bool,
    /// Line breaks handed out so far.
    lines: u64,
    failed: Option<EncodingError>,
}

impl<R: Read> Decoded<R> {
    /// Reads `inner` in `encoding`, or by the default rules when it is `None`. A byte-order
    /// mark always wins (and is not handed out): a file that starts with one says what it is.
    pub fn new(inner: R, encoding: Option<&'static Encoding>) -> Self {
        Decoded {
            inner,
            decoder: encoding.unwrap_or(UTF_8).new_decoder(),
            named: encoding.is_some(),
            input: vec![0; INPUT_BUFFER].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            in_offset: 0,
            output: vec![0; OUTPUT_BUFFER].into_boxed_slice(),
            out_pos: 0,
            out_len: 0,
            eof: false,
            finished: false,
            lines: 0,
            failed: None,
        }
    }

    /// The encoding being read: known once the first bytes are read (a byte-order mark may
    /// have changed it).
    pub fn encoding(&self) -> &'static Encoding {
        self.decoder.encoding()
    }

    fn fill(&mut self) -> io::Result<()> {
        self.in_offset += self.in_len as u64;
        self.in_pos = 0;
        self.in_len = 0;
        loop {
            match self.inner.read(&mut self.input) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.in_len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn decode(&mut self) {
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.in_pos..self.in_len],
            &mut self.output,
            self.eof,
        );
        self.in_pos += read;
        self.out_pos = 0;
        self.out_len = written;
        if !self.named
            && let Some(nul) = self.output[..written].iter().position(|&b| b == 0)
        {
            // Text has no NUL characters; UTF-16 without its mark is mostly ASCII and NULs,
            // which is valid UTF-8 (issue 19): refused as what it looks like.
            self.out_len = nul;
            let line =
                self.lines + 1 + self.output[..nul].iter().filter(|&&b| b == b'\n').count() as u64;
            self.failed = Some(EncodingError::NotUtf8 {
                line,
                likely: Likely::of(&self.input[..self.in_len], self.in_offset),
            });
            return;
        }
        match result {
            DecoderResult::InputEmpty => self.finished = self.eof,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(..) => {
                let line = self.lines
                    + 1
                    + self.output[..written]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                self.failed = Some(if self.named {
                    EncodingError::Malformed {
                        line,
                        encoding: self.decoder.encoding().name(),
                    }
                } else {
                    EncodingError::NotUtf8 {
                        line,
                        likely: Likely::of(&self.input[..self.in_len], self.in_offset),
                    }
                });
            }
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                let part = &self.output[self.out_pos..self.out_pos + n];
                buf[..n].copy_from_slice(part);
                self.lines += part.iter().filter(|&&b| b == b'\n').count() as u64;
                self.out_pos += n;
                return Ok(n);
            }
            if let Some(e) = &self.failed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone()));
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.eof {
                self.fill()?;
            }
            self.decode();
        }
    }
}

/// Reads a whole file through [`Decoded`] and returns the encoding it is in, or why it
/// cannot be read: a source is refused before its first row is planned, not halfway.
pub fn check<R: Read>(
    inner: R,
    encoding: Option<&'static Encoding>,
) -> io::Result<&'static Encoding> {
    let mut decoded = Decoded::new(inner, encoding);
    let mut sink = vec![0u8; OUTPUT_BUFFER];
    while decoded.read(&mut sink)? > 0 {}
    Ok(decoded.encoding())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], label: Option<&str>) -> Result<String, EncodingError> {
        let mut out = String::new();
        Decoded::new(bytes, resolve(label)?)
            .read_to_string(&mut out)
            .map_err(|e| {
                EncodingError::of_io(&e)
                    .cloned()
                    .expect("an encoding error")
            })?;
        Ok(out)
    }

    fn utf16(text: &str, big: bool) -> Vec<u8> {
        let mut out = if big {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            out.extend(if big {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn utf8_with_or_without_a_mark_and_utf16_by_its_mark_are_read_as_they_are() {
        let text = "name,phone\nAsma\u{2019}u,08031234567\n";
        assert_eq!(read_all(text.as_bytes(), None).unwrap(), text);
        let marked = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(read_all(&marked, None).unwrap(), text);
        assert_eq!(read_all(&utf16(text, false), None).unwrap(), text);
        assert_eq!(read_all(&utf16(text, true), None).unwrap(), text);
    }

    #[test]
    fn windows_1252_is_refused_naming_the_option_and_read_with_it() {
        let bytes = b"name,phone\nAda,0803\nAsma\x92u,08031234567\n";
        let e = read_all(bytes, None).unwrap_err();
        assert_eq!(
            e,
            EncodingError::NotUtf8 {
                line: 3,
                likely: Likely::Windows1252
            }
        );
        assert!(
            e.advice().contains("`encoding: windows-1252`"),
            "{}",
            e.advice()
        );
        assert_eq!(
            read_all(bytes, Some("windows-1252")).unwrap(),
            "name,phone\nAda,0803\nAsma\u{2019}u,08031234567\n"
        );
    }

    #[test]
    fn utf16_without_its_mark_is_named_as_such() {
        let bytes = &utf16("name,phone\n\u{2019}\n", false)[2..];
        // Little-endian ASCII without a mark is valid UTF-8, its zeros NUL characters (and
        // U+2019 is the bytes 0x19 0x20): refused at the first NUL.
        match read_all(bytes, None) {
            Err(EncodingError::NotUtf8 { likely, line }) => {
                assert_eq!((likely, line), (Likely::Utf16Le, 1));
            }
            other => panic!("{other:?}"),
        }
        let big = &utf16("name,phone\n", true)[2..];
        assert!(matches!(
            read_all(big, None),
            Err(EncodingError::NotUtf8 {
                likely: Likely::Utf16Be,
                ..
            })
        ));
        assert_eq!(
            read_all(bytes, Some("utf-16le")).unwrap(),
            "name,phone\n\u{2019}\n"
        );
    }

    #[test]
    fn a_broken_file_in_a_named_encoding_is_malformed_and_unknown_labels_are_refused() {
        // A lone low surrogate.
        let e = read_all(&[0xFF, 0xFE, b'a', 0, 0x00, 0xDC], Some("utf-16le")).unwrap_err();
        assert!(
            matches!(e, EncodingError::Malformed { line: 1, .. }),
            "{e:?}"
        );
        assert_eq!(
            resolve(Some("klingon")).unwrap_err(),
            EncodingError::Unknown("klingon".to_owned())
        );
        assert!(
            resolve(Some("iso-2022-kr")).is_err(),
            "the replacement encoding"
        );
    }

    #[test]
    fn a_long_file_streams_through_small_reads_with_its_line_counted() {
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(b"caf\xe9,1\n");
        }
        bytes.extend_from_slice(b"\x81\n");
        // 0x81 is undefined in windows-1252 yet mapped by WHATWG: the file reads whole.
        let text = read_all(&bytes, Some("windows-1252")).unwrap();
        assert_eq!(text.lines().count(), 10_001);
        let e = read_all(&bytes, None).unwrap_err();
        assert_eq!(
            e,
            EncodingError::NotUtf8 {
                line: 1,
                likely: Likely::Windows1252
            }
        );
        let mut tail = b"ok\n".repeat(5000);
        tail.extend_from_slice(b"caf\xe9\n");
        assert!(matches!(
            read_all(&tail, None),
            Err(EncodingError::NotUtf8 { line: 5001, .. })
        ));
    }
}
