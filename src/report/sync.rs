//! What `outreach sync` learnt: a few lines for people, or one JSON document
//! (`"format": "outreach-sync"`); and the same, as log lines, before `report --sync` and
//! `status --sync` show their figures.

use std::io::{self, Write};

use crate::apply::sync::{BatchEndpoint, Synced};
use crate::report::document::{Document, write_pretty};
use crate::report::words::{plural, target};

impl Document for Synced {
    const FORMAT: &'static str = "outreach-sync";
    const VERSION: u32 = 1;
}

/// The lines people read: what was looked at and how, what was learnt, what was not and why.
fn lines(s: &Synced) -> Vec<String> {
    let l = &s.learnt;
    let how = match l.batch_endpoint {
        BatchEndpoint::Offered => "through the batch endpoint",
        BatchEndpoint::NotOffered => {
            "by call id (the server answered 404 for batches: it does not report them)"
        }
        BatchEndpoint::NotAsked => "by call id",
    };
    let mut out = vec![format!(
        "{} on {}: {} open (accepted or in doubt)",
        s.campaign,
        target(&s.target),
        plural(l.looked_at, "call"),
    )];
    if l.looked_at == 0 {
        out.push("  nothing to look up".to_owned());
        return out;
    }
    out.push(format!(
        "  looked up {how}: {}",
        plural(l.lookups, "request")
    ));
    out.push(format!(
        "  learnt: {} answered, {} failed, {} not answered",
        l.answered, l.failed, l.no_answer
    ));
    if l.found_placed > 0 {
        out.push(format!(
            "  in doubt and found placed: {} (accepted now)",
            l.found_placed
        ));
    }
    if l.outcome_unknown > 0 {
        out.push(format!(
            "  no outcome within the outcome deadline: {} (outcome_unknown now, counted as not reached)",
            l.outcome_unknown
        ));
    }
    if l.not_final > 0 {
        out.push(format!(
            "  not final yet on the server: {} (sync again later)",
            l.not_final
        ));
    }
    if l.not_learnt.is_empty() {
        out.push("  everything the server could say was learnt".to_owned());
    } else {
        out.push("  not learnt:".to_owned());
        for gap in &l.not_learnt {
            out.push(format!("    {}", gap.message));
        }
    }
    out
}

/// Writes what a sync learnt: JSON, or lines for people.
pub fn write(s: &Synced, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        return write_pretty(s, out);
    }
    for line in lines(s) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The same, as log lines (before a report or status): what was not learnt as warnings.
pub fn log(s: &Synced) {
    for line in lines(s) {
        tracing::info!("sync: {}", line.trim_start());
    }
    if !s.learnt.complete() {
        tracing::warn!(
            "sync: the figures below still count {} as open",
            plural(
                s.learnt.not_learnt.iter().map(|g| g.calls).sum::<u64>(),
                "call"
            )
        );
    }
}
