//! When a stream is coloured: `--color` and `NO_COLOR`, decided for each stream on its own.

use std::ffi::OsString;
use std::io::IsTerminal as _;

/// `--color`: `auto` colours a stream only when that stream is a terminal and `NO_COLOR` is
/// not set to a value (<https://no-color.org>); `always` and `never` decide for every stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn colours(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !no_color(),
        }
    }

    /// Whether to colour standard output.
    pub fn stdout(self) -> bool {
        self.colours(std::io::stdout().is_terminal())
    }

    /// Whether to colour standard error (logs, errors).
    pub fn stderr(self) -> bool {
        self.colours(std::io::stderr().is_terminal())
    }

    /// The same choice for clap's own help and errors (its `auto` looks at each stream and at
    /// `NO_COLOR` as ours does).
    fn clap(self) -> clap::ColorChoice {
        match self {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        }
    }
}

/// `NO_COLOR` set to anything but the empty string.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The last value of a flag (`--color never`, `--color=never`) on a command line, read
/// before clap parses it; `None` when it is not there or has no value.
pub(crate) fn flag_in_args<'a>(args: &'a [OsString], flag: &str) -> Option<&'a str> {
    let mut found = None;
    let mut args = args.iter();
    let prefix = format!("{flag}=");
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        if arg == flag {
            found = args.next().and_then(|v| v.to_str());
        } else if let Some(v) = arg.to_str().and_then(|a| a.strip_prefix(&prefix)) {
            found = Some(v);
        }
    }
    found
}

/// The last `--color` on a command line, read before clap parses it (an unknown value counts
/// as `auto`: clap refuses it a moment later).
fn color_in_args(args: &[OsString]) -> ColorChoice {
    match flag_in_args(args, "--color") {
        Some("always") => ColorChoice::Always,
        Some("never") => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// Parses the command line with clap's help and errors coloured as `--color` says.
pub fn parse<C: clap::Parser>() -> Result<C, clap::Error> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut command = C::command().color(color_in_args(&args).clap());
    let mut matches = command.try_get_matches_from_mut(args)?;
    C::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_last_color_flag_before_a_double_dash_wins() {
        assert_eq!(color_in_args(&args("outreach plan x")), ColorChoice::Auto);
        assert_eq!(
            color_in_args(&args("outreach --color never plan")),
            ColorChoice::Never
        );
        assert_eq!(
            color_in_args(&args("outreach plan --color=never --color always")),
            ColorChoice::Always
        );
        assert_eq!(
            color_in_args(&args("outreach plan -- --color=never")),
            ColorChoice::Auto
        );
        assert_eq!(color_in_args(&args("outreach --color")), ColorChoice::Auto);
    }

    #[test]
    fn always_and_never_ignore_the_terminal() {
        assert!(ColorChoice::Always.colours(false));
        assert!(!ColorChoice::Never.colours(true));
        assert!(!ColorChoice::Auto.colours(false));
    }
}
