//! `report --list KIND`: one row per patient of a campaign under a target, from the ledger,
//! for follow-up (a home visit, an SMS) or a check; written by [`list_file`] as CSV, XLSX or
//! JSON.
//!
//! A patient is a ledger key; its row is its latest attempt: the source file and row it was
//! read from, the campaign's `list_columns:` as recorded at write-ahead, the number (masked
//! unless `--unmask`; none once purged), the state, the attempts, when the latest was placed
//! (in the campaign's zone) and the reply.
//!
//! [`list_file`]: crate::report::list_file

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use crate::campaign::{Campaign, RetryOutcome};
use crate::ledger::{Attempt, CallState};
use crate::report::list_file::{Cell, Column, Destination, ListError, ListWriter};
use crate::settings::formats::{ListFormat, PatientListKind};

/// One patient: the latest attempt, how many there were, whether any was answered.
struct Patient<'a> {
    latest: &'a Attempt,
    attempts: u32,
    answered: bool,
}

/// Whether `p` is of the list `kind`. `unreached`: no attempt answered, and the latest ended
/// without reaching the patient with no retry left (`retry.attempts` spent, its outcome
/// not one the campaign calls again, or no calling window open after the retry's delay:
/// the campaign's `not_after` has passed or will before the retry is due).
fn belongs(
    kind: PatientListKind,
    p: &Patient<'_>,
    campaign: &Campaign,
    later: &dyn Fn(&Attempt) -> bool,
) -> bool {
    let state = p.latest.state;
    match kind {
        PatientListKind::Answered => p.answered,
        PatientListKind::Failed => state == CallState::Failed,
        PatientListKind::NoAnswer => state == CallState::NoAnswer,
        PatientListKind::InDoubt => state == CallState::InDoubt,
        PatientListKind::Pending => matches!(state, CallState::Accepted | CallState::Sending),
        PatientListKind::Unreached => {
            let retry = &campaign.delivery.retry;
            let retried = |outcome| retry.outcomes.contains(&outcome);
            let still_due = p.attempts < retry.attempts
                && match state {
                    CallState::Failed => retried(RetryOutcome::Failed),
                    CallState::NoAnswer => retried(RetryOutcome::NoAnswer),
                    CallState::OutcomeUnknown => retried(RetryOutcome::OutcomeUnknown),
                    _ => false,
                }
                && later(p.latest);
            !p.answered
                && !still_due
                && matches!(
                    state,
                    CallState::Failed
                        | CallState::NoAnswer
                        | CallState::InDoubt
                        | CallState::NotSent
                        | CallState::Rejected
                        | CallState::OutcomeUnknown
                )
        }
        // Listed from the plan, not the ledger (the command does it).
        PatientListKind::Skipped => false,
    }
}

/// The list's name: the JSON's `list` field and the sheet's.
fn name(kind: PatientListKind) -> &'static str {
    match kind {
        PatientListKind::Unreached => "unreached",
        PatientListKind::Answered => "answered",
        PatientListKind::Failed => "failed",
        PatientListKind::NoAnswer => "no-answer",
        PatientListKind::InDoubt => "in-doubt",
        PatientListKind::Pending => "pending",
        PatientListKind::Skipped => "skipped",
    }
}

/// Writes the patients of `kind` among `attempts` (one campaign's, one target's), in the
/// order of their source and row; how many.
pub fn write(
    campaign: &Campaign,
    attempts: &[Attempt],
    kind: PatientListKind,
    format: ListFormat,
    destination: Destination<'_>,
    unmask: bool,
) -> Result<u64, ListError> {
    let mut patients: BTreeMap<&str, Patient<'_>> = BTreeMap::new();
    for a in attempts {
        let p = patients.entry(a.key.as_str()).or_insert(Patient {
            latest: a,
            attempts: 0,
            answered: false,
        });
        p.attempts = p.attempts.max(a.attempt);
        p.answered |= a.state == CallState::Answered;
        if a.attempt > p.latest.attempt {
            p.latest = a;
        }
    }
    // A retry is still to come only if a window opens once its delay has passed.
    let calendar =
        crate::campaign::windows::Calendar::new(&campaign.schedule, &campaign.schedule.timezone)
            .ok();
    let now = crate::clock::now();
    let delay = campaign.delivery.retry.delay.value().0;
    let later = |a: &Attempt| {
        let due = a
            .updated_at
            .checked_add(delay)
            .unwrap_or(a.updated_at)
            .max(now);
        calendar
            .as_ref()
            .is_some_and(|c| c.next_open(due).is_some())
    };
    let mut listed: Vec<&Patient<'_>> = patients
        .values()
        .filter(|p| belongs(kind, p, campaign, &later))
        .collect();
    // Purged rows (no source) last, then by key: a stable order.
    // Compared in place: no text copied per comparison.
    listed.sort_by_key(|p| {
        let a = p.latest;
        (
            a.source.is_none(),
            a.source.as_deref(),
            a.row,
            a.key.as_str(),
        )
    });
    let mut columns = vec![Column::new("source", 24), Column::new("row", 6)];
    columns.extend(
        campaign
            .list_columns
            .iter()
            .map(|c| Column::new(c.clone(), 18)),
    );
    columns.extend([
        Column::new("phone", 16),
        Column::new("state", 14),
        Column::new("attempts", 8),
        Column::new("last_call", 18),
        Column::new("reply", 8),
    ]);
    let zone =
        jiff::tz::TimeZone::get(&campaign.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut list = ListWriter::create(format, destination, name(kind), &columns, &zone)?;
    for p in listed {
        let a = p.latest;
        let phone = a.phone.as_deref().map(|n| {
            if unmask {
                n.to_owned()
            } else {
                crate::patients::phone::mask(n)
            }
        });
        let mut cells = vec![
            a.source.as_deref().map_or(Cell::Empty, Cell::Text),
            a.row
                .and_then(|r| i64::try_from(r).ok())
                .map_or(Cell::Empty, Cell::Whole),
        ];
        cells.extend(
            campaign
                .list_columns
                .iter()
                .map(|c| a.list_values.get(c).map_or(Cell::Empty, Cell::Text)),
        );
        cells.extend([
            phone.as_deref().map_or(Cell::Empty, Cell::Phone),
            Cell::Text(a.state.as_str()),
            Cell::Whole(i64::from(p.attempts)),
            Cell::Time(a.created_at),
            a.reply.as_deref().map_or(Cell::Empty, Cell::Text),
        ]);
        list.row(&cells)?;
    }
    list.finish()
}

/// Says where the list was written (`--out FILE`).
pub fn wrote(rows: u64, kind: PatientListKind, path: &Path, out: &mut dyn Write) -> io::Result<()> {
    let rows = crate::report::words::plural(rows, "patient");
    writeln!(out, "Wrote {rows} ({}) to {}", name(kind), path.display())
}
