//! A faithful, stateful replica of Intron Health's voicebot API, for tests and CI dry-runs.
//!
//! The wire types and routes come from the `voicebot-api` crate, which the outreach client
//! shares.
//! - [`start`] / [`RunningMock`]: run the mock in-process on a loopback port.
//! - [`MockArgs`] / [`run`]: the command line (`voicebot-mock`, `outreach mock-server`).
//! - [`state::ReplicaState`]: the state machine, in plain Rust, driven by simulated time.
//!
//! See `mock-server/README.md` for the endpoints, the `/__mock/` controls and the faults.

mod callbacks;
mod chunked;
pub mod cli;
pub mod clock;
pub mod config;
mod controls;
mod error;
pub mod faults;
pub mod ids;
pub mod journal;
pub mod limiter;
mod server;
pub mod state;
pub mod validate;

pub use cli::{MockArgs, run};
pub use config::MockConfig;
pub use error::ApiError;
pub use server::{Delivery, RunningMock, start};
