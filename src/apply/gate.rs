//! The send gate: what is checked and recorded right before a batch is requested.

use std::borrow::Cow;
use std::collections::HashSet;

use jiff::Timestamp;

use super::state::{Due, Shared, lock};
use crate::ledger::{CallState, NewCall};

/// Opt-outs (read again) and the frequency cap, checked right before the write-ahead: the
/// calls of `chunk` still to send. The others leave the shared work.
pub(super) fn recheck(
    shared: &Shared,
    opted_out: &HashSet<u64>,
    chunk: Vec<Due>,
) -> anyhow::Result<Vec<Due>> {
    let campaign = &shared.campaign;
    let mut batch: Vec<Due> = Vec::with_capacity(chunk.len());
    let mut dropped: Vec<(String, u32)> = Vec::new();
    for d in chunk {
        // The plan's number is E.164 already: its digits are the opt-out lists' key.
        let n = d
            .planned
            .call
            .phone
            .get(1..)
            .and_then(|digits| digits.parse::<u64>().ok())
            .unwrap_or(0);
        if opted_out.contains(&n) {
            lock(&shared.counts).opted_out_since_plan += 1;
            dropped.push((d.planned.call.key.clone(), d.attempt));
            continue;
        }
        if let Some(cap) = &campaign.delivery.frequency_cap {
            let window = crate::campaign::values::parse_duration(&cap.per).unwrap_or_default();
            let since = crate::clock::now()
                .checked_sub(window)
                .unwrap_or(Timestamp::MIN);
            let recent = lock(&shared.ledger).recent_calls(
                &shared.target_id,
                &d.planned.call.phone,
                since,
            )?;
            if recent >= u64::from(cap.calls) {
                lock(&shared.counts).capped_by_frequency += 1;
                dropped.push((d.planned.call.key.clone(), d.attempt));
                continue;
            }
        }
        batch.push(d);
    }
    if !dropped.is_empty() {
        let dropped: Vec<(&str, u32)> = dropped.iter().map(|(k, a)| (k.as_str(), *a)).collect();
        if let Some(pg) = lock(&shared.ledger).shared() {
            pg.drop_work(&shared.target_id, &dropped)?;
        }
    }
    Ok(batch)
}

/// Records the calls of several batches `sending` in one transaction, before any of their
/// requests leaves, and returns the batches with only the calls recorded: a call another
/// runner recorded first (a lease that ran out while this one held it) is theirs to send.
pub(super) fn write_ahead(shared: &Shared, group: Vec<Vec<Due>>) -> anyhow::Result<Vec<Vec<Due>>> {
    let recorded = {
        let new: Vec<NewCall<'_>> = group
            .iter()
            .flatten()
            .map(|d| NewCall {
                key: &d.planned.call.key,
                attempt: d.attempt,
                phone: &d.planned.call.phone,
                source: &d.planned.source_label,
                row: d.planned.call.row,
            })
            .collect();
        let recorded = lock(&shared.ledger).begin(
            &shared.run_id,
            &shared.target_id,
            &shared.campaign.name,
            &shared.round,
            &new,
        )?;
        if recorded.len() == new.len() {
            return Ok(group);
        }
        recorded.into_iter().collect::<HashSet<usize>>()
    };
    let mut taken = 0;
    let mut i = 0;
    let mut out = Vec::with_capacity(group.len());
    for mut batch in group {
        batch.retain(|_| {
            i += 1;
            let keep = recorded.contains(&(i - 1));
            taken += usize::from(!keep);
            keep
        });
        if !batch.is_empty() {
            out.push(batch);
        }
    }
    lock(&shared.counts).taken_elsewhere += taken as u64;
    Ok(out)
}

/// Calls written ahead whose request never left (the run stopped first): provably not sent.
pub(super) fn settle_unsent(shared: &Shared, calls: &[Due]) -> anyhow::Result<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let attempts: Vec<(&str, u32)> = calls
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect();
    lock(&shared.ledger).settle(
        &shared.target_id,
        &attempts,
        CallState::NotSent,
        None,
        Some("the run stopped before this call was sent"),
    )?;
    Ok(())
}

/// On a shared ledger, right before the request: the calls of `batch` still this run's (a
/// runner stalled past its lease may have had the others looked up and sent by another).
pub(super) fn still_ours<'a>(shared: &Shared, batch: &'a [Due]) -> anyhow::Result<Cow<'a, [Due]>> {
    if !lock(&shared.ledger).is_shared() {
        return Ok(Cow::Borrowed(batch));
    }
    let attempts: Vec<(&str, u32)> = batch
        .iter()
        .map(|d| (d.planned.call.key.as_str(), d.attempt))
        .collect();
    let mine = lock(&shared.ledger)
        .shared_only("checking claims")?
        .still_mine(&shared.run_id, &shared.target_id, &attempts)?;
    if mine.len() == batch.len() {
        return Ok(Cow::Borrowed(batch));
    }
    lock(&shared.counts).taken_elsewhere += (batch.len() - mine.len()) as u64;
    tracing::warn!(
        "{} calls written ahead by this runner were taken over by another (this runner stalled past its lease); not sent here",
        batch.len() - mine.len()
    );
    Ok(Cow::Owned(mine.iter().map(|&i| batch[i].clone()).collect()))
}
