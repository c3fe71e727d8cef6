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
    // A campaign's times are shown in its zone; the whole ledger's in the machine's.
    let (name, zone) = match campaign {
        None => (None, None),
        Some(path) => match crate::validate::check_file(path).campaign {
            Some(c) => {
                let zone = jiff::tz::TimeZone::get(&c.schedule.timezone).ok();
                (Some(c.name), zone)
            }
            None => (Some(super::campaign_name(path)?), None),
        },
    };
    let ledger = super::open_existing(state)?;
    let target = target.map(ToString::to_string);
    let view = View {
        zone: zone.as_ref(),
        ..view
    };
    crate::report::status::status(&ledger, name.as_deref(), target.as_deref(), view, out)?;
    Ok(Outcome::Success)
}
