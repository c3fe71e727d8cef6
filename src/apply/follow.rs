//! Following accepted calls to their outcome.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use voicebot_api::wire::ProcessingStatus;

use super::state::{Shared, lock};
use super::stopped::KeyRefused;
use crate::campaign::{Kind, Retry};
use crate::client::{Client, LookupError};
use crate::ledger::{Attempt, CallState};
use crate::plan;
use crate::settings::ApplySettings;

/// Follows accepted calls to their outcome through the batch endpoint, with backoff, until
/// all are final or the follow deadline passes.
pub(super) async fn follow(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
) -> anyhow::Result<()> {
    let campaign = &shared.campaign;
    let deadline = std::time::Instant::now() + s.follow_timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        let accepted = accepted_calls(shared).await?;
        if accepted.is_empty() {
            return Ok(());
        }
        let mut by_batch: BTreeMap<String, Vec<&Attempt>> = BTreeMap::new();
        for a in &accepted {
            if let Some(b) = &a.batch_id {
                by_batch.entry(b.clone()).or_default().push(a);
            }
        }
        let mut unsupported = false;
        for (batch_id, attempts) in &by_batch {
            let detail = match client.batch(batch_id).await {
                Ok(Some(d)) => d,
                Ok(None) => {
                    unsupported = true;
                    continue;
                }
                Err(LookupError::Unauthorized) => {
                    return Err(KeyRefused {
                        during: "following calls",
                        message: None,
                    }
                    .into());
                }
                Err(LookupError::Other(e)) => {
                    tracing::debug!("following batch {batch_id}: {e}");
                    continue;
                }
            };
            let calls = detail.request_calls.unwrap_or_default();
            for a in attempts {
                let status = calls.iter().find(|c| match campaign.kind {
                    Kind::Robocall => {
                        c.user_tag_identifiers
                            .as_ref()
                            .and_then(|t| t.get(plan::KEY_TAG))
                            .and_then(Value::as_str)
                            == Some(&a.key)
                    }
                    Kind::Conversation => c.phone_number.as_deref() == a.phone.as_deref(),
                });
                let Some(status) = status else { continue };
                let Some(state) = outcome(&status.processing_status) else {
                    continue;
                };
                let retry_at = retry_at(
                    state,
                    a.attempt,
                    &campaign.delivery.retry,
                    shared.retry_delay,
                    crate::clock::now(),
                );
                let duration = status.call_duration_in_seconds.map(Duration::from_secs);
                let (key, attempt) = (a.key.clone(), a.attempt);
                let (call_id, reply) = (status.call_id.clone(), status.reply.clone());
                shared
                    .ledger(move |l, s| {
                        l.outcome(
                            &s.target_id,
                            &key,
                            attempt,
                            state,
                            Some(&call_id),
                            duration,
                            reply.as_deref(),
                            retry_at,
                        )
                    })
                    .await?;
                let mut c = lock(&shared.counts);
                match state {
                    CallState::Answered => c.answered += 1,
                    CallState::Failed => c.failed += 1,
                    _ => c.no_answer += 1,
                }
            }
        }
        if unsupported {
            tracing::warn!(
                "the server does not report batches, so outcomes cannot be followed; the calls stay accepted"
            );
            lock(&shared.counts).unfollowed = accepted.len() as u64;
            return Ok(());
        }
        if shared.interrupted.load(Ordering::SeqCst) || std::time::Instant::now() >= deadline {
            let left = accepted_calls(shared).await?.len();
            lock(&shared.counts).unfollowed = left as u64;
            if left > 0 {
                tracing::info!(
                    "stopped following with {left} outcomes not known yet; `outreach status` shows them later"
                );
            }
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
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

/// When attempt `attempt`, ended in `state`, is called again: `delay` after `now`, if the
/// policy retries that outcome and attempts are left.
fn retry_at(
    state: CallState,
    attempt: u32,
    retry: &Retry,
    delay: Option<SignedDuration>,
    now: Timestamp,
) -> Option<Timestamp> {
    (state.retried_by(retry) && attempt < retry.attempts)
        .then_some(delay)
        .flatten()
        .and_then(|d| now.checked_add(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::RetryOutcome;

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

    #[test]
    fn a_retry_is_scheduled_for_retried_outcomes_with_attempts_left() {
        let retry = Retry {
            attempts: 2,
            outcomes: vec![RetryOutcome::NoAnswer],
            ..Retry::default()
        };
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let two_hours = Some(SignedDuration::from_hours(2));
        assert_eq!(
            retry_at(CallState::NoAnswer, 1, &retry, two_hours, now),
            Some("2026-12-01T12:00:00Z".parse().unwrap())
        );
        // Out of attempts, an outcome the policy does not retry, or a final answer.
        assert_eq!(
            retry_at(CallState::NoAnswer, 2, &retry, two_hours, now),
            None
        );
        assert_eq!(retry_at(CallState::Failed, 1, &retry, two_hours, now), None);
        assert_eq!(
            retry_at(CallState::Answered, 1, &retry, two_hours, now),
            None
        );
        assert_eq!(retry_at(CallState::NoAnswer, 1, &retry, None, now), None);
    }
}
