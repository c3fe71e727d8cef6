//! `outreach callbacks`: the receiver of the service's completion callbacks, in the
//! foreground until SIGTERM or SIGINT.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::Outcome;
use crate::callbacks::CallbackStore;
use crate::settings::callbacks::CallbacksSettings;
use crate::signals::StopSignals;

/// Runs the receiver until it is told to stop; then it drains and exits 0.
pub fn run(settings: &CallbacksSettings) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = open_store(&settings.state).await?;
        serve(settings, store).await
    })
}

async fn serve(
    settings: &CallbacksSettings,
    store: Arc<dyn CallbackStore>,
) -> anyhow::Result<Outcome> {
    // Before anything is bound, so a signal that comes early is not lost.
    let mut signals = StopSignals::new().context("cannot listen for stop signals")?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let running = crate::callbacks::start(listener, &settings.receiver, store)
        .context("cannot read the bound address")?;
    tracing::info!(
        address = %running.addr(),
        "listening on http://{} (callbacks at POST /callbacks/<token>, health at GET /healthz)",
        running.addr()
    );
    let signal = signals
        .next()
        .await
        .context("cannot listen for stop signals")?;
    tracing::info!(
        "{}: taking no new connections, finishing the callbacks in progress",
        signal.name()
    );
    running.shutdown().await;
    tracing::info!("stopped");
    Ok(Outcome::Success)
}

/// The ledger's store of callbacks: the ledger opened (and migrated) before anything is
/// bound, so that a ledger that cannot be used stops the receiver at once.
async fn open_store(state: &Path) -> anyhow::Result<Arc<dyn CallbackStore>> {
    let ledger = crate::ledger::AsyncLedger::open(state.to_path_buf()).await?;
    Ok(Arc::new(crate::callbacks::LedgerStore::new(ledger)))
}
