//! The costly, row-independent part of planning (the number, the words, the key) on worker threads, the rest in row order.

use crate::patients::phone::PhoneProblem;
use crate::render::Rendered;

/// The most worker threads a plan starts: the reading, the dedupe and the writing stay on one
/// thread, which more workers than this would only wait on, while each holds up to two
/// chunks of rows in memory.
const MAX_WORKERS: usize = 8;

/// A row with what its preparation found.
pub(super) type Prepared =
    Result<(crate::patients::source::Row, Ready), crate::patients::source::RowError>;

/// What a row's preparation found: left out by a `where:` filter (or a cell a filter cannot
/// read), a phone cell a spreadsheet stored as a number, or its number and (for a valid
/// number) its rendered values and key.
pub(super) enum Ready {
    Filtered(crate::plan::skip::SkipReason, String),
    NumericPhone,
    Phone(
        Result<
            (
                crate::patients::phone::Phone,
                Result<Rendered, crate::render::RenderProblem>,
                String,
                Language,
            ),
            PhoneProblem,
        >,
    ),
}

/// A row's language: the index of its language among the campaign's `languages:` (`None`
/// without languages), or why it has none the campaign maps.
pub(super) type Language = Result<Option<usize>, String>;

/// Maps `items` with `work` on worker threads (one per core the process may use, up to
/// [`MAX_WORKERS`]) in chunks, and hands the results to `consume` in the items' order. The
/// items are read on a thread of their own. A `consume` error stops the reading and is
/// returned.
pub(super) fn in_parallel<T: Send, U: Send, E>(
    items: impl Iterator<Item = T> + Send,
    work: &(dyn Fn(T) -> U + Sync),
    consume: &mut dyn FnMut(U) -> Result<(), E>,
) -> Result<(), E> {
    const CHUNK: usize = 256;
    // The cores this process may use (a cgroup's quota or an affinity mask counted, as
    // `available_parallelism` does), not a number fixed for the machine it was measured on.
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, MAX_WORKERS);
    std::thread::scope(|scope| {
        // Reading the file (decoding, parsing the CSV) was a third of this thread's work,
        // and this thread (dedupe, batches, the plan's writing) the slowest stage: the
        // reader runs beside it, at most two chunks per worker ahead.
        let (chunks_tx, chunks) = std::sync::mpsc::sync_channel::<Vec<T>>(2 * workers);
        scope.spawn(move || {
            let mut items = items;
            loop {
                let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
                // An error to send: the plan stopped (a `consume` error), so reading stops.
                if chunk.is_empty() || chunks_tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        let mut to = Vec::with_capacity(workers);
        let mut from = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(2);
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Vec<U>>(2);
            scope.spawn(move || {
                for chunk in rx {
                    if done_tx.send(chunk.into_iter().map(work).collect()).is_err() {
                        break;
                    }
                }
            });
            to.push(tx);
            from.push(done_rx);
        }
        // Chunks go round the workers and come back in the same round, so order is kept;
        // at most two chunks per worker are out at a time, so memory stays bounded.
        let (mut sent, mut received, mut exhausted) = (0usize, 0usize, false);
        loop {
            while !exhausted && sent - received < 2 * workers {
                match chunks.recv() {
                    Ok(chunk) => {
                        to[sent % workers]
                            .send(chunk)
                            .expect("a plan worker stopped");
                        sent += 1;
                    }
                    Err(_) => exhausted = true,
                }
            }
            if received == sent {
                return Ok(());
            }
            let results = from[received % workers]
                .recv()
                .expect("a plan worker stopped");
            received += 1;
            for r in results {
                consume(r)?;
            }
        }
    })
}
