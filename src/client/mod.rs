//! The voicebot HTTP client. Wire types come from the `voicebot-api` crate, the one definition the
//! mock also serves. The client follows the contract's rules for the live service: success
//! is any 2xx, never the `status` string; other 4xx are rejections with the server's message;
//! responses are parsed leniently; the [ours] endpoints are optional (a 404 there means "not
//! supported", never a failure).

mod workflows;
pub use workflows::{
    AllWorkflows, CreateError, MAX_ID_CHARS, MAX_PAGES, PAGE_LIMIT, is_workflow_id,
};

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};
use serde::de::DeserializeOwned;
use voicebot_api::wire::{Batch, BatchCreated, BatchList, CallStatus, Envelope, Workflow};

/// What a failed send proves about the calls in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The request provably never reached the server (connection refused, DNS): safe to retry.
    NotSent(String),
    /// 429: nothing was placed; retry after the given delay.
    RateLimited { retry_after: Option<Duration> },
    /// 401: the key is wrong; nothing was placed, and nothing else will be.
    Unauthorized(String),
    /// Another 4xx: nothing was placed; the server's message says why.
    Rejected { status: u16, message: String },
    /// The server may have placed the calls (5xx, a reset or timeout after sending).
    InDoubt(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NotSent(m) => write!(f, "not sent: {m}"),
            SendError::RateLimited { retry_after } => match retry_after {
                Some(d) => write!(f, "rate limited (retry after {} s)", d.as_secs_f64()),
                None => f.write_str("rate limited"),
            },
            SendError::Unauthorized(m) => write!(f, "the API key was refused (401): {m}"),
            SendError::Rejected { status, message } => write!(f, "rejected ({status}): {message}"),
            SendError::InDoubt(m) => write!(f, "in doubt: {m}"),
        }
    }
}

/// A failed lookup (status, batch, workflow).
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("the API key was refused (401)")]
    Unauthorized,
    #[error("{0}")]
    Other(String),
}

/// A client for one API base URL.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The most of a server's message kept, in characters.
const MESSAGE_CHARS: usize = 200;
/// The largest answer read to a call request (a batch id in its envelope is a few dozen bytes).
const MAX_PLACE_ANSWER: usize = 1024 * 1024;
/// The largest answer read to a lookup (a workflow's batches can be many).
const MAX_LOOKUP_ANSWER: usize = 32 * 1024 * 1024;
/// The longest `Retry-After` honoured: a server asking for more is asked again after this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The server's message (its envelope's `message`, else the start of its body), cut to
/// [`MESSAGE_CHARS`] and made inert: control characters (a terminal's escape sequences) become
/// `?`, since it is written to the log as it came.
fn message_of(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(ToOwned::to_owned)
        });
    message
        .as_deref()
        .unwrap_or(body)
        .chars()
        .take(MESSAGE_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `Retry-After` in seconds (the contract's form), at most [`MAX_RETRY_AFTER`]; `None` when
/// absent or not a number of seconds (an HTTP date: the caller's own backoff applies).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0 && !s.is_nan())
        // Capped before the conversion: `from_secs_f64` panics on a value too large for a
        // Duration (`1e300`, `inf`).
        .map(|s| Duration::from_secs_f64(s.min(MAX_RETRY_AFTER.as_secs_f64())))
}

/// Why an answer's body could not be read.
enum BodyError {
    Transport(reqwest::Error),
    TooLarge(usize),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Transport(e) => f.write_str(&describe(e)),
            BodyError::TooLarge(cap) => write!(f, "the answer is larger than {cap} bytes"),
        }
    }
}

