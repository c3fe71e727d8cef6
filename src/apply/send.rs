//! Sending: batches of due calls, written ahead to the ledger, then requested, then settled.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use backon::BackoffBuilder as _;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::coordination::{Pacer, Queue};
use super::gate::{recheck, settle_unsent, still_ours, write_ahead};
use super::input::{Loaded, Planned, opt_outs};
use super::progress::Progress;
use super::state::{Due, Shared, attempts_of, lock, sleep_interruptible};
use super::stopped::{KeyRefused, Stopped};
use super::{ApplyEnd, call_route};
use crate::campaign::Campaign;
use crate::campaign::windows::Calendar;
use crate::client::{Client, SendError};
use crate::ledger::{CallState, OpenWork};
use crate::plan::{self};
use crate::settings::ApplySettings;
use voicebot_api::wire::BatchCreated;

/// Sends every due call in batches, paced and bounded, telling `progress` how far it got.
pub(super) async fn send_all(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    client: &Client,
    loaded: &Loaded,
    due: Vec<Due>,
    progress: &dyn Progress,
) -> anyhow::Result<ApplyEnd> {
    let campaign = &shared.campaign;
    let batch_size = campaign.delivery.batch_size.max(1) as usize;
    let is_shared = shared.is_shared();
    let total = due.len() as u64;
    // Batches never mix time zones: each is checked against its own calendar.
    let by_zone = by_zone(due);
    let (zones, calendars) = calendars(campaign, loaded, &by_zone, is_shared)?;
    let mut opted_out = opt_outs(campaign, &loaded.campaign_path)?;
    // And the numbers whose reply to an earlier call opted them out (the receiver keeps
    // them in the ledger).
    let replied = shared.ledger(|l, _| l.reply_opt_outs()).await?;
    opted_out.extend(replied.iter().map(|p| crate::patients::phone::key_of(p)));
    let period = Duration::from_secs_f64(1.0 / campaign.delivery.requests_per_second);
    let pacer = Pacer::new(shared, is_shared, period)?;
    let pacer = Arc::new(pacer);
    let mut queue = Queue::new(s, shared, loaded, by_zone, is_shared, total).await?;
    let permits = Arc::new(tokio::sync::Semaphore::new(
        campaign.delivery.concurrency.max(1) as usize,
    ));
    let group_size = group_size(period, campaign.delivery.concurrency);
    let mut tasks = tokio::task::JoinSet::new();
    // The run's count of calls sent goes on across passes; this pass's starts here.
    let sent_before = shared.sent_calls.load(Ordering::SeqCst);
    let done = || shared.sent_calls.load(Ordering::SeqCst) - sent_before;
    progress.start(total, s.dry_run);
    let mut waiting = Waiting::default();

    'rounds: loop {
        let claimed_before = shared.claimed.load(Ordering::SeqCst);
        for tz in &zones {
            let calendar = &calendars[tz];
            loop {
                // A zone with nothing left is not waited for, whatever its window.
                if !queue.has_work(shared, tz).await? {
                    break;
                }
                wait_for_window(s, shared, tz, calendar, &mut waiting).await?;
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
                    let chunk = queue.next(shared, tz, batch_size).await?;
                    if chunk.is_empty() {
                        exhausted = true;
                        break;
                    }
                    let batch = recheck(shared, &opted_out, chunk).await?;
                    group.extend(by_language(batch));
                }
                if group.is_empty() {
                    if exhausted {
                        break;
                    }
                    continue;
                }
                // A declared workflow to create is created now, once: the run may send.
                super::workflow::create_pending(s, shared, client).await?;
                let mut group = write_ahead(shared, group).await?.into_iter();
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
                        settle_unsent(shared, unsent).await?;
                        break 'rounds;
                    }
                    let shared2 = Arc::clone(shared);
                    let client2 = client.clone();
                    let dry = s.dry_run;
                    let pacer2 = Arc::clone(&pacer);
                    tasks.spawn(async move {
                        let _permit = permit;
                        send_batch(&shared2, &client2, batch, dry, &pacer2).await
                    });
                    while let Some(r) = tasks.try_join_next() {
                        r.context("a send task failed")??;
                    }
                }
                progress.update(done(), &lock(&shared.counts).clone());
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
    let flushed = shared.ledger(|l, _| l.flush()).await;
    shared.unless_fenced(0, flushed)?;
    progress.finish(done(), &lock(&shared.counts).clone());
    Ok(if lock(&shared.fatal).is_some() {
        ApplyEnd::Problems
    } else if shared.interrupted.load(Ordering::SeqCst) {
        ApplyEnd::Interrupted
    } else {
        ApplyEnd::Done
    })
}

