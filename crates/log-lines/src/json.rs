//! Log lines for collectors: one JSON object per event, on one line.
//!
//! ```json
//! {"time":"2026-12-01T08:14:05.12Z","level":"warn","target":"outreach::apply::send","message":"outside the calling window…"}
//! ```
//!
//! `time` is RFC 3339 in UTC; `level` is `error`, `warn`, `info`, `debug` or `trace`; the
//! event's fields follow under their own names (one named like a key above is written as
//! `field_<name>`), then `spans`, the names of the spans it happened in, when there are any.

use serde_json::{Map, Value};
use tracing::Level;

use crate::fields::Recorded;

const KEYS: [&str; 5] = ["time", "level", "target", "message", "spans"];

/// One event as a line of JSON (without the newline).
pub(crate) fn line(level: Level, target: &str, fields: Recorded, spans: &[&str]) -> String {
    let mut object = Map::new();
    object.insert(
        "time".to_owned(),
        Value::from(jiff::Timestamp::now().to_string()),
    );
    object.insert(
        "level".to_owned(),
        Value::from(level.as_str().to_ascii_lowercase()),
    );
    object.insert("target".to_owned(), Value::from(target));
    object.insert("message".to_owned(), Value::from(fields.message));
    for (name, value) in fields.fields {
        let key = if KEYS.contains(&name) {
            format!("field_{name}")
        } else {
            name.to_owned()
        };
        object.insert(key, value);
    }
    if !spans.is_empty() {
        object.insert("spans".to_owned(), Value::from(spans));
    }
    Value::Object(object).to_string()
}
