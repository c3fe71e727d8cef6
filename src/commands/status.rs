//! `outreach status`: what the ledger holds, per campaign, and the runners at work.

use std::io::Write;
use std::path::Path;

use crate::Outcome;
use crate::report::status::View;
use crate::settings::target::TargetId;

/// Runs `outreach status`: of one campaign or all, of one target (`--mock`, `--api-url`) or
/// all.
pub fn run(
    campaign: Option<&Path>,
    state: &Path,
    target: Option<&TargetId>,
    view: View,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let name = campaign.map(super::campaign_name).transpose()?;
    let ledger = super::open_existing(state)?;
    let target = target.map(ToString::to_string);
    crate::report::status::status(&ledger, name.as_deref(), target.as_deref(), view, out)?;
    Ok(Outcome::Success)
}
