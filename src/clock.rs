//! The clock seam. Everything that asks "what time is it?" for calling windows, retries,
//! frequency caps and ledger timestamps asks here, so tests can run the real binary at a
//! chosen moment (a DST change, a closed window) without waiting for the calendar.
//!
//! `OUTREACH_FAKE_NOW=2026-03-08T06:59:58Z` starts the clock at that instant; it then runs at
//! the real rate. Meant for tests and demos: outreach says so on stderr when it is set. It
//! never moves the clock of a command that reaches a server other than the bundled mock
//! (`apply` or `plan` with `--api-url`, or the live API by default): calls there go out, and
//! the ledger is stamped, at the real time ([`reaching_a_server`]).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

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
        // Not `human`: it asks this clock for the year, which is being set here.
        let shown = human_at(fake, &jiff::tz::TimeZone::system(), Timestamp::now());
        tracing::warn!("OUTREACH_FAKE_NOW is set: the clock starts at {shown}");
        fake.duration_since(Timestamp::now())
    })
}

/// Set once a command is known to reach a server that is not the bundled mock.
static REAL_ONLY: AtomicBool = AtomicBool::new(false);

/// Says that this command reaches `server`, which is not the bundled mock: from now on the
/// clock is the real one whatever `OUTREACH_FAKE_NOW` says, with a warning when it is set (a
/// calling window or a ledger's times must never be decided by a test's variable left in a
/// live environment). Called when the settings are resolved, before anything reads the clock.
pub fn reaching_a_server(server: &str) {
    REAL_ONLY.store(true, Ordering::SeqCst);
    if std::env::var_os("OUTREACH_FAKE_NOW").is_some() {
        tracing::warn!(
            "OUTREACH_FAKE_NOW is ignored: it moves the clock only against the bundled mock \
             (--mock), and this command reaches {server}; the real time is used"
        );
    }
}

/// The current instant (shifted by `OUTREACH_FAKE_NOW` when it is set, except for a command
/// that reaches a server other than the bundled mock).
pub fn now() -> Timestamp {
    if REAL_ONLY.load(Ordering::SeqCst) {
        return Timestamp::now();
    }
    // The offset first: its first reading takes the real time, and a reading taken before it
    // would put the first instant just before the fake one (06:59:59.99 for 07:00).
    let offset = offset();
    Timestamp::now()
        .checked_add(offset)
        .unwrap_or_else(|_| Timestamp::now())
}

/// The one way a time is written for people, everywhere (summaries, status, reports, logs):
/// in `zone`, to the minute, with the weekday and the zone's abbreviation, and the year when
/// it is not the current one there: `Tue 1 Dec 09:14 WAT`, `Thu 1 Jan 2099 00:00 WAT`.
/// Machine formats (JSON) keep RFC 3339.
pub fn human(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    human_at(at, zone, now())
}

/// [`human`] in the zone of the machine (for what belongs to no campaign: a runner's
/// heartbeat, a ledger's runs).
pub fn human_local(at: Timestamp) -> String {
    human(at, &jiff::tz::TimeZone::system())
}

/// [`human`] as seen at `now` (which decides whether the year is shown). The format is
/// written once, in the `log-lines` crate, which the mock's log shares.
pub use log_lines::human_at;
