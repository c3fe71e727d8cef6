//! Settings resolved once from flags and the environment.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command};
use crate::plan_report::PlanFormat;
use crate::report::Format;
use crate::watch_report::WatchFormat;

/// What to do, fully resolved.
#[derive(Debug)]
pub enum Config {
    Validate {
        paths: Vec<PathBuf>,
        format: Format,
        color: bool,
    },
    Plan(PlanSettings),
    Watch(WatchSettings),
    Schema,
    MockServer(mock_server::MockArgs),
}

/// Settings of `outreach plan`.
#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)] // each bool is an independent flag of the command
pub struct PlanSettings {
    pub campaign: PathBuf,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub unmask: bool,
    pub strict: bool,
    pub detailed_exitcode: bool,
    pub sample: usize,
    pub color: bool,
}

/// Settings of `outreach watch`.
#[derive(Debug)]
pub struct WatchSettings {
    pub paths: Vec<PathBuf>,
    pub format: WatchFormat,
    /// The quiet time after the last change, in milliseconds.
    pub debounce_ms: u64,
    pub unmask: bool,
    pub sample: usize,
    pub color: bool,
}

impl Config {
    /// Whether exit codes follow `terraform plan -detailed-exitcode`.
    pub fn detailed_exitcode(&self) -> bool {
        matches!(self, Config::Plan(p) if p.detailed_exitcode)
    }

    pub fn from_cli(cli: Cli) -> Self {
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        match cli.command {
            Command::Validate { paths, format } => Config::Validate {
                paths: if paths.is_empty() {
                    vec![PathBuf::from("campaigns")]
                } else {
                    paths
                },
                format,
                color,
            },
            Command::Plan {
                campaign,
                out,
                format,
                unmask,
                strict,
                detailed_exitcode,
                sample,
            } => Config::Plan(PlanSettings {
                campaign,
                out,
                format,
                unmask,
                strict,
                detailed_exitcode,
                sample,
                color,
            }),
            Command::Watch {
                paths,
                format,
                debounce,
                unmask,
                sample,
            } => Config::Watch(WatchSettings {
                paths: if paths.is_empty() {
                    vec![PathBuf::from("campaigns")]
                } else {
                    paths
                },
                format,
                debounce_ms: debounce,
                unmask,
                sample,
                color,
            }),
            Command::Schema => Config::Schema,
            Command::MockServer(args) => Config::MockServer(args),
        }
    }
}
