//! Sending: batches of due calls, written ahead to the ledger, then requested, then settled.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use backon::BackoffBuilder as _;
use serde_json::{Value, json};

use super::coordination::{Pacer, Queue};
use super::gate::{recheck, settle_unsent, still_ours, write_ahead};
use super::input::{Loaded, Planned, opt_outs};
use super::progress::Progress;
use super::state::{Due, Shared, lock, sleep_interruptible};
use super::{ApplyEnd, call_route};
use crate::campaign::Campaign;
use crate::campaign::windows::Calendar;
use crate::client::{Client, SendError};
use crate::ledger::CallState;
use crate::plan::{self};
use crate::settings::ApplySettings;

/// Sends every due call in batches, paced and bounded.
pub(super) async fn send_all(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
    loaded: &Loaded,
    due: Vec<Due>,
) -> anyhow::Result<ApplyEnd> {
    let campaign = &shared.campaign;
    let batch_size = campaign.delivery.batch_size.max(1) as usize;
    let is_shared = lock(&shared.ledger).is_shared();
    let total = due.len() as u64;
    // Batches never mix time zones: each is checked against its own calendar.
    let by_zone = by_zone(due);
    // Every zone of the plan: shared work put back by another runner may be in any of them.
    let zones: Vec<String> = if is_shared {
        zones_of(&loaded.calls)
    } else {
        by_zone.keys().cloned().collect()
    };
    let calendars = zones
        .iter()
        .map(|tz| Ok((tz.clone(), Calendar::new(&campaign.schedule, tz)?)))
        .collect::<Result<HashMap<String, Calendar>, String>>()
        .map_err(anyhow::Error::msg)?;
    let opted_out = opt_outs(campaign, &loaded.campaign_path)?;
    let period = Duration::from_secs_f64(1.0 / campaign.delivery.requests_per_second);
    let pacer = Pacer::new(shared, is_shared, period)?;
    let pacer = Arc::new(pacer);
    let mut queue = Queue::new(s, shared, loaded, by_zone, is_shared, total)?;
    let permits = Arc::new(tokio::sync::Semaphore::new(
        campaign.delivery.concurrency.max(1) as usize,
    ));
    // Grouped write-ahead only at fast paces: a group's last request leaves a few periods after
    // its record, and that delay counts against the in-doubt grace of a runner that dies.
    let group_size = if period < Duration::from_millis(50) {
        (campaign.delivery.concurrency as usize).clamp(1, 8)
    } else {
        1
    };
    let mut tasks = tokio::task::JoinSet::new();
    let mut progress = Progress::new(total);
    let mut warned_schedule = false;

    'rounds: loop {
        let claimed_before = shared.claimed.load(Ordering::SeqCst);
        for tz in &zones {
            let calendar = &calendars[tz];
            loop {
                // A zone with nothing left is not waited for, whatever its window.
                if !queue.has_work(shared, tz)? {
                    break;
                }
                wait_for_window(s, shared, calendar, &mut warned_schedule).await?;
                if shared.interrupted.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
                    break 'rounds;
                }
                // A group of batches (up to the requests allowed in flight, at most 8) is
                // written ahead in one transaction: one fsync for the group instead of one per
                // batch. A batch written ahead and then not sent (Ctrl-C, a pause) is settled
                // `not_sent` at once.
                let mut group: Vec<Vec<Due>> = Vec::with_capacity(group_size);
                let mut exhausted = false;
                while group.len() < group_size {
                    let chunk = queue.next(shared, tz, batch_size)?;
                    if chunk.is_empty() {
                        exhausted = true;
                        break;
                    }
                    let batch = recheck(shared, &opted_out, chunk)?;
                    if !batch.is_empty() {
                        group.push(batch);
                    }
                }
                if group.is_empty() {
                    if exhausted {
                        break;
                    }
                    continue;
                }
                let mut group = write_ahead(shared, group)?.into_iter();
                while let Some(batch) = group.next() {
                    let permit = permits
                        .clone()
                        .acquire_owned()
                        .await
                        .context("the send queue closed")?;
                    pacer.ready(shared).await?;
                    if shared.interrupted.load(Ordering::SeqCst)
                        || shared.stop.load(Ordering::SeqCst)
                    {
                        let unsent: Vec<Due> =
                            std::iter::once(batch).chain(group).flatten().collect();
                        settle_unsent(shared, &unsent)?;
                        break 'rounds;
                    }
                    let shared2 = Arc::clone(shared);
                    let client2 = client.clone();
                    let dry = s.dry_run;
                    let pacer2 = Arc::clone(&pacer);
                    tasks.spawn(async move {
                        let _permit = permit;
                        send_batch(&shared2, &client2, &batch, dry, &pacer2).await
                    });
                    while let Some(r) = tasks.try_join_next() {
                        r.context("a send task failed")??;
                    }
                }
                progress.update(
                    shared.sent_calls.load(Ordering::SeqCst),
                    &lock(&shared.counts).clone(),
                );
                if exhausted {
                    break;
                }
            }
        }
        if !more_shared_work(shared, &queue, claimed_before).await? {
            break;
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.context("a send task failed")??;
    }
    // The last batches' `accepted` settles, before anything reads the states.
    lock(&shared.ledger).flush()?;
    progress.update(
        shared.sent_calls.load(Ordering::SeqCst),
        &lock(&shared.counts).clone(),
    );
    if lock(&shared.fatal).is_some() {
        return Ok(ApplyEnd::Problems);
    }
    if shared.interrupted.load(Ordering::SeqCst) {
        return Ok(ApplyEnd::Interrupted);
    }
    Ok(ApplyEnd::Done)
}

