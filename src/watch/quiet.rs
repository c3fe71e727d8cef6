//! The quiet window: wait for a quiet moment after the last change.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Collects changed paths until nothing has changed for `quiet`: a burst of saves
/// (format-on-save, `git checkout` of many files) becomes one batch. The debouncer alone
/// does not give this: it releases each event once that event is old enough, so a burst
/// longer than one of its ticks arrives in pieces. The caller passes the time in.
#[derive(Debug)]
pub struct Coalescer {
    quiet: Duration,
    pending: BTreeSet<PathBuf>,
    last: Option<Instant>,
}

impl Coalescer {
    pub fn new(quiet: Duration) -> Self {
        Coalescer {
            quiet,
            pending: BTreeSet::new(),
            last: None,
        }
    }

    /// Records changes made at `at`; the quiet window starts again from the latest change.
    pub fn add(&mut self, paths: impl IntoIterator<Item = PathBuf>, at: Instant) {
        self.pending.extend(paths);
        self.last = Some(self.last.map_or(at, |last| last.max(at)));
    }

    /// When the pending batch becomes due, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.last.map(|t| t + self.quiet)
    }

    /// The pending batch, if the quiet window has passed at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<BTreeSet<PathBuf>> {
        let due = self.deadline().is_some_and(|d| now >= d);
        due.then(|| {
            self.last = None;
            std::mem::take(&mut self.pending)
        })
    }
}
