//! The receiver's store in production: the ledger (SQLite or Postgres), through
//! [`AsyncLedger`], so that every commit runs on tokio's blocking pool. The rules of what a
//! callback settles are the ledger's own (`ledger/callbacks/`).

use crate::callbacks::store::{
    BoxFuture, CallbackStore, Received, ReceivedCall, Recorded, Rejected, StoreError,
};
use crate::ledger::{AsyncLedger, CallOutcome, CallbackOutcomes};

/// At most this many kept callbacks are matched again per pass.
const REMATCH_PER_PASS: u64 = 1_000;

/// The ledger, as the receiver's store.
pub struct LedgerStore {
    ledger: AsyncLedger,
}

impl LedgerStore {
    pub fn new(ledger: AsyncLedger) -> Self {
        Self { ledger }
    }
}

fn outcomes(r: Received) -> CallbackOutcomes {
    CallbackOutcomes {
        received_at: r.received_at,
        batch_id: r.batch_id,
        stats_json: r.stats_json,
        calls: r
            .calls
            .map(|calls| calls.into_iter().map(call_outcome).collect()),
        redacted_body: r.redacted_body,
    }
}

fn call_outcome(c: ReceivedCall) -> CallOutcome {
    CallOutcome {
        key: c.key,
        phone: c.phone,
        call_id: c.call_id,
        state: c.state,
        reply: c.reply,
        duration: c.duration,
    }
}

fn recorded(r: &crate::ledger::Recorded) -> Recorded {
    Recorded {
        calls: r.calls,
        settled: r.settled,
        already_final: r.already_final,
        unmatched: r.unmatched,
        batch_known: r.batch_known,
        opted_out: r.opted_out,
    }
}

impl CallbackStore for LedgerStore {
    fn record(&self, callbacks: Vec<Received>) -> BoxFuture<'_, Result<Vec<Recorded>, StoreError>> {
        Box::pin(async move {
            let batch: Vec<CallbackOutcomes> = callbacks.into_iter().map(outcomes).collect();
            let done = self
                .ledger
                .call(move |l| l.record_callbacks(&batch))
                .await?;
            Ok(done.iter().map(recorded).collect())
        })
    }

    fn keep_rejected(&self, rejected: Rejected) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.ledger
                .call(move |l| {
                    l.keep_refused_callback(
                        rejected.received_at,
                        &rejected.reason,
                        &rejected.redacted_body,
                    )
                })
                .await?;
            Ok(())
        })
    }

    fn rematch(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            Ok(self
                .ledger
                .call(|l| l.rematch_callbacks(REMATCH_PER_PASS))
                .await?)
        })
    }
}
