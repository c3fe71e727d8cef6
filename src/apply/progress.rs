//! How a run tells whoever watches it how far it got, as it goes: injected by the command
//! (a bar on a terminal, a line now and then in a log: [`crate::report::progress`]; nothing
//! for `watch --apply`), so that the stage never writes to a terminal itself.

use super::RunCounts;

/// Hears how far the sending of due calls got. Each pass of sending (the first, then one per
/// round of retries) is `start`ed, `update`d after each group of batches, and `finish`ed once.
pub trait Progress: Sync {
    /// A pass starts with `total` due calls; `dry_run`: nothing is really sent.
    fn start(&self, total: u64, dry_run: bool);
    /// `done` of the pass's calls went through the send (answered or not); `counts` are the
    /// run's so far.
    fn update(&self, done: u64, counts: &RunCounts);
    /// The pass is over (every call sent, or the run stopped).
    fn finish(&self, done: u64, counts: &RunCounts);
}

/// Tells no one (`watch --apply`, tests).
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64, _: bool) {}
    fn update(&self, _: u64, _: &RunCounts) {}
    fn finish(&self, _: u64, _: &RunCounts) {}
}
