//! The Postgres schema and its versioned migrations, applied by every runner at start.

use postgres::Client;

use crate::ledger::targets::{self, TargetsRewritten};
use crate::settings::target::{budget_scope, split_budget_scope};

/// The schema version this build writes to Postgres.
pub const PG_SCHEMA_VERSION: i32 = 7;

/// Version 4 (issue 17): see `ledger/callbacks/`.
const MIGRATION_4: &str =
    "CREATE INDEX calls_by_batch ON calls (batch_id) WHERE batch_id IS NOT NULL;
    CREATE TABLE batches (
        target TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        stats TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        PRIMARY KEY (target, batch_id)
    );
    CREATE TABLE kept_callbacks (
        id BIGSERIAL PRIMARY KEY,
        batch_id TEXT UNIQUE,
        reason TEXT NOT NULL,
        body TEXT NOT NULL,
        outcomes TEXT,
        received_at TEXT NOT NULL
    );
    CREATE TABLE reply_opt_outs (
        phone TEXT PRIMARY KEY,
        campaign TEXT NOT NULL,
        reply TEXT NOT NULL,
        since TEXT NOT NULL
    );
    ALTER TABLE campaigns ADD COLUMN opt_out_replies TEXT NOT NULL DEFAULT '[]';
    UPDATE outreach_schema SET version = 4 WHERE id = 1;";

/// Version 5 (issue 18): which service workflow each declared workflow is bound to, and
/// every workflow ever bound for it; see `ledger/workflows/`.
const MIGRATION_5: &str = "CREATE TABLE workflow_bindings (
        target TEXT NOT NULL,
        campaign TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        language TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        pushed TEXT NOT NULL,
        bound_at TEXT NOT NULL,
        PRIMARY KEY (target, campaign, workflow_name, language)
    );
    CREATE TABLE workflow_pushes (
        id BIGSERIAL PRIMARY KEY,
        target TEXT NOT NULL,
        campaign TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        language TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        pushed TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX workflow_pushes_by_campaign ON workflow_pushes (target, campaign);
    UPDATE outreach_schema SET version = 5 WHERE id = 1;";

/// Version 6 (issue 19): the values of the campaign's `list_columns` kept with each call, as
/// the text of a JSON object (not `jsonb`, which would reorder them; see `list_values.rs`).
const MIGRATION_6: &str = "ALTER TABLE calls ADD COLUMN list_values TEXT;
    UPDATE outreach_schema SET version = 6 WHERE id = 1;";

/// Version 7 (issue 20): the key of the campaign's `languages:` each call was placed in (see
/// `call_language.rs`); kept by purge, the campaign's grouping as the voice is.
const MIGRATION_7: &str = "ALTER TABLE calls ADD COLUMN language TEXT;
    UPDATE outreach_schema SET version = 7 WHERE id = 1;";

/// The migrations that each add what one issue needs, in order.
const LATER_MIGRATIONS: [(i32, &str); 4] = [
    (4, MIGRATION_4),
    (5, MIGRATION_5),
    (6, MIGRATION_6),
    (7, MIGRATION_7),
];

/// Every runner migrates at start; the advisory lock makes concurrent starts take turns.
const MIGRATION_LOCK: i64 = 0x6f75_7472_6561_6368; // "outreach"

/// What a migration found and did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Migrated {
    /// The version found, when it is newer than this build's (nothing was done).
    pub(super) too_new: Option<i32>,
    /// What the migration to version 3 made of the stored targets, when it ran.
    pub(super) rewritten: Option<TargetsRewritten>,
}

/// Applies the migrations.
pub(super) fn migrate(c: &mut Client) -> Result<Migrated, postgres::Error> {
    migrate_to(c, PG_SCHEMA_VERSION)
}

