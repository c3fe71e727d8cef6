//! Calls in doubt from earlier runs (sent, no answer recorded): looked up on the server before anything is sent again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::bail;
use serde_json::Value;

use super::state::{Shared, lock, sleep_interruptible};
use crate::campaign::{Campaign, InDoubt, Kind};
use crate::client::{Client, LookupError};
use crate::ledger::{Attempt, CallState};
use crate::plan;
use crate::settings::ApplySettings;

/// Looks up calls left `sending` by runs that are over (crashed, or on a shared ledger, whose
/// heartbeat stopped) and calls in doubt, and settles what it can. Each is moved only from
/// the state it was read in, so runners resolving the same call never undo each other.
/// Returns how many were found never placed (they are due again).
/// `at_start`: the run's first look, which also takes the calls in doubt (later, only those
/// stopped runners left `sending`: this run's own calls in doubt are for the next run, once
/// no request can still be in flight).
pub(super) async fn reconcile(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
    at_start: bool,
) -> anyhow::Result<u64> {
    let campaign = &shared.campaign;
    let unresolved = lock(&shared.ledger).unresolved(
        &shared.target_id,
        &campaign.name,
        &shared.round,
        &shared.run_id,
        at_start,
    )?;
    if unresolved.is_empty() {
        return Ok(0);
    }
    tracing::warn!(
        "{} calls of an earlier or stopped run are in doubt; looking them up on the server",
        unresolved.len()
    );
    let found = if s.dry_run {
        None
    } else {
        lookup(client, campaign).await?
    };
    let mut ledger = lock(&shared.ledger);
    let mut counts = lock(&shared.counts);
    let mut reopened = 0;
    for a in &unresolved {
        let hit = found.as_ref().and_then(|f| match campaign.kind {
            Kind::Robocall => f.by_key.get(&a.key),
            Kind::Conversation => a.phone.as_ref().and_then(|p| f.by_phone.get(p)),
        });
        match (hit, &found) {
            (Some(call), _) => {
                if ledger.resolve(
                    &shared.target_id,
                    a,
                    CallState::Accepted,
                    call.batch_id.as_deref(),
                    "found on the server after a crash or a lost answer",
                )? {
                    counts.resolved += 1;
                }
            }
            // The server lists every batch of the workflow and this call is in none of them:
            // it was never placed, so it may be sent, once no request can still be in flight.
            (None, Some(_)) if settled_long_ago(a, s.in_doubt_grace) => {
                if ledger.resolve(
                    &shared.target_id,
                    a,
                    CallState::NotSent,
                    None,
                    "not found on the server: never placed",
                )? {
                    counts.resolved += 1;
                    reopened += 1;
                }
            }
            // Not listed yet, but a request may still be in flight: left as it is (not
            // touched, so the grace period runs from the send) for the next run to look up.
            (None, Some(_)) => counts.in_doubt += 1,
            (None, None) => {
                let resend = s.resend_in_doubt || campaign.delivery.in_doubt == InDoubt::Resend;
                if resend {
                    if ledger.resolve(
                        &shared.target_id,
                        a,
                        CallState::NotSent,
                        None,
                        "in doubt; re-sent by the operator's or the campaign's choice",
                    )? {
                        reopened += 1;
                    }
                } else {
                    ledger.resolve(
                        &shared.target_id,
                        a,
                        CallState::InDoubt,
                        None,
                        "in doubt: the server cannot be asked; held (see --resend-in-doubt)",
                    )?;
                    counts.in_doubt += 1;
                }
            }
        }
    }
    Ok(reopened)
}

/// On a shared ledger, after this runner's share is sent: waits for the calls other live
/// runners are sending to be answered, then looks up those that stopped runners left
/// `sending`. Returns how many were found never placed (due again).
pub(super) async fn settle_others(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
) -> anyhow::Result<u64> {
    loop {
        let n = lock(&shared.ledger)
            .shared_only("waiting for other runners")?
            .in_flight_elsewhere(
                &shared.target_id,
                &shared.campaign.name,
                &shared.round,
                &shared.run_id,
            )?;
        if n == 0 || shared.interrupted.load(Ordering::SeqCst) {
            break;
        }
        tracing::debug!("{n} calls are being sent by other runners; waiting for their answers");
        sleep_interruptible(shared, Duration::from_millis(500)).await;
    }
    reconcile(s, shared, client, false).await
}

/// Whether an attempt was last touched longer ago than `grace`.
pub(super) fn settled_long_ago(a: &Attempt, grace: Duration) -> bool {
    crate::clock::now()
        .duration_since(a.updated_at)
        .unsigned_abs()
        >= grace
}

pub(super) struct Found {
    pub(super) by_key: HashMap<String, voicebot_api::wire::CallStatus>,
    pub(super) by_phone: HashMap<String, voicebot_api::wire::CallStatus>,
}

/// Every call of the campaign's workflow on the server, by idempotency key (robocalls carry it
/// in their tags) and by number. `None` when the server does not offer the lookup endpoints.
pub(super) async fn lookup(client: &Client, campaign: &Campaign) -> anyhow::Result<Option<Found>> {
    let batches = match client.workflow_batches(&campaign.workflow_id).await {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(LookupError::Unauthorized) => {
            bail!("the API key was refused (401) while looking up calls in doubt")
        }
        Err(LookupError::Other(e)) => {
            tracing::warn!("cannot look up calls in doubt: {e}");
            return Ok(None);
        }
    };
    let mut found = Found {
        by_key: HashMap::new(),
        by_phone: HashMap::new(),
    };
    for b in batches {
        let Some(detail) = client
            .batch(&b.batch_id)
            .await
            .map_err(|e| anyhow::anyhow!("looking up batch {}: {e}", b.batch_id))?
        else {
            return Ok(None);
        };
        for mut call in detail.request_calls.unwrap_or_default() {
            if call.batch_id.is_none() {
                call.batch_id = Some(b.batch_id.clone());
            }
            if let Some(k) = call
                .user_tag_identifiers
                .as_ref()
                .and_then(|t| t.get(plan::KEY_TAG))
                .and_then(Value::as_str)
            {
                found.by_key.insert(k.to_owned(), call.clone());
            }
            if let Some(p) = &call.phone_number {
                found.by_phone.insert(p.clone(), call.clone());
            }
        }
    }
    Ok(Some(found))
}
