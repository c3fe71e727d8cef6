//! The send gate: what is checked and recorded right before a batch is requested.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;

use super::state::{Due, Shared, attempts_of, lock};
use crate::ledger::{CallState, NewCall};

/// Opt-outs (read again) and the frequency cap, checked right before the write-ahead: the
/// calls of `chunk` still to send. The others leave the shared work.
pub(super) async fn recheck(
    shared: &Arc<Shared>,
    opted_out: &HashSet<u64>,
    chunk: Vec<Due>,
) -> anyhow::Result<Vec<Due>> {
    let cap = match (
        &shared.campaign.delivery.frequency_cap,
        shared.frequency_window,
    ) {
        (Some(cap), Some(window)) => {
            let since = crate::clock::now()
                .checked_sub(window)
                .unwrap_or(Timestamp::MIN);
            let phones: Vec<String> = chunk
                .iter()
                .map(|d| &d.planned.call.phone)
                .filter(|p| !opted_out.contains(&number_key(p)))
                .cloned()
                .collect();
            let recent = shared
                .ledger(move |l, s| {
                    let mut recent = HashMap::with_capacity(phones.len());
                    for phone in phones {
                        let n = l.recent_calls(&s.target_id, &phone, since)?;
                        recent.insert(phone, n);
                    }
                    Ok(recent)
                })
                .await?;
            Some((cap.calls, recent))
        }
        _ => None,
    };
    let sifted = sift(chunk, opted_out, cap.as_ref().map(|(n, r)| (*n, r)));
    {
        let mut c = lock(&shared.counts);
        c.opted_out_since_plan += sifted.opted_out.len() as u64;
        c.capped_by_frequency += sifted.capped.len() as u64;
    }
    let dropped: Vec<Due> = sifted.opted_out.into_iter().chain(sifted.capped).collect();
    lock(&shared.held).extend(dropped.iter().map(|d| d.planned.call.key.clone()));
    if !dropped.is_empty() && shared.is_shared() {
        shared
            .ledger(move |l, s| {
                l.shared_only("shared work")?
                    .drop_work(&s.target_id, &attempts_of(&dropped))
            })
            .await?;
    }
    Ok(sifted.send)
}

use crate::patients::phone::key_of as number_key;

/// A chunk of due calls, sifted right before the write-ahead.
#[derive(Debug, Default)]
struct Sifted {
    send: Vec<Due>,
    /// On an opt-out list read since the plan was made.
    opted_out: Vec<Due>,
    /// Their number has had `calls` calls within the cap's window already.
    capped: Vec<Due>,
}

/// Which calls of `chunk` go: not opted out, and (with a frequency cap of `calls` per window)
/// to a number with fewer recent calls than that (`recent`, per number).
fn sift(
    chunk: Vec<Due>,
    opted_out: &HashSet<u64>,
    cap: Option<(u32, &HashMap<String, u64>)>,
) -> Sifted {
    let mut out = Sifted::default();
    for d in chunk {
        let phone = &d.planned.call.phone;
        if opted_out.contains(&number_key(phone)) {
            out.opted_out.push(d);
        } else if cap.is_some_and(|(calls, recent)| {
            recent.get(phone).copied().unwrap_or(0) >= u64::from(calls)
        }) {
            out.capped.push(d);
        } else {
            out.send.push(d);
        }
    }
    out
}

/// Records the calls of several batches `sending` in one transaction, before any of their
/// requests leaves, and returns the batches with only the calls recorded: a call another
/// runner recorded first (a lease that ran out while this one held it) is theirs to send.
pub(super) async fn write_ahead(
    shared: &Arc<Shared>,
    group: Vec<Vec<Due>>,
) -> anyhow::Result<Vec<Vec<Due>>> {
    let n = group.iter().map(Vec::len).sum::<usize>() as u64;
    let written = shared
        .ledger(move |l, s| {
            let new: Vec<NewCall<'_>> = group
                .iter()
                .flatten()
                .map(|d| NewCall {
                    key: &d.planned.call.key,
                    attempt: d.attempt,
                    phone: &d.planned.call.phone,
                    source: &d.planned.source_label,
                    row: d.planned.call.row,
                    list_values: &d.planned.call.list_values,
                    language: d.planned.call.language.as_deref(),
                })
                .collect();
            let recorded = l.begin(&s.run_id, &s.target_id, &s.campaign.name, &s.round, &new)?;
            drop(new);
            Ok((group, recorded))
        })
        .await;
    // A run past its lease records nothing: its claims are the other runners' now.
    let Some((group, recorded)) = shared.unless_fenced(n, written)? else {
        return Ok(Vec::new());
    };
    let (group, taken) = keep_only(group, &recorded);
    lock(&shared.counts).taken_elsewhere += taken;
    Ok(group)
}

