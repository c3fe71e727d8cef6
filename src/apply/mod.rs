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
mod input;
mod progress;
pub mod prompt;
mod reconcile;
mod send;
mod state;
mod summary;

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
use crate::ledger::Ledger;
use crate::settings::ApplySettings;
use crate::settings::target::{Target, TargetId};
use coordination::key_budget_scope;
use due::due_calls;
use follow::follow;
use input::{Loaded, load};
pub use prompt::{Nobody, Prompt, Terminal};
use reconcile::{reconcile, settle_others};
use send::send_all;
use state::{Shared, lock, sleep_interruptible};
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
    /// HTTP requests that placed calls (429s and retries included).
    pub requests: u64,
    pub rate_limited: u64,
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

/// Runs `outreach apply`. Results go to `out`; progress to the log (stderr).
pub async fn apply(
    s: &ApplySettings,
    interrupted: Arc<AtomicBool>,
    prompt: &dyn Prompt,
) -> anyhow::Result<Applied> {
    let loaded = load(&s.input)?;
    let campaign = loaded.campaign.clone();
    let round = campaign.round.clone().unwrap_or_default();

    // The target and its key. The key never comes from the campaign.
    let endpoint = Endpoint::open(&s.target).await?;
    let base = endpoint.base.clone();
    let target_id = if s.dry_run {
        TargetId::DryRun(Box::new(s.target.id()))
    } else {
        s.target.id()
    }
    .to_string();
    let live = matches!(s.target, Target::Url(_)) && !s.dry_run;
    let key = match (&s.key, &s.target) {
        (Some(k), _) => k.clone(),
        (None, Target::Mock | Target::RunningMock(_)) => SecretString::from("outreach-mock-key"),
        (None, Target::Url(_)) if s.dry_run => SecretString::from("dry-run"),
        (None, Target::Url(_)) => bail!(
            "no API key: set INTRON_API_KEY or pass --api-key-file FILE (the key never goes in the campaign file)"
        ),
    };
    let key_scope = key_budget_scope(&target_id, &key);
    let client = Client::new(&base, key, s.request_timeout).map_err(anyhow::Error::msg)?;

    // The ledger, locked for this run.
    let state_path = s
        .state
        .clone()
        .unwrap_or_else(|| default_state(&loaded.campaign_path));
    let mut ledger = Ledger::open(&state_path)?;
    // What is printed of the ledger: its file, or its URL with the password hidden.
    let state_path = ledger.path().to_path_buf();
    let holder = format!(
        "pid {} on {}, applying {} since {}",
        std::process::id(),
        crate::ledger::hostname(),
        campaign.name,
        crate::clock::now()
    );
    ledger.lock(&holder)?;
    if let Some(tx) = &s.locked {
        let _ = tx.send(());
    }

    // A brand-new ledger for a campaign sent to a live target is how everyone gets called twice.
    if live && !s.new_ledger && !ledger.knows_campaign(&target_id, &campaign.name)? {
        let question = format!(
            "The ledger {} has no record of campaign `{}` on {base}. If it ran before from another machine or ledger, everyone would be called again.",
            state_path.display(),
            campaign.name
        );
        if !(prompt.available() && prompt.confirm(&format!("{question} Is this its first run?"))) {
            bail!(
                "{question} Pass --new-ledger if this is the campaign's first run, or point --state at the ledger it used."
            );
        }
    }

    let run_id = ledger.start_run(&target_id, &campaign.name, &round, s.lease)?;
    let shared = Arc::new(Shared {
        ledger: Mutex::new(ledger),
        counts: Mutex::new(RunCounts {
            planned: loaded.calls.len() as u64,
            ..RunCounts::default()
        }),
        interrupted,
        stop: AtomicBool::new(false),
        fatal: Mutex::new(None),
        target_id: target_id.clone(),
        campaign: campaign.clone(),
        run_id: run_id.clone(),
        round: round.clone(),
        sent_calls: AtomicU64::new(0),
        claimed: AtomicU64::new(0),
        key_scope,
    });

    // The heartbeat: `status` shows the run alive, and its claims stay leased while it works.
    let heartbeat = {
        let shared = Arc::clone(&shared);
        let every = (s.lease / 3).max(Duration::from_millis(200));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let claimed = shared.claimed.load(Ordering::SeqCst);
                if let Err(e) = lock(&shared.ledger).heartbeat(&shared.run_id, claimed) {
                    tracing::warn!("heartbeat: {e}");
                }
            }
        })
    };
    let result = run(s, prompt, &shared, &client, &loaded, live, &base).await;
    heartbeat.abort();
    let counts = lock(&shared.counts).clone();
    let fatal = lock(&shared.fatal).clone();
    let end = match (&result, &fatal) {
        (Err(_), _) | (_, Some(_)) => None,
        (Ok(end), None) => Some(*end),
    };
    let status = match end {
        Some(ApplyEnd::Done) => RunStatus::Done,
        Some(ApplyEnd::Problems) => RunStatus::Problems,
        Some(ApplyEnd::Interrupted) => RunStatus::Interrupted,
        None => RunStatus::Failed,
    };
    lock(&shared.ledger).end_run(&run_id, status.as_str(), &serde_json::to_string(&counts)?)?;
    let summary = ApplySummary {
        format: ApplySummary::FORMAT,
        version: ApplySummary::VERSION,
        campaign: campaign.name.clone(),
        round: campaign.round.clone(),
        target: target_id,
        base,
        dry_run: s.dry_run,
        ledger: state_path.display().to_string(),
        status,
        counts,
    };
    endpoint.close().await;
    let end = match fatal {
        Some(f) => Err(anyhow::anyhow!(f)),
        None => result,
    };
    Ok(Applied { summary, end })
}

