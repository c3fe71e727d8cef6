//! `outreach watch --apply --mock`: after each good plan, apply it to one bundled mock server
//! started for the watch session.
//!
//! - **Mock only.** The target is a [`Target::RunningMock`]; nothing here can name a URL, and
//!   `--apply` requires `--mock`.
//! - **One mock per session**, shared by every campaign: the mock keeps the calls of earlier
//!   applies, and the ledger (the campaign's own, as `apply --mock` uses it, target `mock`)
//!   keeps each call from being placed twice, so each apply places only the calls that the
//!   change added.
//! - **Exactly the plan that was reported.** The plan is saved to a private temporary file
//!   and applied from there; `apply` refuses it if the campaign changed in between (the
//!   queued re-run then plans and applies the new version). An invalid file yields no plan,
//!   so nothing is applied from it.
//! - **The ledger lock** is taken by `apply` for each run: a second watcher, or an `outreach
//!   apply` on the same ledger, is refused with "in use" (reported as `apply-failed`). Applies
//!   of this session run one at a time, because campaigns in one directory share a ledger and
//!   its lock refuses a second holder in the same process too.
//! - **Responsive**: no waiting for calling windows (apply's default for the mock), no
//!   following of outcomes (`--no-follow`), no waiting for pauses or retries (`--no-wait`).
//!   The apply still sends at the campaign's `requests_per_second`, as a real run would.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use crate::apply;
use crate::endpoint::InProcessMock;
use crate::plan::diff::Snapshot;
use crate::plan::{self, JsonPlanWriter, Tee};
use crate::settings::ApplySettings;
use crate::settings::target::Target;
use crate::validate;
use crate::watch::step::{Applied, Step, StepOutput};

/// Nobody is asked (the mock needs no confirmation), and the session's own lines say how each
/// apply went: no progress bar under them.
const OPERATOR: apply::Operator<'static> = apply::Operator {
    prompt: &apply::Nobody,
    progress: &apply::Quiet,
};

/// Validate, plan (saving the plan), then apply it to the session's mock.
pub struct ApplyStep {
    runtime: tokio::runtime::Runtime,
    /// Kept for the session: dropping it would leave the mock's tasks without an owner.
    _mock: InProcessMock,
    url: String,
    state: Option<PathBuf>,
    interrupted: Arc<AtomicBool>,
    /// One apply at a time in this session (see the module's notes on the ledger lock).
    turn: Mutex<()>,
    plans: AtomicU64,
}

impl ApplyStep {
    /// Starts the session's mock on a random loopback port.
    pub fn start(state: Option<PathBuf>, interrupted: Arc<AtomicBool>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let mock = runtime
            .block_on(InProcessMock::start())
            .context("cannot start the mock server")?;
        let url = mock.url();
        Ok(ApplyStep {
            runtime,
            _mock: mock,
            url,
            state,
            interrupted,
            turn: Mutex::new(()),
            plans: AtomicU64::new(0),
        })
    }

    fn settings(&self, plan_file: PathBuf) -> ApplySettings {
        ApplySettings {
            input: plan_file,
            target: Target::RunningMock(self.url.clone()),
            key: None,
            yes: true,
            new_ledger: false,
            overwrite_workflow: false,
            callback_token: None,
            moved_from: None,
            max_calls: None,
            dry_run: false,
            no_wait: true,
            no_follow: true,
            enforce_schedule: false,
            resend_in_doubt: false,
            in_doubt_grace: Duration::from_secs(60),
            lease: Duration::from_secs(30),
            state: self.state.clone(),
            json: true,
            follow_timeout: Duration::ZERO,
            request_timeout: Duration::from_secs(30),
            locked: None,
        }
    }

    /// A private temporary file for one plan (it holds patient data).
    fn plan_file(&self) -> anyhow::Result<(PathBuf, std::fs::File)> {
        let n = self.plans.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "outreach-watch-{}-{n}.plan.json",
            std::process::id()
        ));
        let file = crate::private::owner_only()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot write the plan to {}", path.display()))?;
        Ok((path, file))
    }

    /// Applies the saved plan; `emit`s [`StepOutput::Applying`] once `apply` has checked the
    /// plan and locked the ledger (from then on, edits to the campaign cannot change this run).
    fn apply(
        &self,
        plan_file: PathBuf,
        emit: &mut dyn FnMut(StepOutput),
    ) -> Result<Applied, String> {
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let mut settings = self.settings(plan_file);
        settings.locked = Some(locked_tx);
        let interrupted = Arc::clone(&self.interrupted);
        let result = std::thread::scope(|scope| {
            // The settings (and the sender in them) move into the run: when it ends before
            // locking the ledger, the sender is dropped and the wait below ends too.
            let run = scope.spawn(move || {
                self.runtime
                    .block_on(apply::apply(&settings, interrupted, OPERATOR))
            });
            if locked.recv().is_ok() {
                emit(StepOutput::Applying);
            }
            run.join()
        });
        let applied = result
            .map_err(|_| "the apply panicked".to_owned())?
            .map_err(|e| format!("{e:#}"))?;
        applied.end.map_err(|e| format!("{e:#}"))?;
        Ok(Applied {
            summary: Box::new(applied.summary),
        })
    }
}

/// Plans `campaign` into `snapshot` and the JSON plan file.
fn save_plan(
    campaign: &crate::campaign::Campaign,
    path: &Path,
    file: std::fs::File,
    snapshot: &mut Snapshot,
) -> anyhow::Result<()> {
    let mut writer = JsonPlanWriter::new(std::io::BufWriter::new(file));
    plan::plan(campaign, path, &mut Tee(&mut writer, snapshot))?;
    writer.into_inner().flush()?;
    Ok(())
}

impl Step for ApplyStep {
    fn run(&self, path: &Path, emit: &mut dyn FnMut(StepOutput)) {
        let checked = validate::check_file(path);
        let Some(campaign) = checked.campaign else {
            // Nothing is planned from an invalid file, so nothing is applied from it.
            return emit(StepOutput::Invalid(checked.report));
        };
        let (plan_file, file) = match self.plan_file() {
            Ok(f) => f,
            Err(e) => return emit(StepOutput::Failed(format!("{e:#}"))),
        };
        let mut snapshot = Snapshot::default();
        if let Err(e) = save_plan(&campaign, path, file, &mut snapshot) {
            let _ = std::fs::remove_file(&plan_file);
            return emit(StepOutput::Failed(format!("{e:#}")));
        }
        emit(StepOutput::Planned {
            campaign: Box::new(campaign),
            snapshot,
        });
        let result = if self.interrupted.load(Ordering::SeqCst) {
            Err("stopping: not applied".to_owned())
        } else {
            let _turn = self
                .turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.apply(plan_file.clone(), emit)
        };
        let _ = std::fs::remove_file(&plan_file);
        emit(StepOutput::Applied(result));
    }
}
