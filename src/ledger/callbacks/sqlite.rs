//! The callbacks' statements on SQLite (see `mod.rs`).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{CallOutcome, CallbackTx, KEPT_MAX, LedgerCall};

/// The callbacks' statements inside one SQLite transaction.
pub(in crate::ledger) struct SqliteCallbacks<'a, 'c>(pub(in crate::ledger) &'a Transaction<'c>);

fn ledger_call(r: &rusqlite::Row<'_>) -> rusqlite::Result<LedgerCall> {
    Ok(LedgerCall {
        target: r.get(0)?,
        campaign: r.get(1)?,
        key: r.get(2)?,
        attempt: r.get(3)?,
        phone: r.get(4)?,
        state: r.get(5)?,
    })
}

impl CallbackTx for SqliteCallbacks<'_, '_> {
    type Error = rusqlite::Error;

    fn batch_calls(&mut self, batch_id: &str) -> rusqlite::Result<Vec<LedgerCall>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT target, campaign, key, attempt, phone, state FROM calls WHERE batch_id = ?1",
        )?;
        stmt.query_map(params![batch_id], ledger_call)?.collect()
    }

    fn in_doubt(&mut self, keys: &[&str]) -> rusqlite::Result<Vec<LedgerCall>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // By target, so the primary key finds each key's rows (targets are few): read once
        // for all the keys.
        let targets: Vec<String> = self
            .0
            .prepare_cached("SELECT DISTINCT target FROM runs")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt = self.0.prepare_cached(
            "SELECT target, campaign, key, attempt, phone, state FROM calls
             WHERE target = ?1 AND key = ?2 AND state = 'in_doubt' AND batch_id IS NULL",
        )?;
        let mut out = Vec::new();
        for target in &targets {
            for key in keys {
                for call in stmt.query_map(params![target, key], ledger_call)? {
                    out.push(call?);
                }
            }
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
    ) -> rusqlite::Result<bool> {
        let duration = outcome.duration.map(|d| d.as_secs_f64());
        let changed = self.0.prepare_cached(
            "UPDATE calls SET state = ?4, batch_id = COALESCE(batch_id, ?5), call_id = COALESCE(?6, call_id),
                 duration = COALESCE(?7, duration), reply = COALESCE(?8, reply), updated_at = ?9
             WHERE target = ?1 AND key = ?2 AND attempt = ?3
               AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
        )?
        .execute(params![
            call.target,
            call.key,
            call.attempt,
            state,
            batch_id,
            outcome.call_id,
            duration,
            outcome.reply,
            at
        ])?;
        Ok(changed > 0)
    }

    fn note_call_id(
        &mut self,
        call: &LedgerCall,
        batch_id: &str,
        call_id: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "UPDATE calls SET call_id = ?4, batch_id = COALESCE(batch_id, ?5)
                 WHERE target = ?1 AND key = ?2 AND attempt = ?3
                   AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
            )?
            .execute(params![call.target, call.key, call.attempt, call_id, batch_id])
            .map(drop)
    }

    fn opt_out_replies(&mut self, campaign: &str) -> rusqlite::Result<Vec<String>> {
        let json: Option<String> = self
            .0
            .prepare_cached("SELECT opt_out_replies FROM campaigns WHERE name = ?1")?
            .query_row(params![campaign], |r| r.get(0))
            .optional()?;
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
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO reply_opt_outs (phone, campaign, reply, since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (phone) DO NOTHING",
            )?
            .execute(params![phone, campaign, reply, at])
            .map(drop)
    }

    fn put_batch(
        &mut self,
        target: &str,
        batch_id: &str,
        stats: &str,
        at: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO batches (target, batch_id, stats, completed_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (target, batch_id) DO UPDATE SET stats = excluded.stats, completed_at = excluded.completed_at",
            )?
            .execute(params![target, batch_id, stats, at])
            .map(drop)
    }

    fn keep(
        &mut self,
        batch_id: Option<&str>,
        reason: &str,
        body: &str,
        outcomes: Option<&str>,
        at: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO kept_callbacks (batch_id, reason, body, outcomes, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (batch_id) DO UPDATE SET reason = excluded.reason, body = excluded.body,
                     outcomes = excluded.outcomes, received_at = excluded.received_at",
            )?
            .execute(params![batch_id, reason, body, outcomes, at])?;
        self.0
            .prepare_cached(
                "DELETE FROM kept_callbacks WHERE id <= (SELECT MAX(id) FROM kept_callbacks) - ?1",
            )?
            .execute(params![i64::try_from(KEPT_MAX).unwrap_or(i64::MAX)])
            .map(drop)
    }

    fn kept(&mut self, limit: u64) -> rusqlite::Result<Vec<(i64, String, String)>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, batch_id, outcomes FROM kept_callbacks
             WHERE batch_id IS NOT NULL AND outcomes IS NOT NULL ORDER BY id LIMIT ?1",
        )?;
        stmt.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect()
    }

    fn drop_kept(&mut self, batch_id: &str) -> rusqlite::Result<()> {
        self.0
            .prepare_cached("DELETE FROM kept_callbacks WHERE batch_id = ?1")?
            .execute(params![batch_id])
            .map(drop)
    }
}
