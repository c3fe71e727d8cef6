//! Command-line flags (clap derive). They are turned into a [`crate::config::Config`] once;
//! nothing below that sees raw flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::report::Format;

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
