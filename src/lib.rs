//! outreach: patient voice-call campaigns declared in YAML.
//!
//! Stages, each a module with its own typed artifact, in one direction:
//! `yaml` → `document` (load) → `schema` + `validate` → (plan, apply: later issues).

pub mod campaign;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod document;
pub mod report;
pub mod schema;
pub mod source;
pub mod template;
pub mod validate;
pub mod yaml;

use std::io::Write;

use anyhow::Context as _;

use crate::config::Config;

/// How a command ended, when it could do its job. Errors (`Err`) mean it could not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine (exit 0).
    Success,
    /// The tool worked and found problems (exit 1).
    Problems,
}

/// Runs a command, writing its results to `out`.
pub fn run(config: Config, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match config {
        Config::Validate {
            paths,
            format,
            color,
        } => {
            let files = validate::expand(&paths).context("cannot validate")?;
            if files.is_empty() {
                anyhow::bail!(
                    "no campaign files (*.yaml, *.yml) found in {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let reports: Vec<_> = files
                .iter()
                .map(|f| validate::check_file(f).report)
                .collect();
            report::reporter(format, color).validation(&reports, out)?;
            Ok(if reports.iter().all(diagnostic::FileReport::is_valid) {
                Outcome::Success
            } else {
                Outcome::Problems
            })
        }
        Config::Schema => {
            out.write_all(schema::schema_text().as_bytes())?;
            Ok(Outcome::Success)
        }
        Config::MockServer(args) => {
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(mock_server::run(args))?;
            Ok(Outcome::Success)
        }
    }
}
