//! The ledger: what was sent, to whom, and what became of it. Two stores behind one type,
//! [`Ledger`], the one place that picks the store (`sqlite.rs`, `postgres/`):
//! SQLite (bundled; the default for one machine), WAL with full sync, so a committed row
//! survives a crash and a power loss; and Postgres (`--state postgres://…` or
//! `OUTREACH_DATABASE_URL`), shared by several runners, which claim the due calls in leased
//! batches and share one request budget (see docs/scale-out.md).
//!
//! Write-ahead protocol: a call is recorded `sending` (committed) before its request leaves;
//! the answer moves it to `accepted`, `rejected`, `not_sent` or `in_doubt`; following the
//! batch moves accepted calls to `answered`, `failed` or `no_answer`. A call still `sending`
//! after a crash is in doubt and is never re-sent blindly.
//!
//! Every row carries its target (the API base URL, or `mock`, or `dry-run`), so runs against
//! the mock or dry runs never count toward the live target.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

mod async_ledger;
mod call_language;
mod callbacks;
mod files;
mod list_values;
mod location;
mod mark;
mod model;
mod postgres;
mod sqlite;
mod targets;
mod workflows;

pub use async_ledger::AsyncLedger;
pub use call_language::BadLanguage;
pub use callbacks::{CallOutcome, CallbackOutcomes, KEPT_MAX, Recorded};
pub use list_values::{BadListValues, ListValues, NO_LIST_VALUES};
pub use location::{Location, LocationError};
pub use model::{
    Attempt, BadTime, CallState, KeyHistory, LedgerError, NewCall, OpenWork, RunStatus, Runner,
    StateCount, UnknownState,
};
use model::{CountRow, StoredSeconds, StoredTime};
pub use postgres::{PG_SCHEMA_VERSION, PgError, Postgres};
pub use sqlite::SCHEMA_VERSION;
use sqlite::Sqlite;
pub use targets::TargetsRewritten;
pub use workflows::{BindingKey, BindingProblem, FIELD_MAX, PUSHED_MAX, WorkflowBinding};

#[cfg(test)]
pub(crate) use postgres::tests::TestDb;

/// The store under a ledger: the one place that tells SQLite and Postgres apart.
enum Store {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// The ledger, on SQLite or Postgres.
pub struct Ledger {
    store: Store,
    /// `accepted` settles not committed yet: they ride with the next write transaction.
    deferred: Vec<Deferred>,
}

/// An `accepted` settle waiting for the next commit (see [`Ledger::accept_later`]).
#[derive(Clone)]
struct Deferred {
    target: String,
    attempts: Vec<(String, u32)>,
    batch_id: String,
    at: Timestamp,
}

/// The time written in the ledger's rows: RFC 3339 text (`Timestamp`'s Display).
fn now() -> String {
    crate::clock::now().to_string()
}

impl Ledger {
    /// Opens the ledger at `location` and applies migrations: a SQLite file (created if
    /// needed, owner-only), or a Postgres database (a URL or a connection string): see
    /// [`Location`], which refuses a location that could be read either way.
    pub fn open(location: &Path) -> Result<Self, LedgerError> {
        async_ledger::not_on_an_executor();
        let store = match Location::of(location)? {
            Location::Postgres(database) => Store::Postgres(Postgres::open(&database)?),
            Location::File(path) => Store::Sqlite(Sqlite::open(&path)?),
        };
        Ok(Ledger {
            store,
            deferred: Vec::new(),
        })
    }

    /// Opens the ledger at `location` as [`Ledger::open`] does, but accepts that a SQLite
    /// ledger lost records (its `-wal`, or a newer copy): its mark is rewritten to what it
    /// holds, so the next apply places again the calls it forgot. Takes the run lock first
    /// (no run may be at work meanwhile). Postgres keeps no mark: as [`Ledger::open`].
    pub fn open_accepting_loss(location: &Path) -> Result<Self, LedgerError> {
        async_ledger::not_on_an_executor();
        let Location::File(path) = Location::of(location)? else {
            return Ledger::open(location);
        };
        Ok(Ledger {
            store: Store::Sqlite(Sqlite::accept_loss(&path)?),
            deferred: Vec::new(),
        })
    }

