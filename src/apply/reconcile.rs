//! Calls in doubt from earlier runs (sent, no answer recorded): looked up on the server before anything is sent again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::state::{Shared, lock, sleep_interruptible};
use super::stopped::KeyRefused;
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
    let unresolved = shared
        .ledger(move |l, s| {
            l.unresolved(
                &s.target_id,
                &s.campaign.name,
                &s.round,
                &s.run_id,
                at_start,
            )
        })
        .await?;
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
    let resend = s.resend_in_doubt || campaign.delivery.in_doubt == InDoubt::Resend;
    let now = crate::clock::now();
    let verdicts: Vec<Verdict> = unresolved
        .iter()
        .map(|a| {
            let on_server = match &found {
                None => OnServer::Unknown,
                Some(f) => match campaign.kind {
                    Kind::Robocall => f.by_key.get(&a.key),
                    Kind::Conversation => a.phone.as_ref().and_then(|p| f.by_phone.get(p)),
                }
                .map_or(OnServer::Missing, |c| OnServer::Found(c.batch_id.clone())),
            };
            verdict(
                on_server,
                settled_long_ago(a, s.in_doubt_grace, now),
                resend,
            )
        })
        .collect();
    let resolutions: Vec<_> = verdicts.iter().map(Verdict::resolution).collect();
    let moved = shared
        .ledger(move |l, s| {
            unresolved
                .iter()
                .zip(resolutions)
                .map(|(a, r)| match r {
                    Some((to, batch_id, message)) => {
                        l.resolve(&s.target_id, a, to, batch_id.as_deref(), message)
                    }
                    None => Ok(false),
                })
                .collect::<Result<Vec<bool>, _>>()
        })
        .await?;
    let t = tally(&verdicts, &moved);
    {
        let mut c = lock(&shared.counts);
        c.resolved += t.resolved;
        c.in_doubt += t.in_doubt;
    }
    Ok(t.reopened)
}

/// What becomes of a call in doubt, once the server was asked (or could not be).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// On the server: accepted (with its batch, when known).
    Found(Option<String>),
    /// The server lists every batch of the workflow and the call is in none, and no request
    /// can still be in flight: never placed, so due again.
    NeverPlaced,
    /// Not listed, but a request may still be in flight: left untouched (so the grace period
    /// runs from the send) for the next run to look up.
    Wait,
    /// The server cannot be asked, and the operator or the campaign chose to send again.
    Resend,
    /// The server cannot be asked: held, never sent again blindly.
    Hold,
}

/// What the server says of a call in doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OnServer {
    /// Listed, in this batch (when it says).
    Found(Option<String>),
    /// The server lists every call of the workflow, and this one is not among them.
    Missing,
    /// The server cannot be asked (no lookup endpoints, a dry run).
    Unknown,
}

/// `quiet`: whether the attempt was last touched longer ago than the in-doubt grace;
/// `resend`: whether the operator or the campaign chose to send calls in doubt again.
fn verdict(on_server: OnServer, quiet: bool, resend: bool) -> Verdict {
    match on_server {
        OnServer::Found(batch) => Verdict::Found(batch),
        OnServer::Missing if quiet => Verdict::NeverPlaced,
        OnServer::Missing => Verdict::Wait,
        OnServer::Unknown if resend => Verdict::Resend,
        OnServer::Unknown => Verdict::Hold,
    }
}

impl Verdict {
    /// The state the attempt moves to, with its batch and the message recorded; `None`: it
    /// is not touched.
    fn resolution(&self) -> Option<(CallState, Option<String>, &'static str)> {
        Some(match self {
            Verdict::Found(batch) => (
                CallState::Accepted,
                batch.clone(),
                "found on the server after a crash or a lost answer",
            ),
            Verdict::NeverPlaced => (
                CallState::NotSent,
                None,
                "not found on the server: never placed",
            ),
            Verdict::Wait => return None,
            Verdict::Resend => (
                CallState::NotSent,
                None,
                "in doubt; re-sent by the operator's or the campaign's choice",
            ),
            Verdict::Hold => (
                CallState::InDoubt,
                None,
                "in doubt: the server cannot be asked; held (see --resend-in-doubt)",
            ),
        })
    }
}

/// What a reconcile counts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    /// Settled by the lookup (found, or found never placed).
    resolved: u64,
    /// Due again.
    reopened: u64,
    /// Still in doubt (waiting, or held).
    in_doubt: u64,
}

