//! The sync step: what the server can say of a campaign's calls that are accepted or in
//! doubt, recorded in the ledger. Used by `outreach sync`, by apply at its start and while it
//! follows, and by `report --sync` and `status --sync`.
//!
//! Two ways to ask: the batch endpoint ([ours]: one request per batch, with every call of it)
//! when the server has it, else `GET /voicebot/v1/status/{call_id}` ([doc]) for each call
//! whose id is known (from a callback, or an earlier lookup), at the provider's pace. Then an
//! accepted call whose outcome has not arrived within `delivery.outcome_deadline` (counted
//! from its accept, the ledger's `updated_at`) becomes `outcome_unknown`. What could not be
//! learnt is said, with why and what to do.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;
use voicebot_api::wire::CallStatus;

use super::stopped::KeyRefused;
use crate::campaign::{Campaign, Kind, PROVIDER_REQUESTS_PER_SECOND, Retry};
use crate::client::{Client, LookupError};
use crate::ledger::{AsyncLedger, Attempt, CallState};
use crate::plan;

/// Which calls a sync looks at: one campaign under one target, in one round (apply's
/// follow) or in every round with calls still open.
#[derive(Debug, Clone)]
pub struct Scope {
    pub target_id: String,
    pub campaign: Campaign,
    pub round: Option<String>,
}

/// How the batch endpoint answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchEndpoint {
    /// No call had a batch to ask about (or the step stopped first).
    #[default]
    NotAsked,
    /// It answered: outcomes came from it.
    Offered,
    /// 404: the server does not report batches (the live service may not).
    NotOffered,
}

/// Why some calls' outcomes were not learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gap {
    /// Accepted, the server does not report batches, and no call id is known.
    NoCallId,
    /// The server does not know the call's batch or call id.
    NotFound,
    /// In doubt, and the server cannot be asked about it: held, as apply holds it.
    InDoubtHeld,
    /// The lookup failed (a lost connection, a 5xx, an answer that could not be read).
    LookupFailed,
    /// The step stopped (its time was up, or Ctrl-C) before asking.
    NotAsked,
}

/// Some calls whose outcome was not learnt, why, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotLearnt {
    pub reason: Gap,
    pub calls: u64,
    /// In words, for people (the JSON keeps it too).
    pub message: String,
}

/// What one sync learnt, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Learnt {
    /// Calls accepted or in doubt when the step began.
    pub looked_at: u64,
    /// Requests made to the server.
    pub lookups: u64,
    pub batch_endpoint: BatchEndpoint,
    /// Outcomes the server gave, recorded.
    pub answered: u64,
    pub failed: u64,
    pub no_answer: u64,
    /// Calls in doubt found placed and not final yet: accepted now.
    pub found_placed: u64,
    /// Accepted calls past the campaign's outcome deadline: `outcome_unknown` now.
    pub outcome_unknown: u64,
    /// Calls the server knows and has no outcome for yet: a later sync may learn it.
    pub not_final: u64,
    pub not_learnt: Vec<NotLearnt>,
}

impl Learnt {
    /// Whether everything that could be learnt was: no call is left whose outcome nobody
    /// can give (or that could not be asked about).
    pub fn complete(&self) -> bool {
        self.not_learnt.is_empty()
    }

    /// Outcomes recorded in all.
    pub fn settled(&self) -> u64 {
        self.answered + self.failed + self.no_answer
    }

    /// Whether waiting and asking again can tell more: some call is not final on a server
    /// that can be asked about it, or was not asked (a failed lookup, no time left).
    pub fn more_to_learn(&self) -> bool {
        self.not_final > 0
            || self
                .not_learnt
                .iter()
                .any(|g| matches!(g.reason, Gap::LookupFailed | Gap::NotAsked))
    }
}

/// What became of one call in this sync.
#[derive(Debug, Clone)]
enum Found {
    Outcome(CallState, Box<CallStatus>),
    /// On the server, not final.
    NotFinal,
    Gap(Gap),
}

