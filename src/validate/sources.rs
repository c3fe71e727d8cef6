//! The rules about a campaign's sources: each file exists, can be read, and has every column
//! the campaign uses (with the brackets a column with spaces needs), and each opt-out list's
//! entries are numbers.

use super::{
    BTreeSet, Code, Diagnostic, Document, ExclusionSource, Path, PathBuf, Source, SourceError,
    check_country,
};
use crate::patients::encoding::EncodingError;

pub(super) fn check_source(
    s: &dyn Source,
    pointer: &str,
    base: &Path,
    doc: &Document,
    needed: &[(String, String)],
    what: &str,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(country) = s.default_country() {
        check_country(country, &format!("{pointer}/default_country"), doc, out);
    }
    if let Some(d) = s.delimiter()
        && d.chars().count() == 1
        && !d.is_ascii()
    {
        out.push(
            Diagnostic::error(
                Code::BadDelimiter,
                format!("the delimiter `{d}` is not a plain ASCII character"),
            )
            .at(
                format!("{pointer}/delimiter"),
                doc.span(&format!("{pointer}/delimiter")),
            ),
        );
    }
    let columns = match columns_once(s, base) {
        Ok(cols) => cols,
        Err(e) => {
            out.push(unreadable(&e, pointer, what, doc));
            return;
        }
    };
    let format = s.resolved_format();
    if s.sheet().is_some()
        && !matches!(
            format,
            Some(crate::campaign::FileFormat::Xlsx | crate::campaign::FileFormat::Ods)
        )
    {
        let p = format!("{pointer}/sheet");
        out.push(
            Diagnostic::error(
                Code::SourceOptionMismatch,
                "`sheet` only applies to spreadsheets (xlsx, ods)",
            )
            .at(p.clone(), doc.key_span(&p)),
        );
    }
    check_reading_options(s, pointer, format, doc, out);
    if s.delimiter().is_some() && format != Some(crate::campaign::FileFormat::Csv) {
        let p = format!("{pointer}/delimiter");
        out.push(
            Diagnostic::error(
                Code::SourceOptionMismatch,
                "`delimiter` only applies to CSV files",
            )
            .at(p.clone(), doc.key_span(&p)),
        );
    }
    let name = s.file().map_or_else(
        || {
            format!(
                "the inline records of {what} source {} have",
                source_label(pointer)
            )
        },
        |f| format!("`{f}` has"),
    );
    check_columns(&name, &columns, pointer, needed, doc, out);
}

/// A source's columns, read once per version of its file (size and time of change) and way
/// of reading it, however many campaigns name it: `validate` of a repository whose campaigns
/// share one register read its header (and, for CSV, checked its whole text) once per
/// campaign. Whether the campaign may read the file is asked every time (each campaign has
/// its own repository); only a file's columns are kept, never an error.
fn columns_once(
    s: &dyn Source,
    base: &Path,
) -> Result<Vec<String>, crate::patients::source::SourceError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};

    use crate::patients::source::{columns, locate};
    /// The file, its version (size, time of change, and on Unix its inode and the time its
    /// status changed, which no tool sets back: `cp -p`, `touch -r` and coarse timestamps
    /// keep the time of change of an edited file), and every option that changes how its
    /// header is read.
    type Key = (
        PathBuf,
        u64,
        Option<std::time::SystemTime>,
        [i64; 3],
        String,
    );
    /// A long `watch` session sees many versions: past this many, the record starts again.
    const KEPT: usize = 4096;
    static READ: Mutex<Option<HashMap<Key, Vec<String>>>> = Mutex::new(None);

    // Inline records are part of the campaign itself; a source with both or an unknown
    // format is refused by `columns` in its own words, in its own order.
    let (Some(file), None, Some(_)) = (s.file(), s.inline(), s.resolved_format()) else {
        return columns(s, base);
    };
    let path = locate(base, file)?;
    let Ok(meta) = std::fs::metadata(&path) else {
        return columns(s, base);
    };
    let how = format!(
        "{:?}|{:?}|{:?}|{}|{}|{:?}|{:?}",
        s.resolved_format(),
        s.sheet(),
        s.delimiter(),
        s.header_row(),
        s.skip_rows(),
        s.encoding(),
        s.numbers_as(),
    );
    #[cfg(unix)]
    let status = {
        use std::os::unix::fs::MetadataExt as _;
        [
            i64::try_from(meta.ino()).unwrap_or(i64::MAX),
            meta.ctime(),
            meta.ctime_nsec(),
        ]
    };
    #[cfg(not(unix))]
    let status = [0; 3];
    let key = (path, meta.len(), meta.modified().ok(), status, how);
    let lock = || READ.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = lock().as_ref().and_then(|read| read.get(&key)) {
        return Ok(found.clone());
    }
    // Read outside the lock: validate checks files on every core.
    let found = columns(s, base)?;
    let mut read = lock();
    let read = read.get_or_insert_with(HashMap::new);
    if read.len() >= KEPT {
        read.clear();
    }
    read.insert(key, found.clone());
    Ok(found)
}

