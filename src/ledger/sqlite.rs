//! The SQLite store (bundled; the default for one machine): WAL with full sync, so a committed
//! row survives a crash and a power loss. One run at a time holds its lock: an advisory lock
//! (`flock(2)`) on the database file's own descriptor, so it holds whatever path reaches the
//! file (a link to a directory on the way, `./x/../state.db`, a hard link), and no lock file
//! beside it can be deleted or planted. SQLite's own locks are `fcntl(2)` locks, which on
//! Linux do not interact with `flock`: `pause`, `status`, `report` and `plan` read and write
//! while a run holds it. (On a network file system `flock` may be emulated with `fcntl`
//! locks; a SQLite ledger in WAL mode does not belong on one anyway.)

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, Type, ValueRef};
use rusqlite::{Connection, OptionalExtension as _, params};

use super::call_language;
use super::callbacks::SqliteCallbacks;
use super::targets::{self, TargetsRewritten};
use super::workflows::SqliteWorkflows;
use super::{
    Attempt, BadTime, CallState, CountRow, Deferred, KeyHistory, LedgerError, ListValues, NewCall,
    Runner, StoredSeconds, StoredTime, UnknownState, files, hostname, mark, now,
};

/// The SQLite schema version this build writes.
pub const SCHEMA_VERSION: i64 = 9;

/// The ledger in a SQLite file.
pub(super) struct Sqlite {
    /// Declared before `file`, so it is closed first, then the run lock let go.
    conn: Connection,
    path: PathBuf,
    /// The database file, opened without following a link at its name (the process's one
    /// descriptor of it, never closed: see `files.rs`): the run lock is taken on it.
    file: files::Database,
    /// What the migration to version 5 made of the stored targets, when this open ran it.
    rewritten: Option<TargetsRewritten>,
}

/// Version 6: the receiver finds a callback's calls by batch id; each batch's stats; the
/// callbacks kept until their batch is known (or refused, for inspection); the numbers whose
/// reply opted them out, and the replies each campaign counts as one.
const MIGRATION_6: &str =
    "CREATE INDEX calls_by_batch ON calls(batch_id) WHERE batch_id IS NOT NULL;
    CREATE TABLE batches (
        target TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        stats TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (target, batch_id)
    );
    CREATE TABLE kept_callbacks (
        id INTEGER PRIMARY KEY,
        batch_id TEXT UNIQUE,
        reason TEXT NOT NULL,
        body TEXT NOT NULL,
        outcomes TEXT,
        received_at TEXT NOT NULL
    );
    CREATE TABLE reply_opt_outs (
        phone TEXT PRIMARY KEY,
        campaign TEXT NOT NULL,
        reply TEXT NOT NULL,
        since TEXT NOT NULL
    );
    ALTER TABLE campaigns ADD COLUMN opt_out_replies TEXT NOT NULL DEFAULT '[]';
    PRAGMA user_version = 6;";

/// Version 7: which service workflow each declared workflow is bound to, and every workflow
/// ever bound for it (issue 18: see `workflows/`).
const MIGRATION_7: &str = "CREATE TABLE workflow_bindings (
        target TEXT NOT NULL,
        campaign TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        language TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        pushed TEXT NOT NULL,
        bound_at TEXT NOT NULL,
        PRIMARY KEY (target, campaign, workflow_name, language)
    );
    CREATE TABLE workflow_pushes (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        campaign TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        language TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        pushed TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX workflow_pushes_by_campaign ON workflow_pushes(target, campaign);
    PRAGMA user_version = 7;";

/// Version 8: the values of the campaign's `list_columns` kept with each call, as the text
/// of a JSON object (issue 19: see `list_values.rs`); purged with the number.
const MIGRATION_8: &str = "ALTER TABLE calls ADD COLUMN list_values TEXT;
    PRAGMA user_version = 8;";

/// Version 9: the key of the campaign's `languages:` each call was placed in (issue 20: see
/// `call_language.rs`); kept by purge, the campaign's grouping as the voice is.
const MIGRATION_9: &str = "ALTER TABLE calls ADD COLUMN language TEXT;
    PRAGMA user_version = 9;";

/// The migrations that each add what one issue needs, in order.
const LATER_MIGRATIONS: [(i64, &str); 4] = [
    (6, MIGRATION_6),
    (7, MIGRATION_7),
    (8, MIGRATION_8),
    (9, MIGRATION_9),
];

const SETTLE_SQL: &str = "UPDATE calls SET state = ?3, batch_id = COALESCE(?4, batch_id), message = COALESCE(?5, message), updated_at = ?6
     WHERE target = ?1 AND key = ?2 AND attempt = ?7";

/// A state column: an unknown state fails the row (see [`sql_error`]).
impl FromSql for CallState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        CallState::parse(text)
            .ok_or_else(|| FromSqlError::Other(Box::new(UnknownState(text.to_owned()))))
    }
}

/// A timestamp column: RFC 3339 text, or an error naming what it holds instead.
impl FromSql for StoredTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        StoredTime::parse(value.as_str()?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A length of time column: seconds.
impl FromSql for StoredSeconds {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        StoredSeconds::new(f64::column_result(value)?).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// The ledger's error for a statement on the file at `path`: a row with an unknown state is
/// [`LedgerError::UnknownState`], one with a time that is not one [`LedgerError::BadTime`],
/// anything else the database's own error.
fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
    move |error| {
        if let rusqlite::Error::FromSqlConversionFailure(_, _, source) = &error {
            if let Some(UnknownState(state)) = source.downcast_ref::<UnknownState>() {
                return LedgerError::UnknownState {
                    path: path.to_path_buf(),
                    state: state.clone(),
                };
            }
            if let Some(bad) = source.downcast_ref::<BadTime>() {
                return LedgerError::BadTime {
                    path: path.to_path_buf(),
                    error: bad.clone(),
                };
            }
        }
        LedgerError::Sql {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// The schema version the file records.
fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

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
                d.at.to_string(),
                attempt
            ])?;
        }
    }
    Ok(())
}

/// The one mapping of a `calls` row (columns in [`COLUMNS`] order) to an attempt.
fn row_to_attempt(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        campaign: r.get(0)?,
        round: r.get(1)?,
        key: r.get(2)?,
        attempt: r.get(3)?,
        phone: r.get(4)?,
        state: r.get(5)?,
        batch_id: r.get(6)?,
        call_id: r.get(7)?,
        reply: r.get(8)?,
        duration: r.get::<_, Option<StoredSeconds>>(9)?.map(|d| d.0),
        message: r.get(10)?,
        source: r.get(11)?,
        row: r.get::<_, Option<i64>>(12)?.map(i64::unsigned_abs),
        created_at: r.get::<_, StoredTime>(13)?.0,
        updated_at: r.get::<_, StoredTime>(14)?.0,
        run_id: r.get(15)?,
        list_values: ListValues::from_stored(r.get::<_, Option<String>>(16)?.as_deref())
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(16, Type::Text, Box::new(e)))?,
        language: call_language::from_stored(r.get(17)?)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(17, Type::Text, Box::new(e)))?,
    })
}

