//! `outreach apply`: place the planned calls, with Ctrl-C (or SIGTERM, SIGHUP) stopping new
//! requests.

use std::io::Write;

use anyhow::Context as _;

use crate::Outcome;
use crate::apply;
use crate::settings::ApplySettings;

/// Runs `outreach apply`.
pub fn run(s: &ApplySettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    // Which signal stopped the run, for its summary.
    let which = Arc::new(std::sync::OnceLock::new());
    let seen = Arc::clone(&which);
    // SIGTERM and SIGHUP are Ctrl-C too: listened for before anything is sent.
    let mut signals = {
        let _runtime = runtime.enter();
        crate::signals::StopSignals::new().context("cannot listen for Ctrl-C and SIGTERM")?
    };
    runtime.spawn(async move {
        if let Ok(signal) = signals.next().await {
            let _ = seen.set(signal.name());
            flag.store(true, Ordering::SeqCst);
            tracing::warn!("{}: stopping: no new requests; waiting for those in flight (Ctrl-C again to quit at once; the ledger stays consistent)", signal.name());
            if signals.next().await.is_ok() {
                // Every ledger write is a committed transaction: calls in flight stay `sending`
                // and are resolved as in doubt by the next run.
                std::process::exit(130);
            }
        }
    });
    let progress = crate::report::progress::on_stderr();
    let operator = apply::Operator {
        prompt: &apply::Terminal,
        progress: progress.as_ref(),
    };
    let mut applied = runtime.block_on(apply::apply(s, interrupted, operator))?;
    if let Some(apply::Stopped::Interrupted { signal }) = &mut applied.summary.stopped {
        *signal = which.get().copied();
    }
    // The bar is gone before the summary is written.
    drop(progress);
    crate::report::apply::write(&applied.summary, s.json, out)?;
    Ok(match applied.end? {
        apply::ApplyEnd::Done => Outcome::Success,
        apply::ApplyEnd::Problems => Outcome::Problems,
        apply::ApplyEnd::Interrupted => Outcome::Interrupted,
        // The summary says so: nothing more to add on standard error.
        apply::ApplyEnd::NotConfirmed => Outcome::NotRun,
    })
}
