//! Intron Health's voicebot API as both sides of it see it: the client in `outreach` and the
//! mock in `mock-server` depend on this crate and never on each other, so the wire format
//! cannot drift between them.
//!
//! - [`wire`]: request and response bodies, the accents, the limits.
//! - [`routes`]: the paths, spelt once.
//! - [`seed`]: the sample workflows the documentation's examples rely on (the mock seeds them;
//!   `outreach init` points a new campaign at one).

pub mod routes;
pub mod seed;
pub mod wire;
