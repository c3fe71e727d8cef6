//! The ledger: what was sent, to whom, and what became of it. Two backends behind one type:
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

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, params};

mod pg;

pub use pg::{PG_SCHEMA_VERSION, PgError};

/// The SQLite schema version this build writes.
pub const SCHEMA_VERSION: i64 = 3;

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallState {
    /// Recorded before the request left; its fate is unknown until the answer arrives.
    Sending,
    /// The server accepted the request; the call's outcome is not known yet.
    Accepted,
    /// The server may or may not have placed the call (5xx, lost answer, crash).
    InDoubt,
    /// The server refused the request (4xx); no call was placed.
    Rejected,
    /// Provably never reached the server; may be sent again.
    NotSent,
    /// Final: the patient answered.
    Answered,
    /// Final: the call failed.
    Failed,
    /// Final: nobody answered.
    NoAnswer,
}

impl CallState {
    pub const ALL: [CallState; 8] = [
        CallState::Sending,
        CallState::Accepted,
        CallState::InDoubt,
        CallState::Rejected,
        CallState::NotSent,
        CallState::Answered,
        CallState::Failed,
        CallState::NoAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Sending => "sending",
            CallState::Accepted => "accepted",
            CallState::InDoubt => "in_doubt",
            CallState::Rejected => "rejected",
            CallState::NotSent => "not_sent",
            CallState::Answered => "answered",
            CallState::Failed => "failed",
            CallState::NoAnswer => "no_answer",
        }
    }

    pub fn parse(s: &str) -> Option<CallState> {
        CallState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether this attempt may have reached the patient (counts for exactly-once and caps).
    pub fn may_have_called(self) -> bool {
        !matches!(self, CallState::Rejected | CallState::NotSent)
    }

    /// Whether a retry policy may call again after an attempt that ended in this state
    /// (attempts left aside).
    pub fn retried_by(self, retry: &crate::campaign::Retry) -> bool {
        use crate::campaign::RetryOutcome;
        match self {
            CallState::Failed => retry.outcomes.contains(&RetryOutcome::Failed),
            CallState::NoAnswer => retry.outcomes.contains(&RetryOutcome::NoAnswer),
            _ => false,
        }
    }

    /// Whether the outcome is final.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallState::Answered | CallState::Failed | CallState::NoAnswer
        )
    }
}

/// A ledger error.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the ledger {}: {error}", path.display())]
    Sql {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("the ledger {url}: {error}")]
    Postgres {
        /// The database, its password hidden.
        url: String,
        error: PgError,
    },
    #[error("the ledger {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the ledger {} is in use by another run ({holder}); wait for it to finish, or stop it", path.display())]
    Locked { path: PathBuf, holder: String },
    #[error("the ledger {} was written by a newer outreach (schema {found}, this build knows {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

/// One call to record as `sending`.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub key: &'a str,
    pub attempt: u32,
    pub phone: &'a str,
    pub source: &'a str,
    pub row: u64,
}

/// The history of one key under a target.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyHistory {
    /// The highest attempt recorded.
    pub attempt: u32,
    pub state: CallState,
    /// When a retry becomes due (RFC 3339), for calls that ended failed or unanswered.
    pub retry_at: Option<String>,
}

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub campaign: String,
    pub round: String,
    pub key: String,
    pub attempt: u32,
    pub phone: Option<String>,
    pub state: CallState,
    pub batch_id: Option<String>,
    pub call_id: Option<String>,
    pub reply: Option<String>,
    pub duration: Option<f64>,
    pub message: Option<String>,
    pub source: Option<String>,
    pub row: Option<u64>,
    pub created_at: String,
    pub updated_at: String,
    /// The run that last recorded it.
    pub run_id: String,
}

/// Counts per state for one campaign, round and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    pub target: String,
    pub campaign: String,
    pub round: String,
    pub counts: Vec<(CallState, u64)>,
}

/// A run still marked running: a live runner, or one that died (its heartbeat stopped).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Runner {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    pub campaign: String,
    pub round: String,
    pub target: String,
    pub started_at: String,
    /// Seconds since its last heartbeat.
    pub heartbeat_age: f64,
    /// Calls it has claimed so far.
    pub claimed: u64,
    /// Whether its heartbeat is within its lease (a dead runner's work is taken over after).
    pub alive: bool,
}

/// Due work not done yet, seen from one runner (Postgres).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OpenWork {
    /// Calls nobody holds: claim them.
    pub unclaimed: u64,
    /// Calls other runners hold a live lease on (claimed, not yet recorded as sent).
    pub leased_elsewhere: u64,
    /// Seconds until the first of those leases runs out.
    pub next_expiry: Option<f64>,
}

enum Backend {
    Sqlite(Connection),
    Postgres(pg::Pg),
}

/// The ledger, on SQLite or Postgres.
pub struct Ledger {
    backend: Backend,
    /// The SQLite file, or the Postgres URL with its password hidden.
    path: PathBuf,
    lock: Option<File>,
    /// `accepted` settles not committed yet: they ride with the next write transaction.
    deferred: Vec<Deferred>,
    /// The run started on this connection: settles touch only its rows (Postgres).
    run: Option<String>,
}

/// An `accepted` settle waiting for the next commit (see [`Ledger::accept_later`]).
#[derive(Clone)]
struct Deferred {
    target: String,
    attempts: Vec<(String, u32)>,
    batch_id: String,
    at: String,
}

const SETTLE_SQL: &str = "UPDATE calls SET state = ?3, batch_id = COALESCE(?4, batch_id), message = COALESCE(?5, message), updated_at = ?6
     WHERE target = ?1 AND key = ?2 AND attempt = ?7";

/// Only the run's own rows: a runner that stalled past its lease does not overwrite what
/// another runner made of its calls.
const PG_SETTLE_SQL: &str = "UPDATE calls SET state = $3, batch_id = COALESCE($4, batch_id), message = COALESCE($5, message), updated_at = $6
     FROM unnest($2::text[], $7::int[]) AS u(key, attempt)
     WHERE calls.target = $1 AND calls.key = u.key AND calls.attempt = u.attempt
       AND ($8::text IS NULL OR calls.run_id = $8)
     RETURNING calls.key, calls.attempt";

/// A settle of `not_sent` puts the calls back among the work to claim.
const PG_REOPEN_SQL: &str = "UPDATE work SET done = false, claimed_by = NULL, lease_until = NULL
     FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
     WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt";

/// Writes the deferred `accepted` settles inside a caller's transaction.
fn write_deferred(tx: &rusqlite::Transaction<'_>, deferred: &[Deferred]) -> rusqlite::Result<()> {
    if deferred.is_empty() {
        return Ok(());
    }
    let mut stmt = tx.prepare_cached(SETTLE_SQL)?;
    for d in deferred {
        for (key, attempt) in &d.attempts {
            stmt.execute(params![
                d.target,
                key,
                CallState::Accepted.as_str(),
                d.batch_id,
                None::<&str>,
                d.at,
                attempt
            ])?;
        }
    }
    Ok(())
}

