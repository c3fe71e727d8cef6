//! Plans subtract what the ledger says was already done: a patient called in this round is
//! skipped (`already-called`), so planning again after an apply shows nothing new to call.
//! Calls that the retry policy makes due again stay in the plan. A number whose reply to an
//! earlier call opted it out (a campaign's `opt_out_replies`, kept by the receiver in the
//! ledger) is skipped as `opted-out`, like a number of the campaign's own lists.

use std::collections::{HashMap, HashSet};
use std::io;

use crate::campaign::Campaign;
use crate::ledger::{CallState, KeyHistory};
use crate::plan::SkipReason;
use crate::plan::{Call, Header, Sink, Skip, Summary};

/// What the ledger holds that a plan subtracts.
#[derive(Debug, Default)]
pub struct Recorded {
    /// The campaign round's calls, by key.
    pub calls: HashMap<String, KeyHistory>,
    /// The numbers whose reply opted them out (as `phone::key_of`).
    pub replied: HashSet<u64>,
}

impl Recorded {
    /// Whether the ledger takes nothing out of a plan.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.replied.is_empty()
    }
}

/// Wraps a sink, turning calls the ledger already holds into skips and re-batching the rest.
pub struct Subtract<'a> {
    inner: &'a mut dyn Sink,
    history: HashMap<String, KeyHistory>,
    replied: HashSet<u64>,
    /// Calls skipped for a reply that opted them out.
    opted_out: u64,
    campaign: &'a Campaign,
    /// The calls kept, by language (a request has one voice and one workflow), to be
    /// batched again.
    pending: std::collections::BTreeMap<Option<String>, Vec<Call>>,
    pending_zone: String,
    batches: u64,
    removed: u64,
    target: String,
}

impl<'a> Subtract<'a> {
    pub fn new(
        inner: &'a mut dyn Sink,
        campaign: &'a Campaign,
        recorded: Recorded,
        target: &str,
    ) -> Self {
        Subtract {
            inner,
            history: recorded.calls,
            replied: recorded.replied,
            opted_out: 0,
            campaign,
            pending: std::collections::BTreeMap::new(),
            pending_zone: String::new(),
            batches: 0,
            removed: 0,
            target: target.to_owned(),
        }
    }

    /// Why the ledger takes this call out of the plan, if it does.
    fn done(&self, key: &str) -> Option<String> {
        let h = self.history.get(key)?;
        let retry = &self.campaign.delivery.retry;
        if h.state == CallState::NotSent {
            return None;
        }
        if h.state.retried_by(retry) && h.attempt < retry.attempts {
            return None;
        }
        Some(format!(
            "already {} (attempt {}) on {}",
            match h.state {
                CallState::Answered => "called and answered",
                CallState::Failed => "called (failed)",
                CallState::NoAnswer => "called (not answered)",
                CallState::InDoubt | CallState::Sending => "sent, and in doubt",
                CallState::Rejected => "rejected by the server",
                CallState::Completed => "called (completed, outcome per call unknown)",
                CallState::OutcomeUnknown => "called (no outcome arrived in time)",
                CallState::Accepted => "called",
                // Never reached here (put back above); named so a new state is decided on.
                CallState::NotSent => "not sent",
            },
            h.attempt,
            self.target
        ))
    }

    /// Hands every language's kept calls on, as batches.
    fn flush(&mut self) -> io::Result<()> {
        let languages: Vec<Option<String>> = self.pending.keys().cloned().collect();
        for language in languages {
            self.flush_one(language.as_ref())?;
        }
        Ok(())
    }

    /// Hands one language's kept calls on, as a batch.
    fn flush_one(&mut self, language: Option<&String>) -> io::Result<()> {
        let Some(calls) = self
            .pending
            .remove(&language.cloned())
            .filter(|c| !c.is_empty())
        else {
            return Ok(());
        };
        self.inner.batch(self.batches, &self.pending_zone, &calls)?;
        self.batches += 1;
        Ok(())
    }
}

impl Sink for Subtract<'_> {
    fn header(&mut self, header: &Header, campaign: &Campaign) -> io::Result<()> {
        self.inner.header(header, campaign)
    }

    fn batch(&mut self, _: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        if timezone != self.pending_zone {
            self.flush()?;
            timezone.clone_into(&mut self.pending_zone);
        }
        let size = self.campaign.delivery.batch_size.max(1) as usize;
        for c in calls {
            if self
                .replied
                .contains(&crate::patients::phone::key_of(&c.phone))
            {
                self.opted_out += 1;
                self.inner.skip(&Skip {
                    source: c.source,
                    row: c.row,
                    code: SkipReason::OptedOut,
                    reason: "opted out by their reply to an earlier call (the ledger's list)"
                        .to_owned(),
                    phone: Some(c.phone.clone()),
                })?;
                continue;
            }
            if let Some(reason) = self.done(&c.key) {
                self.removed += 1;
                self.inner.skip(&Skip {
                    source: c.source,
                    row: c.row,
                    code: SkipReason::AlreadyCalled,
                    reason,
                    phone: Some(c.phone.clone()),
                })?;
                continue;
            }
            let kept = self.pending.entry(c.language.clone()).or_default();
            kept.push(c.clone());
            if kept.len() == size {
                self.flush_one(c.language.as_ref())?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.inner.skip(skip)
    }

    fn filtered(&mut self, skip: &Skip) -> io::Result<()> {
        self.inner.filtered(skip)
    }

    fn wants_filtered(&self) -> bool {
        self.inner.wants_filtered()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.flush()?;
        let mut summary = summary.clone();
        summary.calls -= self.removed + self.opted_out;
        summary.skipped += self.removed + self.opted_out;
        if self.opted_out > 0 {
            *summary
                .skipped_by_reason
                .entry(SkipReason::OptedOut.as_str())
                .or_default() += self.opted_out;
        }
        summary.batches = self.batches;
        if self.removed > 0 {
            *summary
                .skipped_by_reason
                .entry(SkipReason::AlreadyCalled.as_str())
                .or_default() += self.removed;
        }
        self.inner.finish(&summary)
    }
}
