//! Outcomes that arrive in the service's completion callbacks (issue 17): matched to the
//! calls they report, settled idempotently, kept when they match nothing yet, and the
//! replies that mean "do not call me again" turned into the ledger's own opt-out list.
//!
//! The logic is written once, over [`CallbackTx`]: each store (`sqlite.rs`, `postgres.rs`
//! in this folder) gives the few statements it needs inside one transaction.
//!
//! - A callback names its batch (`request_id`, the batch id the call POST returned). Its
//!   calls are matched by the `outreach_key` tag a robocall echoes, else by phone number
//!   (conversation calls carry no tags).
//! - A final state never changes: a call already answered, failed or unanswered (or never
//!   placed) stays so, whatever arrives after. What is not final (`sending`, `accepted`,
//!   `in_doubt`, `completed`, `outcome_unknown`) takes the reported outcome. So a callback
//!   delivered twice, or out of order with a later one, leaves what one delivery leaves.
//! - A batch the ledger does not know yet (the callback beat apply's record of its batch
//!   id, or the call's answer was lost and it is in doubt) is kept, and matched again by
//!   [`rematch`]: in-doubt calls match by their key's tag alone, and are settled with it.
//! - A callback without per-call data marks the batch's calls `completed`: the batch
//!   finished, each call's outcome is unknown; neither pending nor retried.

mod postgres;
mod sqlite;

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::CallState;

pub(super) use postgres::PgCallbacks;
pub(super) use sqlite::SqliteCallbacks;

/// At most this many callbacks are kept (unmatched or refused); the oldest go first.
pub const KEPT_MAX: u64 = 10_000;

/// The states a reported outcome may replace: none of them is a final outcome.
pub(super) const OPEN_STATES: [&str; 5] = [
    "sending",
    "accepted",
    "in_doubt",
    "completed",
    "outcome_unknown",
];

/// One callback, as the ledger records it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackOutcomes {
    pub received_at: Timestamp,
    /// The callback's `request_id`: the batch id the call POST returned.
    pub batch_id: String,
    /// The batch's stats as received, as JSON (they hold no phone number).
    pub stats_json: String,
    /// Each call the callback reports; `None` when it reports none (stats only).
    pub calls: Option<Vec<CallOutcome>>,
    /// The body, redacted and bounded: kept for inspection while the batch is unmatched.
    pub redacted_body: String,
}

/// One call of a callback.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    /// The `outreach_key` tag, when the payload echoes tags.
    pub key: Option<String>,
    pub phone: Option<String>,
    pub call_id: Option<String>,
    /// The outcome, when the call is final (`None`: still queued or processing).
    pub state: Option<CallState>,
    pub reply: Option<String>,
    pub duration: Option<Duration>,
}

/// What recording one callback did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Calls the callback reported.
    pub calls: u64,
    /// Calls whose outcome it recorded now.
    pub settled: u64,
    /// Calls already final (an earlier delivery, or apply's own follow): left as they are.
    pub already_final: u64,
    /// Calls it reported that match no call of the ledger.
    pub unmatched: u64,
    /// Calls it reported as not final yet (queued, processing): nothing to record.
    pub not_final: u64,
    /// Whether the ledger knows the batch; if not, the callback is kept and matched later.
    pub batch_known: bool,
    /// Numbers added to the ledger's opt-out list by their reply.
    pub opted_out: u64,
}

/// A call of the ledger a callback may settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LedgerCall {
    pub target: String,
    pub campaign: String,
    pub key: String,
    pub attempt: u32,
    pub phone: Option<String>,
    /// The state as stored (text, so a state this build reads as open or final is decided
    /// here, not by the enum's version).
    pub state: String,
}