/// The zones a pass sends in, in order, and the calendar of each: the due calls' zones, or
/// on a shared ledger every zone of the plan (work another runner put back may be in any).
fn calendars(
    campaign: &Campaign,
    loaded: &Loaded,
    by_zone: &BTreeMap<String, VecDeque<Due>>,
    is_shared: bool,
) -> anyhow::Result<(Vec<String>, HashMap<String, Calendar>)> {
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
    Ok((zones, calendars))
}

/// Grouped write-ahead only at fast paces (a period under 50 ms): up to the requests allowed
/// in flight, at most 8, are written ahead in one transaction. At slower paces a group's last
/// request would leave several periods after its record, and that delay counts against the
/// in-doubt grace of a runner that dies.
fn group_size(period: Duration, concurrency: u32) -> usize {
    if period < Duration::from_millis(50) {
        (concurrency as usize).clamp(1, 8)
    } else {
        1
    }
}

/// Sends one batch, already written ahead: POST with the retries the failure allows, then
/// settle.
pub(super) async fn send_batch(
    shared: &Arc<Shared>,
    client: &Client,
    batch: Vec<Due>,
    dry_run: bool,
    pacer: &Pacer,
) -> anyhow::Result<()> {
    let batch = if dry_run {
        batch
    } else {
        still_ours(shared, batch).await?
    };
    if batch.is_empty() {
        return Ok(());
    }
    let n = batch.len() as u64;
    if dry_run {
        lock(&shared.counts).would_send += n;
        let settled = shared
            .ledger(move |l, s| {
                let attempts = attempts_of(&batch);
                l.settle(
                    &s.target_id,
                    &attempts,
                    CallState::NotSent,
                    None,
                    Some("dry run: not sent"),
                )?;
                // A dry run's calls are not put back among the shared work for another claim.
                match l.shared() {
                    Some(pg) => pg.drop_work(&s.target_id, &attempts),
                    None => Ok(()),
                }
            })
            .await;
        shared.unless_fenced(n, settled)?;
        shared.sent_calls.fetch_add(n, Ordering::SeqCst);
        return Ok(());
    }
    lock(&shared.counts).sent += n;
    let (batch, result) = place_without_refused_entries(shared, client, batch, pacer).await?;
    let n = batch.len() as u64;
    if n == 0 {
        return Ok(());
    }
    let answer = Answer::of(result, n);
    let state = answer.state;
    if state == CallState::NotSent {
        // Tried again if due again in this run (see `count_due`).
        let tried = batch
            .iter()
            .map(|d| (d.planned.call.key.clone(), d.attempt));
        lock(&shared.not_sent_here).extend(tried);
    }
    if let Some(batch_id) = answer.batch_id {
        // Committed with the next batch's write-ahead transaction (one fsync instead of two
        // per batch); a crash before that leaves these `sending`, found on the server by the
        // next run's lookup.
        shared
            .ledger(move |l, s| {
                l.accept_later(&s.target_id, &attempts_of(&batch), &batch_id);
                Ok(())
            })
            .await?;
    } else {
        let message = answer.message;
        let settled = shared
            .ledger(move |l, s| {
                l.settle(
                    &s.target_id,
                    &attempts_of(&batch),
                    state,
                    None,
                    Some(&message),
                )
            })
            .await;
        // Past its lease the answer is not recorded: the calls stay `sending`, and the runner
        // that looks them up settles them from the server's records.
        if shared.unless_fenced(n, settled)?.is_none() {
            shared.sent_calls.fetch_add(n, Ordering::SeqCst);
            return Ok(());
        }
    }
    {
        let mut c = lock(&shared.counts);
        match state {
            CallState::Accepted => c.accepted += n,
            CallState::Rejected => c.rejected += n,
            CallState::InDoubt => c.in_doubt += n,
            _ => c.not_sent += n,
        }
    }

    if let Some(w) = answer.warning {
        tracing::warn!("{w}");
    }
    if let Some(fatal) = answer.fatal {
        shared.stop_for(Stopped::KeyRefused {
            message: fatal.message.clone(),
        });
        lock(&shared.fatal).get_or_insert(fatal);
    }
    shared.sent_calls.fetch_add(n, Ordering::SeqCst);
    Ok(())
}

