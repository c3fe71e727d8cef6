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
use std::sync::Arc;

use crate::campaign::languages::{LanguageReader, Reading};
use crate::render::Bound;
use crate::render::dates::DateRules;
use crate::render::names::Names;

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
    /// How the row's language is read, and where its column is, in a campaign of languages.
    language: Option<(&'a Languages<'a>, Option<usize>)>,
}

/// The languages of a campaign, ready for the row loop: how a cell is read, and each
/// language's key and the names its dates and numbers are written with, in `languages:`
/// order (a call's batch is its language's).
pub(super) struct Languages<'a> {
    pub(super) reader: LanguageReader<'a>,
    pub(super) keys: Vec<&'a str>,
    pub(super) names: Vec<Option<Arc<Names>>>,
}

impl<'a> Languages<'a> {
    /// The languages of `campaign`, `None` without. A language whose names cannot be had is
    /// an error (validate refuses it first).
    pub(super) fn of(campaign: &'a Campaign) -> Result<Option<Self>, String> {
        let Some(reader) = LanguageReader::new(campaign) else {
            return Ok(None);
        };
        let mut keys = Vec::new();
        let mut names = Vec::new();
        for (key, l) in &campaign.languages {
            let tag = l.names.as_deref().unwrap_or(key);
            let found =
                crate::render::names::for_tag(tag).map_err(|e| format!("languages.{key}: {e}"))?;
            keys.push(key.as_str());
            names.push(Some(found));
        }
        Ok(Some(Languages {
            reader,
            keys,
            names,
        }))
    }
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
        languages: Option<&'a Languages<'a>>,
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
            language: languages.map(|l| {
                let column = l.reader.column();
                (l, header.iter().position(|h| h == column))
            }),
        }
    }

    /// The row's language, as an index into [`Languages::keys`].
    fn language(&self, row: &Row) -> super::workers::Language {
        let Some((languages, at)) = self.language else {
            return Ok(None);
        };
        let cell = at.and_then(|i| row.cells.get(i));
        match languages.reader.read(cell) {
            Reading::Language(key) => Ok(languages.keys.iter().position(|k| *k == key)),
            Reading::Unknown(why) => Err(why),
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
            let language = self.language(&row);
            let names = match (&language, self.language) {
                (Ok(Some(i)), Some((l, _))) => l.names.get(*i).and_then(Option::as_ref),
                _ => None,
            };
            match round {
                Ok(round) => {
                    let key = call_key(&self.campaign.name, round.as_deref(), &number.e164);
                    (
                        number,
                        self.bound.render_in(&row.cells, names),
                        key,
                        language,
                    )
                }
                Err(problem) => (number, Err(problem), String::new(), language),
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
    /// The batches being filled: one per language (one for a campaign without languages),
    /// since a request has one voice and one workflow.
    batches: Vec<Vec<Call>>,
    /// The language keys, in [`Planner::batches`]' order.
    languages: Vec<&'a str>,
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
        let languages: Vec<&str> = campaign.languages.keys().map(String::as_str).collect();
        Planner {
            list_filtered,
            campaign,
            sink,
            opted_out,
            seen: Dedupe::default(),
            batches: (0..languages.len().max(1))
                .map(|_| Vec::with_capacity(batch_size))
                .collect(),
            languages,
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
        // The phone cell as written, for a skip's words (not copied for a call).
        let raw = || src.phone_cell(&row).to_owned();
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
                        phone: Some(raw()),
                    })?;
                }
                return Ok(());
            }
            Ready::Filtered(code, reason) => {
                return self.skip(si, row.number, code, reason, Some(raw()));
            }
            Ready::NumericPhone => {
                return self.skip(
                    si,
                    row.number,
                    SkipReason::PhoneStoredAsNumber,
                    "the spreadsheet stores this phone number as a number, so its leading 0 or + is lost; say how to read such numbers on the source: `numbers_as: national` (with `default_country`) or `numbers_as: international`, or format the column as text".to_owned(),
                    Some(raw()),
                );
            }
        };
        let (number, values, key, language) = match prepared {
            Ok(p) => p,
            Err(problem) => {
                let code = SkipReason::from(&problem);
                return self.skip(si, row.number, code, problem.describe(), Some(raw()));
            }
        };
        let n = number.as_u64();
        if self.opted_out.contains(&n) {
            let reason = crate::plan::skip::ON_AN_OPT_OUT_LIST.to_owned();
            return self.skip(si, row.number, SkipReason::OptedOut, reason, Some(raw()));
        }
        // A patient is called in their language or not at all.
        let language = match language {
            Ok(language) => language,
            Err(why) => {
                let reason = format!("{why}: not called in a guessed language");
                return self.skip(
                    si,
                    row.number,
                    SkipReason::UnknownLanguage,
                    reason,
                    Some(raw()),
                );
            }
        };
        // The words before dedupe: a row that cannot be called never claims its number, so
        // the first row that can be called is the one called (and the duplicate's message,
        // "which is called instead", is true).
        let values = match values {
            Ok(r) => r,
            Err(problem) => {
                let code = SkipReason::from(&problem);
                return self.skip(si, row.number, code, problem.describe(), Some(raw()));
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
            return self.skip(si, row.number, SkipReason::Duplicate, reason, Some(raw()));
        }
        let at = language.unwrap_or(0);
        let Some(batch) = self.batches.get_mut(at) else {
            // Not reached: a language's index is one of `languages:`.
            let reason = "its language is not one of the campaign's".to_owned();
            return self.skip(
                si,
                row.number,
                SkipReason::UnknownLanguage,
                reason,
                Some(raw()),
            );
        };
        batch.push(Call {
            key,
            phone: number.e164,
            source: si,
            row: row.number,
            rendered: values,
            list_values: src.list_values(&row),
            language: language
                .and_then(|i| self.languages.get(i))
                .map(|k| (*k).to_owned()),
        });
        self.summary.calls += 1;
        if batch.len() == self.batch_size {
            self.flush_one(at, &src.timezone)?;
        }
        Ok(())
    }

    /// Hands one language's batch being filled to the sink.
    fn flush_one(&mut self, at: usize, timezone: &str) -> io::Result<()> {
        let Some(batch) = self.batches.get_mut(at) else {
            return Ok(());
        };
        if !batch.is_empty() {
            self.sink.batch(self.summary.batches, timezone, batch)?;
            self.summary.batches += 1;
            batch.clear();
        }
        Ok(())
    }

    /// Hands the batches being filled to the sink, in `languages:` order. Called at the end
    /// of each source too: batches never mix sources, so each has one time zone.
    pub(super) fn flush(&mut self, timezone: &str) -> io::Result<()> {
        for at in 0..self.batches.len() {
            self.flush_one(at, timezone)?;
        }
        Ok(())
    }

    /// Ends the plan: the sink gets the summary.
    pub(super) fn finish(self) -> io::Result<Summary> {
        self.sink.finish(&self.summary)?;
        Ok(self.summary)
    }
}
