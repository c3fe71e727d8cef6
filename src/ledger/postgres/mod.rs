//! The Postgres store: a ledger shared by several runners (`--state postgres://…` or
//! `OUTREACH_DATABASE_URL`), which claim the due calls in leased batches and share one request
//! budget (see docs/scale-out.md; the shared work is in `work.rs`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use postgres::types::{FromSql, Type};

use super::call_language;
use super::callbacks::PgCallbacks;
use super::workflows::PgWorkflows;
use super::{
    Attempt, BadTime, CallState, CountRow, Deferred, KeyHistory, LedgerError, ListValues, NewCall,
    Runner, StoredSeconds, StoredTime, UnknownState, hostname, now,
};

mod connection;
mod migrations;
mod tls;
mod work;

pub use connection::PgError;
pub use migrations::PG_SCHEMA_VERSION;

/// The ledger on a Postgres database.
pub struct Postgres {
    conn: connection::Pg,
    /// The database as printed: no password, no options (see `location.rs`).
    path: PathBuf,
    /// The run started on this connection: settles touch only its rows.
    run: Option<String>,
    /// What the migration to version 3 made of the stored targets, when this open ran it.
    rewritten: Option<super::TargetsRewritten>,
}

/// Only the run's own write-aheads (`sending`, its run): a runner that stalled past its lease
/// does not overwrite what another runner made of its calls. (The run's lease is checked first,
/// in the same transaction: [`pg_live`].)
const PG_SETTLE_SQL: &str = "UPDATE calls SET state = $3, batch_id = COALESCE($4, batch_id), message = COALESCE($5, message), updated_at = $6
     FROM unnest($2::text[], $7::int[]) AS u(key, attempt)
     WHERE calls.target = $1 AND calls.key = u.key AND calls.attempt = u.attempt
       AND ($8::text IS NULL OR (calls.run_id = $8 AND calls.state = 'sending'))
     RETURNING calls.key, calls.attempt";

/// The fencing token of a run (issue 14, class 11): whether its lease holds, by the
/// database's clock, inside the transaction about to write for it. A run holds its lease
/// while its heartbeat is within `lease_secs`; past that, other runners take its claims and
/// look up the calls it left `sending` (`unresolved`, `claim`), and it never gets the lease
/// back (its heartbeat no longer renews it), so every begin, settle, claim and check before
/// a request of a run past its lease is refused: it can record nothing, and sends nothing.
/// The schema has no column for a per-claim token (and this session changes no schema):
/// the run's heartbeat and its claims (`work.claimed_by`, `work.lease_until`) are the token.
fn pg_live(tx: &mut postgres::Transaction<'_>, run: &str) -> Result<bool, postgres::Error> {
    Ok(tx
        .query_one(
            "SELECT EXISTS(SELECT 1 FROM runs WHERE id = $1 AND status = 'running'
               AND heartbeat_at >= now() - make_interval(secs => lease_secs))",
            &[&run],
        )?
        .get(0))
}

/// What a write fenced by [`pg_live`] did: its result, or nothing (the run's lease was lost,
/// and the transaction rolled back).
enum Fenced<T> {
    Done(T),
    LeaseLost,
}

/// A settle of `not_sent` puts the calls back among the work to claim.
const PG_REOPEN_SQL: &str = "UPDATE work SET done = false, claimed_by = NULL, lease_until = NULL
     FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
     WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt";

/// A column read as `$base` and parsed by `$parse`, whose error fails the row and names what
/// the row holds (see [`PgError`]).
macro_rules! parsed_column {
    ($t:ty, $base:ty, $parse:expr) => {
        impl<'a> FromSql<'a> for $t {
            fn from_sql(
                ty: &Type,
                raw: &'a [u8],
            ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                Ok(($parse)(<$base as FromSql>::from_sql(ty, raw)?)?)
            }

            fn accepts(ty: &Type) -> bool {
                <$base as FromSql>::accepts(ty)
            }
        }
    };
}

// A state column: an unknown state fails the row (see [`PgError::UnknownState`]).
parsed_column!(CallState, &str, |text: &str| CallState::parse(text)
    .ok_or_else(|| UnknownState(text.to_owned())));
// A timestamp column: RFC 3339 text.
parsed_column!(StoredTime, &str, StoredTime::parse);
// The list columns' values: a JSON object's text, bounded (see `list_values.rs`).
parsed_column!(ListValues, &str, |text: &str| ListValues::from_stored(
    Some(text)
));
/// A call's language, checked as it is read (see `call_language.rs`).
struct PgLanguage(String);
// A language column: a short language tag.
parsed_column!(PgLanguage, &str, |text: &str| call_language::check(text)
    .map(|()| PgLanguage(text.to_owned())));
// A length of time column (or one the database computes): seconds.
parsed_column!(StoredSeconds, f64, StoredSeconds::new);

fn pg_keys(attempts: &[(String, u32)]) -> (Vec<String>, Vec<i32>) {
    attempts
        .iter()
        .map(|(k, a)| (k.clone(), i32::try_from(*a).unwrap_or(i32::MAX)))
        .unzip()
}

fn owned(attempts: &[(&str, u32)]) -> Vec<(String, u32)> {
    attempts
        .iter()
        .map(|(k, a)| ((*k).to_owned(), *a))
        .collect()
}

/// Settles attempts in a Postgres transaction (and puts `not_sent` ones back as work).
#[expect(clippy::too_many_arguments, reason = "one UPDATE's parameters")]
fn pg_settle(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    attempts: &[(String, u32)],
    state: CallState,
    batch_id: Option<&str>,
    message: Option<&str>,
    at: &str,
    run: Option<&str>,
) -> Result<(), postgres::Error> {
    if attempts.is_empty() {
        return Ok(());
    }
    let (keys, nums) = pg_keys(attempts);
    let moved = tx.query(
        PG_SETTLE_SQL,
        &[
            &target,
            &keys,
            &state.as_str(),
            &batch_id,
            &message,
            &at,
            &nums,
            &run,
        ],
    )?;
    if state == CallState::NotSent && !moved.is_empty() {
        let (keys, nums): (Vec<String>, Vec<i32>) = moved
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1)))
            .unzip();
        tx.execute(PG_REOPEN_SQL, &[&target, &keys, &nums])?;
    }
    Ok(())
}

fn pg_write_deferred(
    tx: &mut postgres::Transaction<'_>,
    deferred: &[Deferred],
    run: Option<&str>,
) -> Result<(), postgres::Error> {
    for d in deferred {
        pg_settle(
            tx,
            &d.target,
            &d.attempts,
            CallState::Accepted,
            Some(&d.batch_id),
            None,
            &d.at.to_string(),
            run,
        )?;
    }
    Ok(())
}

/// The one mapping of a `calls` row (columns in [`COLUMNS`] order) to an attempt.
fn row_to_attempt(r: &postgres::Row) -> Result<Attempt, postgres::Error> {
    Ok(Attempt {
        campaign: r.get(0),
        round: r.get(1),
        key: r.get(2),
        attempt: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
        phone: r.get(4),
        state: r.try_get(5)?,
        batch_id: r.get(6),
        call_id: r.get(7),
        reply: r.get(8),
        duration: r.try_get::<_, Option<StoredSeconds>>(9)?.map(|d| d.0),
        message: r.get(10),
        source: r.get(11),
        row: r.get::<_, Option<i64>>(12).map(i64::unsigned_abs),
        created_at: r.try_get::<_, StoredTime>(13)?.0,
        updated_at: r.try_get::<_, StoredTime>(14)?.0,
        run_id: r.get(15),
        list_values: r.try_get::<_, Option<ListValues>>(16)?.unwrap_or_default(),
        language: r.try_get::<_, Option<PgLanguage>>(17)?.map(|l| l.0),
    })
}

