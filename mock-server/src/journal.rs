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

/// What a credential is replaced with.
const REDACTED: &[u8] = b"[redacted]";

/// Whether a header or query parameter named `name` may carry a credential: the usual
/// headers, and any name with a word of the kind in it (`x-auth-token`, `api_key`,
/// `client_secret`, `password`…). Better one harmless value hidden than one key kept.
pub fn is_credential(name: &str) -> bool {
    const WORDS: [&str; 8] = [
        "key",
        "token",
        "secret",
        "auth",
        "pass",
        "cookie",
        "credential",
        "session",
    ];
    let name = name.to_ascii_lowercase();
    WORDS.iter().any(|word| name.contains(word))
}

/// Appends request headers as `name: value` lines, every credential redacted (of
/// `Authorization` and `Proxy-Authorization`, only the scheme is kept). A copy, not the
/// `HeaderMap`: its values are slices of the connection's read buffer and would keep whole
/// buffers alive in the ring.
fn capture_headers(headers: &HeaderMap, text: &mut Vec<u8>) {
    for (name, value) in headers {
        text.extend_from_slice(name.as_str().as_bytes());
        text.extend_from_slice(b": ");
        let keeps_scheme = name == axum::http::header::AUTHORIZATION
            || name == axum::http::header::PROXY_AUTHORIZATION;
        if !is_credential(name.as_str()) {
            text.extend_from_slice(value.as_bytes());
        } else if let Some(space) = value.as_bytes().iter().position(|b| *b == b' ')
            && keeps_scheme
        {
            text.extend_from_slice(&value.as_bytes()[..space]);
            text.push(b' ');
            text.extend_from_slice(REDACTED);
        } else {
            text.extend_from_slice(REDACTED);
        }
        text.push(b'\n');
    }
}

/// Appends a request target with the value of every credential-like query parameter
/// (`?api_key=…`, `access_token=…`) redacted; the name is matched after percent-decoding.
fn capture_target(target: &str, text: &mut Vec<u8>) {
    let Some((path, query)) = target.split_once('?') else {
        text.extend_from_slice(target.as_bytes());
        return;
    };
    text.extend_from_slice(path.as_bytes());
    text.push(b'?');
    for (index, pair) in query.split('&').enumerate() {
        if index > 0 {
            text.push(b'&');
        }
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        };
        text.extend_from_slice(name.as_bytes());
        match value {
            Some(_) if is_credential(&percent_decoded(name)) => {
                text.push(b'=');
                text.extend_from_slice(REDACTED);
            }
            Some(value) => {
                text.push(b'=');
                text.extend_from_slice(value.as_bytes());
            }
            None => {}
        }
    }
}

/// A callback URL as the mock shows it (the journal, `/__mock/callbacks`): the receiver's
/// token travels in it (its last path segment, or a query), so the user, password, query,
/// fragment and last path segment are replaced. Something that is not a URL is not shown.
pub fn redacted_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return "[not a URL]".to_owned();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("redacted");
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        parsed.set_query(Some("[redacted]"));
    }
    parsed.set_fragment(None);
    let path = parsed.path().trim_end_matches('/').to_owned();
    if let Some((head, last)) = path.rsplit_once('/')
        && !last.is_empty()
    {
        parsed.set_path(&format!("{head}/[redacted]"));
    }
    parsed.to_string()
}

/// A request body with the `call_back_url` of a workflow's create or update body redacted
/// ([`redacted_url`]); `None` when it names no such field (kept as it came). Only bodies
/// that hold the field's name are parsed again; one that holds it and is not a JSON object
/// is not kept at all, since the token may be anywhere in it.
fn redacted_body(body: &[u8]) -> Option<Vec<u8>> {
    const FIELD: &[u8] = b"call_back_url";
    if !body.windows(FIELD.len()).any(|w| w == FIELD) {
        return None;
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return Some(b"[not kept: a body naming call_back_url that is not JSON]".to_vec());
    };
    if let Some(url) = value.get_mut("call_back_url")
        && let Some(text) = url.as_str()
        && !text.is_empty()
    {
        *url = Value::String(redacted_url(text));
    }
    serde_json::to_vec(&value).ok()
}

