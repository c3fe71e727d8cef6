//! The ledger's own commands: `pause`, `resume`, `purge` and `migrate`.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use crate::Outcome;
use crate::clock;
use crate::ledger::{self, Ledger};

/// Runs `outreach pause`.
pub fn pause(campaign: &Path, state: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let name = super::campaign_name(campaign)?;
    let ledger = Ledger::open(state)?;
    ledger.pause(&name)?;
    writeln!(
        out,
        "Paused {name}: runs using {} stop sending before their next batch. `outreach resume {}` restarts them.",
        ledger.path().display(),
        campaign.display()
    )?;
    Ok(Outcome::Success)
}

/// Runs `outreach resume`.
pub fn resume(campaign: &Path, state: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let name = super::campaign_name(campaign)?;
    let was = Ledger::open(state)?.resume(&name)?;
    if was {
        writeln!(out, "Resumed {name}.")?;
    } else {
        writeln!(out, "{name} was not paused.")?;
    }
    Ok(Outcome::Success)
}

/// Runs `outreach purge`.
pub fn purge(
    state: &Path,
    older_than: jiff::SignedDuration,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let ledger = super::open_existing(state)?;
    let before = clock::now()
        .checked_sub(older_than)
        .context("--older-than is too long")?;
    let n = ledger.purge(&before.to_string())?;
    writeln!(
        out,
        "Purged patient data from {n} call records last updated before {before}; counts and outcomes are kept."
    )?;
    Ok(Outcome::Success)
}

/// Runs `outreach migrate`.
pub fn migrate(state: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Opening applies the migrations; a newer schema is refused there.
    let ledger = Ledger::open(state)?;
    let version = if ledger.is_shared() {
        i64::from(ledger::PG_SCHEMA_VERSION)
    } else {
        ledger::SCHEMA_VERSION
    };
    writeln!(
        out,
        "The ledger {} is at schema version {version}.",
        ledger.path().display()
    )?;
    Ok(Outcome::Success)
}
