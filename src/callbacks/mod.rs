//! `outreach callbacks`: the HTTP service that receives the voicebot's completion callbacks
//! and commits every call's outcome to the ledger, built to face the internet behind a
//! hospital's reverse proxy.
//!
//! - `server.rs`: the routes (`POST /callbacks/{token}`, `GET /healthz`, 404 for anything
//!   else, a wrong token included) and each request's limits (body size, nesting, timeout);
//!   connections are held to their limits by the `http-guard` crate, shared with the mock.
//! - `token.rs`: the URL's secret, current and previous, compared in constant time.
//! - `payload.rs`: a body read into a [`Received`], or refused in words that quote nothing.
//! - `redact.rs`: what is kept of a body (phone numbers masked, bounded).
//! - `writer.rs`: the one writer, committing callbacks in groups and answering each after.
//! - `store.rs`: the seam to where callbacks are committed ([`CallbackStore`]);
//!   `ledger_store.rs` the ledger's, in production.
//!
//! The receiver is not a run: it never takes the ledger's run lock.

mod ledger_store;
pub mod payload;
pub mod redact;
mod server;
pub mod store;
pub mod token;
pub mod writer;

#[cfg(test)]
mod tests;

pub use ledger_store::LedgerStore;
pub use server::{Running, start};
pub use store::{BoxFuture, CallbackStore, Received, ReceivedCall, Recorded, Rejected, StoreError};