/// What a store does for the callbacks, inside one transaction.
pub(super) trait CallbackTx {
    type Error;
    /// The calls recorded with `batch_id`, under any target.
    fn batch_calls(&mut self, batch_id: &str) -> Result<Vec<LedgerCall>, Self::Error>;
    /// The calls in doubt with no batch id whose key is one of `keys`, under any target.
    fn in_doubt(&mut self, keys: &[&str]) -> Result<Vec<LedgerCall>, Self::Error>;
    /// Records `call`'s outcome, and its batch id if it had none, when its state is still
    /// one of [`OPEN_STATES`]; whether it did.
    fn settle(
        &mut self,
        call: &LedgerCall,
        batch_id: &str,
        outcome: &CallOutcome,
        state: &str,
        at: &str,
    ) -> Result<bool, Self::Error>;
    /// Records the call id (and batch id, if it had none) of a call still open, its state
    /// unchanged.
    fn note_call_id(
        &mut self,
        call: &LedgerCall,
        batch_id: &str,
        call_id: &str,
    ) -> Result<(), Self::Error>;
    /// The reply options campaign `campaign` recorded as opt-outs.
    fn opt_out_replies(&mut self, campaign: &str) -> Result<Vec<String>, Self::Error>;
    /// Adds `phone` to the ledger's opt-out list (a no-op when it is on it).
    fn add_opt_out(
        &mut self,
        phone: &str,
        campaign: &str,
        reply: &str,
        at: &str,
    ) -> Result<(), Self::Error>;
    /// Records (or replaces) the stats of `batch_id` under `target`.
    fn put_batch(
        &mut self,
        target: &str,
        batch_id: &str,
        stats: &str,
        at: &str,
    ) -> Result<(), Self::Error>;
    /// Keeps an unmatched callback (replacing one kept for the same batch), or a refused
    /// body (`batch_id` and `outcomes` none), then drops the oldest beyond [`KEPT_MAX`].
    fn keep(
        &mut self,
        batch_id: Option<&str>,
        reason: &str,
        body: &str,
        outcomes: Option<&str>,
        at: &str,
    ) -> Result<(), Self::Error>;
    /// The kept unmatched callbacks, oldest first, at most `limit`.
    fn kept(&mut self, limit: u64) -> Result<Vec<(i64, String, String)>, Self::Error>;
    /// Drops the kept callback of `batch_id`, if any.
    fn drop_kept(&mut self, batch_id: &str) -> Result<(), Self::Error>;
}

/// The outcome fields of a kept callback, as stored (JSON) for matching again.
#[derive(Serialize, Deserialize)]
struct Stored {
    received_at: Timestamp,
    stats_json: String,
    calls: Option<Vec<StoredCall>>,
}

/// A [`CallOutcome`] as stored: its state as the ledger's text for it.
#[derive(Serialize, Deserialize)]
struct StoredCall {
    key: Option<String>,
    phone: Option<String>,
    call_id: Option<String>,
    state: Option<String>,
    reply: Option<String>,
    duration: Option<Duration>,
}

impl From<&CallOutcome> for StoredCall {
    fn from(c: &CallOutcome) -> Self {
        StoredCall {
            key: c.key.clone(),
            phone: c.phone.clone(),
            call_id: c.call_id.clone(),
            state: c.state.map(|s| s.as_str().to_owned()),
            reply: c.reply.clone(),
            duration: c.duration,
        }
    }
}

impl From<StoredCall> for CallOutcome {
    /// A state this build does not know reads as not final: nothing is settled on it.
    fn from(c: StoredCall) -> Self {
        CallOutcome {
            key: c.key,
            phone: c.phone,
            call_id: c.call_id,
            state: c.state.as_deref().and_then(CallState::parse),
            reply: c.reply,
            duration: c.duration,
        }
    }
}

/// Records each callback; a batch the ledger does not know is kept for [`rematch`].
pub(super) fn record<T: CallbackTx>(
    tx: &mut T,
    callbacks: &[CallbackOutcomes],
) -> Result<Vec<Recorded>, T::Error> {
    callbacks
        .iter()
        .map(|callback| {
            let recorded = apply(tx, callback)?;
            if recorded.batch_known {
                tx.drop_kept(&callback.batch_id)?;
            } else {
                let stored = Stored {
                    received_at: callback.received_at,
                    stats_json: callback.stats_json.clone(),
                    calls: callback
                        .calls
                        .as_ref()
                        .map(|calls| calls.iter().map(StoredCall::from).collect()),
                };
                let stored = serde_json::to_string(&stored).unwrap_or_default();
                tx.keep(
                    Some(&callback.batch_id),
                    "unmatched",
                    &callback.redacted_body,
                    Some(&stored),
                    &callback.received_at.to_string(),
                )?;
            }
            Ok(recorded)
        })
        .collect()
}

/// Keeps a refused callback body (bad JSON, an unknown shape), redacted by the receiver.
pub(super) fn keep_refused<T: CallbackTx>(
    tx: &mut T,
    received_at: Timestamp,
    reason: &str,
    body: &str,
) -> Result<(), T::Error> {
    tx.keep(None, reason, body, None, &received_at.to_string())
}

