//! `outreach status`: what the ledger holds, per campaign, and the runners at work.

use std::io::Write;
use std::path::Path;

use crate::Outcome;

/// Runs `outreach status`.
pub fn run(
    campaign: Option<&Path>,
    state: &Path,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let name = campaign.map(super::campaign_name).transpose()?;
    let ledger = super::open_existing(state)?;
    crate::report::status::status(&ledger, name.as_deref(), json, out)?;
    Ok(Outcome::Success)
}