fn pg_keys(attempts: &[(String, u32)]) -> (Vec<String>, Vec<i32>) {
    attempts
        .iter()
        .map(|(k, a)| (k.clone(), i32::try_from(*a).unwrap_or(i32::MAX)))
        .unzip()
}

fn owned(attempts: &[(&str, u32)]) -> Vec<(String, u32)> {
    attempts
        .iter()
        .map(|(k, a)| ((*k).to_owned(), *a))
        .collect()
}

/// Settles attempts in a Postgres transaction (and puts `not_sent` ones back as work).
#[allow(clippy::too_many_arguments)] // one UPDATE's parameters
fn pg_settle(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    attempts: &[(String, u32)],
    state: CallState,
    batch_id: Option<&str>,
    message: Option<&str>,
    at: &str,
    run: Option<&str>,
) -> Result<(), postgres::Error> {
    if attempts.is_empty() {
        return Ok(());
    }
    let (keys, nums) = pg_keys(attempts);
    let moved = tx.query(
        PG_SETTLE_SQL,
        &[
            &target,
            &keys,
            &state.as_str(),
            &batch_id,
            &message,
            &at,
            &nums,
            &run,
        ],
    )?;
    if state == CallState::NotSent && !moved.is_empty() {
        let (keys, nums): (Vec<String>, Vec<i32>) = moved
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1)))
            .unzip();
        tx.execute(PG_REOPEN_SQL, &[&target, &keys, &nums])?;
    }
    Ok(())
}

fn pg_write_deferred(
    tx: &mut postgres::Transaction<'_>,
    deferred: &[Deferred],
    run: Option<&str>,
) -> Result<(), postgres::Error> {
    for d in deferred {
        pg_settle(
            tx,
            &d.target,
            &d.attempts,
            CallState::Accepted,
            Some(&d.batch_id),
            None,
            &d.at,
            run,
        )?;
    }
    Ok(())
}

fn now() -> String {
    crate::clock::now().to_string()
}

/// Whether a ledger location names a Postgres database rather than a SQLite file.
pub fn is_postgres(location: &Path) -> bool {
    location
        .to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// A Postgres URL fit to print: its password (in the user part or a `password=` option)
/// replaced by `***`. The user part ends at the last `@`, so a password with an unescaped
/// `/`, `?` or `@` is hidden whole.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, tail) = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host_and_rest) = rest.split_at(at);
            let user = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_owned(),
            };
            (format!("{user}@"), &host_and_rest[1..])
        }
        None => (String::new(), rest),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let query = query.map_or_else(String::new, |q| {
        let kept: Vec<&str> = q
            .split('&')
            .map(|kv| {
                if kv.starts_with("password=") {
                    "password=***"
                } else {
                    kv
                }
            })
            .collect();
        format!("?{}", kept.join("&"))
    });
    format!("{scheme}://{auth}{path}{query}")
}

impl Ledger {
    /// Opens the ledger at `location` and applies migrations: a SQLite file (created if
    /// needed, owner-only), or a Postgres database when `location` is a `postgres://` URL.
    pub fn open(location: &Path) -> Result<Self, LedgerError> {
        if is_postgres(location) {
            let url = location.to_string_lossy().into_owned();
            let shown = redact(&url);
            let pg = pg::Pg::connect(&url).map_err(|source| LedgerError::Postgres {
                url: shown.clone(),
                error: source,
            })?;
            let mut ledger = Ledger {
                backend: Backend::Postgres(pg),
                path: PathBuf::from(shown),
                lock: None,
                deferred: Vec::new(),
                run: None,
            };
            ledger.migrate()?;
            return Ok(ledger);
        }
        let path = location;
        let io = |source| LedgerError::Io {
            path: path.to_path_buf(),
            error: source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Create the file owner-only before SQLite opens it: it holds phone numbers.
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options.open(path).map_err(io)?;
        let sql = |source| LedgerError::Sql {
            path: path.to_path_buf(),
            error: source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            // A 64 MiB page cache: a campaign's rows and indexes are read back by every
            // batch's inserts and updates; the default 2 MiB sends most reads to the kernel.
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=10000;",
        )
        .map_err(sql)?;
        let mut ledger = Ledger {
            backend: Backend::Sqlite(conn),
            path: path.to_path_buf(),
            lock: None,
            deferred: Vec::new(),
            run: None,
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// The ledger's file, or its Postgres URL with the password hidden.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether several runners may share this ledger (Postgres): due calls are then claimed
    /// from the database in leased batches, and the request budget is shared.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        |source| LedgerError::Sql {
            path: self.path.clone(),
            error: source,
        }
    }

    fn pg_err(&self) -> impl Fn(PgError) -> LedgerError + '_ {
        |source| LedgerError::Postgres {
            url: self.path.display().to_string(),
            error: source,
        }
    }

    /// Runs `f` on the Postgres connection.
    fn pg<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Option<Result<R, LedgerError>> {
        match &self.backend {
            Backend::Postgres(pg) => Some(pg.run(f).map_err(self.pg_err())),
            Backend::Sqlite(_) => None,
        }
    }

    fn conn(&self) -> &Connection {
        match &self.backend {
            Backend::Sqlite(c) => c,
            Backend::Postgres(_) => unreachable!("SQLite statement on a Postgres ledger"),
        }
    }

