//! Following accepted calls to their outcome.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::bail;
use serde_json::Value;
use voicebot_api::wire::ProcessingStatus;

use super::state::{Shared, lock};
use crate::campaign::Kind;
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
        let accepted: Vec<Attempt> = lock(&shared.ledger).attempts(
            &shared.target_id,
            &campaign.name,
            &shared.round,
            &[CallState::Accepted],
        )?;
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
                    bail!("the API key was refused (401) while following calls")
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
                let state = match status.processing_status {
                    ProcessingStatus::Processed => CallState::Answered,
                    ProcessingStatus::Failed => CallState::Failed,
                    ProcessingStatus::Timeout => CallState::NoAnswer,
                    _ => continue,
                };
                let retry = &campaign.delivery.retry;
                let retryable = state.retried_by(retry);
                let retry_at = (retryable && a.attempt < retry.attempts)
                    .then(|| crate::campaign::values::parse_duration(&retry.delay))
                    .flatten()
                    .and_then(|d| crate::clock::now().checked_add(d).ok());
                let duration = status
                    .call_duration_in_seconds
                    .map(std::time::Duration::from_secs);
                lock(&shared.ledger).outcome(
                    &shared.target_id,
                    &a.key,
                    a.attempt,
                    state,
                    Some(&status.call_id),
                    duration,
                    status.reply.as_deref(),
                    retry_at,
                )?;
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
            let left = lock(&shared.ledger)
                .attempts(
                    &shared.target_id,
                    &campaign.name,
                    &shared.round,
                    &[CallState::Accepted],
                )?
                .len();
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
