//! Settings resolved once from flags and the environment.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, Command};
use crate::report::Format;

/// What to do, fully resolved.
#[derive(Debug)]
pub enum Config {
    Validate {
        paths: Vec<PathBuf>,
        format: Format,
        color: bool,
    },
    Schema,
    MockServer(mock_server::MockArgs),
}

impl Config {
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
            Command::Schema => Config::Schema,
            Command::MockServer(args) => Config::MockServer(args),
        }
    }
}