    /// Applies the versioned migrations this build knows.
    pub fn migrate(&mut self) -> Result<(), LedgerError> {
        if let Some(r) = self.pg(pg::migrate) {
            return match r? {
                Some(found) => Err(LedgerError::TooNew {
                    path: self.path.clone(),
                    found: i64::from(found),
                    known: i64::from(PG_SCHEMA_VERSION),
                }),
                None => Ok(()),
            };
        }
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            error: source,
        };
        let Backend::Sqlite(conn) = &mut self.backend else {
            return Ok(());
        };
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            let tx = conn.transaction().map_err(sql)?;
            tx.execute_batch(
                "CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    target TEXT NOT NULL,
                    campaign TEXT NOT NULL,
                    round TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    ended_at TEXT,
                    host TEXT,
                    pid INTEGER,
                    status TEXT NOT NULL,
                    detail TEXT
                );
                CREATE TABLE calls (
                    target TEXT NOT NULL,
                    campaign TEXT NOT NULL,
                    round TEXT NOT NULL,
                    key TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    phone TEXT,
                    source TEXT,
                    row INTEGER,
                    state TEXT NOT NULL,
                    batch_id TEXT,
                    call_id TEXT,
                    reply TEXT,
                    duration REAL,
                    message TEXT,
                    retry_at TEXT,
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (target, key, attempt)
                );
                CREATE INDEX calls_by_phone ON calls(target, phone, created_at);
                CREATE INDEX calls_by_batch ON calls(target, batch_id);
                CREATE INDEX calls_by_campaign ON calls(target, campaign, round, state);
                CREATE TABLE pauses (
                    campaign TEXT PRIMARY KEY,
                    since TEXT NOT NULL
                );
                PRAGMA user_version = 1;",
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        if version < 2 {
            // Heartbeats, so `status` shows the runner as Postgres ledgers do.
            let tx = conn.transaction().map_err(sql)?;
            tx.execute_batch(
                "ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
                ALTER TABLE runs ADD COLUMN lease_secs REAL NOT NULL DEFAULT 30;
                ALTER TABLE runs ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
                PRAGMA user_version = 2;",
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        if version < 3 {
            // Every batch updates its calls' state and batch id: no index holds either any
            // more (no query looks calls up by batch, and state is filtered after the round's
            // rows are found), so an update rewrites the row alone.
            let tx = conn.transaction().map_err(sql)?;
            tx.execute_batch(
                "DROP INDEX IF EXISTS calls_by_batch;
                DROP INDEX IF EXISTS calls_by_campaign;
                CREATE INDEX calls_by_round ON calls(target, campaign, round);
                PRAGMA user_version = 3;",
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(())
    }

    /// Takes the ledger's run lock for this process, or says who holds it. Released when the
    /// ledger is dropped, or by the OS when the process dies. A Postgres ledger has no lock:
    /// its runners claim work with leases instead.
    pub fn lock(&mut self, holder: &str) -> Result<(), LedgerError> {
        if self.is_shared() {
            return Ok(());
        }
        let lock_path = self.path.with_extension("lock");
        let io = |source| LedgerError::Io {
            path: lock_path.clone(),
            error: source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).map_err(io)?;
                file.rewind().map_err(io)?;
                writeln!(file, "{holder}").map_err(io)?;
                file.flush().map_err(io)?;
                self.lock = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(LedgerError::Locked {
                    path: self.path.clone(),
                    holder: text.trim().to_owned(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
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
        let host = hostname();
        let t = now();
        let lease = lease.as_secs_f64();
        let pid = std::process::id();
        let (id2, target2, campaign2, round2) = (
            id.clone(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
        );
        if let Some(r) = self.pg(move |c| {
            c.execute(
                "INSERT INTO runs (id, target, campaign, round, started_at, host, pid, status, heartbeat_at, lease_secs)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', now(), $8)",
                &[&id2, &target2, &campaign2, &round2, &t, &host, &i64::from(pid), &lease],
            )
        }) {
            r?;
            self.run = Some(id.clone());
            return Ok(id);
        }
        self.conn()
            .execute(
                "INSERT INTO runs (id, target, campaign, round, started_at, host, pid, status, heartbeat_at, lease_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?5, ?8)",
                params![id, target, campaign, round, now(), hostname(), pid, lease],
            )
            .map_err(self.sql())?;
        Ok(id)
    }

    /// Records that a run is alive, how many calls it has claimed, and renews the leases of
    /// the calls it holds.
    pub fn heartbeat(&self, run_id: &str, claimed: u64) -> Result<(), LedgerError> {
        let claimed = i64::try_from(claimed).unwrap_or(i64::MAX);
        let run = run_id.to_owned();
        if let Some(r) = self.pg(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "UPDATE runs SET heartbeat_at = now(), claimed = $2 WHERE id = $1",
                &[&run, &claimed],
            )?;
            tx.execute(
                "UPDATE work SET lease_until = now() + make_interval(secs => r.lease_secs)
                 FROM runs r WHERE r.id = $1 AND work.claimed_by = $1 AND NOT work.done",
                &[&run],
            )?;
            tx.commit()
        }) {
            return r;
        }
        self.conn()
            .execute(
                "UPDATE runs SET heartbeat_at = ?2, claimed = ?3 WHERE id = ?1",
                params![run_id, now(), claimed],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Ends a run with a status (`done`, `problems`, `interrupted`, `failed`) and a detail,
    /// and lets go of the calls it claimed but did not send.
    pub fn end_run(&self, run_id: &str, status: &str, detail: &str) -> Result<(), LedgerError> {
        let (run, status2, detail2, t) = (
            run_id.to_owned(),
            status.to_owned(),
            detail.to_owned(),
            now(),
        );
        if let Some(r) = self.pg(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "UPDATE runs SET ended_at = $2, status = $3, detail = $4 WHERE id = $1",
                &[&run, &t, &status2, &detail2],
            )?;
            tx.execute(
                "UPDATE work SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND NOT done",
                &[&run],
            )?;
            tx.commit()
        }) {
            return r;
        }
        self.conn()
            .execute(
                "UPDATE runs SET ended_at = ?2, status = ?3, detail = ?4 WHERE id = ?1",
                params![run_id, now(), status, detail],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Runs still marked running (of one campaign, or all): live runners, and dead ones whose
    /// heartbeat stopped.
    pub fn runners(&self, campaign: Option<&str>) -> Result<Vec<Runner>, LedgerError> {
        let cp = campaign.map(ToOwned::to_owned);
        if let Some(r) = self.pg(move |c| {
            let campaign = cp;
            let rows = c.query(
                "SELECT id, COALESCE(host, ''), COALESCE(pid, 0), campaign, round, target, started_at,
                        EXTRACT(EPOCH FROM (now() - heartbeat_at))::float8, claimed, lease_secs
                 FROM runs WHERE status = 'running' AND ($1::text IS NULL OR campaign = $1)
                 ORDER BY started_at, id",
                &[&campaign],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let age: f64 = r.get(7);
                    let lease: f64 = r.get(9);
                    Runner {
                        run_id: r.get(0),
                        host: r.get(1),
                        pid: u32::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                        campaign: r.get(3),
                        round: r.get(4),
                        target: r.get(5),
                        started_at: r.get(6),
                        heartbeat_age: age.max(0.0),
                        claimed: r.get::<_, i64>(8).unsigned_abs(),
                        alive: age < lease,
                    }
                })
                .collect())
        }) {
            return r;
        }
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT id, COALESCE(host, ''), COALESCE(pid, 0), campaign, round, target, started_at,
                        COALESCE(heartbeat_at, started_at), claimed, lease_secs
                 FROM runs WHERE status = 'running' AND (?1 IS NULL OR campaign = ?1)
                 ORDER BY started_at, id",
            )
            .map_err(self.sql())?;
        let now = crate::clock::now();
        let rows = stmt
            .query_map(params![campaign], |r| {
                let beat: String = r.get(7)?;
                let lease: f64 = r.get(9)?;
                let age = beat
                    .parse::<jiff::Timestamp>()
                    .map_or(f64::INFINITY, |t| now.duration_since(t).as_secs_f64());
                Ok(Runner {
                    run_id: r.get(0)?,
                    host: r.get(1)?,
                    pid: r.get(2)?,
                    campaign: r.get(3)?,
                    round: r.get(4)?,
                    target: r.get(5)?,
                    started_at: r.get(6)?,
                    heartbeat_age: age.max(0.0),
                    claimed: r.get::<_, i64>(8)?.unsigned_abs(),
                    alive: age < lease,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Whether this ledger has recorded any call of the campaign under the target.
    pub fn knows_campaign(&self, target: &str, campaign: &str) -> Result<bool, LedgerError> {
        let (t, c2) = (target.to_owned(), campaign.to_owned());
        if let Some(r) = self.pg(move |c| {
            Ok(c.query_one(
                "SELECT EXISTS(SELECT 1 FROM calls WHERE target = $1 AND campaign = $2)",
                &[&t, &c2],
            )?
            .get(0))
        }) {
            return r;
        }
        self.conn()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM calls WHERE target = ?1 AND campaign = ?2)",
                params![target, campaign],
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    /// The latest attempt of every key of a campaign round under a target.
    pub fn history(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<HashMap<String, KeyHistory>, LedgerError> {
        let (t, c2, r2) = (target.to_owned(), campaign.to_owned(), round.to_owned());
        let rows: Vec<(String, u32, String, Option<String>)> = if let Some(r) = self.pg(move |c| {
            Ok(c.query(
                "SELECT DISTINCT ON (key) key, attempt, state, retry_at FROM calls
                 WHERE target = $1 AND campaign = $2 AND round = $3
                 ORDER BY key, attempt DESC",
                &[&t, &c2, &r2],
            )?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                    r.get(2),
                    r.get(3),
                )
            })
            .collect())
        }) {
            r?
        } else {
            let mut stmt = self
                .conn()
                .prepare_cached(
                    "SELECT key, attempt, state, retry_at FROM calls c
                     WHERE target = ?1 AND campaign = ?2 AND round = ?3
                       AND attempt = (SELECT MAX(attempt) FROM calls d WHERE d.target = c.target AND d.key = c.key)",
                )
                .map_err(self.sql())?;
            stmt.query_map(params![target, campaign, round], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?
        };
        let mut out = HashMap::with_capacity(rows.len());
        for (key, attempt, state, retry_at) in rows {
            let state = CallState::parse(&state).unwrap_or(CallState::InDoubt);
            out.insert(
                key,
                KeyHistory {
                    attempt,
                    state,
                    retry_at,
                },
            );
        }
        Ok(out)
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
        let t = now();
        if self.is_shared() {
            let deferred = self.deferred.clone();
            let (run, tg, cp, rd) = (
                run_id.to_owned(),
                target.to_owned(),
                campaign.to_owned(),
                round.to_owned(),
            );
            let keys: Vec<String> = calls.iter().map(|c| c.key.to_owned()).collect();
            let nums: Vec<i32> = calls
                .iter()
                .map(|c| i32::try_from(c.attempt).unwrap_or(i32::MAX))
                .collect();
            let phones: Vec<String> = calls.iter().map(|c| c.phone.to_owned()).collect();
            let sources: Vec<String> = calls.iter().map(|c| c.source.to_owned()).collect();
            let rows: Vec<i64> = calls
                .iter()
                .map(|c| i64::try_from(c.row).unwrap_or(i64::MAX))
                .collect();
            let recorded = self
                .pg(move |c| {
                    let mut tx = c.transaction()?;
                    pg_write_deferred(&mut tx, &deferred, Some(run.as_str()))?;
                    let got = tx.query(
                        "INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at)
                         SELECT $1, $2, $3, u.key, u.attempt, u.phone, u.source, u.row, 'sending', $4, $5, $5
                         FROM unnest($6::text[], $7::int[], $8::text[], $9::text[], $10::int8[]) AS u(key, attempt, phone, source, row)
                         ON CONFLICT (target, key, attempt) DO UPDATE SET state = 'sending', run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at
                         WHERE calls.state = 'not_sent'
                         RETURNING key, attempt",
                        &[&tg, &cp, &rd, &run, &t, &keys, &nums, &phones, &sources, &rows],
                    )?;
                    tx.execute(
                        "UPDATE work SET done = true
                         FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
                         WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt",
                        &[&tg, &keys, &nums],
                    )?;
                    tx.commit()?;
                    let got: HashSet<(String, i32)> =
                        got.iter().map(|r| (r.get(0), r.get(1))).collect();
                    Ok(keys
                        .into_iter()
                        .zip(nums)
                        .enumerate()
                        .filter(|(_, ka)| got.contains(ka))
                        .map(|(i, _)| i)
                        .collect())
                })
                .unwrap_or_else(|| Ok(Vec::new()))?;
            self.deferred.clear();
            return Ok(recorded);
        }
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            error: source,
        };
        let Backend::Sqlite(conn) = &mut self.backend else {
            unreachable!("checked above")
        };
        let tx = conn.transaction().map_err(sql)?;
        write_deferred(&tx, &self.deferred).map_err(sql)?;
        let mut recorded = Vec::with_capacity(calls.len());
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sending', ?9, ?10, ?10)
                     ON CONFLICT (target, key, attempt) DO UPDATE SET state = 'sending', run_id = ?9, updated_at = ?10
                     WHERE calls.state = 'not_sent'",
                )
                .map_err(sql)?;
            for (i, c) in calls.iter().enumerate() {
                let row = i64::try_from(c.row).unwrap_or(i64::MAX);
                // One row changed: inserted, or a `not_sent` attempt taken up again. None:
                // recorded already. (Cheaper than RETURNING, which SQLite materialises.)
                let changed = stmt
                    .execute(params![
                        target, campaign, round, c.key, c.attempt, c.phone, c.source, row, run_id,
                        t
                    ])
                    .map_err(sql)?;
                if changed > 0 {
                    recorded.push(i);
                }
            }
        }
        tx.commit().map_err(sql)?;
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
            attempts: owned(attempts),
            batch_id: batch_id.to_owned(),
            at: now(),
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
        let t = now();
        if self.is_shared() {
            let deferred = std::mem::take(&mut self.deferred);
            let d2 = deferred.clone();
            let run = self.run.clone();
            let (tg, att, b, m) = (
                target.to_owned(),
                owned(attempts),
                batch_id.map(ToOwned::to_owned),
                message.map(ToOwned::to_owned),
            );
            let r = self
                .pg(move |c| {
                    let mut tx = c.transaction()?;
                    pg_write_deferred(&mut tx, &d2, run.as_deref())?;
                    pg_settle(
                        &mut tx,
                        &tg,
                        &att,
                        state,
                        b.as_deref(),
                        m.as_deref(),
                        &t,
                        run.as_deref(),
                    )?;
                    tx.commit()
                })
                .unwrap_or(Ok(()));
            if r.is_err() {
                self.deferred = deferred;
            }
            return r;
        }
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            error: source,
        };
        let Backend::Sqlite(conn) = &mut self.backend else {
            unreachable!("checked above")
        };
        let tx = conn.transaction().map_err(sql)?;
        write_deferred(&tx, &self.deferred).map_err(sql)?;
        {
            let mut stmt = tx.prepare_cached(SETTLE_SQL).map_err(sql)?;
            for (key, attempt) in attempts {
                stmt.execute(params![
                    target,
                    key,
                    state.as_str(),
                    batch_id,
                    message,
                    t,
                    attempt
                ])
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        self.deferred.clear();
        Ok(())
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
        let t = now();
        let (tg, key, num, from, run, updated, b, m) = (
            target.to_owned(),
            read.key.clone(),
            i32::try_from(read.attempt).unwrap_or(i32::MAX),
            read.state,
            read.run_id.clone(),
            read.updated_at.clone(),
            batch_id.map(ToOwned::to_owned),
            message.to_owned(),
        );
        if let Some(r) = self.pg(move |c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE calls SET state = $5, batch_id = COALESCE($6, batch_id), message = $7, updated_at = $8
                 WHERE target = $1 AND key = $2 AND attempt = $3 AND state = $4 AND run_id = $9 AND updated_at = $10",
                &[&tg, &key, &num, &from.as_str(), &to.as_str(), &b, &m, &t, &run, &updated],
            )?;
            if n > 0 && to == CallState::NotSent {
                tx.execute(PG_REOPEN_SQL, &[&tg, &vec![key], &vec![num]])?;
            }
            tx.commit()?;
            Ok(n > 0)
        }) {
            return r;
        }
        let n = self
            .conn()
            .execute(
                "UPDATE calls SET state = ?5, batch_id = COALESCE(?6, batch_id), message = ?7, updated_at = ?8
                 WHERE target = ?1 AND key = ?2 AND attempt = ?3 AND state = ?4 AND run_id = ?9 AND updated_at = ?10",
                params![
                    target,
                    read.key,
                    read.attempt,
                    read.state.as_str(),
                    to.as_str(),
                    batch_id,
                    message,
                    now(),
                    read.run_id,
                    read.updated_at
                ],
            )
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    /// Records a call's final (or newly known) outcome.
    #[allow(clippy::too_many_arguments)] // one row's columns
    pub fn outcome(
        &mut self,
        target: &str,
        key: &str,
        attempt: u32,
        state: CallState,
        call_id: Option<&str>,
        duration: Option<f64>,
        reply: Option<&str>,
        retry_at: Option<&str>,
    ) -> Result<(), LedgerError> {
        let t = now();
        let (tg, k, num, cid, rep, ra) = (
            target.to_owned(),
            key.to_owned(),
            i32::try_from(attempt).unwrap_or(i32::MAX),
            call_id.map(ToOwned::to_owned),
            reply.map(ToOwned::to_owned),
            retry_at.map(ToOwned::to_owned),
        );
        if let Some(r) = self.pg(move |c| {
            c.execute(
                "UPDATE calls SET state = $4, call_id = COALESCE($5, call_id), duration = $6, reply = $7, retry_at = $8, updated_at = $9
                 WHERE target = $1 AND key = $2 AND attempt = $3",
                &[&tg, &k, &num, &state.as_str(), &cid, &duration, &rep, &ra, &t],
            )
        }) {
            r?;
            return Ok(());
        }
        self.conn()
            .execute(
                "UPDATE calls SET state = ?4, call_id = COALESCE(?5, call_id), duration = ?6, reply = ?7, retry_at = ?8, updated_at = ?9
                 WHERE target = ?1 AND key = ?2 AND attempt = ?3",
                params![target, key, attempt, state.as_str(), call_id, duration, reply, retry_at, now()],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Attempts in a state, for a campaign round under a target.
    pub fn attempts(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        states: &[CallState],
    ) -> Result<Vec<Attempt>, LedgerError> {
        let all = self.select_attempts(
            "target = ?1 AND campaign = ?2 AND round = ?3",
            "target = $1 AND campaign = $2 AND round = $3",
            target,
            campaign,
            round,
            None,
        )?;
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
        let doubt = if in_doubt {
            "state = 'in_doubt'"
        } else {
            "false"
        };
        self.select_attempts(
            &format!(
                "target = ?1 AND campaign = ?2 AND round = ?3
                 AND ({doubt} OR (state = 'sending' AND run_id <> ?4))"
            ),
            &format!("target = $1 AND campaign = $2 AND round = $3
             AND ({doubt} OR (state = 'sending' AND run_id IN (
                 SELECT id FROM runs WHERE id <> $4
                   AND (status <> 'running' OR heartbeat_at < now() - make_interval(secs => lease_secs)))))"),
            target,
            campaign,
            round,
            Some(run_id),
        )
    }

    /// Calls being sent by other live runners (Postgres): their answers are still to come.
    pub fn in_flight_elsewhere(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: &str,
    ) -> Result<u64, LedgerError> {
        let (tg, cp, rd, run) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            run_id.to_owned(),
        );
        self.pg(move |c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM calls WHERE target = $1 AND campaign = $2 AND round = $3
                   AND state = 'sending' AND run_id IN (
                     SELECT id FROM runs WHERE id <> $4 AND status = 'running'
                       AND heartbeat_at >= now() - make_interval(secs => lease_secs))",
                &[&tg, &cp, &rd, &run],
            )?
            .get::<_, i64>(0)
            .unsigned_abs())
        })
        .unwrap_or(Ok(0))
    }

    fn select_attempts(
        &self,
        sqlite_where: &str,
        pg_where: &str,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<Attempt>, LedgerError> {
        const COLUMNS: &str = "campaign, round, key, attempt, phone, state, batch_id, call_id, reply, duration, message, source, row, created_at, updated_at, run_id";
        let pg_sql =
            format!("SELECT {COLUMNS} FROM calls WHERE {pg_where} ORDER BY created_at, key");
        let (tg, cp, rd, run) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            run_id.map(ToOwned::to_owned),
        );
        if let Some(r) = self.pg(move |c| {
            let rows = match &run {
                Some(run) => c.query(&pg_sql, &[&tg, &cp, &rd, run])?,
                None => c.query(&pg_sql, &[&tg, &cp, &rd])?,
            };
            Ok(rows
                .iter()
                .map(|r| Attempt {
                    campaign: r.get(0),
                    round: r.get(1),
                    key: r.get(2),
                    attempt: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
                    phone: r.get(4),
                    state: CallState::parse(r.get(5)).unwrap_or(CallState::InDoubt),
                    batch_id: r.get(6),
                    call_id: r.get(7),
                    reply: r.get(8),
                    duration: r.get(9),
                    message: r.get(10),
                    source: r.get(11),
                    row: r.get::<_, Option<i64>>(12).map(i64::unsigned_abs),
                    created_at: r.get(13),
                    updated_at: r.get(14),
                    run_id: r.get(15),
                })
                .collect())
        }) {
            return r;
        }
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM calls WHERE {sqlite_where} ORDER BY created_at, key"
            ))
            .map_err(self.sql())?;
        let rows = match run_id {
            Some(run) => stmt.query_map(params![target, campaign, round, run], row_to_attempt),
            None => stmt.query_map(params![target, campaign, round], row_to_attempt),
        }
        .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Adds due calls to the shared work (Postgres), once however many runners add them.
    /// `calls` are (key, attempt, time zone), in plan order. A call marked done but never
    /// recorded (held back by the frequency cap or an opt-out, or only dry-run) is open again:
    /// it is due again.
    pub fn enqueue(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[(&str, u32, &str)],
    ) -> Result<(), LedgerError> {
        for (n, chunk) in calls.chunks(10_000).enumerate() {
            let base = i64::try_from(n * 10_000).unwrap_or(i64::MAX);
            let keys: Vec<String> = chunk.iter().map(|c| c.0.to_owned()).collect();
            let nums: Vec<i32> = chunk
                .iter()
                .map(|c| i32::try_from(c.1).unwrap_or(i32::MAX))
                .collect();
            let zones: Vec<String> = chunk.iter().map(|c| c.2.to_owned()).collect();
            let seqs: Vec<i64> = (0..chunk.len())
                .map(|i| base + i64::try_from(i).unwrap_or(0))
                .collect();
            let (tg, cp, rd) = (target.to_owned(), campaign.to_owned(), round.to_owned());
            if let Some(r) = self.pg(move |c| {
                c.execute(
                    "INSERT INTO work (target, campaign, round, key, attempt, timezone, seq)
                     SELECT $1, $2, $3, u.key, u.attempt, u.tz, u.seq
                     FROM unnest($4::text[], $5::int[], $6::text[], $7::int8[]) AS u(key, attempt, tz, seq)
                     ON CONFLICT (target, key, attempt) DO UPDATE SET done = false, claimed_by = NULL, lease_until = NULL
                     WHERE work.done AND NOT EXISTS (
                         SELECT 1 FROM calls c WHERE c.target = work.target AND c.key = work.key
                           AND c.attempt = work.attempt AND c.state <> 'not_sent')",
                    &[&tg, &cp, &rd, &keys, &nums, &zones, &seqs],
                )
            }) {
                r?;
            }
        }
        Ok(())
    }

    /// Claims up to `n` unclaimed due calls of one time zone for a run (Postgres), leased for
    /// its lease: `FOR UPDATE SKIP LOCKED`, so runners never wait on each other's claims.
    pub fn claim(
        &self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        timezone: &str,
        n: usize,
    ) -> Result<Vec<(String, u32)>, LedgerError> {
        let (run, tg, cp, rd, tz) = (
            run_id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            timezone.to_owned(),
        );
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.pg(move |c| {
            let rows = c.query(
                "WITH picked AS (
                    SELECT target, key, attempt FROM work
                    WHERE target = $1 AND campaign = $2 AND round = $3 AND timezone = $4 AND NOT done
                      AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY seq LIMIT $5
                    FOR UPDATE SKIP LOCKED)
                 UPDATE work w SET claimed_by = $6,
                        lease_until = now() + make_interval(secs => (SELECT lease_secs FROM runs WHERE id = $6))
                 FROM picked p WHERE w.target = p.target AND w.key = p.key AND w.attempt = p.attempt
                 RETURNING w.key, w.attempt, w.seq",
                &[&tg, &cp, &rd, &tz, &n, &run],
            )?;
            let mut got: Vec<(i64, String, u32)> = rows
                .iter()
                .map(|r| {
                    (
                        r.get(2),
                        r.get(0),
                        u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                    )
                })
                .collect();
            got.sort_unstable();
            Ok(got.into_iter().map(|(_, k, a)| (k, a)).collect())
        })
        .unwrap_or_else(|| Ok(Vec::new()))
    }

    /// Which of `attempts` are still this run's to send (recorded `sending` by it), checked
    /// right before their request leaves: a runner that stalled past its lease may have had
    /// them looked up and sent again by another. All of them on SQLite (the run holds the
    /// lock). Positions in `attempts`.
    pub fn still_mine(
        &self,
        run_id: &str,
        target: &str,
        attempts: &[(&str, u32)],
    ) -> Result<Vec<usize>, LedgerError> {
        let (run, tg, att) = (run_id.to_owned(), target.to_owned(), owned(attempts));
        self.pg(move |c| {
            let (keys, nums) = pg_keys(&att);
            let rows = c.query(
                "SELECT c.key, c.attempt FROM calls c
                 JOIN unnest($3::text[], $4::int[]) AS u(key, attempt) ON c.key = u.key AND c.attempt = u.attempt
                 WHERE c.target = $1 AND c.run_id = $2 AND c.state = 'sending'",
                &[&tg, &run, &keys, &nums],
            )?;
            let mine: HashSet<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(keys
                .into_iter()
                .zip(nums)
                .enumerate()
                .filter(|(_, ka)| mine.contains(ka))
                .map(|(i, _)| i)
                .collect())
        })
        .unwrap_or_else(|| Ok((0..attempts.len()).collect()))
    }

    /// Lets go of claimed calls at once, for other runners to claim (Postgres).
    pub fn release_work(&self, target: &str, attempts: &[(&str, u32)]) -> Result<(), LedgerError> {
        self.update_work(target, attempts, "claimed_by = NULL, lease_until = NULL")
    }

    /// Marks claimed calls done without sending them (opted out or capped since the plan).
    pub fn drop_work(&self, target: &str, attempts: &[(&str, u32)]) -> Result<(), LedgerError> {
        self.update_work(target, attempts, "done = true")
    }

    /// Sets `set` on the shared work of some calls (Postgres; nothing on SQLite).
    fn update_work(
        &self,
        target: &str,
        attempts: &[(&str, u32)],
        set: &'static str,
    ) -> Result<(), LedgerError> {
        let (tg, att) = (target.to_owned(), owned(attempts));
        self.pg(move |c| {
            let (keys, nums) = pg_keys(&att);
            c.execute(
                &format!(
                    "UPDATE work SET {set} FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
                     WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt"
                ),
                &[&tg, &keys, &nums],
            )
            .map(|_| ())
        })
        .unwrap_or(Ok(()))
    }

    /// Whether a time zone of a campaign round has shared work not done (Postgres).
    pub fn zone_has_work(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        timezone: &str,
    ) -> Result<bool, LedgerError> {
        let (tg, cp, rd, tz) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            timezone.to_owned(),
        );
        self.pg(move |c| {
            Ok(c.query_one(
                "SELECT EXISTS(SELECT 1 FROM work WHERE target = $1 AND campaign = $2 AND round = $3
                   AND timezone = $4 AND NOT done)",
                &[&tg, &cp, &rd, &tz],
            )?
            .get(0))
        })
        .unwrap_or(Ok(false))
    }