/// The write-ahead's statement: the calls' columns, with `list_values` (as `?11`) and
/// `language` (next) only when some call has them, so that a ledger of an older version
/// takes calls without them.
fn insert_sql(with_lists: bool, with_languages: bool) -> String {
    let mut columns = String::new();
    let mut values = String::new();
    let mut updates = String::new();
    let mut n = 10;
    for (name, with) in [("list_values", with_lists), ("language", with_languages)] {
        if with {
            n += 1;
            // Writing to a String cannot fail.
            let _ = write!(columns, ", {name}");
            let _ = write!(values, ", ?{n}");
            let _ = write!(updates, ", {name} = ?{n}");
        }
    }
    format!(
        "INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at{columns})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sending', ?9, ?10, ?10{values})
         ON CONFLICT (target, key, attempt) DO UPDATE SET state = 'sending', run_id = ?9, updated_at = ?10{updates}
         WHERE calls.state = 'not_sent'"
    )
}

/// The columns [`row_to_attempt`] reads.
const COLUMNS: &str = "campaign, round, key, attempt, phone, state, batch_id, call_id, reply, duration, message, source, row, created_at, updated_at, run_id, list_values, language";

/// The stored targets' rewrite (see `targets.rs`) inside a SQLite transaction: the targets
/// of `calls` and `runs` (the other tables hold none).
struct SqliteRewrite<'a, 'c>(&'a rusqlite::Transaction<'c>);

impl targets::Rewrite for SqliteRewrite<'_, '_> {
    type Error = rusqlite::Error;

    fn targets(&mut self) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self
            .0
            .prepare("SELECT DISTINCT target FROM calls UNION SELECT DISTINCT target FROM runs")?;
        stmt.query_map([], |r| r.get(0))?.collect()
    }

    fn colliding_keys(&mut self, members: &[String]) -> rusqlite::Result<Vec<String>> {
        let mut stmt = self.0.prepare(
            "SELECT DISTINCT c.key FROM calls c WHERE c.target = ?1
               AND EXISTS (SELECT 1 FROM calls d WHERE d.target = ?2 AND d.key = c.key)",
        )?;
        let mut keys = std::collections::BTreeSet::new();
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                for key in stmt.query_map(params![a, b], |r| r.get::<_, String>(0))? {
                    keys.insert(key?);
                }
            }
        }
        Ok(keys.into_iter().collect())
    }

    fn attempts(&mut self, target: &str, key: &str) -> rusqlite::Result<targets::Attempts> {
        let mut stmt = self.0.prepare_cached(
            "SELECT attempt, state, created_at FROM calls WHERE target = ?1 AND key = ?2 ORDER BY attempt",
        )?;
        stmt.query_map(params![target, key], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect()
    }

    fn park(
        &mut self,
        from: &str,
        key: &str,
        attempt: i64,
        to: &str,
        new: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE calls SET target = ?4, attempt = ?5 WHERE target = ?1 AND key = ?2 AND attempt = ?3",
            )?
            .execute(params![from, key, attempt, to, -new])
            .map(drop)
    }

    fn unpark(&mut self, _members: &[String], key: &str, to: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE calls SET attempt = -attempt WHERE target = ?1 AND key = ?2 AND attempt < 0",
            )?
            .execute(params![to, key])
            .map(drop)
    }

    fn rename(&mut self, from: &str, to: &str) -> rusqlite::Result<u64> {
        let moved = self.0.execute(
            "UPDATE calls SET target = ?2 WHERE target = ?1",
            params![from, to],
        )?;
        self.0.execute(
            "UPDATE runs SET target = ?2 WHERE target = ?1",
            params![from, to],
        )?;
        Ok(u64::try_from(moved).unwrap_or(u64::MAX))
    }
}

impl Sqlite {
    /// Opens the file at `path` (created if needed, owner-only), applies the migrations, and
    /// refuses it when it lost committed records (see `mark.rs`).
    pub(super) fn open(path: &Path) -> Result<Sqlite, LedgerError> {
        let store = Sqlite::connect(path, SCHEMA_VERSION)?;
        store.check_mark()?;
        Ok(store)
    }

    /// Opens the file at `path` as [`Sqlite::open`] does, takes the run lock, and rewrites the
    /// mark to what the file holds: the loss of records, if any, is accepted.
    pub(super) fn accept_loss(path: &Path) -> Result<Sqlite, LedgerError> {
        let mut store = Sqlite::connect(path, SCHEMA_VERSION)?;
        store.lock()?;
        mark::write(path, store.writes()?)?;
        Ok(store)
    }