/// The provider's pace for lookups: the campaign's rate, at most the documented 5 per second.
fn pacer(campaign: &Campaign) -> governor::DefaultDirectRateLimiter {
    let rate = campaign
        .delivery
        .requests_per_second
        .min(PROVIDER_REQUESTS_PER_SECOND);
    let period =
        Duration::try_from_secs_f64(1.0 / rate.max(0.01)).unwrap_or(Duration::from_secs(1));
    let quota = governor::Quota::with_period(period)
        .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    governor::RateLimiter::direct(quota)
}

/// Runs the step: looks up the scope's calls accepted or in doubt and records what the server
/// says, until `until` (or Ctrl-C, `interrupted`); then applies the outcome deadline.
pub async fn sync(
    ledger: &AsyncLedger,
    client: &Client,
    scope: &Scope,
    until: Option<Instant>,
    interrupted: &AtomicBool,
) -> anyhow::Result<Learnt> {
    // Callbacks the receiver kept while their batch was not recorded yet are matched first:
    // the batch ids apply recorded since may name them (whether or not a receiver runs).
    let rematched = ledger.call(|l| l.rematch_callbacks(1_000)).await?;
    if rematched > 0 {
        tracing::info!("{rematched} outcomes from callbacks kept until their batch was recorded");
    }
    let open = open_calls(ledger, scope).await?;
    let mut learnt = Learnt {
        looked_at: open.len() as u64,
        ..Learnt::default()
    };
    if open.is_empty() {
        return Ok(learnt);
    }
    let pace = pacer(&scope.campaign);
    let stop = || interrupted.load(Ordering::SeqCst) || until.is_some_and(|u| Instant::now() >= u);
    let mut found: Vec<Option<Found>> = vec![None; open.len()];
    let mut first_error: Option<String> = None;

    // By batch, while the server reports batches.
    let mut by_batch: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, a) in open.iter().enumerate() {
        if let Some(b) = &a.batch_id {
            by_batch.entry(b.as_str()).or_default().push(i);
        }
    }
    for (batch_id, calls) in &by_batch {
        if learnt.batch_endpoint == BatchEndpoint::NotOffered {
            break;
        }
        if stop() {
            for &i in calls {
                found[i] = Some(Found::Gap(Gap::NotAsked));
            }
            continue;
        }
        pace.until_ready().await;
        learnt.lookups += 1;
        match client.batch(batch_id).await {
            Ok(Some(batch)) => {
                learnt.batch_endpoint = BatchEndpoint::Offered;
                let listed = batch.request_calls.unwrap_or_default();
                for &i in calls {
                    let a = &open[i];
                    found[i] = listed
                        .iter()
                        .find(|c| same_call(scope.campaign.kind, a, c))
                        .map(|c| reading(c.clone()));
                }
            }
            // A server that answered for another batch does not know this one; one that
            // never answered does not report batches (its calls are asked one by one).
            Ok(None) if learnt.batch_endpoint == BatchEndpoint::Offered => {}
            Ok(None) => learnt.batch_endpoint = BatchEndpoint::NotOffered,
            Err(LookupError::Unauthorized) => return Err(refused()),
            Err(LookupError::Other(e)) => {
                tracing::debug!("looking up batch {batch_id}: {e}");
                first_error.get_or_insert(e);
                for &i in calls {
                    found[i] = Some(Found::Gap(Gap::LookupFailed));
                }
            }
        }
    }

    // One by one, by call id, for the calls no batch told of.
    for (i, a) in open.iter().enumerate() {
        if found[i].is_some() {
            continue;
        }
        let Some(call_id) = &a.call_id else {
            found[i] = Some(Found::Gap(without_id(a, learnt.batch_endpoint)));
            continue;
        };
        if stop() {
            found[i] = Some(Found::Gap(Gap::NotAsked));
            continue;
        }
        pace.until_ready().await;
        learnt.lookups += 1;
        found[i] = Some(match client.status(call_id).await {
            Ok(Some(status)) => reading(status),
            Ok(None) => Found::Gap(Gap::NotFound),
            Err(LookupError::Unauthorized) => return Err(refused()),
            Err(LookupError::Other(e)) => {
                tracing::debug!("looking up a call's status: {e}");
                first_error.get_or_insert(e);
                Found::Gap(Gap::LookupFailed)
            }
        });
    }

    let found: Vec<Found> = found
        .into_iter()
        .map(|f| f.unwrap_or(Found::Gap(Gap::NotAsked)))
        .collect();
    record(ledger, scope, &open, &found, &mut learnt).await?;
    let gaps = past_deadline(ledger, scope, &open, &found, &mut learnt).await?;
    learnt.not_learnt = words(&gaps, first_error.as_deref());
    Ok(learnt)
}