/// The answer's body as text, read up to `cap` bytes: a server that sends more is not read
/// into memory (the rest is left unread and the connection dropped).
async fn body_text(mut resp: reqwest::Response, cap: usize) -> Result<String, BodyError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if bytes.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge(cap));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Client {
    /// A client for `base` (no trailing slash needed) with an API key.
    pub fn new(base: &str, key: SecretString, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            // A redirect is answered, never followed: a POST re-sent to wherever a proxy or a
            // hostile server points would carry patients' numbers (and, to the same host, the
            // key) to an address nobody configured. See [`redirected`].
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .user_agent(concat!("outreach/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Places one batch: `path` is the call route of the campaign's kind, `body` the request.
    pub async fn place(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<BatchCreated, SendError> {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(self.key.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    SendError::NotSent(describe(&e))
                } else {
                    // Timeout or reset after the request may have been written.
                    SendError::InDoubt(describe(&e))
                }
            })?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(SendError::RateLimited {
                retry_after: retry_after(&resp),
            });
        }
        if status.is_redirection() {
            // In doubt, never "not sent": the request reached something, and a 303 after a
            // POST is how a server says it did the work (post/redirect/get). Retried blind,
            // the batch would be placed again on every retry.
            return Err(SendError::InDoubt(redirected(&resp)));
        }
        let text = body_text(resp, MAX_PLACE_ANSWER).await;
        if status.is_success() {
            let text = text.map_err(|e| {
                SendError::InDoubt(format!(
                    "accepted ({status}) but the answer could not be read: {e}"
                ))
            })?;
            return serde_json::from_str::<Envelope<BatchCreated>>(&text)
                .map(|e| e.data)
                .map_err(|e| {
                    SendError::InDoubt(format!(
                        "accepted ({status}) but the answer has no batch id: {e}"
                    ))
                });
        }
        let message = text.map(|t| message_of(&t)).unwrap_or_default();
        Err(match status.as_u16() {
            401 => SendError::Unauthorized(message),
            400..=499 => SendError::Rejected {
                status: status.as_u16(),
                message,
            },
            _ => SendError::InDoubt(format!("server error {status}: {message}")),
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, LookupError> {
        self.get_capped(path, MAX_LOOKUP_ANSWER).await
    }

    /// A GET whose answer is read up to `cap` bytes: `None` on 404.
    async fn get_capped<T: DeserializeOwned>(
        &self,
        path: &str,
        cap: usize,
    ) -> Result<Option<T>, LookupError> {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(self.key.expose_secret())
            .send()
            .await
            .map_err(|e| LookupError::Other(describe(&e)))?;
        let status = resp.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(LookupError::Unauthorized);
        }
        if status.is_redirection() {
            return Err(LookupError::Other(redirected(&resp)));
        }
        let text = body_text(resp, cap)
            .await
            .map_err(|e| LookupError::Other(e.to_string()))?;
        if !status.is_success() {
            return Err(LookupError::Other(format!(
                "{status}: {}",
                message_of(&text)
            )));
        }
        serde_json::from_str::<Envelope<T>>(&text)
            .map(|e| Some(e.data))
            .map_err(|e| LookupError::Other(format!("unexpected answer from {path}: {e}")))
    }

    /// One batch with its calls ([ours]; `None` when the server does not offer it).
    pub async fn batch(&self, batch_id: &str) -> Result<Option<Batch>, LookupError> {
        self.get(&voicebot_api::routes::batch(batch_id)).await
    }

    /// The batches of a workflow ([ours]; `None` when the server does not offer it).
    pub async fn workflow_batches(
        &self,
        workflow_id: &str,
    ) -> Result<Option<Vec<Batch>>, LookupError> {
        if !is_workflow_id(workflow_id) {
            return Err(not_an_id());
        }
        let list: Option<BatchList> = self
            .get(&voicebot_api::routes::workflow_requests(workflow_id))
            .await?;
        Ok(list.map(|l| l.requests))
    }

    /// One call's status ([doc]).
    pub async fn status(&self, call_id: &str) -> Result<Option<CallStatus>, LookupError> {
        self.get(&voicebot_api::routes::status(call_id)).await
    }

    /// A workflow ([ours] on the live service; `None` when unknown or not offered).
    pub async fn workflow(&self, workflow_id: &str) -> Result<Option<Workflow>, LookupError> {
        if !is_workflow_id(workflow_id) {
            return Err(not_an_id());
        }
        self.get(&voicebot_api::routes::workflow(workflow_id)).await
    }
}

/// What a redirect answer says, for an error: its status and the scheme, host and port it
/// points to (never its path or query, which may hold anything), and what to do.
pub(crate) fn redirected(resp: &reqwest::Response) -> String {
    let to = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| resp.url().join(l).ok())
        .map_or_else(
            || "an address it does not give".to_owned(),
            |u| {
                let host = u.host_str().unwrap_or("?");
                match u.port() {
                    Some(port) => format!("{}://{host}:{port}", u.scheme()),
                    None => format!("{}://{host}", u.scheme()),
                }
            },
        );
    // A parsed host holds no control characters; a long one is cut.
    let to: String = to.chars().take(MESSAGE_CHARS).collect();
    format!(
        "the server answered {} with a redirect to {to}; outreach does not follow redirects (the request would carry patients' numbers to an address nobody configured): point --api-url at the address meant",
        resp.status().as_u16()
    )
}

/// A workflow id that would not stay one path segment (from a hostile list or ledger).
fn not_an_id() -> LookupError {
    LookupError::Other(
        "a workflow id that is not one (letters, digits, - and _ only) was not looked up"
            .to_owned(),
    )
}

/// An error's chain, without the URL's query (never holds secrets here, but stay terse).
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
