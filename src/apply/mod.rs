//! The apply stage: place the planned calls exactly once, at the provider's pace, and follow
//! them to their outcome.
//!
//! Order of importance: never call a patient twice by accident (write-ahead ledger, in-doubt
//! calls never re-sent blindly); never lose track of a call (every attempt is recorded before
//! its request leaves); respect opt-outs, calling hours and the provider's limits; keep the
//! operator informed.

mod coordination;
mod due;
mod follow;
mod gate;
mod identity;
mod input;
mod message;
pub mod progress;
pub mod prompt;
mod reconcile;
mod send;
mod state;
mod stopped;
mod summary;
pub mod sync;
mod verify;
mod workflow;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use secrecy::SecretString;
use serde::Serialize;

use crate::campaign::Kind;
use crate::client::Client;
use crate::endpoint::Endpoint;
use crate::ledger::AsyncLedger;
use crate::settings::ApplySettings;
use crate::settings::target::{Target, TargetId};
use coordination::key_budget_scope;
use due::due_calls;
use follow::follow;
pub use follow::outcome as call_outcome;
use input::{Loaded, load};
pub use progress::{Progress, Quiet};
pub use prompt::{Nobody, Prompt, Terminal};
use reconcile::{reconcile, settle_others};
use send::send_all;
use state::{Due, Shared, lock, sleep_interruptible};
pub use stopped::{KeyRefused, NoOneToConfirm, Stopped};
pub use summary::{ApplySummary, RunStatus};

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyEnd {
    /// Every due call was placed, or nothing is due now (exit 0).
    Done,
    /// Some calls were rejected, could not be sent, or are in doubt (exit 1).
    Problems,
    /// Ctrl-C (exit 130).
    Interrupted,
    /// The operator did not confirm the placing of the calls: nothing was sent (exit 2).
    NotConfirmed,
}

/// Counts of one run, reported at the end.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RunCounts {
    /// Calls in the plan.
    pub planned: u64,
    /// Planned calls already placed (or settled) by earlier runs.
    pub already_done: u64,
    /// Calls due in this run (after `--max-calls`).
    pub due: u64,
    /// Calls left for a later run by `--max-calls`.
    pub capped: u64,
    /// Calls whose retry is scheduled after this run.
    pub retry_later: u64,
    /// Calls requested from the server, whatever its answer (accepted + rejected + not sent
    /// + in doubt).
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub not_sent: u64,
    pub in_doubt: u64,
    pub answered: u64,
    pub failed: u64,
    pub no_answer: u64,
    /// Accepted calls whose outcome was not known when following stopped.
    pub unfollowed: u64,
    /// Earlier in-doubt calls resolved by looking them up on the server.
    pub resolved: u64,
    /// Calls skipped right before sending: opted out since the plan was made.
    pub opted_out_since_plan: u64,
    /// Calls skipped right before sending: the frequency cap is reached.
    pub capped_by_frequency: u64,
    /// Calls claimed that another runner had recorded first (shared ledgers): not sent here.
    pub taken_elsewhere: u64,
    /// Calls this runner left to the others because its lease ran out (shared ledgers; issue
    /// 14, class 11): not sent here, or sent and their answer not recorded (still `sending`,
    /// which the others look up on the server). None is sent twice.
    pub lost_lease: u64,
    /// HTTP requests that placed calls (429s and retries included).
    pub requests: u64,
    pub rate_limited: u64,
    /// Calls a dry run went through without sending them.
    pub would_send: u64,
    /// Due calls the run stopped before sending (a window, a pause, a refused key, Ctrl-C):
    /// a later run sends them (on a shared ledger, other runners may have).
    pub not_reached: u64,
}

/// The ledger path for a campaign.
pub fn default_state(campaign_path: &Path) -> PathBuf {
    campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join(".outreach")
        .join("state.db")
}

fn call_route(kind: Kind) -> &'static str {
    match kind {
        Kind::Robocall => voicebot_api::routes::ROBOCALL,
        Kind::Conversation => voicebot_api::routes::CONVERSATION,
    }
}

/// The API a run places its calls on, and the names the ledger records them under.
struct Api {
    client: Client,
    /// The base URL the requests go to.
    base: String,
    /// The ledger's name for the target.
    id: String,
    /// The API key's shared request budget.
    key_scope: String,
    /// A live target (not the mock, not a dry run): placing calls there is asked first.
    live: bool,
}