/// Applies the migrations up to version `upto` (the tests build older ledgers with it), in
/// one transaction.
pub(super) fn migrate_to(c: &mut Client, upto: i32) -> Result<Migrated, postgres::Error> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS outreach_schema (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO outreach_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
    )?;
    let version: i32 = tx
        .query_one("SELECT version FROM outreach_schema WHERE id = 1", &[])?
        .get(0);
    if version > PG_SCHEMA_VERSION {
        return Ok(Migrated {
            too_new: Some(version),
            rewritten: None,
        });
    }
    if version < 1 && upto >= 1 {
        tx.batch_execute(
            "CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                host TEXT,
                pid BIGINT,
                status TEXT NOT NULL,
                detail TEXT,
                heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                lease_secs DOUBLE PRECISION NOT NULL DEFAULT 30,
                claimed BIGINT NOT NULL DEFAULT 0
            );
            CREATE INDEX runs_running ON runs (status, campaign);
            CREATE TABLE calls (
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                key TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                phone TEXT,
                source TEXT,
                row BIGINT,
                state TEXT NOT NULL,
                batch_id TEXT,
                call_id TEXT,
                reply TEXT,
                duration DOUBLE PRECISION,
                message TEXT,
                retry_at TEXT,
                run_id TEXT NOT NULL REFERENCES runs(id),
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (target, key, attempt)
            );
            CREATE INDEX calls_by_phone ON calls (target, phone, created_at);
            CREATE INDEX calls_by_round ON calls (target, campaign, round);
            CREATE INDEX calls_by_run ON calls (run_id, state);
            CREATE TABLE pauses (
                campaign TEXT PRIMARY KEY,
                since TEXT NOT NULL
            );
            -- Calls due, shared by every runner: claimed in batches with a lease.
            CREATE TABLE work (
                target TEXT NOT NULL,
                campaign TEXT NOT NULL,
                round TEXT NOT NULL,
                key TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                timezone TEXT NOT NULL,
                seq BIGINT NOT NULL,
                done BOOLEAN NOT NULL DEFAULT false,
                claimed_by TEXT,
                lease_until TIMESTAMPTZ,
                PRIMARY KEY (target, key, attempt)
            );
            CREATE INDEX work_open ON work (target, campaign, round, timezone, seq) WHERE NOT done;
            -- One request budget per campaign and target, shared by its runners (GCRA: the
            -- theoretical arrival time of the next request).
            CREATE TABLE rate_budget (
                scope TEXT PRIMARY KEY,
                tat TIMESTAMPTZ NOT NULL
            );
            UPDATE outreach_schema SET version = 1 WHERE id = 1;",
        )?;
    }
    if version < 2 && upto >= 2 {
        tx.batch_execute(
            "-- Which campaign file each campaign name belongs to, relative to its repository:
            -- two files with one name would share one record of calls.
            CREATE TABLE campaigns (
                name TEXT PRIMARY KEY,
                path TEXT NOT NULL,
                since TEXT NOT NULL
            );
            UPDATE outreach_schema SET version = 2 WHERE id = 1;",
        )?;
    }
    let mut rewritten = None;
    if version < 3 && upto >= 3 {
        // Every stored target and budget scope in its normal form (issue 14, class 4: see
        // `targets.rs`), in the same transaction as the version.
        let mut rewrite = PgRewrite(&mut tx);
        let done = targets::rewrite(&mut rewrite)?;
        rewrite.scopes()?;
        tx.execute("UPDATE outreach_schema SET version = 3 WHERE id = 1", &[])?;
        rewritten = Some(done);
    }
    // Outcomes from the service's callbacks (issue 17, see `ledger/callbacks/`: the receiver
    // finds a callback's calls by batch id; each batch's stats; the callbacks kept until
    // their batch is known, or refused, for inspection; the numbers whose reply opted them
    // out, and the replies each campaign counts as one); declared workflows' bindings
    // (issue 18); the list columns' values (issue 19); each call's language (issue 20).
    for (v, migration) in LATER_MIGRATIONS {
        if version < v && upto >= v {
            tx.batch_execute(migration)?;
        }
    }
    tx.commit()?;
    Ok(Migrated {
        too_new: None,
        rewritten,
    })
}

/// The stored targets' rewrite (see `targets.rs`) inside a Postgres transaction: the
/// targets of `calls`, `runs` and `work`, and of the `rate_budget` scopes.
struct PgRewrite<'a, 'c>(&'a mut postgres::Transaction<'c>);

