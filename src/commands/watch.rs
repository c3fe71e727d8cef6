//! `outreach watch`: validate and re-plan on every save.

use std::io::Write;

use crate::Outcome;
use crate::settings::WatchSettings;
use crate::watch;

/// Runs `outreach watch` until Ctrl-C.
pub fn run(settings: &WatchSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    watch::run(settings, out)
}