/// The operator's side of a run, injected by the command: who confirms, and who hears how
/// far it got.
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub prompt: &'a dyn Prompt,
    pub progress: &'a dyn Progress,
}

/// Runs `outreach apply`: what it did comes back as an [`ApplySummary`]; how far it got
/// goes to `operator.progress`, as it goes. The stage itself writes to no terminal.
pub async fn apply(
    s: &ApplySettings,
    interrupted: Arc<AtomicBool>,
    operator: Operator<'_>,
) -> anyhow::Result<Applied> {
    let loaded = load(&s.input)?;

    // The target and its key. The key never comes from the campaign.
    let endpoint = Endpoint::open(&s.target).await?;
    let base = endpoint.base.clone();
    let id = if s.dry_run {
        TargetId::DryRun(Box::new(s.target.id()))
    } else {
        s.target.id()
    }
    .to_string();
    let live = matches!(s.target, Target::Url(_)) && !s.dry_run;
    let key = api_key(s.key.as_ref(), &s.target, s.dry_run)?;
    let api = Api {
        key_scope: key_budget_scope(&id, &key),
        client: Client::new(&base, key, s.request_timeout).map_err(anyhow::Error::msg)?,
        base,
        id,
        live,
    };

    // A message known to be over the service's limit for some call: nothing is sent.
    message::refuse_over_the_limit(&api, &loaded).await?;

    let state_path = s
        .state
        .clone()
        .unwrap_or_else(|| default_state(&loaded.campaign_path));
    let ledger = AsyncLedger::open(state_path).await?;
    let applied = on_ledger(s, interrupted, operator, &ledger, &loaded, api).await;
    // Closed here, off the executor, on every path: its lock is released (and its connection
    // closed) before apply returns, as the next apply of a watch session needs.
    let closed = ledger.close().await;
    endpoint.close().await;
    let applied = applied?;
    closed?;
    Ok(applied)
}

/// The run, once the ledger is open: locked for this run, then started, sent, followed and
/// ended in it.
async fn on_ledger(
    s: &ApplySettings,
    interrupted: Arc<AtomicBool>,
    operator: Operator<'_>,
    ledger: &AsyncLedger,
    loaded: &Loaded,
    api: Api,
) -> anyhow::Result<Applied> {
    let campaign = loaded.campaign.clone();
    let round = campaign.round.clone().unwrap_or_default();
    // What is printed of the ledger: its file, or its URL with the password hidden.
    let state_path = ledger.path().to_path_buf();
    ledger.call(crate::ledger::Ledger::lock).await?;
    claim_campaign(s, ledger, loaded).await?;
    if let Some(head) = &loaded.saved {
        // A saved plan is placed only if it is what the campaign makes now; the calls it
        // left out must be the ledger's.
        let (id, name, r) = (api.id.clone(), campaign.name.clone(), round.clone());
        let history = ledger.call(move |l| l.history(&id, &name, &r)).await?;
        verify::verify(
            &campaign,
            &loaded.campaign_path,
            head,
            &loaded.calls,
            &history,
        )?;
    }
    if let Some(tx) = &s.locked {
        let _ = tx.send(());
    }

    if api.live && !s.new_ledger {
        first_run_on_this_ledger(ledger, &campaign.name, &api, operator.prompt).await?;
    }
    // A declared workflow as the service has it: used as it is, or created right before
    // the first batch (after the confirmation, the window and any pause).
    // One per language of a campaign in several.
    let mut call_workflow = std::collections::BTreeMap::new();
    let mut pending_workflow = Vec::new();
    for speaker in campaign.speakers() {
        let whose = (campaign.name.as_str(), campaign.kind);
        match workflow::prepare(s, &api, ledger, whose, speaker).await? {
            workflow::Ensured::ById => {}
            workflow::Ensured::Use(id) => {
                call_workflow.insert(speaker.binding_language().to_owned(), id);
            }
            workflow::Ensured::Create(creation) => pending_workflow.push(*creation),
        }
    }

    let run_id = {
        let (id, name, round, lease) = (
            api.id.clone(),
            campaign.name.clone(),
            round.clone(),
            s.lease,
        );
        ledger
            .call(move |l| l.start_run(&id, &name, &round, lease))
            .await?
    };
    let shared = Arc::new(Shared {
        store: ledger.clone(),
        counts: Mutex::new(RunCounts {
            planned: loaded.calls.len() as u64,
            ..RunCounts::default()
        }),
        interrupted,
        stop: AtomicBool::new(false),
        stopped: Mutex::new(None),
        fatal: Mutex::new(None),
        next_retry: Mutex::new(None),
        held: Mutex::new(std::collections::HashSet::new()),
        not_sent_here: Mutex::new(std::collections::HashSet::new()),
        target_id: api.id.clone(),
        retry_delay: Some(campaign.delivery.retry.delay.value().0),
        frequency_window: campaign
            .delivery
            .frequency_cap
            .as_ref()
            .map(|cap| cap.per.value().0),
        campaign: campaign.clone(),
        run_id,
        round,
        sent_calls: AtomicU64::new(0),
        claimed: AtomicU64::new(0),
        key_scope: api.key_scope.clone(),
        pending_workflow: tokio::sync::Mutex::new(pending_workflow),
        call_workflow: Mutex::new(call_workflow),
    });

    let heartbeat = Heartbeat::start(&shared, s.lease);
    let result = run(s, operator, &shared, &api, loaded).await;
    heartbeat.stop().await;
    let fatal = lock(&shared.fatal).clone();
    let result = match fatal {
        Some(f) => Err(anyhow::Error::new(f)),
        None => result,
    };
    let status = run_status(result.as_ref().ok().copied());
    let stopped = stopped_by(&result, lock(&shared.stopped).take());
    let mut counts = lock(&shared.counts).clone();
    if stopped.is_some() {
        counts.not_reached = not_reached(&counts);
    }
    let detail = serde_json::to_string(&counts)?;
    shared
        .ledger(move |l, s| l.end_run(&s.run_id, status, &detail))
        .await?;
    let summary = ApplySummary {
        format: ApplySummary::FORMAT,
        version: ApplySummary::VERSION,
        campaign: campaign.name.clone(),
        round: campaign.round.clone(),
        target: api.id,
        base: api.base,
        dry_run: s.dry_run,
        ledger: state_path.display().to_string(),
        status,
        counts,
        stopped,
        next_retry_at: *lock(&shared.next_retry),
        timezone: campaign.schedule.timezone.clone(),
    };
    Ok(Applied {
        summary,
        end: result,
    })
}