fn refused() -> anyhow::Error {
    KeyRefused {
        during: "looking up outcomes",
        message: None,
    }
    .into()
}

/// Why a call with no call id that no batch told of cannot be asked about.
fn without_id(a: &Attempt, batches: BatchEndpoint) -> Gap {
    match (a.state, batches) {
        (CallState::InDoubt, _) => Gap::InDoubtHeld,
        (_, BatchEndpoint::Offered) => Gap::NotFound,
        _ => Gap::NoCallId,
    }
}

/// What a status says: an outcome, or not final yet.
fn reading(status: CallStatus) -> Found {
    match super::follow::outcome(&status.processing_status) {
        Some(state) => Found::Outcome(state, Box::new(status)),
        None => Found::NotFinal,
    }
}

/// Whether a call a batch lists is this attempt: a robocall by its `outreach_key` tag, a
/// conversation (which carries no tags) by its number.
fn same_call(kind: Kind, a: &Attempt, c: &CallStatus) -> bool {
    match kind {
        Kind::Robocall => {
            c.user_tag_identifiers
                .as_ref()
                .and_then(|t| t.get(plan::KEY_TAG))
                .and_then(Value::as_str)
                == Some(&a.key)
        }
        Kind::Conversation => a.phone.is_some() && c.phone_number.as_deref() == a.phone.as_deref(),
    }
}

/// The scope's calls accepted or in doubt (the deferred accepts committed first).
async fn open_calls(ledger: &AsyncLedger, scope: &Scope) -> anyhow::Result<Vec<Attempt>> {
    let (target, name, round) = (
        scope.target_id.clone(),
        scope.campaign.name.clone(),
        scope.round.clone(),
    );
    Ok(ledger
        .call(move |l| {
            l.flush()?;
            let rounds = match round {
                Some(r) => vec![r],
                None => l
                    .counts(Some(name.as_str()))?
                    .into_iter()
                    .filter(|c| c.target == target)
                    .filter(|c| {
                        c.counts.iter().any(|(s, n)| {
                            *n > 0 && matches!(s, CallState::Accepted | CallState::InDoubt)
                        })
                    })
                    .map(|c| c.round)
                    .collect(),
            };
            let mut open = Vec::new();
            for r in rounds {
                open.extend(l.attempts(
                    &target,
                    &name,
                    &r,
                    &[CallState::Accepted, CallState::InDoubt],
                )?);
            }
            Ok(open)
        })
        .await?)
}

