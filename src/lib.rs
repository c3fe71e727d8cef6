//! outreach: patient voice-call campaigns declared in YAML.
//!
//! Stages, each a module with its own typed artifact, in one direction:
//! `yaml` → `document` (load) → `schema` + `validate` → (plan, apply: later issues).
//! Beside them, `init` (`guess` → `starter`) writes a starter campaign from a patient file.

pub mod apply;
pub mod campaign;
pub mod cli;
pub mod client;
pub mod clock;
pub mod init;
pub mod ledger;
pub mod load;
pub mod logging;
pub mod patients;
pub mod plan;
pub mod render;
pub mod report;
pub mod settings;
pub mod validate;
pub mod watch;

use std::io::Write;

use anyhow::Context as _;

use crate::settings::Config;

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
            crate::report::validation::reporter(format, color).validation(&reports, out)?;
            Ok(
                if reports
                    .iter()
                    .all(crate::load::diagnostic::FileReport::is_valid)
                {
                    Outcome::Success
                } else {
                    Outcome::Problems
                },
            )
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
            crate::report::outcomes::status(&ledger, name.as_deref(), json, out)?;
            Ok(Outcome::Success)
        }
        Config::Report {
            campaign,
            state,
            target,
            format,
            out: file,
            unmask,
        } => {
            let checked = validate::check_file(&campaign);
            let c = checked
                .campaign
                .with_context(|| format!("{} is not a valid campaign", campaign.display()))?;
            let ledger = open_existing(&state)?;
            let figures =
                crate::report::outcomes::Figures::compute(&ledger, &target, &c, &campaign)?;
            if let Some(e) = &figures.plan_error {
                tracing::warn!(
                    "the campaign could not be planned, so the report has no planned or skipped counts: {e}"
                );
            }
            match file {
                Some(path) => {
                    let mut w = std::io::BufWriter::new(
                        std::fs::File::create(&path)
                            .with_context(|| format!("cannot write {}", path.display()))?,
                    );
                    crate::report::outcomes::write(&figures, format, unmask, &mut w)?;
                    w.flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    writeln!(
                        out,
                        "Wrote the report of {} to {}",
                        figures.campaign,
                        path.display()
                    )?;
                }
                None => crate::report::outcomes::write(&figures, format, unmask, out)?,
            }
            Ok(Outcome::Success)
        }
        Config::Pause { campaign, state } => {
            let name = campaign_name(&campaign)?;
            let ledger = ledger::Ledger::open(&state)?;
            ledger.pause(&name)?;
            writeln!(
                out,
                "Paused {name}: runs using {} stop sending before their next batch. `outreach resume {}` restarts them.",
                ledger.path().display(),
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
            let before = clock::now()
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
        Config::Migrate { state } => {
            // Opening applies the migrations; a newer schema is refused there.
            let ledger = ledger::Ledger::open(&state)?;
            let version = if ledger.is_shared() {
                i64::from(ledger::PG_SCHEMA_VERSION)
            } else {
                ledger::SCHEMA_VERSION
            };
            writeln!(
                out,
                "The ledger {} is at schema version {version}.",
                ledger.path().display()
            )?;
            Ok(Outcome::Success)
        }
        Config::Schema => {
            out.write_all(crate::campaign::schema::schema_text().as_bytes())?;
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

/// Fetches the campaign's workflow from a target and checks it.
fn check_workflow(
    target: &apply::Target,
    key: Option<secrecy::SecretString>,
    campaign: &campaign::Campaign,
) -> anyhow::Result<crate::plan::workflow_check::WorkflowCheck> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (base, name, mock) = match target {
            apply::Target::Mock => {
                let m = mock_server::start(
                    mock_server::MockConfig::default(),
                    ([127, 0, 0, 1], 0).into(),
                )
                .await?;
                (m.url(), "the bundled mock".to_owned(), Some(m))
            }
            apply::Target::Url(u) => (u.clone(), u.clone(), None),
            apply::Target::RunningMock(u) => {
                (u.clone(), "the watch session's mock".to_owned(), None)
            }
        };
        let key = match (key, &mock) {
            (Some(k), _) => k,
            (None, Some(_)) => secrecy::SecretString::from("outreach-mock-key"),
            (None, None) => anyhow::bail!(
                "no API key to fetch the workflow: set INTRON_API_KEY or pass --api-key-file FILE"
            ),
        };
        let client = client::Client::new(&base, key, std::time::Duration::from_secs(30))
            .map_err(anyhow::Error::msg)?;
        let workflow = client
            .workflow(&campaign.workflow_id)
            .await
            .map_err(|e| anyhow::anyhow!("fetching the workflow from {name}: {e}"))?;
        if let Some(m) = mock {
            m.shutdown().await;
        }
        Ok(crate::plan::workflow_check::WorkflowCheck::new(
            &name, campaign, workflow,
        ))
    })
}