    /// Due work not done yet, as one runner sees it (Postgres).
    pub fn open_work(
        &self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<OpenWork, LedgerError> {
        let (run, tg, cp, rd) = (
            run_id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
        );
        self.pg(move |c| {
            let r = c.query_one(
                "SELECT
                    COUNT(*) FILTER (WHERE lease_until IS NULL OR lease_until < now()),
                    COUNT(*) FILTER (WHERE lease_until >= now() AND claimed_by IS DISTINCT FROM $4),
                    EXTRACT(EPOCH FROM (MIN(lease_until) FILTER (WHERE lease_until >= now() AND claimed_by IS DISTINCT FROM $4) - now()))::float8
                 FROM work WHERE target = $1 AND campaign = $2 AND round = $3 AND NOT done",
                &[&tg, &cp, &rd, &run],
            )?;
            Ok(OpenWork {
                unclaimed: r.get::<_, i64>(0).unsigned_abs(),
                leased_elsewhere: r.get::<_, i64>(1).unsigned_abs(),
                next_expiry: r.get(2),
            })
        })
        .unwrap_or(Ok(OpenWork::default()))
    }

    /// Reserves the next request slot of shared budgets (Postgres) and returns how long to
    /// wait for it, in seconds: every runner drawing on a budget sends at most one request per
    /// `period` seconds of it. One slot serves all `scopes` at once (the latest of theirs),
    /// taken under their row locks in a fixed order, so runners never see two budgets in
    /// different orders. `None` on SQLite, whose single run paces itself.
    pub fn rate_slot(&self, scopes: &[String], period: f64) -> Option<Result<f64, LedgerError>> {
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        self.pg(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO rate_budget (scope, tat) SELECT s, '-infinity'::timestamptz FROM unnest($1::text[]) AS s
                 ON CONFLICT (scope) DO NOTHING",
                &[&scopes],
            )?;
            tx.query(
                "SELECT 1 FROM rate_budget WHERE scope = ANY($1) ORDER BY scope FOR UPDATE",
                &[&scopes],
            )?;
            let rows = tx.query(
                "WITH slot AS (
                    SELECT GREATEST(MAX(tat), clock_timestamp()) AS at FROM rate_budget WHERE scope = ANY($1))
                 UPDATE rate_budget b SET tat = slot.at + make_interval(secs => $2)
                 FROM slot WHERE b.scope = ANY($1)
                 RETURNING EXTRACT(EPOCH FROM (slot.at - clock_timestamp()))::float8",
                &[&scopes, &period],
            )?;
            tx.commit()?;
            Ok(rows
                .first()
                .map_or(0.0, |r| r.get::<_, f64>(0))
                .max(0.0))
        })
    }

    /// How many attempts that may have reached `phone` were recorded since `since` (RFC
    /// 3339), across every campaign under the target: the frequency cap's count.
    pub fn recent_calls(&self, target: &str, phone: &str, since: &str) -> Result<u64, LedgerError> {
        let (tg, ph, si) = (target.to_owned(), phone.to_owned(), since.to_owned());
        if let Some(r) = self.pg(move |c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM calls WHERE target = $1 AND phone = $2 AND created_at >= $3
                 AND state NOT IN ('rejected', 'not_sent')",
                &[&tg, &ph, &si],
            )?
            .get::<_, i64>(0)
            .unsigned_abs())
        }) {
            return r;
        }
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM calls WHERE target = ?1 AND phone = ?2 AND created_at >= ?3
                 AND state NOT IN ('rejected', 'not_sent')",
                params![target, phone, since],
                |r| r.get::<_, i64>(0),
            )
            .map(i64::unsigned_abs)
            .map_err(self.sql())
    }

    /// Pauses sending of a campaign for every run on this ledger.
    pub fn pause(&self, campaign: &str) -> Result<(), LedgerError> {
        let (cp, t) = (campaign.to_owned(), now());
        if let Some(r) = self.pg(move |c| {
            c.execute(
                "INSERT INTO pauses (campaign, since) VALUES ($1, $2) ON CONFLICT (campaign) DO NOTHING",
                &[&cp, &t],
            )
        }) {
            r?;
            return Ok(());
        }
        self.conn()
            .execute(
                "INSERT INTO pauses (campaign, since) VALUES (?1, ?2) ON CONFLICT (campaign) DO NOTHING",
                params![campaign, now()],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Resumes a paused campaign. Returns whether it was paused.
    pub fn resume(&self, campaign: &str) -> Result<bool, LedgerError> {
        let cp = campaign.to_owned();
        if let Some(r) =
            self.pg(move |c| c.execute("DELETE FROM pauses WHERE campaign = $1", &[&cp]))
        {
            return Ok(r? > 0);
        }
        let n = self
            .conn()
            .execute("DELETE FROM pauses WHERE campaign = ?1", params![campaign])
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    /// Since when a campaign is paused, if it is.
    pub fn paused_since(&self, campaign: &str) -> Result<Option<String>, LedgerError> {
        let cp = campaign.to_owned();
        if let Some(r) = self.pg(move |c| {
            Ok(
                c.query_opt("SELECT since FROM pauses WHERE campaign = $1", &[&cp])?
                    .map(|r| r.get(0)),
            )
        }) {
            return r;
        }
        self.conn()
            .query_row(
                "SELECT since FROM pauses WHERE campaign = ?1",
                params![campaign],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())
    }

    /// Counts per state for every campaign round and target (or one campaign).
    pub fn counts(&self, campaign: Option<&str>) -> Result<Vec<StateCount>, LedgerError> {
        let cp = campaign.map(ToOwned::to_owned);
        let rows: Vec<(String, String, String, String, u64)> = if let Some(r) = self.pg(move |c| {
            Ok(c.query(
                "SELECT target, campaign, round, state, COUNT(*) FROM (
                    SELECT DISTINCT ON (target, key) target, campaign, round, state FROM calls
                    WHERE ($1::text IS NULL OR campaign = $1)
                    ORDER BY target, key, attempt DESC) latest
                 GROUP BY target, campaign, round, state ORDER BY campaign, round, target",
                &[&cp],
            )?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get::<_, i64>(4).unsigned_abs(),
                )
            })
            .collect())
        }) {
            r?
        } else {
            let mut stmt = self
                .conn()
                .prepare(
                    "SELECT c.target, c.campaign, c.round, c.state, COUNT(*) FROM calls c
                     WHERE (?1 IS NULL OR c.campaign = ?1)
                       AND c.attempt = (SELECT MAX(attempt) FROM calls d WHERE d.target = c.target AND d.key = c.key)
                     GROUP BY c.target, c.campaign, c.round, c.state ORDER BY c.campaign, c.round, c.target",
                )
                .map_err(self.sql())?;
            stmt.query_map(params![campaign], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, i64>(4)?.unsigned_abs(),
                ))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?
        };
        let mut out: Vec<StateCount> = Vec::new();
        for (target, campaign, round, state, n) in rows {
            let state = CallState::parse(&state).unwrap_or(CallState::InDoubt);
            match out.last_mut() {
                Some(last)
                    if last.target == target
                        && last.campaign == campaign
                        && last.round == round =>
                {
                    last.counts.push((state, n));
                }
                _ => out.push(StateCount {
                    target,
                    campaign,
                    round,
                    counts: vec![(state, n)],
                }),
            }
        }
        Ok(out)
    }

    /// Deletes patient data (numbers, source rows, replies) from attempts last updated before
    /// `before` (RFC 3339), keeping their states and outcomes so counts stay right. Returns
    /// how many attempts were purged.
    pub fn purge(&self, before: &str) -> Result<u64, LedgerError> {
        let b = before.to_owned();
        if let Some(r) = self.pg(move |c| {
            let n = c.execute(
                "UPDATE calls SET phone = NULL, source = NULL, row = NULL, reply = NULL, message = NULL
                 WHERE updated_at < $1 AND phone IS NOT NULL AND state NOT IN ('sending', 'accepted', 'in_doubt')",
                &[&b],
            )?;
            // Old row versions still hold the numbers until vacuumed.
            c.batch_execute("VACUUM calls")?;
            Ok(n)
        }) {
            return r;
        }
        let n = self
            .conn()
            .execute(
                "UPDATE calls SET phone = NULL, source = NULL, row = NULL, reply = NULL, message = NULL
                 WHERE updated_at < ?1 AND phone IS NOT NULL AND state NOT IN ('sending', 'accepted', 'in_doubt')",
                params![before],
            )
            .map_err(self.sql())?;
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
            .map_err(self.sql())?;
        Ok(n as u64)
    }
}