/// What a run did, and how it ended: `end` is an error when the run stopped on one (the
/// summary still says what it did until then).
pub struct Applied {
    pub summary: ApplySummary,
    pub end: anyhow::Result<ApplyEnd>,
}

async fn run(
    s: &ApplySettings,
    prompt: &dyn Prompt,
    shared: &Arc<Shared>,
    client: &Client,
    loaded: &Loaded,
    live: bool,
    base: &str,
) -> anyhow::Result<ApplyEnd> {
    let campaign = &shared.campaign;
    reconcile(s, shared, client, true).await?;
    let is_shared = lock(&shared.ledger).is_shared();

    let cap = match (s.max_calls, campaign.delivery.max_calls) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut sent_this_run: u64 = 0;
    let mut first_pass = true;
    loop {
        let now = crate::clock::now();
        let (mut due, done, later, _) = due_calls(shared, &loaded.calls, now)?;
        {
            let mut c = lock(&shared.counts);
            if first_pass {
                c.already_done = done;
            }
            c.retry_later = later;
        }
        if let Some(cap) = cap {
            let room = usize::try_from(cap.saturating_sub(sent_this_run)).unwrap_or(usize::MAX);
            if due.len() > room {
                lock(&shared.counts).capped = (due.len() - room) as u64;
                due.truncate(room);
            }
        }
        lock(&shared.counts).due += due.len() as u64;

        if first_pass && live && !due.is_empty() && !s.yes {
            let question = format!(
                "About to place {} calls for `{}` on {base}.",
                due.len(),
                campaign.name
            );
            if !prompt.available() {
                bail!("{question} No terminal to confirm on: pass --yes to go ahead.");
            }
            if !prompt.confirm(&format!("{question} Go ahead?")) {
                bail!("not confirmed; nothing was sent");
            }
        }
        first_pass = false;

        let sent_before = shared.sent_calls.load(Ordering::SeqCst);
        let mut reopened = 0;
        let had_due = !due.is_empty();
        if had_due {
            let end = send_all(s, shared, client, loaded, due).await?;
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
        let c = lock(&shared.counts).clone();
        let maybe_due = is_shared
            || campaign.delivery.retry.attempts > 1
            || reopened > 0
            || c.not_sent
                + c.capped
                + c.opted_out_since_plan
                + c.capped_by_frequency
                + c.taken_elsewhere
                > 0;
        let (due_now, next) = if maybe_due {
            let (due_now, _, _, next) = due_calls(shared, &loaded.calls, crate::clock::now())?;
            (due_now, next)
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
        if s.no_wait || s.no_follow || s.dry_run || capped_out || !soon {
            tracing::info!(
                "{} retries are scheduled; the next is due at {at}; run apply again then",
                lock(&shared.counts).retry_later
            );
            break;
        }
        let wait = at.duration_since(crate::clock::now()).unsigned_abs();
        tracing::info!(
            "waiting {:.0} s for the next retry (due at {at}); Ctrl-C stops",
            wait.as_secs_f64()
        );
        sleep_interruptible(shared, wait).await;
        if shared.interrupted.load(Ordering::SeqCst) {
            return Ok(finish(shared, ApplyEnd::Interrupted));
        }
    }
    Ok(finish(shared, ApplyEnd::Done))
}

fn finish(shared: &Shared, end: ApplyEnd) -> ApplyEnd {
    end_state(end, &lock(&shared.counts))
}

/// How a run that got to its end ended: calls rejected, not sent or in doubt are problems.
fn end_state(end: ApplyEnd, c: &RunCounts) -> ApplyEnd {
    if end == ApplyEnd::Done && c.rejected + c.not_sent + c.in_doubt > 0 {
        ApplyEnd::Problems
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_with_calls_rejected_not_sent_or_in_doubt_ends_with_problems() {
        let clean = RunCounts {
            sent: 3,
            accepted: 3,
            ..RunCounts::default()
        };
        assert_eq!(end_state(ApplyEnd::Done, &clean), ApplyEnd::Done);
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
        ] {
            assert_eq!(end_state(ApplyEnd::Done, &bad), ApplyEnd::Problems);
            // Ctrl-C says so, whatever else happened.
            assert_eq!(
                end_state(ApplyEnd::Interrupted, &bad),
                ApplyEnd::Interrupted
            );
        }
    }
}
