//! The receiver's store in production: the ledger (SQLite or Postgres), through
//! [`AsyncLedger`], so that every commit runs on tokio's blocking pool. The rules of what a
//! callback settles are the ledger's own (`ledger/callbacks/`).

use crate::callbacks::store::{BoxFuture, CallbackStore, Received, Recorded, Rejected, StoreError};
use crate::ledger::AsyncLedger;

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

impl CallbackStore for LedgerStore {
    fn record(&self, callbacks: Vec<Received>) -> BoxFuture<'_, Result<Vec<Recorded>, StoreError>> {
        Box::pin(async move {
            Ok(self
                .ledger
                .call(move |l| l.record_callbacks(&callbacks))
                .await?)
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
