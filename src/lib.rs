//! outreach: patient voice-call campaigns declared in YAML.
//!
//! Stages, each a module with its own typed artifact, in one direction:
//! `yaml` → `document` (load) → `schema` + `validate` → (plan, apply: later issues).

pub mod campaign;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod document;
pub mod logging;
pub mod phone;
pub mod plan;
pub mod plan_diff;
pub mod plan_report;
pub mod render;
pub mod report;
pub mod schema;
pub mod source;
pub mod template;
pub mod validate;
pub mod watch;
pub mod watch_report;
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
    /// A plan has calls to place (exit 2 with `--detailed-exitcode`, else 0).
    Pending,
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
        Config::Plan(settings) => run_plan(&settings, out),
        Config::Watch(settings) => watch::run(&settings, out),
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

fn run_plan(s: &config::PlanSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if !s.campaign.is_file() {
        anyhow::bail!("{}: no such campaign file", s.campaign.display());
    }
    let checked = validate::check_file(&s.campaign);
    let Some(campaign) = checked.campaign else {
        // The plan of an invalid campaign means nothing: show why it is invalid.
        let format = match s.format {
            plan_report::PlanFormat::Json => report::Format::Json,
            _ => report::Format::Human,
        };
        report::reporter(format, s.color).validation(std::slice::from_ref(&checked.report), out)?;
        return Ok(Outcome::Problems);
    };
    let mut overview = plan::Overview::new(s.sample);
    let summary = match &s.out {
        Some(path) => plan::save(&campaign, &s.campaign, path, &mut overview)?,
        None => plan::plan(&campaign, &s.campaign, &mut overview)?,
    };
    let strict_failed = s.strict && overview.template_skips > 0;
    let saved = s.out.as_deref().filter(|_| !strict_failed);
    if strict_failed && let Some(path) = &s.out {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    let view = plan_report::PlanView {
        campaign: &campaign,
        campaign_path: &s.campaign,
        overview: &overview,
        unmask: s.unmask,
        saved_to: saved,
        message_unchecked: Some(
            "no target given, so the workflow's message and placeholders were not fetched",
        ),
    };
    plan_report::write(s.format, &view, out)?;
    if strict_failed {
        tracing::error!(
            "--strict: {} rows were skipped because a template has no value for them; no plan saved",
            overview.template_skips
        );
        return Ok(Outcome::Problems);
    }
    Ok(if summary.calls > 0 {
        Outcome::Pending
    } else {
        Outcome::Success
    })
}
