//! The summary of `outreach apply`, as text or JSON.

use std::io::{self, Write};

use crate::apply::ApplySummary;

/// Writes a run's summary.
pub fn write(s: &ApplySummary, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, s)?;
        return writeln!(out);
    }
    let where_ = if s.target == "mock" {
        "the bundled mock server".to_owned()
    } else {
        s.base.clone()
    };
    let dry = if s.dry_run {
        " (dry run: nothing was sent)"
    } else {
        ""
    };
    writeln!(
        out,
        "Applied {} to {where_}{dry}: {}",
        s.campaign,
        s.status.as_str()
    )?;
    let n = &s.counts;
    let rows: [(&str, u64); 17] = [
        ("calls in the plan", n.planned),
        ("placed by earlier runs", n.already_done),
        ("due in this run", n.due),
        ("left for later (--max-calls)", n.capped),
        ("retries scheduled later", n.retry_later),
        ("sent", n.sent),
        ("accepted", n.accepted),
        ("rejected", n.rejected),
        ("could not be sent", n.not_sent),
        ("in doubt", n.in_doubt),
        ("answered", n.answered),
        ("failed", n.failed),
        ("not answered", n.no_answer),
        ("outcome not known yet", n.unfollowed),
        ("earlier in-doubt calls resolved", n.resolved),
        ("opted out since the plan", n.opted_out_since_plan),
        ("held by the frequency cap", n.capped_by_frequency),
    ];
    for (label, value) in rows {
        if value > 0 || matches!(label, "calls in the plan" | "sent") {
            writeln!(out, "  {label:<32} {value:>8}")?;
        }
    }
    writeln!(
        out,
        "  {:<32} {:>8}",
        "requests (429s)",
        format!("{} ({})", n.requests, n.rate_limited)
    )?;
    writeln!(out, "Ledger: {}", s.ledger)
}
