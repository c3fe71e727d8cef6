//! `voicebot-mock`: the voicebot mock server as a standalone binary.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use mock_server::MockArgs;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "voicebot-mock",
    version,
    about = "A faithful, stateful replica of Intron Health's voicebot API, for tests and CI dry-runs.",
    after_help = "Logs one line per request on stderr; filter with RUST_LOG (e.g. RUST_LOG=warn)."
)]
struct Cli {
    #[command(flatten)]
    args: MockArgs,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    match mock_server::run(cli.args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The one place this binary reports a fatal error to the user.
            #[expect(clippy::print_stderr, reason = "main reports fatal errors")]
            {
                eprintln!("voicebot-mock: {error:#}");
            }
            ExitCode::from(2)
        }
    }
}
