//! Opt-out lists: the numbers no one may call. Plan and apply read them the same way, and an
//! unreadable list stops both (they fail closed).

use std::collections::HashSet;
use std::path::Path;

use crate::campaign::{ExclusionSource, Source as _};
use crate::patients::phone::{self, PhoneProblem};
use crate::patients::source::{self, SourceError};

/// The numbers of every opt-out list of a campaign.
#[derive(Debug, Default)]
pub struct OptOuts {
    /// Each number as [`phone::Number::as_u64`].
    pub numbers: HashSet<u64>,
    /// Entries that are numbers (a number listed twice counts twice).
    pub usable: u64,
    /// Entries that are not valid numbers, within what the lists accept (`allow_invalid`).
    pub unusable: u64,
}

/// An entry of an opt-out list that is not a number: its row and why (never its text: it
/// may be a patient's number, mistyped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub row: u64,
    pub problem: PhoneProblem,
}

/// Why the opt-out lists could not be read.
#[derive(Debug)]
pub enum OptOutError {
    /// List `index` (0-based) cannot be opened.
    Open { index: usize, source: SourceError },
    /// A row of list `index` cannot be read.
    Row {
        index: usize,
        row: u64,
        message: String,
    },
    /// List `index` has more entries that are not numbers than it accepts: a list the
    /// programme promised to honour, read on the wrong column or with a broken line, is not
    /// a list that can be trusted with the rest.
    Invalid {
        index: usize,
        entries: Vec<Invalid>,
        allowed: u32,
    },
}

impl OptOutError {
    /// What is wrong, after the list's name; the invalid entries by row (at most a dozen).
    pub fn describe(&self) -> String {
        match self {
            OptOutError::Open { source, .. } => source.to_string(),
            OptOutError::Row { row, message, .. } => format!("row {row}: {message}"),
            OptOutError::Invalid {
                entries, allowed, ..
            } => {
                const SHOWN: usize = 12;
                let rows: Vec<String> = entries
                    .iter()
                    .take(SHOWN)
                    .map(|e| format!("row {} ({})", e.row, e.problem.describe()))
                    .collect();
                let more = entries.len().saturating_sub(SHOWN);
                let more = if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                };
                let accepted = if *allowed == 0 {
                    String::new()
                } else {
                    format!(" (it accepts {allowed})")
                };
                format!(
                    "{} {} not a valid phone number{accepted}: {}{more}",
                    entries.len(),
                    if entries.len() == 1 {
                        "entry is"
                    } else {
                        "entries are"
                    },
                    rows.join(", ")
                )
            }
        }
    }

    /// The list (0-based) at fault.
    pub fn index(&self) -> usize {
        match self {
            OptOutError::Open { index, .. }
            | OptOutError::Row { index, .. }
            | OptOutError::Invalid { index, .. } => *index,
        }
    }
}

/// Reads every list; the first one that cannot be read, or that has more invalid entries
/// than it accepts, stops it.
pub fn load(lists: &[ExclusionSource], base: &Path) -> Result<OptOuts, OptOutError> {
    let mut out = OptOuts::default();
    for (index, s) in lists.iter().enumerate() {
        let invalid = read(index, s, base, &mut out)?;
        if invalid.len() > s.allow_invalid as usize {
            return Err(OptOutError::Invalid {
                index,
                entries: invalid,
                allowed: s.allow_invalid,
            });
        }
        out.unusable += invalid.len() as u64;
    }
    Ok(out)
}

/// Reads one list into `out`; returns its entries that are not numbers.
fn read(
    index: usize,
    s: &ExclusionSource,
    base: &Path,
    out: &mut OptOuts,
) -> Result<Vec<Invalid>, OptOutError> {
    let rows = source::open(s, base).map_err(|source| OptOutError::Open { index, source })?;
    let column = rows.header.iter().position(|h| h == s.phone_column());
    let country = s.default_country().and_then(phone::country);
    let mut invalid = Vec::new();
    for row in rows {
        let row = row.map_err(|e| OptOutError::Row {
            index,
            row: e.number,
            message: e.message,
        })?;
        let raw = column.and_then(|i| row.cells.get(i)).unwrap_or("");
        match phone::normalise(raw, country, &[]) {
            Ok(p) => {
                out.numbers.insert(p.as_u64());
                out.usable += 1;
            }
            Err(PhoneProblem::Missing) => {}
            // A number, though of a kind no patient is called on (toll-free, premium…).
            Err(PhoneProblem::NotALine(_) | PhoneProblem::CountryNotAllowed(_)) => out.usable += 1,
            Err(
                problem @ (PhoneProblem::Invalid
                | PhoneProblem::BadChar { .. }
                | PhoneProblem::NoCountry),
            ) => {
                invalid.push(Invalid {
                    row: row.number,
                    problem,
                });
            }
        }
    }
    Ok(invalid)
}