/// POSTs a batch ([`place`]); when the server refuses it (422) naming one of its entries
/// (`workflow_params[3].…`, the mock's form), that call alone is recorded as rejected with the
/// server's words and the others are sent again without it: one bad row must not keep the
/// rest of its batch from being called (issue 14, class 6). A 422 proves nothing was placed
/// (the contract: a field failed validation). Returns the calls the last answer is for, with
/// it. A 422 that names no entry (or one not in the batch) is the answer for the whole batch.
async fn place_without_refused_entries(
    shared: &Arc<Shared>,
    client: &Client,
    mut batch: Vec<Due>,
    pacer: &Pacer,
) -> anyhow::Result<(Vec<Due>, Result<BatchCreated, SendError>)> {
    // The first request's calls were checked by the caller, right before it.
    let mut checked = true;
    loop {
        let result = place(shared, client, &mut batch, checked, pacer).await?;
        checked = false;
        let refused = match &result {
            Err(SendError::Rejected {
                status: 422,
                message,
            }) if batch.len() > 1 => named_entry(message).filter(|i| *i < batch.len()),
            _ => None,
        };
        let (Some(i), Err(SendError::Rejected { message, .. })) = (refused, &result) else {
            return Ok((batch, result));
        };
        let one = batch.remove(i);
        let recorded = format!("422: {message}");
        tracing::warn!(
            "a call of a batch of {} was refused by the server (422): {message}; the other {} \
             sent again without it",
            batch.len() + 1,
            match batch.len() {
                1 => "one is".to_owned(),
                n => format!("{n} are"),
            }
        );
        let settled = shared
            .ledger(move |l, s| {
                l.settle(
                    &s.target_id,
                    &attempts_of(std::slice::from_ref(&one)),
                    CallState::Rejected,
                    None,
                    Some(&recorded),
                )
            })
            .await;
        // Past the lease, the others are not sent again (the check before the next request
        // refuses them).
        if shared.unless_fenced(1, settled)?.is_some() {
            lock(&shared.counts).rejected += 1;
        }
        shared.sent_calls.fetch_add(1, Ordering::SeqCst);
        if shared.interrupted.load(Ordering::SeqCst) {
            // Stopping: the others were not sent again, and are due again in the next run.
            return Ok((
                batch,
                Err(SendError::NotSent("stopped before sending again".into())),
            ));
        }
        pacer.ready(shared).await?;
    }
}

/// The entry a server's message names first: `workflow_params[3].phone_number …` → 3.
fn named_entry(message: &str) -> Option<usize> {
    let at = message.find("workflow_params[")? + "workflow_params[".len();
    let digits = &message[at..];
    let end = digits.find(']')?;
    let index = &digits[..end];
    if index.is_empty() || index.len() > 6 || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    index.parse().ok()
}

