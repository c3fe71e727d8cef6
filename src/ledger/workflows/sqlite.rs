//! The bindings' statements on SQLite (see `mod.rs`).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{BindingKey, BindingTx, WorkflowBinding};
use crate::ledger::StoredTime;

/// The bindings' statements inside one SQLite transaction.
pub(in crate::ledger) struct SqliteWorkflows<'a, 'c>(pub(in crate::ledger) &'a Transaction<'c>);

impl BindingTx for SqliteWorkflows<'_, '_> {
    type Error = rusqlite::Error;

    fn binding(&mut self, key: &BindingKey<'_>) -> rusqlite::Result<Option<WorkflowBinding>> {
        self.0
            .prepare_cached(
                "SELECT workflow_id, digest, pushed, bound_at FROM workflow_bindings
                 WHERE target = ?1 AND campaign = ?2 AND workflow_name = ?3 AND language = ?4",
            )?
            .query_row(
                params![key.target, key.campaign, key.workflow_name, key.language],
                |r| {
                    Ok(WorkflowBinding {
                        workflow_id: r.get(0)?,
                        digest: r.get(1)?,
                        pushed: r.get(2)?,
                        bound_at: r.get::<_, StoredTime>(3)?.0,
                    })
                },
            )
            .optional()
    }

    fn insert(&mut self, key: &BindingKey<'_>, b: &WorkflowBinding) -> rusqlite::Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "INSERT INTO workflow_bindings
                     (target, campaign, workflow_name, language, workflow_id, digest, pushed, bound_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (target, campaign, workflow_name, language) DO NOTHING",
            )?
            .execute(params![
                key.target,
                key.campaign,
                key.workflow_name,
                key.language,
                b.workflow_id,
                b.digest,
                b.pushed,
                b.bound_at.to_string()
            ])?;
        Ok(changed > 0)
    }

    fn replace(
        &mut self,
        key: &BindingKey<'_>,
        previous: &str,
        b: &WorkflowBinding,
    ) -> rusqlite::Result<bool> {
        let changed = self
            .0
            .prepare_cached(
                "UPDATE workflow_bindings SET workflow_id = ?6, digest = ?7, pushed = ?8, bound_at = ?9
                 WHERE target = ?1 AND campaign = ?2 AND workflow_name = ?3 AND language = ?4
                   AND workflow_id = ?5",
            )?
            .execute(params![
                key.target,
                key.campaign,
                key.workflow_name,
                key.language,
                previous,
                b.workflow_id,
                b.digest,
                b.pushed,
                b.bound_at.to_string()
            ])?;
        Ok(changed > 0)
    }

    fn record_push(&mut self, key: &BindingKey<'_>, b: &WorkflowBinding) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO workflow_pushes
                     (target, campaign, workflow_name, language, workflow_id, digest, pushed, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                key.target,
                key.campaign,
                key.workflow_name,
                key.language,
                b.workflow_id,
                b.digest,
                b.pushed,
                b.bound_at.to_string()
            ])
            .map(drop)
    }

    fn bound_ids(&mut self, target: &str, campaign: &str) -> rusqlite::Result<Vec<String>> {
        // By the order of the pushes (`id`), not by their times: clocks of runners differ.
        self.0
            .prepare_cached(
                "SELECT workflow_id FROM workflow_pushes WHERE target = ?1 AND campaign = ?2
                 GROUP BY workflow_id ORDER BY MAX(id) DESC",
            )?
            .query_map(params![target, campaign], |r| r.get(0))?
            .collect()
    }
}
