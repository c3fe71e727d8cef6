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
                    let file = File::open(&path).map_err(|e| unreadable(&e))?;
                    let mut keys = Vec::new();
                    for (i, line) in BufReader::new(file).lines().enumerate() {
                        let line = line.map_err(|e| unreadable(&e))?;
                        if line.trim().is_empty() {
                            continue;
                        }
                        let value: serde_json::Map<String, serde_json::Value> =
                            serde_json::from_str(&line).map_err(|e| {
                                SourceError::Unreadable(
                                    path.clone(),
                                    format!("line {}: {e}", i + 1),
                                )
                            })?;
                        keys.push(value.keys().cloned().collect::<Vec<_>>());
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
