//! Calls in doubt from earlier runs (sent, no answer recorded): looked up on the server before anything is sent again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use super::state::{Shared, lock, sleep_interruptible};
use super::stopped::KeyRefused;
use crate::campaign::{InDoubt, Kind};
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
        // A declared workflow is a new workflow each time its words change: calls in doubt
        // may be on any of the ones bound before.
        let speakers = campaign.speakers();
        let mut ids: Vec<String> = speakers
            .iter()
            .filter_map(|s| s.workflow_id.map(ToOwned::to_owned))
            .collect();
        if speakers.iter().any(|s| s.workflow.is_some()) {
            let bound = shared
                .ledger(move |l, s| l.bound_workflow_ids(&s.target_id, &s.campaign.name))
                .await?;
            for id in bound {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        lookup(client, &ids).await?
    };
    let resend = s.resend_in_doubt || campaign.delivery.in_doubt == InDoubt::Resend;
    let now = crate::clock::now();
    let verdicts: Vec<Verdict> = unresolved
        .iter()
        .map(|a| {
            let on_server = match &found {
                None => OnServer::Unknown,
                Some(f) => f.of(campaign.kind, a),
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

/// A call the server lists, with when its batch was created (when the server says).
#[derive(Debug, Clone)]
struct Record {
    batch_id: Option<String>,
    created: Option<Timestamp>,
}

/// What the server lists of the campaign's workflow.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Robocalls carry their idempotency key in their tags (a key per round and number).
    by_key: HashMap<String, Vec<Record>>,
    /// Conversation calls carry nothing but their number and variables.
    by_phone: HashMap<String, Vec<Record>>,
    /// Every batch was read: a call in none of them was never placed.
    complete: bool,
    /// Every batch said when it was created.
    times_known: bool,
}

impl Found {
    /// What the server says of this attempt. A record settles it only when it is this
    /// attempt's, not an earlier one's (issue 14, class 5): a robocall's key names its round
    /// and number, so it is enough for a first attempt; a retry, and any conversation call
    /// (matched by its number alone), need a batch created after the attempt was written
    /// ahead. Where the server gives no batch times, conversation calls are never settled by
    /// a lookup. A call is missing (never placed) only when the server lists every batch and
    /// none holds its key or number; what an unread batch may hold is unknown.
    fn of(&self, kind: Kind, a: &Attempt) -> OnServer {
        let (records, by_time) = match kind {
            Kind::Robocall => (self.by_key.get(&a.key), a.attempt > 1),
            Kind::Conversation => {
                if !self.times_known {
                    return OnServer::Unknown;
                }
                (a.phone.as_ref().and_then(|p| self.by_phone.get(p)), true)
            }
        };
        let records = records.map(Vec::as_slice).unwrap_or_default();
        let ours = |r: &&Record| !by_time || r.created.is_some_and(|t| t >= a.updated_at);
        if let Some(r) = records.iter().find(ours) {
            return OnServer::Found(r.batch_id.clone());
        }
        if records.is_empty() && self.complete {
            OnServer::Missing
        } else {
            // Listed only as an earlier attempt (or at a time that cannot be told, or by a
            // server whose clock is behind): neither settled nor sent again.
            OnServer::Unknown
        }
    }
}

/// A lookup with the retries a passing failure deserves (a 5xx, a dropped connection):
/// four tries over about three seconds. A refused key is not retried.
async fn with_retries<T, F, Fut>(what: &str, mut ask: F) -> Result<T, LookupError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, LookupError>>,
{
    let mut delay = Duration::from_millis(250);
    let mut tries = 1;
    loop {
        match ask().await {
            Err(LookupError::Other(e)) if tries < 4 => {
                tracing::debug!(
                    "{what} failed ({e}); trying again in {} ms",
                    delay.as_millis()
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// The key was refused while looking calls up: the run stops.
fn refused() -> KeyRefused {
    KeyRefused {
        during: "looking up calls in doubt",
        message: None,
    }
}

/// Every call of the campaign's workflow on the server. `None` when the server does not offer
/// the lookup endpoints, or its list of batches cannot be read; a batch that cannot be read
/// after retries leaves the lookup incomplete (the calls it may hold stay in doubt) and the
/// run goes on (issue 14, class 10: one failed lookup aborted the whole run).
pub(super) async fn lookup(
    client: &Client,
    workflow_ids: &[String],
) -> anyhow::Result<Option<Found>> {
    if workflow_ids.is_empty() {
        return Ok(None);
    }
    let mut batches = Vec::new();
    for workflow_id in workflow_ids {
        match with_retries("listing the workflow's batches", || {
            client.workflow_batches(workflow_id)
        })
        .await
        {
            Ok(Some(b)) => batches.extend(b),
            Ok(None) => return Ok(None),
            Err(LookupError::Unauthorized) => {
                return Err(refused().into());
            }
            Err(LookupError::Other(e)) => {
                tracing::warn!("cannot look up calls in doubt: {e}; they stay in doubt");
                return Ok(None);
            }
        }
    }
    let mut found = Found {
        complete: true,
        times_known: true,
        ..Found::default()
    };
    let mut unread = 0_u64;
    for b in batches {
        let created = b
            .created_at
            .as_deref()
            .and_then(|t| t.parse::<Timestamp>().ok());
        found.times_known &= created.is_some();
        let detail = match with_retries("looking up a batch", || client.batch(&b.batch_id)).await {
            Ok(Some(detail)) => detail,
            Ok(None) => return Ok(None),
            Err(LookupError::Unauthorized) => {
                return Err(refused().into());
            }
            Err(LookupError::Other(e)) => {
                if unread == 0 {
                    tracing::warn!(
                        "cannot look up batch {}: {e}; the calls in doubt it may hold stay in doubt",
                        b.batch_id
                    );
                }
                unread += 1;
                found.complete = false;
                continue;
            }
        };
        for call in detail.request_calls.unwrap_or_default() {
            let record = Record {
                batch_id: call.batch_id.clone().or_else(|| Some(b.batch_id.clone())),
                created,
            };
            if let Some(k) = call
                .user_tag_identifiers
                .as_ref()
                .and_then(|t| t.get(plan::KEY_TAG))
                .and_then(Value::as_str)
            {
                found
                    .by_key
                    .entry(k.to_owned())
                    .or_default()
                    .push(record.clone());
            }
            if let Some(p) = &call.phone_number {
                found.by_phone.entry(p.clone()).or_default().push(record);
            }
        }
    }
    if unread > 1 {
        tracing::warn!(
            "{unread} batches could not be looked up; the calls in doubt they may hold stay in doubt"
        );
    }
    Ok(Some(found))
}

#[cfg(test)]
mod exactly_once;

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(kind_key: &str, attempt: u32, phone: &str, written: &str) -> Attempt {
        let at: Timestamp = written.parse().unwrap();
        Attempt {
            campaign: "c".into(),
            round: "r".into(),
            key: kind_key.into(),
            attempt,
            phone: Some(phone.into()),
            state: CallState::Sending,
            batch_id: None,
            call_id: None,
            reply: None,
            duration: None,
            message: None,
            source: None,
            row: None,
            list_values: crate::ledger::ListValues::default(),
            language: None,
            created_at: at,
            updated_at: at,
            run_id: "run".into(),
        }
    }

    fn record(batch: &str, created: Option<&str>) -> Record {
        Record {
            batch_id: Some(batch.into()),
            created: created.map(|t| t.parse().unwrap()),
        }
    }

    fn found(by_key: &[(&str, Record)], by_phone: &[(&str, Record)], times_known: bool) -> Found {
        let mut f = Found {
            complete: true,
            times_known,
            ..Found::default()
        };
        for (k, r) in by_key {
            f.by_key.entry((*k).into()).or_default().push(r.clone());
        }
        for (p, r) in by_phone {
            f.by_phone.entry((*p).into()).or_default().push(r.clone());
        }
        f
    }

    #[test]
    fn class_5_a_conversation_call_of_an_earlier_round_never_settles_this_rounds_doubt() {
        let written = "2026-12-01T10:00:00Z";
        let a = attempt("k-round-2", 1, "+2348030000001", written);
        // The same number was called in round 1, the day before.
        let earlier = record("b-round-1", Some("2026-11-30T10:00:00Z"));
        let f = found(&[], &[("+2348030000001", earlier.clone())], true);
        assert_eq!(f.of(Kind::Conversation, &a), OnServer::Unknown);
        // A batch created after the write-ahead is this attempt's.
        let now = record("b-round-2", Some("2026-12-01T10:00:01Z"));
        let f = found(
            &[],
            &[("+2348030000001", earlier), ("+2348030000001", now)],
            true,
        );
        assert_eq!(
            f.of(Kind::Conversation, &a),
            OnServer::Found(Some("b-round-2".into()))
        );
        // A number in no batch of a complete listing was never placed.
        assert_eq!(
            f.of(
                Kind::Conversation,
                &attempt("k", 1, "+2348030000009", written)
            ),
            OnServer::Missing
        );
    }

    #[test]
    fn class_5_without_batch_times_conversation_calls_are_never_settled_by_a_lookup() {
        let a = attempt("k", 1, "+2348030000001", "2026-12-01T10:00:00Z");
        let f = found(&[], &[("+2348030000001", record("b", None))], false);
        assert_eq!(f.of(Kind::Conversation, &a), OnServer::Unknown);
        let nobody = found(&[], &[], false);
        assert_eq!(nobody.of(Kind::Conversation, &a), OnServer::Unknown);
    }

    #[test]
    fn class_5_a_robocall_retry_is_settled_only_by_a_batch_after_its_write_ahead() {
        let written = "2026-12-01T12:00:00Z";
        let first_try = record("b1", Some("2026-12-01T09:00:00Z"));
        // The first attempt: the key names the round and number, enough on its own.
        let f = found(&[("k", first_try.clone())], &[], true);
        assert_eq!(
            f.of(Kind::Robocall, &attempt("k", 1, "+234", written)),
            OnServer::Found(Some("b1".into()))
        );
        // The retry: the first attempt's record is not its own; held, neither settled nor
        // sent again.
        assert_eq!(
            f.of(Kind::Robocall, &attempt("k", 2, "+234", written)),
            OnServer::Unknown
        );
        let f = found(
            &[
                ("k", first_try),
                ("k", record("b2", Some("2026-12-01T12:00:02Z"))),
            ],
            &[],
            true,
        );
        assert_eq!(
            f.of(Kind::Robocall, &attempt("k", 2, "+234", written)),
            OnServer::Found(Some("b2".into()))
        );
    }

    #[test]
    fn class_10_what_an_unread_batch_may_hold_is_unknown_not_missing() {
        let mut f = found(&[], &[], true);
        f.complete = false;
        assert_eq!(
            f.of(
                Kind::Robocall,
                &attempt("k", 1, "+234", "2026-12-01T12:00:00Z")
            ),
            OnServer::Unknown
        );
    }

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
            list_values: crate::ledger::ListValues::default(),
            language: None,
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