    /// The store, for a statement: never from an async executor's thread (see
    /// [`AsyncLedger`]).
    fn store(&self) -> &Store {
        async_ledger::not_on_an_executor();
        &self.store
    }

    fn store_mut(&mut self) -> &mut Store {
        async_ledger::not_on_an_executor();
        &mut self.store
    }

    /// The ledger's file, or its Postgres URL with the password hidden.
    pub fn path(&self) -> &Path {
        match &self.store {
            Store::Sqlite(s) => s.path(),
            Store::Postgres(p) => p.path(),
        }
    }

    /// Whether several runners may share this ledger (Postgres): due calls are then claimed
    /// from the database in leased batches, and the request budget is shared.
    pub fn is_shared(&self) -> bool {
        self.shared().is_some()
    }

    /// The shared (Postgres) store, for what only shared runners do: claim work under
    /// leases, check their calls are still theirs, and draw on the shared request budget.
    /// `None` on SQLite, where one run holds the lock and does none of it.
    pub fn shared(&self) -> Option<&Postgres> {
        match &self.store {
            Store::Sqlite(_) => None,
            Store::Postgres(p) => Some(p),
        }
    }

    /// The shared (Postgres) store, for `what` only shared runners do; on SQLite, an error.
    pub fn shared_only(&self, what: &'static str) -> Result<&Postgres, LedgerError> {
        self.shared().ok_or_else(|| LedgerError::NotShared {
            path: self.path().to_path_buf(),
            what,
        })
    }

    /// Applies the versioned migrations this build knows.
    pub fn migrate(&mut self) -> Result<(), LedgerError> {
        match self.store_mut() {
            Store::Sqlite(s) => s.migrate(),
            Store::Postgres(p) => p.migrate(),
        }
    }

    /// What this open's migration made of the stored targets (issue 14, class 4: each in its
    /// normal form), when it ran the migration that does it; `None` when the ledger was at
    /// that version already.
    pub fn targets_rewritten(&self) -> Option<&TargetsRewritten> {
        match &self.store {
            Store::Sqlite(s) => s.rewritten(),
            Store::Postgres(p) => p.rewritten(),
        }
    }

    /// Takes the ledger's run lock for this process, or says who holds it (the live runs it
    /// records). The lock is on the database file itself, whatever path reached it, and
    /// blocks no other command's reads or writes. Released when the ledger is dropped, or by
    /// the OS when the process dies. A Postgres ledger has no lock: its runners claim work
    /// with leases instead.
    pub fn lock(&mut self) -> Result<(), LedgerError> {
        match self.store_mut() {
            Store::Sqlite(s) => s.lock(),
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Records that campaign `name` is the file at `path` (relative to its repository), or
    /// refuses when the ledger has it as another file
    /// ([`LedgerError::CampaignElsewhere`]), unless that file is among `moved_from` (the
    /// campaign was moved or renamed: the new path is recorded).
    pub fn claim_campaign(
        &self,
        name: &str,
        path: &str,
        moved_from: &[String],
    ) -> Result<(), LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.claim_campaign(name, path, moved_from),
            Store::Postgres(p) => p.claim_campaign(name, path, moved_from),
        }
    }

    /// Starts a run and returns its id. `lease` is how long its claims and heartbeat hold
    /// before other runners take its work over.
    pub fn start_run(
        &mut self,
        target: &str,
        campaign: &str,
        round: &str,
        lease: std::time::Duration,
    ) -> Result<String, LedgerError> {
        let id = uuid::Uuid::now_v7().to_string();
        let lease = lease.as_secs_f64();
        match self.store_mut() {
            Store::Sqlite(s) => s.start_run(&id, target, campaign, round, lease),
            Store::Postgres(p) => p.start_run(&id, target, campaign, round, lease),
        }?;
        Ok(id)
    }

