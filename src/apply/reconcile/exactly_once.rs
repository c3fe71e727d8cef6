//! The ledger's exactly-once rule as a property (issue 14, acceptance): across random
//! interleavings of write-aheads, requests the server receives or not (and answers or not),
//! settles, crashes and reconciles, on the real [`Ledger`] of both backends and with the real
//! decision of what a run makes of a call in doubt (`Found::of`, `verdict`, `resolution`), no
//! call is placed twice on a model server; and after a last clean run every call is placed,
//! or held in doubt with a reason, never silently lost.
//!
//! The model is kept small: three calls (first attempts of a robocall campaign), a server
//! that counts what it placed and lists its batches (or offers no lookups at all), and a
//! runner that writes due calls ahead, requests them, settles the answers and reconciles as
//! `apply` does. A request is instant in the model (none is ever in flight when a run looks
//! calls up), so the in-doubt grace is zero: a call the server does not list is never placed.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::{Found, OnServer, Record, settled_long_ago, verdict};
use crate::campaign::Kind;
use crate::ledger::{CallState, Ledger, LedgerError, NewCall, TestDb};

const KEYS: [&str; 3] = ["k0", "k1", "k2"];
const CAMPAIGN: &str = "c";
const ROUND: &str = "r";
const ZONE: &str = "Africa/Lagos";
/// Long enough that no live run of the model loses its lease; a crashed run's runs out at
/// once (see [`Backend::lease_runs_out`]).
const LEASE: Duration = Duration::from_secs(3600);

/// One step of the interleaving.
#[derive(Debug, Clone)]
enum Op {
    /// The runner writes up to `n` due calls ahead, as one batch.
    WriteAhead(usize),
    /// The oldest batch written ahead is requested: the server receives it or not, and the
    /// runner gets its answer or not.
    Request { received: bool, answered: bool },
    /// The deferred `accepted` settles are committed.
    Flush,
    /// The runner dies: its ledger dropped without committing its deferred settles or
    /// ending its run, its memory lost, its lease run out; another runner opens the ledger.
    Crash,
    /// The runner looks up the calls earlier runs left `sending` or in doubt, and settles them.
    Reconcile,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=2_usize).prop_map(Op::WriteAhead),
        3 => (any::<bool>(), any::<bool>())
            .prop_map(|(received, answered)| Op::Request { received, answered }),
        1 => Just(Op::Flush),
        2 => Just(Op::Crash),
        2 => Just(Op::Reconcile),
    ]
}

/// A case: whether the server offers lookups, and the steps.
fn case() -> impl Strategy<Value = (bool, Vec<Op>)> {
    (any::<bool>(), proptest::collection::vec(op(), 0..14))
}

/// The provider, as far as the rule is concerned.
struct Server {
    /// How many times each call was placed.
    placed: HashMap<String, u32>,
    /// Its batches and their calls, in order.
    batches: Vec<(String, Vec<String>)>,
    /// Whether it offers the lookup endpoints.
    lookups: bool,
}

impl Server {
    fn receive(&mut self, keys: &[String]) -> Result<String, TestCaseError> {
        let id = format!("b{}", self.batches.len());
        for k in keys {
            let n = self.placed.entry(k.clone()).or_default();
            *n += 1;
            prop_assert!(*n == 1, "{k} placed twice");
        }
        self.batches.push((id.clone(), keys.to_vec()));
        Ok(id)
    }

    /// What the server lists, as `reconcile::lookup` reads it; `None` without lookups.
    fn found(&self) -> Option<Found> {
        self.lookups.then(|| {
            let mut f = Found {
                complete: true,
                times_known: true,
                ..Found::default()
            };
            for (id, keys) in &self.batches {
                for k in keys {
                    f.by_key.entry(k.clone()).or_default().push(Record {
                        batch_id: Some(id.clone()),
                        created: Some(crate::clock::now()),
                    });
                }
            }
            f
        })
    }
}

/// Where the ledger is: a SQLite file in a folder of its own, or the test Postgres database.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    fn location(&self) -> PathBuf {
        match self {
            Backend::Sqlite(dir) => dir.path().join("state.db"),
            Backend::Postgres(url) => PathBuf::from(url),
        }
    }

    /// A crashed run's lease runs out: its heartbeat (and its claims) an hour old, as the
    /// ledger's clock sees it (no sleep).
    fn lease_runs_out(&self, run: &str) -> Result<(), TestCaseError> {
        let failed = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
        match self {
            Backend::Sqlite(_) => {
                let c = rusqlite::Connection::open(self.location()).map_err(|e| failed(&e))?;
                c.execute(
                    "UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00Z' WHERE id = ?1",
                    [run],
                )
                .map_err(|e| failed(&e))?;
            }
            Backend::Postgres(url) => {
                let mut c =
                    postgres::Client::connect(url, postgres::NoTls).map_err(|e| failed(&e))?;
                c.execute(
                    "WITH r AS (UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1)
                     UPDATE work SET lease_until = now() - interval '1 hour' WHERE claimed_by = $1",
                    &[&run],
                )
                .map_err(|e| failed(&e))?;
            }
        }
        Ok(())
    }
}

