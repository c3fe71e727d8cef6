//! The apply stage: place the planned calls exactly once, at the provider's pace, and follow
//! them to their outcome.
//!
//! Order of importance: never call a patient twice by accident (write-ahead ledger, in-doubt
//! calls never re-sent blindly); never lose track of a call (every attempt is recorded before
//! its request leaves); respect opt-outs, calling hours and the provider's limits; keep the
//! operator informed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead as _, IsTerminal as _, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use backon::BackoffBuilder as _;
use jiff::Timestamp;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value, json};
use voicebot_api::wire::ProcessingStatus;

use crate::campaign::windows::Calendar;
use crate::campaign::{Campaign, InDoubt, Kind, Source as _};
use crate::client::{Client, LookupError, SendError};
use crate::ledger::{Attempt, CallState, Ledger, NewCall};
use crate::plan::{self, Call, Header, Sink, Skip, Summary};
use crate::validate;

/// Where calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The bundled mock, started in-process.
    Mock,
    /// Any voicebot-compatible server (the live service by default).
    Url(String),
    /// A bundled mock already running at this URL (`watch --apply --mock` starts one per
    /// session): recorded in the ledger as `mock`, like [`Target::Mock`], and never live.
    RunningMock(String),
}

/// Settings of `outreach apply`.
#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)] // each is an independent flag of the command
pub struct ApplySettings {
    /// A campaign file, or a saved plan.
    pub input: PathBuf,
    pub target: Target,
    /// The API key (from `INTRON_API_KEY` or `--api-key-file`).
    pub key: Option<SecretString>,
    pub yes: bool,
    pub new_ledger: bool,
    pub max_calls: Option<u64>,
    pub dry_run: bool,
    pub no_wait: bool,
    pub no_follow: bool,
    /// Wait for calling windows (always, except against the mock unless asked).
    pub enforce_schedule: bool,
    pub resend_in_doubt: bool,
    /// How long after sending a call that the server does not list counts as never placed.
    pub in_doubt_grace: Duration,
    /// The ledger file (default `.outreach/state.db` beside the campaign), or a Postgres URL.
    pub state: Option<PathBuf>,
    /// How long a runner's claims and heartbeat hold before other runners take its work over
    /// (shared Postgres ledgers).
    pub lease: Duration,
    pub json: bool,
    /// How long to follow accepted calls to their outcome.
    pub follow_timeout: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Told once the input is loaded (a saved plan checked for staleness) and the ledger is
    /// locked: from then on the run no longer reads the campaign file's calls. `watch --apply`
    /// reports the apply as under way at that moment.
    pub locked: Option<std::sync::mpsc::Sender<()>>,
}

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

/// A planned call, with where it goes.
#[derive(Debug, Clone)]
struct Planned {
    call: Call,
    source_label: String,
    timezone: String,
}

/// Collects calls from the plan stage.
#[derive(Default)]
struct Collect {
    header: Option<Header>,
    calls: Vec<Arc<Planned>>,
    skipped: u64,
}