/// When attempt `attempt`, ended in `state`, is called again: `delay` after `now`, if the
/// policy retries that outcome and attempts are left.
pub(super) fn retry_at(
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

/// Records the outcomes found, and the calls in doubt found placed.
async fn record(
    ledger: &AsyncLedger,
    scope: &Scope,
    open: &[Attempt],
    found: &[Found],
    learnt: &mut Learnt,
) -> anyhow::Result<()> {
    let retry = scope.campaign.delivery.retry.clone();
    let delay = Some(retry.delay.value().0);
    let now = crate::clock::now();
    let mut outcomes = Vec::new();
    let mut placed = Vec::new();
    for (a, f) in open.iter().zip(found) {
        match f {
            Found::Outcome(state, status) => {
                match state {
                    CallState::Answered => learnt.answered += 1,
                    CallState::Failed => learnt.failed += 1,
                    _ => learnt.no_answer += 1,
                }
                outcomes.push((
                    a.key.clone(),
                    a.attempt,
                    *state,
                    status.call_id.clone(),
                    status.call_duration_in_seconds.map(Duration::from_secs),
                    status.reply.clone(),
                    retry_at(*state, a.attempt, &retry, delay, now),
                ));
            }
            Found::NotFinal => {
                learnt.not_final += 1;
                if a.state == CallState::InDoubt {
                    placed.push(a.clone());
                }
            }
            Found::Gap(_) => {}
        }
    }
    if outcomes.is_empty() && placed.is_empty() {
        return Ok(());
    }
    let target = scope.target_id.clone();
    let moved = ledger
        .call(move |l| {
            for (key, attempt, state, call_id, duration, reply, retry_at) in &outcomes {
                l.outcome(
                    &target,
                    key,
                    *attempt,
                    *state,
                    // An item without a call id (read as empty) records none.
                    (!call_id.is_empty()).then_some(call_id.as_str()),
                    *duration,
                    reply.as_deref(),
                    *retry_at,
                )?;
            }
            let mut moved = 0u64;
            for a in &placed {
                if l.resolve(
                    &target,
                    a,
                    CallState::Accepted,
                    None,
                    "found on the server by a sync after a lost answer",
                )? {
                    moved += 1;
                }
            }
            Ok(moved)
        })
        .await?;
    learnt.found_placed += moved;
    Ok(())
}

/// Moves accepted calls with no outcome past the campaign's outcome deadline to
/// `outcome_unknown` (each only if nothing touched it since it was read: a callback that
/// settles it meanwhile wins). Returns the calls left unlearnt, by why.
async fn past_deadline(
    ledger: &AsyncLedger,
    scope: &Scope,
    open: &[Attempt],
    found: &[Found],
    learnt: &mut Learnt,
) -> anyhow::Result<BTreeMap<Gap, u64>> {
    let deadline = *scope.campaign.delivery.outcome_deadline.value();
    let now = crate::clock::now();
    let mut late = Vec::new();
    let mut late_not_final = 0;
    let mut gaps: BTreeMap<Gap, u64> = BTreeMap::new();
    for (a, f) in open.iter().zip(found) {
        let expired = a.state == CallState::Accepted
            && a.updated_at
                .checked_add(deadline.0)
                .is_ok_and(|due| due <= now);
        match f {
            Found::NotFinal if expired => {
                late_not_final += 1;
                late.push(a.clone());
            }
            Found::Gap(_) if expired => late.push(a.clone()),
            Found::Outcome(..) | Found::NotFinal => {}
            Found::Gap(g) => *gaps.entry(*g).or_default() += 1,
        }
    }
    // Past the deadline, a call is no longer waited for, whatever the server says of it.
    learnt.not_final -= late_not_final;
    if late.is_empty() {
        return Ok(gaps);
    }
    let target = scope.target_id.clone();
    let message = format!(
        "no outcome within delivery.outcome_deadline ({})",
        scope.campaign.delivery.outcome_deadline
    );
    let moved = ledger
        .call(move |l| {
            late.iter()
                .map(|a| l.resolve(&target, a, CallState::OutcomeUnknown, None, &message))
                .collect::<Result<Vec<bool>, _>>()
        })
        .await?;
    learnt.outcome_unknown += moved.iter().filter(|m| **m).count() as u64;
    Ok(gaps)
}

/// The calls not learnt, in words: how many, why, and what to do.
fn words(gaps: &BTreeMap<Gap, u64>, error: Option<&str>) -> Vec<NotLearnt> {
    gaps.iter()
        .map(|(&reason, &calls)| {
            let n = if calls == 1 {
                "1 call has".to_owned()
            } else {
                format!("{calls} calls have")
            };
            let message = match reason {
                Gap::NoCallId => format!(
                    "{n} no call id yet: the service gives call ids only in its completion callback; run `outreach callbacks` where the service can reach it"
                ),
                Gap::NotFound => format!(
                    "{n} a batch or call id the server does not know: their outcome cannot be looked up; they become outcome_unknown at the campaign's outcome_deadline"
                ),
                Gap::InDoubtHeld => format!(
                    "{n} an unknown fate (in doubt) and the server cannot be asked about them: they stay held, never called again blindly (see `apply --resend-in-doubt`)"
                ),
                Gap::LookupFailed => format!(
                    "{n} a lookup that failed ({}): run sync again",
                    error.unwrap_or("no answer")
                ),
                Gap::NotAsked => format!(
                    "{n} not been looked up: the sync stopped first (its time was up, or Ctrl-C); run it again"
                ),
            };
            NotLearnt {
                reason,
                calls,
                message,
            }
        })
        .collect()
}

/// What `outreach sync` did: the campaign, where, and what it learnt.
#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    pub campaign: String,
    /// The ledger's name for the target.
    pub target: String,
    /// The ledger, as printed (a Postgres URL's password hidden).
    pub ledger: String,
    #[serde(flatten)]
    pub learnt: Learnt,
}

