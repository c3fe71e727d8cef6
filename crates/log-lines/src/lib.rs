//! How outreach and the voicebot mock write for people and for log collectors, in one place
//! both binaries share (as they share the wire format): when a stream is coloured
//! (`--color`, `NO_COLOR`), the one time format for people, and the log on standard error,
//! as sentences with local times (`--log-format text`) or one JSON object per event
//! (`--log-format json`), with more detail for `-v` or `RUST_LOG`.

mod color;
mod fields;
mod json;
mod text;
mod time;

use std::fmt::Display;
use std::io::Write as _;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

pub use color::{ColorChoice, parse};
pub use time::human_at;

/// The flags that decide how a program writes, the same in both binaries (global flags).
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// When to colour output, on standard output and standard error alike: auto (a stream
    /// that is a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto
    )]
    pub color: ColorChoice,
    /// More detail in the log on standard error: -v adds the level, the source and the
    /// fields of each line, and debug lines; -vv debug lines of every library; -vvv
    /// everything. RUST_LOG (such as RUST_LOG=outreach=debug) chooses the lines instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The log on standard error: text (sentences with local times, for people) or json
    /// (one object per line with time, level, message and fields, for log collectors).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How the log is written, resolved.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub format: LogFormat,
    /// How many `-v`.
    pub verbose: u8,
    /// Whether standard error is coloured.
    pub color: bool,
    /// The crates whose information lines are shown by default (others show warnings and
    /// errors), the first naming the program in a fatal error's JSON.
    pub crates: &'a [&'a str],
}

/// The installed log, for the one line written whatever the filter: the fatal error.
#[derive(Debug)]
pub struct Logger {
    format: LogFormat,
    color: bool,
    target: String,
}

/// The filter: `RUST_LOG` when it is set (and valid), else the verbosity's; and whether
/// lines carry their detail.
fn filter(options: &Options<'_>) -> (EnvFilter, bool) {
    let env = std::env::var("RUST_LOG").unwrap_or_default();
    if !env.trim().is_empty()
        && let Ok(env) = EnvFilter::try_new(&env)
    {
        return (env, true);
    }
    let spec = match options.verbose {
        0 | 1 => {
            let level = if options.verbose == 0 {
                "info"
            } else {
                "debug"
            };
            let own = options.crates.iter().map(|c| format!(",{c}={level}"));
            std::iter::once("warn".to_owned()).chain(own).collect()
        }
        2 => "debug".to_owned(),
        _ => "trace".to_owned(),
    };
    (EnvFilter::new(spec), options.verbose > 0)
}

/// The event formatter: one line per event, in the format asked for.
enum Lines {
    Text(text::Text),
    Json,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut recorded = fields::Recorded::of(event);
        let target = recorded
            .log_target
            .take()
            .unwrap_or_else(|| event.metadata().target().to_owned());
        let spans: Vec<&str> = ctx
            .event_scope()
            .map(|scope| scope.from_root().map(|s| s.name()).collect())
            .unwrap_or_default();
        let level = *event.metadata().level();
        match self {
            Lines::Text(text) => text.write(&mut w, level, &target, &spans, &recorded),
            Lines::Json => writeln!(w, "{}", json::line(level, &target, recorded, &spans)),
        }
    }
}

/// The format of the log installed by [`init`] (text when none is).
static INSTALLED: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// The format of the installed log: what else writes on standard error follows it (a
/// progress bar is drawn only among text lines, never among JSON ones).
pub fn installed_format() -> LogFormat {
    INSTALLED.get().copied().unwrap_or_default()
}

/// Installs the log on standard error (once: a second call changes nothing).
pub fn init(options: &Options<'_>) -> Logger {
    let _ = INSTALLED.set(options.format);
    let (filter, detail) = filter(options);
    let lines = match options.format {
        LogFormat::Text => Lines::Text(text::Text {
            color: options.color,
            detail,
        }),
        LogFormat::Json => Lines::Json,
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(lines);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(layer)
        .try_init();
    Logger {
        format: options.format,
        color: options.color,
        target: options
            .crates
            .first()
            .copied()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// A command line clap refused (or `--help`, `--version`), written where and as the program
/// writes: help and version as clap prints them; an error as clap words it, coloured as
/// `--color` says, or, under `--log-format json`, as one error event, so that a log collector
/// reading standard error sees JSON lines only. `crates` as in [`Options`].
pub fn print_parse_error(error: &clap::Error, crates: &[&str]) {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !error.use_stderr() || color::flag_in_args(&args, "--log-format") != Some("json") {
        let _ = error.print();
        return;
    }
    let log = Logger {
        format: LogFormat::Json,
        color: false,
        target: crates.first().copied().unwrap_or_default().to_owned(),
    };
    // clap's words without its styling; the event is the error, so without its `error: `.
    let words = error.render().to_string();
    let words = words.trim_end();
    log.fatal(words.strip_prefix("error: ").unwrap_or(words));
}

impl Logger {
    /// The error that ends a run, on standard error whatever the filter: `error: …` in text
    /// (the answer of the command, so without a time, as clap's errors), an error event in
    /// JSON.
    pub fn fatal(&self, message: impl Display) {
        let message = message.to_string();
        let line = match self.format {
            LogFormat::Text => {
                let paint = text::Paint(self.color);
                format!(
                    "{}error:{} {}",
                    paint.level(tracing::Level::ERROR),
                    paint.reset(),
                    fields::visible(&message, true)
                )
            }
            LogFormat::Json => {
                let fields = fields::Recorded {
                    message,
                    ..fields::Recorded::default()
                };
                json::line(tracing::Level::ERROR, &self.target, fields, &[])
            }
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into a shared buffer, for a subscriber under test.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `format` writes for one event with a secret among its fields.
    fn written(format: Lines) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .event_format(format);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                authorization = "Bearer k-123",
                status = 401,
                time = "late",
                "the API key was refused"
            );
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_lines_carry_time_level_message_and_fields_but_no_secret() {
        let line = written(Lines::Json);
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(
            event["time"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .is_ok()
        );
        assert_eq!(event["level"], "warn");
        assert_eq!(event["message"], "the API key was refused");
        assert_eq!(event["status"], 401);
        assert_eq!(event["field_time"], "late");
        assert_eq!(event["authorization"], "[redacted]");
        assert!(!line.contains("k-123"), "{line}");
    }

    #[test]
    fn text_lines_are_words_by_default_and_fields_in_detail_without_secrets() {
        let plain = written(Lines::Text(text::Text {
            color: false,
            detail: false,
        }));
        let (_, words) = plain.split_once("  ").unwrap();
        assert_eq!(words, "warning: the API key was refused\n");
        let detail = written(Lines::Text(text::Text {
            color: false,
            detail: true,
        }));
        assert!(
            detail.ends_with(
                " WARN log_lines::tests: the API key was refused authorization=[redacted] status=401 time=late\n"
            ),
            "{detail}"
        );
    }
}
