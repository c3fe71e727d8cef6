//! `plan --list skipped`: every row a plan leaves out, all of them, in row order, with its
//! reason and the value at fault, for the clinic to fix; written by [`list_file`] as CSV,
//! XLSX or JSON.
//!
//! A row is found by its source and row number, and the phone cell (masked unless
//! `--unmask`); no other patient column is listed.
//!
//! [`list_file`]: crate::report::list_file

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use crate::campaign::{Campaign, Source as _};
use crate::plan::{Call, Header, Sink, Skip, SkipReason, Summary};
use crate::report::list_file::{Cell, Column, ListError, ListWriter};

/// How many skips are held to put them in row order: the plan meets most rows in order, but
/// a call the ledger shows placed (`already-called`) or a reply opted out is left out when
/// its batch is handed on, after the skipped rows that follow it in the batch.
const REORDER: usize = 10_000;

/// The list's columns: where the row is, why it was left out, and what to fix.
pub fn columns() -> Vec<Column> {
    vec![
        Column::new("source", 24),
        Column::new("row", 6),
        Column::new("reason", 22),
        Column::new("reason_words", 36),
        Column::new("column", 14),
        Column::new("value", 18),
        Column::new("detail", 60),
    ]
}

/// A [`Sink`] that writes every skipped row to a list, filtered rows included.
pub struct SkippedList<'a> {
    list: ListWriter<'a>,
    unmask: bool,
    /// Per patient source: its file as the campaign names it (or `inline`), its phone column.
    sources: Vec<(String, String)>,
    /// The campaign's opt-out lists, as it names them.
    opt_out_lists: Vec<String>,
    /// The column of each patient's language, in a campaign of several.
    language_column: String,
    /// Skips not yet written, by source, row and arrival.
    pending: BTreeMap<(usize, u64, u64), Skip>,
    arrived: u64,
}

impl<'a> SkippedList<'a> {
    /// The sink of `campaign`'s skipped rows into `list` (made with [`columns`]).
    pub fn new(list: ListWriter<'a>, campaign: &Campaign, unmask: bool) -> Self {
        let sources = campaign
            .patients
            .iter()
            .map(|s| {
                (
                    s.file().unwrap_or("inline").to_owned(),
                    s.phone_column.clone(),
                )
            })
            .collect();
        let opt_out_lists = campaign
            .exclude
            .iter()
            .map(|s| s.file().unwrap_or("inline").to_owned())
            .collect();
        SkippedList {
            list,
            unmask,
            sources,
            opt_out_lists,
            language_column: campaign
                .language
                .as_ref()
                .map(|l| l.column.clone())
                .unwrap_or_default(),
            pending: BTreeMap::new(),
            arrived: 0,
        }
    }

    /// Completes the list (a file is renamed into place); how many rows it holds.
    pub fn finish_list(self) -> Result<u64, ListError> {
        self.list.finish()
    }

    fn hold(&mut self, skip: &Skip) -> io::Result<()> {
        self.arrived += 1;
        self.pending
            .insert((skip.source, skip.row, self.arrived), skip.clone());
        if self.pending.len() > REORDER
            && let Some((_, first)) = self.pending.pop_first()
        {
            self.write(&first)?;
        }
        Ok(())
    }

    fn write(&mut self, skip: &Skip) -> io::Result<()> {
        let (source, phone_column) = self
            .sources
            .get(skip.source)
            .map_or(("", ""), |(s, c)| (s.as_str(), c.as_str()));
        let (column, value) = match skip.code {
            SkipReason::MissingValue => (
                crate::render::missing_column(&skip.reason).unwrap_or(""),
                String::new(),
            ),
            SkipReason::InvalidPhone
            | SkipReason::MissingPhone
            | SkipReason::NotAPhoneLine
            | SkipReason::CountryNotAllowed
            | SkipReason::PhoneStoredAsNumber
            | SkipReason::OptedOut
            | SkipReason::Duplicate
            | SkipReason::AlreadyCalled => (
                phone_column,
                skip.phone
                    .as_deref()
                    .map(|p| crate::report::mask::phone(self.unmask, p))
                    .unwrap_or_default(),
            ),
            // The cell as written is in the reason's words (up to 40 characters).
            SkipReason::UnknownLanguage => (self.language_column.as_str(), String::new()),
            _ => ("", String::new()),
        };
        let detail = if skip.code == SkipReason::OptedOut
            && skip.reason == crate::plan::skip::ON_AN_OPT_OUT_LIST
        {
            match self.opt_out_lists.as_slice() {
                [one] => format!("the number is on the opt-out list {one}"),
                many => format!(
                    "the number is on one of the opt-out lists ({})",
                    many.join(", ")
                ),
            }
        } else {
            skip.reason.clone()
        };
        let row = i64::try_from(skip.row).unwrap_or(i64::MAX);
        let text = |t: &'static str| {
            if t.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(t)
            }
        };
        let cells = [
            Cell::Text(source),
            Cell::Whole(row),
            text(skip.code.as_str()),
            text(crate::report::words::skipped(skip.code)),
            if column.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(column)
            },
            if value.is_empty() {
                Cell::Empty
            } else {
                // Ours when it is a number we normalised and masked; written as text (made
                // inert) when the cell was not a number.
                Cell::Phone(&value)
            },
            Cell::Text(&detail),
        ];
        self.list.row(&cells).map_err(as_io)
    }
}

impl Sink for SkippedList<'_> {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, _: &[Call]) -> io::Result<()> {
        Ok(())
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.hold(skip)
    }
    fn filtered(&mut self, skip: &Skip) -> io::Result<()> {
        self.hold(skip)
    }
    fn wants_filtered(&self) -> bool {
        true
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        while let Some((_, skip)) = self.pending.pop_first() {
            self.write(&skip)?;
        }
        Ok(())
    }
}

/// Writes the list of `campaign`'s skipped rows to `destination`, `plan` running the plan
/// into its sink (`plan --list skipped` subtracts the ledger's calls; `report --list skipped`
/// plans the campaign alone); how many rows.
pub fn write<E: From<ListError>>(
    campaign: &Campaign,
    format: crate::settings::formats::ListFormat,
    destination: crate::report::list_file::Destination<'_>,
    unmask: bool,
    plan: impl FnOnce(&mut dyn Sink) -> Result<(), E>,
) -> Result<u64, E> {
    let zone =
        jiff::tz::TimeZone::get(&campaign.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let writer = ListWriter::create(format, destination, "skipped", &columns(), &zone)?;
    let mut sink = SkippedList::new(writer, campaign, unmask);
    plan(&mut sink)?;
    Ok(sink.finish_list()?)
}

/// Says where the list was written (`plan --list skipped --out FILE`).
pub fn wrote(rows: u64, campaign: &str, path: &Path, out: &mut dyn Write) -> io::Result<()> {
    let rows = crate::report::words::plural(rows, "skipped row");
    writeln!(out, "Wrote {rows} of {campaign} to {}", path.display())
}

/// A list's error as the plan's sinks give theirs: a closed pipe stays a closed pipe (so that
/// `plan --list skipped | head` ends quietly, as every command does), anything else wrapped.
fn as_io(e: ListError) -> io::Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
        {
            return io::ErrorKind::BrokenPipe.into();
        }
        source = s.source();
    }
    io::Error::other(e)
}