/// A runner at work on the ledger.
struct Runner {
    ledger: Ledger,
    run: String,
    /// Batches written ahead whose request has not left (the runner's memory).
    pending: VecDeque<Vec<String>>,
}

/// One case's world: the ledger, the server, the runner.
struct Model<'a> {
    at: &'a Backend,
    /// The ledger's name for the target: one of its own per case on the shared Postgres
    /// database.
    target: String,
    server: Server,
    runner: Runner,
}

fn ledger_error(e: &LedgerError) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

fn open(at: &Backend, target: &str) -> Result<Runner, TestCaseError> {
    let mut ledger = Ledger::open(&at.location()).map_err(|e| ledger_error(&e))?;
    ledger.lock().map_err(|e| ledger_error(&e))?;
    let run = ledger
        .start_run(target, CAMPAIGN, ROUND, LEASE)
        .map_err(|e| ledger_error(&e))?;
    Ok(Runner {
        ledger,
        run,
        pending: VecDeque::new(),
    })
}

impl Model<'_> {
    /// Calls due: never recorded, or recorded never placed (`not_sent`); not those in a
    /// batch this runner wrote ahead.
    fn due(&self) -> Result<Vec<String>, TestCaseError> {
        let history = self
            .runner
            .ledger
            .history(&self.target, CAMPAIGN, ROUND)
            .map_err(|e| ledger_error(&e))?;
        Ok(KEYS
            .iter()
            .map(|k| (*k).to_owned())
            .filter(|k| history.get(k).is_none_or(|h| h.state == CallState::NotSent))
            .filter(|k| !self.runner.pending.iter().flatten().any(|p| p == k))
            .collect())
    }

    fn step(mut self, op: &Op) -> Result<Self, TestCaseError> {
        match *op {
            Op::WriteAhead(n) => self.write_ahead(n)?,
            Op::Request { received, answered } => self.request(received, answered)?,
            Op::Flush => self.runner.ledger.flush().map_err(|e| ledger_error(&e))?,
            Op::Crash => return self.crashed(),
            Op::Reconcile => self.reconcile()?,
        }
        Ok(self)
    }

    /// Up to `n` due calls written ahead as one batch (on Postgres, claimed first from the
    /// shared work, as a runner does).
    fn write_ahead(&mut self, n: usize) -> Result<(), TestCaseError> {
        let due = self.due()?;
        let r = &mut self.runner;
        let batch: Vec<String> = match r.ledger.shared() {
            None => due.into_iter().take(n).collect(),
            Some(pg) => {
                let work: Vec<(&str, u32, &str)> =
                    due.iter().map(|k| (k.as_str(), 1, ZONE)).collect();
                pg.enqueue(&self.target, CAMPAIGN, ROUND, &work)
                    .map_err(|e| ledger_error(&e))?;
                pg.claim(&r.run, &self.target, CAMPAIGN, ROUND, ZONE, n)
                    .map_err(|e| ledger_error(&e))?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect()
            }
        };
        let calls: Vec<NewCall<'_>> = batch
            .iter()
            .map(|k| NewCall {
                key: k,
                attempt: 1,
                phone: "+2348031234567",
                source: "patients.csv",
                row: 2,
                list_values: &crate::ledger::NO_LIST_VALUES,
                language: None,
            })
            .collect();
        let recorded = r
            .ledger
            .begin(&r.run, &self.target, CAMPAIGN, ROUND, &calls)
            .map_err(|e| ledger_error(&e))?;
        let recorded: Vec<String> = recorded.iter().map(|&i| batch[i].clone()).collect();
        if !recorded.is_empty() {
            r.pending.push_back(recorded);
        }
        Ok(())
    }

    /// The oldest batch written ahead is requested, and its answer settled as `send_batch`
    /// settles it: accepted (deferred to the next commit), in doubt without an answer, not
    /// sent when the request provably never left.
    fn request(&mut self, received: bool, answered: bool) -> Result<(), TestCaseError> {
        let Some(batch) = self.runner.pending.pop_front() else {
            return Ok(());
        };
        let attempts: Vec<(&str, u32)> = batch.iter().map(|k| (k.as_str(), 1)).collect();
        let ledger = &mut self.runner.ledger;
        let settled = match (received, answered) {
            (true, true) => {
                let id = self.server.receive(&batch)?;
                ledger.accept_later(&self.target, &attempts, &id);
                Ok(())
            }
            (true, false) => {
                self.server.receive(&batch)?;
                ledger.settle(
                    &self.target,
                    &attempts,
                    CallState::InDoubt,
                    None,
                    Some("no answer"),
                )
            }
            (false, true) => ledger.settle(
                &self.target,
                &attempts,
                CallState::NotSent,
                None,
                Some("the request never left"),
            ),
            (false, false) => ledger.settle(
                &self.target,
                &attempts,
                CallState::InDoubt,
                None,
                Some("no answer"),
            ),
        };
        settled.map_err(|e| ledger_error(&e))
    }

    /// The runner dies; another opens the ledger once the dead one's lease ran out.
    fn crashed(self) -> Result<Self, TestCaseError> {
        let Model {
            at,
            target,
            server,
            runner,
        } = self;
        // The dead runner's connection (and its SQLite lock) is gone before the next opens.
        runner.ledger.crash();
        at.lease_runs_out(&runner.run)?;
        let runner = open(at, &target)?;
        Ok(Model {
            at,
            target,
            server,
            runner,
        })
    }

    /// What `reconcile` does with the calls earlier runs left `sending` or in doubt: each
    /// looked up (when the server offers lookups), judged by the real verdict, and moved
    /// from the state it was read in.
    fn reconcile(&mut self) -> Result<(), TestCaseError> {
        let r = &mut self.runner;
        let unresolved = r
            .ledger
            .unresolved(&self.target, CAMPAIGN, ROUND, &r.run, true)
            .map_err(|e| ledger_error(&e))?;
        let found = self.server.found();
        let now = crate::clock::now();
        for a in unresolved {
            let on_server = found
                .as_ref()
                .map_or(OnServer::Unknown, |f| f.of(Kind::Robocall, &a));
            let v = verdict(on_server, settled_long_ago(&a, Duration::ZERO, now), false);
            if let Some((to, batch, message)) = v.resolution() {
                r.ledger
                    .resolve(&self.target, &a, to, batch.as_deref(), message)
                    .map_err(|e| ledger_error(&e))?;
            }
        }
        Ok(())
    }

    /// The last, clean run: after the runner dies, the next reconciles, sends every due call
    /// (the server receives and answers them all) and ends.
    fn clean_run(self) -> Result<Self, TestCaseError> {
        let mut m = self.crashed()?;
        m.reconcile()?;
        loop {
            m.write_ahead(KEYS.len())?;
            if m.runner.pending.is_empty() {
                break;
            }
            while !m.runner.pending.is_empty() {
                m.request(true, true)?;
            }
        }
        m.runner.ledger.flush().map_err(|e| ledger_error(&e))?;
        Ok(m)
    }

    /// After the clean run: every call placed once (with lookups, always), or held in doubt
    /// with a reason (the server cannot be asked); a call the ledger has as placed was.
    fn check(&self) -> Result<(), TestCaseError> {
        let attempts = self
            .runner
            .ledger
            .attempts(&self.target, CAMPAIGN, ROUND, &[])
            .map_err(|e| ledger_error(&e))?;
        for k in KEYS {
            let placed = self.server.placed.get(k).copied().unwrap_or(0);
            let a = attempts.iter().find(|a| a.key == k);
            let state = a.map(|a| a.state);
            match state {
                Some(CallState::Accepted) => prop_assert_eq!(placed, 1, "{} accepted", k),
                Some(CallState::InDoubt) if !self.server.lookups => prop_assert!(
                    a.and_then(|a| a.message.as_deref())
                        .is_some_and(|m| !m.is_empty()),
                    "{} held in doubt without a reason",
                    k
                ),
                other => prop_assert!(
                    false,
                    "{} ended {:?}, placed {} times (lookups: {})",
                    k,
                    other,
                    placed,
                    self.server.lookups
                ),
            }
        }
        Ok(())
    }
}

