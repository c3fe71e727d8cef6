//! The request journal: a capped ring buffer in memory, optionally appended to an NDJSON file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write as _};

use axum::http::{HeaderMap, Method};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::rfc3339;

/// Bytes of a request body kept per entry.
pub const MAX_STORED_BODY: usize = 16 * 1024;

/// One request as received. Path, headers and body share one allocation.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub seq: u64,
    /// Real wall-clock time of arrival, ms since the Unix epoch.
    pub time_ms: u64,
    pub method: Method,
    /// The status sent, or `None` when the connection was closed without a response.
    pub status: Option<u16>,
    /// The injected fault, if any.
    pub fault: Option<&'static str>,
    pub latency_us: u64,
    /// Length of the whole request body (the stored part is cut at [`MAX_STORED_BODY`]).
    pub body_len: usize,
    /// The path, then `name: value` header lines (key redacted), then the stored body.
    data: Vec<u8>,
    path_len: usize,
    headers_len: usize,
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

/// Appends request headers as `name: value` lines, with the API key redacted (only the
/// scheme of `Authorization` is kept). A copy, not the `HeaderMap`: its values are slices of
/// the connection's read buffer and would keep whole buffers alive in the ring.
fn capture_headers(headers: &HeaderMap, text: &mut Vec<u8>) {
    for (name, value) in headers {
        text.extend_from_slice(name.as_str().as_bytes());
        text.extend_from_slice(b": ");
        if name == axum::http::header::AUTHORIZATION {
            match value.as_bytes().iter().position(|b| *b == b' ') {
                Some(space) => {
                    text.extend_from_slice(&value.as_bytes()[..space]);
                    text.extend_from_slice(b" [redacted]");
                }
                None => text.extend_from_slice(b"[redacted]"),
            }
        } else {
            text.extend_from_slice(value.as_bytes());
        }
        text.push(b'\n');
    }
}

impl JournalEntry {
    /// Records a request's line and headers on arrival; `body_hint` sizes the buffer.
    pub fn capture(
        seq: u64,
        time_ms: u64,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body_hint: usize,
    ) -> Self {
        let mut data =
            Vec::with_capacity(path.len() + 64 * headers.len() + body_hint.min(MAX_STORED_BODY));
        data.extend_from_slice(path.as_bytes());
        let path_len = data.len();
        capture_headers(headers, &mut data);
        let headers_len = data.len() - path_len;
        Self {
            seq,
            time_ms,
            method,
            status: None,
            fault: None,
            latency_us: 0,
            body_len: 0,
            data,
            path_len,
            headers_len,
        }
    }

    /// Adds the body (cut at [`MAX_STORED_BODY`]) and the outcome.
    pub fn finish(
        &mut self,
        body: &[u8],
        status: Option<u16>,
        fault: Option<&'static str>,
        latency_us: u64,
    ) {
        self.body_len = body.len();
        self.data
            .extend_from_slice(&body[..body.len().min(MAX_STORED_BODY)]);
        self.status = status;
        self.fault = fault;
        self.latency_us = latency_us;
    }

    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.data[..self.path_len]).unwrap_or("")
    }

    fn headers_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data[self.path_len..self.path_len + self.headers_len])
    }

    /// The stored part of the body.
    pub fn body(&self) -> &[u8] {
        &self.data[self.path_len + self.headers_len..]
    }

    pub fn view(&self) -> JournalView {
        let mut headers = Map::new();
        for line in self.headers_text().lines() {
            if let Some((name, value)) = line.split_once(": ") {
                headers.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        let stored = self.body();
        let body = if stored.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(stored)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(stored).into_owned()))
        };
        // Microseconds to fractional milliseconds.
        #[expect(clippy::cast_precision_loss, reason = "latencies are small")]
        let latency_ms = self.latency_us as f64 / 1000.0;
        JournalView {
            seq: self.seq,
            time: rfc3339(self.time_ms),
            method: self.method.to_string(),
            path: self.path().to_owned(),
            status: self.status,
            fault: self.fault,
            latency_ms,
            headers,
            body,
            body_truncated: self.body_len > stored.len(),
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
        let mut entry =
            JournalEntry::capture(seq, 0, Method::POST, "/voicebot/v1/call", &headers, 7);
        entry.finish(br#"{"a":1}"#, Some(200), None, 1500);
        entry
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
                .any(|e| e.headers_text().contains("secret-key"))
        );
    }
}
