//! The request journal: a capped ring buffer in memory, optionally appended to an NDJSON file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write as _};

use axum::http::{HeaderMap, Method};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::rfc3339;

/// Bytes of a request body kept per entry.
pub const MAX_STORED_BODY: usize = 16 * 1024;

/// One request as received.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub seq: u64,
    /// Real wall-clock time of arrival, ms since the Unix epoch.
    pub time_ms: u64,
    pub method: Method,
    pub path: String,
    /// `name: value` lines from [`capture_headers`], the key already redacted.
    pub headers: String,
    pub body: Bytes,
    pub body_len: usize,
    /// The status sent, or `None` when the connection was closed without a response.
    pub status: Option<u16>,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
    pub latency_us: u64,
}

/// The JSON shape of a journal entry (also one NDJSON line).
#[derive(Debug, Serialize)]
pub struct JournalView {
    pub seq: u64,
    pub time: String,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub fault: Option<&'static str>,
    pub latency_ms: f64,
    pub headers: Map<String, Value>,
    pub body: Value,
    pub body_truncated: bool,
}

/// Copies request headers as `name: value` lines, with the API key redacted (only the
/// scheme of `Authorization` is kept). A copy, not the `HeaderMap`: its values are slices of
/// the connection's read buffer and would keep whole buffers alive in the ring.
pub fn capture_headers(headers: &HeaderMap) -> String {
    let mut text = String::new();
    for (name, value) in headers {
        text.push_str(name.as_str());
        text.push_str(": ");
        if name == axum::http::header::AUTHORIZATION {
            match value.to_str().unwrap_or("").split_once(' ') {
                Some((scheme, _)) => {
                    text.push_str(scheme);
                    text.push_str(" [redacted]");
                }
                None => text.push_str("[redacted]"),
            }
        } else {
            text.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        text.push('\n');
    }
    text
}

impl JournalEntry {
    pub fn view(&self) -> JournalView {
        let mut headers = Map::new();
        for line in self.headers.lines() {
            if let Some((name, value)) = line.split_once(": ") {
                headers.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        let body = if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
        };
        // Microseconds to fractional milliseconds.
        #[allow(clippy::cast_precision_loss)] // latencies are small
        let latency_ms = self.latency_us as f64 / 1000.0;
        JournalView {
            seq: self.seq,
            time: rfc3339(self.time_ms),
            method: self.method.to_string(),
            path: self.path.clone(),
            status: self.status,
            fault: self.fault,
            latency_ms,
            headers,
            body,
            body_truncated: self.body_len > self.body.len(),
        }
    }
}

/// The in-memory ring and the optional file.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: VecDeque<JournalEntry>,
    file: Option<BufWriter<File>>,
    /// Entries evicted from the ring since start or reset.
    dropped: u64,
}

impl Journal {
    pub fn new(capacity: usize, file: Option<File>) -> Self {
        Self {
            capacity,
            entries: VecDeque::new(),
            file: file.map(BufWriter::new),
            dropped: 0,
        }
    }

    pub fn push(&mut self, entry: JournalEntry) {
        if let Some(file) = &mut self.file
            && let Ok(line) = serde_json::to_string(&entry.view())
            && (writeln!(file, "{line}").is_err())
        {
            tracing::warn!("cannot write the journal file; further entries stay in memory only");
            self.file = None;
        }
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    pub fn flush(&mut self) {
        if let Some(file) = &mut self.file {
            let _ = file.flush();
        }
    }

    /// Entries with `seq >= since`, oldest first, at most `limit`.
    pub fn since(&self, since: u64, limit: usize) -> Vec<JournalView> {
        self.entries
            .iter()
            .filter(|e| e.seq >= since)
            .take(limit)
            .map(JournalEntry::view)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Empties the ring (the file keeps what was written).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> JournalEntry {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer secret-key".parse().unwrap());
        JournalEntry {
            seq,
            time_ms: 0,
            method: Method::POST,
            path: "/voicebot/v1/call".into(),
            headers: capture_headers(&headers),
            body: Bytes::from_static(br#"{"a":1}"#),
            body_len: 7,
            status: Some(200),
            fault: None,
            latency_us: 1500,
        }
    }

    #[test]
    fn ring_is_capped_and_key_redacted() {
        let mut journal = Journal::new(2, None);
        for seq in 0..5 {
            journal.push(entry(seq));
        }
        assert_eq!(journal.len(), 2);
        assert_eq!(journal.dropped(), 3);
        let views = journal.since(0, 10);
        assert_eq!(views[0].seq, 3);
        assert_eq!(views[0].headers["authorization"], "Bearer [redacted]");
        assert_eq!(views[0].body["a"], 1);
        let text = serde_json::to_string(&views).unwrap();
        assert!(!text.contains("secret-key"));
        assert!(
            !journal
                .entries
                .iter()
                .any(|e| e.headers.contains("secret-key"))
        );
    }
}
