//! The Postgres schema and its versioned migrations, applied by every runner at start.

use postgres::Client;

/// The schema version this build writes to Postgres.
pub const PG_SCHEMA_VERSION: i32 = 2;

/// Every runner migrates at start; the advisory lock makes concurrent starts take turns.
const MIGRATION_LOCK: i64 = 0x6f75_7472_6561_6368; // "outreach"

/// Applies the migrations; returns the version found when it is newer than this build's.
pub(super) fn migrate(c: &mut Client) -> Result<Option<i32>, postgres::Error> {
    migrate_to(c, PG_SCHEMA_VERSION)
}

/// Applies the migrations up to version `upto` (the tests build older ledgers with it).
pub(super) fn migrate_to(c: &mut Client, upto: i32) -> Result<Option<i32>, postgres::Error> {
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
        return Ok(Some(version));
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
    tx.commit()?;
    Ok(None)
}