/// Why a source could not be read, as a diagnostic at the field to change.
fn unreadable(e: &SourceError, pointer: &str, what: &str, doc: &Document) -> Diagnostic {
    let file_ptr = format!("{pointer}/file");
    let (code, target, help) = match e {
        SourceError::Missing(_) => (
            Code::SourceMissing,
            file_ptr,
            if what == "opt-out" {
                "an opt-out list must exist: without it nobody is called. Check the path; it is relative to the campaign file"
            } else {
                "check the path; it is relative to the campaign file"
            },
        ),
        SourceError::Outside { .. } | SourceError::InGit(_) => (
            Code::SourceOutside,
            file_ptr,
            "keep patient and opt-out files in the campaign's repository (not in .git), or allow a folder outside it with `--allow-source-outside DIR`",
        ),
        SourceError::NotAFile(..) => (
            Code::SourceNotAFile,
            file_ptr,
            "name a regular file: a named pipe, a device or a file of the kernel's is never read",
        ),
        SourceError::TooLarge(..) => (
            Code::SourceTooLarge,
            file_ptr,
            "check that the file is in the format its name says; split a larger list into several sources",
        ),
        SourceError::Unreadable(..) | SourceError::NoHeader(_) => (
            Code::SourceUnreadable,
            file_ptr,
            "check that the file is in the format its name says",
        ),
        SourceError::HeaderNotFound(..) => (
            Code::SourceUnreadable,
            format!("{pointer}/header_row"),
            "`header_row` is the row number the spreadsheet shows (or the CSV line) of the column names",
        ),
        SourceError::Encoding(_, enc) => {
            let target = if matches!(enc, EncodingError::NotUtf8 { .. }) {
                file_ptr
            } else {
                format!("{pointer}/encoding")
            };
            let span = doc.span(&target);
            return Diagnostic::error(
                Code::SourceEncoding,
                format!("{what} source {}: {e}", source_label(pointer)),
            )
            .at(target, span)
            .help(enc.advice());
        }
        SourceError::NoSheet { .. } => (
            Code::SourceNoSheet,
            format!("{pointer}/sheet"),
            "sheet names are case-sensitive",
        ),
        SourceError::UnknownFormat(_) => (
            Code::SourceUnknownFormat,
            file_ptr,
            "add `format: csv` (or xlsx, ods, json, ndjson)",
        ),
        SourceError::Neither | SourceError::Both => (
            Code::SourceFileOrInline,
            pointer.to_owned(),
            "give `file: patients.csv` or an `inline:` list of records",
        ),
    };
    let span = doc.span(&target);
    Diagnostic::error(
        code,
        format!("{what} source {}: {e}", source_label(pointer)),
    )
    .at(target, span)
    .help(help)
}

