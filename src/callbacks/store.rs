//! The seam between the receiver and where its callbacks are committed: the ledger in
//! production (`ledger_store.rs`, over `crate::ledger::AsyncLedger`), an in-memory store in
//! the receiver's tests. The receiver writes no SQL; it hands each group of callbacks to one
//! `record` call and answers the service only after that call returned.

use std::future::Future;
use std::pin::Pin;

use crate::ledger::LedgerError;

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

/// One completion callback, read and checked, ready to be committed; one item of its
/// `request_calls`; and what committing it did: the ledger's own types, which the receiver's
/// tests' store fills too.
pub use crate::ledger::{CallOutcome as ReceivedCall, CallbackOutcomes as Received, Recorded};

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
