//! Which planned calls are due in this run: not placed yet, or due for a retry.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::input::Planned;
use super::state::{Due, Shared, lock};
use crate::campaign::Retry;
use crate::ledger::{CallState, KeyHistory};

/// The planned calls as the ledger's history leaves them at one moment.
#[derive(Debug, Default)]
pub(super) struct DueNow {
    /// Due now, in plan order.
    pub(super) due: Vec<Due>,
    /// Placed or settled for good by earlier runs (in doubt and held included).
    pub(super) done: u64,
    /// Their retry comes due later.
    pub(super) later: u64,
    /// When the first of those comes due.
    pub(super) next_retry: Option<Timestamp>,
}

/// Calls due now, from the plan and the ledger's history; those this run held back right
/// before sending (opted out, at the frequency cap) stay for a later run.
pub(super) async fn due_calls(
    shared: &Arc<Shared>,
    calls: &[Arc<Planned>],
    now: Timestamp,
) -> anyhow::Result<DueNow> {
    let history = shared
        .ledger(|l, s| l.history(&s.target_id, &s.campaign.name, &s.round))
        .await?;
    let mut out = due(
        calls,
        &history,
        &shared.campaign.delivery.retry,
        shared.retry_delay,
        now,
    );
    let held = lock(&shared.held);
    out.due.retain(|d| !held.contains(&d.planned.call.key));
    Ok(out)
}

/// What is due at `now`: a call never recorded (its first attempt), one recorded as never
/// sent (the same attempt again), and one that ended in an outcome the retry policy retries,
/// with attempts left, once its retry time has come (the next attempt). Everything else is
/// done: answered, rejected, in doubt, being sent, or out of attempts.
///
/// An outcome recorded without a campaign at hand (the callback receiver, an outcome
/// deadline) has no retry time: its retry is due `delay` (the campaign's `retry.delay`)
/// after the outcome was recorded.
fn due(
    calls: &[Arc<Planned>],
    history: &HashMap<String, KeyHistory>,
    retry: &Retry,
    delay: Option<SignedDuration>,
    now: Timestamp,
) -> DueNow {
    let mut out = DueNow::default();
    for p in calls {
        let due = |attempt| Due {
            planned: Arc::clone(p),
            attempt,
        };
        match history.get(&p.call.key) {
            None => out.due.push(due(1)),
            Some(h) if h.state == CallState::NotSent => out.due.push(due(h.attempt)),
            Some(h) => match retry_time(h, delay) {
                Some(at) if h.state.retried_by(retry) && h.attempt < retry.attempts => {
                    if at <= now {
                        out.due.push(due(h.attempt + 1));
                    } else {
                        out.later += 1;
                        out.next_retry = Some(out.next_retry.map_or(at, |n| n.min(at)));
                    }
                }
                _ => out.done += 1,
            },
        }
    }
    out
}