/// Sends one batch, already written ahead: POST with the retries the failure allows, then
/// settle.
pub(super) async fn send_batch(
    shared: &Shared,
    client: &Client,
    batch: &[Due],
    dry_run: bool,
    pacer: &Pacer,
) -> anyhow::Result<()> {
    let campaign = &shared.campaign;
    let owned = if dry_run {
        Cow::Borrowed(batch)
    } else {
        still_ours(shared, batch)?
    };
    let batch: &[Due] = &owned;
    if batch.is_empty() {
        return Ok(());
    }
    let attempts: Vec<(&str, u32)> = batch
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect();
    let n = batch.len() as u64;
    lock(&shared.counts).sent += n;
    if dry_run {
        lock(&shared.ledger).settle(
            &shared.target_id,
            &attempts,
            CallState::NotSent,
            None,
            Some("dry run: not sent"),
        )?;
        // A dry run's calls are not put back among the shared work for another claim.
        if let Some(pg) = lock(&shared.ledger).shared() {
            pg.drop_work(&shared.target_id, &attempts)?;
        }
        shared.sent_calls.fetch_add(n, Ordering::SeqCst);
        return Ok(());
    }
    let body = request_body(campaign, batch);
    let mut backoff = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(8)
        .with_jitter()
        .build();
    let result = loop {
        lock(&shared.counts).requests += 1;
        let r = client.place(call_route(campaign.kind), &body).await;
        let wait = match &r {
            Err(SendError::RateLimited { retry_after }) => {
                lock(&shared.counts).rate_limited += 1;
                backoff
                    .next()
                    .map(|b| retry_after.map_or(b, |ra| ra.max(b)))
            }
            Err(SendError::NotSent(_)) => backoff.next(),
            _ => None,
        };
        match wait {
            Some(d) if !shared.interrupted.load(Ordering::SeqCst) => {
                tracing::debug!("retrying a batch in {:.1} s", d.as_secs_f64());
                tokio::time::sleep(d).await;
                pacer.ready(shared).await?;
            }
            _ => break r,
        }
    };
    let mut ledger = lock(&shared.ledger);
    let mut counts = lock(&shared.counts);
    match result {
        Ok(created) => {
            // Committed with the next batch's write-ahead transaction (one fsync instead of
            // two per batch); a crash before that leaves these `sending`, found on the server
            // by the next run's lookup.
            ledger.accept_later(&shared.target_id, &attempts, &created.batch_id);
            counts.accepted += n;
        }
        Err(SendError::Unauthorized(m)) => {
            ledger.settle(
                &shared.target_id,
                &attempts,
                CallState::NotSent,
                None,
                Some("401: the API key was refused"),
            )?;
            counts.not_sent += n;
            *lock(&shared.fatal) = Some(format!(
                "the API key was refused (401): {m}; stopped, nothing more is sent"
            ));
            shared.stop.store(true, Ordering::SeqCst);
        }
        Err(SendError::Rejected { status, message }) => {
            ledger.settle(
                &shared.target_id,
                &attempts,
                CallState::Rejected,
                None,
                Some(&format!("{status}: {message}")),
            )?;
            counts.rejected += n;
            tracing::warn!("a batch of {n} calls was rejected ({status}): {message}");
        }
        Err(e @ (SendError::NotSent(_) | SendError::RateLimited { .. })) => {
            ledger.settle(
                &shared.target_id,
                &attempts,
                CallState::NotSent,
                None,
                Some(&e.to_string()),
            )?;
            counts.not_sent += n;
            tracing::warn!("a batch of {n} calls could not be sent: {e}");
        }
        Err(SendError::InDoubt(m)) => {
            ledger.settle(
                &shared.target_id,
                &attempts,
                CallState::InDoubt,
                None,
                Some(&m),
            )?;
            counts.in_doubt += n;
            tracing::warn!(
                "a batch of {n} calls is in doubt (the server may have placed them): {m}"
            );
        }
    }
    shared.sent_calls.fetch_add(n, Ordering::SeqCst);
    Ok(())
}

