//! The seam between the receiver and where its callbacks are committed: the ledger in
//! production (`ledger_store.rs`, over `crate::ledger::AsyncLedger`), an in-memory store in
//! the receiver's tests. The receiver writes no SQL; it hands each group of callbacks to one
//! `record` call and answers the service only after that call returned.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::ledger::{CallState, LedgerError};

/// A boxed future that can be sent to another thread (the store is a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where received callbacks are committed (the ledger, in production).
pub trait CallbackStore: Send + Sync + 'static {
    /// Commits these callbacks in one transaction; one result per callback, in order.
    /// Returns only after the commit.
    fn record(&self, callbacks: Vec<Received>) -> BoxFuture<'_, Result<Vec<Recorded>, StoreError>>;
    /// Keeps a body that was refused (bad JSON, unknown shape), redacted, for inspection.
    fn keep_rejected(&self, rejected: Rejected) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Matches kept unmatched callbacks again (their batch may be recorded by now); returns how
    /// many calls were settled.
    fn rematch(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// One completion callback, read and checked, ready to be committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// When the receiver read it.
    pub received_at: jiff::Timestamp,
    /// The payload's `request_id`: the batch id the call POST returned.
    pub batch_id: String,
    /// The batch's stats as received, re-serialised as JSON (no phone numbers in it).
    pub stats_json: String,
    /// None when the payload had no per-call data (`request_calls` absent or empty).
    pub calls: Option<Vec<ReceivedCall>>,
    /// The body, redacted (phone numbers masked) and bounded, kept if the batch is unmatched.
    pub redacted_body: String,
}

/// One item of a callback's `request_calls`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedCall {
    /// The robocall's `outreach_key` tag ([`crate::plan::KEY_TAG`]), when the payload echoes
    /// tags (conversation calls have none).
    pub key: Option<String>,
    pub phone: Option<String>,
    pub call_id: Option<String>,
    /// The outcome its processing status records ([`crate::apply::call_outcome`]); None:
    /// not final (or a status this version does not know).
    pub state: Option<CallState>,
    /// The chosen response option, if any.
    pub reply: Option<String>,
    pub duration: Option<Duration>,
}

/// What committing one callback did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The callback's calls (0 without per-call data).
    pub calls: u64,
    /// Calls whose outcome this callback settled.
    pub settled: u64,
    /// Calls that were final already (a second delivery, or a later callback first).
    pub already_final: u64,
    /// Calls that match none of the ledger's (kept, matched again later).
    pub unmatched: u64,
    /// Whether the ledger knows the batch.
    pub batch_known: bool,
    /// Numbers added to the reply opt-out list.
    pub opted_out: u64,
}

/// A body the receiver refused (answered 400), kept for inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub received_at: jiff::Timestamp,
    /// Why it was refused, in words that quote nothing of the body.
    pub reason: String,
    /// The body with every phone number-like value masked, at most
    /// [`crate::callbacks::redact::MAX_KEPT`] bytes.
    pub redacted_body: String,
    /// The body's size as received.
    pub bytes: u64,
}

/// Why a store could not commit.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// An error in words.
    pub fn message(text: impl Into<String>) -> Self {
        Self::Other(text.into())
    }
}
