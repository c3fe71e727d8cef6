//! `outreach init`: a starter campaign from a patient file, each guess explained.

use std::io::Write;

use crate::Outcome;
use crate::init;
use crate::settings::InitSettings;

/// Runs `outreach init`, asking on standard input when the settings say it may.
pub fn run(settings: &InitSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    init::run(settings, &mut std::io::stdin().lock(), out)
}
