//! `outreach mock-server`: the bundled replica of the voicebot API, in the foreground.

use anyhow::Context as _;

use crate::Outcome;

/// Runs the mock until it is stopped.
pub fn run(args: mock_server::MockArgs) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(mock_server::run(args))?;
    Ok(Outcome::Success)
}
