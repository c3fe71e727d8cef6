//! The work shared by the runners of a Postgres ledger: due calls enqueued once, claimed in
//! leased batches, checked before they are sent, and the request budget they draw on. SQLite
//! has none of it: its single run holds the ledger's lock and paces itself.

use std::collections::HashSet;
use std::time::Duration;

use super::{Fenced, LedgerError, Postgres, StoredSeconds, owned, pg_keys, pg_live};
use crate::ledger::OpenWork;

impl Postgres {
    /// Calls being sent by other live runners (Postgres): their answers are still to come.
    pub fn in_flight_elsewhere(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        run_id: &str,
    ) -> Result<u64, LedgerError> {
        let (tg, cp, rd, run) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            run_id.to_owned(),
        );
        self.run(move |c| {
            Ok(c.query_one(
                "SELECT COUNT(*) FROM calls WHERE target = $1 AND campaign = $2 AND round = $3
                   AND state = 'sending' AND run_id IN (
                     SELECT id FROM runs WHERE id <> $4 AND status = 'running'
                       AND heartbeat_at >= now() - make_interval(secs => lease_secs))",
                &[&tg, &cp, &rd, &run],
            )?
            .get::<_, i64>(0)
            .unsigned_abs())
        })
    }

    /// Adds due calls to the shared work (Postgres), once however many runners add them.
    /// `calls` are (key, attempt, time zone), in plan order. A call marked done but never
    /// recorded (held back by the frequency cap or an opt-out, or only dry-run) is open again:
    /// it is due again.
    pub fn enqueue(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        calls: &[(&str, u32, &str)],
    ) -> Result<(), LedgerError> {
        for (n, chunk) in calls.chunks(10_000).enumerate() {
            let base = i64::try_from(n * 10_000).unwrap_or(i64::MAX);
            let keys: Vec<String> = chunk.iter().map(|c| c.0.to_owned()).collect();
            let nums: Vec<i32> = chunk
                .iter()
                .map(|c| i32::try_from(c.1).unwrap_or(i32::MAX))
                .collect();
            let zones: Vec<String> = chunk.iter().map(|c| c.2.to_owned()).collect();
            let seqs: Vec<i64> = (0..chunk.len())
                .map(|i| base + i64::try_from(i).unwrap_or(0))
                .collect();
            let (tg, cp, rd) = (target.to_owned(), campaign.to_owned(), round.to_owned());
            self.run(move |c| {
                // New calls are inserted in key order and existing ones left alone (not
                // locked, as `ON CONFLICT DO UPDATE` would lock every one of them for the
                // whole statement, across the leases other runners are renewing): runners
                // adding the same calls at once wait on each other in one order, never in a
                // circle. Only the calls to open again are updated.
                let mut tx = c.transaction()?;
                tx.execute(
                    "INSERT INTO work (target, campaign, round, key, attempt, timezone, seq)
                     SELECT $1, $2, $3, u.key, u.attempt, u.tz, u.seq
                     FROM unnest($4::text[], $5::int[], $6::text[], $7::int8[]) AS u(key, attempt, tz, seq)
                     ORDER BY u.key, u.attempt
                     ON CONFLICT (target, key, attempt) DO NOTHING",
                    &[&tg, &cp, &rd, &keys, &nums, &zones, &seqs],
                )?;
                tx.execute(
                    "UPDATE work SET done = false, claimed_by = NULL, lease_until = NULL
                     FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
                     WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt
                       AND work.done AND NOT EXISTS (
                         SELECT 1 FROM calls c WHERE c.target = work.target AND c.key = work.key
                           AND c.attempt = work.attempt AND c.state <> 'not_sent')",
                    &[&tg, &keys, &nums],
                )?;
                tx.commit()
            })?;
        }
        Ok(())
    }

    /// Claims up to `n` unclaimed due calls of one time zone for a run (Postgres), leased for
    /// its lease: `FOR UPDATE SKIP LOCKED`, so runners never wait on each other's claims.
    pub fn claim(
        &self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
        timezone: &str,
        n: usize,
    ) -> Result<Vec<(String, u32)>, LedgerError> {
        let (run, tg, cp, rd, tz) = (
            run_id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            timezone.to_owned(),
        );
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let claimed = self.run(move |c| {
            // A run past its lease claims nothing (see `pg_live`).
            let mut tx = c.transaction()?;
            if !pg_live(&mut tx, &run)? {
                return Ok(Fenced::LeaseLost);
            }
            let rows = tx.query(
                "WITH picked AS (
                    SELECT target, key, attempt FROM work
                    WHERE target = $1 AND campaign = $2 AND round = $3 AND timezone = $4 AND NOT done
                      AND (lease_until IS NULL OR lease_until < now())
                    ORDER BY seq LIMIT $5
                    FOR UPDATE SKIP LOCKED)
                 UPDATE work w SET claimed_by = $6,
                        lease_until = now() + make_interval(secs => (SELECT lease_secs FROM runs WHERE id = $6))
                 FROM picked p WHERE w.target = p.target AND w.key = p.key AND w.attempt = p.attempt
                 RETURNING w.key, w.attempt, w.seq",
                &[&tg, &cp, &rd, &tz, &n, &run],
            )?;
            let mut got: Vec<(i64, String, u32)> = rows
                .iter()
                .map(|r| {
                    (
                        r.get(2),
                        r.get(0),
                        u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                    )
                })
                .collect();
            tx.commit()?;
            got.sort_unstable();
            Ok(Fenced::Done(
                got.into_iter().map(|(_, k, a)| (k, a)).collect(),
            ))
        })?;
        self.fenced(claimed)
    }

    /// Which of `attempts` are still this run's to send (recorded `sending` by it), checked
    /// right before each of their requests leaves (issue 14, class 11): a runner that stalled
    /// past its lease may have had them looked up and sent again by another. Positions in
    /// `attempts`; [`LedgerError::LeaseLost`] when the run's lease ran out (then none is).
    /// The check also touches the calls it keeps (`updated_at`): another runner that read them
    /// before can no longer resolve them (its resolve is conditional on the row as read), and
    /// the in-doubt grace runs from this check, the last moment before the request. (A
    /// SQLite run holds the ledger's lock: its calls are its own, and it does not ask.)
    pub fn still_mine(
        &self,
        run_id: &str,
        target: &str,
        attempts: &[(&str, u32)],
    ) -> Result<Vec<usize>, LedgerError> {
        let (run, tg, att) = (run_id.to_owned(), target.to_owned(), owned(attempts));
        let t = super::now();
        let mine = self.run(move |c| {
            let (keys, nums) = pg_keys(&att);
            let mut tx = c.transaction()?;
            if !pg_live(&mut tx, &run)? {
                return Ok(Fenced::LeaseLost);
            }
            let rows = tx.query(
                "UPDATE calls c SET updated_at = $5
                 FROM unnest($3::text[], $4::int[]) AS u(key, attempt)
                 WHERE c.key = u.key AND c.attempt = u.attempt
                   AND c.target = $1 AND c.run_id = $2 AND c.state = 'sending'
                 RETURNING c.key, c.attempt",
                &[&tg, &run, &keys, &nums, &t],
            )?;
            tx.commit()?;
            let mine: HashSet<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            Ok(Fenced::Done(
                keys.into_iter()
                    .zip(nums)
                    .enumerate()
                    .filter(|(_, ka)| mine.contains(ka))
                    .map(|(i, _)| i)
                    .collect(),
            ))
        })?;
        self.fenced(mine)
    }

    /// Lets go of claimed calls at once, for other runners to claim (Postgres).
    pub fn release_work(&self, target: &str, attempts: &[(&str, u32)]) -> Result<(), LedgerError> {
        self.update_work(target, attempts, "claimed_by = NULL, lease_until = NULL")
    }

    /// Marks claimed calls done without sending them (opted out or capped since the plan).
    pub fn drop_work(&self, target: &str, attempts: &[(&str, u32)]) -> Result<(), LedgerError> {
        self.update_work(target, attempts, "done = true")
    }

    /// Sets `set` on the shared work of some calls (Postgres).
    fn update_work(
        &self,
        target: &str,
        attempts: &[(&str, u32)],
        set: &'static str,
    ) -> Result<(), LedgerError> {
        let (tg, att) = (target.to_owned(), owned(attempts));
        self.run(move |c| {
            let (keys, nums) = pg_keys(&att);
            c.execute(
                &format!(
                    "UPDATE work SET {set} FROM unnest($2::text[], $3::int[]) AS u(key, attempt)
                     WHERE work.target = $1 AND work.key = u.key AND work.attempt = u.attempt"
                ),
                &[&tg, &keys, &nums],
            )
            .map(|_| ())
        })
    }

    /// Whether a time zone of a campaign round has shared work not done (Postgres).
    pub fn zone_has_work(
        &self,
        target: &str,
        campaign: &str,
        round: &str,
        timezone: &str,
    ) -> Result<bool, LedgerError> {
        let (tg, cp, rd, tz) = (
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
            timezone.to_owned(),
        );
        self.run(move |c| {
            Ok(c.query_one(
                "SELECT EXISTS(SELECT 1 FROM work WHERE target = $1 AND campaign = $2 AND round = $3
                   AND timezone = $4 AND NOT done)",
                &[&tg, &cp, &rd, &tz],
            )?
            .get(0))
        })
    }

    /// Due work not done yet, as one runner sees it (Postgres).
    pub fn open_work(
        &self,
        run_id: &str,
        target: &str,
        campaign: &str,
        round: &str,
    ) -> Result<OpenWork, LedgerError> {
        let (run, tg, cp, rd) = (
            run_id.to_owned(),
            target.to_owned(),
            campaign.to_owned(),
            round.to_owned(),
        );
        self.run(move |c| {
            let r = c.query_one(
                "SELECT
                    COUNT(*) FILTER (WHERE lease_until IS NULL OR lease_until < now()),
                    COUNT(*) FILTER (WHERE lease_until >= now() AND claimed_by IS DISTINCT FROM $4),
                    EXTRACT(EPOCH FROM (MIN(lease_until) FILTER (WHERE lease_until >= now() AND claimed_by IS DISTINCT FROM $4) - now()))::float8
                 FROM work WHERE target = $1 AND campaign = $2 AND round = $3 AND NOT done",
                &[&tg, &cp, &rd, &run],
            )?;
            Ok(OpenWork {
                unclaimed: r.get::<_, i64>(0).unsigned_abs(),
                leased_elsewhere: r.get::<_, i64>(1).unsigned_abs(),
                next_expiry: r.try_get::<_, Option<StoredSeconds>>(2)?.map(|d| d.0),
            })
        })
    }

    /// Reserves the next request slot of shared budgets (Postgres) and returns how long to
    /// wait for it: every runner drawing on a budget sends at most one request per `period`
    /// of it. One slot serves all `scopes` at once (the latest of theirs),
    /// taken under their row locks in a fixed order, so runners never see two budgets in
    /// different orders. (SQLite has no shared budget: its single run paces itself.)
    pub fn rate_slot(&self, scopes: &[String], period: Duration) -> Result<Duration, LedgerError> {
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let period = period.as_secs_f64();
        let wait = self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "INSERT INTO rate_budget (scope, tat) SELECT s, '-infinity'::timestamptz FROM unnest($1::text[]) AS s
                 ON CONFLICT (scope) DO NOTHING",
                &[&scopes],
            )?;
            tx.query(
                "SELECT 1 FROM rate_budget WHERE scope = ANY($1) ORDER BY scope FOR UPDATE",
                &[&scopes],
            )?;
            let rows = tx.query(
                "WITH slot AS (
                    SELECT GREATEST(MAX(tat), clock_timestamp()) AS at FROM rate_budget WHERE scope = ANY($1))
                 UPDATE rate_budget b SET tat = slot.at + make_interval(secs => $2)
                 FROM slot WHERE b.scope = ANY($1)
                 RETURNING EXTRACT(EPOCH FROM (slot.at - clock_timestamp()))::float8",
                &[&scopes, &period],
            )?;
            tx.commit()?;
            Ok(rows
                .first()
                .map_or(0.0, |r| r.get::<_, f64>(0))
                .max(0.0))
        })?;
        StoredSeconds::new(wait)
            .map(|w| w.0)
            .map_err(|e| self.bad_time(e))
    }
}