    /// The write-aheads the database holds (see `mark.rs`).
    fn writes(&self) -> Result<u64, LedgerError> {
        self.conn
            .query_row("SELECT writes FROM ledger_mark WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(i64::unsigned_abs)
            .map_err(self.sql())
    }

    /// Refuses a database that holds fewer write-aheads than its mark says it committed, or
    /// that has committed some and lost its mark; gives a new ledger its mark.
    fn check_mark(&self) -> Result<(), LedgerError> {
        // The mark first: a run committing meanwhile writes its mark after its commit, so
        // the count read next is never behind the mark read here.
        let recorded = mark::read(&self.path)?;
        let found = self.writes()?;
        match recorded {
            Some(recorded) if recorded > found => Err(LedgerError::LostRecords {
                path: self.path.clone(),
                mark: mark::path(&self.path),
                recorded,
                found,
            }),
            Some(_) => Ok(()),
            None if found > 0 => Err(LedgerError::MissingMark {
                path: self.path.clone(),
                mark: mark::path(&self.path),
                found,
            }),
            None => mark::create(&self.path, found),
        }
    }

    /// Opens the file at `path` (created if needed, owner-only) and applies the migrations up
    /// to version `upto`.
    fn connect(path: &Path, upto: i64) -> Result<Sqlite, LedgerError> {
        let io = |source| LedgerError::Io {
            path: path.to_path_buf(),
            error: source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Create the file owner-only before SQLite opens it: it holds phone numbers. Neither
        // it nor the files SQLite keeps beside it may be a link at its own name.
        let file = files::open_database(path)?;
        files::refuse_linked_companions(path)?;
        let sql = sql_error(path);
        let conn = Connection::open(path).map_err(&sql)?;
        // The file SQLite opened is the one this descriptor holds (nothing swapped it since).
        let opened = conn
            .path()
            .map_or_else(|| path.to_path_buf(), PathBuf::from);
        if !files::same_file(file.file(), &opened).map_err(io)? {
            return Err(LedgerError::Io {
                path: path.to_path_buf(),
                error: std::io::Error::other("the file changed while it was being opened"),
            });
        }
        conn.execute_batch(
            // A 64 MiB page cache: a campaign's rows and indexes are read back by every
            // batch's inserts and updates; the default 2 MiB sends most reads to the kernel.
            "PRAGMA busy_timeout=10000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=10000;",
        )
        .map_err(&sql)?;
        let mut store = Sqlite {
            conn,
            path: path.to_path_buf(),
            file,
            rewritten: None,
        };
        store.migrate_to(upto)?;
        Ok(store)
    }

    /// The ledger's file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        sql_error(&self.path)
    }

    /// Applies the versioned migrations this build knows.
    pub(super) fn migrate(&mut self) -> Result<(), LedgerError> {
        self.migrate_to(SCHEMA_VERSION)
    }

    /// Applies the migrations up to version `upto` (the tests build older ledgers with it).
    fn migrate_to(&mut self, upto: i64) -> Result<(), LedgerError> {
        let sql = sql_error(&self.path);
        let too_new = |found| LedgerError::TooNew {
            path: self.path.clone(),
            found,
            known: SCHEMA_VERSION,
        };
        let version = user_version(&self.conn).map_err(&sql)?;
        if version > SCHEMA_VERSION {
            return Err(too_new(version));
        }
        if version >= upto {
            return Ok(());
        }
        // Every step in one transaction, taken at once, the version read again inside it:
        // two processes opening a ledger this build upgrades take turns, and the second
        // finds it upgraded (reading the version outside, both ran the same step, and one
        // failed on a table the other had made).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let version = user_version(&tx).map_err(&sql)?;
        if version > SCHEMA_VERSION {
            return Err(too_new(version));
        }
        let mut rewritten = None;
        if version < 1 && upto >= 1 {
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
            .map_err(&sql)?;
        }
        if version < 2 && upto >= 2 {
            // Heartbeats, so `status` shows the runner as Postgres ledgers do.
            tx.execute_batch(
                "ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
                ALTER TABLE runs ADD COLUMN lease_secs REAL NOT NULL DEFAULT 30;
                ALTER TABLE runs ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
                PRAGMA user_version = 2;",
            )
            .map_err(&sql)?;
        }
        if version < 3 && upto >= 3 {
            // Every batch updates its calls' state and batch id: no index holds either any
            // more (no query looks calls up by batch, and state is filtered after the round's
            // rows are found), so an update rewrites the row alone.
            tx.execute_batch(
                "DROP INDEX IF EXISTS calls_by_batch;
                DROP INDEX IF EXISTS calls_by_campaign;
                CREATE INDEX calls_by_round ON calls(target, campaign, round);
                PRAGMA user_version = 3;",
            )
            .map_err(&sql)?;
        }
        if version < 4 && upto >= 4 {
            // The count of write-aheads committed, which the mark beside the file is checked
            // against (see `mark.rs`); and the file of each campaign name.
            tx.execute_batch(
                "CREATE TABLE ledger_mark (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    writes INTEGER NOT NULL
                );
                INSERT INTO ledger_mark (id, writes) VALUES (1, 0);
                -- Which campaign file each campaign name belongs to, relative to its
                -- repository: two files with one name would share one record of calls.
                CREATE TABLE campaigns (
                    name TEXT PRIMARY KEY,
                    path TEXT NOT NULL,
                    since TEXT NOT NULL
                );
                PRAGMA user_version = 4;",
            )
            .map_err(&sql)?;
        }
        if version < 5 && upto >= 5 {
            // Every stored target in its normal form (issue 14, class 4: see `targets.rs`),
            // in one transaction with the version.
            rewritten = Some(targets::rewrite(&mut SqliteRewrite(&tx)).map_err(&sql)?);
            tx.execute_batch("PRAGMA user_version = 5;").map_err(&sql)?;
        }
        // Outcomes from the service's callbacks (issue 17: see `callbacks/`); declared
        // workflows bound to the service's (issue 18: `workflows/`); the list columns kept
        // with each call (issue 19: `list_values.rs`); the language of each call (issue 20:
        // `call_language.rs`).
        for (v, migration) in LATER_MIGRATIONS {
            if version < v && upto >= v {
                tx.execute_batch(migration).map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)?;
        if rewritten.is_some() {
            self.rewritten = rewritten;
        }
        Ok(())
    }

    /// What the migration to version 5 made of the stored targets, when this open ran it.
    pub(super) fn rewritten(&self) -> Option<&TargetsRewritten> {
        self.rewritten.as_ref()
    }

    /// Takes the run lock on the database file for this process, or says who holds it (see
    /// [`super::Ledger::lock`]): the runs recorded running whose process is alive.
    pub(super) fn lock(&mut self) -> Result<(), LedgerError> {
        match self.file.try_lock() {
            Ok(true) => Ok(()),
            Ok(false) => Err(LedgerError::Locked {
                path: self.path.clone(),
                holder: self.holders(),
            }),
            Err(e) => Err(LedgerError::Io {
                path: self.path.clone(),
                error: e,
            }),
        }
    }

    /// Who holds the lock, as far as the ledger says: its live runs.
    fn holders(&self) -> String {
        let live: Vec<String> = self
            .runners(None)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.alive)
            .map(|r| {
                format!(
                    "pid {} on {}, applying {} since {}",
                    r.pid, r.host, r.campaign, r.started_at
                )
            })
            .collect();
        if live.is_empty() {
            "another outreach process, which has not started its run yet".to_owned()
        } else {
            live.join("; ")
        }
    }

    /// The runs recorded running that are alive (see [`Runner::alive`]).
    fn live_runs(&self) -> Result<HashSet<String>, LedgerError> {
        Ok(self
            .runners(None)?
            .into_iter()
            .filter(|r| r.alive)
            .map(|r| r.run_id)
            .collect())
    }

    pub(super) fn claim_campaign(
        &self,
        name: &str,
        path: &str,
        moved_from: &[String],
    ) -> Result<(), LedgerError> {
        let tx = self.conn.unchecked_transaction().map_err(self.sql())?;
        tx.execute(
            "INSERT INTO campaigns (name, path, since) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            params![name, path, now()],
        )
        .map_err(self.sql())?;
        let recorded: String = tx
            .query_row(
                "SELECT path FROM campaigns WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        if recorded != path {
            if !moved_from.contains(&recorded) {
                return Err(LedgerError::CampaignElsewhere {
                    path: self.path.clone(),
                    campaign: name.to_owned(),
                    recorded,
                    given: path.to_owned(),
                });
            }
            tx.execute(
                "UPDATE campaigns SET path = ?2, since = ?3 WHERE name = ?1",
                params![name, path, now()],
            )
            .map_err(self.sql())?;
        }
        tx.commit().map_err(self.sql())
    }

