//! What the tasks of one run share: the ledger, the counts, the stop flags.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::RunCounts;
use super::input::Planned;
use super::stopped::{KeyRefused, Stopped};
use crate::campaign::Campaign;
use crate::ledger::{AsyncLedger, Ledger, LedgerError};

/// A due call: which attempt, and the planned call.
#[derive(Debug, Clone)]
pub(super) struct Due {
    /// Shared with the plan: a call's words are not copied per attempt.
    pub(super) planned: Arc<Planned>,
    pub(super) attempt: u32,
}

pub(super) struct Shared {
    /// Reached through [`Shared::ledger`], never on an executor's thread.
    pub(super) store: AsyncLedger,
    pub(super) counts: Mutex<RunCounts>,
    pub(super) interrupted: Arc<AtomicBool>,
    /// Set (with [`Shared::stop_for`]) when the run should send nothing more.
    pub(super) stop: AtomicBool,
    /// Why it stopped: the first reason given.
    pub(super) stopped: Mutex<Option<Stopped>>,
    /// The key was refused: the run ends with this error.
    pub(super) fatal: Mutex<Option<KeyRefused>>,
    /// When the first retry still to come is due, as last read.
    pub(super) next_retry: Mutex<Option<Timestamp>>,
    /// Calls held back right before sending (opted out since the plan, at the frequency cap):
    /// not due again in this run.
    pub(super) held: Mutex<HashSet<String>>,
    /// Calls (key, attempt) this run sent and that were provably not placed: when one is due
    /// again in the run, its earlier try no longer counts.
    pub(super) not_sent_here: Mutex<HashSet<(String, u32)>>,
    pub(super) target_id: String,
    pub(super) campaign: Campaign,
    pub(super) run_id: String,
    pub(super) round: String,
    /// The campaign's retry delay and frequency-cap window, read once (the campaign is
    /// valid, so both read).
    pub(super) retry_delay: Option<SignedDuration>,
    pub(super) frequency_window: Option<SignedDuration>,
    pub(super) sent_calls: AtomicU64,
    /// Calls this run claimed (shared ledgers), for its heartbeat.
    pub(super) claimed: AtomicU64,
    /// The shared request budget of the API key (a fingerprint, never the key).
    pub(super) key_scope: String,
    /// A declared workflow to create before the first batch is written ahead (after the
    /// confirmation, the window and any pause), if one is to be created.
    pub(super) pending_workflow: tokio::sync::Mutex<Vec<super::workflow::Creation>>,
    /// The workflow the calls go out with, when it is not the campaign's `workflow_id` (or
    /// its language's), by the language of `languages:` (`""` for the campaign's own).
    pub(super) call_workflow: Mutex<std::collections::BTreeMap<String, String>>,
}

impl Shared {
    /// Runs `f` on the ledger, with this run's names at hand (`f`'s second argument), on the
    /// blocking pool (see [`AsyncLedger`]): the way apply's async code reaches the ledger.
    pub(super) async fn ledger<R, F>(self: &Arc<Self>, f: F) -> Result<R, LedgerError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Ledger, &Shared) -> Result<R, LedgerError> + Send + 'static,
    {
        let shared = Arc::clone(self);
        self.store.call(move |l| f(l, &shared)).await
    }

    /// Stops the run: nothing more is sent. The first reason given is the one reported.
    pub(super) fn stop_for(&self, why: Stopped) {
        lock(&self.stopped).get_or_insert(why);
        self.stop.store(true, Ordering::SeqCst);
    }

    /// `r`, or `None` when the ledger refused it because this run's lease ran out (issue 14,
    /// class 11): the `n` calls at hand are left to the other runners (unclaimed, or
    /// `sending` for them to look up), counted, and the run sends nothing more.
    pub(super) fn unless_fenced<T>(
        &self,
        n: u64,
        r: Result<T, LedgerError>,
    ) -> Result<Option<T>, LedgerError> {
        match r {
            Err(LedgerError::LeaseLost { .. }) => {
                lock(&self.counts).lost_lease += n;
                if !matches!(*lock(&self.stopped), Some(Stopped::LeaseLost)) {
                    tracing::warn!(
                        "this runner's lease on the shared ledger ran out (it stalled, or could not reach the database, for longer than --lease): it records and sends nothing more, and the other runners take its calls over"
                    );
                }
                self.stop_for(Stopped::LeaseLost);
                Ok(None)
            }
            r => r.map(Some),
        }
    }

    /// Whether several runners share the ledger (Postgres).
    pub(super) fn is_shared(&self) -> bool {
        self.store.is_shared()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The (key, attempt) of each call, as the ledger names attempts.
pub(super) fn attempts_of(calls: &[Due]) -> Vec<(&str, u32)> {
    calls
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect()
}

/// Waits (Ctrl-C cuts it short). The deferred `accepted` settles are committed first: other
/// runners on a shared ledger would otherwise count those calls as still being sent, and wait
/// for them.
pub(super) async fn sleep_interruptible(shared: &Arc<Shared>, d: Duration) {
    let flushed = shared.ledger(|l, _| l.flush()).await;
    if let Err(e) = shared.unless_fenced(0, flushed) {
        tracing::warn!("{e}");
    }
    let step = Duration::from_millis(200);
    let mut left = d;
    while !left.is_zero() && !shared.interrupted.load(Ordering::SeqCst) {
        let t = left.min(step);
        tokio::time::sleep(t).await;
        left = left.saturating_sub(t);
    }
}

/// Planned and due calls for the tests of apply's decisions.
#[cfg(test)]
pub(super) mod test_calls {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::{Due, Planned};
    use crate::plan::Call;
    use crate::render::Rendered;

    /// A planned call to a Nigerian number.
    pub(in crate::apply) fn planned(key: &str, timezone: &str) -> Arc<Planned> {
        Arc::new(Planned {
            call: Call {
                key: key.to_owned(),
                phone: "+2348031234567".to_owned(),
                source: 0,
                row: 2,
                list_values: crate::ledger::ListValues::default(),
                language: None,
                rendered: Rendered {
                    variables: BTreeMap::new(),
                    tags: BTreeMap::new(),
                },
            },
            source_label: "patients.csv".to_owned(),
            timezone: timezone.to_owned(),
        })
    }

    /// The first attempt of a call to `phone`.
    pub(in crate::apply) fn due_to(key: &str, phone: &str) -> Due {
        let mut p = planned(key, "Africa/Lagos");
        Arc::get_mut(&mut p).expect("a new call").call.phone = phone.to_owned();
        Due {
            planned: p,
            attempt: 1,
        }
    }

    /// The keys of calls, in order.
    pub(in crate::apply) fn keys(calls: &[Due]) -> Vec<&str> {
        calls.iter().map(|d| d.planned.call.key.as_str()).collect()
    }
}