/// The API key for a target: the one given, the mock's, a dry run's stand-in, or an error
/// saying where a key comes from (never the campaign file).
pub(crate) fn api_key(
    given: Option<&SecretString>,
    target: &Target,
    dry_run: bool,
) -> anyhow::Result<SecretString> {
    Ok(match (given, target) {
        (Some(k), _) => k.clone(),
        (None, Target::Mock | Target::RunningMock(_)) => SecretString::from("outreach-mock-key"),
        (None, Target::Url(_)) if dry_run => SecretString::from("dry-run"),
        (None, Target::Url(_)) => bail!(
            "no API key: set INTRON_API_KEY or pass --api-key-file FILE (the key never goes in the campaign file)"
        ),
    })
}

/// Two campaign files with one name share one record of calls: the ledger records which
/// file (its path in its repository) each name belongs to, and refuses another file under
/// the same name unless `--moved-from` names the one recorded.
async fn claim_campaign(
    s: &ApplySettings,
    ledger: &AsyncLedger,
    loaded: &Loaded,
) -> anyhow::Result<()> {
    let (root, path) = identity::campaign_path(&loaded.campaign_path).map_err(|e| {
        anyhow::anyhow!(
            "cannot tell where {} is in its repository: {e}",
            loaded.campaign_path.display()
        )
    })?;
    let moved = identity::moved_from(s.moved_from.as_slice(), &root);
    let name = loaded.campaign.name.clone();
    // With the reply options that opt a number out: the callback receiver reads no
    // campaign, so it learns them here.
    let replies = loaded.campaign.opt_out_replies.clone();
    ledger
        .call(move |l| {
            l.claim_campaign(&name, &path, &moved)?;
            l.set_opt_out_replies(&name, &replies)
        })
        .await?;
    Ok(())
}