/// When a retried outcome's next attempt is due: its recorded retry time, else `delay` after
/// the outcome was recorded.
fn retry_time(h: &KeyHistory, delay: Option<SignedDuration>) -> Option<Timestamp> {
    h.retry_at
        .or_else(|| delay.and_then(|d| h.updated_at.checked_add(d).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::state::test_calls::planned;
    use crate::campaign::RetryOutcome;

    fn at(t: &str) -> Timestamp {
        t.parse().unwrap()
    }

    fn was(attempt: u32, state: CallState, retry_at: Option<&str>) -> KeyHistory {
        KeyHistory {
            attempt,
            state,
            retry_at: retry_at.map(at),
            updated_at: at("2026-12-01T09:00:00Z"),
        }
    }

    /// An outcome recorded at `updated_at` with no retry time (the callback receiver's).
    fn settled_at(attempt: u32, state: CallState, updated_at: &str) -> KeyHistory {
        KeyHistory {
            updated_at: at(updated_at),
            ..was(attempt, state, None)
        }
    }

    /// Three calls in all, retrying unanswered calls only.
    fn retry() -> Retry {
        Retry {
            attempts: 3,
            outcomes: vec![RetryOutcome::NoAnswer],
            ..Retry::default()
        }
    }

    fn keys(d: &DueNow) -> Vec<(String, u32)> {
        d.due
            .iter()
            .map(|d| (d.planned.call.key.clone(), d.attempt))
            .collect()
    }

    const NOW: &str = "2026-12-01T10:00:00Z";

    fn due_now(history: &[(&str, KeyHistory)]) -> DueNow {
        let calls: Vec<_> = history
            .iter()
            .map(|(k, _)| planned(k, "Africa/Lagos"))
            .collect();
        let history = history
            .iter()
            .filter(|(_, h)| h.attempt > 0)
            .map(|(k, h)| ((*k).to_owned(), h.clone()))
            .collect();
        due(
            &calls,
            &history,
            &retry(),
            Some(SignedDuration::from_hours(1)),
            at(NOW),
        )
    }

    fn never_recorded() -> KeyHistory {
        was(0, CallState::Sending, None)
    }

    #[test]
    fn a_call_never_recorded_is_due_as_its_first_attempt_and_a_not_sent_one_again() {
        let d = due_now(&[
            ("new", never_recorded()),
            ("unsent", was(2, CallState::NotSent, None)),
        ]);
        assert_eq!(keys(&d), [("new".into(), 1), ("unsent".into(), 2)]);
        assert_eq!((d.done, d.later, d.next_retry), (0, 0, None));
    }

    #[test]
    fn a_retry_is_due_once_its_time_has_come_and_not_before() {
        let d = due_now(&[
            (
                "ripe",
                was(1, CallState::NoAnswer, Some("2026-12-01T09:59:59Z")),
            ),
            ("on_time", was(1, CallState::NoAnswer, Some(NOW))),
            (
                "soon",
                was(2, CallState::NoAnswer, Some("2026-12-01T12:00:00Z")),
            ),
            (
                "sooner",
                was(1, CallState::NoAnswer, Some("2026-12-01T11:00:00Z")),
            ),
        ]);
        assert_eq!(keys(&d), [("ripe".into(), 2), ("on_time".into(), 2)]);
        assert_eq!(d.later, 2);
        assert_eq!(d.next_retry, Some(at("2026-12-01T11:00:00Z")));
        assert_eq!(d.done, 0);
    }

    #[test]
    fn attempts_exhausted_final_in_doubt_or_not_retried_are_done() {
        let past = Some("2026-12-01T08:00:00Z");
        let d = due_now(&[
            ("exhausted", was(3, CallState::NoAnswer, past)),
            ("answered", was(1, CallState::Answered, None)),
            // Held: never called again blindly, whatever the retry policy.
            ("in_doubt", was(1, CallState::InDoubt, past)),
            ("sending", was(1, CallState::Sending, None)),
            ("rejected", was(1, CallState::Rejected, None)),
            // The policy retries no_answer only.
            ("failed", was(1, CallState::Failed, past)),
            ("unknown", was(1, CallState::OutcomeUnknown, past)),
            ("completed", was(1, CallState::Completed, past)),
        ]);
        assert!(d.due.is_empty(), "{:?}", keys(&d));
        assert_eq!((d.done, d.later, d.next_retry), (8, 0, None));
    }

    // Class: outcomes written without a campaign at hand (the callback receiver, a deadline)
    // carry no retry time, and were never retried.
    #[test]
    fn a_retried_outcome_without_a_retry_time_is_due_its_delay_after_it_was_recorded() {
        let d = due_now(&[
            // Recorded at 08:30: due at 09:30, before NOW (10:00).
            (
                "ripe",
                settled_at(1, CallState::NoAnswer, "2026-12-01T08:30:00Z"),
            ),
            // Recorded at 09:30: due at 10:30.
            (
                "soon",
                settled_at(1, CallState::NoAnswer, "2026-12-01T09:30:00Z"),
            ),
            // Not retried by the policy, or out of attempts: done, however old.
            (
                "failed",
                settled_at(1, CallState::Failed, "2026-12-01T01:00:00Z"),
            ),
            (
                "last",
                settled_at(3, CallState::NoAnswer, "2026-12-01T01:00:00Z"),
            ),
        ]);
        assert_eq!(keys(&d), [("ripe".into(), 2)]);
        assert_eq!(d.later, 1);
        assert_eq!(d.next_retry, Some(at("2026-12-01T10:30:00Z")));
        assert_eq!(d.done, 2);
    }
}
