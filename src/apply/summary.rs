//! What a run did, as a document: written by [`crate::report::apply`] as text or JSON, and
//! read by `watch --apply` without parsing text.

use jiff::Timestamp;
use serde::Serialize;

use super::RunCounts;
use super::stopped::Stopped;

pub use crate::ledger::RunStatus;

/// The summary of one run (`"format": "outreach-apply"`).
#[derive(Debug, Clone, Serialize)]
pub struct ApplySummary {
    pub format: &'static str,
    pub version: u32,
    pub campaign: String,
    pub round: Option<String>,
    /// The ledger's name for the target (`mock`, a URL, `dry-run:…`).
    pub target: String,
    /// The base URL the requests went to.
    #[serde(skip)]
    pub base: String,
    pub dry_run: bool,
    /// The ledger file, or its URL with the password hidden.
    pub ledger: String,
    pub status: RunStatus,
    pub counts: RunCounts,
    /// Why the run ended before it got through its due calls (`null`: it did).
    pub stopped: Option<Stopped>,
    /// When the first retry scheduled after this run comes due (`null`: none is).
    pub next_retry_at: Option<Timestamp>,
    /// The campaign's time zone, in which times are written for people.
    pub timezone: String,
}

impl ApplySummary {
    /// The `format` of the document.
    pub const FORMAT: &'static str = "outreach-apply";
    /// The version of the document.
    pub const VERSION: u32 = 1;
}

#[cfg(test)]
impl ApplySummary {
    /// A run of campaign `c` on the mock, in Lagos, that did not stop early: for tests.
    pub(crate) fn example(status: RunStatus, counts: RunCounts) -> ApplySummary {
        ApplySummary {
            format: ApplySummary::FORMAT,
            version: ApplySummary::VERSION,
            campaign: "c".into(),
            round: None,
            target: "mock".into(),
            base: "http://127.0.0.1:1".into(),
            dry_run: false,
            ledger: "state.db".into(),
            status,
            counts,
            stopped: None,
            next_retry_at: None,
            timezone: "Africa/Lagos".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_keeps_its_fields_and_their_order() {
        let s = ApplySummary {
            stopped: Some(Stopped::Paused {
                since: "2026-12-01T08:00:00Z".parse().unwrap(),
            }),
            ..ApplySummary::example(RunStatus::Problems, RunCounts::default())
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            text.starts_with(r#"{"format":"outreach-apply","version":1,"campaign":"c","round":null,"target":"mock","dry_run":false,"ledger":"state.db","status":"problems","counts":{"#),
            "{text}"
        );
        assert!(
            text.ends_with(r#"},"stopped":{"reason":"paused","since":"2026-12-01T08:00:00Z"},"next_retry_at":null,"timezone":"Africa/Lagos"}"#),
            "{text}"
        );
    }
}
