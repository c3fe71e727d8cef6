//! The ledger for async code: [`AsyncLedger`] runs every ledger call on tokio's blocking pool,
//! never on the executor's worker threads (a commit is an fsync; a Postgres statement waits
//! for the connection's thread and a round trip).
//!
//! Why the blocking pool rather than a ledger thread of its own (an actor behind a channel):
//! the statements are serialised already, by the mutex here and, on Postgres, by the
//! connection's own thread, so an actor's queue would only add a second hop in front of that
//! one; tokio's pool catches a call's panic and hands it back through the `JoinError`, where an
//! actor would have to catch and forward it by hand; and its threads exist already. The cost
//! is one thread hand-off per call, small next to the commit or round trip the call makes.
//!
//! The check: in debug builds every entry point of the stores (opening, each statement, the
//! Postgres connection's wait) panics when it runs on a thread of a tokio runtime other than
//! through this seam, so a direct ledger call added to async code fails the apply tests
//! (which run the debug binary) at once.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::workflows::OwnedKey;
use super::{BindingKey, Ledger, LedgerError, WorkflowBinding};

thread_local! {
    /// Set while this thread runs a call of [`AsyncLedger`] (a thread of the blocking pool).
    static IN_SEAM: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running a call of the seam until dropped (an unwind included).
struct InSeam(bool);

impl InSeam {
    fn enter() -> InSeam {
        InSeam(IN_SEAM.replace(true))
    }
}

impl Drop for InSeam {
    fn drop(&mut self) {
        IN_SEAM.set(self.0);
    }
}

/// Panics (debug builds) on a thread of a tokio runtime, unless the call came through
/// [`AsyncLedger`]: a ledger call there would block the executor.
pub(super) fn not_on_an_executor() {
    debug_assert!(
        IN_SEAM.get() || tokio::runtime::Handle::try_current().is_err() || std::thread::panicking(),
        "a blocking ledger call on an async executor's thread: go through AsyncLedger (src/ledger/async_ledger.rs)"
    );
}

/// The ledger, for async code. Clones are the same ledger.
#[derive(Clone)]
pub struct AsyncLedger {
    held: Arc<Held>,
}

struct Held {
    /// `None` once closed.
    ledger: Mutex<Option<Ledger>>,
    path: PathBuf,
    shared: bool,
}

fn lock(m: &Mutex<Option<Ledger>>) -> MutexGuard<'_, Option<Ledger>> {
    // A call that panicked left the ledger as a failed statement leaves it: usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` on the blocking pool and waits for it without blocking the executor. A panic in
/// `f` carries on in the caller, as if `f` had run there.
async fn offload<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, LedgerError> {
    let task = tokio::task::spawn_blocking(move || {
        let _in = InSeam::enter();
        f()
    });
    match task.await {
        Ok(r) => Ok(r),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(LedgerError::Cancelled),
    }
}

impl AsyncLedger {
    /// Opens the ledger at `location` (see [`Ledger::open`]), on the blocking pool.
    pub async fn open(location: PathBuf) -> Result<AsyncLedger, LedgerError> {
        let ledger = offload(move || Ledger::open(&location)).await??;
        Ok(AsyncLedger {
            held: Arc::new(Held {
                path: ledger.path().to_path_buf(),
                shared: ledger.is_shared(),
                ledger: Mutex::new(Some(ledger)),
            }),
        })
    }

    /// Runs `f` on the ledger, on the blocking pool, one call at a time; its error, or its
    /// panic, is the caller's. The call runs to its end even if the caller stops waiting.
    pub async fn call<R, F>(&self, f: F) -> Result<R, LedgerError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Ledger) -> Result<R, LedgerError> + Send + 'static,
    {
        let held = Arc::clone(&self.held);
        offload(move || {
            let r = match lock(&held.ledger).as_mut() {
                Some(ledger) => f(ledger),
                None => Err(LedgerError::Closed),
            };
            // The last holder closes the ledger here, on the pool.
            drop(held);
            r
        })
        .await?
    }

    /// Closes the ledger on the blocking pool: the deferred settles are committed, SQLite's
    /// run lock is released and the Postgres connection closed before this returns. Calls
    /// after it fail with [`LedgerError::Closed`].
    pub async fn close(&self) -> Result<(), LedgerError> {
        let held = Arc::clone(&self.held);
        offload(move || {
            let ledger = lock(&held.ledger).take();
            drop(ledger);
        })
        .await
    }

    /// The binding of a declared workflow (see [`Ledger::workflow_binding`]).
    pub async fn workflow_binding(
        &self,
        key: &BindingKey<'_>,
    ) -> Result<Option<WorkflowBinding>, LedgerError> {
        let key = OwnedKey::of(key);
        self.call(move |l| l.workflow_binding(&key.key())).await
    }

    /// Binds a declared workflow, a compare-and-set (see [`Ledger::bind_workflow`]).
    pub async fn bind_workflow(
        &self,
        key: &BindingKey<'_>,
        previous: Option<&str>,
        binding: &WorkflowBinding,
    ) -> Result<bool, LedgerError> {
        let key = OwnedKey::of(key);
        let previous = previous.map(str::to_owned);
        let binding = binding.clone();
        self.call(move |l| l.bind_workflow(&key.key(), previous.as_deref(), &binding))
            .await
    }

    /// Every workflow id bound for a campaign (see [`Ledger::bound_workflow_ids`]).
    pub async fn bound_workflow_ids(
        &self,
        target: &str,
        campaign: &str,
    ) -> Result<Vec<String>, LedgerError> {
        let (target, campaign) = (target.to_owned(), campaign.to_owned());
        self.call(move |l| l.bound_workflow_ids(&target, &campaign))
            .await
    }

    /// The ledger's file, or its Postgres URL with the password hidden.
    pub fn path(&self) -> &Path {
        &self.held.path
    }

    /// Whether several runners may share this ledger (see [`Ledger::is_shared`]).
    pub fn is_shared(&self) -> bool {
        self.held.shared
    }
}

