//! outreach: patient voice-call campaigns declared in YAML.
//!
//! The folders are the pipeline, each stage taking the previous stages' types:
//! `load` → `campaign` → `patients` → `render` → `validate` → `plan` → `apply` → `report`,
//! with the `ledger` (on `campaign` only) under plan and apply. `cli` resolves flags into `settings` once; `commands`
//! holds one short file per subcommand; `client` speaks the voicebot API (whose wire types are
//! the `voicebot-api` crate); `endpoint` is the one place that starts the bundled mock.
//! `watch` and `init` are commands built from the same stages. See `docs/architecture.md`.

pub mod apply;
pub mod callbacks;
pub mod campaign;
pub mod cli;
pub mod client;
pub mod clock;
pub mod commands;
pub mod endpoint;
pub mod filter;
pub mod init;
pub mod ledger;
pub mod load;
pub mod logging;
pub mod patients;
pub mod plan;
pub mod private;
pub mod render;
pub mod report;
pub mod settings;
pub mod signals;
pub mod validate;
pub mod watch;

use std::io::Write;

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
    /// The command did not do its job and its reporter has said why (exit 2, with no error
    /// line after): `apply` whose confirmation was declined.
    NotRun,
}

/// Runs a command, writing its results to `out`.
pub fn run(config: Config, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match config {
        Config::Validate {
            paths,
            format,
            color,
        } => commands::validate::run(&paths, format, color, out),
        Config::Plan(settings) => commands::plan::run(&settings, out),
        Config::Apply(settings) => commands::apply::run(&settings, out),
        Config::Status {
            campaign,
            state,
            target,
            json,
            all,
            sync,
        } => {
            if let Some(s) = &sync {
                commands::sync::before_showing(s)?;
            }
            commands::status::run(
                campaign.as_deref(),
                &state,
                target.as_ref(),
                crate::report::status::View {
                    json,
                    all,
                    zone: None,
                },
                out,
            )
        }
        Config::Report {
            campaign,
            state,
            target,
            format,
            out: file,
            unmask,
            by,
            list,
            sync,
        } => {
            if let Some(s) = &sync {
                commands::sync::before_showing(s)?;
            }
            commands::report::run(
                &commands::report::ReportArgs {
                    campaign: &campaign,
                    state: &state,
                    target: target.as_ref(),
                    format,
                    file: file.as_deref(),
                    unmask,
                    by: &by,
                    list: list.as_ref(),
                },
                out,
            )
        }
        Config::Sync(settings) => commands::sync::run(&settings, out),
        Config::Pause { campaign, state } => commands::ledger::pause(&campaign, &state, out),
        Config::Resume { campaign, state } => commands::ledger::resume(&campaign, &state, out),
        Config::Purge { state, older_than } => commands::ledger::purge(&state, older_than, out),
        Config::Migrate {
            state,
            accept_lost_records,
        } => commands::ledger::migrate(&state, accept_lost_records, out),
        Config::Watch(settings) => commands::watch::run(&settings, out),
        Config::Schema => commands::schema::run(out),
        Config::Init(settings) => commands::init::run(&settings, out),
        Config::MockServer(args) => commands::mock_server::run(args),
        Config::Callbacks(settings) => commands::callbacks::run(&settings),
        Config::Workflows(settings) => commands::workflows::run(&settings, out),
    }
}