    pub(super) fn start_run(
        &self,
        id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        lease: f64,
    ) -> Result<(), LedgerError> {
        let pid = std::process::id();
        self.conn
            .execute(
                "INSERT INTO runs (id, target, campaign, round, started_at, host, pid, status, heartbeat_at, lease_secs)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?5, ?8)",
                params![id, target, campaign, round, now(), hostname(), pid, lease],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    pub(super) fn heartbeat(&self, run_id: &str, claimed: i64) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE runs SET heartbeat_at = ?2, claimed = ?3 WHERE id = ?1",
                params![run_id, now(), claimed],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    pub(super) fn end_run(
        &self,
        run_id: &str,
        status: &str,
        detail: &str,
    ) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, status = ?3, detail = ?4 WHERE id = ?1",
                params![run_id, now(), status, detail],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    pub(super) fn runners(&self, campaign: Option<&str>) -> Result<Vec<Runner>, LedgerError> {
        let mut stmt = self
            .conn
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
                let beat = r.get::<_, StoredTime>(7)?.0;
                let lease: f64 = r.get(9)?;
                // A heartbeat ahead of this clock is no age at all.
                let age = Duration::try_from(now.duration_since(beat)).unwrap_or_default();
                let (host, pid): (String, u32) = (r.get(1)?, r.get(2)?);
                Ok(Runner {
                    run_id: r.get(0)?,
                    pid,
                    campaign: r.get(3)?,
                    round: r.get(4)?,
                    target: r.get(5)?,
                    started_at: r.get::<_, StoredTime>(6)?.0,
                    heartbeat_age: age,
                    claimed: r.get::<_, i64>(8)?.unsigned_abs(),
                    // One machine: a run whose process is gone is dead, whatever its clock said.
                    alive: Runner::within_lease(age, lease) && !Runner::process_gone(&host, pid),
                    last_heartbeat: beat,
                    host,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    pub(super) fn knows_campaign(&self, target: &str, campaign: &str) -> Result<bool, LedgerError> {
        self.conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM calls WHERE target = ?1 AND campaign = ?2)",
                params![target, campaign],
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    pub(super) fn history(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<HashMap<String, KeyHistory>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, attempt, state, retry_at, updated_at FROM calls c
                 WHERE target = ?1 AND campaign = ?2 AND round = ?3
                   AND attempt = (SELECT MAX(attempt) FROM calls d WHERE d.target = c.target AND d.key = c.key)",
            )
            .map_err(self.sql())?;
        let rows: Vec<(String, KeyHistory)> = stmt
            .query_map(params![target, campaign, round], |r| {
                Ok((
                    r.get(0)?,
                    KeyHistory {
                        attempt: r.get(1)?,
                        state: r.get(2)?,
                        retry_at: r.get::<_, Option<StoredTime>>(3)?.map(|t| t.0),
                        updated_at: r.get::<_, StoredTime>(4)?.0,
                    },
                ))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        // Sized once (the rows' count is known): a large campaign's history is read at
        // every round.
        Ok(rows.into_iter().collect())
    }

    pub(super) fn begin(
        &mut self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[NewCall<'_>],
        deferred: &[Deferred],
    ) -> Result<Vec<usize>, LedgerError> {
        let t = now();
        let sql = sql_error(&self.path);
        let tx = self.conn.transaction().map_err(&sql)?;
        write_deferred(&tx, deferred).map_err(&sql)?;
        let mut recorded = Vec::with_capacity(calls.len());
        {
            // Calls without list values (a campaign without `list_columns`) or without a
            // language (a campaign without `languages:`) are written as a build before
            // version 8 (or 9) wrote them, leaving the column NULL: the upgrade tests make
            // older ledgers through this statement.
            let with_lists = calls.iter().any(|c| !c.list_values.is_empty());
            let with_languages = calls.iter().any(|c| c.language.is_some());
            let mut stmt = tx
                .prepare_cached(&insert_sql(with_lists, with_languages))
                .map_err(&sql)?;
            for (i, c) in calls.iter().enumerate() {
                let row = i64::try_from(c.row).unwrap_or(i64::MAX);
                // One row changed: inserted, or a `not_sent` attempt taken up again. None:
                // recorded already. (Cheaper than RETURNING, which SQLite materialises.)
                let list = c.list_values.to_stored();
                let mut values: Vec<&dyn rusqlite::ToSql> = vec![
                    &target, &campaign, &round, &c.key, &c.attempt, &c.phone, &c.source, &row,
                    &run_id, &t,
                ];
                if with_lists {
                    values.push(&list);
                }
                if with_languages {
                    values.push(&c.language);
                }
                let changed = stmt.execute(&*values).map_err(&sql)?;
                if changed > 0 {
                    recorded.push(i);
                }
            }
        }
        let writes = if recorded.is_empty() {
            None
        } else {
            Some(
                tx.query_row(
                    "UPDATE ledger_mark SET writes = writes + 1 WHERE id = 1 RETURNING writes",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(&sql)?,
            )
        };
        tx.commit().map_err(&sql)?;
        // Before any of these calls' requests leaves: a `-wal` lost from now on is told.
        if let Some(writes) = writes {
            mark::write(&self.path, writes.unsigned_abs())?;
        }
        Ok(recorded)
    }

    /// Settles attempts, and the deferred settles, in one transaction.
    pub(super) fn settle(
        &mut self,
        target: &str,
        attempts: &[(&str, u32)],
        state: CallState,
        batch_id: Option<&str>,
        message: Option<&str>,
        deferred: &[Deferred],
    ) -> Result<(), LedgerError> {
        let t = now();
        let sql = sql_error(&self.path);
        let tx = self.conn.transaction().map_err(&sql)?;
        write_deferred(&tx, deferred).map_err(&sql)?;
        {
            let mut stmt = tx.prepare_cached(SETTLE_SQL).map_err(&sql)?;
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
                .map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)?;
        Ok(())
    }

    pub(super) fn resolve(
        &self,
        target: &str,
        read: &Attempt,
        to: CallState,
        batch_id: Option<&str>,
        message: &str,
    ) -> Result<bool, LedgerError> {
        let n = self
            .conn
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
                    read.updated_at.to_string()
                ],
            )
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    pub(super) fn outcome(
        &self,
        target: &str,
        key: &str,
        attempt: u32,
        state: CallState,
        call_id: Option<&str>,
        duration: Option<Duration>,
        reply: Option<&str>,
        retry_at: Option<Timestamp>,
    ) -> Result<(), LedgerError> {
        let duration = duration.map(|d| d.as_secs_f64());
        let retry_at = retry_at.map(|t| t.to_string());
        self.conn
            .execute(
                "UPDATE calls SET state = ?4, call_id = COALESCE(?5, call_id), duration = ?6, reply = ?7, retry_at = ?8, updated_at = ?9
                 WHERE target = ?1 AND key = ?2 AND attempt = ?3
                   AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
                params![target, key, attempt, state.as_str(), call_id, duration, reply, retry_at, now()],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    pub(super) fn attempts(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<Vec<Attempt>, LedgerError> {
        self.select_attempts(
            "target = ?1 AND campaign = ?2 AND round = ?3",
            target,
            campaign,
            round,
            None,
        )
    }

    /// `sending` calls of other runs (a crash: this run holds the lock, so every other run is
    /// over), and with `in_doubt`, the calls in doubt. A call `sending` under a run that is
    /// alive (its heartbeat within its lease, its process there) is in flight elsewhere,
    /// never abandoned, whatever the lock says.
    pub(super) fn unresolved(
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
        let live = self.live_runs()?;
        let mut found = self.select_attempts(
            &format!(
                "target = ?1 AND campaign = ?2 AND round = ?3
                 AND ({doubt} OR (state = 'sending' AND run_id <> ?4))"
            ),
            target,
            campaign,
            round,
            Some(run_id),
        )?;
        found.retain(|a| a.state != CallState::Sending || !live.contains(&a.run_id));
        Ok(found)
    }

    fn select_attempts(
        &self,
        sqlite_where: &str,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<Attempt>, LedgerError> {
        let mut stmt = self
            .conn
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

    // Every state but `rejected` and `not_sent` may have reached the number: `completed`
    // and `outcome_unknown` calls count toward the cap.
    pub(super) fn recent_calls(
        &self,
        target: &str,
        phone: &str,
        since: Timestamp,
    ) -> Result<u64, LedgerError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM calls WHERE target = ?1 AND phone = ?2 AND created_at >= ?3
                 AND state NOT IN ('rejected', 'not_sent')",
                params![target, phone, since.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .map(i64::unsigned_abs)
            .map_err(self.sql())
    }

    pub(super) fn pause(&self, campaign: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO pauses (campaign, since) VALUES (?1, ?2) ON CONFLICT (campaign) DO NOTHING",
                params![campaign, now()],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    pub(super) fn resume(&self, campaign: &str) -> Result<bool, LedgerError> {
        let n = self
            .conn
            .execute("DELETE FROM pauses WHERE campaign = ?1", params![campaign])
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    pub(super) fn paused_since(&self, campaign: &str) -> Result<Option<Timestamp>, LedgerError> {
        self.conn
            .query_row(
                "SELECT since FROM pauses WHERE campaign = ?1",
                params![campaign],
                |r| r.get::<_, StoredTime>(0),
            )
            .optional()
            .map(|t| t.map(|t| t.0))
            .map_err(self.sql())
    }

    /// (target, campaign, round, latest state, count) rows, ordered by campaign, round and
    /// target.
    pub(super) fn counts(&self, campaign: Option<&str>) -> Result<Vec<CountRow>, LedgerError> {
        let mut stmt = self
            .conn
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
        .map_err(self.sql())
    }

    /// Runs `f` over the callbacks' statements in one transaction, taken at once (a
    /// receiver's write waits its turn behind a run's, never fails half-way for it).
    pub(super) fn callbacks<R>(
        &mut self,
        f: impl FnOnce(&mut SqliteCallbacks<'_, '_>) -> rusqlite::Result<R>,
    ) -> Result<R, LedgerError> {
        let sql = sql_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(&sql)?;
        let out = f(&mut SqliteCallbacks(&tx)).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(out)
    }

    /// Runs `f` over the bindings' statements in one transaction (a bind's first statement
    /// writes, so it waits its turn for the write lock, and reads nothing stale).
    pub(super) fn workflows<R>(
        &self,
        f: impl FnOnce(&mut SqliteWorkflows<'_, '_>) -> rusqlite::Result<R>,
    ) -> Result<R, LedgerError> {
        let sql = sql_error(&self.path);
        let tx = self.conn.unchecked_transaction().map_err(&sql)?;
        let out = f(&mut SqliteWorkflows(&tx)).map_err(&sql)?;
        tx.commit().map_err(&sql)?;
        Ok(out)
    }

    /// The numbers whose reply opted them out.
    pub(super) fn reply_opt_outs(&self) -> Result<Vec<String>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT phone FROM reply_opt_outs")
            .map_err(self.sql())?;
        stmt.query_map([], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.sql())
    }

    /// Records the reply options that opt a number out for campaign `name` (claimed).
    pub(super) fn set_opt_out_replies(&self, name: &str, json: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE campaigns SET opt_out_replies = ?2 WHERE name = ?1",
                params![name, json],
            )
            .map(drop)
            .map_err(self.sql())
    }

    // Calls still waiting for an outcome keep their number (a conversation's outcome is
    // matched by it); `completed` and `outcome_unknown` are final, and purged like the rest.
    // The call's `language` is kept: the campaign's grouping (a key of its `languages:`, as
    // the voice is), not what the patient's row said.
    pub(super) fn purge(&self, before: Timestamp) -> Result<u64, LedgerError> {
        let n = self
            .conn
            .execute(
                "UPDATE calls SET phone = NULL, source = NULL, row = NULL, reply = NULL, message = NULL, list_values = NULL
                 WHERE updated_at < ?1 AND phone IS NOT NULL AND state NOT IN ('sending', 'accepted', 'in_doubt')",
                params![before.to_string()],
            )
            .map_err(self.sql())?;
        self.conn
            .execute(
                "DELETE FROM kept_callbacks WHERE received_at < ?1",
                params![before.to_string()],
            )
            .map_err(self.sql())?;
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")
            .map_err(self.sql())?;
        Ok(n as u64)
    }
}

#[cfg(test)]
impl Sqlite {
    /// The file at `path` migrated up to version `upto` only, as an older build left it: for
    /// the upgrade tests of the other modules.
    pub(super) fn at_version(path: &Path, upto: i64) -> Result<Sqlite, LedgerError> {
        Sqlite::connect(path, upto)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ledger::Ledger;

    fn call(key: &str) -> NewCall<'_> {
        NewCall {
            key,
            attempt: 1,
            phone: "+2348031234567",
            source: "p.csv",
            row: 2,
            list_values: &crate::ledger::NO_LIST_VALUES,
            language: None,
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
    fn the_lock_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut a = Ledger::open(&path).unwrap();
        a.lock().unwrap();
        a.start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        let mut b = Ledger::open(&path).unwrap();
        match b.lock() {
            Err(LedgerError::Locked { holder, .. }) => {
                let me = format!(
                    "pid {} on {}, applying c since",
                    std::process::id(),
                    hostname()
                );
                assert!(holder.starts_with(&me), "{holder}");
            }
            other => panic!("{other:?}"),
        }
        // No file beside the ledger holds the lock: deleting one frees nothing.
        let beside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with("state.db"))
            .collect();
        assert!(beside.is_empty(), "{beside:?}");
        drop(a);
        b.lock().unwrap();
    }

    // Class 2 (issue 14): the lock is on the file, not on the path that reached it.
    #[cfg(unix)]
    #[test]
    fn the_lock_holds_through_any_path_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("x")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("via")).unwrap();
        let path = dir.path().join("state.db");
        let mut a = Ledger::open(&path).unwrap();
        a.lock().unwrap();
        for other in ["x/../state.db", "via/state.db"] {
            let mut b = Ledger::open(&dir.path().join(other)).unwrap();
            assert!(
                matches!(b.lock(), Err(LedgerError::Locked { .. })),
                "{other}"
            );
        }
    }

    // Closing a descriptor of the database drops every fcntl lock the process holds on it,
    // SQLite's included: ledgers of one process share one descriptor, never closed, and the
    // run lock still excludes the others.
    #[test]
    fn ledgers_of_one_process_share_a_descriptor_and_the_lock_still_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut a = Ledger::open(&path).unwrap();
        a.lock().unwrap();
        let mut b = Ledger::open(&path).unwrap();
        assert!(matches!(b.lock(), Err(LedgerError::Locked { .. })));
        drop(b);
        let mut c = Ledger::open(&path).unwrap();
        assert!(matches!(c.lock(), Err(LedgerError::Locked { .. })));
        drop(a);
        c.lock().unwrap();
        drop(c);
        // A ledger deleted and made anew (its inode perhaps reused) opens as a new one.
        for f in ["state.db", "state.db-wal", "state.db-shm", "state.db-mark"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let mut d = Ledger::open(&path).unwrap();
        d.lock().unwrap();
    }

    // Class 2: a call `sending` under a live run is in flight there, not abandoned.
    #[test]
    fn a_call_sending_under_a_live_run_is_never_taken_for_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let _first = with_one_call(&path);
        let mut second = Ledger::open(&path).unwrap();
        let run = second
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        assert!(
            second
                .unresolved("mock", "c", "r", &run, true)
                .unwrap()
                .is_empty()
        );
        // Once its run is over, it is in doubt and looked up.
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "UPDATE runs SET status = 'interrupted' WHERE id <> ?1",
            [&run],
        )
        .unwrap();
        assert_eq!(
            second
                .unresolved("mock", "c", "r", &run, true)
                .unwrap()
                .len(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_a_companion_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("passwd");
        std::fs::write(&target, "root:x:0:0").unwrap();
        for suffix in ["-wal", "-shm"] {
            let path = dir.path().join(format!("s{suffix}.db"));
            std::os::unix::fs::symlink(&target, files::beside(&path, suffix)).unwrap();
            match Ledger::open(&path) {
                Err(e @ LedgerError::Symlink { .. }) => {
                    assert!(e.to_string().contains(suffix), "{e}");
                }
                Err(other) => panic!("{other:?}"),
                Ok(_) => panic!("a link at {suffix} was followed"),
            }
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "root:x:0:0");
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
            Some(std::time::Duration::from_secs(3)),
            None,
            None,
        )
        .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z".parse().unwrap()).unwrap(), 1);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        assert_eq!(a[0].phone, None);
        assert_eq!(a[0].state, CallState::Answered);
        assert_eq!(
            l.counts(Some("c")).unwrap()[0].counts,
            vec![(CallState::Answered, 1)]
        );
    }

    // Class 3 (issue 14): an older copy of the database put back (or its `-wal` lost) is
    // refused, by every command, until the loss is accepted.
    #[test]
    fn a_ledger_that_lost_records_is_refused_until_the_loss_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Ledger::open(&path).unwrap());
        let older = dir.path().join("older.db");
        std::fs::copy(&path, &older).unwrap();
        drop(with_one_call(&path));
        assert_eq!(mark::read(&path).unwrap(), Some(1));
        std::fs::copy(&older, &path).unwrap();
        match Ledger::open(&path) {
            Err(
                e @ LedgerError::LostRecords {
                    recorded: 1,
                    found: 0,
                    ..
                },
            ) => {
                let e = e.to_string();
                assert!(e.contains("--accept-lost-records"), "{e}");
                assert!(e.contains("state.db-wal"), "{e}");
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("a ledger that lost a write-ahead was opened"),
        }
        drop(Ledger::open_accepting_loss(&path).unwrap());
        assert_eq!(mark::read(&path).unwrap(), Some(0));
        let l = Ledger::open(&path).unwrap();
        assert!(l.history("mock", "c", "r").unwrap().is_empty());
    }

    #[test]
    fn a_ledger_whose_mark_is_gone_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(with_one_call(&path));
        std::fs::remove_file(mark::path(&path)).unwrap();
        assert!(matches!(
            Ledger::open(&path),
            Err(LedgerError::MissingMark { found: 1, .. })
        ));
        // A ledger that never wrote ahead gets a mark; so does a new one.
        let fresh = dir.path().join("fresh.db");
        drop(Ledger::open(&fresh).unwrap());
        assert_eq!(mark::read(&fresh).unwrap(), Some(0));
    }

    // A run's mark is never ahead of what a reader finds, so a reader opening the ledger
    // while a run commits never takes it for one that lost records.
    #[test]
    fn the_mark_follows_each_write_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut l = with_one_call(&path);
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, "mock", "c", "r", &[call("k2"), call("k3")])
            .unwrap();
        // Recorded already: no write-ahead, no new mark.
        l.begin(&run, "mock", "c", "r", &[call("k2")]).unwrap();
        assert_eq!(mark::read(&path).unwrap(), Some(2));
        drop(Ledger::open(&path).unwrap());
    }

    // The migration to version 4 (issue 15, case 7, and issue 14, class 3): a version 3
    // ledger with calls is upgraded in place, its calls kept, given a mark, and campaign
    // files are recorded from then on.
    #[test]
    fn a_version_3_ledger_is_upgraded_keeping_its_calls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let old = Sqlite::connect(&path, 3).unwrap();
            old.start_run("r1", "mock", "c", "r", 30.0).unwrap();
            old.conn
                .execute_batch(
                    "INSERT INTO calls (target, campaign, round, key, attempt, phone, state, run_id, created_at, updated_at)
                     VALUES ('mock', 'c', 'r', 'k1', 1, '+2348031234567', 'accepted', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z');",
                )
                .unwrap();
            let v: i64 = old
                .conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, 3);
        }
        let mut l = Ledger::open(&path).unwrap();
        let v: i64 = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::Accepted
        );
        assert_eq!(mark::read(&path).unwrap(), Some(0));
        l.claim_campaign("c", "campaigns/c.yaml", &[]).unwrap();
        assert!(matches!(
            l.claim_campaign("c", "other/c.yaml", &[]),
            Err(LedgerError::CampaignElsewhere { .. })
        ));
        l.claim_campaign("c", "other/c.yaml", &["campaigns/c.yaml".to_owned()])
            .unwrap();
        l.claim_campaign("c", "other/c.yaml", &[]).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, "mock", "c", "r", &[call("k2")]).unwrap();
        assert_eq!(mark::read(&path).unwrap(), Some(1));
    }

    /// The normal form of the spellings the version 4 test ledger holds.
    const NORMAL: &str = "https://api.example.org";

    /// A version 4 ledger at `path` as an older build left it, calls under several spellings
    /// of one server: `k1` only under one; `k2` under two, unanswered under the one and
    /// answered earlier under the other; a dry run; a URL with a query; the mark agreeing.
    fn version_4_ledger(path: &Path) {
        let mut old = Sqlite::connect(path, 4).unwrap();
        let spelt = "HTTPS://API.Example.org:443/";
        let with_user = "https://user:s3cret@api.example.org/";
        for (run, target) in [
            ("r1", spelt),
            ("r2", NORMAL),
            ("r3", "dry-run:HTTPS://API.EXAMPLE.ORG"),
            ("r4", "https://api.example.org/?tenant=x"),
            ("r5", with_user),
        ] {
            old.start_run(run, target, "c", "r", 30.0).unwrap();
        }
        old.begin("r2", NORMAL, "c", "r", &[call("k2")], &[])
            .unwrap();
        old.begin("r1", spelt, "c", "r", &[call("k1"), call("k2")], &[])
            .unwrap();
        old.begin(
            "r3",
            "dry-run:HTTPS://API.EXAMPLE.ORG",
            "c",
            "r",
            &[call("k1")],
            &[],
        )
        .unwrap();
        old.begin(
            "r4",
            "https://api.example.org/?tenant=x",
            "c",
            "r",
            &[call("k3")],
            &[],
        )
        .unwrap();
        old.begin("r5", with_user, "c", "r", &[call("k4")], &[])
            .unwrap();
        old.conn
            .execute_batch(&format!(
                "UPDATE calls SET state = 'answered', created_at = '2026-11-01T09:00:00Z' WHERE target = '{NORMAL}';
                 UPDATE calls SET state = 'no_answer', retry_at = '2026-11-02T09:00:00Z', created_at = '2026-11-02T09:00:00Z' WHERE target = '{spelt}' AND key = 'k2';
                 UPDATE calls SET state = 'accepted' WHERE target = '{spelt}' AND key = 'k1';"
            ))
            .unwrap();
        assert_eq!(mark::read(path).unwrap(), Some(5));
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    // Issue 14, class 4, and the one migration of this schema version: a version 4 ledger
    // whose calls were recorded under spellings of one server finds them all under its
    // normal form; a call recorded under two is kept once per attempt, the answered one
    // deciding; nothing is lost, the mark still agrees, and a password leaves the ledger.
    #[test]
    fn a_version_5_ledger_is_upgraded_and_its_calls_take_callbacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let mut old = Sqlite::connect(&path, 5).unwrap();
            old.claim_campaign("c", "c.yaml", &[]).unwrap();
            old.start_run("r1", "mock", "c", "r", 30.0).unwrap();
            old.begin("r1", "mock", "c", "r", &[call("k1")], &[])
                .unwrap();
            old.settle(
                "mock",
                &[("k1", 1)],
                CallState::Accepted,
                Some("b1"),
                None,
                &[],
            )
            .unwrap();
        }
        assert_eq!(user_version(&path), 5);
        let mut l = Ledger::open(&path).unwrap();
        assert_eq!((user_version(&path), SCHEMA_VERSION), (9, 9));
        let conn = Connection::open(&path).unwrap();
        let replies: String = conn
            .query_row(
                "SELECT opt_out_replies FROM campaigns WHERE name = 'c'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(replies, "[]");
        let recorded = l
            .record_callbacks(&[crate::ledger::callbacks::tests::k1_answered_in_b1()])
            .unwrap();
        assert_eq!(recorded[0].settled, 1);
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::Answered
        );
    }

