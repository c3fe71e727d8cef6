//! Delivering the completion callbacks the replica schedules, with retries, to the
//! workflow's `call_back_url`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::{rfc3339, wall_ms};
use crate::server::{Delivery, MAX_DELIVERIES, Shared, lock};
use crate::state::DueCallback;

pub(crate) async fn deliver(
    shared: Arc<Shared>,
    due: DueCallback,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempts = 0;
    let mut delivered = false;
    let mut last_status = None;
    let mut last_error = None;
    for attempt in 0..=shared.callback.retries {
        if attempt > 0 {
            let backoff = Duration::from_millis(
                shared
                    .callback
                    .backoff_ms
                    .saturating_mul(1 << (attempt - 1).min(16)),
            );
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = shutdown.changed() => break,
            }
        }
        attempts += 1;
        let sent = tokio::select! {
            sent = shared.http.post(&due.url).json(&due.payload).send() => sent,
            _ = shutdown.changed() => break,
        };
        match sent {
            Ok(response) if response.status().is_success() => {
                last_status = Some(response.status().as_u16());
                delivered = true;
                break;
            }
            Ok(response) => last_status = Some(response.status().as_u16()),
            // reqwest's error names the URL, and the URL holds the receiver's token.
            Err(error) => last_error = Some(error.without_url().to_string()),
        }
    }
    tracing::info!(
        target: "mock_server::callback",
        request_id = %due.payload.request_id,
        attempts,
        delivered,
        "callback of request {}: {} after {attempts} attempt{}",
        due.payload.request_id,
        if delivered { "delivered" } else { "not delivered" },
        if attempts == 1 { "" } else { "s" }
    );
    lock(&shared.replica).callback_done(due.epoch, due.batch, delivered);
    let mut deliveries = lock(&shared.deliveries);
    if deliveries.len() >= MAX_DELIVERIES {
        deliveries.pop_front();
    }
    deliveries.push_back(Delivery {
        request_id: due.payload.request_id,
        url: crate::journal::redacted_url(&due.url),
        attempts,
        delivered,
        last_status,
        last_error,
        time: rfc3339(wall_ms()),
    });
}

pub(crate) async fn dispatch_callbacks(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    // Checked at least this often, so journal files are flushed and scaled time is seen.
    const TICK: Duration = Duration::from_millis(250);
    loop {
        let now = shared.clock.now_ms();
        let (due, next) = {
            let mut replica = lock(&shared.replica);
            (replica.due_callbacks(now), replica.next_callback_ms())
        };
        for callback in due {
            tokio::spawn(deliver(Arc::clone(&shared), callback, shutdown.clone()));
        }
        lock(&shared.journal).flush();
        let wait = next
            .and_then(|at| shared.clock.real_until(at))
            .map_or(TICK, |d| d.clamp(Duration::from_millis(1), TICK));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shared.wake.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
    lock(&shared.journal).flush();
}
