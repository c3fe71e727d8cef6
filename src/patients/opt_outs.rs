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
    /// Entries that are valid numbers (a number listed twice counts twice).
    pub usable: u64,
    /// Entries that are not valid numbers (blank cells are not counted).
    pub unusable: u64,
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
}

/// Reads every list; the first one that cannot be read stops it.
pub fn load(lists: &[ExclusionSource], base: &Path) -> Result<OptOuts, OptOutError> {
    let mut out = OptOuts::default();
    for (index, s) in lists.iter().enumerate() {
        let rows = source::open(s, base).map_err(|source| OptOutError::Open { index, source })?;
        let column = rows.header.iter().position(|h| h == s.phone_column());
        let country = s.default_country().and_then(phone::country);
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
                Err(_) => out.unusable += 1,
            }
        }
    }
    Ok(out)
}
