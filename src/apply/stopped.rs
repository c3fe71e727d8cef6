//! Why a run stopped before it got through its due calls: the reason the summary states (and
//! its headline words), and the errors that carry a reason out of the stage.

use jiff::Timestamp;
use serde::Serialize;

/// Why a run ended before sending every due call; `None` in the summary when it got through
/// them. JSON: `{"reason": "outside_window", …}`, times in RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stopped {
    /// Outside the calling window, and told not to wait (`--no-wait`); it opens at `opens`,
    /// in the zone of the batches that waited.
    OutsideWindow { opens: Timestamp, timezone: String },
    /// The schedule does not open again (past `not_after`).
    ScheduleOver,
    /// The campaign is paused (`outreach pause`), and told not to wait (`--no-wait`).
    Paused { since: Timestamp },
    /// The API key was refused (401): nothing more was sent. `message`: the server's words,
    /// when it gave any.
    KeyRefused { message: Option<String> },
    /// The placing of the calls was not confirmed: declined (`asked`), or nobody to ask.
    NotConfirmed { asked: bool },
    /// Ctrl-C, or SIGTERM or SIGHUP, taken as Ctrl-C: `signal` names which, when known.
    Interrupted {
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<&'static str>,
    },
    /// This runner's lease on the shared ledger ran out (it stalled, or could not reach the
    /// database, for longer than `--lease`): the ledger records nothing more of it, so it sent
    /// nothing more, and the other runners take its calls over (issue 14, class 11).
    LeaseLost,
    /// Stopped on an error (also reported after the summary).
    Error { message: String },
}

/// The API key was refused (401): the run stops at once and nothing more is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the API key was refused (401) while {during}{}; stopped, nothing more is sent",
    .message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
)]
pub struct KeyRefused {
    /// What the run was doing: `placing calls`, `following calls`, …
    pub during: &'static str,
    /// The server's words, when it gave any.
    pub message: Option<String>,
}

/// A live run with calls to place and nobody to confirm them (no terminal, no `--yes`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{question} No terminal to confirm on: pass --yes to go ahead.")]
pub struct NoOneToConfirm {
    pub question: String,
}

impl Stopped {
    /// The reason an error stopped a run with.
    pub(super) fn by_error(e: &anyhow::Error) -> Stopped {
        if let Some(k) = e.downcast_ref::<KeyRefused>() {
            Stopped::KeyRefused {
                message: k.message.clone(),
            }
        } else if e.downcast_ref::<NoOneToConfirm>().is_some() {
            Stopped::NotConfirmed { asked: false }
        } else {
            Stopped::Error {
                message: format!("{e:#}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_stops_a_run_with_the_reason_it_carries() {
        let refused = anyhow::Error::new(KeyRefused {
            during: "placing calls",
            message: Some("bad key".into()),
        });
        assert_eq!(
            refused.to_string(),
            "the API key was refused (401) while placing calls: bad key; stopped, nothing more is sent"
        );
        assert_eq!(
            Stopped::by_error(&refused),
            Stopped::KeyRefused {
                message: Some("bad key".into())
            }
        );
        let silent = KeyRefused {
            during: "following calls",
            message: None,
        };
        assert_eq!(
            silent.to_string(),
            "the API key was refused (401) while following calls; stopped, nothing more is sent"
        );
        let nobody = anyhow::Error::new(NoOneToConfirm {
            question: "About to place 2 calls.".into(),
        });
        assert_eq!(
            Stopped::by_error(&nobody),
            Stopped::NotConfirmed { asked: false }
        );
        let other = anyhow::anyhow!("the ledger is gone").context("reading the ledger");
        assert_eq!(
            Stopped::by_error(&other),
            Stopped::Error {
                message: "reading the ledger: the ledger is gone".into()
            }
        );
    }

    #[test]
    fn the_json_names_the_reason_and_keeps_times_in_rfc_3339() {
        let s = Stopped::OutsideWindow {
            opens: "2026-12-02T08:00:00Z".parse().unwrap(),
            timezone: "Africa/Lagos".into(),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"reason":"outside_window","opens":"2026-12-02T08:00:00Z","timezone":"Africa/Lagos"}"#
        );
        assert_eq!(
            serde_json::to_string(&Stopped::ScheduleOver).unwrap(),
            r#"{"reason":"schedule_over"}"#
        );
    }
}