    /// Records that a run is alive, how many calls it has claimed, and renews the leases of
    /// the calls it holds.
    pub fn heartbeat(&self, run_id: &str, claimed: u64) -> Result<(), LedgerError> {
        let claimed = i64::try_from(claimed).unwrap_or(i64::MAX);
        match self.store() {
            Store::Sqlite(s) => s.heartbeat(run_id, claimed),
            Store::Postgres(p) => p.heartbeat(run_id, claimed),
        }
    }

    /// Ends a run with a status (`done`, `problems`, `interrupted`, `failed`) and a detail,
    /// and lets go of the calls it claimed but did not send.
    pub fn end_run(
        &self,
        run_id: &str,
        status: RunStatus,
        detail: &str,
    ) -> Result<(), LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.end_run(run_id, status.as_str(), detail),
            Store::Postgres(p) => p.end_run(run_id, status.as_str(), detail),
        }
    }

    /// Runs still marked running (of one campaign, or all): live runners, and dead ones whose
    /// heartbeat stopped.
    pub fn runners(&self, campaign: Option<&str>) -> Result<Vec<Runner>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.runners(campaign),
            Store::Postgres(p) => p.runners(campaign),
        }
    }

    /// Whether this ledger has recorded any call of the campaign under the target.
    pub fn knows_campaign(&self, target: &str, campaign: &str) -> Result<bool, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.knows_campaign(target, campaign),
            Store::Postgres(p) => p.knows_campaign(target, campaign),
        }
    }

    /// The latest attempt of every key of a campaign round under a target.
    pub fn history(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<HashMap<String, KeyHistory>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.history(target, campaign, round),
            Store::Postgres(p) => p.history(target, campaign, round),
        }
    }

    /// Records calls as `sending`, in one transaction, before their request leaves, and
    /// returns the positions (in `calls`) of those it recorded: a call already recorded (sent
    /// by another runner, or by this one earlier) is not, and must not be sent. The
    /// transaction also commits the `accepted` settles deferred since the last commit.
    pub fn begin(
        &mut self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[NewCall<'_>],
    ) -> Result<Vec<usize>, LedgerError> {
        async_ledger::not_on_an_executor();
        // A language the ledger could not read back is refused before anything is written.
        if let Some(problem) = calls
            .iter()
            .find_map(|c| c.language.and_then(|l| call_language::check(l).err()))
        {
            return Err(LedgerError::Language {
                path: self.path().to_path_buf(),
                problem,
            });
        }
        let deferred = &self.deferred;
        let recorded = match &mut self.store {
            Store::Sqlite(s) => s.begin(run_id, target, campaign, round, calls, deferred),
            Store::Postgres(p) => p.begin(run_id, target, campaign, round, calls, deferred),
        };
        self.drop_deferred_if_fenced(&recorded);
        let recorded = recorded?;
        self.deferred.clear();
        Ok(recorded)
    }

    /// Records that attempts were accepted (the server answered with `batch_id`), to be
    /// committed with the next write transaction ([`Ledger::begin`], [`Ledger::settle`]) or
    /// [`Ledger::flush`] rather than by a commit (an fsync) of its own.
    ///
    /// Safe for exactly-once: the write-ahead `sending` row is already committed, and a crash
    /// before the deferred commit leaves the attempt `sending`, which the next run treats as in
    /// doubt and looks up on the server (where it is found), as after a crash in flight. Reads
    /// of states ([`Ledger::attempts`], [`Ledger::history`], …) see it only after the commit:
    /// flush before reading.
    pub fn accept_later(&mut self, target: &str, attempts: &[(&str, u32)], batch_id: &str) {
        self.deferred.push(Deferred {
            target: target.to_owned(),
            attempts: attempts
                .iter()
                .map(|(k, a)| ((*k).to_owned(), *a))
                .collect(),
            batch_id: batch_id.to_owned(),
            at: crate::clock::now(),
        });
    }

    /// Commits the deferred `accepted` settles, if any (a settle of no attempts: it commits
    /// them, and keeps them for the next write if the commit fails).
    pub fn flush(&mut self) -> Result<(), LedgerError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        self.settle("", &[], CallState::Accepted, None, None)
    }

    /// Moves attempts to a state, with the batch id and a message where known. On a shared
    /// ledger, attempts moved to `not_sent` go back among the work to claim.
    pub fn settle(
        &mut self,
        target: &str,
        attempts: &[(&str, u32)],
        state: CallState,
        batch_id: Option<&str>,
        message: Option<&str>,
    ) -> Result<(), LedgerError> {
        // The deferred settles are kept for the next write if this one fails.
        async_ledger::not_on_an_executor();
        let deferred = &self.deferred;
        let settled = match &mut self.store {
            Store::Sqlite(s) => s.settle(target, attempts, state, batch_id, message, deferred),
            Store::Postgres(p) => p.settle(target, attempts, state, batch_id, message, deferred),
        };
        self.drop_deferred_if_fenced(&settled);
        settled?;
        self.deferred.clear();
        Ok(())
    }

    /// A run past its lease can record nothing (issue 14, class 11): its deferred `accepted`
    /// settles are dropped, their calls left `sending` for the other runners, who find them
    /// on the server.
    fn drop_deferred_if_fenced<T>(&mut self, r: &Result<T, LedgerError>) {
        if matches!(r, Err(LedgerError::LeaseLost { .. })) {
            self.deferred.clear();
        }
    }

    /// Moves one attempt, as it was read (`read`: its state, run and last update), to another
    /// state, unless anything touched it since: another runner resolving the same call, or
    /// taking it up again and sending it. Returns whether it moved.
    pub fn resolve(
        &mut self,
        target: &str,
        read: &Attempt,
        to: CallState,
        batch_id: Option<&str>,
        message: &str,
    ) -> Result<bool, LedgerError> {
        self.flush()?;
        match self.store() {
            Store::Sqlite(s) => s.resolve(target, read, to, batch_id, message),
            Store::Postgres(p) => p.resolve(target, read, to, batch_id, message),
        }
    }

    /// Records a call's final (or newly known) outcome, unless the call has a final one
    /// already (answered, failed, unanswered, or never placed): an outcome the receiver
    /// recorded meanwhile is never overwritten by a lookup.
    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    pub fn outcome(
        &mut self,
        target: &str,
        key: &str,
        attempt: u32,
        state: CallState,
        call_id: Option<&str>,
        duration: Option<Duration>,
        reply: Option<&str>,
        retry_at: Option<Timestamp>,
    ) -> Result<(), LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.outcome(
                target, key, attempt, state, call_id, duration, reply, retry_at,
            ),
            Store::Postgres(p) => p.outcome(
                target, key, attempt, state, call_id, duration, reply, retry_at,
            ),
        }
    }

    /// Attempts in a state, for a campaign round under a target.
    pub fn attempts(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        states: &[CallState],
    ) -> Result<Vec<Attempt>, LedgerError> {
        let all = match self.store() {
            Store::Sqlite(s) => s.attempts(target, campaign, round),
            Store::Postgres(p) => p.attempts(target, campaign, round),
        }?;
        Ok(all
            .into_iter()
            .filter(|a| states.is_empty() || states.contains(&a.state))
            .collect())
    }

    /// Calls to look up on the server: those left `sending` by runs that are over (a crash:
    /// this run holds the SQLite lock, so every other run is) or, on Postgres, whose heartbeat
    /// stopped for longer than their lease; and, with `in_doubt`, the calls in doubt.
    pub fn unresolved(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: &str,
        in_doubt: bool,
    ) -> Result<Vec<Attempt>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.unresolved(target, campaign, round, run_id, in_doubt),
            Store::Postgres(p) => p.unresolved(target, campaign, round, run_id, in_doubt),
        }
    }

    /// How many attempts that may have reached `phone` were recorded since `since`, across
    /// every campaign under the target: the frequency cap's count.
    pub fn recent_calls(
        &self,
        target: &str,
        phone: &str,
        since: Timestamp,
    ) -> Result<u64, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.recent_calls(target, phone, since),
            Store::Postgres(p) => p.recent_calls(target, phone, since),
        }
    }

    /// Pauses sending of a campaign for every run on this ledger.
    pub fn pause(&self, campaign: &str) -> Result<(), LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.pause(campaign),
            Store::Postgres(p) => p.pause(campaign),
        }
    }

    /// Resumes a paused campaign. Returns whether it was paused.
    pub fn resume(&self, campaign: &str) -> Result<bool, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.resume(campaign),
            Store::Postgres(p) => p.resume(campaign),
        }
    }

    /// Since when a campaign is paused, if it is.
    pub fn paused_since(&self, campaign: &str) -> Result<Option<Timestamp>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.paused_since(campaign),
            Store::Postgres(p) => p.paused_since(campaign),
        }
    }

    /// Counts per state for every campaign round and target (or one campaign).
    pub fn counts(&self, campaign: Option<&str>) -> Result<Vec<StateCount>, LedgerError> {
        let rows = match self.store() {
            Store::Sqlite(s) => s.counts(campaign),
            Store::Postgres(p) => p.counts(campaign),
        }?;
        Ok(StateCount::group(rows))
    }

    /// Records the outcomes of the service's completion callbacks, all in one transaction
    /// (a receiver's group commit): one [`Recorded`] per callback, in order. A callback whose
    /// batch the ledger does not know is kept and matched again by
    /// [`Ledger::rematch_callbacks`]. Idempotent: see `callbacks/`.
    pub fn record_callbacks(
        &mut self,
        batch: &[CallbackOutcomes],
    ) -> Result<Vec<Recorded>, LedgerError> {
        match self.store_mut() {
            Store::Sqlite(s) => s.callbacks(|tx| callbacks::record(tx, batch)),
            Store::Postgres(p) => {
                let batch = batch.to_vec();
                p.callbacks(move |tx| callbacks::record(tx, &batch))
            }
        }
    }

    /// Keeps a callback body the receiver refused (bad JSON, an unknown shape), redacted by
    /// it, for inspection; at most [`KEPT_MAX`] are kept, and `purge` removes them.
    pub fn keep_refused_callback(
        &mut self,
        received_at: Timestamp,
        reason: &str,
        redacted_body: &str,
    ) -> Result<(), LedgerError> {
        match self.store_mut() {
            Store::Sqlite(s) => {
                s.callbacks(|tx| callbacks::keep_refused(tx, received_at, reason, redacted_body))
            }
            Store::Postgres(p) => {
                let (reason, body) = (reason.to_owned(), redacted_body.to_owned());
                p.callbacks(move |tx| callbacks::keep_refused(tx, received_at, &reason, &body))
            }
        }
    }

    /// Matches the kept callbacks again, now that more batch ids may be recorded (or
    /// in-doubt calls looked up): at most `limit` of them. Returns the calls settled.
    pub fn rematch_callbacks(&mut self, limit: u64) -> Result<u64, LedgerError> {
        match self.store_mut() {
            Store::Sqlite(s) => s.callbacks(|tx| callbacks::rematch(tx, limit)),
            Store::Postgres(p) => p.callbacks(move |tx| callbacks::rematch(tx, limit)),
        }
    }

    /// The numbers whose reply to a call opted them out (a campaign's `opt_out_replies`):
    /// plan and apply skip them like a campaign's own opt-out lists.
    pub fn reply_opt_outs(&self) -> Result<Vec<String>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.reply_opt_outs(),
            Store::Postgres(p) => p.reply_opt_outs(),
        }
    }

    /// Records which reply options opt a number out for campaign `name` (after
    /// [`Ledger::claim_campaign`]), so that the receiver, which reads no campaign, knows.
    pub fn set_opt_out_replies(&self, name: &str, replies: &[String]) -> Result<(), LedgerError> {
        let json = serde_json::to_string(replies).unwrap_or_else(|_| "[]".to_owned());
        match self.store() {
            Store::Sqlite(s) => s.set_opt_out_replies(name, &json),
            Store::Postgres(p) => p.set_opt_out_replies(name, &json),
        }
    }

    /// The binding of a declared workflow on a target, if any (see `workflows/`).
    pub fn workflow_binding(
        &self,
        key: &BindingKey<'_>,
    ) -> Result<Option<WorkflowBinding>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.workflows(|tx| workflows::BindingTx::binding(tx, key)),
            Store::Postgres(p) => {
                let key = workflows::OwnedKey::of(key);
                p.workflows(move |tx| workflows::BindingTx::binding(tx, &key.key()))
            }
        }
    }

    /// Binds the key to a newly created workflow (and records it among the workflows ever
    /// bound for the key), only if the key is still bound to `previous` (`None`: not
    /// bound): a compare-and-set, so that two runners on one Postgres ledger never both
    /// think they bound it. Returns false, having changed nothing, when someone else bound
    /// it first: the caller reads it again. A binding that is not one (see
    /// [`BindingProblem`]) is refused before anything is written.
    pub fn bind_workflow(
        &self,
        key: &BindingKey<'_>,
        previous: Option<&str>,
        binding: &WorkflowBinding,
    ) -> Result<bool, LedgerError> {
        workflows::check(key, binding).map_err(|problem| LedgerError::Binding {
            path: self.path().to_path_buf(),
            problem,
        })?;
        match self.store() {
            Store::Sqlite(s) => s.workflows(|tx| workflows::bind(tx, key, previous, binding)),
            Store::Postgres(p) => {
                let key = workflows::OwnedKey::of(key);
                let previous = previous.map(str::to_owned);
                let binding = binding.clone();
                p.workflows(move |tx| {
                    workflows::bind(tx, &key.key(), previous.as_deref(), &binding)
                })
            }
        }
    }

    /// Every workflow id ever bound for this target and campaign (any name, any language),
    /// the most recently bound first.
    pub fn bound_workflow_ids(
        &self,
        target: &str,
        campaign: &str,
    ) -> Result<Vec<String>, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => {
                s.workflows(|tx| workflows::BindingTx::bound_ids(tx, target, campaign))
            }
            Store::Postgres(p) => {
                let (target, campaign) = (target.to_owned(), campaign.to_owned());
                p.workflows(move |tx| workflows::BindingTx::bound_ids(tx, &target, &campaign))
            }
        }
    }

    /// Deletes patient data (numbers, source rows, replies) from attempts last updated before
    /// `before`, keeping their states and outcomes so counts stay right. Returns how many
    /// attempts were purged. Workflow bindings are kept: they hold no patient data.
    pub fn purge(&self, before: Timestamp) -> Result<u64, LedgerError> {
        match self.store() {
            Store::Sqlite(s) => s.purge(before),
            Store::Postgres(p) => p.purge(before),
        }
    }
}

#[cfg(test)]
impl Ledger {
    /// A crash, for tests: the ledger closed as a killed process leaves it, its deferred
    /// settles not committed and its run not ended.
    pub(crate) fn crash(mut self) {
        self.deferred.clear();
    }
}

impl Drop for Ledger {
    /// Best effort: deferred settles not committed are left `sending`, which the next run
    /// resolves by looking them up (see [`Ledger::accept_later`]).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// This machine's name, for lock holders and runs.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}