/// POSTs a batch with the retries its failure allows (429s, and requests that provably never
/// left), with backoff, and none once Ctrl-C was pressed. On a shared ledger its calls are
/// checked to be this run's right before each request (issue 14, class 11: a runner may
/// stall, or lose its lease, while it waits to try again), the first one unless `checked`
/// says the caller just did; those no longer its own leave `batch`, and when none is left
/// nothing is sent.
async fn place(
    shared: &Arc<Shared>,
    client: &Client,
    batch: &mut Vec<Due>,
    mut checked: bool,
    pacer: &Pacer,
) -> anyhow::Result<Result<BatchCreated, SendError>> {
    let route = call_route(shared.campaign.kind);
    let mut body: Option<Value> = None;
    let mut backoff = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(8)
        .with_jitter()
        .build();
    loop {
        if !checked && !ours_again(shared, batch).await? {
            body = None;
        }
        checked = false;
        if batch.is_empty() {
            return Ok(Err(SendError::NotSent(
                "no call of the batch is this runner's any more".into(),
            )));
        }
        let body = body.get_or_insert_with(|| {
            let language = batch.first().and_then(|d| d.planned.call.language.clone());
            let workflow = lock(&shared.call_workflow)
                .get(language.as_deref().unwrap_or(""))
                .cloned();
            request_body(&shared.campaign, workflow.as_deref(), batch)
        });
        lock(&shared.counts).requests += 1;
        let r = client.place(route, body).await;
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
            _ => return Ok(r),
        }
    }
}

/// The calls of `batch` still this run's, checked again before a request that is not the
/// batch's first ([`still_ours`]); those dropped were counted as sent, and are not. Returns
/// whether the batch is unchanged.
async fn ours_again(shared: &Arc<Shared>, batch: &mut Vec<Due>) -> anyhow::Result<bool> {
    let before = batch.len();
    *batch = still_ours(shared, std::mem::take(batch)).await?;
    let dropped = (before - batch.len()) as u64;
    if dropped > 0 {
        let mut c = lock(&shared.counts);
        c.sent = c.sent.saturating_sub(dropped);
    }
    Ok(dropped == 0)
}

/// What the answer to a batch's request records, and what the run makes of it.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    /// The state its calls move to.
    state: CallState,
    /// Accepted: the server's batch, its settle deferred to the next commit.
    batch_id: Option<String>,
    /// Why, recorded with the calls.
    message: String,
    warning: Option<String>,
    /// Stops the run: nothing more is sent.
    fatal: Option<KeyRefused>,
}

impl Answer {
    /// The answer to a batch of `n` calls, as recorded.
    fn of(result: Result<BatchCreated, SendError>, n: u64) -> Answer {
        let settled = |state, message: String, warning| Answer {
            state,
            batch_id: None,
            message,
            warning,
            fatal: None,
        };
        match result {
            Ok(created) => Answer {
                state: CallState::Accepted,
                batch_id: Some(created.batch_id),
                message: String::new(),
                warning: None,
                fatal: None,
            },
            Err(SendError::Unauthorized(m)) => Answer {
                fatal: Some(KeyRefused {
                    during: "placing calls",
                    message: Some(m),
                }),
                ..settled(
                    CallState::NotSent,
                    "401: the API key was refused".to_owned(),
                    None,
                )
            },
            Err(SendError::Rejected { status, message }) => settled(
                CallState::Rejected,
                format!("{status}: {message}"),
                Some(format!(
                    "a batch of {n} calls was rejected ({status}): {message}"
                )),
            ),
            Err(e @ (SendError::NotSent(_) | SendError::RateLimited { .. })) => settled(
                CallState::NotSent,
                e.to_string(),
                Some(format!("a batch of {n} calls could not be sent: {e}")),
            ),
            Err(SendError::InDoubt(m)) => settled(
                CallState::InDoubt,
                m.clone(),
                Some(format!(
                    "a batch of {n} calls is in doubt (the server may have placed them): {m}"
                )),
            ),
        }
    }
}

