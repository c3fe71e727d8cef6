//! Which planned calls are due in this run: not placed yet, or due for a retry.

use std::sync::Arc;

use jiff::Timestamp;

use super::input::Planned;
use super::state::{Due, Shared, lock};
use crate::ledger::CallState;

/// Calls due now, from the plan and the ledger's history.
pub(super) fn due_calls(
    shared: &Shared,
    calls: &[Arc<Planned>],
    now: Timestamp,
) -> anyhow::Result<(Vec<Due>, u64, u64, Option<Timestamp>)> {
    let history =
        lock(&shared.ledger).history(&shared.target_id, &shared.campaign.name, &shared.round)?;
    let retry = &shared.campaign.delivery.retry;
    let mut due = Vec::new();
    let (mut done, mut later) = (0, 0);
    let mut next_retry: Option<Timestamp> = None;
    for p in calls {
        match history.get(&p.call.key) {
            None => due.push(Due {
                planned: Arc::clone(p),
                attempt: 1,
            }),
            Some(h) if h.state == CallState::NotSent => due.push(Due {
                planned: Arc::clone(p),
                attempt: h.attempt,
            }),
            Some(h) => {
                let retryable = h.state.retried_by(retry);
                match h.retry_at {
                    Some(at) if retryable && h.attempt < retry.attempts => {
                        if at <= now {
                            due.push(Due {
                                planned: Arc::clone(p),
                                attempt: h.attempt + 1,
                            });
                        } else {
                            later += 1;
                            next_retry = Some(next_retry.map_or(at, |n: Timestamp| n.min(at)));
                        }
                    }
                    _ => done += 1,
                }
            }
        }
    }
    Ok((due, done, later, next_retry))
}