/// Matches the kept callbacks again (at most `limit` of them): those whose batch is known
/// by now are recorded and dropped. Returns how many calls they settled.
pub(super) fn rematch<T: CallbackTx>(tx: &mut T, limit: u64) -> Result<u64, T::Error> {
    let mut settled = 0;
    for (_, batch_id, stored) in tx.kept(limit)? {
        // A kept row this build cannot read (a hand edit) stays for inspection.
        let Ok(stored) = serde_json::from_str::<Stored>(&stored) else {
            continue;
        };
        let callback = CallbackOutcomes {
            received_at: stored.received_at,
            batch_id: batch_id.clone(),
            stats_json: stored.stats_json,
            calls: stored
                .calls
                .map(|calls| calls.into_iter().map(CallOutcome::from).collect()),
            redacted_body: String::new(),
        };
        let recorded = apply(tx, &callback)?;
        if recorded.batch_known {
            settled += recorded.settled;
            tx.drop_kept(&batch_id)?;
        }
    }
    Ok(settled)
}

/// Settles what one callback reports, if the ledger knows its batch (or, for in-doubt calls
/// whose batch id was never recorded, their keys).
fn apply<T: CallbackTx>(tx: &mut T, callback: &CallbackOutcomes) -> Result<Recorded, T::Error> {
    let at = callback.received_at.to_string();
    let reported = callback.calls.as_deref().unwrap_or_default();
    let mut recorded = Recorded {
        calls: reported.len() as u64,
        ..Recorded::default()
    };
    let mut calls = tx.batch_calls(&callback.batch_id)?;
    if calls.is_empty() {
        // Calls whose answer was lost: in doubt, no batch id; a tag names exactly one.
        let mut keys: Vec<&str> = reported.iter().filter_map(|c| c.key.as_deref()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut by_key: std::collections::BTreeMap<String, Vec<LedgerCall>> =
            std::collections::BTreeMap::new();
        for call in tx.in_doubt(&keys)? {
            by_key.entry(call.key.clone()).or_default().push(call);
        }
        calls.extend(
            by_key
                .into_values()
                .filter_map(|mut same| (same.len() == 1).then(|| same.remove(0))),
        );
    }
    let targets: BTreeSet<&str> = calls.iter().map(|c| c.target.as_str()).collect();
    // No call, or calls of two servers with one batch id: nothing is settled on a guess.
    let [target] = targets.into_iter().collect::<Vec<_>>()[..] else {
        recorded.unmatched = recorded.calls;
        return Ok(recorded);
    };
    let target = target.to_owned();
    recorded.batch_known = true;
    tx.put_batch(&target, &callback.batch_id, &callback.stats_json, &at)?;
    let Some(reported) = &callback.calls else {
        // Stats only: every open call of the batch completed, its outcome unknown.
        let completed = CallOutcome {
            key: None,
            phone: None,
            call_id: None,
            state: None,
            reply: None,
            duration: None,
        };
        for call in &calls {
            if OPEN_STATES.contains(&call.state.as_str())
                && call.state != "completed"
                && tx.settle(call, &callback.batch_id, &completed, "completed", &at)?
            {
                recorded.settled += 1;
            }
        }
        return Ok(recorded);
    };
    for outcome in reported {
        let Some(state) = outcome.state else {
            recorded.not_final += 1;
            // Its call id is kept: `sync` asks the status endpoint by it later.
            if let (Some(call), Some(call_id)) = (find(&calls, outcome), &outcome.call_id)
                && OPEN_STATES.contains(&call.state.as_str())
            {
                tx.note_call_id(call, &callback.batch_id, call_id)?;
            }
            continue;
        };
        let Some(call) = find(&calls, outcome) else {
            recorded.unmatched += 1;
            continue;
        };
        if !OPEN_STATES.contains(&call.state.as_str()) {
            recorded.already_final += 1;
            continue;
        }
        if !tx.settle(call, &callback.batch_id, outcome, state.as_str(), &at)? {
            recorded.already_final += 1;
            continue;
        }
        recorded.settled += 1;
        if let (Some(reply), Some(phone)) = (&outcome.reply, &call.phone) {
            let replies = tx.opt_out_replies(&call.campaign)?;
            if replies.iter().any(|r| r == reply.trim()) {
                tx.add_opt_out(phone, &call.campaign, reply.trim(), &at)?;
                recorded.opted_out += 1;
            }
        }
    }
    Ok(recorded)
}

/// The ledger call a reported call is: by its key's tag, else by its number when exactly one
/// call of the batch has it.
fn find<'c>(calls: &'c [LedgerCall], outcome: &CallOutcome) -> Option<&'c LedgerCall> {
    if let Some(key) = &outcome.key {
        return calls.iter().find(|c| &c.key == key);
    }
    let phone = outcome.phone.as_deref()?;
    let mut same = calls.iter().filter(|c| c.phone.as_deref() == Some(phone));
    match (same.next(), same.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests;
