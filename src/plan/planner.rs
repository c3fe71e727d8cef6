//! The row loop of a plan: each patient source's rows are prepared on worker threads
//! ([`SourceRows::prepare`]) and then, in row order, skipped with their reason or batched as
//! calls ([`Planner::consume`]).

use std::collections::HashSet;
use std::io;

use phonenumber::country::Id;

use crate::campaign::{Campaign, PatientSource};
use crate::ledger::ListValues;
use crate::patients::source::{Row, RowError};
use crate::plan::dedupe::{Dedupe, Duplicate};
use crate::plan::model::{Call, Sink, Skip, Summary, call_key};
use crate::plan::skip::SkipReason;
use crate::plan::workers::{Prepared, Ready};
use crate::render::Bound;
use crate::render::dates::DateRules;

/// The name a `round` template renders under (and is named by in a skip's words).
pub(super) const ROUND: &str = "round";

/// A `where:` filter bound to a source's header, and whose it is (for the skip's words).
pub(super) struct RowFilter<'a> {
    pub(super) bound: crate::filter::Bound<'a>,
    pub(super) whose: &'static str,
}

/// One patient source, as the row loop reads it: where its columns are and how its numbers
/// and words are made.
pub(super) struct SourceRows<'a> {
    pub(super) index: usize,
    pub(super) timezone: String,
    phone_idx: Option<usize>,
    dedupe_idx: Option<usize>,
    /// Where each of the campaign's `list_columns` is in the header, in their order.
    list_idx: Vec<Option<usize>>,
    country: Option<Id>,
    allowed: Vec<Id>,
    bound: Bound<'a>,
    /// The campaign's `round` as a template, rendered per row.
    round: Option<Bound<'a>>,
    filters: Vec<RowFilter<'a>>,
    dates: &'a DateRules,
    campaign: &'a Campaign,
}

impl<'a> SourceRows<'a> {
    /// The row's values of the campaign's `list_columns`, in their order.
    fn list_values(&self, row: &Row) -> ListValues {
        let mut at = self.list_idx.iter();
        ListValues::from_row(&self.campaign.list_columns, |_| {
            at.next()
                .copied()
                .flatten()
                .and_then(|i| row.cells.get(i))
                .map(ToOwned::to_owned)
        })
    }

    pub(super) fn new(
        campaign: &'a Campaign,
        index: usize,
        source: &PatientSource,
        header: &[String],
        (bound, round): (Bound<'a>, Option<Bound<'a>>),
        (filters, dates): (Vec<RowFilter<'a>>, &'a DateRules),
    ) -> Self {
        let phone_idx = header.iter().position(|h| h == &source.phone_column);
        let dedupe_idx = (campaign.dedupe != "phone")
            .then(|| header.iter().position(|h| h == &campaign.dedupe))
            .flatten();
        SourceRows {
            index,
            timezone: source
                .timezone
                .clone()
                .unwrap_or_else(|| campaign.schedule.timezone.clone()),
            phone_idx,
            dedupe_idx,
            list_idx: campaign
                .list_columns
                .iter()
                .map(|c| header.iter().position(|h| h == c))
                .collect(),
            country: source
                .default_country
                .as_deref()
                .and_then(crate::patients::phone::country),
            allowed: source
                .allowed_countries
                .iter()
                .filter_map(|c| crate::patients::phone::country(&c.0))
                .collect(),
            bound,
            round,
            filters,
            dates,
            campaign,
        }
    }

    /// The costly, row-independent part (the number, the words, the key), run on worker
    /// threads.
    pub(super) fn prepare(&self, row: Result<Row, RowError>) -> Prepared {
        let row = row?;
        // Filters first: a row the campaign is not for is left out whatever its number.
        for f in &self.filters {
            match f.bound.test(&row.cells, self.dates) {
                Ok(true) => {}
                Ok(false) => {
                    let why = format!("{} `where` leaves this row out", f.whose);
                    return Ok((row, Ready::Filtered(SkipReason::FilteredOut, why)));
                }
                Err(problem) => {
                    let why = format!("{} `where` cannot test this row: {problem}", f.whose);
                    return Ok((row, Ready::Filtered(SkipReason::FilterUnreadable, why)));
                }
            }
        }
        if row.numeric_phone {
            return Ok((row, Ready::NumericPhone));
        }
        let raw = self.phone_cell(&row);
        let number = crate::patients::phone::normalise(raw, self.country, &self.allowed);
        let rest = number.map(|number| {
            // A row's own round (a template) is part of its key: one call per number and
            // visit, however many days the campaign runs.
            let round = match &self.round {
                None => Ok(self.campaign.round.clone()),
                Some(r) => r.render(&row.cells).map(|mut v| v.variables.remove(ROUND)),
            };
            match round {
                Ok(round) => {
                    let key = call_key(&self.campaign.name, round.as_deref(), &number.e164);
                    (number, self.bound.render(&row.cells), key)
                }
                Err(problem) => (number, Err(problem), String::new()),
            }
        });
        Ok((row, Ready::Phone(rest)))
    }

    fn phone_cell<'r>(&self, row: &'r Row) -> &'r str {
        self.phone_idx.and_then(|i| row.cells.get(i)).unwrap_or("")
    }
}