/// The request body of a batch, with both voice settings always sent.
pub(super) fn request_body(campaign: &Campaign, batch: &[Due]) -> Value {
    let entries: Vec<Value> = batch
        .iter()
        .map(|d| plan::entry(campaign.kind, &d.planned.call))
        .collect();
    json!({
        "workflow_id": campaign.workflow_id,
        "tts_voice_accent": campaign.voice.accent,
        "tts_voice_gender": campaign.voice.gender.as_str(),
        "workflow_params": entries,
    })
}

/// Waits until a batch may go: not interrupted, not paused, inside the calling window (unless
/// the schedule is not enforced). Sets `shared.stop` when the run should end instead.
async fn wait_for_window(
    s: &ApplySettings,
    shared: &Shared,
    calendar: &Calendar,
    warned_schedule: &mut bool,
) -> anyhow::Result<()> {
    let campaign = &shared.campaign;
    loop {
        if shared.interrupted.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let paused = lock(&shared.ledger).paused_since(&campaign.name)?;
        if let Some(since) = paused {
            tracing::warn!(
                "campaign {} is paused (since {since}); waiting for `outreach resume`",
                campaign.name
            );
            if s.no_wait {
                shared.stop.store(true, Ordering::SeqCst);
                break;
            }
            sleep_interruptible(shared, Duration::from_secs(2)).await;
            continue;
        }
        let now = crate::clock::now();
        if calendar.is_open(now) {
            break;
        }
        if !s.enforce_schedule {
            if !*warned_schedule {
                let when = calendar.next_open(now).map_or_else(
                    || "never (past not_after)".to_owned(),
                    |t| calendar.local(t),
                );
                tracing::warn!(
                    "outside the calling window: the mock places the calls anyway; a live run would wait until {when} (--enforce-schedule to wait here too)"
                );
                *warned_schedule = true;
            }
            break;
        }
        match calendar.next_open(now) {
            None => {
                tracing::warn!(
                    "the schedule does not open again (past not_after); nothing more is sent"
                );
                shared.stop.store(true, Ordering::SeqCst);
            }
            Some(at) if s.no_wait => {
                tracing::warn!(
                    "outside the calling window; the next window opens {} (--no-wait: stopping)",
                    calendar.local(at)
                );
                shared.stop.store(true, Ordering::SeqCst);
            }
            Some(at) => {
                tracing::info!(
                    "outside the calling window; waiting until {}",
                    calendar.local(at)
                );
                sleep_interruptible(shared, at.duration_since(now).unsigned_abs()).await;
                continue;
            }
        }
        break;
    }
    Ok(())
}

