//! The voicebot HTTP client. Wire types come from the `voicebot-api` crate, the one definition the
//! mock also serves. The client follows the contract's rules for the live service: success
//! is any 2xx, never the `status` string; other 4xx are rejections with the server's message;
//! responses are parsed leniently; the [ours] endpoints are optional (a 404 there means "not
//! supported", never a failure).

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

fn message_of(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(ToOwned::to_owned)
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
}

impl Client {
    /// A client for `base` (no trailing slash needed) with an API key.
    pub fn new(base: &str, key: SecretString, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
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
        let text = resp.text().await;
        if status.is_success() {
            let text = text.map_err(|e| {
                SendError::InDoubt(format!(
                    "accepted ({status}) but the answer was cut off: {}",
                    describe(&e)
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
        let text = resp
            .text()
            .await
            .map_err(|e| LookupError::Other(describe(&e)))?;
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
        self.get(&voicebot_api::routes::workflow(workflow_id)).await
    }
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
