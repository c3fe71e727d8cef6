//! The clock seam. Everything that asks "what time is it?" for calling windows, retries,
//! frequency caps and ledger timestamps asks here, so tests can run the real binary at a
//! chosen moment (a DST change, a closed window) without waiting for the calendar.
//!
//! `OUTREACH_FAKE_NOW=2026-03-08T06:59:58Z` starts the clock at that instant; it then runs at
//! the real rate. Meant for tests and demos: outreach says so on stderr when it is set.

use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};

fn offset() -> SignedDuration {
    static OFFSET: OnceLock<SignedDuration> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let Some(fake) = std::env::var("OUTREACH_FAKE_NOW")
            .ok()
            .and_then(|v| v.parse::<Timestamp>().ok())
        else {
            return SignedDuration::ZERO;
        };
        tracing::warn!("OUTREACH_FAKE_NOW is set: the clock starts at {fake}");
        fake.duration_since(Timestamp::now())
    })
}

/// The current instant (shifted by `OUTREACH_FAKE_NOW` when it is set).
pub fn now() -> Timestamp {
    Timestamp::now()
        .checked_add(offset())
        .unwrap_or_else(|_| Timestamp::now())
}
