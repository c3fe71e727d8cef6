//! Issue 14's hostile corpus: the YAML loader, the patient readers (CSV, XLSX, ODS, JSON,
//! NDJSON) and the template compiler, fed files written to hurt them (`corpus/`, written by
//! `corpus/generate.py`) and mutations of those files. No input may panic, abort, or make the
//! process hold more than 1 GiB; every refusal says where (a file, a line, a row); and the
//! real binary ends each of them inside a 60 s watchdog under 500 MB.
//!
//! This binary's allocator is [`memory_meter::Meter`]: it counts every byte and refuses any
//! one request over 1 GiB (an infallible one then aborts, after the meter has said why on
//! stderr). Cases that measure memory take [`SERIAL`], so a peak is one case's own.

#![expect(
    clippy::print_stderr,
    reason = "each case's time and memory go to the test's log, for whoever reads a slow run"
)]

mod bounds;
mod cases;
mod corpus;
mod growth;
mod memory;
mod mutations;
mod processes;

/// The most one case may hold at once, and the most one request may ask for.
pub const LIMIT: usize = 1 << 30;

#[global_allocator]
static METER: memory_meter::Meter = memory_meter::Meter::new(LIMIT);

/// The repository root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
