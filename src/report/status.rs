//! `outreach status`: calls per state, per campaign, and the runners at work.

use std::io::Write;

use serde::Serialize;

use crate::ledger::{CallState, Ledger, Runner};
use crate::report::document::{Document, write_pretty};

/// `status --json` (`"format": "outreach-status"`): the counts per state of every campaign,
/// round and target, and the runners still marked running.
#[derive(Debug, Serialize)]
pub struct StatusDocument<'a> {
    /// The ledger, as the human output names it.
    pub ledger: String,
    pub campaigns: Vec<CampaignStatus<'a>>,
    pub runners: &'a [Runner],
}

/// One campaign, round and target.
#[derive(Debug, Serialize)]
pub struct CampaignStatus<'a> {
    pub campaign: &'a str,
    pub round: &'a str,
    pub target: &'a str,
    /// When the campaign was paused (RFC 3339), if it is.
    pub paused_since: Option<jiff::Timestamp>,
    /// Calls per state (`{"accepted": 4, "answered": 2}`); states without calls are left out.
    #[serde(serialize_with = "crate::report::call_state::serialize_counts")]
    pub states: &'a [(CallState, u64)],
}

impl Document for StatusDocument<'_> {
    const FORMAT: &'static str = "outreach-status";
    const VERSION: u32 = 1;
}

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
        let doc = StatusDocument {
            ledger: ledger.path().display().to_string(),
            campaigns: counts
                .iter()
                .map(|c| CampaignStatus {
                    campaign: &c.campaign,
                    round: &c.round,
                    target: &c.target,
                    paused_since: ledger.paused_since(&c.campaign).ok().flatten(),
                    states: &c.counts,
                })
                .collect(),
            runners: &runners,
        };
        write_pretty(&doc, out)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::document::Versioned;

    #[test]
    fn the_json_keeps_its_fields_and_their_order() {
        let counts = [(CallState::NoAnswer, 1), (CallState::Accepted, 4)];
        let doc = StatusDocument {
            ledger: "state.db".into(),
            campaigns: vec![CampaignStatus {
                campaign: "c",
                round: "",
                target: "mock",
                paused_since: None,
                states: &counts,
            }],
            runners: &[],
        };
        assert_eq!(
            serde_json::to_string(&Versioned::new(&doc)).unwrap(),
            r#"{"format":"outreach-status","version":1,"ledger":"state.db","campaigns":[{"campaign":"c","round":"","target":"mock","paused_since":null,"states":{"accepted":4,"no_answer":1}}],"runners":[]}"#
        );
    }
}
