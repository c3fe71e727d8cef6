//! outreach: patient voice-call campaigns declared in YAML.
//!
//! Stages, each a module with its own typed artifact, in one direction:
//! `yaml` → `document` (load) → `schema` + `validate` → (plan, apply: later issues).
//! Beside them, `init` (`guess` → `starter`) writes a starter campaign from a patient file.

pub mod apply;
pub mod campaign;
pub mod cli;
pub mod client;
pub mod config;
pub mod diagnostic;
pub mod document;
pub mod guess;
pub mod init;
pub mod ledger;
pub mod logging;
pub mod outcomes;
pub mod phone;
pub mod plan;
pub mod plan_diff;
pub mod plan_report;
pub mod render;
pub mod report;
pub mod schema;
pub mod source;
pub mod starter;
pub mod template;
pub mod validate;
pub mod watch;
pub mod watch_apply;
pub mod watch_report;
pub mod windows;
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
    /// Stopped by Ctrl-C (exit 130).
    Interrupted,
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
        Config::Apply(settings) => run_apply(&settings, out),
        Config::Status {
            campaign,
            state,
            json,
        } => {
            let name = campaign.as_deref().map(campaign_name).transpose()?;
            let ledger = open_existing(&state)?;
            outcomes::status(&ledger, name.as_deref(), json, out)?;
            Ok(Outcome::Success)
        }
        Config::Report {
            campaign,
            state,
            target,
            format,
            unmask,
        } => {
            let checked = validate::check_file(&campaign);
            let c = checked
                .campaign
                .with_context(|| format!("{} is not a valid campaign", campaign.display()))?;
            let ledger = open_existing(&state)?;
            let figures = outcomes::Figures::compute(&ledger, &target, &c)?;
            outcomes::write(&figures, format, unmask, out)?;
            Ok(Outcome::Success)
        }
        Config::Pause { campaign, state } => {
            let name = campaign_name(&campaign)?;
            ledger::Ledger::open(&state)?.pause(&name)?;
            writeln!(
                out,
                "Paused {name}: runs using {} stop sending before their next batch. `outreach resume {}` restarts them.",
                state.display(),
                campaign.display()
            )?;
            Ok(Outcome::Success)
        }
        Config::Resume { campaign, state } => {
            let name = campaign_name(&campaign)?;
            let was = ledger::Ledger::open(&state)?.resume(&name)?;
            writeln!(
                out,
                "{}",
                if was {
                    format!("Resumed {name}.")
                } else {
                    format!("{name} was not paused.")
                }
            )?;
            Ok(Outcome::Success)
        }
        Config::Purge { state, older_than } => {
            let ledger = open_existing(&state)?;
            let before = jiff::Timestamp::now()
                .checked_sub(older_than)
                .context("--older-than is too long")?;
            let n = ledger.purge(&before.to_string())?;
            writeln!(
                out,
                "Purged patient data from {n} call records last updated before {before}; counts and outcomes are kept."
            )?;
            Ok(Outcome::Success)
        }
        Config::Watch(settings) => watch::run(&settings, out),
        Config::Schema => {
            out.write_all(schema::schema_text().as_bytes())?;
            Ok(Outcome::Success)
        }
        Config::Init(settings) => init::run(&settings, &mut std::io::stdin().lock(), out),
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
    // The plan to compare with is read first: a bad --compare is known before any work.
    let before = s.compare.as_deref().map(read_saved_plan).transpose()?;
    let mut overview = plan::Overview::new(s.sample);
    let mut now = plan_diff::Snapshot::default();
    let summary = {
        // The snapshot is only kept (it holds every call) when there is something to compare.
        let mut nothing = plan::Discard;
        let snapshot: &mut dyn plan::Sink = if before.is_some() {
            &mut now
        } else {
            &mut nothing
        };
        let mut sink = plan::Tee(&mut overview, snapshot);
        match &s.out {
            Some(path) => plan::save(&campaign, &s.campaign, path, &mut sink)?,
            None => plan::plan(&campaign, &s.campaign, &mut sink)?,
        }
    };
    if campaign.kind == campaign::Kind::Conversation {
        // A saved conversation plan holds the entries as sent, and those carry no tags.
        for c in now.calls.values_mut() {
            c.rendered.tags.clear();
        }
    }
    let changes = match (&before, &s.compare) {
        (Some(before), Some(path)) => Some(plan_report::Changes {
            against: path,
            diff: plan_diff::diff(before, &now),
            sources: now.sources.clone(),
            sample: s.sample,
        }),
        _ => None,
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
        changes: changes.as_ref(),
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

/// A plan saved with `plan --out`, for `plan --compare`.
fn read_saved_plan(path: &std::path::Path) -> anyhow::Result<plan_diff::Snapshot> {
    let text = std::fs::read(path)
        .with_context(|| format!("cannot read the plan to compare with, {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a saved plan (JSON)", path.display()))?;
    plan_diff::Snapshot::from_saved_plan(&doc)
        .map_err(|e| anyhow::anyhow!("--compare {}: {e}", path.display()))
}

/// The `name` of a campaign file (which need not be otherwise valid).
fn campaign_name(path: &std::path::Path) -> anyhow::Result<String> {
    let checked = validate::check_file(path);
    if let Some(c) = checked.campaign {
        return Ok(c.name);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (doc, _) = document::load(&text);
    doc.and_then(|d| {
        d.value
            .get("name")
            .and_then(|n| n.as_str())
            .map(ToOwned::to_owned)
    })
    .with_context(|| format!("{} has no campaign name", path.display()))
}

fn open_existing(state: &std::path::Path) -> anyhow::Result<ledger::Ledger> {
    if !state.exists() {
        anyhow::bail!(
            "no ledger at {}: nothing has been applied with it yet",
            state.display()
        );
    }
    Ok(ledger::Ledger::open(state)?)
}

fn run_apply(s: &apply::ApplySettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
            tracing::warn!("stopping: no new requests; waiting for those in flight (Ctrl-C again to quit at once; the ledger stays consistent)");
            if tokio::signal::ctrl_c().await.is_ok() {
                // Every ledger write is a committed transaction: calls in flight stay `sending`
                // and are resolved as in doubt by the next run.
                std::process::exit(130);
            }
        }
    });
    let end = runtime.block_on(apply::apply(s, interrupted, out))?;
    Ok(match end {
        apply::ApplyEnd::Done => Outcome::Success,
        apply::ApplyEnd::Problems => Outcome::Problems,
        apply::ApplyEnd::Interrupted => Outcome::Interrupted,
    })
}