/// The request body of a batch, with both voice settings always sent: the voice and the
/// workflow of its calls' language (a batch is of one language, [`by_language`]).
pub(super) fn request_body(campaign: &Campaign, workflow: Option<&str>, batch: &[Due]) -> Value {
    let entries: Vec<Value> = batch
        .iter()
        .map(|d| plan::entry(campaign.kind, &d.planned.call))
        .collect();
    let language = batch
        .first()
        .and_then(|d| d.planned.call.language.as_deref());
    // A saved plan is verified against the campaign before this: its languages are the
    // campaign's. Were one not, the request names no workflow and the service refuses it.
    let speaker = campaign.speaker(language);
    json!({
        "workflow_id": workflow.or(speaker.and_then(|s| s.workflow_id)),
        "tts_voice_accent": speaker.map(|s| s.voice.accent.as_str()),
        "tts_voice_gender": speaker.map(|s| s.voice.gender.as_str()),
        "workflow_params": entries,
    })
}

/// A chunk of due calls split by language, each part in plan order: a request has one
/// voice and one workflow.
fn by_language(chunk: Vec<Due>) -> Vec<Vec<Due>> {
    let mut parts: Vec<Vec<Due>> = Vec::new();
    for d in chunk {
        let language = d.planned.call.language.as_deref();
        match parts
            .iter_mut()
            .find(|p| p[0].planned.call.language.as_deref() == language)
        {
            Some(part) => part.push(d),
            None => parts.push(vec![d]),
        }
    }
    parts
}

/// What a run last said it waits for: each wait is said once, and again only when it
/// changes (a pause lifted and set again, another window), not at every look.
#[derive(Debug, Default)]
struct Waiting {
    said: Option<Wait>,
    /// The mock's calls placed outside the window: warned once per run.
    warned_schedule: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Paused since then.
    Paused(Timestamp),
    /// Outside the window until then.
    Closed(Timestamp),
}

impl Waiting {
    /// Records what the run waits for now (`None`: nothing); whether that is news to say.
    fn news(&mut self, now: Option<Wait>) -> bool {
        let news = self.said != now;
        self.said = now;
        news
    }
}

