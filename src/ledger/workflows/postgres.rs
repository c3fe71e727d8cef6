//! The bindings' statements on Postgres (see `mod.rs`). Several runners may bind at once:
//! the insert does nothing when another runner's row is there (it waits for that runner's
//! commit first), and the replace's condition on the previous id is checked again on the
//! row it locked, so of two runners binding one key from one read, one alone succeeds.

use postgres::Transaction;

use super::{BindingKey, BindingTx, WorkflowBinding};
use crate::ledger::StoredTime;

/// The bindings' statements inside one Postgres transaction.
pub(in crate::ledger) struct PgWorkflows<'a, 'c>(pub(in crate::ledger) &'a mut Transaction<'c>);

impl BindingTx for PgWorkflows<'_, '_> {
    type Error = postgres::Error;

    fn binding(
        &mut self,
        key: &BindingKey<'_>,
    ) -> Result<Option<WorkflowBinding>, postgres::Error> {
        let row = self.0.query_opt(
            "SELECT workflow_id, digest, pushed, bound_at FROM workflow_bindings
             WHERE target = $1 AND campaign = $2 AND workflow_name = $3 AND language = $4",
            &[
                &key.target,
                &key.campaign,
                &key.workflow_name,
                &key.language,
            ],
        )?;
        row.map(|r| {
            Ok(WorkflowBinding {
                workflow_id: r.get(0),
                digest: r.get(1),
                pushed: r.get(2),
                bound_at: r.try_get::<_, StoredTime>(3)?.0,
            })
        })
        .transpose()
    }

    fn insert(
        &mut self,
        key: &BindingKey<'_>,
        b: &WorkflowBinding,
    ) -> Result<bool, postgres::Error> {
        let changed = self.0.execute(
            "INSERT INTO workflow_bindings
                 (target, campaign, workflow_name, language, workflow_id, digest, pushed, bound_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (target, campaign, workflow_name, language) DO NOTHING",
            &[
                &key.target,
                &key.campaign,
                &key.workflow_name,
                &key.language,
                &b.workflow_id,
                &b.digest,
                &b.pushed,
                &b.bound_at.to_string(),
            ],
        )?;
        Ok(changed > 0)
    }

    fn replace(
        &mut self,
        key: &BindingKey<'_>,
        previous: &str,
        b: &WorkflowBinding,
    ) -> Result<bool, postgres::Error> {
        let changed = self.0.execute(
            "UPDATE workflow_bindings SET workflow_id = $6, digest = $7, pushed = $8, bound_at = $9
             WHERE target = $1 AND campaign = $2 AND workflow_name = $3 AND language = $4
               AND workflow_id = $5",
            &[
                &key.target,
                &key.campaign,
                &key.workflow_name,
                &key.language,
                &previous,
                &b.workflow_id,
                &b.digest,
                &b.pushed,
                &b.bound_at.to_string(),
            ],
        )?;
        Ok(changed > 0)
    }

    fn record_push(
        &mut self,
        key: &BindingKey<'_>,
        b: &WorkflowBinding,
    ) -> Result<(), postgres::Error> {
        self.0
            .execute(
                "INSERT INTO workflow_pushes
                     (target, campaign, workflow_name, language, workflow_id, digest, pushed, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &key.target,
                    &key.campaign,
                    &key.workflow_name,
                    &key.language,
                    &b.workflow_id,
                    &b.digest,
                    &b.pushed,
                    &b.bound_at.to_string(),
                ],
            )
            .map(drop)
    }

    fn bound_ids(&mut self, target: &str, campaign: &str) -> Result<Vec<String>, postgres::Error> {
        // By the order of the pushes (`id`), not by their times: clocks of runners differ.
        // A key's binds are ordered by its row's lock, so its later push has the later id.
        Ok(self
            .0
            .query(
                "SELECT workflow_id FROM workflow_pushes WHERE target = $1 AND campaign = $2
                 GROUP BY workflow_id ORDER BY MAX(id) DESC",
                &[&target, &campaign],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}
