//! `voicebot-mock`: the voicebot mock server as a standalone binary.

use std::process::ExitCode;

use clap::Parser;
use mock_server::MockArgs;

#[derive(Debug, Parser)]
#[command(
    name = "voicebot-mock",
    version,
    about = "A faithful, stateful replica of Intron Health's voicebot API, for tests and CI dry-runs.",
    after_help = "Logs one line per request on stderr, with the local time; -v adds the fields, \
                  --log-format json writes JSON, RUST_LOG chooses the lines (RUST_LOG=warn: none)."
)]
struct Cli {
    #[command(flatten)]
    args: MockArgs,
    #[command(flatten)]
    output: log_lines::LogArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match log_lines::parse::<Cli>() {
        Ok(cli) => cli,
        Err(e) => {
            log_lines::print_parse_error(&e, &["mock_server"]);
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let log = log_lines::init(&log_lines::Options {
        format: cli.output.log_format,
        verbose: cli.output.verbose,
        color: cli.output.color.stderr(),
        crates: &["mock_server"],
    });
    match mock_server::run(cli.args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log.fatal(format_args!("{error:#}"));
            ExitCode::from(2)
        }
    }
}
