//! The migration that puts every stored target in its normal form (SQLite 4→5, Postgres
//! 2→3; issue 14, class 4). Builds before it recorded `--api-url` as written (only a trailing
//! `/` trimmed), so `HTTPS://API.Example.org:443/` and `https://api.example.org` were two
//! targets, and a run with the other spelling saw none of the calls placed. SQL cannot call
//! the normalisation, so each store reads its distinct targets, this module decides in Rust
//! what each becomes, and the store rewrites them inside the migration's one transaction.
//!
//! Two stored spellings of one server may hold the same call key: the patient was recorded
//! (and may have been called) under each. Nothing is dropped: every attempt of every
//! spelling is kept, numbered again under the one target. Each spelling's attempts stay in
//! their order, one spelling after the other; the spelling whose last attempt is furthest
//! along comes last, so that the key's latest attempt, which decides what the next run does,
//! is the one that calls no one sooner: answered, then in flight (sending, accepted, in
//! doubt), then rejected, then failed or unanswered (a retry may follow), then not sent.
//! Every attempt counts toward the retry policy's limit.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::settings::target::{normal_stored, shown_url};

/// The attempts of one key under one stored target: (attempt, state, created_at), by
/// attempt.
pub(super) type Attempts = Vec<(i64, String, String)>;

/// What a store does for the migration, inside its transaction.
pub(super) trait Rewrite {
    type Error;
    /// Every distinct target the store holds (calls, runs, shared work, budget scopes).
    fn targets(&mut self) -> Result<Vec<String>, Self::Error>;
    /// The keys held under more than one of `members`.
    fn colliding_keys(&mut self, members: &[String]) -> Result<Vec<String>, Self::Error>;
    /// The attempts of `key` under `target`: (attempt, state, created_at), by attempt.
    fn attempts(&mut self, target: &str, key: &str) -> Result<Attempts, Self::Error>;
    /// Moves the attempt `(from, key, attempt)` to `(to, key, -new)` (a negative number no
    /// row has, so that no move collides), with its shared work if any.
    fn park(
        &mut self,
        from: &str,
        key: &str,
        attempt: i64,
        to: &str,
        new: i64,
    ) -> Result<(), Self::Error>;
    /// After every attempt of `key` under `members` is parked under `to`: drops the shared
    /// work of `key` left under `members` (work not written ahead: the next run adds it
    /// again if it is due), then turns the parked numbers positive.
    fn unpark(&mut self, members: &[String], key: &str, to: &str) -> Result<(), Self::Error>;
    /// Renames every row left under `from` to `to`; how many calls it moved.
    fn rename(&mut self, from: &str, to: &str) -> Result<u64, Self::Error>;
}

/// What the migration did to the stored targets, for `migrate` to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetsRewritten {
    /// Each stored spelling renamed (as shown: no credentials), its normal form, and how
    /// many call records it held.
    pub renamed: Vec<(String, String, u64)>,
    /// Call keys recorded under two spellings of one server, merged into one.
    pub merged_keys: u64,
    /// Stored targets that name no server this build accepts (with a query, say): kept as
    /// written (as shown).
    pub kept: Vec<String>,
}

impl TargetsRewritten {
    pub fn is_empty(&self) -> bool {
        self.renamed.is_empty() && self.merged_keys == 0 && self.kept.is_empty()
    }
}

/// How far along an attempt's state is: the highest is the latest attempt after a merge.
fn rank(state: &str) -> u8 {
    match state {
        "not_sent" => 0,
        "failed" | "no_answer" => 1,
        "rejected" => 2,
        "answered" => 4,
        // In flight or in doubt, and any state this build does not know: no new call.
        _ => 3,
    }
}

