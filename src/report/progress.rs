//! How far `outreach apply` got, on standard error as it goes: a bar on a terminal, a line
//! every few seconds otherwise (CI logs, through the log). In words a manager reads: calls
//! sent and what became of them. The pace (calls per second) and the requests behind it are
//! for the JSON summary and the debug log (`RUST_LOG=outreach=debug`).

use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::apply::{Progress, RunCounts};

/// The progress of a run on standard error: a [`Bar`] on a terminal, [`Lines`] otherwise,
/// and always under `--log-format json`, where standard error holds JSON lines only.
pub fn on_stderr() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal()
        && log_lines::installed_format() == log_lines::LogFormat::Text
    {
        Box::new(Bar::default())
    } else {
        Box::new(Lines::default())
    }
}

/// What became of the calls sent so far: `4 placed, 1 rejected` (the others when there are any).
fn outcomes(c: &RunCounts, dry_run: bool) -> String {
    if dry_run {
        return "dry run: nothing is sent".to_owned();
    }
    super::apply::and_counts(
        format!("{} placed", c.accepted),
        &[
            (c.rejected, "rejected"),
            (c.in_doubt, "in doubt"),
            (c.not_sent, "not placed"),
        ],
    )
}

/// A bar, redrawn in place: `[00:00:04] ████░░░░ 40/100 sent  38 placed, 2 in doubt`.
#[derive(Default)]
pub struct Bar {
    bar: Mutex<Option<(indicatif::ProgressBar, bool)>>,
}

impl Progress for Bar {
    fn start(&self, total: u64, dry_run: bool) {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sent  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        if let Some((old, _)) = lock(&self.bar).replace((bar, dry_run)) {
            old.finish_and_clear();
        }
    }

    fn update(&self, done: u64, counts: &RunCounts) {
        if let Some((bar, dry_run)) = &*lock(&self.bar) {
            bar.set_position(done);
            bar.set_message(outcomes(counts, *dry_run));
        }
    }

    fn finish(&self, done: u64, counts: &RunCounts) {
        // Cleared once: the summary that follows says the same, for good.
        if let Some((bar, _)) = lock(&self.bar).take() {
            bar.finish_and_clear();
        }
        debug_figures(done, counts);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some((bar, _)) = lock(&self.bar).take() {
            bar.finish_and_clear();
        }
    }
}

/// A line every 2 s at most, and only when something moved: `sent 40 of 100 calls: 38
/// placed, 2 in doubt`. A pass over within 2 s says nothing (the summary follows).
#[derive(Default)]
pub struct Lines {
    pass: Mutex<Option<Pass>>,
}

struct Pass {
    total: u64,
    dry_run: bool,
    started: Instant,
    /// When the last line was said, and how many calls it said.
    said: Option<(Instant, u64)>,
}

/// How often a line is said, at most.
const EVERY: Duration = Duration::from_secs(2);

impl Pass {
    fn line(&self, done: u64, counts: &RunCounts) -> String {
        format!(
            "sent {done} of {} calls: {}",
            self.total,
            outcomes(counts, self.dry_run)
        )
    }

    /// Whether a line about `done` calls is due `now`: `EVERY` since the last (or the start),
    /// and something moved since.
    fn due(&self, done: u64, now: Instant) -> bool {
        let (last, said) = self.said.unwrap_or((self.started, 0));
        now.duration_since(last) >= EVERY && done != said
    }
}

impl Progress for Lines {
    fn start(&self, total: u64, dry_run: bool) {
        *lock(&self.pass) = Some(Pass {
            total,
            dry_run,
            started: Instant::now(),
            said: None,
        });
    }

    fn update(&self, done: u64, counts: &RunCounts) {
        let mut pass = lock(&self.pass);
        let Some(p) = pass.as_mut() else { return };
        let now = Instant::now();
        if p.due(done, now) {
            tracing::info!("{}", p.line(done, counts));
            p.said = Some((now, done));
        }
    }

    fn finish(&self, done: u64, counts: &RunCounts) {
        let Some(p) = lock(&self.pass).take() else {
            return;
        };
        // The last line once, when earlier lines left the count short of it.
        if p.said.is_some_and(|(_, said)| said != done) {
            tracing::info!("{}", p.line(done, counts));
        }
        debug_figures(done, counts);
    }
}

/// The pace and the requests behind it, for the debug log.
fn debug_figures(done: u64, c: &RunCounts) {
    tracing::debug!(
        "{done} calls through the send; {} requests, {} answered 429",
        c.requests,
        c.rate_limited
    );
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_what_became_of_the_calls_in_words() {
        let c = RunCounts {
            accepted: 38,
            in_doubt: 2,
            ..RunCounts::default()
        };
        assert_eq!(outcomes(&c, false), "38 placed, 2 in doubt");
        assert_eq!(outcomes(&c, true), "dry run: nothing is sent");
        let refused = RunCounts {
            not_sent: 9,
            ..RunCounts::default()
        };
        assert_eq!(outcomes(&refused, false), "0 placed, 9 not placed");
    }

    #[test]
    fn a_line_is_said_at_most_every_2_s_and_only_when_something_moved() {
        let start = Instant::now();
        let mut p = Pass {
            total: 100,
            dry_run: false,
            started: start,
            said: None,
        };
        assert!(!p.due(10, start + Duration::from_secs(1)), "too soon");
        assert!(p.due(10, start + EVERY));
        p.said = Some((start + EVERY, 10));
        assert!(!p.due(10, start + EVERY * 3), "nothing moved");
        assert!(!p.due(20, start + EVERY + Duration::from_secs(1)));
        assert!(p.due(20, start + EVERY * 2));
        assert_eq!(
            p.line(20, &RunCounts::default()),
            "sent 20 of 100 calls: 0 placed"
        );
    }
}