impl Drop for Held {
    /// A ledger not closed (an error or a panic on the way) is closed on the pool too.
    fn drop(&mut self) {
        let ledger = self
            .ledger
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(ledger) = ledger
            && !IN_SEAM.get()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn_blocking(move || {
                let _in = InSeam::enter();
                drop(ledger);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::ledger::CallState;

    fn runtime() -> tokio::runtime::Runtime {
        // One thread: the thread that polls the test is the executor's only one.
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// A new SQLite ledger opened through the seam, with its directory (removed when dropped).
    fn opened(rt: &tokio::runtime::Runtime) -> (tempfile::TempDir, PathBuf, AsyncLedger) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let ledger = rt.block_on(AsyncLedger::open(path.clone())).unwrap();
        (dir, path, ledger)
    }

    fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    }

    // The check that keeps ledger calls off the executor: a direct call from async code, as
    // apply made them before the seam, panics (debug builds, as the tests are built).
    #[cfg(debug_assertions)]
    #[test]
    fn a_direct_ledger_call_from_async_code_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let ledger = Ledger::open(&path).unwrap();
        let rt = runtime();
        let direct = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { ledger.history("mock", "c", "r").map(drop) })
        }));
        let payload = direct.expect_err("a ledger call on the executor's thread must panic");
        assert!(
            panic_text(payload.as_ref()).contains("go through AsyncLedger"),
            "{}",
            panic_text(payload.as_ref())
        );
        let open = std::panic::catch_unwind(|| {
            runtime().block_on(async { Ledger::open(&path).map(drop) })
        });
        assert!(open.is_err(), "opening is a blocking call too");
        // Outside a runtime (the reading commands), a direct call is what it should be.
        assert!(ledger.history("mock", "c", "r").unwrap().is_empty());
    }

    #[test]
    fn calls_through_the_seam_run_off_the_executor_and_return_their_results() {
        let rt = runtime();
        let (_dir, path, ledger) = opened(&rt);
        rt.block_on(async {
            assert_eq!(ledger.path(), path);
            assert!(!ledger.is_shared());
            let run = ledger
                .call(|l| l.start_run("mock", "c", "r", Duration::from_secs(30)))
                .await
                .unwrap();
            let calls = ledger
                .call(move |l| {
                    let call = crate::ledger::NewCall {
                        key: "k1",
                        attempt: 1,
                        phone: "+2348031234567",
                        source: "p.csv",
                        row: 2,
                        list_values: &crate::ledger::NO_LIST_VALUES,
                        language: None,
                    };
                    l.begin(&run, "mock", "c", "r", &[call])
                })
                .await
                .unwrap();
            assert_eq!(calls, [0]);
            let h = ledger.call(|l| l.history("mock", "c", "r")).await.unwrap();
            assert_eq!(h["k1"].state, CallState::Sending);
        });
    }

    #[test]
    fn a_ledger_error_is_the_callers() {
        let rt = runtime();
        let (_dir, _, ledger) = opened(&rt);
        rt.block_on(async {
            let e = ledger
                .call(|l| l.shared_only("claiming work").map(drop))
                .await
                .unwrap_err();
            assert!(matches!(e, LedgerError::NotShared { .. }), "{e:?}");
        });
    }

    // Regression guard: a panic inside the closure must not be swallowed (a `JoinError`
    // turned into a quiet error, or a dropped answer).
    #[test]
    fn a_panic_in_a_call_carries_on_in_the_caller_and_the_ledger_stays_usable() {
        let rt = runtime();
        let (_dir, _, ledger) = opened(&rt);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(
                ledger.call(|_| -> Result<(), LedgerError> { panic!("boom in the ledger") }),
            )
        }));
        let payload = caught.expect_err("the call's panic reaches the caller");
        assert_eq!(panic_text(payload.as_ref()), "boom in the ledger");
        rt.block_on(async {
            assert!(ledger.call(|l| l.history("mock", "c", "r")).await.is_ok());
        });
    }

    #[test]
    fn closing_releases_the_run_lock_before_it_returns() {
        let rt = runtime();
        let (_dir, path, ledger) = opened(&rt);
        rt.block_on(async {
            ledger.call(Ledger::lock).await.unwrap();
            let second = AsyncLedger::open(path.clone()).await.unwrap();
            assert!(matches!(
                second.call(Ledger::lock).await,
                Err(LedgerError::Locked { .. })
            ));
            ledger.close().await.unwrap();
            second.call(Ledger::lock).await.unwrap();
            assert!(matches!(
                ledger.call(|l| l.history("mock", "c", "r")).await,
                Err(LedgerError::Closed)
            ));
        });
    }
}