impl Sink for Collect {
    fn header(&mut self, header: &Header, _: &Campaign) -> std::io::Result<()> {
        self.header = Some(header.clone());
        Ok(())
    }
    fn batch(&mut self, _: u64, timezone: &str, calls: &[Call]) -> std::io::Result<()> {
        let labels = self
            .header
            .as_ref()
            .map(|h| h.sources.clone())
            .unwrap_or_default();
        for c in calls {
            self.calls.push(Arc::new(Planned {
                call: c.clone(),
                source_label: labels
                    .get(c.source)
                    .map_or_else(String::new, |s| s.label.clone()),
                timezone: timezone.to_owned(),
            }));
        }
        Ok(())
    }
    fn skip(&mut self, _: &Skip) -> std::io::Result<()> {
        self.skipped += 1;
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

/// The campaign and its calls, from a campaign file or a saved plan.
struct Loaded {
    campaign: Campaign,
    campaign_path: PathBuf,
    calls: Vec<Arc<Planned>>,
}

fn load(input: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let looks_like_plan = text.first() == Some(&b'{')
        && serde_json::from_slice::<Value>(&text)
            .ok()
            .is_some_and(|v| v.get("format").and_then(Value::as_str) == Some(plan::PLAN_FORMAT));
    if looks_like_plan {
        return load_plan(input, &text);
    }
    let checked = validate::check_file(input);
    let Some(campaign) = checked.campaign else {
        bail!(
            "{} is not a valid campaign (run `outreach validate {}` to see why)",
            input.display(),
            input.display()
        );
    };
    let mut collect = Collect::default();
    plan::plan(&campaign, input, &mut collect)?;
    Ok(Loaded {
        campaign,
        campaign_path: input.to_path_buf(),
        calls: collect.calls,
    })
}

/// A saved plan: refused when the campaign or a source changed since it was made.
fn load_plan(path: &Path, text: &[u8]) -> anyhow::Result<Loaded> {
    let doc: Value = serde_json::from_slice(text)
        .with_context(|| format!("{} is not a plan", path.display()))?;
    let version = doc.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version != u64::from(plan::PLAN_VERSION) {
        bail!(
            "{} is a version {version} plan; this outreach reads version {}",
            path.display(),
            plan::PLAN_VERSION
        );
    }
    let campaign_file = doc["campaign"]["file"]
        .as_str()
        .context("the plan names no campaign file")?;
    let campaign_path = PathBuf::from(campaign_file);
    let stale = |what: &str| {
        anyhow::anyhow!(
            "the plan {} is stale: {what} changed since it was made; make a new plan with `outreach plan {} --out {}`",
            path.display(),
            campaign_path.display(),
            path.display()
        )
    };
    let digest = plan::file_digest(&campaign_path).with_context(|| {
        format!(
            "the plan's campaign {} cannot be read",
            campaign_path.display()
        )
    })?;
    if Some(digest.as_str()) != doc["campaign"]["sha256"].as_str() {
        return Err(stale(&format!("the campaign {}", campaign_path.display())));
    }
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let sources = doc["sources"].as_array().cloned().unwrap_or_default();
    for s in &sources {
        if let Some(expected) = s["sha256"].as_str() {
            let label = s["label"].as_str().unwrap_or_default();
            let actual =
                plan::file_digest(&crate::patients::source::resolve_path(&base, label)).ok();
            if actual.as_deref() != Some(expected) {
                return Err(stale(&format!("the source {label}")));
            }
        }
    }
    let checked = validate::check_file(&campaign_path);
    let campaign = checked.campaign.with_context(|| {
        format!(
            "the plan's campaign {} is not valid",
            campaign_path.display()
        )
    })?;
    let mut calls = Vec::new();
    for batch in doc["batches"].as_array().cloned().unwrap_or_default() {
        let timezone = batch["timezone"]
            .as_str()
            .unwrap_or(&campaign.schedule.timezone)
            .to_owned();
        for c in batch["calls"].as_array().cloned().unwrap_or_default() {
            let entry = &c["entry"];
            let source = usize::try_from(c["source"].as_u64().unwrap_or(0)).unwrap_or(0);
            let mut variables = BTreeMap::new();
            let mut tags = BTreeMap::new();
            match campaign.kind {
                Kind::Robocall => {
                    for (k, v) in entry["workflow_variables"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                    {
                        variables.insert(k, v.as_str().unwrap_or_default().to_owned());
                    }
                    for (k, v) in entry["user_tag_identifiers"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                    {
                        if k != plan::KEY_TAG {
                            tags.insert(k, v.as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
                Kind::Conversation => {
                    for (k, v) in entry.as_object().cloned().unwrap_or_default() {
                        if k != "phone_number" {
                            variables.insert(k, v.as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
            }
            calls.push(Arc::new(Planned {
                call: Call {
                    key: c["key"].as_str().unwrap_or_default().to_owned(),
                    phone: entry["phone_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    source,
                    row: c["row"].as_u64().unwrap_or(0),
                    rendered: crate::render::Rendered { variables, tags },
                },
                source_label: sources
                    .get(source)
                    .and_then(|s| s["label"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                timezone: timezone.clone(),
            }));
        }
    }
    Ok(Loaded {
        campaign,
        campaign_path,
        calls,
    })
}

/// Reads the opt-out lists again, failing closed.
fn opt_outs(campaign: &Campaign, campaign_path: &Path) -> anyhow::Result<HashSet<u64>> {
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut out = HashSet::new();
    for (i, s) in campaign.exclude.iter().enumerate() {
        let rows = crate::patients::source::open(s, &base).map_err(|e| {
            anyhow::anyhow!(
                "opt-out list {}: {e}; nothing is sent while an opt-out list cannot be read",
                i + 1
            )
        })?;
        let idx = rows.header.iter().position(|h| h == s.phone_column());
        let country = s
            .default_country()
            .and_then(crate::patients::phone::country);
        for row in rows {
            let row = row.map_err(|e| {
                anyhow::anyhow!(
                    "opt-out list {}, row {}: {}; nothing is sent",
                    i + 1,
                    e.number,
                    e.message
                )
            })?;
            if let Ok(p) = crate::patients::phone::normalise(
                idx.and_then(|i| row.cells.get(i)).unwrap_or(""),
                country,
                &[],
            ) {
                out.insert(p.as_u64());
            }
        }
    }
    Ok(out)
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

/// Asks a yes/no question on the terminal.
fn confirm(question: &str) -> bool {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question} [type yes to go on] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && answer.trim().eq_ignore_ascii_case("yes")
}

/// A due call: which attempt, and the planned call.
#[derive(Debug, Clone)]
struct Due {
    /// Shared with the plan: a call's words are not copied per attempt.
    planned: Arc<Planned>,
    attempt: u32,
}

struct Shared {
    ledger: Mutex<Ledger>,
    counts: Mutex<RunCounts>,
    interrupted: Arc<AtomicBool>,
    stop: AtomicBool,
    fatal: Mutex<Option<String>>,
    target_id: String,
    campaign: Campaign,
    run_id: String,
    round: String,
    sent_calls: AtomicU64,
    /// Calls this run claimed (shared ledgers), for its heartbeat.
    claimed: AtomicU64,
    /// The shared request budget of the API key (a fingerprint, never the key).
    key_scope: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `outreach apply`. Results go to `out`; progress to the log (stderr).
pub async fn apply(
    s: &ApplySettings,
    interrupted: Arc<AtomicBool>,
    out: &mut dyn Write,
) -> anyhow::Result<ApplyEnd> {
    let loaded = load(&s.input)?;
    let campaign = loaded.campaign.clone();
    let round = campaign.round.clone().unwrap_or_default();

    // The target and its key. The key never comes from the campaign.
    let mut mock = None;
    let (base, target_id) = match &s.target {
        Target::Mock => {
            let running = mock_server::start(
                mock_server::MockConfig::default(),
                ([127, 0, 0, 1], 0).into(),
            )
            .await?;
            let url = running.url();
            mock = Some(running);
            (url, "mock".to_owned())
        }
        Target::Url(u) => (
            u.trim_end_matches('/').to_owned(),
            u.trim_end_matches('/').to_owned(),
        ),
        Target::RunningMock(u) => (u.trim_end_matches('/').to_owned(), "mock".to_owned()),
    };
    let target_id = if s.dry_run {
        format!("dry-run:{target_id}")
    } else {
        target_id
    };
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
        if !(std::io::stdin().is_terminal()
            && confirm(&format!("{question} Is this its first run?")))
        {
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
    let result = run(s, &shared, &client, &loaded, live, &base).await;
    heartbeat.abort();
    let counts = lock(&shared.counts).clone();
    let fatal = lock(&shared.fatal).clone();
    let end = match (&result, &fatal) {
        (Err(_), _) | (_, Some(_)) => None,
        (Ok(end), None) => Some(*end),
    };
    let status = match end {
        Some(ApplyEnd::Done) => "done",
        Some(ApplyEnd::Problems) => "problems",
        Some(ApplyEnd::Interrupted) => "interrupted",
        None => "failed",
    };
    lock(&shared.ledger).end_run(&run_id, status, &serde_json::to_string(&counts)?)?;
    report(
        out,
        s,
        &campaign,
        &base,
        &target_id,
        &state_path,
        &counts,
        status,
        s.json,
    )?;
    if let Some(m) = mock {
        m.shutdown().await;
    }
    if let Some(f) = fatal {
        bail!(f);
    }
    result
}

#[allow(clippy::too_many_arguments)] // one summary's facts
fn report(
    out: &mut dyn Write,
    s: &ApplySettings,
    c: &Campaign,
    base: &str,
    target: &str,
    state: &Path,
    n: &RunCounts,
    status: &str,
    json: bool,
) -> std::io::Result<()> {
    if json {
        let doc = json!({
            "format": "outreach-apply",
            "version": 1,
            "campaign": c.name,
            "round": c.round,
            "target": target,
            "dry_run": s.dry_run,
            "ledger": state.display().to_string(),
            "status": status,
            "counts": n,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        return writeln!(out);
    }
    let where_ = if target == "mock" {
        "the bundled mock server".to_owned()
    } else {
        base.to_owned()
    };
    let dry = if s.dry_run {
        " (dry run: nothing was sent)"
    } else {
        ""
    };
    writeln!(out, "Applied {} to {where_}{dry}: {status}", c.name)?;
    let rows: [(&str, u64); 17] = [
        ("calls in the plan", n.planned),
        ("placed by earlier runs", n.already_done),
        ("due in this run", n.due),
        ("left for later (--max-calls)", n.capped),
        ("retries scheduled later", n.retry_later),
        ("sent", n.sent),
        ("accepted", n.accepted),
        ("rejected", n.rejected),
        ("could not be sent", n.not_sent),
        ("in doubt", n.in_doubt),
        ("answered", n.answered),
        ("failed", n.failed),
        ("not answered", n.no_answer),
        ("outcome not known yet", n.unfollowed),
        ("earlier in-doubt calls resolved", n.resolved),
        ("opted out since the plan", n.opted_out_since_plan),
        ("held by the frequency cap", n.capped_by_frequency),
    ];
    for (label, value) in rows {
        if value > 0 || matches!(label, "calls in the plan" | "sent") {
            writeln!(out, "  {label:<32} {value:>8}")?;
        }
    }
    writeln!(
        out,
        "  {:<32} {:>8}",
        "requests (429s)",
        format!("{} ({})", n.requests, n.rate_limited)
    )?;
    writeln!(out, "Ledger: {}", state.display())
}

/// Calls due now, from the plan and the ledger's history.
fn due_calls(
    shared: &Shared,
    calls: &[Arc<Planned>],
    now: Timestamp,
) -> anyhow::Result<(Vec<Due>, u64, u64, Option<Timestamp>)> {
    let history =
        lock(&shared.ledger).history(&shared.target_id, &shared.campaign.name, &shared.round)?;
    let retry = &shared.campaign.delivery.retry;
    let mut due = Vec::new();
    let (mut done, mut later) = (0, 0);
    let mut next_retry: Option<Timestamp> = None;
    for p in calls {
        match history.get(&p.call.key) {
            None => due.push(Due {
                planned: Arc::clone(p),
                attempt: 1,
            }),
            Some(h) if h.state == CallState::NotSent => due.push(Due {
                planned: Arc::clone(p),
                attempt: h.attempt,
            }),
            Some(h) => {
                let retryable = h.state.retried_by(retry);
                let at = h
                    .retry_at
                    .as_deref()
                    .and_then(|t| t.parse::<Timestamp>().ok());
                match at {
                    Some(at) if retryable && h.attempt < retry.attempts => {
                        if at <= now {
                            due.push(Due {
                                planned: Arc::clone(p),
                                attempt: h.attempt + 1,
                            });
                        } else {
                            later += 1;
                            next_retry = Some(next_retry.map_or(at, |n: Timestamp| n.min(at)));
                        }
                    }
                    _ => done += 1,
                }
            }
        }
    }
    Ok((due, done, later, next_retry))
}

/// Waits (Ctrl-C cuts it short). The deferred `accepted` settles are committed first: other
/// runners on a shared ledger would otherwise count those calls as still being sent, and wait
/// for them.
async fn sleep_interruptible(shared: &Shared, d: Duration) {
    if let Err(e) = lock(&shared.ledger).flush() {
        tracing::warn!("{e}");
    }
    let step = Duration::from_millis(200);
    let mut left = d;
    while !left.is_zero() && !shared.interrupted.load(Ordering::SeqCst) {
        let t = left.min(step);
        tokio::time::sleep(t).await;
        left = left.saturating_sub(t);
    }
}

async fn run(
    s: &ApplySettings,
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
            if !std::io::stdin().is_terminal() {
                bail!("{question} No terminal to confirm on: pass --yes to go ahead.");
            }
            if !confirm(&format!("{question} Go ahead?")) {
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
    if end != ApplyEnd::Done {
        return end;
    }
    let c = lock(&shared.counts);
    if c.rejected + c.not_sent + c.in_doubt > 0 {
        ApplyEnd::Problems
    } else {
        ApplyEnd::Done
    }
}

/// Looks up calls left `sending` by runs that are over (crashed, or on a shared ledger, whose
/// heartbeat stopped) and calls in doubt, and settles what it can. Each is moved only from
/// the state it was read in, so runners resolving the same call never undo each other.
/// Returns how many were found never placed (they are due again).
/// `at_start`: the run's first look, which also takes the calls in doubt (later, only those
/// stopped runners left `sending`: this run's own calls in doubt are for the next run, once
/// no request can still be in flight).
async fn reconcile(
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
async fn settle_others(
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
fn settled_long_ago(a: &Attempt, grace: Duration) -> bool {
    a.updated_at
        .parse::<Timestamp>()
        .is_ok_and(|t| crate::clock::now().duration_since(t).unsigned_abs() >= grace)
}

struct Found {
    by_key: HashMap<String, voicebot_api::wire::CallStatus>,
    by_phone: HashMap<String, voicebot_api::wire::CallStatus>,
}

/// Every call of the campaign's workflow on the server, by idempotency key (robocalls carry it
/// in their tags) and by number. `None` when the server does not offer the lookup endpoints.
async fn lookup(client: &Client, campaign: &Campaign) -> anyhow::Result<Option<Found>> {
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

/// The ledger's name for an API key's request budget: a SHA-256 fingerprint of the key (the
/// key itself is never written anywhere).
fn key_budget_scope(target: &str, key: &SecretString) -> String {
    use secrecy::ExposeSecret as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("outreach-rate-budget\u{1f}{}", key.expose_secret()));
    let hex = digest[..12]
        .iter()
        .fold(String::with_capacity(24), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        });
    format!("{target}\u{1f}key:{hex}")
}

/// The share of `requests_per_second` that runners on a shared ledger use together.
const SHARED_PACE: f64 = 0.95;

/// The pace of call requests: in-process for one runner (SQLite), or a budget in the shared
/// ledger that every runner of the campaign draws on (Postgres).
enum Pacer {
    Local(governor::DefaultDirectRateLimiter),
    /// Budgets in the ledger: the campaign's (all its runners) and the API key's (every
    /// campaign sending with it), each request costing `period` seconds of both.
    Shared {
        scopes: [String; 2],
        period: f64,
    },
}

impl Pacer {
    /// Waits for the next request slot.
    async fn ready(&self, shared: &Shared) -> anyhow::Result<()> {
        match self {
            Pacer::Local(limiter) => limiter.until_ready().await,
            Pacer::Shared { scopes, period } => {
                let wait = lock(&shared.ledger)
                    .shared_only("a shared request budget")?
                    .rate_slot(scopes, *period)?;
                if wait > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
            }
        }
        Ok(())
    }
}

/// Where the next batches come from: this run's own list (SQLite: the run holds the ledger's
/// lock), or claims on the work shared by every runner (Postgres).
enum Queue<'a> {
    Local(BTreeMap<String, std::collections::VecDeque<Due>>),
    Shared {
        planned: HashMap<&'a str, &'a Arc<Planned>>,
        /// With a call cap: how many more calls this run may claim.
        budget: Option<usize>,
        /// Claims turned up calls this runner's plan does not have: it claims no more.
        foreign: bool,
    },
}

impl Queue<'_> {
    /// Whether a time zone has calls left to send (so that its calling window matters).
    fn has_work(&self, shared: &Shared, tz: &str) -> anyhow::Result<bool> {
        Ok(match self {
            Queue::Local(by_zone) => by_zone.get(tz).is_some_and(|q| !q.is_empty()),
            Queue::Shared { foreign: true, .. } => false,
            Queue::Shared { .. } => lock(&shared.ledger)
                .shared_only("shared work")?
                .zone_has_work(&shared.target_id, &shared.campaign.name, &shared.round, tz)?,
        })
    }

    /// Up to `n` due calls of one time zone.
    fn next(&mut self, shared: &Shared, tz: &str, n: usize) -> anyhow::Result<Vec<Due>> {
        match self {
            Queue::Local(by_zone) => {
                let q = by_zone.get_mut(tz).map(|q| {
                    let k = n.min(q.len());
                    q.drain(..k).collect()
                });
                Ok(q.unwrap_or_default())
            }
            Queue::Shared {
                planned,
                budget,
                foreign,
            } => {
                let n = budget.map_or(n, |b| b.min(n));
                if n == 0 || *foreign {
                    return Ok(Vec::new());
                }
                let claimed = lock(&shared.ledger).shared_only("claiming work")?.claim(
                    &shared.run_id,
                    &shared.target_id,
                    &shared.campaign.name,
                    &shared.round,
                    tz,
                    n,
                )?;
                if let Some(b) = budget {
                    *b -= claimed.len().min(*b);
                }
                shared
                    .claimed
                    .fetch_add(claimed.len() as u64, Ordering::SeqCst);
                let mut out = Vec::with_capacity(claimed.len());
                let mut unknown = Vec::new();
                for (key, attempt) in claimed {
                    match planned.get(key.as_str()) {
                        Some(p) => out.push(Due {
                            planned: Arc::clone(p),
                            attempt,
                        }),
                        None => unknown.push((key, attempt)),
                    }
                }
                if !unknown.is_empty() {
                    // Another runner planned a different version of the campaign: its calls
                    // are let go at once for the runners that have them, and this one claims
                    // no more (it would only claim them again).
                    tracing::warn!(
                        "{} claimed calls are not in this runner's plan (do all runners apply the same campaign file?); left for the others, and this runner claims no more",
                        unknown.len()
                    );
                    let unknown: Vec<(&str, u32)> =
                        unknown.iter().map(|(k, a)| (k.as_str(), *a)).collect();
                    lock(&shared.ledger)
                        .shared_only("releasing work")?
                        .release_work(&shared.target_id, &unknown)?;
                    *foreign = true;
                }
                Ok(out)
            }
        }
    }
}

/// Sends every due call in batches, paced and bounded.
async fn send_all(
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
    let mut by_zone: BTreeMap<String, std::collections::VecDeque<Due>> = BTreeMap::new();
    for d in due {
        by_zone
            .entry(d.planned.timezone.clone())
            .or_default()
            .push_back(d);
    }
    // Every zone of the plan: shared work put back by another runner may be in any of them.
    let zones: Vec<String> = if is_shared {
        let all: std::collections::BTreeSet<&str> =
            loaded.calls.iter().map(|p| p.timezone.as_str()).collect();
        all.into_iter().map(ToOwned::to_owned).collect()
    } else {
        by_zone.keys().cloned().collect()
    };
    let mut calendars: HashMap<String, Calendar> = HashMap::new();
    for tz in &zones {
        calendars.insert(
            tz.clone(),
            Calendar::new(&campaign.schedule, tz).map_err(anyhow::Error::msg)?,
        );
    }
    let opted_out = opt_outs(campaign, &loaded.campaign_path)?;
    let period = Duration::from_secs_f64(1.0 / campaign.delivery.requests_per_second);
    let pacer = if is_shared {
        // 5% under the limit: the provider counts arrivals, and requests from several
        // runners reach it with different delays after their slots.
        Pacer::Shared {
            scopes: [
                format!("{}\u{1f}campaign:{}", shared.target_id, campaign.name),
                shared.key_scope.clone(),
            ],
            period: period.as_secs_f64() / SHARED_PACE,
        }
    } else {
        let quota = governor::Quota::with_period(period)
            .context("requests_per_second is out of range")?
            .allow_burst(NonZeroU32::MIN);
        Pacer::Local(governor::RateLimiter::direct(quota))
    };
    let pacer = Arc::new(pacer);
    let mut queue = if is_shared {
        // Every runner adds the calls it finds due; each is added once and claimed once.
        let work: Vec<(&str, u32, &str)> = by_zone
            .values()
            .flatten()
            .map(|d| {
                (
                    d.planned.call.key.as_str(),
                    d.attempt,
                    d.planned.timezone.as_str(),
                )
            })
            .collect();
        lock(&shared.ledger).shared_only("shared work")?.enqueue(
            &shared.target_id,
            &campaign.name,
            &shared.round,
            &work,
        )?;
        let capped = s.max_calls.is_some() || campaign.delivery.max_calls.is_some();
        Queue::Shared {
            planned: loaded
                .calls
                .iter()
                .map(|p| (p.call.key.as_str(), p))
                .collect(),
            budget: capped.then_some(usize::try_from(total).unwrap_or(usize::MAX)),
            foreign: false,
        }
    } else {
        Queue::Local(by_zone)
    };
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
                // Before each batch: interrupted? paused? inside the window?
                loop {
                    if shared.interrupted.load(Ordering::SeqCst)
                        || shared.stop.load(Ordering::SeqCst)
                    {
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
                        if !warned_schedule {
                            let when = calendar.next_open(now).map_or_else(
                                || "never (past not_after)".to_owned(),
                                |t| calendar.local(t),
                            );
                            tracing::warn!(
                                "outside the calling window: the mock places the calls anyway; a live run would wait until {when} (--enforce-schedule to wait here too)"
                            );
                            warned_schedule = true;
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
                            sleep_interruptible(shared, at.duration_since(now).unsigned_abs())
                                .await;
                            continue;
                        }
                    }
                    break;
                }
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
        let Queue::Shared {
            budget, foreign, ..
        } = &queue
        else {
            break;
        };
        if *budget == Some(0) || *foreign {
            break;
        }
        // Shared work: claim what came free (a stopped runner's lapsed leases, calls put
        // back as never sent) until every due call is done or held by a live runner.
        let open = lock(&shared.ledger).shared_only("shared work")?.open_work(
            &shared.run_id,
            &shared.target_id,
            &campaign.name,
            &shared.round,
        )?;
        if open.unclaimed > 0 {
            if shared.claimed.load(Ordering::SeqCst) > claimed_before {
                continue;
            }
            // Nothing this runner can claim is left: the rest belongs to other plans.
            tracing::warn!(
                "{} due calls are not in this runner's plan; left for the runners that have them",
                open.unclaimed
            );
            break;
        }
        if open.leased_elsewhere == 0 {
            break;
        }
        let wait = open.next_expiry.unwrap_or(1.0).clamp(0.05, 1.0);
        sleep_interruptible(shared, Duration::from_secs_f64(wait)).await;
        if shared.interrupted.load(Ordering::SeqCst) {
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

/// Progress: a bar on a terminal (sent, accepted, in doubt, rate), periodic log lines
/// otherwise (CI logs).
struct Progress {
    total: u64,
    started: std::time::Instant,
    last: std::time::Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let now = std::time::Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} sent  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            total,
            started: now,
            last: now,
            bar,
        }
    }

    fn update(&mut self, sent: u64, counts: &RunCounts) {
        let now = std::time::Instant::now();
        let secs = now.duration_since(self.started).as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)] // a rate for people
        let rate = sent as f64 / secs;
        if let Some(bar) = &self.bar {
            bar.set_position(sent);
            bar.set_message(format!(
                "accepted {}, in doubt {}, rejected {}, {rate:.1} calls/s",
                counts.accepted, counts.in_doubt, counts.rejected
            ));
            if sent >= self.total {
                bar.finish_and_clear();
            }
            return;
        }
        if now.duration_since(self.last) >= Duration::from_secs(2) || sent == self.total {
            tracing::info!(
                "sent {sent}/{} calls ({rate:.1} calls/s): accepted {}, in doubt {}, rejected {}",
                self.total,
                counts.accepted,
                counts.in_doubt,
                counts.rejected
            );
            self.last = now;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Opt-outs (read again) and the frequency cap, checked right before the write-ahead: the
/// calls of `chunk` still to send. The others leave the shared work.
fn recheck(shared: &Shared, opted_out: &HashSet<u64>, chunk: Vec<Due>) -> anyhow::Result<Vec<Due>> {
    let campaign = &shared.campaign;
    let mut batch: Vec<Due> = Vec::with_capacity(chunk.len());
    let mut dropped: Vec<(String, u32)> = Vec::new();
    for d in chunk {
        // The plan's number is E.164 already: its digits are the opt-out lists' key.
        let n = d
            .planned
            .call
            .phone
            .get(1..)
            .and_then(|digits| digits.parse::<u64>().ok())
            .unwrap_or(0);
        if opted_out.contains(&n) {
            lock(&shared.counts).opted_out_since_plan += 1;
            dropped.push((d.planned.call.key.clone(), d.attempt));
            continue;
        }
        if let Some(cap) = &campaign.delivery.frequency_cap {
            let window = validate::parse_duration(&cap.per).unwrap_or_default();
            let since = crate::clock::now()
                .checked_sub(window)
                .unwrap_or(Timestamp::MIN)
                .to_string();
            let recent = lock(&shared.ledger).recent_calls(
                &shared.target_id,
                &d.planned.call.phone,
                &since,
            )?;
            if recent >= u64::from(cap.calls) {
                lock(&shared.counts).capped_by_frequency += 1;
                dropped.push((d.planned.call.key.clone(), d.attempt));
                continue;
            }
        }
        batch.push(d);
    }
    if !dropped.is_empty() {
        let dropped: Vec<(&str, u32)> = dropped.iter().map(|(k, a)| (k.as_str(), *a)).collect();
        if let Some(pg) = lock(&shared.ledger).shared() {
            pg.drop_work(&shared.target_id, &dropped)?;
        }
    }
    Ok(batch)
}

/// Records the calls of several batches `sending` in one transaction, before any of their
/// requests leaves, and returns the batches with only the calls recorded: a call another
/// runner recorded first (a lease that ran out while this one held it) is theirs to send.
fn write_ahead(shared: &Shared, group: Vec<Vec<Due>>) -> anyhow::Result<Vec<Vec<Due>>> {
    let recorded = {
        let new: Vec<NewCall<'_>> = group
            .iter()
            .flatten()
            .map(|d| NewCall {
                key: &d.planned.call.key,
                attempt: d.attempt,
                phone: &d.planned.call.phone,
                source: &d.planned.source_label,
                row: d.planned.call.row,
            })
            .collect();
        let recorded = lock(&shared.ledger).begin(
            &shared.run_id,
            &shared.target_id,
            &shared.campaign.name,
            &shared.round,
            &new,
        )?;
        if recorded.len() == new.len() {
            return Ok(group);
        }
        recorded.into_iter().collect::<HashSet<usize>>()
    };
    let mut taken = 0;
    let mut i = 0;
    let mut out = Vec::with_capacity(group.len());
    for mut batch in group {
        batch.retain(|_| {
            i += 1;
            let keep = recorded.contains(&(i - 1));
            taken += usize::from(!keep);
            keep
        });
        if !batch.is_empty() {
            out.push(batch);
        }
    }
    lock(&shared.counts).taken_elsewhere += taken as u64;
    Ok(out)
}

/// Calls written ahead whose request never left (the run stopped first): provably not sent.
fn settle_unsent(shared: &Shared, calls: &[Due]) -> anyhow::Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let attempts: Vec<(&str, u32)> = calls
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect();
    lock(&shared.ledger).settle(
        &shared.target_id,
        &attempts,
        CallState::NotSent,
        None,
        Some("the run stopped before this call was sent"),
    )?;
    Ok(())
}

/// Sends one batch, already written ahead: POST with the retries the failure allows, then
/// settle.
async fn send_batch(
    shared: &Shared,
    client: &Client,
    batch: &[Due],
    dry_run: bool,
    pacer: &Pacer,
) -> anyhow::Result<()> {
    let campaign = &shared.campaign;
    let mut attempts: Vec<(&str, u32)> = batch
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect();
    // On a shared ledger, right before the request: still ours? (A runner stalled past its
    // lease may have had these looked up and sent by another.)
    let owned: Vec<Due>;
    let mut batch = batch;
    if !dry_run && lock(&shared.ledger).is_shared() {
        let mine = lock(&shared.ledger)
            .shared_only("checking claims")?
            .still_mine(&shared.run_id, &shared.target_id, &attempts)?;
        if mine.len() < batch.len() {
            lock(&shared.counts).taken_elsewhere += (batch.len() - mine.len()) as u64;
            tracing::warn!(
                "{} calls written ahead by this runner were taken over by another (this runner stalled past its lease); not sent here",
                batch.len() - mine.len()
            );
            owned = mine.iter().map(|&i| batch[i].clone()).collect();
            batch = &owned;
            attempts = mine.iter().map(|&i| attempts[i]).collect();
            if batch.is_empty() {
                return Ok(());
            }
        }
    }
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
fn request_body(campaign: &Campaign, batch: &[Due]) -> Value {
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

/// Follows accepted calls to their outcome through the batch endpoint, with backoff, until
/// all are final or the follow deadline passes.
async fn follow(s: &ApplySettings, shared: &Arc<Shared>, client: &Client) -> anyhow::Result<()> {
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
                    .then(|| validate::parse_duration(&retry.delay))
                    .flatten()
                    .and_then(|d| crate::clock::now().checked_add(d).ok())
                    .map(|t| t.to_string());
                #[allow(clippy::cast_precision_loss)] // seconds of a phone call
                let duration = status.call_duration_in_seconds.map(|d| d as f64);
                lock(&shared.ledger).outcome(
                    &shared.target_id,
                    &a.key,
                    a.attempt,
                    state,
                    Some(&status.call_id),
                    duration,
                    status.reply.as_deref(),
                    retry_at.as_deref(),
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