/// The counts of verdicts carried out (`moved`: whether each attempt moved; one that did
/// not was resolved by another runner first, and is theirs to count).
fn tally(verdicts: &[Verdict], moved: &[bool]) -> Tally {
    let mut t = Tally::default();
    for (v, &moved) in verdicts.iter().zip(moved) {
        match v {
            Verdict::Found(_) if moved => t.resolved += 1,
            Verdict::NeverPlaced if moved => {
                t.resolved += 1;
                t.reopened += 1;
            }
            Verdict::Resend if moved => t.reopened += 1,
            Verdict::Wait | Verdict::Hold => t.in_doubt += 1,
            _ => {}
        }
    }
    t
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
        let n = shared
            .ledger(|l, s| {
                l.shared_only("waiting for other runners")?
                    .in_flight_elsewhere(&s.target_id, &s.campaign.name, &s.round, &s.run_id)
            })
            .await?;
        if n == 0 || shared.interrupted.load(Ordering::SeqCst) {
            break;
        }
        tracing::debug!("{n} calls are being sent by other runners; waiting for their answers");
        sleep_interruptible(shared, Duration::from_millis(500)).await;
    }
    reconcile(s, shared, client, false).await
}

/// Whether an attempt was last touched longer ago than `grace`, at `now`.
fn settled_long_ago(a: &Attempt, grace: Duration, now: Timestamp) -> bool {
    now.duration_since(a.updated_at).unsigned_abs() >= grace
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
            return Err(KeyRefused {
                during: "looking up calls in doubt",
                message: None,
            }
            .into());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_found_on_the_server_is_accepted_whatever_else_holds() {
        let found = || OnServer::Found(Some("b1".into()));
        for (quiet, resend) in [(true, false), (false, true), (false, false)] {
            assert_eq!(
                verdict(found(), quiet, resend),
                Verdict::Found(Some("b1".into()))
            );
        }
        let (to, batch, _) = Verdict::Found(Some("b1".into())).resolution().unwrap();
        assert_eq!((to, batch.as_deref()), (CallState::Accepted, Some("b1")));
    }

    #[test]
    fn a_call_the_server_does_not_list_is_due_again_only_once_no_request_can_be_in_flight() {
        assert_eq!(
            verdict(OnServer::Missing, true, false),
            Verdict::NeverPlaced
        );
        assert_eq!(verdict(OnServer::Missing, false, false), Verdict::Wait);
        // Even with resend chosen: the server's answer decides.
        assert_eq!(verdict(OnServer::Missing, false, true), Verdict::Wait);
        assert_eq!(Verdict::Wait.resolution(), None, "left untouched");
        assert_eq!(
            Verdict::NeverPlaced.resolution().map(|r| r.0),
            Some(CallState::NotSent)
        );
    }

    #[test]
    fn a_call_in_doubt_the_server_cannot_be_asked_about_is_held_unless_resend_is_chosen() {
        assert_eq!(verdict(OnServer::Unknown, true, false), Verdict::Hold);
        assert_eq!(verdict(OnServer::Unknown, true, true), Verdict::Resend);
        assert_eq!(
            Verdict::Hold.resolution().map(|r| r.0),
            Some(CallState::InDoubt)
        );
        assert_eq!(
            Verdict::Resend.resolution().map(|r| r.0),
            Some(CallState::NotSent)
        );
    }

    #[test]
    fn only_the_attempts_this_runner_moved_are_counted_as_resolved_or_due_again() {
        let verdicts = [
            Verdict::Found(None),
            Verdict::Found(None),
            Verdict::NeverPlaced,
            Verdict::Resend,
            Verdict::Wait,
            Verdict::Hold,
        ];
        // The second was resolved by another runner first.
        let t = tally(&verdicts, &[true, false, true, true, false, true]);
        assert_eq!(
            t,
            Tally {
                resolved: 2,
                reopened: 2,
                in_doubt: 2,
            }
        );
    }

    #[test]
    fn the_grace_period_runs_from_the_last_touch() {
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        let touched = |t: &str| Attempt {
            campaign: "c".into(),
            round: String::new(),
            key: "k".into(),
            attempt: 1,
            phone: None,
            state: CallState::Sending,
            batch_id: None,
            call_id: None,
            reply: None,
            duration: None,
            message: None,
            source: None,
            row: None,
            created_at: t.parse().unwrap(),
            updated_at: t.parse().unwrap(),
            run_id: "r".into(),
        };
        let grace = Duration::from_secs(60);
        assert!(settled_long_ago(
            &touched("2026-12-01T09:59:00Z"),
            grace,
            now
        ));
        assert!(!settled_long_ago(
            &touched("2026-12-01T09:59:30Z"),
            grace,
            now
        ));
    }
}
