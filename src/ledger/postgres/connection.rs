//! The Postgres store's connection: one connection, owned by a thread of its own.
//!
//! The `postgres` crate drives its connection on a runtime of its own, which cannot be
//! blocked on from inside `apply`'s tokio runtime; a dedicated thread owns the connection and
//! runs the ledger's statements one at a time, in the order they are asked, as the SQLite
//! connection does. Waiting for that thread's answer blocks, so async code never does it on
//! an executor's thread: it goes through [`crate::ledger::AsyncLedger`], which waits on the
//! blocking pool.

use std::sync::mpsc;

use postgres::Client;

use crate::ledger::location::PgLocation;
use crate::ledger::{BadTime, UnknownState};

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
    /// A row held a call state this build does not know.
    #[error("{0}")]
    UnknownState(UnknownState),
    /// A row held a time that is not one.
    #[error("{0}")]
    BadTime(BadTime),
}

impl From<postgres::Error> for PgError {
    fn from(e: postgres::Error) -> Self {
        // A column that did not convert because its state is unknown: the ledger's error.
        if let Some(unknown) =
            std::error::Error::source(&e).and_then(|c| c.downcast_ref::<UnknownState>())
        {
            return PgError::UnknownState(unknown.clone());
        }
        if let Some(bad) = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<BadTime>()) {
            return PgError::BadTime(bad.clone());
        }
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
    pub(super) fn connect(database: &PgLocation) -> Result<Pg, PgError> {
        crate::ledger::async_ledger::not_on_an_executor();
        let (jobs, receive) = mpsc::channel::<Job>();
        let (ready, ready_rx) = mpsc::sync_channel(1);
        let database = database.clone();
        let thread = std::thread::Builder::new()
            .name("outreach-postgres".to_owned())
            .spawn(move || match super::tls::connect(&database) {
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
        ready_rx.recv().map_err(|_| PgError::Gone)??;
        Ok(Pg {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the connection and waits for its answer: a blocking wait, never on an
    /// async executor's thread (see [`crate::ledger::AsyncLedger`]).
    ///
    /// A transaction the server aborted to break a deadlock, or for a serialization
    /// failure, had no effect: it is run again, a few times, after a short pause that grows.
    /// So `f` must be one transaction (or one statement): every closure given here is.
    pub(super) fn run<R: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, PgError> {
        crate::ledger::async_ledger::not_on_an_executor();
        let (answer, answer_rx) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .ok_or(PgError::Gone)?
            .send(Box::new(move |c| {
                let _ = answer.send(retrying(c, &mut f));
            }))
            .map_err(|_| PgError::Gone)?;
        answer_rx
            .recv()
            .map_err(|_| PgError::Gone)?
            .map_err(PgError::from)
    }
}

/// How many times a transaction aborted by the server for a deadlock or a serialization
/// failure is tried in all.
pub(super) const TRIES: u32 = 6;

/// Runs `f`, again while the server aborts it as one side of a deadlock or for a
/// serialization failure (it then had no effect), at most [`TRIES`] times in all.
fn retrying<R>(
    c: &mut Client,
    f: &mut impl FnMut(&mut Client) -> Result<R, postgres::Error>,
) -> Result<R, postgres::Error> {
    let mut tried = 1;
    loop {
        match f(c) {
            Err(e) if tried < TRIES && transient(&e) => {
                // Pauses of 10, 20, 40, 80, 160 ms, each plus up to as much again (taken
                // from the clock), so the runners that collided do not collide again.
                let base = 10u64 << (tried - 1);
                let spread = u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos()),
                ) % base.max(1);
                std::thread::sleep(std::time::Duration::from_millis(base + spread));
                tried += 1;
            }
            other => return other,
        }
    }
}

/// Whether the server aborted a transaction that can simply be run again.
fn transient(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    })
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
