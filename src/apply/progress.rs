//! The progress line of a run.

use std::io::IsTerminal as _;
use std::time::Duration;

use super::RunCounts;

/// Progress: a bar on a terminal (sent, accepted, in doubt, rate), periodic log lines
/// otherwise (CI logs).
pub(super) struct Progress {
    pub(super) total: u64,
    pub(super) started: std::time::Instant,
    pub(super) last: std::time::Instant,
    pub(super) bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub(super) fn new(total: u64) -> Self {
        let now = std::time::Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sent  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            total,
            started: now,
            last: now,
            bar,
        }
    }

    pub(super) fn update(&mut self, sent: u64, counts: &RunCounts) {
        let now = std::time::Instant::now();
        let secs = now.duration_since(self.started).as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let rate = sent as f64 / secs;
        if let Some(bar) = &self.bar {
            bar.set_position(sent);
            bar.set_message(format!(
                "accepted {}, in doubt {}, rejected {}, {rate:.1} calls/s",
                counts.accepted, counts.in_doubt, counts.rejected
            ));
            if sent >= self.total {
                bar.finish_and_clear();
            }
            return;
        }
        if now.duration_since(self.last) >= Duration::from_secs(2) || sent == self.total {
            tracing::info!(
                "sent {sent}/{} calls ({rate:.1} calls/s): accepted {}, in doubt {}, rejected {}",
                self.total,
                counts.accepted,
                counts.in_doubt,
                counts.rejected
            );
            self.last = now;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