fn run_plan(s: &crate::settings::PlanSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if !s.campaign.is_file() {
        anyhow::bail!("{}: no such campaign file", s.campaign.display());
    }
    let checked = validate::check_file(&s.campaign);
    let Some(campaign) = checked.campaign else {
        // The plan of an invalid campaign means nothing: show why it is invalid.
        let format = match s.format {
            crate::report::plan::PlanFormat::Json => crate::report::validation::Format::Json,
            _ => crate::report::validation::Format::Human,
        };
        crate::report::validation::reporter(format, s.color)
            .validation(std::slice::from_ref(&checked.report), out)?;
        return Ok(Outcome::Problems);
    };
    // The plan to compare with is read first: a bad --compare is known before any work.
    let before = s.compare.as_deref().map(read_saved_plan).transpose()?;
    let mut overview = plan::Overview::new(s.sample);
    let mut check = match &s.target {
        Some(target) => Some(check_workflow(target, s.key.clone(), &campaign)?),
        None => None,
    };
    // Once calls were made, the plan subtracts them (per target, as apply records them).
    let target_id = match &s.target {
        Some(apply::Target::Mock | apply::Target::RunningMock(_)) => "mock".to_owned(),
        Some(apply::Target::Url(u)) => u.trim_end_matches('/').to_owned(),
        None => client::LIVE_URL.to_owned(),
    };
    let state = s
        .state
        .clone()
        .unwrap_or_else(|| apply::default_state(&s.campaign));
    let history = if state.exists() || ledger::is_postgres(&state) {
        Some(ledger::Ledger::open(&state)?.history(
            &target_id,
            &campaign.name,
            campaign.round.as_deref().unwrap_or(""),
        )?)
    } else {
        None
    };
    let mut now = crate::plan::diff::Snapshot::default();
    {
        // The snapshot is only kept (it holds every call) when there is something to compare.
        let mut nothing = plan::Discard;
        let snapshot: &mut dyn plan::Sink = if before.is_some() {
            &mut now
        } else {
            &mut nothing
        };
        let mut null = plan::Discard;
        let mut lengths;
        let measure: &mut dyn plan::Sink = match check.as_mut() {
            Some(c) => {
                lengths = crate::plan::workflow_check::Lengths {
                    check: c,
                    kind: campaign.kind,
                };
                &mut lengths
            }
            None => &mut null,
        };
        let mut inner = plan::Tee(snapshot, measure);
        let mut report = plan::Tee(&mut overview, &mut inner);
        let make = |sink: &mut dyn plan::Sink| match history {
            Some(h) if !h.is_empty() => plan::plan(
                &campaign,
                &s.campaign,
                &mut crate::plan::subtract::Subtract::new(sink, &campaign, h, &target_id),
            ),
            _ => plan::plan(&campaign, &s.campaign, sink),
        };
        match &s.out {
            Some(path) => {
                plan::save_with(path, |writer| make(&mut plan::Tee(writer, &mut report)))?
            }
            None => make(&mut report)?,
        };
    }
    if campaign.kind == campaign::Kind::Conversation {
        // A saved conversation plan holds the entries as sent, and those carry no tags.
        for c in now.calls.values_mut() {
            c.rendered.tags.clear();
        }
    }
    let changes = match (&before, &s.compare) {
        (Some(before), Some(path)) => Some(crate::report::plan::Changes {
            against: path,
            diff: crate::plan::diff::diff(before, &now),
            sources: now.sources.clone(),
            sample: s.sample,
        }),
        _ => None,
    };
    let summary = overview.summary.clone();
    if let Some(c) = check.as_mut() {
        c.finish();
    }
    let strict_failed = s.strict && overview.template_skips > 0;
    let saved = s.out.as_deref().filter(|_| !strict_failed);
    if strict_failed && let Some(path) = &s.out {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    let view = crate::report::plan::PlanView {
        campaign: &campaign,
        campaign_path: &s.campaign,
        overview: &overview,
        unmask: s.unmask,
        saved_to: saved,
        message_unchecked: check.is_none().then_some(
            "no target given (--mock or --api-url), so the workflow's message and placeholders were not fetched",
        ),
        workflow: check.as_ref(),
        changes: changes.as_ref(),
    };
    crate::report::plan::write(s.format, &view, out)?;
    if let Some(c) = &check
        && !c.problems.is_empty()
    {
        return Ok(Outcome::Problems);
    }
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
fn read_saved_plan(path: &std::path::Path) -> anyhow::Result<crate::plan::diff::Snapshot> {
    let text = std::fs::read(path)
        .with_context(|| format!("cannot read the plan to compare with, {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a saved plan (JSON)", path.display()))?;
    crate::plan::diff::Snapshot::from_saved_plan(&doc)
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
    let (doc, _) = crate::load::document::load(&text);
    doc.and_then(|d| {
        d.value
            .get("name")
            .and_then(|n| n.as_str())
            .map(ToOwned::to_owned)
    })
    .with_context(|| format!("{} has no campaign name", path.display()))
}

fn open_existing(state: &std::path::Path) -> anyhow::Result<ledger::Ledger> {
    if !state.exists() && !ledger::is_postgres(state) {
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
