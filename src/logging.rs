//! The log on standard error, through `tracing` (written by the `log-lines` crate, which the
//! mock's own binary shares): by default the words of this tool's information lines, its
//! warnings and errors, each after a local time; `-v` or `RUST_LOG` adds detail;
//! `--log-format json` writes one object per event.

use crate::settings::Logging;

/// Installs the log once. `serving` also shows the mock's lines (for `outreach
/// mock-server`); an in-process mock under `apply --mock` stays quiet unless asked (`-vv`,
/// `RUST_LOG`).
pub fn init(settings: Logging) -> log_lines::Logger {
    let crates: &[&str] = if settings.serving {
        &["outreach", "mock_server"]
    } else {
        &["outreach"]
    };
    log_lines::init(&log_lines::Options {
        format: settings.format,
        verbose: settings.verbose,
        color: settings.color,
        crates,
    })
}

/// A command line clap refused, as the log writes it (JSON under `--log-format json`); help
/// and version as clap prints them.
pub fn print_parse_error(error: &clap::Error) {
    log_lines::print_parse_error(error, &["outreach"]);
}