/// A brand-new ledger for a campaign sent to a live target is how everyone gets called
/// twice: unless the ledger knows the campaign, the operator says it is its first run.
async fn first_run_on_this_ledger(
    ledger: &AsyncLedger,
    campaign: &str,
    api: &Api,
    prompt: &dyn Prompt,
) -> anyhow::Result<()> {
    let (id, name) = (api.id.clone(), campaign.to_owned());
    if ledger.call(move |l| l.knows_campaign(&id, &name)).await? {
        return Ok(());
    }
    let question = format!(
        "The ledger {} has no record of campaign `{campaign}` on {}. If it ran before from another machine or ledger, everyone would be called again.",
        ledger.path().display(),
        api.base
    );
    if !(prompt.available() && prompt.confirm(&format!("{question} Is this its first run?"))) {
        bail!(
            "{question} Pass --new-ledger if this is the campaign's first run, or point --state at the ledger it used."
        );
    }
    Ok(())
}

/// How a run is recorded as ended: how it got to its end (`None`: it stopped on an error,
/// a refused key among them).
fn run_status(end: Option<ApplyEnd>) -> RunStatus {
    match end {
        Some(ApplyEnd::Done) => RunStatus::Done,
        Some(ApplyEnd::Problems) => RunStatus::Problems,
        Some(ApplyEnd::Interrupted) => RunStatus::Interrupted,
        Some(ApplyEnd::NotConfirmed) | None => RunStatus::Failed,
    }
}

/// Why a run ended before it got through its due calls: its end, or the reason it was
/// stopped with on the way (`stopped`; a window, a pause, a refused key).
fn stopped_by(result: &anyhow::Result<ApplyEnd>, stopped: Option<Stopped>) -> Option<Stopped> {
    match result {
        Err(e) => Some(Stopped::by_error(e)),
        Ok(ApplyEnd::Interrupted) => Some(Stopped::Interrupted { signal: None }),
        Ok(ApplyEnd::NotConfirmed) => Some(Stopped::NotConfirmed { asked: true }),
        Ok(ApplyEnd::Done | ApplyEnd::Problems) => stopped,
    }
}

/// The due calls a run that stopped early did not get to: neither sent (nor gone through a
/// dry run) nor held back right before sending.
fn not_reached(c: &RunCounts) -> u64 {
    c.due.saturating_sub(
        c.sent + c.would_send + c.opted_out_since_plan + c.capped_by_frequency + c.taken_elsewhere,
    )
}

