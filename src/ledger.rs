//! The ledger: what was sent, to whom, and what became of it. SQLite (bundled), WAL with full
//! sync, so a committed row survives a crash and a power loss.
//!
//! Write-ahead protocol: a call is recorded `sending` (committed) before its request leaves;
//! the answer moves it to `accepted`, `rejected`, `not_sent` or `in_doubt`; following the
//! batch moves accepted calls to `answered`, `failed` or `no_answer`. A call still `sending`
//! after a crash is in doubt and is never re-sent blindly.
//!
//! Every row carries its target (the API base URL, or `mock`, or `dry-run`), so runs against
//! the mock or dry runs never count toward the live target.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, params};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

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
    #[error("the ledger {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the ledger {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the ledger {} is in use by another run ({holder}); wait for it to finish, or stop it", path.display())]
    Locked { path: PathBuf, holder: String },
    #[error("the ledger {} was written by a newer outreach (schema {found}, this build knows {SCHEMA_VERSION})", path.display())]
    TooNew { path: PathBuf, found: i64 },
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
}

/// Counts per state for one campaign, round and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    pub target: String,
    pub campaign: String,
    pub round: String,
    pub counts: Vec<(CallState, u64)>,
}

/// The SQLite ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    lock: Option<File>,
    /// `accepted` settles not committed yet: they ride with the next write transaction.
    deferred: Vec<Deferred>,
}

/// An `accepted` settle waiting for the next commit (see [`Ledger::accept_later`]).
struct Deferred {
    target: String,
    attempts: Vec<(String, u32)>,
    batch_id: String,
    at: String,
}

const SETTLE_SQL: &str = "UPDATE calls SET state = ?3, batch_id = COALESCE(?4, batch_id), message = COALESCE(?5, message), updated_at = ?6
     WHERE target = ?1 AND key = ?2 AND attempt = ?7";

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

fn now() -> String {
    crate::clock::now().to_string()
}

