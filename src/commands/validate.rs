//! `outreach validate`: every problem of every campaign file, located.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::Outcome;
use crate::load::diagnostic::FileReport;
use crate::report::validation;
use crate::settings::formats::ValidateFormat;
use crate::validate;

/// Runs `outreach validate`.
pub fn run(
    paths: &[PathBuf],
    format: ValidateFormat,
    color: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let files = validate::expand(paths).context("cannot validate")?;
    if files.is_empty() {
        let places = paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "." {
                    "the current directory".to_owned()
                } else {
                    p.display().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        anyhow::bail!(
            "no campaign files (*.yaml, *.yml) in {places}: write one with `outreach init --patients PATIENTS.csv`"
        );
    }
    let mut reports = validate::files::check_all(&files);
    validate::files::duplicate_names(&mut reports);
    validation::reporter(format, color).validation(&reports, out)?;
    Ok(if reports.iter().all(FileReport::is_valid) {
        Outcome::Success
    } else {
        Outcome::Problems
    })
}