/// The heartbeat: `status` shows the run alive, and its claims stay leased while it works.
struct Heartbeat {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    fn start(shared: &Arc<Shared>, lease: Duration) -> Heartbeat {
        let shared = Arc::clone(shared);
        let every = (lease / 3).max(Duration::from_millis(200));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(every) => {}
                }
                let claimed = shared.claimed.load(Ordering::SeqCst);
                let beat = shared
                    .ledger(move |l, s| l.heartbeat(&s.run_id, claimed))
                    .await;
                match shared.unless_fenced(0, beat) {
                    Ok(Some(())) => {}
                    // A lease that ran out is never renewed: the run sends nothing more.
                    Ok(None) => break,
                    Err(e) => tracing::warn!("heartbeat: {e}"),
                }
            }
        });
        Heartbeat { stop, task }
    }

    /// Stops the heartbeat and waits for it: none is written after the run's end. A panic
    /// in it is the run's.
    async fn stop(self) {
        drop(self.stop);
        if let Err(e) = self.task.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// What a run did, and how it ended: `end` is an error when the run stopped on one (the
/// summary still says what it did until then).
pub struct Applied {
    pub summary: ApplySummary,
    pub end: anyhow::Result<ApplyEnd>,
}

async fn run(
    s: &ApplySettings,
    operator: Operator<'_>,
    shared: &Arc<Shared>,
    api: &Api,
    loaded: &Loaded,
) -> anyhow::Result<ApplyEnd> {
    let campaign = &shared.campaign;
    let client = &api.client;
    // A schedule that is over before the run starts sends nothing where the schedule holds
    // (a live target, or --enforce-schedule): a problem to fix (exit 1), not "nothing due".
    if let Some(over) =
        crate::plan::timing::Timing::at(campaign, crate::clock::now()).over_sentence()
    {
        if s.enforce_schedule {
            tracing::error!("{over}; nothing is sent");
            shared.stop_for(Stopped::ScheduleOver);
            return Ok(ApplyEnd::Problems);
        }
        tracing::warn!(
            "{over}; the mock places them anyway (--enforce-schedule refuses, as a live run does)"
        );
    }
    reconcile(s, shared, client, true).await?;
    // Outcomes of earlier runs' calls (a run stopped with --no-follow, a crash, a server
    // without the batch endpoint) first: the retries they make due are placed below.
    if !s.dry_run {
        follow::collect_earlier(s, shared, client).await?;
    }
    let is_shared = shared.is_shared();

    let cap = call_cap(s.max_calls, campaign.delivery.max_calls);
    let mut sent_this_run: u64 = 0;
    let mut first_pass = true;
    loop {
        let now = crate::clock::now();
        let mut due = due_calls(shared, &loaded.calls, now).await?;
        {
            let mut c = lock(&shared.counts);
            if first_pass {
                c.already_done = due.done;
            }
            c.retry_later = due.later;
            *lock(&shared.next_retry) = due.next_retry;
            if let Some(capped) = cap_due(&mut due.due, cap, sent_this_run) {
                c.capped = capped;
            }
        }
        count_due(shared, &due.due);
        let due = due.due;

        if first_pass && api.live && !due.is_empty() && !s.yes {
            // One question for all that is about to happen: the workflow's words included.
            let creating: String = shared
                .pending_workflow
                .lock()
                .await
                .iter()
                .map(|c| c.sentence(&api.base))
                .collect();
            let question = format!(
                "{creating}About to place {} calls for `{}` on {}.",
                due.len(),
                campaign.name,
                api.base
            );
            if !operator.prompt.available() {
                return Err(NoOneToConfirm { question }.into());
            }
            if !operator.prompt.confirm(&format!("{question} Go ahead?")) {
                return Ok(ApplyEnd::NotConfirmed);
            }
        }
        first_pass = false;

        let sent_before = shared.sent_calls.load(Ordering::SeqCst);
        let mut reopened = 0;
        let had_due = !due.is_empty();
        if had_due {
            let end = send_all(s, shared, client, loaded, due, operator.progress).await?;
            sent_this_run = shared.sent_calls.load(Ordering::SeqCst);
            if end != ApplyEnd::Done {
                return Ok(finish(shared, end));
            }
        }
        // Even with nothing due here: calls other runners are sending (or stopped runners
        // left `sending`) are this round's too; the run ends only once they are settled.
        if is_shared && !shared.stop.load(Ordering::SeqCst) {
            reopened = settle_others(s, shared, client).await?;
        }
        if had_due && !shared.stop.load(Ordering::SeqCst) && !s.no_follow && !s.dry_run {
            follow(s, shared, client).await?;
        }
        if shared.interrupted.load(Ordering::SeqCst) {
            return Ok(finish(shared, ApplyEnd::Interrupted));
        }
        // Stopped by the schedule (--no-wait), a pause (--no-wait) or a fatal error.
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        // Retries that come due: wait for them unless told not to. Without a retry policy,
        // with every due call recorded and none put back, nothing can be due: the ledger's
        // history is not read again (for a large campaign that read is a tenth of the run).
        let maybe_due = may_be_due(
            is_shared,
            campaign.delivery.retry.attempts,
            reopened,
            &lock(&shared.counts),
        );
        let (due_now, next) = if maybe_due {
            let d = due_calls(shared, &loaded.calls, crate::clock::now()).await?;
            // The retries the follow just scheduled are counted, and the first of them kept.
            lock(&shared.counts).retry_later = d.later;
            *lock(&shared.next_retry) = d.next_retry;
            (d.due, d.next_retry)
        } else {
            (Vec::new(), None)
        };
        let capped_out = cap.is_some_and(|c| sent_this_run >= c);
        // Go round again only for calls that became due (retries) while something was sent;
        // calls held back before the send (frequency cap, opt-outs) stay for a later run.
        // On a shared ledger, calls a stopped runner never placed are due again too.
        let progressed = shared.sent_calls.load(Ordering::SeqCst) > sent_before || reopened > 0;
        if !due_now.is_empty() && !capped_out && !s.dry_run && progressed {
            continue;
        }
        let Some(at) = next else { break };
        // A run waits for retries that come due while it would be following calls anyway;
        // later ones are sent by the first run after they come due (run apply on a schedule).
        let soon = at.duration_since(crate::clock::now()).unsigned_abs() <= s.follow_timeout;
        // The summary says how many retries are left for a later run, and when the first is due.
        if s.no_wait || s.no_follow || s.dry_run || capped_out || !soon {
            break;
        }
        let wait = at.duration_since(crate::clock::now()).unsigned_abs();
        tracing::info!(
            "waiting {:.0} s for the next retry (due {}); Ctrl-C stops",
            wait.as_secs_f64(),
            crate::clock::human(at, &campaign_zone(campaign))
        );
        sleep_interruptible(shared, wait).await;
        if shared.interrupted.load(Ordering::SeqCst) {
            return Ok(finish(shared, ApplyEnd::Interrupted));
        }
    }
    Ok(finish(shared, ApplyEnd::Done))
}

/// The campaign's time zone, for times written for people (a valid campaign's exists).
fn campaign_zone(c: &crate::campaign::Campaign) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&c.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// Counts the calls due in a pass: each (call, attempt) once in a run. One this run sent
/// and was provably not placed is tried again: its earlier try no longer counts.
fn count_due(shared: &Shared, due: &[Due]) {
    let mut again = lock(&shared.not_sent_here);
    let mut c = lock(&shared.counts);
    for d in due {
        if again.remove(&(d.planned.call.key.clone(), d.attempt)) {
            c.sent = c.sent.saturating_sub(1);
            c.not_sent = c.not_sent.saturating_sub(1);
        } else {
            c.due += 1;
        }
    }
}

/// The most calls one run places: the lower of `--max-calls` and the campaign's.
fn call_cap(flag: Option<u64>, campaign: Option<u64>) -> Option<u64> {
    match (flag, campaign) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Cuts the due calls to what the cap leaves after `sent` calls this run; returns how many
/// were left for a later run, when any were.
fn cap_due(due: &mut Vec<Due>, cap: Option<u64>, sent: u64) -> Option<u64> {
    let room = usize::try_from(cap?.saturating_sub(sent)).unwrap_or(usize::MAX);
    if due.len() <= room {
        return None;
    }
    let capped = (due.len() - room) as u64;
    due.truncate(room);
    Some(capped)
}

/// Whether anything can have come due since the last look at the ledger: on a shared ledger
/// (other runners), with retries, with calls put back as never placed, or with calls this run
/// held back or did not send.
fn may_be_due(is_shared: bool, attempts: u32, reopened: u64, c: &RunCounts) -> bool {
    is_shared
        || attempts > 1
        || reopened > 0
        || c.not_sent
            + c.capped
            + c.opted_out_since_plan
            + c.capped_by_frequency
            + c.taken_elsewhere
            > 0
}

fn finish(shared: &Shared, end: ApplyEnd) -> ApplyEnd {
    let lost = matches!(*lock(&shared.stopped), Some(Stopped::LeaseLost));
    end_state(end, &lock(&shared.counts), lost)
}

/// How a run that got to its end ended: calls rejected, not sent or in doubt are problems,
/// and so is a lease that ran out (`lease_lost`: the others finish the run's work).
fn end_state(end: ApplyEnd, c: &RunCounts, lease_lost: bool) -> ApplyEnd {
    if end == ApplyEnd::Done
        && (lease_lost || c.rejected + c.not_sent + c.in_doubt + c.lost_lease > 0)
    {
        ApplyEnd::Problems
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::state::test_calls::{due_to, keys};

    /// A run that sent three calls, all accepted.
    fn clean() -> RunCounts {
        RunCounts {
            sent: 3,
            accepted: 3,
            ..RunCounts::default()
        }
    }

    #[test]
    fn a_run_that_stopped_on_an_error_or_was_not_confirmed_is_recorded_failed() {
        assert_eq!(run_status(Some(ApplyEnd::Done)), RunStatus::Done);
        assert_eq!(run_status(Some(ApplyEnd::Problems)), RunStatus::Problems);
        assert_eq!(
            run_status(Some(ApplyEnd::Interrupted)),
            RunStatus::Interrupted
        );
        assert_eq!(run_status(Some(ApplyEnd::NotConfirmed)), RunStatus::Failed);
        assert_eq!(run_status(None), RunStatus::Failed);
    }

    #[test]
    fn a_run_says_why_it_stopped_before_getting_through_its_calls() {
        let paused = Stopped::Paused {
            since: "2026-12-01T08:00:00Z".parse().unwrap(),
        };
        assert_eq!(stopped_by(&Ok(ApplyEnd::Done), None), None);
        assert_eq!(
            stopped_by(&Ok(ApplyEnd::Done), Some(paused.clone())),
            Some(paused.clone())
        );
        assert_eq!(
            stopped_by(&Ok(ApplyEnd::Interrupted), Some(paused.clone())),
            Some(Stopped::Interrupted { signal: None })
        );
        assert_eq!(
            stopped_by(&Ok(ApplyEnd::NotConfirmed), None),
            Some(Stopped::NotConfirmed { asked: true })
        );
        // A refused key ends the run with its error, whatever stopped it first.
        let refused = Err(anyhow::Error::new(KeyRefused {
            during: "placing calls",
            message: Some("bad key".into()),
        }));
        assert_eq!(
            stopped_by(&refused, Some(paused)),
            Some(Stopped::KeyRefused {
                message: Some("bad key".into())
            })
        );
    }

    #[test]
    fn the_calls_a_stopped_run_did_not_get_to_are_counted() {
        let c = RunCounts {
            due: 20,
            sent: 9,
            not_sent: 9,
            opted_out_since_plan: 1,
            capped_by_frequency: 2,
            ..RunCounts::default()
        };
        assert_eq!(not_reached(&c), 8);
        let dry = RunCounts {
            due: 6,
            would_send: 6,
            ..RunCounts::default()
        };
        assert_eq!(not_reached(&dry), 0);
    }

    #[test]
    fn the_lower_cap_wins_and_cuts_the_due_calls_to_the_room_left() {
        assert_eq!(call_cap(Some(5), Some(3)), Some(3));
        assert_eq!(call_cap(Some(2), Some(3)), Some(2));
        assert_eq!(call_cap(None, Some(3)), Some(3));
        assert_eq!(call_cap(Some(4), None), Some(4));
        assert_eq!(call_cap(None, None), None);
        let due = || -> Vec<Due> {
            ["a", "b", "c", "d"]
                .map(|k| due_to(k, "+2348031234567"))
                .into()
        };
        let mut d = due();
        assert_eq!(cap_due(&mut d, Some(3), 0), Some(1));
        assert_eq!(keys(&d), ["a", "b", "c"], "plan order kept");
        // Two sent earlier this run leave room for one.
        let mut d = due();
        assert_eq!(cap_due(&mut d, Some(3), 2), Some(3));
        assert_eq!(keys(&d), ["a"]);
        let mut d = due();
        assert_eq!(cap_due(&mut d, Some(3), 5), Some(4));
        assert!(d.is_empty());
        for cap in [None, Some(4), Some(10)] {
            let mut d = due();
            assert_eq!(cap_due(&mut d, cap, 0), None);
            assert_eq!(d.len(), 4);
        }
    }

    #[test]
    fn the_history_is_read_again_only_when_something_can_have_come_due() {
        let clean = clean();
        assert!(!may_be_due(false, 1, 0, &clean));
        assert!(may_be_due(true, 1, 0, &clean), "other runners");
        assert!(may_be_due(false, 2, 0, &clean), "retries");
        assert!(may_be_due(false, 1, 1, &clean), "calls put back");
        for held in [
            RunCounts {
                not_sent: 1,
                ..clean.clone()
            },
            RunCounts {
                capped: 1,
                ..clean.clone()
            },
            RunCounts {
                opted_out_since_plan: 1,
                ..clean.clone()
            },
            RunCounts {
                capped_by_frequency: 1,
                ..clean.clone()
            },
            RunCounts {
                taken_elsewhere: 1,
                ..clean.clone()
            },
        ] {
            assert!(may_be_due(false, 1, 0, &held), "{held:?}");
        }
        // Rejected and in doubt calls are done for this round.
        let done = RunCounts {
            rejected: 1,
            in_doubt: 1,
            ..clean
        };
        assert!(!may_be_due(false, 1, 0, &done));
    }

    #[test]
    fn a_run_with_calls_rejected_not_sent_or_in_doubt_ends_with_problems() {
        let clean = clean();
        assert_eq!(end_state(ApplyEnd::Done, &clean, false), ApplyEnd::Done);
        assert_eq!(end_state(ApplyEnd::Done, &clean, true), ApplyEnd::Problems);
        for bad in [
            RunCounts {
                rejected: 1,
                ..clean.clone()
            },
            RunCounts {
                not_sent: 1,
                ..clean.clone()
            },
            RunCounts {
                in_doubt: 1,
                ..clean.clone()
            },
            RunCounts {
                lost_lease: 1,
                ..clean.clone()
            },
        ] {
            assert_eq!(end_state(ApplyEnd::Done, &bad, false), ApplyEnd::Problems);
            // Ctrl-C says so, whatever else happened.
            assert_eq!(
                end_state(ApplyEnd::Interrupted, &bad, false),
                ApplyEnd::Interrupted
            );
        }
    }
}