/// What the row loop holds across sources: the sink, the counts, the opt-outs, who was seen
/// (first row wins) and the batch being filled.
pub(super) struct Planner<'a> {
    campaign: &'a Campaign,
    sink: &'a mut dyn Sink,
    opted_out: &'a HashSet<u64>,
    seen: Dedupe,
    batch: Vec<Call>,
    batch_size: usize,
    /// Whether the sink wants each row a filter leaves out ([`Sink::wants_filtered`]).
    list_filtered: bool,
    pub(super) summary: Summary,
}

impl<'a> Planner<'a> {
    pub(super) fn new(
        campaign: &'a Campaign,
        sink: &'a mut dyn Sink,
        opted_out: &'a HashSet<u64>,
        summary: Summary,
    ) -> Self {
        let batch_size = campaign.delivery.batch_size.max(1) as usize;
        let list_filtered = sink.wants_filtered();
        Planner {
            list_filtered,
            campaign,
            sink,
            opted_out,
            seen: Dedupe::default(),
            batch: Vec::with_capacity(batch_size),
            batch_size,
            summary,
        }
    }

    fn skip(
        &mut self,
        source: usize,
        row: u64,
        code: SkipReason,
        reason: String,
        phone: Option<String>,
    ) -> io::Result<()> {
        self.count_skip(code);
        self.sink.skip(&Skip {
            source,
            row,
            code,
            reason,
            phone,
        })
    }

    fn count_skip(&mut self, code: SkipReason) {
        self.summary.skipped += 1;
        *self
            .summary
            .skipped_by_reason
            .entry(code.as_str())
            .or_default() += 1;
    }

    /// One prepared row of `src`, in row order: skipped with its reason, or a call.
    pub(super) fn consume(&mut self, src: &SourceRows<'_>, prepared: Prepared) -> io::Result<()> {
        self.summary.rows += 1;
        let si = src.index;
        let (row, prepared) = match prepared {
            Ok(r) => r,
            Err(e) => return self.skip(si, e.number, SkipReason::UnreadableRow, e.message, None),
        };
        let raw = src.phone_cell(&row).to_owned();
        let prepared = match prepared {
            Ready::Phone(p) => p,
            Ready::Filtered(SkipReason::FilteredOut, reason) => {
                // Counted, not listed: a register filtered to this week's visits leaves out
                // most of its rows, which are not problems to fix. Only a list of every
                // skipped row (`plan --list skipped`) is given them.
                self.count_skip(SkipReason::FilteredOut);
                if self.list_filtered {
                    self.sink.filtered(&Skip {
                        source: si,
                        row: row.number,
                        code: SkipReason::FilteredOut,
                        reason,
                        phone: Some(raw),
                    })?;
                }
                return Ok(());
            }
            Ready::Filtered(code, reason) => {
                return self.skip(si, row.number, code, reason, Some(raw));
            }
            Ready::NumericPhone => {
                return self.skip(
                    si,
                    row.number,
                    SkipReason::PhoneStoredAsNumber,
                    "the spreadsheet stores this phone number as a number, so its leading 0 or + is lost; say how to read such numbers on the source: `numbers_as: national` (with `default_country`) or `numbers_as: international`, or format the column as text".to_owned(),
                    Some(raw),
                );
            }
        };
        let (number, values, key) = match prepared {
            Ok(p) => p,
            Err(problem) => {
                let code = SkipReason::from(&problem);
                return self.skip(si, row.number, code, problem.describe(), Some(raw));
            }
        };
        let n = number.as_u64();
        if self.opted_out.contains(&n) {
            let reason = crate::plan::skip::ON_AN_OPT_OUT_LIST.to_owned();
            return self.skip(si, row.number, SkipReason::OptedOut, reason, Some(raw));
        }
        // The words before dedupe: a row that cannot be called never claims its number, so
        // the first row that can be called is the one called (and the duplicate's message,
        // "which is called instead", is true).
        let values = match values {
            Ok(r) => r,
            Err(problem) => {
                let code = SkipReason::from(&problem);
                return self.skip(si, row.number, code, problem.describe(), Some(raw));
            }
        };
        let column = src.dedupe_idx.map(|i| row.cells.get(i).unwrap_or(""));
        if let Some(dup) = self.seen.see(n, column, (si, row.number)) {
            let (what, first) = match dup {
                Duplicate::Column(first) => (format!("the same `{}`", self.campaign.dedupe), first),
                Duplicate::Number(first) => ("the same number".to_owned(), first),
            };
            let place = super::first_row(self.campaign, si, first);
            let reason = format!("{what} as {place}, which is called instead");
            return self.skip(si, row.number, SkipReason::Duplicate, reason, Some(raw));
        }
        self.batch.push(Call {
            key,
            phone: number.e164,
            source: si,
            row: row.number,
            rendered: values,
            list_values: src.list_values(&row),
            language: None,
        });
        self.summary.calls += 1;
        if self.batch.len() == self.batch_size {
            self.flush(&src.timezone)?;
        }
        Ok(())
    }

    /// Hands the batch being filled to the sink. Called at the end of each source too:
    /// batches never mix sources, so each has one time zone.
    pub(super) fn flush(&mut self, timezone: &str) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.sink
                .batch(self.summary.batches, timezone, &self.batch)?;
            self.summary.batches += 1;
            self.batch.clear();
        }
        Ok(())
    }

    /// Ends the plan: the sink gets the summary.
    pub(super) fn finish(self) -> io::Result<Summary> {
        self.sink.finish(&self.summary)?;
        Ok(self.summary)
    }
}
