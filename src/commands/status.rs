//! `outreach status`: what the ledger holds, per campaign, and the runners at work.

use std::io::Write;
use std::path::Path;

use crate::Outcome;

/// Runs `outreach status`.
pub fn run(
    campaign: Option<&Path>,
    state: &Path,
    json: bool,
    all: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let name = campaign.map(super::campaign_name).transpose()?;
    let ledger = super::open_existing(state)?;
    let view = crate::report::status::View { json, all };
    crate::report::status::status(&ledger, name.as_deref(), view, out)?;
    Ok(Outcome::Success)
}