/// The options of how a file is read that apply to its format only: `encoding` to CSV,
/// `numbers_as` to spreadsheets (with the `default_country` a national number needs).
fn check_reading_options(
    s: &dyn Source,
    pointer: &str,
    format: Option<crate::campaign::FileFormat>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    use crate::campaign::{FileFormat, NumbersAs};
    let mut mismatch = |field: &str, message: &str| {
        let p = format!("{pointer}/{field}");
        out.push(
            Diagnostic::error(Code::SourceOptionMismatch, message.to_owned())
                .at(p.clone(), doc.key_span(&p)),
        );
    };
    if s.encoding().is_some() && format != Some(FileFormat::Csv) {
        mismatch(
            "encoding",
            "`encoding` only applies to CSV files (spreadsheets and JSON say their own)",
        );
    }
    match s.numbers_as() {
        Some(_) if !matches!(format, Some(FileFormat::Xlsx | FileFormat::Ods)) => mismatch(
            "numbers_as",
            "`numbers_as` only applies to spreadsheets (xlsx, ods), whose cells can be numbers",
        ),
        Some(NumbersAs::National) if s.default_country().is_none() => mismatch(
            "numbers_as",
            "`numbers_as: national` needs `default_country`: the country whose rules put the lost leading 0 back",
        ),
        _ => {}
    }
}

/// Every column the campaign uses is one of the source's `columns`; `name` says which
/// source, as the start of a sentence.
pub(super) fn check_columns(
    name: &str,
    columns: &[String],
    pointer: &str,
    needed: &[(String, String)],
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let mut reported = BTreeSet::new();
    let template = |ptr: &str| ptr.starts_with("/variables/") || ptr.starts_with("/tags/");
    // A column whose name has spaces, written bare in a template (`{{date Next Visit}}`), is
    // read as one column per word: say so once, with the brackets it needs.
    for (ptr, col) in needed.iter().filter(|(p, _)| template(p)) {
        let missing = |w: &str| {
            needed.iter().any(|(p, c)| p == ptr && c == w) && !columns.iter().any(|c| c == w)
        };
        for spaced in columns.iter().filter(|c| c.split_whitespace().count() > 1) {
            let words: Vec<&str> = spaced.split_whitespace().collect();
            if words.first() != Some(&col.as_str()) || !words.iter().all(|w| missing(w)) {
                continue;
            }
            for w in &words {
                reported.insert((ptr.clone(), (*w).to_owned()));
            }
            out.push(
                Diagnostic::error(
                    Code::SourceMissingColumn,
                    format!(
                        "{name} no column {}, which {}",
                        words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(" or "),
                        purpose(ptr)
                    ),
                )
                .at(ptr.clone(), doc.span(ptr).or_else(|| doc.span(pointer)))
                .help(format!(
                    "the column `{spaced}` has spaces in its name: write it in square brackets, `[{spaced}]`"
                )),
            );
        }
    }
    for (ptr, col) in needed {
        if columns.iter().any(|c| c == col) || !reported.insert((ptr.clone(), col.clone())) {
            continue;
        }
        let mut d = Diagnostic::error(
            Code::SourceMissingColumn,
            format!("{name} no column `{col}`, which {}", purpose(ptr)),
        )
        .at(ptr.clone(), doc.span(ptr).or_else(|| doc.span(pointer)));
        // In a template, a name that is not one plain word is written in brackets. A header
        // cell that could be a secret (a "CSV" that is someone's key file) is never shown.
        let hidden = columns.iter().filter(|c| !showable(c)).count();
        let shown: Vec<String> = columns
            .iter()
            .filter(|c| showable(c))
            .map(|c| {
                let plain = c
                    .chars()
                    .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '-');
                if template(ptr) && !plain {
                    format!("[{c}]")
                } else {
                    c.clone()
                }
            })
            .collect();
        let listed = match (shown.is_empty(), hidden) {
            (_, 0) => format!("its columns: {}", shown.join(", ")),
            (true, n) => format!(
                "its {n} {} not shown: too long, or looking like a secret",
                if n == 1 { "column is" } else { "columns are" }
            ),
            (false, n) => format!(
                "its columns: {}, and {n} not shown (too long, or looking like a secret)",
                shown.join(", ")
            ),
        };
        // A register's title taken as its header (issue 19): columns without names, or none
        // of the columns the campaign uses.
        let title_like = columns.iter().any(|c| c.trim().is_empty())
            || needed.iter().all(|(_, c)| !columns.contains(c));
        let listed = if title_like {
            format!(
                "{listed}. If the column names are on a later row (a title above them), set `header_row` to that row's number"
            )
        } else {
            listed
        };
        d = match crate::campaign::schema::suggest(col, &shown) {
            Some(s) => d.help(format!("did you mean `{s}`? {}", capitalised(&listed))),
            None => d.help(listed),
        };
        out.push(d);
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The longest column name a hint prints.
const MAX_SHOWN_COLUMN: usize = 64;

/// Whether a header cell may be printed in a hint. A one-line file read as CSV has its whole
/// content as header cells: a key file, `KEY=value` lines, a token. Column names are short
/// words; anything long, with `=`, or that looks random (a key, a JWT) is not printed.
fn showable(column: &str) -> bool {
    let chars = column.chars().count();
    if chars > MAX_SHOWN_COLUMN || column.contains('=') || column.chars().any(char::is_control) {
        return false;
    }
    // A path, a URL or a line of a system file (`root:x:0:0:root:/root:/bin/bash`).
    if column
        .chars()
        .filter(|c| matches!(c, ':' | '/' | '\\'))
        .count()
        > 2
    {
        return false;
    }
    // A token: one long run of letters, digits and `-_.+/:` that keeps switching between
    // digits and letters or into capitals, as random keys do (`a3f9c0d2…`) and words do not.
    let token = column
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.+/:".contains(c));
    let alnum: Vec<char> = column.chars().filter(char::is_ascii_alphanumeric).collect();
    let switches = alnum
        .windows(2)
        .filter(|w| {
            w[0].is_ascii_digit() != w[1].is_ascii_digit()
                || (w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
        })
        .count();
    if token && chars >= 16 && switches * 5 >= alnum.len() {
        return false;
    }
    // `sk-…`, `eyJ…` (a JWT's header), and other prefixes of keys.
    let prefixed = ["sk-", "sk_", "pk_", "eyj", "ghp_", "xox", "akia"]
        .iter()
        .any(|p| column.to_ascii_lowercase().starts_with(p));
    !(token && chars >= 12 && prefixed) && entropy(column) < 4.0
}

/// Shannon entropy of the characters, in bits per character: column names written by people
/// stay well below 4, random keys of 20 characters or more above it.
fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0u32;
    for c in text.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
        n += 1;
    }
    if n < 20 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum()
}

