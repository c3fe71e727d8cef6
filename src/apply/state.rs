//! What the tasks of one run share: the ledger, the counts, the stop flags.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::RunCounts;
use super::input::Planned;
use crate::campaign::Campaign;
use crate::ledger::Ledger;

/// A due call: which attempt, and the planned call.
#[derive(Debug, Clone)]
pub(super) struct Due {
    /// Shared with the plan: a call's words are not copied per attempt.
    pub(super) planned: Arc<Planned>,
    pub(super) attempt: u32,
}

pub(super) struct Shared {
    pub(super) ledger: Mutex<Ledger>,
    pub(super) counts: Mutex<RunCounts>,
    pub(super) interrupted: Arc<AtomicBool>,
    pub(super) stop: AtomicBool,
    pub(super) fatal: Mutex<Option<String>>,
    pub(super) target_id: String,
    pub(super) campaign: Campaign,
    pub(super) run_id: String,
    pub(super) round: String,
    pub(super) sent_calls: AtomicU64,
    /// Calls this run claimed (shared ledgers), for its heartbeat.
    pub(super) claimed: AtomicU64,
    /// The shared request budget of the API key (a fingerprint, never the key).
    pub(super) key_scope: String,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits (Ctrl-C cuts it short). The deferred `accepted` settles are committed first: other
/// runners on a shared ledger would otherwise count those calls as still being sent, and wait
/// for them.
pub(super) async fn sleep_interruptible(shared: &Shared, d: Duration) {
    if let Err(e) = lock(&shared.ledger).flush() {
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
