//! The ledger's own commands: `pause`, `resume`, `purge` and `migrate`.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use crate::Outcome;
use crate::clock;
use crate::ledger::{self, Ledger};
use crate::report::ledger::{self as report, Done};

/// Runs `outreach pause`.
pub fn pause(campaign: &Path, state: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let name = super::campaign_name(campaign)?;
    let ledger = Ledger::open(state)?;
    ledger.pause(&name)?;
    report::write(
        &Done::Paused {
            campaign: &name,
            ledger: ledger.path(),
            campaign_file: campaign,
        },
        out,
    )?;
    Ok(Outcome::Success)
}

/// Runs `outreach resume`.
pub fn resume(campaign: &Path, state: &Path, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let name = super::campaign_name(campaign)?;
    let was = Ledger::open(state)?.resume(&name)?;
    report::write(
        &Done::Resumed {
            campaign: &name,
            was_paused: was,
        },
        out,
    )?;
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
    let n = ledger.purge(before)?;
    report::write(&Done::Purged { records: n, before }, out)?;
    Ok(Outcome::Success)
}

/// Runs `outreach migrate`.
pub fn migrate(state: &Path, accept_loss: bool, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // Opening applies the migrations; a newer schema is refused there.
    let ledger = if accept_loss {
        Ledger::open_accepting_loss(state)?
    } else {
        Ledger::open(state)?
    };
    let version = if ledger.is_shared() {
        i64::from(ledger::PG_SCHEMA_VERSION)
    } else {
        ledger::SCHEMA_VERSION
    };
    report::write(
        &Done::Migrated {
            ledger: ledger.path(),
            version,
            accepted_loss: accept_loss && !ledger.is_shared(),
            targets: ledger.targets_rewritten(),
        },
        out,
    )?;
    Ok(Outcome::Success)
}