impl PgRewrite<'_, '_> {
    /// Each budget scope under its target's normal form; two scopes that become one keep
    /// the later of their next slots (the slower pace).
    fn scopes(&mut self) -> Result<(), postgres::Error> {
        let rows = self
            .0
            .query("SELECT scope FROM rate_budget ORDER BY scope", &[])?;
        for row in rows {
            let scope: String = row.get(0);
            let Some((target, of)) = split_budget_scope(&scope) else {
                continue;
            };
            let Some(normal) = crate::settings::target::normal_stored(target) else {
                continue;
            };
            if normal == target {
                continue;
            }
            let renamed = budget_scope(&normal, of);
            self.0.execute(
                "INSERT INTO rate_budget (scope, tat) SELECT $2::text, tat FROM rate_budget WHERE scope = $1::text
                 ON CONFLICT (scope) DO UPDATE SET tat = GREATEST(rate_budget.tat, EXCLUDED.tat)",
                &[&scope, &renamed],
            )?;
            self.0
                .execute("DELETE FROM rate_budget WHERE scope = $1", &[&scope])?;
        }
        Ok(())
    }
}

impl targets::Rewrite for PgRewrite<'_, '_> {
    type Error = postgres::Error;

    fn targets(&mut self) -> Result<Vec<String>, postgres::Error> {
        let mut out: Vec<String> = self
            .0
            .query(
                "SELECT target FROM calls UNION SELECT target FROM runs UNION SELECT target FROM work",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        // The budgets' targets too: a budget whose target holds no call yet is renamed
        // with the others (`scopes`); its target is named here for what `migrate` says.
        for row in self.0.query("SELECT scope FROM rate_budget", &[])? {
            if let Some((target, _)) = split_budget_scope(row.get(0)) {
                out.push(target.to_owned());
            }
        }
        Ok(out)
    }

    fn colliding_keys(&mut self, members: &[String]) -> Result<Vec<String>, postgres::Error> {
        Ok(self
            .0
            .query(
                "SELECT key FROM (
                    SELECT target, key FROM calls WHERE target = ANY($1)
                    UNION SELECT target, key FROM work WHERE target = ANY($1)) t
                 GROUP BY key HAVING COUNT(DISTINCT target) > 1 ORDER BY key",
                &[&members],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn attempts(&mut self, target: &str, key: &str) -> Result<targets::Attempts, postgres::Error> {
        Ok(self
            .0
            .query(
                "SELECT attempt, state, created_at FROM calls WHERE target = $1 AND key = $2 ORDER BY attempt",
                &[&target, &key],
            )?
            .iter()
            .map(|r| (i64::from(r.get::<_, i32>(0)), r.get(1), r.get(2)))
            .collect())
    }

    fn park(
        &mut self,
        from: &str,
        key: &str,
        attempt: i64,
        to: &str,
        new: i64,
    ) -> Result<(), postgres::Error> {
        let (attempt, new) = (
            i32::try_from(attempt).unwrap_or(i32::MAX),
            -i32::try_from(new).unwrap_or(i32::MAX),
        );
        for table in ["calls", "work"] {
            self.0.execute(
                &format!(
                    "UPDATE {table} SET target = $4, attempt = $5 WHERE target = $1 AND key = $2 AND attempt = $3"
                ),
                &[&from, &key, &attempt, &to, &new],
            )?;
        }
        Ok(())
    }

    fn unpark(&mut self, members: &[String], key: &str, to: &str) -> Result<(), postgres::Error> {
        self.0.execute(
            "DELETE FROM work WHERE target = ANY($1) AND key = $2 AND attempt > 0",
            &[&members, &key],
        )?;
        for table in ["calls", "work"] {
            self.0.execute(
                &format!(
                    "UPDATE {table} SET attempt = -attempt WHERE target = $1 AND key = $2 AND attempt < 0"
                ),
                &[&to, &key],
            )?;
        }
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<u64, postgres::Error> {
        let moved = self.0.execute(
            "UPDATE calls SET target = $2 WHERE target = $1",
            &[&from, &to],
        )?;
        for table in ["runs", "work"] {
            self.0.execute(
                &format!("UPDATE {table} SET target = $2 WHERE target = $1"),
                &[&from, &to],
            )?;
        }
        Ok(moved)
    }
}