/// Waits until a batch may go: not interrupted, not paused, inside the calling window (unless
/// the schedule is not enforced). Stops the run (with its reason) when it should end instead.
async fn wait_for_window(
    s: &ApplySettings,
    shared: &Arc<Shared>,
    tz: &str,
    calendar: &Calendar,
    waiting: &mut Waiting,
) -> anyhow::Result<()> {
    let campaign = &shared.campaign;
    loop {
        if shared.interrupted.load(Ordering::SeqCst) || shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let paused = shared
            .ledger(|l, s| l.paused_since(&s.campaign.name))
            .await?;
        if let Some(since) = paused {
            let news = waiting.news(Some(Wait::Paused(since)));
            if s.no_wait {
                tracing::warn!(
                    "campaign {} is paused (since {}); not waiting (--no-wait)",
                    campaign.name,
                    calendar.local(since)
                );
                shared.stop_for(Stopped::Paused { since });
                break;
            }
            if news {
                tracing::warn!(
                    "campaign {} is paused (since {}); waiting for `outreach resume` (Ctrl-C stops)",
                    campaign.name,
                    calendar.local(since)
                );
            }
            sleep_interruptible(shared, Duration::from_secs(2)).await;
            continue;
        }
        if matches!(waiting.said, Some(Wait::Paused(_))) {
            tracing::info!("campaign {} was resumed; sending again", campaign.name);
        }
        let now = crate::clock::now();
        if calendar.is_open(now) {
            waiting.news(None);
            break;
        }
        if !s.enforce_schedule {
            waiting.news(None);
            if !waiting.warned_schedule {
                let when = calendar.next_open(now).map_or_else(
                    || "never (past not_after)".to_owned(),
                    |t| calendar.local(t),
                );
                tracing::warn!(
                    "outside the calling window: the mock places the calls anyway; a live run would wait until {when} (--enforce-schedule to wait here too)"
                );
                waiting.warned_schedule = true;
            }
            break;
        }
        match calendar.next_open(now) {
            None => {
                tracing::warn!(
                    "the schedule does not open again (past not_after); nothing more is sent"
                );
                shared.stop_for(Stopped::ScheduleOver);
            }
            Some(at) if s.no_wait => {
                tracing::warn!(
                    "outside the calling window; the next window opens {} (--no-wait: stopping)",
                    calendar.local(at)
                );
                shared.stop_for(Stopped::OutsideWindow {
                    opens: at,
                    timezone: tz.to_owned(),
                });
            }
            Some(at) => {
                if waiting.news(Some(Wait::Closed(at))) {
                    tracing::info!(
                        "outside the calling window; waiting until {} (Ctrl-C stops)",
                        calendar.local(at)
                    );
                }
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
    shared: &Arc<Shared>,
    queue: &Queue<'_>,
    claimed_before: u64,
) -> anyhow::Result<bool> {
    let Queue::Shared {
        budget, foreign, ..
    } = &queue
    else {
        return Ok(false);
    };
    if *budget == Some(0) || *foreign {
        return Ok(false);
    }
    let open = shared
        .ledger(|l, s| {
            l.shared_only("shared work")?.open_work(
                &s.run_id,
                &s.target_id,
                &s.campaign.name,
                &s.round,
            )
        })
        .await?;
    let claimed_more = shared.claimed.load(Ordering::SeqCst) > claimed_before;
    match more_work(&open, claimed_more) {
        MoreWork::Claim => Ok(true),
        MoreWork::Done => Ok(false),
        MoreWork::NotOurs(n) => {
            tracing::warn!(
                "{n} due calls are not in this runner's plan; left for the runners that have them"
            );
            Ok(false)
        }
        MoreWork::After(wait) => {
            sleep_interruptible(shared, wait).await;
            Ok(!shared.interrupted.load(Ordering::SeqCst))
        }
    }
}

/// What a shared run does after a round of claims.
#[derive(Debug, PartialEq, Eq)]
enum MoreWork {
    /// Claim again: calls came free and this runner could claim some.
    Claim,
    /// Every due call is done (or belongs to no live runner's lease).
    Done,
    /// Calls are unclaimed, but none this runner claimed: they belong to other plans.
    NotOurs(u64),
    /// Other runners hold the rest: look again after this long (the next lease to lapse,
    /// between 50 ms and 1 s).
    After(Duration),
}

fn more_work(open: &OpenWork, claimed_more: bool) -> MoreWork {
    if open.unclaimed > 0 {
        return if claimed_more {
            MoreWork::Claim
        } else {
            MoreWork::NotOurs(open.unclaimed)
        };
    }
    if open.leased_elsewhere == 0 {
        return MoreWork::Done;
    }
    let wait = open.next_expiry.unwrap_or(Duration::from_secs(1));
    MoreWork::After(wait.clamp(Duration::from_millis(50), Duration::from_secs(1)))
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
    #[test]
    fn a_refusal_names_an_entry_only_by_a_plain_index() {
        assert_eq!(
            named_entry("workflow_params[3].phone_number '0803' is not an E.164 number"),
            Some(3)
        );
        assert_eq!(named_entry("bad: workflow_params[12]"), Some(12));
        assert_eq!(named_entry("workflow_params[].phone_number"), None);
        assert_eq!(named_entry("workflow_params[-1]"), None);
        assert_eq!(named_entry("workflow_params[99999999999999999999]"), None);
        assert_eq!(named_entry("workflow_id is not a workflow"), None);
        assert_eq!(named_entry("workflow_params[3"), None);
    }

    use super::*;
    use crate::apply::state::test_calls::planned;

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

    #[test]
    fn a_wait_is_said_once_and_again_only_when_it_changes() {
        let since: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
        let mut w = Waiting::default();
        assert!(w.news(Some(Wait::Paused(since))));
        // Looked at every 2 s while paused: nothing new to say.
        for _ in 0..5 {
            assert!(!w.news(Some(Wait::Paused(since))));
        }
        // Resumed, then paused again: said again.
        assert!(w.news(None));
        assert!(w.news(Some(Wait::Paused(later))));
        assert!(w.news(Some(Wait::Closed(later))));
        assert!(!w.news(Some(Wait::Closed(later))));
    }

    #[test]
    fn write_ahead_is_grouped_only_at_fast_paces() {
        let fast = Duration::from_millis(10);
        assert_eq!(group_size(fast, 4), 4);
        assert_eq!(group_size(fast, 64), 8);
        assert_eq!(group_size(fast, 0), 1);
        assert_eq!(group_size(Duration::from_millis(50), 4), 1);
        assert_eq!(group_size(Duration::from_millis(200), 64), 1);
    }

    #[test]
    fn each_answer_records_its_state_and_only_a_refused_key_stops_the_run() {
        let ok = Answer::of(
            Ok(BatchCreated {
                batch_id: "b1".into(),
            }),
            3,
        );
        assert_eq!(
            (ok.state, ok.batch_id.as_deref(), ok.fatal),
            (CallState::Accepted, Some("b1"), None)
        );
        let refused = Answer::of(Err(SendError::Unauthorized("bad key".into())), 3);
        assert_eq!(refused.state, CallState::NotSent);
        assert_eq!(refused.batch_id, None);
        assert_eq!(refused.message, "401: the API key was refused");
        assert_eq!(
            refused.fatal,
            Some(KeyRefused {
                during: "placing calls",
                message: Some("bad key".into())
            })
        );
        let rejected = Answer::of(
            Err(SendError::Rejected {
                status: 422,
                message: "bad workflow".into(),
            }),
            3,
        );
        assert_eq!(
            (rejected.state, rejected.message.as_str()),
            (CallState::Rejected, "422: bad workflow")
        );
        assert_eq!(
            rejected.warning.as_deref(),
            Some("a batch of 3 calls was rejected (422): bad workflow")
        );
        // Provably never placed: sent again by a later run.
        for e in [
            SendError::NotSent("connection refused".into()),
            SendError::RateLimited { retry_after: None },
        ] {
            let a = Answer::of(Err(e), 3);
            assert_eq!((a.state, a.fatal), (CallState::NotSent, None));
        }
        // May have been placed: never sent again blindly.
        let doubt = Answer::of(Err(SendError::InDoubt("502".into())), 3);
        assert_eq!(
            (doubt.state, doubt.message.as_str(), doubt.fatal),
            (CallState::InDoubt, "502", None)
        );
    }

    #[test]
    fn a_shared_run_claims_again_waits_for_leases_or_stops() {
        let open = |unclaimed, leased_elsewhere, next_expiry| OpenWork {
            unclaimed,
            leased_elsewhere,
            next_expiry,
        };
        assert_eq!(more_work(&open(5, 0, None), true), MoreWork::Claim);
        assert_eq!(more_work(&open(5, 2, None), false), MoreWork::NotOurs(5));
        assert_eq!(more_work(&open(0, 0, None), true), MoreWork::Done);
        let secs = Duration::from_secs_f64;
        assert_eq!(
            more_work(&open(0, 2, Some(secs(0.3))), false),
            MoreWork::After(secs(0.3))
        );
        assert_eq!(
            more_work(&open(0, 2, Some(secs(20.0))), false),
            MoreWork::After(secs(1.0))
        );
        assert_eq!(
            more_work(&open(0, 2, Some(Duration::ZERO)), false),
            MoreWork::After(secs(0.05))
        );
        assert_eq!(
            more_work(&open(0, 2, None), false),
            MoreWork::After(secs(1.0))
        );
    }
}