/// The columns [`row_to_attempt`] reads.
const COLUMNS: &str = "campaign, round, key, attempt, phone, state, batch_id, call_id, reply, duration, message, source, row, created_at, updated_at, run_id, list_values, language";

impl Postgres {
    /// Connects to the database and applies the migrations.
    pub(super) fn open(database: &super::location::PgLocation) -> Result<Postgres, LedgerError> {
        let shown = database.shown().to_owned();
        let conn = connection::Pg::connect(database).map_err(|source| LedgerError::Postgres {
            url: shown.clone(),
            error: source,
        })?;
        let mut store = Postgres {
            conn,
            path: PathBuf::from(shown),
            run: None,
            rewritten: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database as printed: no password, no options (see `location.rs`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: PgError) -> LedgerError {
        match source {
            PgError::UnknownState(UnknownState(state)) => LedgerError::UnknownState {
                path: self.path.clone(),
                state,
            },
            PgError::BadTime(error) => self.bad_time(error),
            error => LedgerError::Postgres {
                url: self.path.display().to_string(),
                error,
            },
        }
    }

    fn bad_time(&self, error: BadTime) -> LedgerError {
        LedgerError::BadTime {
            path: self.path.clone(),
            error,
        }
    }

    /// Runs `f` on the connection.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnMut(&mut postgres::Client) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, LedgerError> {
        self.conn.run(f).map_err(|e| self.error(e))
    }

    /// Applies the versioned migrations this build knows.
    pub(super) fn migrate(&mut self) -> Result<(), LedgerError> {
        let migrated = self.run(migrations::migrate)?;
        if let Some(found) = migrated.too_new {
            return Err(LedgerError::TooNew {
                path: self.path.clone(),
                found: i64::from(found),
                known: i64::from(PG_SCHEMA_VERSION),
            });
        }
        if migrated.rewritten.is_some() {
            self.rewritten = migrated.rewritten;
        }
        Ok(())
    }

    /// What the migration to version 3 made of the stored targets, when this open ran it.
    pub(super) fn rewritten(&self) -> Option<&super::TargetsRewritten> {
        self.rewritten.as_ref()
    }

    pub(super) fn claim_campaign(
        &self,
        name: &str,
        path: &str,
        moved_from: &[String],
    ) -> Result<(), LedgerError> {
        let (name2, path2, moved, t) =
            (name.to_owned(), path.to_owned(), moved_from.to_vec(), now());
        let recorded = self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO campaigns (name, path, since) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                &[&name2, &path2, &t],
            )?;
            let recorded: String = tx
                .query_one(
                    "SELECT path FROM campaigns WHERE name = $1 FOR UPDATE",
                    &[&name2],
                )?
                .get(0);
            if recorded != path2 && moved.contains(&recorded) {
                tx.execute(
                    "UPDATE campaigns SET path = $2, since = $3 WHERE name = $1",
                    &[&name2, &path2, &t],
                )?;
                tx.commit()?;
                return Ok(path2.clone());
            }
            tx.commit()?;
            Ok(recorded)
        })?;
        if recorded == path {
            return Ok(());
        }
        Err(LedgerError::CampaignElsewhere {
            path: self.path.clone(),
            campaign: name.to_owned(),
            recorded,
            given: path.to_owned(),
        })
    }

    pub(super) fn start_run(
        &mut self,
        id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        lease: f64,
    ) -> Result<(), LedgerError> {
        let host = hostname();
        let t = now();
        let pid = std::process::id();
        let (id2, target2, campaign2, round2) = (
            id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
        );
        self.run(move |c| {
            c.execute(
                "INSERT INTO runs (id, target, campaign, round, started_at, host, pid, status, heartbeat_at, lease_secs)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', now(), $8)",
                &[&id2, &target2, &campaign2, &round2, &t, &host, &i64::from(pid), &lease],
            )
        })?;
        self.run = Some(id.to_owned());
        Ok(())
    }

    pub(super) fn heartbeat(&self, run_id: &str, claimed: i64) -> Result<(), LedgerError> {
        let run = run_id.to_owned();
        let renewed = self.run(move |c| {
            let mut tx = c.transaction()?;
            // A lease that ran out is not renewed (see `pg_live`): other runners may be
            // taking this run's calls over already.
            let renewed = tx.execute(
                "UPDATE runs SET heartbeat_at = now(), claimed = $2 WHERE id = $1 AND status = 'running'
                   AND heartbeat_at >= now() - make_interval(secs => lease_secs)",
                &[&run, &claimed],
            )?;
            if renewed == 0 {
                return Ok(Fenced::LeaseLost);
            }
            tx.execute(
                "UPDATE work SET lease_until = now() + make_interval(secs => r.lease_secs)
                 FROM runs r WHERE r.id = $1 AND work.claimed_by = $1 AND NOT work.done",
                &[&run],
            )?;
            tx.commit()?;
            Ok(Fenced::Done(()))
        })?;
        self.fenced(renewed)
    }

    pub(super) fn end_run(
        &self,
        run_id: &str,
        status: &str,
        detail: &str,
    ) -> Result<(), LedgerError> {
        let (run, status2, detail2, t) = (
            run_id.to_owned(),
            status.to_owned(),
            detail.to_owned(),
            now(),
        );
        self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "UPDATE runs SET ended_at = $2, status = $3, detail = $4 WHERE id = $1",
                &[&run, &t, &status2, &detail2],
            )?;
            tx.execute(
                "UPDATE work SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND NOT done",
                &[&run],
            )?;
            tx.commit()
        })
    }

    pub(super) fn runners(&self, campaign: Option<&str>) -> Result<Vec<Runner>, LedgerError> {
        let cp = campaign.map(ToOwned::to_owned);
        self.run(move |c| {
            let campaign = cp.clone();
            // A heartbeat ahead of the server's clock is no age at all. The last heartbeat is
            // read as RFC 3339 text (`to_json` of a timestamptz), as `StoredTime` reads times.
            let rows = c.query(
                "SELECT id, COALESCE(host, ''), COALESCE(pid, 0), campaign, round, target, started_at,
                        GREATEST(EXTRACT(EPOCH FROM (now() - heartbeat_at)), 0)::float8, claimed, lease_secs,
                        to_json(heartbeat_at) #>> '{}'
                 FROM runs WHERE status = 'running' AND ($1::text IS NULL OR campaign = $1)
                 ORDER BY started_at, id",
                &[&campaign],
            )?;
            rows.iter()
                .map(|r| {
                    let age = r.try_get::<_, StoredSeconds>(7)?.0;
                    let lease: f64 = r.get(9);
                    Ok(Runner {
                        run_id: r.get(0),
                        host: r.get(1),
                        pid: u32::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                        campaign: r.get(3),
                        round: r.get(4),
                        target: r.get(5),
                        started_at: r.try_get::<_, StoredTime>(6)?.0,
                        heartbeat_age: age,
                        claimed: r.get::<_, i64>(8).unsigned_abs(),
                        // Several machines: only the heartbeat tells (a pid means nothing here).
                        alive: Runner::within_lease(age, lease),
                        last_heartbeat: r.try_get::<_, StoredTime>(10)?.0,
                    })
                })
                .collect()
        })
    }

    pub(super) fn knows_campaign(&self, target: &str, campaign: &str) -> Result<bool, LedgerError> {
        let (t, c2) = (target.to_owned(), campaign.to_owned());
        self.run(move |c| {
            Ok(c.query_one(
                "SELECT EXISTS(SELECT 1 FROM calls WHERE target = $1 AND campaign = $2)",
                &[&t, &c2],
            )?
            .get(0))
        })
    }

    pub(super) fn history(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<HashMap<String, KeyHistory>, LedgerError> {
        let (t, c2, r2) = (target.to_owned(), campaign.to_owned(), round.to_owned());
        self.run(move |c| {
            let rows = c.query(
                "SELECT DISTINCT ON (key) key, attempt, state, retry_at, updated_at FROM calls
                 WHERE target = $1 AND campaign = $2 AND round = $3
                 ORDER BY key, attempt DESC",
                &[&t, &c2, &r2],
            )?;
            // Sized once: a large campaign's history is read at every round.
            let mut out = HashMap::with_capacity(rows.len());
            for r in &rows {
                out.insert(
                    r.get(0),
                    KeyHistory {
                        attempt: u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                        state: r.try_get(2)?,
                        retry_at: r.try_get::<_, Option<StoredTime>>(3)?.map(|t| t.0),
                        updated_at: r.try_get::<_, StoredTime>(4)?.0,
                    },
                );
            }
            Ok(out)
        })
    }

    pub(super) fn begin(
        &self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[NewCall<'_>],
        deferred: &[Deferred],
    ) -> Result<Vec<usize>, LedgerError> {
        let t = now();
        let deferred = deferred.to_vec();
        let (run, tg, cp, rd) = (
            run_id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
        );
        let keys: Vec<String> = calls.iter().map(|c| c.key.to_owned()).collect();
        let nums: Vec<i32> = calls
            .iter()
            .map(|c| i32::try_from(c.attempt).unwrap_or(i32::MAX))
            .collect();
        let phones: Vec<String> = calls.iter().map(|c| c.phone.to_owned()).collect();
        let sources: Vec<String> = calls.iter().map(|c| c.source.to_owned()).collect();
        let rows: Vec<i64> = calls
            .iter()
            .map(|c| i64::try_from(c.row).unwrap_or(i64::MAX))
            .collect();
        let lists: Vec<Option<String>> = calls.iter().map(|c| c.list_values.to_stored()).collect();
        let languages: Vec<Option<String>> = calls
            .iter()
            .map(|c| c.language.map(str::to_owned))
            .collect();
        let recorded = self.run(move |c| {
            let mut tx = c.transaction()?;
            if !pg_live(&mut tx, &run)? {
                return Ok(Fenced::LeaseLost);
            }
            pg_write_deferred(&mut tx, &deferred, Some(run.as_str()))?;
            // Only calls whose claim this run holds (its lease, by the database's clock): a
            // claim another runner took over when this one's ran out is theirs to record.
            let got = tx.query(
                "INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at, list_values, language)
                 SELECT $1, $2, $3, u.key, u.attempt, u.phone, u.source, u.row, 'sending', $4, $5, $5, u.list_values, u.language
                 FROM unnest($6::text[], $7::int[], $8::text[], $9::text[], $10::int8[], $11::text[], $12::text[]) AS u(key, attempt, phone, source, row, list_values, language)
                 JOIN work w ON w.target = $1 AND w.key = u.key AND w.attempt = u.attempt
                   AND w.claimed_by = $4 AND w.lease_until >= now()
                 ORDER BY u.key, u.attempt
                 ON CONFLICT (target, key, attempt) DO UPDATE SET state = 'sending', run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at, list_values = EXCLUDED.list_values, language = EXCLUDED.language
                 WHERE calls.state = 'not_sent'
                 RETURNING key, attempt",
                &[
                    &tg, &cp, &rd, &run, &t, &keys, &nums, &phones, &sources, &rows, &lists,
                    &languages,
                ],
            )?;
            // Done: the claimed calls recorded now, or by another runner before.
            tx.execute(
                "UPDATE work SET done = true
                 FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
                 WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt
                   AND work.claimed_by = $4 AND EXISTS (
                     SELECT 1 FROM calls c WHERE c.target = work.target AND c.key = work.key
                       AND c.attempt = work.attempt AND c.state <> 'not_sent')",
                &[&tg, &keys, &nums, &run],
            )?;
            tx.commit()?;
            let got: HashSet<(String, i32)> = got.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(Fenced::Done(
                keys.iter()
                    .cloned()
                    .zip(nums.iter().copied())
                    .enumerate()
                    .filter(|(_, ka)| got.contains(ka))
                    .map(|(i, _)| i)
                    .collect(),
            ))
        })?;
        self.fenced(recorded)
    }

    /// A fenced write's result, or [`LedgerError::LeaseLost`].
    fn fenced<T>(&self, r: Fenced<T>) -> Result<T, LedgerError> {
        match r {
            Fenced::Done(t) => Ok(t),
            Fenced::LeaseLost => Err(LedgerError::LeaseLost {
                path: self.path.clone(),
            }),
        }
    }

    /// Settles attempts (and the deferred settles) of this connection's run; attempts moved to
    /// `not_sent` go back among the work to claim.
    pub(super) fn settle(
        &self,
        target: &str,
        attempts: &[(&str, u32)],
        state: CallState,
        batch_id: Option<&str>,
        message: Option<&str>,
        deferred: &[Deferred],
    ) -> Result<(), LedgerError> {
        let t = now();
        let d2 = deferred.to_vec();
        let run = self.run.clone();
        let (tg, att, b, m) = (
            target.to_owned(),
            owned(attempts),
            batch_id.map(ToOwned::to_owned),
            message.map(ToOwned::to_owned),
        );
        let settled = self.run(move |c| {
            let mut tx = c.transaction()?;
            if let Some(run) = run.as_deref()
                && !pg_live(&mut tx, run)?
            {
                return Ok(Fenced::LeaseLost);
            }
            pg_write_deferred(&mut tx, &d2, run.as_deref())?;
            pg_settle(
                &mut tx,
                &tg,
                &att,
                state,
                b.as_deref(),
                m.as_deref(),
                &t,
                run.as_deref(),
            )?;
            tx.commit()?;
            Ok(Fenced::Done(()))
        })?;
        self.fenced(settled)
    }

    pub(super) fn resolve(
        &self,
        target: &str,
        read: &Attempt,
        to: CallState,
        batch_id: Option<&str>,
        message: &str,
    ) -> Result<bool, LedgerError> {
        let t = now();
        let (tg, key, num, from, run, updated, b, m) = (
            target.to_owned(),
            read.key.clone(),
            i32::try_from(read.attempt).unwrap_or(i32::MAX),
            read.state,
            read.run_id.clone(),
            read.updated_at.to_string(),
            batch_id.map(ToOwned::to_owned),
            message.to_owned(),
        );
        self.run(move |c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE calls SET state = $5, batch_id = COALESCE($6, batch_id), message = $7, updated_at = $8
                 WHERE target = $1 AND key = $2 AND attempt = $3 AND state = $4 AND run_id = $9 AND updated_at = $10",
                &[&tg, &key, &num, &from.as_str(), &to.as_str(), &b, &m, &t, &run, &updated],
            )?;
            if n > 0 && to == CallState::NotSent {
                tx.execute(PG_REOPEN_SQL, &[&tg, &vec![key.clone()], &vec![num]])?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    pub(super) fn outcome(
        &self,
        target: &str,
        key: &str,
        attempt: u32,
        state: CallState,
        call_id: Option<&str>,
        duration: Option<Duration>,
        reply: Option<&str>,
        retry_at: Option<Timestamp>,
    ) -> Result<(), LedgerError> {
        let t = now();
        let duration = duration.map(|d| d.as_secs_f64());
        let (tg, k, num, cid, rep, ra) = (
            target.to_owned(),
            key.to_owned(),
            i32::try_from(attempt).unwrap_or(i32::MAX),
            call_id.map(ToOwned::to_owned),
            reply.map(ToOwned::to_owned),
            retry_at.map(|t| t.to_string()),
        );
        self.run(move |c| {
            c.execute(
                "UPDATE calls SET state = $4, call_id = COALESCE($5, call_id), duration = $6, reply = $7, retry_at = $8, updated_at = $9
                 WHERE target = $1 AND key = $2 AND attempt = $3
                   AND state IN ('sending', 'accepted', 'in_doubt', 'completed', 'outcome_unknown')",
                &[&tg, &k, &num, &state.as_str(), &cid, &duration, &rep, &ra, &t],
            )
        })?;
        Ok(())
    }

    pub(super) fn attempts(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<Vec<Attempt>, LedgerError> {
        self.select_attempts(
            "target = $1 AND campaign = $2 AND round = $3",
            target,
            campaign,
            round,
            None,
        )
    }

    /// `sending` calls of runs over or whose heartbeat stopped for longer than their lease
    /// (and, with `in_doubt`, the calls in doubt).
    pub(super) fn unresolved(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: &str,
        in_doubt: bool,
    ) -> Result<Vec<Attempt>, LedgerError> {
        let doubt = if in_doubt {
            "state = 'in_doubt'"
        } else {
            "false"
        };
        self.select_attempts(
            &format!("target = $1 AND campaign = $2 AND round = $3
             AND ({doubt} OR (state = 'sending' AND run_id IN (
                 SELECT id FROM runs WHERE id <> $4
                   AND (status <> 'running' OR heartbeat_at < now() - make_interval(secs => lease_secs)))))"),
            target,
            campaign,
            round,
            Some(run_id),
        )
    }

    fn select_attempts(
        &self,
        pg_where: &str,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: Option<&str>,
    ) -> Result<Vec<Attempt>, LedgerError> {
        let pg_sql =
            format!("SELECT {COLUMNS} FROM calls WHERE {pg_where} ORDER BY created_at, key");
        let (tg, cp, rd, run) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            run_id.map(ToOwned::to_owned),
        );
        self.run(move |c| {
            let rows = match &run {
                Some(run) => c.query(&pg_sql, &[&tg, &cp, &rd, run])?,
                None => c.query(&pg_sql, &[&tg, &cp, &rd])?,
            };
            rows.iter().map(row_to_attempt).collect()
        })
    }

    // Every state but `rejected` and `not_sent` may have reached the number: `completed`
    // and `outcome_unknown` calls count toward the cap.
    pub(super) fn recent_calls(
        &self,
        target: &str,
        phone: &str,
        since: Timestamp,
    ) -> Result<u64, LedgerError> {
        let (tg, ph, si) = (target.to_owned(), phone.to_owned(), since.to_string());
        self.run(move |c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM calls WHERE target = $1 AND phone = $2 AND created_at >= $3
                 AND state NOT IN ('rejected', 'not_sent')",
                &[&tg, &ph, &si],
            )?
            .get::<_, i64>(0)
            .unsigned_abs())
        })
    }

    pub(super) fn pause(&self, campaign: &str) -> Result<(), LedgerError> {
        let (cp, t) = (campaign.to_owned(), now());
        self.run(move |c| {
            c.execute(
                "INSERT INTO pauses (campaign, since) VALUES ($1, $2) ON CONFLICT (campaign) DO NOTHING",
                &[&cp, &t],
            )
        })?;
        Ok(())
    }

    pub(super) fn resume(&self, campaign: &str) -> Result<bool, LedgerError> {
        let cp = campaign.to_owned();
        let n = self.run(move |c| c.execute("DELETE FROM pauses WHERE campaign = $1", &[&cp]))?;
        Ok(n > 0)
    }

    pub(super) fn paused_since(&self, campaign: &str) -> Result<Option<Timestamp>, LedgerError> {
        let cp = campaign.to_owned();
        self.run(move |c| {
            c.query_opt("SELECT since FROM pauses WHERE campaign = $1", &[&cp])?
                .map(|r| r.try_get::<_, StoredTime>(0).map(|t| t.0))
                .transpose()
        })
    }

    /// (target, campaign, round, latest state, count) rows, ordered by campaign, round and
    /// target.
    pub(super) fn counts(&self, campaign: Option<&str>) -> Result<Vec<CountRow>, LedgerError> {
        let cp = campaign.map(ToOwned::to_owned);
        self.run(move |c| {
            c.query(
                "SELECT target, campaign, round, state, COUNT(*) FROM (
                    SELECT DISTINCT ON (target, key) target, campaign, round, state FROM calls
                    WHERE ($1::text IS NULL OR campaign = $1)
                    ORDER BY target, key, attempt DESC) latest
                 GROUP BY target, campaign, round, state ORDER BY campaign, round, target",
                &[&cp],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.try_get(3)?,
                    r.get::<_, i64>(4).unsigned_abs(),
                ))
            })
            .collect()
        })
    }

    /// Runs `f` over the callbacks' statements in one transaction (run again whole if the
    /// server aborts it for a deadlock with another receiver or a runner).
    pub(super) fn callbacks<R: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut PgCallbacks<'_, '_>) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, LedgerError> {
        self.run(move |c| {
            let mut tx = c.transaction()?;
            let out = f(&mut PgCallbacks(&mut tx))?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Runs `f` over the bindings' statements in one transaction (run again whole if the
    /// server aborts it for a deadlock).
    pub(super) fn workflows<R: Send + 'static>(
        &self,
        mut f: impl FnMut(&mut PgWorkflows<'_, '_>) -> Result<R, postgres::Error> + Send + 'static,
    ) -> Result<R, LedgerError> {
        self.run(move |c| {
            let mut tx = c.transaction()?;
            let out = f(&mut PgWorkflows(&mut tx))?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// The numbers whose reply opted them out.
    pub(super) fn reply_opt_outs(&self) -> Result<Vec<String>, LedgerError> {
        self.run(|c| {
            Ok(c.query("SELECT phone FROM reply_opt_outs", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    /// Records the reply options that opt a number out for campaign `name` (claimed).
    pub(super) fn set_opt_out_replies(&self, name: &str, json: &str) -> Result<(), LedgerError> {
        let (name, json) = (name.to_owned(), json.to_owned());
        self.run(move |c| {
            c.execute(
                "UPDATE campaigns SET opt_out_replies = $2 WHERE name = $1",
                &[&name, &json],
            )
            .map(drop)
        })
    }

    // Calls still waiting for an outcome keep their number (a conversation's outcome is
    // matched by it); `completed` and `outcome_unknown` are final, and purged like the rest.
    // The call's `language` is kept: the campaign's grouping (a key of its `languages:`, as
    // the voice is), not what the patient's row said.
    pub(super) fn purge(&self, before: Timestamp) -> Result<u64, LedgerError> {
        let b = before.to_string();
        self.run(move |c| {
            let n = c.execute(
                "UPDATE calls SET phone = NULL, source = NULL, row = NULL, reply = NULL, message = NULL, list_values = NULL
                 WHERE updated_at < $1 AND phone IS NOT NULL AND state NOT IN ('sending', 'accepted', 'in_doubt')",
                &[&b],
            )?;
            c.execute("DELETE FROM kept_callbacks WHERE received_at < $1", &[&b])?;
            // Old row versions still hold the numbers until vacuumed.
            c.batch_execute("VACUUM calls")?;
            Ok(n)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use postgres::{Client, NoTls};

    use crate::ledger::{BadTime, CallState, Ledger, LedgerError, NewCall};

    /// A database created for one test on the server of `OUTREACH_TEST_DATABASE_URL` (a
    /// superuser URL), dropped with it; `None` without a server. (Also the property test of
    /// the exactly-once rule's, in `apply::reconcile`.)
    pub(crate) struct TestDb {
        admin: String,
        name: String,
        pub(crate) url: String,
    }

    impl TestDb {
        pub(crate) fn create(tag: &str) -> Option<TestDb> {
            let Some(admin) = std::env::var("OUTREACH_TEST_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
            else {
                assert!(
                    std::env::var_os("OUTREACH_TEST_REQUIRE_POSTGRES").is_none(),
                    "OUTREACH_TEST_REQUIRE_POSTGRES is set but OUTREACH_TEST_DATABASE_URL is not"
                );
                #[expect(clippy::print_stderr, reason = "tells a developer what was skipped")]
                {
                    eprintln!(
                        "skipped on Postgres: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
                    );
                }
                return None;
            };
            let name = format!("outreach_u_{tag}_{}", std::process::id());
            let mut c = Client::connect(&admin, NoTls).expect("connect");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create the test database");
            let (base, query) = admin.split_once('?').unwrap_or((admin.as_str(), ""));
            let prefix = base.rfind('/').map_or(base, |i| &base[..i]);
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            };
            let url = format!("{prefix}/{name}{query}");
            Some(TestDb { admin, name, url })
        }
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
                let _ = c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ));
            }
        }
    }

    /// The test database migrated up to version `upto` only, as an older build left it: for
    /// the upgrade tests of the other modules.
    pub(crate) fn migrated_to(db: &TestDb, upto: i32) -> Client {
        let mut c = Client::connect(&db.url, NoTls).unwrap();
        assert_eq!(
            super::migrations::migrate_to(&mut c, upto).unwrap().too_new,
            None
        );
        c
    }

    /// The test database's ledger with one call, `k1`, recorded `sending` by a run.
    fn with_one_call(db: &TestDb) -> Ledger {
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        claimed(&l, &run, &["k1"]);
        l.begin(&run, "mock", "c", "r", &[new_call("k1")]).unwrap();
        l
    }

    /// The first attempt of `key`, to write ahead.
    fn new_call(key: &str) -> NewCall<'_> {
        NewCall {
            key,
            attempt: 1,
            phone: "+2348031234567",
            source: "p.csv",
            row: 2,
            list_values: &crate::ledger::NO_LIST_VALUES,
            language: None,
        }
    }

    /// `keys` (first attempts) added to the shared work and claimed by `run`, as a runner
    /// does before it writes calls ahead; returns what the run got.
    fn claimed(l: &Ledger, run: &str, keys: &[&str]) -> Vec<String> {
        let pg = l.shared_only("a test").unwrap();
        let work: Vec<(&str, u32, &str)> = keys.iter().map(|k| (*k, 1, "Africa/Lagos")).collect();
        pg.enqueue("mock", "c", "r", &work).unwrap();
        pg.claim(run, "mock", "c", "r", "Africa/Lagos", keys.len())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// A run's lease run out, as the database's clock sees it: its heartbeat and the claims
    /// it holds an hour old (no sleep: the test does not depend on timing).
    fn lease_runs_out(db: &TestDb, run: &str) {
        Client::connect(&db.url, NoTls)
            .unwrap()
            .execute(
                "WITH r AS (UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1)
                 UPDATE work SET lease_until = now() - interval '1 hour' WHERE claimed_by = $1",
                &[&run],
            )
            .unwrap();
    }

    fn state_and_run(db: &TestDb, key: &str) -> (String, String) {
        let r = Client::connect(&db.url, NoTls)
            .unwrap()
            .query_one("SELECT state, run_id FROM calls WHERE key = $1", &[&key])
            .unwrap();
        (r.get(0), r.get(1))
    }

    // Issue 14, class 11: a runner stalled past its lease could still record and send. The
    // ledger itself refuses every write of a run whose lease ran out (by the database's
    // clock), whatever the runner believes: its write-ahead, its settles (the calls stay
    // `sending` for the others to look up), its claims, its check before a request; and its
    // heartbeat does not bring the lease back.
    #[test]
    fn class_11_a_run_past_its_lease_can_neither_write_ahead_settle_claim_nor_send() {
        let Some(db) = TestDb::create("fence_lapsed") else {
            return;
        };
        let lease = std::time::Duration::from_secs(30);
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let run = l.start_run("mock", "c", "r", lease).unwrap();
        assert_eq!(claimed(&l, &run, &["k1", "k2", "k3"]), ["k1", "k2", "k3"]);
        assert_eq!(
            l.begin(&run, "mock", "c", "r", &[new_call("k1")]).unwrap(),
            [0]
        );
        // An answer accepted, its settle deferred to the next write.
        l.accept_later("mock", &[("k1", 1)], "b1");
        lease_runs_out(&db, &run);

        let lost = |r: Result<Vec<usize>, LedgerError>| {
            assert!(matches!(r, Err(LedgerError::LeaseLost { .. })), "{r:?}");
        };
        lost(l.begin(&run, "mock", "c", "r", &[new_call("k2")]));
        lost(
            l.settle("mock", &[("k1", 1)], CallState::Accepted, Some("b1"), None)
                .map(|()| Vec::new()),
        );
        lost(
            l.shared_only("a test")
                .unwrap()
                .still_mine(&run, "mock", &[("k1", 1)]),
        );
        lost(
            l.shared_only("a test")
                .unwrap()
                .claim(&run, "mock", "c", "r", "Africa/Lagos", 10)
                .map(|_| Vec::new()),
        );
        lost(l.heartbeat(&run, 3).map(|()| Vec::new()));
        // Nothing was recorded: k1 is still this run's write-ahead (the deferred accept was
        // dropped, not committed), and k2 has no record.
        assert_eq!(
            state_and_run(&db, "k1"),
            ("sending".to_owned(), run.clone())
        );
        let h = l.history("mock", "c", "r").unwrap();
        assert_eq!(h.len(), 1, "{:?}", h.keys());
        assert!(
            l.flush().is_ok(),
            "the refused accept is not kept to be refused again"
        );

        // Another runner takes over: it claims the lapsed run's work, and it sees k1 as left
        // `sending` by a stopped run, to look up on the server and settle.
        let mut other = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let next = other.start_run("mock", "c", "r", lease).unwrap();
        let pg = other.shared_only("a test").unwrap();
        assert_eq!(
            pg.claim(&next, "mock", "c", "r", "Africa/Lagos", 10)
                .unwrap(),
            [("k2".to_owned(), 1), ("k3".to_owned(), 1)]
        );
        let left = other.unresolved("mock", "c", "r", &next, false).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].key, "k1");
        assert!(
            other
                .resolve("mock", &left[0], CallState::Accepted, Some("b1"), "found")
                .unwrap()
        );
        assert_eq!(
            other
                .begin(&next, "mock", "c", "r", &[new_call("k2"), new_call("k3")])
                .unwrap(),
            [0, 1]
        );
        // The stalled run, back, still cannot record or send.
        lost(l.begin(&run, "mock", "c", "r", &[new_call("k3")]));
        lost(
            l.shared_only("a test")
                .unwrap()
                .still_mine(&run, "mock", &[("k2", 1)]),
        );
        assert_eq!(
            state_and_run(&db, "k2"),
            ("sending".to_owned(), next.clone())
        );
        assert_eq!(state_and_run(&db, "k1").0, "accepted");
        // The live run goes on.
        other.heartbeat(&next, 2).unwrap();
        other
            .settle(
                "mock",
                &[("k2", 1), ("k3", 1)],
                CallState::Accepted,
                Some("b2"),
                None,
            )
            .unwrap();
    }

    // Class 11: a claim another run took over (this run's claim ran out while its heartbeat
    // still held, or it lagged) is not this run's to write ahead, and a call another run
    // took over is not its to send or settle; the check before the request restarts the
    // in-doubt grace, so a runner that read the call before it cannot resolve it as never
    // placed.
    #[test]
    fn class_11_a_call_taken_over_by_another_run_cannot_be_written_ahead_sent_or_settled() {
        let Some(db) = TestDb::create("fence_taken") else {
            return;
        };
        let lease = std::time::Duration::from_secs(30);
        let mut a = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let mut b = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let run_a = a.start_run("mock", "c", "r", lease).unwrap();
        let run_b = b.start_run("mock", "c", "r", lease).unwrap();
        assert_eq!(claimed(&a, &run_a, &["k1", "k2"]), ["k1", "k2"]);
        // Only k1's claim runs out; run a's heartbeat still holds.
        Client::connect(&db.url, NoTls)
            .unwrap()
            .batch_execute(
                "UPDATE work SET lease_until = now() - interval '1 hour' WHERE key = 'k1'",
            )
            .unwrap();
        let pg_b = b.shared_only("a test").unwrap();
        assert_eq!(
            pg_b.claim(&run_b, "mock", "c", "r", "Africa/Lagos", 10)
                .unwrap(),
            [("k1".to_owned(), 1)]
        );
        // a's write-ahead records k2 alone: k1's claim is b's.
        assert_eq!(
            a.begin(&run_a, "mock", "c", "r", &[new_call("k1"), new_call("k2")])
                .unwrap(),
            [1]
        );
        assert_eq!(
            b.begin(&run_b, "mock", "c", "r", &[new_call("k1")])
                .unwrap(),
            [0]
        );
        assert_eq!(
            a.shared_only("a test")
                .unwrap()
                .still_mine(&run_a, "mock", &[("k1", 1), ("k2", 1)])
                .unwrap(),
            [1]
        );
        // a's settle of k1 moves nothing: it is b's write-ahead.
        a.settle("mock", &[("k1", 1)], CallState::Rejected, None, Some("422"))
            .unwrap();
        assert_eq!(
            state_and_run(&db, "k1"),
            ("sending".to_owned(), run_b.clone())
        );

        // b reads k2 as a stopped run's (as it would once a's heartbeat is old); a's check
        // before the request then touches k2, and b's resolve of what it read is refused.
        let read = {
            let mut all = b.attempts("mock", "c", "r", &[CallState::Sending]).unwrap();
            all.retain(|x| x.key == "k2");
            all.pop().unwrap()
        };
        assert_eq!(
            a.shared_only("a test")
                .unwrap()
                .still_mine(&run_a, "mock", &[("k2", 1)])
                .unwrap(),
            [0]
        );
        assert!(
            !b.resolve("mock", &read, CallState::NotSent, None, "never placed")
                .unwrap(),
            "a call checked right before its request is not resolved from an older read"
        );
        assert_eq!(
            state_and_run(&db, "k2"),
            ("sending".to_owned(), run_a.clone())
        );
    }

    // The migration of issue 15 (case 7): a version 1 ledger with calls is upgraded in
    // place, its calls kept, and campaign files are recorded from then on.
    #[test]
    fn a_version_3_ledger_is_upgraded_and_its_calls_take_callbacks() {
        let Some(db) = TestDb::create("upgrade_3") else {
            return;
        };
        let mut c = Client::connect(&db.url, NoTls).unwrap();
        assert_eq!(
            super::migrations::migrate_to(&mut c, 3).unwrap().too_new,
            None
        );
        c.batch_execute(
            "INSERT INTO runs (id, target, campaign, round, started_at, status)
                VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
             INSERT INTO campaigns (name, path, since) VALUES ('c', 'c.yaml', '2026-11-01T09:00:00Z');
             INSERT INTO calls (target, campaign, round, key, attempt, phone, state, batch_id, run_id, created_at, updated_at)
                VALUES ('mock', 'c', 'r', 'k1', 1, '+2348031234567', 'accepted', 'b1', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z');",
        )
        .unwrap();
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let version: i32 = c
            .query_one("SELECT version FROM outreach_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!((version, super::PG_SCHEMA_VERSION), (7, 7));
        let replies: String = c
            .query_one(
                "SELECT opt_out_replies FROM campaigns WHERE name = 'c'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(replies, "[]");
        let recorded = l
            .record_callbacks(&[crate::ledger::callbacks::tests::k1_answered_in_b1()])
            .unwrap();
        assert_eq!(recorded[0].settled, 1);
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::Answered
        );
    }

    fn clinic_and_ward() -> crate::ledger::ListValues {
        let columns = ["clinic".to_owned(), "ward".to_owned()];
        crate::ledger::ListValues::from_row(&columns, |c| Some(format!("{c} 1")))
    }

    // Issue 19: a version 5 ledger (no list values) keeps its calls, which read as having
    // none, and takes calls with their list values, read back in the campaign's order; purge
    // removes them with the number.
    #[test]
    fn a_version_5_ledger_is_upgraded_and_keeps_list_values_until_purged() {
        let Some(db) = TestDb::create("upgrade_5") else {
            return;
        };
        let mut c = migrated_to(&db, 5);
        c.batch_execute(
            "INSERT INTO runs (id, target, campaign, round, started_at, status)
                VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
             INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at)
                VALUES ('mock', 'c', 'r', 'k0', 1, '+2348031234560', 'p.csv', 2, 'answered', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z');",
        )
        .unwrap();
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let version: i32 = c
            .query_one("SELECT version FROM outreach_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!((version, super::PG_SCHEMA_VERSION), (7, 7));
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        claimed(&l, &run, &["k1"]);
        let values = clinic_and_ward();
        let with_values = NewCall {
            list_values: &values,
            ..new_call("k1")
        };
        assert_eq!(
            l.begin(&run, "mock", "c", "r", &[with_values]).unwrap(),
            [0]
        );
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        let old = a.iter().find(|a| a.key == "k0").unwrap();
        assert_eq!(
            (old.state, old.list_values.is_empty()),
            (CallState::Answered, true)
        );
        let new = a.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(
            new.list_values.iter().collect::<Vec<_>>(),
            [("clinic", "clinic 1"), ("ward", "ward 1")]
        );
        l.outcome("mock", "k1", 1, CallState::NoAnswer, None, None, None, None)
            .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z".parse().unwrap()).unwrap(), 2);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        let k1 = a.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(
            (k1.phone.as_deref(), k1.list_values.is_empty()),
            (None, true)
        );
        let stored: Option<String> = c
            .query_one("SELECT list_values FROM calls WHERE key = 'k1'", &[])
            .unwrap()
            .get(0);
        assert_eq!(stored, None);
    }

    // Issue 20: a version 6 ledger (no languages) keeps its calls and their list values,
    // which read as placed in no language, and takes calls with their language; purge keeps
    // the language (the campaign's grouping) while it removes the number; a stored language
    // that is not a tag (a hand edit) fails the read without being quoted.
    #[test]
    fn a_version_6_ledger_is_upgraded_and_keeps_languages_through_purge() {
        let Some(db) = TestDb::create("upgrade_6") else {
            return;
        };
        let mut c = migrated_to(&db, 6);
        c.batch_execute(
            r#"INSERT INTO runs (id, target, campaign, round, started_at, status)
                VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
             INSERT INTO calls (target, campaign, round, key, attempt, phone, source, row, state, run_id, created_at, updated_at, list_values)
                VALUES ('mock', 'c', 'r', 'k0', 1, '+2348031234560', 'p.csv', 2, 'answered', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z', '{"clinic":"clinic 1"}');"#,
        )
        .unwrap();
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let version: i32 = c
            .query_one("SELECT version FROM outreach_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!((version, super::PG_SCHEMA_VERSION), (7, 7));
        let run = l
            .start_run("mock", "c", "r", std::time::Duration::from_secs(30))
            .unwrap();
        claimed(&l, &run, &["k1", "k2"]);
        let calls = [
            NewCall {
                language: Some("ha"),
                ..new_call("k1")
            },
            new_call("k2"),
        ];
        assert_eq!(l.begin(&run, "mock", "c", "r", &calls).unwrap(), [0, 1]);
        let a = l.attempts("mock", "c", "r", &[]).unwrap();
        let by_key = |k: &str| a.iter().find(|a| a.key == k).unwrap().clone();
        let old = by_key("k0");
        assert_eq!(
            (old.state, old.list_values.get("clinic"), old.language),
            (CallState::Answered, Some("clinic 1"), None)
        );
        assert_eq!(by_key("k1").language.as_deref(), Some("ha"));
        assert_eq!(by_key("k2").language, None);
        l.outcome("mock", "k1", 1, CallState::NoAnswer, None, None, None, None)
            .unwrap();
        assert_eq!(l.purge("9999-01-01T00:00:00Z".parse().unwrap()).unwrap(), 2);
        let k1 = l
            .attempts("mock", "c", "r", &[])
            .unwrap()
            .into_iter()
            .find(|a| a.key == "k1")
            .unwrap();
        assert_eq!(
            (k1.phone.as_deref(), k1.language.as_deref()),
            (None, Some("ha"))
        );
        c.execute(
            "UPDATE calls SET language = 'yo<script>+2348031234567' WHERE key = 'k1'",
            &[],
        )
        .unwrap();
        let said = l.attempts("mock", "c", "r", &[]).unwrap_err().to_string();
        assert!(said.contains("not a language tag"), "{said}");
        assert!(
            !said.contains("script") && !said.contains("234803"),
            "{said}"
        );
    }

    #[test]
    fn a_version_1_ledger_is_upgraded_keeping_its_calls() {
        let Some(db) = TestDb::create("upgrade_1") else {
            return;
        };
        let mut c = Client::connect(&db.url, NoTls).unwrap();
        assert_eq!(
            super::migrations::migrate_to(&mut c, 1).unwrap().too_new,
            None
        );
        c.batch_execute(
            "INSERT INTO runs (id, target, campaign, round, started_at, status)
                VALUES ('r1', 'mock', 'c', 'r', '2026-11-01T09:00:00Z', 'done');
             INSERT INTO calls (target, campaign, round, key, attempt, phone, state, run_id, created_at, updated_at)
                VALUES ('mock', 'c', 'r', 'k1', 1, '+2348031234567', 'accepted', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z');",
        )
        .unwrap();
        let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let version: i32 = c
            .query_one("SELECT version FROM outreach_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!(version, super::PG_SCHEMA_VERSION);
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::Accepted
        );
        l.claim_campaign("c", "campaigns/c.yaml", &[]).unwrap();
        l.claim_campaign("c", "campaigns/c.yaml", &[]).unwrap();
        assert!(matches!(
            l.claim_campaign("c", "other/c.yaml", &[]),
            Err(LedgerError::CampaignElsewhere { .. })
        ));
        l.claim_campaign("c", "other/c.yaml", &["campaigns/c.yaml".to_owned()])
            .unwrap();
        l.claim_campaign("c", "other/c.yaml", &[]).unwrap();
    }

    // Issue 14, class 4, and the one migration of this schema version: a version 2 ledger
    // whose calls, shared work and request budgets were recorded under spellings of one
    // server finds them all under its normal form. A call recorded under two keeps every
    // attempt (the answered one deciding) and its work; work never written ahead under the
    // other spelling is dropped (the next run adds it again if due); two budgets that become
    // one keep the later slot.
    #[test]
    fn a_version_2_ledger_is_upgraded_with_its_targets_in_their_normal_form() {
        const NORMAL: &str = "https://api.example.org";
        const SPELT: &str = "HTTPS://API.Example.org:443/";
        let Some(db) = TestDb::create("upgrade_2") else {
            return;
        };
        let mut c = Client::connect(&db.url, NoTls).unwrap();
        assert_eq!(
            super::migrations::migrate_to(&mut c, 2).unwrap().too_new,
            None
        );
        c.batch_execute(&format!(
            "INSERT INTO runs (id, target, campaign, round, started_at, status) VALUES
                ('r1', '{SPELT}', 'c', 'r', '2026-11-02T09:00:00Z', 'done'),
                ('r2', '{NORMAL}', 'c', 'r', '2026-11-01T09:00:00Z', 'done'),
                ('r3', 'https://user:s3cret@api.example.org', 'c', 'r', '2026-11-03T09:00:00Z', 'done');
             INSERT INTO calls (target, campaign, round, key, attempt, phone, state, run_id, created_at, updated_at) VALUES
                ('{NORMAL}', 'c', 'r', 'k2', 1, '+2348031234567', 'answered', 'r2', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z'),
                ('{SPELT}', 'c', 'r', 'k1', 1, '+2348031234568', 'accepted', 'r1', '2026-11-02T09:00:00Z', '2026-11-02T09:00:00Z'),
                ('{SPELT}', 'c', 'r', 'k2', 1, '+2348031234567', 'no_answer', 'r1', '2026-11-02T09:00:00Z', '2026-11-02T09:00:00Z'),
                ('https://user:s3cret@api.example.org', 'c', 'r', 'k4', 1, '+2348031234569', 'sending', 'r3', '2026-11-03T09:00:00Z', '2026-11-03T09:00:00Z');
             INSERT INTO work (target, campaign, round, key, attempt, timezone, seq, done) VALUES
                ('{NORMAL}', 'c', 'r', 'k2', 1, 'Africa/Lagos', 0, true),
                ('{NORMAL}', 'c', 'r', 'k1', 1, 'Africa/Lagos', 1, false),
                ('{SPELT}', 'c', 'r', 'k1', 1, 'Africa/Lagos', 0, true),
                ('{SPELT}', 'c', 'r', 'k2', 1, 'Africa/Lagos', 1, true),
                ('{SPELT}', 'c', 'r', 'k3', 1, 'Africa/Lagos', 2, false);
             INSERT INTO rate_budget (scope, tat) VALUES
                ('{NORMAL}' || chr(31) || 'campaign:c', '2026-11-01T09:00:00Z'),
                ('{SPELT}' || chr(31) || 'campaign:c', '2026-11-02T09:00:00Z'),
                ('HTTPS://API.EXAMPLE.ORG' || chr(31) || 'key:abc', '2026-11-03T09:00:00Z');"
        ))
        .unwrap();
        let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let version: i32 = c
            .query_one("SELECT version FROM outreach_schema", &[])
            .unwrap()
            .get(0);
        assert_eq!(version, super::PG_SCHEMA_VERSION);
        let t = l.targets_rewritten().unwrap();
        // k1 (under both in the work) and k2 (both in the calls).
        assert_eq!(t.merged_keys, 2, "{t:?}");
        assert_eq!(
            t.renamed,
            [
                ("HTTPS://API.EXAMPLE.ORG".into(), NORMAL.into(), 0),
                (SPELT.into(), NORMAL.into(), 2),
                ("https://api.example.org".into(), NORMAL.into(), 1),
            ]
        );
        assert!(t.kept.is_empty());
        let h = l.history(NORMAL, "c", "r").unwrap();
        assert_eq!((h["k1"].attempt, h["k1"].state), (1, CallState::Accepted));
        assert_eq!((h["k2"].attempt, h["k2"].state), (2, CallState::Answered));
        assert_eq!(h["k4"].state, CallState::Sending);
        assert!(l.history(SPELT, "c", "r").unwrap().is_empty());
        let rows = |c: &mut Client, sql: &str| -> Vec<String> {
            c.query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect()
        };
        assert_eq!(
            rows(
                &mut c,
                "SELECT key || '/' || attempt || '/' || done FROM work WHERE target = 'https://api.example.org' ORDER BY key, attempt"
            ),
            // k1's work is its written-ahead attempt's (the other spelling's open work for
            // it is gone); k2's two attempts keep theirs; k3 is renamed.
            ["k1/1/true", "k2/1/true", "k2/2/true", "k3/1/false"]
        );
        assert_eq!(
            rows(
                &mut c,
                "SELECT DISTINCT target FROM (SELECT target FROM calls UNION SELECT target FROM runs UNION SELECT target FROM work) t"
            ),
            [NORMAL]
        );
        assert_eq!(
            rows(
                &mut c,
                "SELECT replace(scope, chr(31), '|') || ' ' || to_char(tat AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM rate_budget ORDER BY scope"
            ),
            [
                "https://api.example.org|campaign:c 2026-11-02",
                "https://api.example.org|key:abc 2026-11-03"
            ]
        );
        drop(l);
        // Opened again, nothing is migrated.
        assert!(
            Ledger::open(std::path::Path::new(&db.url))
                .unwrap()
                .targets_rewritten()
                .is_none()
        );
    }

    // Regression: an unknown state used to be read as `in_doubt` (or counted as one).
    #[test]
    fn an_unknown_state_is_an_error_naming_it() {
        let Some(db) = TestDb::create("unknown_state") else {
            return;
        };
        let l = with_one_call(&db);
        assert_eq!(
            l.history("mock", "c", "r").unwrap()["k1"].state,
            CallState::Sending
        );
        Client::connect(&db.url, NoTls)
            .unwrap()
            .batch_execute("UPDATE calls SET state = 'on_hold' WHERE key = 'k1'")
            .unwrap();
        let unknown = |r: Result<(), LedgerError>| match r {
            Err(LedgerError::UnknownState { state, .. }) => state,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            unknown(l.attempts("mock", "c", "r", &[]).map(drop)),
            "on_hold"
        );
        assert_eq!(unknown(l.history("mock", "c", "r").map(drop)), "on_hold");
        assert_eq!(unknown(l.counts(None).map(drop)), "on_hold");
    }

    #[test]
    fn a_postgres_ledger_is_the_shared_store() {
        let Some(db) = TestDb::create("shared") else {
            return;
        };
        let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let pg = l.shared_only("a shared request budget").unwrap();
        assert!(l.is_shared());
        let scopes = ["mock\u{1f}campaign:c".to_owned()];
        let period = std::time::Duration::from_secs(60);
        assert!(pg.rate_slot(&scopes, period).unwrap() < period);
        // The next slot is a period after the first: about a minute away.
        let wait = pg.rate_slot(&scopes, period).unwrap();
        assert!(wait > std::time::Duration::from_secs(50), "{wait:?}");
    }

    // Typed times are parsed where they are read: a row whose time is not one is an error.
    #[test]
    fn a_time_that_is_not_one_is_an_error() {
        let Some(db) = TestDb::create("bad_time") else {
            return;
        };
        let l = with_one_call(&db);
        assert!(l.attempts("mock", "c", "r", &[]).is_ok());
        Client::connect(&db.url, NoTls)
            .unwrap()
            .batch_execute("UPDATE calls SET updated_at = 'soon', retry_at = 'later'")
            .unwrap();
        match l.attempts("mock", "c", "r", &[]) {
            Err(LedgerError::BadTime { error, .. }) => {
                assert_eq!(error, BadTime::Timestamp("soon".into()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            l.history("mock", "c", "r"),
            Err(LedgerError::BadTime { .. })
        ));
    }

    /// A statement that fails with `code` (a real server error) the first `fails` times it
    /// runs, counting its runs in `runs`.
    fn failing(
        code: &'static str,
        fails: u32,
        runs: std::sync::Arc<std::sync::atomic::AtomicU32>,
    ) -> impl FnMut(&mut Client) -> Result<i32, postgres::Error> + Send + 'static {
        move |c| {
            let n = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO rate_budget (scope, tat) VALUES ($1, now())",
                &[&format!("s{n}")],
            )?;
            if n <= fails {
                tx.batch_execute(&format!(
                    "DO $$ BEGIN RAISE EXCEPTION 'aborted on purpose' USING ERRCODE = '{code}'; END $$"
                ))?;
            }
            tx.commit()?;
            Ok(i32::try_from(n).unwrap_or(0))
        }
    }

    // A deadlock between runners (CI saw one: a runner adding its calls to the shared work
    // against another renewing its leases) aborts one side's transaction, which had no
    // effect: it is run again, and the run goes on.
    #[test]
    fn a_transaction_aborted_for_a_deadlock_or_a_serialization_failure_is_run_again() {
        let Some(db) = TestDb::create("retry") else {
            return;
        };
        let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let pg = l.shared_only("a test").unwrap();
        let scopes = |c: &mut Client| -> Vec<String> {
            c.query("SELECT scope FROM rate_budget ORDER BY scope", &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        };
        let mut other = Client::connect(&db.url, NoTls).unwrap();
        for (code, fails) in [("40P01", 2), ("40001", 1)] {
            other.batch_execute("DELETE FROM rate_budget").unwrap();
            let runs = std::sync::Arc::default();
            let ran = pg
                .conn
                .run(failing(code, fails, std::sync::Arc::clone(&runs)));
            assert_eq!(ran.unwrap(), i32::try_from(fails + 1).unwrap(), "{code}");
            // Only the run that committed left its row: the aborted ones had no effect.
            assert_eq!(scopes(&mut other), [format!("s{}", fails + 1)], "{code}");
        }
        // A deadlock that does not clear is the server's error after a few tries.
        other.batch_execute("DELETE FROM rate_budget").unwrap();
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        match pg
            .conn
            .run(failing("40P01", u32::MAX, std::sync::Arc::clone(&runs)))
        {
            Err(super::PgError::Db(message)) => assert_eq!(message, "aborted on purpose"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            runs.load(std::sync::atomic::Ordering::SeqCst),
            super::connection::TRIES
        );
        // Any other error is not run again.
        let runs = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        assert!(
            pg.conn
                .run(failing("23505", 1, std::sync::Arc::clone(&runs)))
                .is_err()
        );
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(scopes(&mut other).is_empty());
    }

    // The cause of that deadlock: adding calls already in the shared work locked every one
    // of them. Another runner holding one of their rows (as it does renewing its lease) no
    // longer holds up a runner adding them.
    #[test]
    fn adding_calls_already_there_waits_on_no_other_runners_rows() {
        let Some(db) = TestDb::create("enqueue_locks") else {
            return;
        };
        let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        let pg = l.shared_only("a test").unwrap();
        let calls = [("k1", 1, "Africa/Lagos"), ("k2", 1, "Africa/Lagos")];
        pg.enqueue("mock", "c", "r", &calls).unwrap();
        let (locked, locked_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
        let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holder = {
            let (url, released) = (db.url.clone(), std::sync::Arc::clone(&released));
            std::thread::spawn(move || {
                let mut c = Client::connect(&url, NoTls).unwrap();
                let mut tx = c.transaction().unwrap();
                tx.execute("SELECT 1 FROM work WHERE key = 'k2' FOR UPDATE", &[])
                    .unwrap();
                locked.send(()).unwrap();
                // Held until told, or for a minute if the adding never comes back.
                let _ = stop_rx.recv_timeout(std::time::Duration::from_secs(60));
                released.store(true, std::sync::atomic::Ordering::SeqCst);
                tx.rollback().unwrap();
            })
        };
        locked_rx.recv().unwrap();
        pg.enqueue("mock", "c", "r", &calls).unwrap();
        let waited = released.load(std::sync::atomic::Ordering::SeqCst);
        stop.send(()).unwrap();
        holder.join().unwrap();
        assert!(
            !waited,
            "adding the calls waited for another runner's row lock"
        );
        let n: i64 = Client::connect(&db.url, NoTls)
            .unwrap()
            .query_one("SELECT COUNT(*) FROM work WHERE NOT done", &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 2);
    }
}
