//! Command-line flags (clap derive). They are turned into a [`crate::config::Config`] once;
//! nothing below that sees raw flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::plan_report::PlanFormat;
use crate::report::Format;
use crate::watch_report::WatchFormat;

/// Run patient voice-call campaigns declared in YAML, against Intron Health's voicebot API.
///
/// Campaign files declare the workflow, the voice, where patients come from, the message
/// variables, opt-outs, calling windows and delivery limits. Start with `outreach validate`.
///
/// Exit codes: 0 success, 1 the tool ran and found problems, 2 the tool could not run.
#[derive(Debug, Parser)]
#[command(
    name = "outreach",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check campaign files against the schema and the rules a schema cannot express.
    ///
    /// Reports every problem in every file at once, with file:line:column, the JSON pointer,
    /// a stable code and a hint. Exit 0 when every file is valid (warnings allowed), 1 when
    /// some file is invalid, 2 when a path does not exist or a flag is wrong.
    Validate {
        /// Campaign files, or directories to search for *.yaml and *.yml (default: campaigns/).
        paths: Vec<PathBuf>,
        /// Output format: human, json, junit, or github (annotations for GitHub Actions).
        #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Show exactly who would be called, with what words, and who is left out and why.
    ///
    /// Reads every patient source, normalises phone numbers, applies opt-outs and dedupe,
    /// renders the variables and tags for each patient, and groups the calls into batches.
    /// Printed output masks phone numbers and patient data unless --unmask; --out saves the
    /// full plan (unmasked, owner-only permissions) for review and for `apply`.
    ///
    /// Exit codes: 0 planned, 1 problems (invalid campaign; with --strict, rows skipped for
    /// a template), 2 could not run. With --detailed-exitcode, as `terraform plan`: 0 nothing
    /// to call, 2 calls pending, 1 any error.
    Plan {
        /// The campaign file.
        campaign: PathBuf,
        /// Save the full plan as JSON to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Output format: human, json (a summary document for CI) or markdown (a pull-request comment).
        #[arg(long, short = 'f', value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
        /// Show phone numbers and patient data in printed output (never in pull requests!).
        #[arg(long)]
        unmask: bool,
        /// Fail (exit 1) when any row is skipped because a template has no value for it.
        #[arg(long)]
        strict: bool,
        /// Exit 0 when there is nothing to call, 2 when calls are pending, 1 on any error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// How many rendered calls the printed output shows.
        #[arg(long, default_value_t = 5, value_name = "N")]
        sample: usize,
    },
    /// Validate and plan campaigns again each time they or their patient files change.
    ///
    /// Watches campaign files (and every *.yaml/*.yml in the directories given, including
    /// files added later) and the patient and opt-out files they name. After each change it
    /// validates, plans, and prints what changed since the previous plan: calls added and
    /// removed, changed variables, newly skipped rows. An invalid edit prints its problems and
    /// the watch goes on. Plans only: the watcher never places calls. Ctrl-C stops it.
    Watch {
        /// Campaign files, or directories to search for *.yaml and *.yml (default: campaigns/).
        paths: Vec<PathBuf>,
        /// Output format: human, or json (one event object per line, for tools).
        #[arg(long, short = 'f', value_enum, default_value_t = WatchFormat::Human)]
        format: WatchFormat,
        /// Quiet time after the last change before the campaigns run again, in milliseconds.
        #[arg(long, default_value_t = 50, value_name = "MS")]
        debounce: u64,
        /// Show phone numbers and patient data in printed output.
        #[arg(long)]
        unmask: bool,
        /// How many calls and skipped rows of each kind a change lists.
        #[arg(long, default_value_t = 5, value_name = "N")]
        sample: usize,
    },
    /// Print the campaign file's JSON schema (the one in schemas/campaign.schema.json).
    ///
    /// Editors with the YAML language server use it for completion and hover help: start a
    /// campaign file with `# yaml-language-server: $schema=<path to the schema>`.
    Schema,
    /// Run the bundled voicebot mock server: a stateful replica of the API for dry runs.
    ///
    /// Serves the voicebot endpoints on loopback, with the `/__mock/` controls (journal,
    /// calls, faults, clock). The documented samples work against it verbatim. See
    /// mock-server/README.md.
    MockServer(mock_server::MockArgs),
}
