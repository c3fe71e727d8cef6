//! `outreach status`: calls per state, per campaign, and the runners at work.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::ledger::Ledger;

/// Writes the ledger's counts per state.
pub fn status(
    ledger: &Ledger,
    campaign: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let counts = ledger.counts(campaign)?;
    let runners = ledger.runners(campaign)?;
    if json {
        let rows: Vec<_> = counts
            .iter()
            .map(|c| {
                let paused = ledger.paused_since(&c.campaign).ok().flatten();
                json!({
                    "campaign": c.campaign,
                    "round": c.round,
                    "target": c.target,
                    "paused_since": paused,
                    "states": c.counts.iter().map(|(s, n)| (s.as_str(), *n)).collect::<BTreeMap<_, _>>(),
                })
            })
            .collect();
        serde_json::to_writer_pretty(
            &mut *out,
            &json!({"format": "outreach-status", "version": 1, "ledger": ledger.path().display().to_string(), "campaigns": rows, "runners": runners}),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "Ledger {}", ledger.path().display())?;
    let stopped = runners.iter().filter(|r| !r.alive).count();
    if !runners.is_empty() {
        writeln!(out, "Runners")?;
        for r in runners.iter().filter(|r| r.alive) {
            let round = if r.round.is_empty() {
                String::new()
            } else {
                format!(" round {}", r.round)
            };
            writeln!(
                out,
                "  {} pid {} on {}: {}{round}, heartbeat {:.0} s ago, {} calls claimed",
                r.host,
                r.pid,
                r.target,
                r.campaign,
                r.heartbeat_age.as_secs_f64(),
                r.claimed,
            )?;
        }
        if stopped > 0 {
            writeln!(
                out,
                "  {stopped} stopped without finishing (crashed or killed): the calls they were sending are looked up by the next run"
            )?;
        }
    }
    if counts.is_empty() {
        writeln!(
            out,
            "  no calls recorded{}",
            campaign.map(|c| format!(" for {c}")).unwrap_or_default()
        )?;
        return Ok(());
    }
    for c in &counts {
        let round = if c.round.is_empty() {
            String::new()
        } else {
            format!(" round {}", c.round)
        };
        let paused = match ledger.paused_since(&c.campaign)? {
            Some(since) => format!(" (PAUSED since {since})"),
            None => String::new(),
        };
        writeln!(out, "{}{round} on {}{paused}", c.campaign, c.target)?;
        for (state, n) in &c.counts {
            writeln!(out, "  {:<10} {n:>8}", state.as_str())?;
        }
    }
    Ok(())
}