/// `outreach sync` (and `report --sync`, `status --sync`): the step over every round of the
/// campaign with calls open, on the target and ledger of `s`.
pub async fn sync_campaign(s: &crate::settings::SyncSettings) -> anyhow::Result<Synced> {
    let checked = crate::validate::check_file(&s.campaign);
    let campaign = checked
        .campaign
        .with_context(|| format!("{} is not a valid campaign", s.campaign.display()))?;
    if matches!(s.target, crate::settings::target::Target::Mock) {
        // A mock started for this command has placed nothing: every call is unknown to it.
        tracing::warn!(
            "--mock starts a new bundled mock, which knows no earlier call: nothing can be looked up there (`apply --mock` follows its calls while it runs); only the outcome deadline applies"
        );
    }
    let endpoint = crate::endpoint::Endpoint::open(&s.target).await?;
    let key = super::api_key(s.key.as_ref(), &s.target, false)?;
    let client = Client::new(&endpoint.base, key, s.request_timeout).map_err(anyhow::Error::msg)?;
    let ledger = AsyncLedger::open(s.state.clone()).await?;
    let scope = Scope {
        target_id: s.target.id().to_string(),
        campaign,
        round: None,
    };
    let interrupted = AtomicBool::new(false);
    let learnt = sync(&ledger, &client, &scope, None, &interrupted).await;
    let closed = ledger.close().await;
    endpoint.close().await;
    let learnt = learnt?;
    closed?;
    Ok(Synced {
        campaign: scope.campaign.name,
        target: scope.target_id,
        ledger: ledger.path().display().to_string(),
        learnt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::RetryOutcome;

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

    #[test]
    fn what_was_not_learnt_is_said_with_why_and_what_to_do() {
        let gaps = BTreeMap::from([(Gap::NoCallId, 112), (Gap::InDoubtHeld, 1)]);
        let said = words(&gaps, None);
        assert_eq!(
            said[0].message,
            "112 calls have no call id yet: the service gives call ids only in its completion callback; run `outreach callbacks` where the service can reach it"
        );
        assert!(
            said[1].message.starts_with("1 call has an unknown fate"),
            "{}",
            said[1].message
        );
        let learnt = Learnt {
            not_learnt: said,
            ..Learnt::default()
        };
        assert!(!learnt.complete());
        assert!(Learnt::default().complete());
    }

    #[test]
    fn a_call_without_an_id_is_held_in_doubt_or_waits_for_a_callback() {
        let a = |state| Attempt {
            campaign: "c".into(),
            round: String::new(),
            key: "k".into(),
            attempt: 1,
            phone: None,
            state,
            batch_id: None,
            call_id: None,
            reply: None,
            duration: None,
            message: None,
            source: None,
            row: None,
            list_values: crate::ledger::ListValues::default(),
            language: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            run_id: "r".into(),
        };
        assert_eq!(
            without_id(&a(CallState::InDoubt), BatchEndpoint::NotOffered),
            Gap::InDoubtHeld
        );
        assert_eq!(
            without_id(&a(CallState::Accepted), BatchEndpoint::NotOffered),
            Gap::NoCallId
        );
        assert_eq!(
            without_id(&a(CallState::Accepted), BatchEndpoint::Offered),
            Gap::NotFound
        );
    }
}