/// A query parameter's name as a server reads it (`api%5Fkey` is `api_key`, `+` a space).
fn percent_decoded(name: &str) -> String {
    let bytes = name.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| hex(bytes[i + 1]).zip(hex(bytes[i + 2])))
            .flatten();
        if let Some((high, low)) = escaped {
            // Two hex digits: below 256.
            #[expect(clippy::cast_possible_truncation, reason = "at most 0xff")]
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Opens the NDJSON journal file for appending: owner-only (its entries hold patients'
/// numbers and names), and never through a symbolic link at the path.
pub fn open_file(path: &std::path::Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let file = options.open(path).map_err(|e| {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is a symbolic link, and the mock never writes a file through one: remove the link or choose another path",
                )
            } else {
                e
            }
        })?;
        // A file that was there keeps its mode on open: narrow it before writing.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
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
        capture_target(path, &mut data);
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
        // Redacted whole, then cut: a cut body would no longer parse.
        let redacted = redacted_body(body);
        let kept = redacted.as_deref().unwrap_or(body);
        self.data
            .extend_from_slice(&kept[..kept.len().min(MAX_STORED_BODY)]);
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

    // Class 13: every credential-like header and query parameter is redacted, whatever its
    // name's case or encoding; other values are kept as sent.
    #[test]
    fn class_13_credentials_never_reach_the_journal() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer sekrit-1"),
            ("proxy-authorization", "Basic sekrit-2"),
            ("cookie", "session=sekrit-3"),
            ("set-cookie", "id=sekrit-4"),
            ("x-api-key", "sekrit-5"),
            ("x-auth-token", "sekrit-6"),
            ("x-client-secret", "sekrit-7"),
            ("x-password", "sekrit-8"),
            ("authorization-extra", "sekrit-9"),
            ("content-type", "application/json"),
        ] {
            headers.append(
                axum::http::HeaderName::from_static(name),
                value.parse().unwrap(),
            );
        }
        let target = "/voicebot/v1/call?api_key=sekrit-10&API_KEY=sekrit-11&api%5Fkey=sekrit-12\
                      &access_token=sekrit-13&Password=sekrit-14&page=2&flag&x=a%3Db";
        let mut entry = JournalEntry::capture(1, 0, Method::POST, target, &headers, 0);
        entry.finish(b"", Some(200), None, 1);
        let view = serde_json::to_string(&entry.view()).unwrap();
        assert!(!view.contains("sekrit"), "{view}");
        assert!(!entry.path().contains("sekrit"), "{}", entry.path());
        assert!(!entry.headers_text().contains("sekrit"));
        let view = entry.view();
        assert_eq!(view.headers["authorization"], "Bearer [redacted]");
        assert_eq!(view.headers["proxy-authorization"], "Basic [redacted]");
        assert_eq!(view.headers["cookie"], "[redacted]");
        assert_eq!(view.headers["x-api-key"], "[redacted]");
        assert_eq!(view.headers["content-type"], "application/json");
        assert_eq!(
            view.path,
            "/voicebot/v1/call?api_key=[redacted]&API_KEY=[redacted]&api%5Fkey=[redacted]\
             &access_token=[redacted]&Password=[redacted]&page=2&flag&x=a%3Db"
        );
    }

    #[cfg(unix)]
    #[test]
    fn class_13_the_journal_file_is_owner_only_and_never_a_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.ndjson");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_file(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("link.ndjson");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = open_file(&link).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[test]
    fn a_workflows_callback_token_is_not_kept() {
        let token = "Zq8mW2pLx7Rk4Tn9Bv6Hc3Jd5Fg1Ys0";
        for (url, shown) in [
            (
                format!("https://outreach.example.org/callbacks/{token}"),
                "https://outreach.example.org/callbacks/[redacted]",
            ),
            (
                format!("https://outreach.example.org/cb?token={token}"),
                "https://outreach.example.org/[redacted]?[redacted]",
            ),
            (
                format!("https://user:{token}@outreach.example.org/"),
                "https://redacted@outreach.example.org/",
            ),
        ] {
            let body = serde_json::to_vec(
                &serde_json::json!({"name": "n", "message": "m", "call_back_url": url}),
            )
            .unwrap();
            let mut entry = JournalEntry::capture(
                1,
                0,
                Method::POST,
                "/voicebot/v1/workflows",
                &HeaderMap::new(),
                body.len(),
            );
            entry.finish(&body, Some(201), None, 0);
            let view = entry.view();
            assert_eq!(view.body["call_back_url"], shown, "{url}");
            assert_eq!(view.body["message"], "m");
            assert!(!String::from_utf8_lossy(entry.body()).contains(token));
        }
        // A body that names the field and is not JSON is not kept.
        let mut entry = JournalEntry::capture(2, 0, Method::POST, "/x", &HeaderMap::new(), 0);
        entry.finish(
            format!("{{\"call_back_url\": \"https://h/{token}\"").as_bytes(),
            Some(400),
            None,
            0,
        );
        assert!(!String::from_utf8_lossy(entry.body()).contains(token));
        // Other bodies are kept byte for byte.
        let mut entry = JournalEntry::capture(3, 0, Method::POST, "/x", &HeaderMap::new(), 0);
        entry.finish(b"{ \"a\":1 }", Some(200), None, 0);
        assert_eq!(entry.body(), b"{ \"a\":1 }");
    }
}
