//! The Postgres backend of the ledger: one connection, owned by a thread of its own.
//!
//! The `postgres` crate drives its connection on a runtime of its own, which cannot be
//! blocked on from inside `apply`'s tokio runtime; a dedicated thread owns the connection and
//! runs the ledger's statements one at a time, in the order they are asked, as the SQLite
//! connection does.

use std::sync::mpsc;

use postgres::{Client, NoTls};

/// A statement (or transaction) run on the connection's thread.
type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// A connection owned by a thread.
pub(super) struct Pg {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Why a statement did not run.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server's message (its Display already carries its cause).
    #[error("{0}")]
    Db(String),
    #[error("the database connection's thread stopped")]
    Gone,
}

impl From<postgres::Error> for PgError {
    fn from(e: postgres::Error) -> Self {
        // A statement's error: the server's own words.
        if let Some(db) = e.as_db_error() {
            return PgError::Db(db.message().to_owned());
        }
        // The client's words, then its causes, each once (the driver repeats some).
        let mut parts = vec![e.to_string()];
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let text = c.to_string();
            if parts.last() != Some(&text) {
                parts.push(text);
            }
            cause = c.source();
        }
        PgError::Db(parts.join(": "))
    }
}

impl Pg {
    pub(super) fn connect(url: &str) -> Result<Pg, PgError> {
        let (jobs, receive) = mpsc::channel::<Job>();
        let (ready, ready_rx) = mpsc::sync_channel(1);
        let url = url.to_owned();
        let thread = std::thread::Builder::new()
            .name("outreach-postgres".to_owned())
            .spawn(move || match Client::connect(&url, NoTls) {
                Ok(mut client) => {
                    let _ = ready.send(Ok(()));
                    for job in receive {
                        job(&mut client);
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|_| PgError::Gone)?;
        ready_rx
            .recv()
            .map_err(|_| PgError::Gone)?
            .map_err(PgError::from)?;
        Ok(Pg {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the connection and waits for its answer.
    pub(super) fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, PgError> {
        let (answer, answer_rx) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or(PgError::Gone)?
            .send(Box::new(move |c| {
                let _ = answer.send(f(c));
            }))
            .map_err(|_| PgError::Gone)?;
        answer_rx
            .recv()
            .map_err(|_| PgError::Gone)?
            .map_err(PgError::from)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        // Closing the queue ends the thread, which closes the connection.
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The schema version this build writes to Postgres.
pub const PG_SCHEMA_VERSION: i32 = 1;

/// Every runner migrates at start; the advisory lock makes concurrent starts take turns.
const MIGRATION_LOCK: i64 = 0x6f75_7472_6561_6368; // "outreach"

/// Applies the migrations; returns the version found when it is newer than this build's.
pub(super) fn migrate(c: &mut Client) -> Result<Option<i32>, postgres::Error> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS outreach_schema (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO outreach_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
    )?;
    let version: i32 = tx
        .query_one("SELECT version FROM outreach_schema WHERE id = 1", &[])?
        .get(0);
    if version > PG_SCHEMA_VERSION {
        return Ok(Some(version));
    }
    if version < 1 {
        tx.batch_execute(
            "CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                host TEXT,
                pid BIGINT,
                status TEXT NOT NULL,
                detail TEXT,
                heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                lease_secs DOUBLE PRECISION NOT NULL DEFAULT 30,
                claimed BIGINT NOT NULL DEFAULT 0
            );
            CREATE INDEX runs_running ON runs (status, campaign);
            CREATE TABLE calls (
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                key TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                phone TEXT,
                source TEXT,
                row BIGINT,
                state TEXT NOT NULL,
                batch_id TEXT,
                call_id TEXT,
                reply TEXT,
                duration DOUBLE PRECISION,
                message TEXT,
                retry_at TEXT,
                run_id TEXT NOT NULL REFERENCES runs(id),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (target, key, attempt)
            );
            CREATE INDEX calls_by_phone ON calls (target, phone, created_at);
            CREATE INDEX calls_by_round ON calls (target, campaign, round);
            CREATE INDEX calls_by_run ON calls (run_id, state);
            CREATE TABLE pauses (
                campaign TEXT PRIMARY KEY,
                since TEXT NOT NULL
            );
            -- Calls due, shared by every runner: claimed in batches with a lease.
            CREATE TABLE work (
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                key TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                timezone TEXT NOT NULL,
                seq BIGINT NOT NULL,
                done BOOLEAN NOT NULL DEFAULT false,
                claimed_by TEXT,
                lease_until TIMESTAMPTZ,
                PRIMARY KEY (target, key, attempt)
            );
            CREATE INDEX work_open ON work (target, campaign, round, timezone, seq) WHERE NOT done;
            -- One request budget per campaign and target, shared by its runners (GCRA: the
            -- theoretical arrival time of the next request).
            CREATE TABLE rate_budget (
                scope TEXT PRIMARY KEY,
                tat TIMESTAMPTZ NOT NULL
            );
            UPDATE outreach_schema SET version = 1 WHERE id = 1;",
        )?;
    }
    tx.commit()?;
    Ok(None)
}
