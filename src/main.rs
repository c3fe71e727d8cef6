use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use outreach::{Outcome, cli::Cli, config::Config};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; any other flag problem is "could not run".
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = outreach::run(Config::from_cli(cli), &mut out);
    let flushed = out.flush();
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e)
            if is_broken_pipe(&e)
                || flushed
                    .as_ref()
                    .is_err_and(|f| f.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // `outreach validate | head` closed the pipe: not an error.
            ExitCode::SUCCESS
        }
        Err(e) => {
            #[allow(clippy::print_stderr)] // main is where errors reach the user
            {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
