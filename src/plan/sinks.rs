//! Sinks that any plan can feed: the overview the reporters print, nothing, or two at once.

use std::collections::BTreeMap;
use std::io;

use crate::campaign::Campaign;
use crate::plan::model::{Call, Header, Sink, Skip, Summary};
use crate::plan::skip::SkipReason;

/// Keeps what a printed report needs: a sample of calls and the skips grouped by reason.
#[derive(Debug, Default)]
pub struct Overview {
    pub header: Option<Header>,
    pub sample: Vec<Call>,
    pub sample_size: usize,
    /// Per reason: the count and the first few skips.
    pub skips: BTreeMap<&'static str, (u64, Vec<Skip>)>,
    pub template_skips: u64,
    /// Per patient source (by index), whether its templates could be filled at all.
    pub rendering: BTreeMap<usize, Rendering>,
    /// `missing-value` skips per column left empty.
    pub missing_columns: BTreeMap<String, u64>,
    /// In a campaign of several languages: each language's calls, and its first call (the
    /// sample a reviewer who speaks it reads).
    pub languages: BTreeMap<String, LanguageCalls>,
    pub summary: Summary,
}

/// The calls of one language of the plan.
#[derive(Debug, Default, Clone)]
pub struct LanguageCalls {
    pub calls: u64,
    pub sample: Option<Call>,
}

/// Whether a source's templates were filled: rows whose words were made (called, or left out
/// after: a duplicate, already called) and rows a template could not fill (`missing-value`,
/// `template-error`), with the first of those. Rows left out before their words (a phone
/// number, an opt-out) count in neither.
#[derive(Debug, Default, Clone)]
pub struct Rendering {
    pub rendered: u64,
    pub failed: u64,
    pub first_failure: Option<Skip>,
}

impl Rendering {
    /// Every row of the source that reached its words failed there: the templates fill no row.
    pub fn none_rendered(&self) -> bool {
        self.failed > 0 && self.rendered == 0
    }
}

/// How many skips of each reason a printed report lists.
pub const SKIP_EXAMPLES: usize = 5;

impl Overview {
    pub fn new(sample_size: usize) -> Self {
        Overview {
            sample_size,
            ..Overview::default()
        }
    }
}

impl Sink for Overview {
    fn header(&mut self, header: &Header, _: &Campaign) -> io::Result<()> {
        self.header = Some(header.clone());
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        for c in calls {
            self.rendering.entry(c.source).or_default().rendered += 1;
        }
        let room = self.sample_size.saturating_sub(self.sample.len());
        self.sample.extend(calls.iter().take(room).cloned());
        // A batch is of one language.
        if let Some(first) = calls.first()
            && let Some(language) = &first.language
        {
            let entry = self.languages.entry(language.clone()).or_default();
            entry.calls += calls.len() as u64;
            entry.sample.get_or_insert_with(|| first.clone());
        }
        Ok(())
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        if skip.is_template() {
            self.template_skips += 1;
            let r = self.rendering.entry(skip.source).or_default();
            r.failed += 1;
            r.first_failure.get_or_insert_with(|| skip.clone());
            if let Some(column) = crate::render::missing_column(&skip.reason) {
                *self.missing_columns.entry(column.to_owned()).or_default() += 1;
            }
        } else if matches!(skip.code, SkipReason::Duplicate | SkipReason::AlreadyCalled) {
            self.rendering.entry(skip.source).or_default().rendered += 1;
        }
        let entry = self.skips.entry(skip.code.as_str()).or_default();
        entry.0 += 1;
        if entry.1.len() < SKIP_EXAMPLES {
            entry.1.push(skip.clone());
        }
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = summary.clone();
        // Rows a filter leaves out reach no sink one by one: their count is the summary's.
        let code = SkipReason::FilteredOut.as_str();
        if let Some(&n) = summary.skipped_by_reason.get(code) {
            self.skips.entry(code).or_default().0 = n;
        }
        Ok(())
    }
}

/// Keeps nothing (the other half of a [`Tee`] that is not always wanted).
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, _: &[Call]) -> io::Result<()> {
        Ok(())
    }
    fn skip(&mut self, _: &Skip) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Sends the plan to two sinks.
pub struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn header(&mut self, header: &Header, c: &Campaign) -> io::Result<()> {
        self.0.header(header, c)?;
        self.1.header(header, c)
    }
    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        self.0.batch(index, timezone, calls)?;
        self.1.batch(index, timezone, calls)
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.0.skip(skip)?;
        self.1.skip(skip)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.finish(summary)?;
        self.1.finish(summary)
    }
    fn filtered(&mut self, skip: &Skip) -> io::Result<()> {
        self.0.filtered(skip)?;
        self.1.filtered(skip)
    }
    fn wants_filtered(&self) -> bool {
        self.0.wants_filtered() || self.1.wants_filtered()
    }
}
