//! `outreach sync`: look up the outcomes of a campaign's open calls and record them; and the
//! same step before `report --sync` and `status --sync` show their figures.

use std::io::Write;

use anyhow::Context as _;

use crate::Outcome;
use crate::settings::SyncSettings;

/// Runs the step on its own runtime.
fn step(s: &SyncSettings) -> anyhow::Result<crate::apply::sync::Synced> {
    super::open_existing(&s.state)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(crate::apply::sync::sync_campaign(s))
}

/// Runs `outreach sync`: exit 0 when everything that could be learnt was, 1 when calls remain
/// whose outcome nobody can give.
pub fn run(s: &SyncSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let synced = step(s)?;
    crate::report::sync::write(&synced, s.json, out)?;
    Ok(if synced.learnt.complete() {
        Outcome::Success
    } else {
        Outcome::Problems
    })
}

/// `--sync` of `report` and `status`: the step, said on standard error, before the figures.
pub fn before_showing(s: &SyncSettings) -> anyhow::Result<()> {
    let synced = step(s)?;
    crate::report::sync::log(&synced);
    Ok(())
}