/// An opt-out list with entries that are not numbers stops every call (plan and apply
/// refuse it); validate says so first, each entry by its row. A list it cannot read is
/// reported by [`check_source`].
pub(super) fn check_opt_out_entries(
    s: &ExclusionSource,
    pointer: &str,
    base: &Path,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let Some(problem) = opt_out_problem(s, base) else {
        return;
    };
    let name = s.file.as_deref().map_or_else(
        || format!("the inline list {}", source_label(pointer)),
        |f| format!("`{f}`"),
    );
    let at = format!("{pointer}/phone_column");
    let span = doc.span(&at).or_else(|| doc.span(pointer));
    out.push(
        Diagnostic::error(
            Code::OptOutInvalidEntries,
            format!("opt-out list {name}: {problem}"),
        )
        .at(if doc.span(&at).is_some() { at } else { pointer.to_owned() }, span)
        .help(format!(
            "nobody is called while an opt-out list holds entries that are not numbers: fix those rows, check that `phone_column` ({}) is the column with the numbers, or accept them with `allow_invalid: N`",
            s.phone_column
        )),
    );
}

/// What is wrong with an opt-out list's entries, if anything. A list file is read once per
/// version of it (its size and time of change) however many campaigns name it: a campaigns
/// repository shares one opt-out list among all its campaigns.
pub(super) fn opt_out_problem(s: &ExclusionSource, base: &Path) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};

    use crate::patients::opt_outs::{OptOutError, load};
    /// The file, its version, and how the campaign reads it (every field of the source).
    type Key = (PathBuf, u64, Option<std::time::SystemTime>, String);
    static READ: Mutex<Option<HashMap<Key, Option<String>>>> = Mutex::new(None);

    let check = || match load(std::slice::from_ref(s), base) {
        Err(e @ OptOutError::Invalid { .. }) => Some(e.describe()),
        _ => None,
    };
    let Some(file) = s.file.as_deref() else {
        return check(); // inline: part of the campaign itself
    };
    let path = crate::patients::source::resolve_path(base, file);
    let Ok(meta) = std::fs::metadata(&path) else {
        return check();
    };
    let how = serde_json::to_string(s).unwrap_or_default();
    let key = (path, meta.len(), meta.modified().ok(), how);
    let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
    read.get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(check)
        .clone()
}