/// The batches of `group` with only the calls at positions `kept` (counted across the group,
/// in order), empty batches left out; and how many calls were left out.
fn keep_only(group: Vec<Vec<Due>>, kept: &[usize]) -> (Vec<Vec<Due>>, u64) {
    let total: usize = group.iter().map(Vec::len).sum();
    if kept.len() == total {
        return (group, 0);
    }
    let kept: HashSet<usize> = kept.iter().copied().collect();
    let mut i = 0;
    let mut out = Vec::with_capacity(group.len());
    for mut batch in group {
        batch.retain(|_| {
            i += 1;
            kept.contains(&(i - 1))
        });
        if !batch.is_empty() {
            out.push(batch);
        }
    }
    let left: usize = out.iter().map(Vec::len).sum();
    (out, (total - left) as u64)
}

/// Calls written ahead whose request never left (the run stopped first): provably not sent.
pub(super) async fn settle_unsent(shared: &Arc<Shared>, calls: Vec<Due>) -> anyhow::Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let n = calls.len() as u64;
    // Refused past the lease: they stay `sending`, and the runner that looks them up finds
    // them never placed.
    let settled = shared
        .ledger(move |l, s| {
            l.settle(
                &s.target_id,
                &attempts_of(&calls),
                CallState::NotSent,
                None,
                Some("the run stopped before this call was sent"),
            )
        })
        .await;
    shared.unless_fenced(n, settled)?;
    Ok(())
}

/// On a shared ledger, right before each request (issue 14, class 11): the calls of `batch`
/// still this run's (a runner stalled past its lease may have had the others looked up and
/// sent by another), none once this run's lease ran out. The window left is a stall between
/// this check and the request itself (docs/scale-out.md).
pub(super) async fn still_ours(shared: &Arc<Shared>, batch: Vec<Due>) -> anyhow::Result<Vec<Due>> {
    if !shared.is_shared() {
        return Ok(batch);
    }
    let n = batch.len() as u64;
    let checked = shared
        .ledger(move |l, s| {
            let mine = l.shared_only("checking claims")?.still_mine(
                &s.run_id,
                &s.target_id,
                &attempts_of(&batch),
            )?;
            Ok((batch, mine))
        })
        .await;
    let Some((batch, mine)) = shared.unless_fenced(n, checked)? else {
        return Ok(Vec::new());
    };
    let (mut kept, taken) = keep_only(vec![batch], &mine);
    if taken > 0 {
        lock(&shared.counts).taken_elsewhere += taken;
        tracing::warn!(
            "{taken} calls written ahead by this runner were taken over by another (this runner stalled past its lease); not sent here"
        );
    }
    Ok(kept.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::state::test_calls::{due_to, keys};

    const ADA: &str = "+2348031234567";
    const BAYO: &str = "+2348031234568";

    fn chunk() -> Vec<Due> {
        vec![due_to("a", ADA), due_to("b", BAYO), due_to("c", ADA)]
    }

    #[test]
    fn a_number_opted_out_since_the_plan_is_not_sent() {
        let opted_out = HashSet::from([number_key(BAYO)]);
        let s = sift(chunk(), &opted_out, None);
        assert_eq!(keys(&s.send), ["a", "c"]);
        assert_eq!(keys(&s.opted_out), ["b"]);
        assert!(s.capped.is_empty());
        assert_eq!(number_key(BAYO), 2_348_031_234_568);
    }

    #[test]
    fn a_number_at_its_frequency_cap_is_held_and_one_under_it_sent() {
        let recent = HashMap::from([(ADA.to_owned(), 2), (BAYO.to_owned(), 1)]);
        let s = sift(chunk(), &HashSet::new(), Some((2, &recent)));
        assert_eq!(keys(&s.send), ["b"]);
        assert_eq!(keys(&s.capped), ["a", "c"]);
        // A number the ledger has no count for has had no call.
        let s = sift(chunk(), &HashSet::new(), Some((1, &HashMap::new())));
        assert_eq!(keys(&s.send), ["a", "b", "c"]);
        // An opt-out is counted as one, whatever the cap says.
        let opted_out = HashSet::from([number_key(ADA)]);
        let s = sift(chunk(), &opted_out, Some((2, &recent)));
        assert_eq!(
            (keys(&s.opted_out), keys(&s.capped)),
            (vec!["a", "c"], vec![])
        );
    }

    #[test]
    fn calls_recorded_elsewhere_leave_their_batches_and_are_counted() {
        let group = || {
            vec![
                vec![due_to("a", ADA), due_to("b", ADA)],
                vec![due_to("c", ADA)],
                vec![due_to("d", ADA), due_to("e", ADA)],
            ]
        };
        let (all, taken) = keep_only(group(), &[0, 1, 2, 3, 4]);
        assert_eq!(all.len(), 3);
        assert_eq!(taken, 0);
        // "c" was recorded by another runner first: its batch is gone, and "d".
        let (kept, taken) = keep_only(group(), &[0, 1, 4]);
        let kept: Vec<Vec<&str>> = kept.iter().map(|b| keys(b)).collect();
        assert_eq!(kept, [vec!["a", "b"], vec!["e"]]);
        assert_eq!(taken, 2);
        let (none, taken) = keep_only(group(), &[]);
        assert!(none.is_empty());
        assert_eq!(taken, 5);
    }
}