/// Whether a shared run should look for more work: what came free (a stopped runner's lapsed
/// leases, calls put back as never sent) until every due call is done or held by a live
/// runner. Waits for the next lease to lapse when others hold the rest.
async fn more_shared_work(
    shared: &Shared,
    queue: &Queue<'_>,
    claimed_before: u64,
) -> anyhow::Result<bool> {
    let campaign = &shared.campaign;
    let Queue::Shared {
        budget, foreign, ..
    } = &queue
    else {
        return Ok(false);
    };
    if *budget == Some(0) || *foreign {
        return Ok(false);
    }
    let open = lock(&shared.ledger).shared_only("shared work")?.open_work(
        &shared.run_id,
        &shared.target_id,
        &campaign.name,
        &shared.round,
    )?;
    if open.unclaimed > 0 {
        if shared.claimed.load(Ordering::SeqCst) > claimed_before {
            return Ok(true);
        }
        // Nothing this runner can claim is left: the rest belongs to other plans.
        tracing::warn!(
            "{} due calls are not in this runner's plan; left for the runners that have them",
            open.unclaimed
        );
        return Ok(false);
    }
    if open.leased_elsewhere == 0 {
        return Ok(false);
    }
    let wait = open
        .next_expiry
        .unwrap_or(Duration::from_secs(1))
        .clamp(Duration::from_millis(50), Duration::from_secs(1));
    sleep_interruptible(shared, wait).await;
    if shared.interrupted.load(Ordering::SeqCst) {
        return Ok(false);
    }
    Ok(true)
}

/// Due calls by time zone, each zone's in plan order.
fn by_zone(due: Vec<Due>) -> BTreeMap<String, VecDeque<Due>> {
    let mut out: BTreeMap<String, VecDeque<Due>> = BTreeMap::new();
    for d in due {
        out.entry(d.planned.timezone.clone())
            .or_default()
            .push_back(d);
    }
    out
}

/// Every time zone of a plan, once each, in order.
fn zones_of(calls: &[Arc<Planned>]) -> Vec<String> {
    let all: BTreeSet<&str> = calls.iter().map(|p| p.timezone.as_str()).collect();
    all.into_iter().map(ToOwned::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Call;
    use crate::render::Rendered;

    fn planned(key: &str, timezone: &str) -> Arc<Planned> {
        Arc::new(Planned {
            call: Call {
                key: key.to_owned(),
                phone: "+2348031234567".to_owned(),
                source: 0,
                row: 2,
                rendered: Rendered {
                    variables: BTreeMap::new(),
                    tags: BTreeMap::new(),
                },
            },
            source_label: "patients.csv".to_owned(),
            timezone: timezone.to_owned(),
        })
    }

    #[test]
    fn batches_never_mix_time_zones_and_keep_plan_order() {
        let due: Vec<Due> = [
            ("a", "Africa/Lagos"),
            ("b", "Africa/Nairobi"),
            ("c", "Africa/Lagos"),
            ("d", "Africa/Nairobi"),
        ]
        .into_iter()
        .map(|(k, tz)| Due {
            planned: planned(k, tz),
            attempt: 1,
        })
        .collect();
        let zones = by_zone(due);
        let keys = |tz: &str| -> Vec<String> {
            zones[tz]
                .iter()
                .map(|d| d.planned.call.key.clone())
                .collect()
        };
        assert_eq!(keys("Africa/Lagos"), ["a", "c"]);
        assert_eq!(keys("Africa/Nairobi"), ["b", "d"]);
    }

    #[test]
    fn a_plans_zones_are_listed_once_each() {
        let calls = [
            planned("a", "Africa/Nairobi"),
            planned("b", "Africa/Lagos"),
            planned("c", "Africa/Nairobi"),
        ];
        assert_eq!(zones_of(&calls), ["Africa/Lagos", "Africa/Nairobi"]);
    }
}
