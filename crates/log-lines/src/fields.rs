//! An event's message and fields, collected once for both formats, with secrets left out of
//! both: a field whose name says it holds a credential is written as `[redacted]`, in text
//! and in JSON alike.

use std::fmt;

use serde_json::Value;
use tracing::field::{Field, Visit};

/// What an event carries.
#[derive(Debug, Default)]
pub(crate) struct Recorded {
    pub message: String,
    pub fields: Vec<(&'static str, Value)>,
    /// The target a `log` crate record names (its event's own target is `log`).
    pub log_target: Option<String>,
}

const REDACTED: &str = "[redacted]";

/// Parts of field names that hold credentials (an `Authorization` header, an API key, a
/// database password).
const SECRET_NAMES: [&str; 7] = [
    "authorization",
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "cookie",
];

fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|s| name.contains(s))
}

impl Recorded {
    pub(crate) fn of(event: &tracing::Event<'_>) -> Recorded {
        let mut fields = Recorded::default();
        event.record(&mut fields);
        fields
    }

    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
            }
            "log.target" => {
                self.log_target = value.as_str().map(ToOwned::to_owned);
            }
            // What the `log` crate adds to every record: where in the source it was written.
            name if name.starts_with("log.") => {}
            name if is_secret(name) => self.fields.push((name, Value::from(REDACTED))),
            name => self.fields.push((name, value)),
        }
    }
}

impl Visit for Recorded {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(e) = source {
            text.push_str(": ");
            text.push_str(&e.to_string());
            source = e.source();
        }
        self.put(field, Value::from(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
}

/// Control characters (an escape code in a patient's name, a newline in an error) written
/// visibly, so that a log line is one line and never drives the terminal; `lines` keeps
/// newlines (a fatal error may list things one a line).
pub(crate) fn visible(text: &str, lines: bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() && !(lines && c == '\n');
    if !text.chars().any(hidden) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_recognised_by_their_field_names() {
        for name in [
            "authorization",
            "Authorization",
            "api_key",
            "db_password",
            "token",
        ] {
            assert!(is_secret(name), "{name}");
        }
        for name in ["status", "path", "outreach_key", "url"] {
            assert!(!is_secret(name), "{name}");
        }
    }

    #[test]
    fn control_characters_are_written_visibly() {
        assert_eq!(visible("plain", false), "plain");
        assert_eq!(visible("a\u{1b}[31mb\nc", false), "a\\u{1b}[31mb\\nc");
        assert_eq!(visible("a\u{1b}b\nc", true), "a\\u{1b}b\nc");
    }
}