impl Drop for Ledger {
    /// Best effort: deferred settles not committed are left `sending`, which the next run
    /// resolves by looking them up (see [`Ledger::accept_later`]).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn row_to_attempt(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        campaign: r.get(0)?,
        round: r.get(1)?,
        key: r.get(2)?,
        attempt: r.get(3)?,
        phone: r.get(4)?,
        state: CallState::parse(&r.get::<_, String>(5)?).unwrap_or(CallState::InDoubt),
        batch_id: r.get(6)?,
        call_id: r.get(7)?,
        reply: r.get(8)?,
        duration: r.get(9)?,
        message: r.get(10)?,
        source: r.get(11)?,
        row: r.get::<_, Option<i64>>(12)?.map(i64::unsigned_abs),
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        run_id: r.get(15)?,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call(key: &str) -> NewCall<'_> {
        NewCall {
            key,
            attempt: 1,
            phone: "+2348031234567",
            source: "p.csv",
            row: 2,
        }
    }

    #[test]
    fn write_ahead_then_settle() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("state.db")).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, "mock", "c", "r", &[call("k1"), call("k2")])
            .unwrap();
        let h = l.history("mock", "c", "r").unwrap();
        assert_eq!(h["k1"].state, CallState::Sending);
        l.settle("mock", &[("k1", 1)], CallState::Accepted, Some("b1"), None)
            .unwrap();
        l.settle(
            "mock",
            &[("k2", 1)],
            CallState::NotSent,
            None,
            Some("refused"),
        )
        .unwrap();
        // A not-sent call may be recorded again; an accepted one may not.
        l.begin(&run, "mock", "c", "r", &[call("k1"), call("k2")])
            .unwrap();
        let h = l.history("mock", "c", "r").unwrap();
        assert_eq!(h["k1"].state, CallState::Accepted);
        assert_eq!(h["k2"].state, CallState::Sending);
        // Other targets see nothing.
        assert!(
            l.history("https://voicebot.intron.health", "c", "r")
                .unwrap()
                .is_empty()
        );
        assert!(l.knows_campaign("mock", "c").unwrap());
        l.start_run("live", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        assert!(
            !l.knows_campaign("live", "c").unwrap(),
            "a run that sent nothing does not count"
        );
        assert!(!l.knows_campaign("live", "c").unwrap());
    }

    #[test]
    fn passwords_never_show_in_a_printed_url() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/outreach?sslmode=disable"),
            "postgres://app:***@db.example:5432/outreach?sslmode=disable"
        );
        assert_eq!(
            redact("postgresql://db/outreach?user=app&password=s3cret"),
            "postgresql://db/outreach?user=app&password=***"
        );
        assert_eq!(
            redact("postgres://app@localhost/outreach"),
            "postgres://app@localhost/outreach"
        );
        assert_eq!(
            redact("postgres://app:pa/ss?w@rd@db:5432/outreach"),
            "postgres://app:***@db:5432/outreach"
        );
        assert!(is_postgres(Path::new("postgres://x/y")));
        assert!(!is_postgres(Path::new(".outreach/state.db")));
    }

    #[test]
    fn the_lock_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut a = Ledger::open(&path).unwrap();
        a.lock("pid 1 on host-a").unwrap();
        let mut b = Ledger::open(&path).unwrap();
        match b.lock("pid 2") {
            Err(LedgerError::Locked { holder, .. }) => assert_eq!(holder, "pid 1 on host-a"),
            other => panic!("{other:?}"),
        }
        drop(a);
        b.lock("pid 2").unwrap();
    }

    #[test]
    fn pause_resume_and_purge() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("state.db")).unwrap();
        l.pause("c").unwrap();
        assert!(l.paused_since("c").unwrap().is_some());
        assert!(l.resume("c").unwrap());
        assert!(l.paused_since("c").unwrap().is_none());
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, "mock", "c", "r", &[call("k1")]).unwrap();
        l.outcome(
            "mock",
            "k1",
            1,
            CallState::Answered,
            Some("id"),
            Some(3.0),
            None,
            None,
        )
        .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z").unwrap(), 1);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        assert_eq!(a[0].phone, None);
        assert_eq!(a[0].state, CallState::Answered);
        assert_eq!(
            l.counts(Some("c")).unwrap()[0].counts,
            vec![(CallState::Answered, 1)]
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.db");
        Ledger::open(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
