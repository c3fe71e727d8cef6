//! The one writer: takes callbacks from a bounded channel, commits whatever is waiting (up to
//! [`MAX_GROUP`]) in one `record` call, and only then answers each; between groups it keeps
//! refused bodies and, every `rematch_every`, matches kept callbacks again. One writer, so
//! the receiver never holds more than one of the ledger's write transactions at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::callbacks::store::{CallbackStore, Received, Recorded, Rejected};

/// The most callbacks committed in one `record` call.
pub const MAX_GROUP: usize = 256;
/// Callbacks waiting for the writer; beyond, requests wait to be queued (within their timeout).
pub const QUEUE: usize = 1024;
/// Refused bodies waiting to be kept; beyond, they are not kept (and the log says so), so a
/// flood of bad bodies never delays a good callback.
pub const REJECTED_QUEUE: usize = 64;

/// Why a callback was not committed: it is answered 503 and the service sends it again.
#[derive(Debug, Clone, Copy)]
pub struct NotCommitted;

/// A callback and where its answer goes.
pub struct Job {
    pub received: Received,
    pub answer: oneshot::Sender<Result<Recorded, NotCommitted>>,
}

/// Runs until every sender of `jobs` is gone and what was queued is committed.
pub async fn run(
    store: Arc<dyn CallbackStore>,
    mut jobs: mpsc::Receiver<Job>,
    mut rejected: mpsc::Receiver<Rejected>,
    rematch_every: Duration,
    unmask: bool,
) {
    let mut rematch = tokio::time::interval(rematch_every);
    rematch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            job = jobs.recv() => {
                let Some(first) = job else { break };
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match jobs.try_recv() {
                        Ok(job) => group.push(job),
                        Err(_) => break,
                    }
                }
                commit(store.as_ref(), group, unmask).await;
            }
            Some(body) = rejected.recv() => keep(store.as_ref(), body).await,
            _ = rematch.tick() => match store.rematch().await {
                Ok(0) => {}
                Ok(settled) => tracing::info!(
                    settled,
                    "matched kept callbacks again: {settled} call{} settled",
                    if settled == 1 { "" } else { "s" }
                ),
                Err(error) => tracing::warn!(
                    "cannot match kept callbacks again: {error}; trying again in {rematch_every:?}"
                ),
            },
        }
    }
}

async fn commit(store: &dyn CallbackStore, group: Vec<Job>, unmask: bool) {
    let (received, answers): (Vec<_>, Vec<_>) = group
        .into_iter()
        .map(|job| (job.received, job.answer))
        .unzip();
    let lines: Vec<Line> = received.iter().map(|r| Line::of(r, unmask)).collect();
    let count = received.len();
    match store.record(received).await {
        Ok(recorded) if recorded.len() == count => {
            for ((answer, line), recorded) in answers.into_iter().zip(&lines).zip(recorded) {
                line.log(&recorded);
                // The request may have gone (timed out, connection closed): it was committed.
                let _ = answer.send(Ok(recorded));
            }
        }
        outcome => {
            let why = match outcome {
                Err(error) => error.to_string(),
                Ok(recorded) => format!(
                    "the store answered for {} of {count} callbacks",
                    recorded.len()
                ),
            };
            tracing::warn!(
                callbacks = count,
                "cannot commit {count} callback{}: {why}; answered 503, so the service sends {} again",
                if count == 1 { "" } else { "s" },
                if count == 1 { "it" } else { "them" },
            );
            for answer in answers {
                let _ = answer.send(Err(NotCommitted));
            }
        }
    }
}

async fn keep(store: &dyn CallbackStore, body: Rejected) {
    let bytes = body.bytes;
    if let Err(error) = store.keep_rejected(body).await {
        tracing::warn!("cannot keep a refused body of {bytes} bytes for inspection: {error}");
    }
}

/// A batch id as a log line shows it: the service's ids are UUIDs, shown whole; anything
/// else is the sender's text, its digit runs masked (unless `--unmask`).
fn shown_batch(id: &str, unmask: bool) -> String {
    /// A batch id longer than this is cut: it is someone's text, not the service's id.
    const MAX_SHOWN: usize = 100;
    let id: String = id.chars().take(MAX_SHOWN).collect();
    let uuid = id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if uuid || unmask {
        id
    } else {
        crate::callbacks::redact::mask_digits(&id)
    }
}

/// What the log line of one callback says besides the counts.
struct Line {
    batch_id: String,
    /// With `--unmask`: the numbers of the callback's calls.
    numbers: Option<String>,
}

/// The most numbers one line lists, with `--unmask`.
const MAX_NUMBERS: usize = 10;

impl Line {
    fn of(received: &Received, unmask: bool) -> Self {
        let numbers = unmask.then(|| {
            let calls = received.calls.as_deref().unwrap_or_default();
            let mut shown: Vec<&str> = calls
                .iter()
                .filter_map(|c| c.phone.as_deref())
                .take(MAX_NUMBERS)
                .collect();
            let more = calls.len().saturating_sub(MAX_NUMBERS);
            let more = (more > 0).then(|| format!("and {more} more"));
            shown.extend(more.as_deref());
            shown.join(", ")
        });
        Self {
            batch_id: shown_batch(&received.batch_id, unmask),
            numbers,
        }
    }

    fn log(&self, r: &Recorded) {
        let batch = if r.batch_known {
            ""
        } else {
            " (a batch the ledger does not know: kept, matched again later)"
        };
        let numbers = self
            .numbers
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| format!("; numbers {n}"))
            .unwrap_or_default();
        tracing::info!(
            batch_id = %self.batch_id,
            calls = r.calls,
            settled = r.settled,
            already_final = r.already_final,
            unmatched = r.unmatched,
            opted_out = r.opted_out,
            batch_known = r.batch_known,
            "callback for batch {}: {} calls, {} settled, {} already final, {} unmatched, {} opted out{batch}{numbers}",
            self.batch_id,
            r.calls,
            r.settled,
            r.already_final,
            r.unmatched,
            r.opted_out,
        );
    }
}
