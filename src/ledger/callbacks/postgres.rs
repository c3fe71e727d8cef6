//! The callbacks' statements on Postgres (see `mod.rs`). Several receivers may write at
//! once: an outcome is written only while the row's state is open, and Postgres checks that
//! condition again on the row it locked, so two deliveries of one outcome record it once.

use postgres::Transaction;

use super::{CallOutcome, CallbackTx, KEPT_MAX, LedgerCall};

/// The callbacks' statements inside one Postgres transaction.
pub(in crate::ledger) struct PgCallbacks<'a, 'c>(pub(in crate::ledger) &'a mut Transaction<'c>);

fn ledger_call(r: &postgres::Row) -> LedgerCall {
    LedgerCall {
        target: r.get(0),
        campaign: r.get(1),
        key: r.get(2),
        attempt: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
        phone: r.get(4),
        state: r.get(5),
    }
}

impl CallbackTx for PgCallbacks<'_, '_> {
    type Error = postgres::Error;

    fn batch_calls(&mut self, batch_id: &str) -> Result<Vec<LedgerCall>, postgres::Error> {
        Ok(self
            .0
            .query(
                "SELECT target, campaign, key, attempt, phone, state FROM calls WHERE batch_id = $1",
                &[&batch_id],
            )?
            .iter()
            .map(ledger_call)
            .collect())
    }

    fn in_doubt(&mut self, keys: &[&str]) -> Result<Vec<LedgerCall>, postgres::Error> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // By target, so the primary key finds the keys' rows (targets are few), all the keys
        // in one statement per target.
        let targets: Vec<String> = self
            .0
            .query("SELECT DISTINCT target FROM runs", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = Vec::new();
        for target in targets {
            let rows = self.0.query(
                "SELECT target, campaign, key, attempt, phone, state FROM calls
                 WHERE target = $1 AND key = ANY($2) AND state = 'in_doubt' AND batch_id IS NULL",
                &[&target, &keys],
            )?;
            out.extend(rows.iter().map(ledger_call));
        }
        Ok(out)
    }

    fn settle(
        &mut self,
        call: &LedgerCall,
        batch_id: &str,
        outcome: &CallOutcome,
        state: &str,
        at: &str,
    ) -> Result<bool, postgres::Error> {
        let duration = outcome.duration.map(|d| d.as_secs_f64());
        let attempt = i32::try_from(call.attempt).unwrap_or(i32::MAX);
        let changed = self.0.execute(
            "UPDATE calls SET state = $4, batch_id = COALESCE(batch_id, $5), call_id = COALESCE($6, call_id),
                 duration = COALESCE($7, duration), reply = COALESCE($8, reply), updated_at = $9
             WHERE target = $1 AND key = $2 AND attempt = $3
               AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
            &[
                &call.target,
                &call.key,
                &attempt,
                &state,
                &batch_id,
                &outcome.call_id,
                &duration,
                &outcome.reply,
                &at,
            ],
        )?;
        Ok(changed > 0)
    }

    fn note_call_id(
        &mut self,
        call: &LedgerCall,
        batch_id: &str,
        call_id: &str,
    ) -> Result<(), postgres::Error> {
        let attempt = i32::try_from(call.attempt).unwrap_or(i32::MAX);
        self.0
            .execute(
                "UPDATE calls SET call_id = $4, batch_id = COALESCE(batch_id, $5)
                 WHERE target = $1 AND key = $2 AND attempt = $3
                   AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
                &[&call.target, &call.key, &attempt, &call_id, &batch_id],
            )
            .map(drop)
    }

    fn opt_out_replies(&mut self, campaign: &str) -> Result<Vec<String>, postgres::Error> {
        let json: Option<String> = self
            .0
            .query_opt(
                "SELECT opt_out_replies FROM campaigns WHERE name = $1",
                &[&campaign],
            )?
            .map(|r| r.get(0));
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    fn add_opt_out(
        &mut self,
        phone: &str,
        campaign: &str,
        reply: &str,
        at: &str,
    ) -> Result<(), postgres::Error> {
        self.0
            .execute(
                "INSERT INTO reply_opt_outs (phone, campaign, reply, since) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (phone) DO NOTHING",
                &[&phone, &campaign, &reply, &at],
            )
            .map(drop)
    }

    fn put_batch(
        &mut self,
        target: &str,
        batch_id: &str,
        stats: &str,
        at: &str,
    ) -> Result<(), postgres::Error> {
        self.0
            .execute(
                "INSERT INTO batches (target, batch_id, stats, completed_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (target, batch_id) DO UPDATE SET stats = EXCLUDED.stats, completed_at = EXCLUDED.completed_at",
                &[&target, &batch_id, &stats, &at],
            )
            .map(drop)
    }

    fn keep(
        &mut self,
        batch_id: Option<&str>,
        reason: &str,
        body: &str,
        outcomes: Option<&str>,
        at: &str,
    ) -> Result<(), postgres::Error> {
        self.0.execute(
            "INSERT INTO kept_callbacks (batch_id, reason, body, outcomes, received_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (batch_id) DO UPDATE SET reason = EXCLUDED.reason, body = EXCLUDED.body,
                 outcomes = EXCLUDED.outcomes, received_at = EXCLUDED.received_at",
            &[&batch_id, &reason, &body, &outcomes, &at],
        )?;
        let max = i64::try_from(KEPT_MAX).unwrap_or(i64::MAX);
        self.0
            .execute(
                "DELETE FROM kept_callbacks WHERE id <= (SELECT MAX(id) FROM kept_callbacks) - $1",
                &[&max],
            )
            .map(drop)
    }

    fn kept(&mut self, limit: u64) -> Result<Vec<(i64, String, String)>, postgres::Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .0
            .query(
                "SELECT id, batch_id, outcomes FROM kept_callbacks
                 WHERE batch_id IS NOT NULL AND outcomes IS NOT NULL ORDER BY id LIMIT $1",
                &[&limit],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn drop_kept(&mut self, batch_id: &str) -> Result<(), postgres::Error> {
        self.0
            .execute(
                "DELETE FROM kept_callbacks WHERE batch_id = $1",
                &[&batch_id],
            )
            .map(drop)
    }
}