    fn clinic_and_ward() -> ListValues {
        let columns = ["clinic".to_owned(), "ward".to_owned()];
        ListValues::from_row(&columns, |c| Some(format!("{c} 1")))
    }

    // Issue 19: a version 7 ledger (no list values) keeps its calls, which read as having
    // none, and takes calls with their list values, read back in the campaign's order.
    #[test]
    fn a_version_7_ledger_is_upgraded_and_keeps_list_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let old = Sqlite::connect(&path, 7).unwrap();
            old.conn
                .execute_batch(
                    "INSERT INTO runs (id, target, campaign, round, started_at, status)
                        VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
                     INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at)
                        VALUES ('mock', 'c', 'r', 'k0', 1, '+2348031234560', 'p.csv', 2, 'answered', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z');",
                )
                .unwrap();
        }
        assert_eq!(user_version(&path), 7);
        let mut l = Ledger::open(&path).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        let values = clinic_and_ward();
        let with_values = NewCall {
            list_values: &values,
            ..call("k1")
        };
        l.begin(&run, "mock", "c", "r", &[with_values]).unwrap();
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        assert_eq!(a.len(), 2);
        let old = a.iter().find(|a| a.key == "k0").unwrap();
        assert_eq!(
            (old.state, old.list_values.is_empty()),
            (CallState::Answered, true)
        );
        let new = a.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(new.list_values, values);
        assert_eq!(
            new.list_values.iter().collect::<Vec<_>>(),
            [("clinic", "clinic 1"), ("ward", "ward 1")]
        );
    }

    // Issue 19: purge removes the list values with the number, in the file too.
    #[test]
    fn purge_removes_the_list_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut l = Ledger::open(&path).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        let values = clinic_and_ward();
        let calls = [
            NewCall {
                list_values: &values,
                ..call("k1")
            },
            NewCall {
                list_values: &values,
                ..call("k2")
            },
        ];
        l.begin(&run, "mock", "c", "r", &calls).unwrap();
        l.outcome("mock", "k1", 1, CallState::NoAnswer, None, None, None, None)
            .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z".parse().unwrap()).unwrap(), 1);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        let k1 = a.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(
            (k1.phone.as_deref(), k1.list_values.is_empty()),
            (None, true)
        );
        // A call still sending keeps its number and values until its outcome is known.
        let k2 = a.iter().find(|a| a.key == "k2").unwrap();
        assert_eq!(k2.list_values, values);
        drop(l);
        let stored: Option<String> = Connection::open(&path)
            .unwrap()
            .query_row("SELECT list_values FROM calls WHERE key = 'k1'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(stored, None);
    }

    // Issue 20: a version 8 ledger (no languages) keeps its calls and their list values,
    // which read as placed in no language, and takes calls with their language; purge keeps
    // the language (the campaign's grouping) while it removes the number.
    #[test]
    fn a_version_8_ledger_is_upgraded_and_keeps_languages_through_purge() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let old = Sqlite::connect(&path, 8).unwrap();
            old.conn
                .execute_batch(
                    r#"INSERT INTO runs (id, target, campaign, round, started_at, status)
                        VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
                     INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at, list_values)
                        VALUES ('mock', 'c', 'r', 'k0', 1, '+2348031234560', 'p.csv', 2, 'answered', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z', '{"clinic":"clinic 1"}');"#,
                )
                .unwrap();
        }
        assert_eq!(user_version(&path), 8);
        let mut l = Ledger::open(&path).unwrap();
        assert_eq!((user_version(&path), SCHEMA_VERSION), (9, 9));
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        let calls = [
            NewCall {
                language: Some("ha"),
                ..call("k1")
            },
            call("k2"),
        ];
        assert_eq!(l.begin(&run, "mock", "c", "r", &calls).unwrap(), [0, 1]);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        let by_key = |k: &str| a.iter().find(|a| a.key == k).unwrap().clone();
        let old = by_key("k0");
        assert_eq!(
            (old.state, old.list_values.get("clinic"), old.language),
            (CallState::Answered, Some("clinic 1"), None)
        );
        assert_eq!(by_key("k1").language.as_deref(), Some("ha"));
        assert_eq!(by_key("k2").language, None);
        l.outcome("mock", "k1", 1, CallState::NoAnswer, None, None, None, None)
            .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z".parse().unwrap()).unwrap(), 2);
        let k1 = l
            .attempts("mock", "c", "r", &[])
            .unwrap()
            .into_iter()
            .find(|a| a.key == "k1")
            .unwrap();
        assert_eq!(
            (k1.phone.as_deref(), k1.language.as_deref()),
            (None, Some("ha"))
        );
    }

    // Issue 20: a call whose language is not a short tag is refused before anything is
    // written, and a stored one (a hand edit) fails the read in words naming the ledger,
    // never quoting the value.
    #[test]
    fn a_language_that_is_not_a_tag_is_refused_written_and_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut l = Ledger::open(&path).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        let long = "h".repeat(36);
        for bad in ["Hausa language", long.as_str(), ""] {
            let e = l
                .begin(
                    &run,
                    "mock",
                    "c",
                    "r",
                    &[
                        call("k0"),
                        NewCall {
                            language: Some(bad),
                            ..call("k1")
                        },
                    ],
                )
                .unwrap_err();
            assert!(matches!(e, LedgerError::Language { .. }), "{e:?}");
            assert!(e.to_string().contains("state.db"), "{e}");
        }
        assert!(
            l.attempts("mock", "c", "r", &[]).unwrap().is_empty(),
            "nothing written"
        );
        l.begin(
            &run,
            "mock",
            "c",
            "r",
            &[NewCall {
                language: Some("yo"),
                ..call("k1")
            }],
        )
        .unwrap();
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE calls SET language = 'yo<script>+2348031234567' WHERE key = 'k1'",
                [],
            )
            .unwrap();
        let e = l.attempts("mock", "c", "r", &[]).unwrap_err();
        let said = e.to_string();
        assert!(said.contains("state.db"), "{said}");
        assert!(said.contains("not a language tag"), "{said}");
        assert!(
            !said.contains("script") && !said.contains("234803"),
            "{said}"
        );
    }

    #[test]
    fn a_version_4_ledger_is_upgraded_with_its_targets_in_their_normal_form() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        version_4_ledger(&path);
        assert_eq!(user_version(&path), 4);
        let mut l = Ledger::open(&path).unwrap();
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        let t = l.targets_rewritten().unwrap().clone();
        assert_eq!(t.merged_keys, 1);
        assert_eq!(
            t.renamed,
            [
                (
                    "dry-run:HTTPS://API.EXAMPLE.ORG".into(),
                    "dry-run:https://api.example.org".into(),
                    1
                ),
                ("HTTPS://API.Example.org:443/".into(), NORMAL.into(), 2),
                // Shown without its password.
                ("https://api.example.org/".into(), NORMAL.into(), 1),
            ]
        );
        assert_eq!(t.kept, ["https://api.example.org/"]);
        let h = l.history(NORMAL, "c", "r").unwrap();
        assert_eq!(h.len(), 3, "{h:?}");
        assert_eq!((h["k1"].attempt, h["k1"].state), (1, CallState::Accepted));
        assert_eq!((h["k2"].attempt, h["k2"].state), (2, CallState::Answered));
        assert_eq!(h["k4"].state, CallState::Sending);
        let mut k2: Vec<_> = l
            .attempts(NORMAL, "c", "r", &[])
            .unwrap()
            .into_iter()
            .filter(|a| a.key == "k2")
            .map(|a| (a.attempt, a.state))
            .collect();
        k2.sort_unstable();
        assert_eq!(k2, [(1, CallState::NoAnswer), (2, CallState::Answered)]);
        assert!(
            l.history("HTTPS://API.Example.org:443/", "c", "r")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            l.history("dry-run:https://api.example.org", "c", "r")
                .unwrap()["k1"]
                .state,
            CallState::Sending
        );
        assert_eq!(
            l.history("https://api.example.org/?tenant=x", "c", "r")
                .unwrap()["k3"]
                .state,
            CallState::Sending
        );
        let conn = Connection::open(&path).unwrap();
        let mut runs: Vec<String> = conn
            .prepare("SELECT target FROM runs ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        runs.dedup();
        assert_eq!(
            runs,
            [
                NORMAL,
                "dry-run:https://api.example.org",
                "https://api.example.org/?tenant=x",
                NORMAL
            ]
        );
        let stored: String = conn
            .query_row("SELECT group_concat(target) FROM calls", [], |r| r.get(0))
            .unwrap();
        assert!(!stored.contains("s3cret"), "{stored}");
        // The mark agrees, and the next write-ahead moves it on.
        assert_eq!(mark::read(&path).unwrap(), Some(5));
        let run = l
            .start_run(NORMAL, "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, NORMAL, "c", "r", &[call("k5")]).unwrap();
        assert_eq!(mark::read(&path).unwrap(), Some(6));
        drop(l);
        // Opened again, nothing is migrated; and the rewrite itself changes nothing twice.
        assert!(Ledger::open(&path).unwrap().targets_rewritten().is_none());
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        let again = targets::rewrite(&mut SqliteRewrite(&tx)).unwrap();
        assert_eq!(
            again,
            TargetsRewritten {
                kept: vec!["https://api.example.org/".into()],
                ..TargetsRewritten::default()
            }
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

    /// A ledger at `path` with one call, `k1`, recorded `sending` by a run.
    fn with_one_call(path: &Path) -> Ledger {
        let mut l = Ledger::open(path).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        l.begin(&run, "mock", "c", "r", &[call("k1")]).unwrap();
        l
    }

    /// Writes a row in a state this build does not know (a newer build's, or a hand edit).
    fn with_unknown_state(path: &Path) {
        drop(with_one_call(path));
        let conn = Connection::open(path).unwrap();
        conn.execute("UPDATE calls SET state = 'on_hold' WHERE key = 'k1'", [])
            .unwrap();
    }

    fn unknown_state(r: Result<impl std::fmt::Debug, LedgerError>) -> String {
        match r {
            Err(LedgerError::UnknownState { state, .. }) => state,
            other => panic!("{other:?}"),
        }
    }

    // Regression: an unknown state used to be read as `in_doubt` (or counted as one).
    #[test]
    fn an_unknown_state_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        with_unknown_state(&path);
        let l = Ledger::open(&path).unwrap();
        assert_eq!(unknown_state(l.attempts("mock", "c", "r", &[])), "on_hold");
        assert_eq!(unknown_state(l.history("mock", "c", "r")), "on_hold");
        assert_eq!(unknown_state(l.counts(None)), "on_hold");
        let e = l.history("mock", "c", "r").unwrap_err().to_string();
        assert!(e.contains("`on_hold`"), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
    }

    // Typed times are parsed where they are read: a row whose time is not one is an error
    // naming it, not a default (the heartbeat's age used to read as "infinitely old").
    #[test]
    fn a_time_that_is_not_one_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let l = with_one_call(&path);
        let conn = Connection::open(&path).unwrap();
        let bad = |r: Result<(), LedgerError>| match r {
            Err(LedgerError::BadTime { error, .. }) => error,
            other => panic!("{other:?}"),
        };
        conn.execute("UPDATE calls SET retry_at = 'tomorrow'", [])
            .unwrap();
        assert_eq!(
            bad(l.history("mock", "c", "r").map(drop)),
            BadTime::Timestamp("tomorrow".into())
        );
        conn.execute("UPDATE calls SET updated_at = '2026-13-01'", [])
            .unwrap();
        let e = l.attempts("mock", "c", "r", &[]).unwrap_err().to_string();
        assert!(e.contains("`2026-13-01`, which is not a timestamp"), "{e}");
        conn.execute("UPDATE runs SET heartbeat_at = 'now'", [])
            .unwrap();
        assert_eq!(
            bad(l.runners(None).map(drop)),
            BadTime::Timestamp("now".into())
        );
        conn.execute(
            "UPDATE calls SET updated_at = created_at, duration = -3.0",
            [],
        )
        .unwrap();
        assert_eq!(
            bad(l.attempts("mock", "c", "r", &[]).map(drop)),
            BadTime::Seconds("-3".into())
        );
    }

    // `resolve` matches a row on the `updated_at` it read: the text written back from the
    // typed timestamp must be the text stored, or no call in doubt would ever be resolved.
    #[test]
    fn a_stored_timestamp_reads_back_to_the_same_text() {
        for text in [
            "2026-12-01T09:00:00Z",
            "2026-12-01T09:00:00.5Z",
            "2026-12-01T09:00:00.123456789Z",
            "2026-12-01T09:00:00.1234Z",
        ] {
            assert_eq!(StoredTime::parse(text).unwrap().0.to_string(), text);
        }
        let now = crate::clock::now();
        assert_eq!(
            StoredTime::parse(&now.to_string()).unwrap().0.to_string(),
            now.to_string()
        );
    }

    #[test]
    fn a_call_in_doubt_read_back_is_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = with_one_call(&dir.path().join("state.db"));
        let read = l.attempts("mock", "c", "r", &[]).unwrap().remove(0);
        assert!(
            l.resolve("mock", &read, CallState::NotSent, None, "never placed")
                .unwrap()
        );
        // Read before the move: stale now, so it moves nothing.
        assert!(
            !l.resolve("mock", &read, CallState::Accepted, None, "found")
                .unwrap()
        );
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::NotSent
        );
    }

    #[test]
    fn every_state_reads_back_as_written() {
        let conn = Connection::open_in_memory().unwrap();
        for state in CallState::ALL {
            let read: CallState = conn
                .query_row("SELECT ?1", [state.as_str()], |r| r.get(0))
                .unwrap();
            assert_eq!(read, state);
        }
    }

    #[test]
    fn a_sqlite_ledger_has_no_shared_store() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::open(&dir.path().join("state.db")).unwrap();
        assert!(!l.is_shared());
        assert!(l.shared().is_none());
        match l.shared_only("claiming work") {
            Err(e @ LedgerError::NotShared { .. }) => {
                assert!(e.to_string().contains("claiming work"), "{e}");
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("a SQLite ledger has no shared store"),
        }
    }
}
