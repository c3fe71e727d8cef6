//! Following accepted calls to their outcome: the sync step ([`super::sync`]), again and
//! again with backoff, until every call of the round is final or the follow deadline passes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use voicebot_api::wire::ProcessingStatus;

use super::state::{Shared, lock};
use super::sync::{BatchEndpoint, Learnt, Scope, sync};
use crate::client::Client;
use crate::ledger::{Attempt, CallState};
use crate::settings::ApplySettings;

impl Shared {
    /// The sync step's scope for this run: its campaign under its target, in `round`, or in
    /// every round with calls open.
    fn sync_scope(&self, round: Option<String>) -> Scope {
        Scope {
            target_id: self.target_id.clone(),
            campaign: self.campaign.clone(),
            round,
        }
    }
}

/// At the start of a run: the outcomes of earlier calls of the campaign (every round), so that
/// the retries they make due are placed in this run. Bounded by the follow timeout.
pub(super) async fn collect_earlier(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
) -> anyhow::Result<()> {
    let until = Instant::now() + s.follow_timeout;
    let learnt = sync(
        &shared.store,
        client,
        &shared.sync_scope(None),
        Some(until),
        &shared.interrupted,
    )
    .await?;
    if learnt.looked_at == 0 {
        return Ok(());
    }
    tracing::info!(
        "{} earlier calls were still open (accepted or in doubt); learnt: {} answered, {} failed, {} not answered, {} past the outcome deadline (outcome unknown), {} not final yet",
        learnt.looked_at,
        learnt.answered,
        learnt.failed,
        learnt.no_answer,
        learnt.outcome_unknown,
        learnt.not_final
    );
    for gap in &learnt.not_learnt {
        tracing::info!("{}", gap.message);
    }
    Ok(())
}

/// Follows accepted calls to their outcome through the sync step, with backoff, until all
/// are final or the follow deadline passes.
pub(super) async fn follow(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + s.follow_timeout;
    let scope = shared.sync_scope(Some(shared.round.clone()));
    let mut delay = Duration::from_millis(250);
    loop {
        let learnt = sync(
            &shared.store,
            client,
            &scope,
            Some(deadline),
            &shared.interrupted,
        )
        .await?;
        count(shared, &learnt);
        let left = accepted_calls(shared).await?.len();
        if left == 0 {
            return Ok(());
        }
        if !learnt.more_to_learn() {
            // Nothing the server can say by waiting: no batches, and no call id to ask by.
            if learnt.batch_endpoint == BatchEndpoint::NotOffered {
                tracing::warn!(
                    "the server does not report batches, so outcomes cannot be followed; the calls stay accepted until a callback (`outreach callbacks`) or `outreach sync` says more"
                );
            }
            lock(&shared.counts).unfollowed = left as u64;
            return Ok(());
        }
        if shared.interrupted.load(Ordering::SeqCst) || Instant::now() >= deadline {
            lock(&shared.counts).unfollowed = left as u64;
            tracing::info!(
                "stopped following with {left} outcomes not known yet; `outreach status` shows them later"
            );
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// This run's counts of outcomes followed.
fn count(shared: &Shared, learnt: &Learnt) {
    let mut c = lock(&shared.counts);
    c.answered += learnt.answered;
    c.failed += learnt.failed;
    c.no_answer += learnt.no_answer;
}

/// The calls of this run's round accepted and not followed to their outcome yet.
async fn accepted_calls(shared: &Arc<Shared>) -> anyhow::Result<Vec<Attempt>> {
    Ok(shared
        .ledger(|l, s| {
            l.attempts(
                &s.target_id,
                &s.campaign.name,
                &s.round,
                &[CallState::Accepted],
            )
        })
        .await?)
}

/// The outcome a call's processing status records, once it has one: the one reading of a
/// status, for following, `sync` and the callback receiver.
pub fn outcome(status: &ProcessingStatus) -> Option<CallState> {
    match status {
        ProcessingStatus::Processed => Some(CallState::Answered),
        ProcessingStatus::Failed => Some(CallState::Failed),
        ProcessingStatus::Timeout => Some(CallState::NoAnswer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_final_processing_statuses_record_an_outcome() {
        assert_eq!(
            outcome(&ProcessingStatus::Processed),
            Some(CallState::Answered)
        );
        assert_eq!(outcome(&ProcessingStatus::Failed), Some(CallState::Failed));
        assert_eq!(
            outcome(&ProcessingStatus::Timeout),
            Some(CallState::NoAnswer)
        );
        assert_eq!(outcome(&ProcessingStatus::Queued), None);
        assert_eq!(outcome(&ProcessingStatus::Processing), None);
        assert_eq!(outcome(&ProcessingStatus::from("VOICE_CALL_ON_HOLD")), None);
    }
}