pub(super) fn source_label(pointer: &str) -> String {
    let n = pointer
        .rsplit('/')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    format!("{}", n + 1)
}

pub(super) fn purpose(pointer: &str) -> String {
    if pointer.ends_with("/phone_column") {
        "should hold the phone numbers".to_owned()
    } else if pointer.starts_with("/list_columns/") {
        "`list_columns` names".to_owned()
    } else if pointer == "/language/column" {
        "`language.column` names (each patient's language)".to_owned()
    } else if pointer == "/dedupe" {
        "`dedupe` names".to_owned()
    } else if pointer.ends_with("/where") {
        "the `where` filter reads".to_owned()
    } else if pointer == "/round" {
        "the `round` template uses (or give it a value under `defaults`)".to_owned()
    } else {
        let mut parts = pointer.trim_start_matches('/').splitn(2, '/');
        let section = parts.next().unwrap_or("");
        let name = parts.next().unwrap_or("");
        let section = if section == "tags" { "tag" } else { "variable" };
        format!("the {section} `{name}` uses (or give it a value under `defaults`)")
    }
}

#[cfg(test)]
mod tests {
    use super::{columns_once, showable};

    // The columns are kept per version of the file: a header changed between two reads (a
    // `watch` session) is read again, and a file read through another campaign's options
    // (another header row) is not given the first one's columns.
    #[test]
    fn columns_are_read_again_when_the_file_or_the_options_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".git"), "").unwrap();
        let file = dir.path().join("p.csv");
        std::fs::write(&file, "Register\nphone,name\n+2348031234567,A\n").unwrap();
        let source = |header_row: u32| -> crate::campaign::PatientSource {
            serde_json::from_value(serde_json::json!({
                "file": "p.csv", "phone_column": "phone", "header_row": header_row
            }))
            .unwrap()
        };
        assert_eq!(columns_once(&source(1), dir.path()).unwrap(), ["Register"]);
        assert_eq!(
            columns_once(&source(2), dir.path()).unwrap(),
            ["phone", "name"]
        );
        std::fs::write(&file, "Register\nphone,name,clinic\n+2348031234567,A,B\n").unwrap();
        assert_eq!(
            columns_once(&source(2), dir.path()).unwrap(),
            ["phone", "name", "clinic"]
        );
    }

    #[test]
    fn column_names_are_shown_and_secrets_are_not() {
        for name in [
            "phone",
            "First Name",
            "Next Visit",
            "phone_number_2",
            "date_of_birth",
            "LGA",
            "Patient ID",
            "mobile (home)",
            "NextAppointmentDate",
        ] {
            assert!(showable(name), "{name} should be shown");
        }
        for secret in [
            "INTRON_API_KEY=sk-test-SECRET123",
            "PATH=/usr/bin",
            "sk-test-SECRETabcdef0123456789",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "a3f9c0d2e7b14c6a9d8e2f1b0c7a5d3e",
            &"x".repeat(65),
            "root:x:0:0:root:/root:/bin/bash",
            "HOME=/root\u{0}PATH=/usr/bin",
        ] {
            assert!(!showable(secret), "{secret} should not be shown");
        }
    }
}