impl Ledger {
    /// Opens (creating if needed, owner-only) the ledger at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let io = |source| LedgerError::Io {
            path: path.to_path_buf(),
            source,
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
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
        )
        .map_err(sql)?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            lock: None,
            deferred: Vec::new(),
        };
        ledger.migrate()?;
        Ok(ledger)
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        |source| LedgerError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Applies the versioned migrations this build knows.
    pub fn migrate(&mut self) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            source,
        };
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(LedgerError::TooNew {
                path,
                found: version,
            });
        }
        if version < 1 {
            let tx = self.conn.transaction().map_err(sql)?;
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
        Ok(())
    }

    /// Takes the ledger's run lock for this process, or says who holds it. Released when the
    /// ledger is dropped, or by the OS when the process dies.
    pub fn lock(&mut self, holder: &str) -> Result<(), LedgerError> {
        let lock_path = self.path.with_extension("lock");
        let io = |source| LedgerError::Io {
            path: lock_path.clone(),
            source,
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

    /// Starts a run and returns its id.
    pub fn start_run(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<String, LedgerError> {
        let id = uuid::Uuid::now_v7().to_string();
        let host = hostname();
        self.conn
            .execute(
                "INSERT INTO runs (id, target, campaign, round, started_at, host, pid, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
                params![id, target, campaign, round, now(), host, std::process::id()],
            )
            .map_err(self.sql())?;
        Ok(id)
    }

    /// Ends a run with a status (`done`, `problems`, `interrupted`, `failed`) and a detail.
    pub fn end_run(&self, run_id: &str, status: &str, detail: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, status = ?3, detail = ?4 WHERE id = ?1",
                params![run_id, now(), status, detail],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Whether this ledger has recorded any call of the campaign under the target.
    pub fn knows_campaign(&self, target: &str, campaign: &str) -> Result<bool, LedgerError> {
        self.conn
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, attempt, state, retry_at FROM calls c
                 WHERE target = ?1 AND campaign = ?2 AND round = ?3
                   AND attempt = (SELECT MAX(attempt) FROM calls d WHERE d.target = c.target AND d.key = c.key)",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![target, campaign, round], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out = HashMap::new();
        for row in rows {
            let (key, attempt, state, retry_at) = row.map_err(self.sql())?;
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

    /// Records calls as `sending`, in one transaction, before their request leaves. The
    /// transaction also commits the `accepted` settles deferred since the last commit.
    pub fn begin(
        &mut self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[NewCall<'_>],
    ) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        write_deferred(&tx, &self.deferred).map_err(sql)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sending', ?9, ?10, ?10)
                     ON CONFLICT (target, key, attempt) DO UPDATE SET state = 'sending', run_id = ?9, updated_at = ?10
                     WHERE calls.state = 'not_sent'",
                )
                .map_err(sql)?;
            let t = now();
            for c in calls {
                let row = i64::try_from(c.row).unwrap_or(i64::MAX);
                stmt.execute(params![
                    target, campaign, round, c.key, c.attempt, c.phone, c.source, row, run_id, t
                ])
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        self.deferred.clear();
        Ok(())
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
            at: now(),
        });
    }

    /// Commits the deferred `accepted` settles, if any.
    pub fn flush(&mut self) -> Result<(), LedgerError> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        write_deferred(&tx, &self.deferred).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.deferred.clear();
        Ok(())
    }

    /// Moves attempts to a state, with the batch id and a message where known.
    pub fn settle(
        &mut self,
        target: &str,
        attempts: &[(&str, u32)],
        state: CallState,
        batch_id: Option<&str>,
        message: Option<&str>,
    ) -> Result<(), LedgerError> {
        let path = self.path.clone();
        let sql = |source| LedgerError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        write_deferred(&tx, &self.deferred).map_err(sql)?;
        {
            let mut stmt = tx.prepare_cached(SETTLE_SQL).map_err(sql)?;
            let t = now();
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
        self.conn
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT campaign, round, key, attempt, phone, state, batch_id, call_id, reply, duration, message, source, row, created_at, updated_at
                 FROM calls WHERE target = ?1 AND campaign = ?2 AND round = ?3 ORDER BY created_at, key",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![target, campaign, round], row_to_attempt)
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for r in rows {
            let a = r.map_err(self.sql())?;
            if states.is_empty() || states.contains(&a.state) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// How many attempts that may have reached `phone` were recorded since `since` (RFC
    /// 3339), across every campaign under the target: the frequency cap's count.
    pub fn recent_calls(&self, target: &str, phone: &str, since: &str) -> Result<u64, LedgerError> {
        self.conn
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
        self.conn
            .execute(
                "INSERT INTO pauses (campaign, since) VALUES (?1, ?2) ON CONFLICT (campaign) DO NOTHING",
                params![campaign, now()],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Resumes a paused campaign. Returns whether it was paused.
    pub fn resume(&self, campaign: &str) -> Result<bool, LedgerError> {
        let n = self
            .conn
            .execute("DELETE FROM pauses WHERE campaign = ?1", params![campaign])
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    /// Since when a campaign is paused, if it is.
    pub fn paused_since(&self, campaign: &str) -> Result<Option<String>, LedgerError> {
        self.conn
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
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.target, c.campaign, c.round, c.state, COUNT(*) FROM calls c
                 WHERE (?1 IS NULL OR c.campaign = ?1)
                   AND c.attempt = (SELECT MAX(attempt) FROM calls d WHERE d.target = c.target AND d.key = c.key)
                 GROUP BY c.target, c.campaign, c.round, c.state ORDER BY c.campaign, c.round, c.target",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![campaign], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?.unsigned_abs(),
                ))
            })
            .map_err(self.sql())?;
        let mut out: Vec<StateCount> = Vec::new();
        for r in rows {
            let (target, campaign, round, state, n) = r.map_err(self.sql())?;
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
        let n = self
            .conn
            .execute(
                "UPDATE calls SET phone = NULL, source = NULL, row = NULL, reply = NULL, message = NULL
                 WHERE updated_at < ?1 AND phone IS NOT NULL AND state NOT IN ('sending', 'accepted', 'in_doubt')",
                params![before],
            )
            .map_err(self.sql())?;
        self.conn
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
        let run = l.start_run("mock", "c", "r").unwrap();
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
        l.start_run("live", "c", "r").unwrap();
        assert!(
            !l.knows_campaign("live", "c").unwrap(),
            "a run that sent nothing does not count"
        );
        assert!(!l.knows_campaign("live", "c").unwrap());
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
        let run = l.start_run("mock", "c", "r").unwrap();
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
