use std::io::Write;
use std::process::ExitCode;

use outreach::Outcome;

// plan's workers allocate rows and calls that the writer frees on another thread; glibc's
// allocator spent a quarter of plan's time on that (bench/RESULTS.md), mimalloc much less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `plan --detailed-exitcode` follows Terraform: any error, bad flags included, is 1.
    let detailed = std::env::args_os().any(|a| a == "--detailed-exitcode");
    let failed = if detailed { 1 } else { 2 };
    let cli = match outreach::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are successes; any other flag problem is "could not run".
            outreach::logging::print_parse_error(&e);
            return ExitCode::from(if e.use_stderr() { failed } else { 0 });
        }
    };
    let log = outreach::logging::init(outreach::cli::logging(&cli));
    let config = match outreach::cli::resolve(cli) {
        Ok(c) => c,
        Err(e) => {
            log.fatal(format_args!("{e:#}"));
            return ExitCode::from(failed);
        }
    };
    let detailed = config.detailed_exitcode();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = outreach::run(config, &mut out);
    let flushed = out.flush();
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Ok(Outcome::Pending) => ExitCode::from(if detailed { 2 } else { 0 }),
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Ok(Outcome::NotRun) => ExitCode::from(failed),
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
            log.fatal(format_args!("{e:#}"));
            ExitCode::from(if detailed { 1 } else { 2 })
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
