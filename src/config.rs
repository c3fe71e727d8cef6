//! Settings resolved once from flags and the environment.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::campaign::Kind;
use crate::cli::{Cli, ColorChoice, Command};
use crate::plan_report::PlanFormat;
use crate::report::Format;

/// What to do, fully resolved.
#[derive(Debug)]
pub enum Config {
    Init(InitSettings),
    Validate {
        paths: Vec<PathBuf>,
        format: Format,
        color: bool,
    },
    Plan(PlanSettings),
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
            Command::Init {
                dir,
                patients,
                phone_column,
                country,
                name,
                kind,
                out,
                yes,
                force,
            } => Config::Init(InitSettings {
                dir,
                patients,
                phone_column,
                country,
                name,
                kind: kind.map(|k| {
                    if k == "conversation" {
                        Kind::Conversation
                    } else {
                        Kind::Robocall
                    }
                }),
                out,
                yes,
                force,
                interactive: !yes && std::io::stdin().is_terminal(),
                color,
            }),
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
            Command::Schema => Config::Schema,
            Command::MockServer(args) => Config::MockServer(args),
        }
    }
}

/// Settings of `outreach init`.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // each bool is an independent flag of the command
pub struct InitSettings {
    pub dir: PathBuf,
    pub patients: PathBuf,
    pub phone_column: Option<String>,
    pub country: Option<String>,
    pub name: Option<String>,
    pub kind: Option<Kind>,
    pub out: Option<PathBuf>,
    pub yes: bool,
    pub force: bool,
    /// Ask to confirm each guess: on a terminal, without --yes.
    pub interactive: bool,
    pub color: bool,
}