/// The order of a key's attempts under one target after the merge: (stored target, its
/// attempt) in their new order, numbered from 1.
pub(super) fn merged_order(spellings: Vec<(String, Attempts)>) -> Vec<(String, i64)> {
    let mut spellings = spellings;
    let last = |attempts: &[(i64, String, String)]| {
        attempts.last().map(|(_, state, created)| {
            (
                rank(state),
                created.parse::<Timestamp>().ok(),
                created.clone(),
            )
        })
    };
    spellings.sort_by(|(a_target, a), (b_target, b)| {
        last(a).cmp(&last(b)).then_with(|| a_target.cmp(b_target))
    });
    spellings
        .into_iter()
        .flat_map(|(target, attempts)| {
            attempts
                .into_iter()
                .map(move |(attempt, _, _)| (target.clone(), attempt))
        })
        .collect()
}

/// Puts every stored target of the store in its normal form. Idempotent: a store whose
/// targets are all normal is left as it is.
pub(super) fn rewrite<R: Rewrite>(store: &mut R) -> Result<TargetsRewritten, R::Error> {
    let mut done = TargetsRewritten::default();
    // Each normal form, with every stored spelling of it (itself included when stored).
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stored = store.targets()?;
    stored.sort();
    stored.dedup();
    for target in stored {
        match normal_stored(&target) {
            Some(normal) => groups.entry(normal).or_default().push(target),
            None => done.kept.push(shown_url(&target)),
        }
    }
    for (normal, members) in groups {
        if members.iter().all(|m| *m == normal) {
            continue;
        }
        // Calls moved by the merge, per stored spelling.
        let mut merged: BTreeMap<String, u64> = BTreeMap::new();
        if members.len() > 1 {
            for key in store.colliding_keys(&members)? {
                let mut spellings = Vec::with_capacity(members.len());
                for m in &members {
                    spellings.push((m.clone(), store.attempts(m, &key)?));
                }
                for (new, (from, attempt)) in (1..).zip(merged_order(spellings)) {
                    store.park(&from, &key, attempt, &normal, new)?;
                    *merged.entry(from).or_default() += 1;
                }
                store.unpark(&members, &key, &normal)?;
                done.merged_keys += 1;
            }
        }
        for m in members.iter().filter(|m| **m != normal) {
            let moved = store.rename(m, &normal)? + merged.get(m).copied().unwrap_or(0);
            done.renamed.push((shown_url(m), normal.clone(), moved));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempts(states: &[(&str, &str)]) -> Attempts {
        (1..)
            .zip(states)
            .map(|(n, (s, t))| (n, (*s).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[test]
    fn the_spelling_furthest_along_comes_last_and_each_keeps_its_order() {
        let order = merged_order(vec![
            (
                "A".into(),
                attempts(&[("answered", "2026-11-01T09:00:00Z")]),
            ),
            (
                "B".into(),
                attempts(&[
                    ("no_answer", "2026-11-02T09:00:00Z"),
                    ("not_sent", "2026-11-03T09:00:00Z"),
                ]),
            ),
        ]);
        assert_eq!(
            order,
            [("B".into(), 1), ("B".into(), 2), ("A".into(), 1)],
            "answered decides, though placed first"
        );
        // One rank: the later last attempt decides (times compared as times).
        let order = merged_order(vec![
            (
                "A".into(),
                attempts(&[("no_answer", "2026-11-01T09:00:00.5Z")]),
            ),
            ("B".into(), attempts(&[("failed", "2026-11-01T09:00:00Z")])),
            ("C".into(), Vec::new()),
        ]);
        assert_eq!(order, [("B".into(), 1), ("A".into(), 1)]);
        // In flight beats rejected beats a retry beats not sent.
        let order = merged_order(vec![
            (
                "A".into(),
                attempts(&[("rejected", "2026-11-05T00:00:00Z")]),
            ),
            ("B".into(), attempts(&[("sending", "2026-11-01T00:00:00Z")])),
            (
                "C".into(),
                attempts(&[("not_sent", "2026-11-09T00:00:00Z")]),
            ),
            (
                "D".into(),
                attempts(&[("no_answer", "2026-11-09T00:00:00Z")]),
            ),
        ]);
        let targets: Vec<&str> = order.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(targets, ["C", "D", "A", "B"]);
    }
}