/// Runs the property on the backend `at` makes for each case, with the ledger's name for
/// the case's target (on Postgres the cases share one database: each has a target of its
/// own).
fn holds(cases: u32, at: impl Fn(u32) -> (Backend, String)) -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let n = AtomicU32::new(0);
    runner
        .run(&case(), |(lookups, ops)| {
            let (at, target) = at(n.fetch_add(1, Ordering::SeqCst));
            let mut m = Model {
                at: &at,
                runner: open(&at, &target)?,
                target,
                server: Server {
                    placed: HashMap::new(),
                    batches: Vec::new(),
                    lookups,
                },
            };
            for op in &ops {
                m = m.step(op)?;
            }
            m.clean_run()?.check()
        })
        .map_err(|e| e.to_string())
}

#[test]
fn exactly_once_across_write_aheads_requests_crashes_and_reconciles_on_sqlite() {
    let sqlite = |_| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        (Backend::Sqlite(dir), "mock".to_owned())
    };
    if let Err(e) = holds(64, sqlite) {
        panic!("{e}");
    }
}

#[test]
fn exactly_once_across_write_aheads_requests_crashes_and_reconciles_on_postgres() {
    let Some(db) = TestDb::create("exactly_once") else {
        return;
    };
    let postgres = |n| (Backend::Postgres(db.url.clone()), format!("mock-{n}"));
    if let Err(e) = holds(48, postgres) {
        panic!("{e}");
    }
}
