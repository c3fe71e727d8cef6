//! Log lines for people: the time, then the words.
//!
//! ```text
//! Tue 1 Dec 09:14 WAT  warning: outside the calling window; waiting until Tue 09:00 WAT
//! ```
//!
//! With detail (`-v`, or `RUST_LOG`), the level, the target, the spans and the fields follow:
//! `Tue 1 Dec 09:14 WAT  DEBUG outreach::apply::send: retrying a batch in 1.2 s`.

use std::fmt;

use serde_json::Value;
use tracing::Level;

use crate::fields::{Recorded, visible};

/// The text format.
pub(crate) struct Text {
    pub color: bool,
    pub detail: bool,
}

/// Escape codes, or nothing when the stream is not coloured.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    pub(crate) fn dim(self) -> &'static str {
        if self.0 { "\x1b[2m" } else { "" }
    }

    pub(crate) fn level(self, level: Level) -> &'static str {
        if !self.0 {
            return "";
        }
        match level {
            Level::ERROR => "\x1b[1;31m",
            Level::WARN => "\x1b[1;33m",
            Level::INFO => "\x1b[32m",
            Level::DEBUG => "\x1b[34m",
            Level::TRACE => "\x1b[35m",
        }
    }

    pub(crate) fn reset(self) -> &'static str {
        if self.0 { "\x1b[0m" } else { "" }
    }
}

/// The word before a message for people: none for information, which is the normal case.
fn label(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error: ",
        Level::WARN => "warning: ",
        Level::INFO => "",
        Level::DEBUG => "debug: ",
        Level::TRACE => "trace: ",
    }
}

impl Text {
    /// Writes one event's line.
    pub(crate) fn write(
        &self,
        w: &mut impl fmt::Write,
        level: Level,
        target: &str,
        spans: &[&str],
        recorded: &Recorded,
    ) -> fmt::Result {
        let paint = Paint(self.color);
        let (dim, on, off) = (paint.dim(), paint.level(level), paint.reset());
        write!(w, "{dim}{}{off}  ", crate::time::now_for_log())?;
        if self.detail {
            write!(w, "{on}{level:>5}{off} {dim}{target}:{off} ")?;
            for span in spans {
                write!(w, "{dim}{span}:{off} ")?;
            }
        } else if !label(level).is_empty() {
            write!(w, "{on}{}{off}", label(level))?;
        }
        w.write_str(&visible(&recorded.message, false))?;
        if self.detail {
            for (name, value) in &recorded.fields {
                let value = match value {
                    Value::String(s) => visible(s, false).into_owned(),
                    other => other.to_string(),
                };
                write!(w, " {dim}{name}={off}{value}")?;
            }
        }
        writeln!(w)
    }
}
