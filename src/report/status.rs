//! `outreach status`: calls per state, per campaign, and the runners at work.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::clock;
use crate::ledger::{CallState, Ledger, Runner};
use crate::report::document::{Document, write_pretty};

/// `status --json` (`"format": "outreach-status"`): the counts per state of every campaign,
/// round and target, and every run still marked running (alive, or stopped without
/// finishing, however long ago).
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

/// What `status` shows: JSON or text, and whether runs that stopped without finishing long
/// ago are listed in the text.
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'z> {
    pub json: bool,
    /// Every run still marked running, however long ago it stopped (the JSON always lists them).
    pub all: bool,
    /// The zone the text's times are in: the campaign's, when one is shown; else the
    /// machine's (a ledger's campaigns record no zone).
    pub zone: Option<&'z jiff::tz::TimeZone>,
}

impl View<'_> {
    /// A time for people, in the view's zone.
    fn time(&self, at: jiff::Timestamp) -> String {
        self.zone
            .map_or_else(|| clock::human_local(at), |z| clock::human(at, z))
    }
}

/// How long a run that stopped without finishing stays in the text: said with when it was
/// last heard from, then left out (`status --all` lists it again).
const FORGOTTEN_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether the text lists a runner: alive, or stopped without finishing less than
/// [`FORGOTTEN_AFTER`] ago (any, with `all`).
fn listed(r: &Runner, all: bool) -> bool {
    all || r.alive || r.heartbeat_age <= FORGOTTEN_AFTER
}

/// Writes the ledger's counts per state.
pub fn status(
    ledger: &Ledger,
    campaign: Option<&str>,
    target: Option<&str>,
    view: View<'_>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut counts = ledger.counts(campaign)?;
    let mut runners = ledger.runners(campaign)?;
    if let Some(t) = target {
        counts.retain(|c| c.target == t);
        runners.retain(|r| r.target == t);
    }
    if view.json {
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
    let shown: Vec<&Runner> = runners.iter().filter(|r| listed(r, view.all)).collect();
    if !shown.is_empty() {
        writeln!(out, "Runners")?;
        for r in shown {
            writeln!(out, "  {}", runner(r, &view))?;
        }
    }
    if counts.is_empty() {
        writeln!(
            out,
            "  no calls recorded{}{}",
            campaign.map(|c| format!(" for {c}")).unwrap_or_default(),
            target
                .map(|t| format!(" on {}", crate::report::words::target(t)))
                .unwrap_or_default()
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
            Some(since) => format!(" (PAUSED since {})", view.time(since)),
            None => String::new(),
        };
        writeln!(out, "{}{round} on {}{paused}", c.campaign, c.target)?;
        for (state, n) in &c.counts {
            writeln!(out, "  {:<10} {n:>8}{}", state.as_str(), meaning(*state))?;
        }
    }
    Ok(())
}

/// What the states a reader may not know mean, after their count: the two that end a call
/// without its outcome.
fn meaning(state: CallState) -> &'static str {
    match state {
        CallState::Completed => {
            "  the batch completed, and the service gave no outcome per call (neither pending nor retried)"
        }
        CallState::OutcomeUnknown => {
            "  accepted, and no outcome arrived within the campaign's outcome_deadline (counted as not reached)"
        }
        CallState::Sending
        | CallState::Accepted
        | CallState::InDoubt
        | CallState::Rejected
        | CallState::NotSent
        | CallState::Answered
        | CallState::Failed
        | CallState::NoAnswer => "",
    }
}

/// One runner, in a line: at work (its heartbeat's age), or stopped without finishing (when
/// it was last heard from).
fn runner(r: &Runner, view: &View<'_>) -> String {
    let round = if r.round.is_empty() {
        String::new()
    } else {
        format!(" round {}", r.round)
    };
    let who = format!(
        "{} pid {} on {}: {}{round}",
        r.host, r.pid, r.target, r.campaign
    );
    if r.alive {
        format!(
            "{who}, heartbeat {:.0} s ago, {} calls claimed",
            r.heartbeat_age.as_secs_f64(),
            r.claimed,
        )
    } else {
        format!(
            "{who}, stopped without finishing (crashed or killed), last heard from {}: the calls it was sending are looked up by the next run",
            view.time(r.last_heartbeat)
        )
    }
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

    fn a_runner(alive: bool, age: Duration) -> Runner {
        let beat: jiff::Timestamp = "2026-12-01T08:14:00Z".parse().unwrap();
        Runner {
            run_id: "r1".into(),
            host: "ci-7".into(),
            pid: 41,
            campaign: "measles".into(),
            round: "2026-12".into(),
            target: "mock".into(),
            started_at: beat,
            heartbeat_age: age,
            claimed: 4,
            alive,
            last_heartbeat: beat,
        }
    }

    #[test]
    fn a_stopped_run_is_said_once_with_when_and_ages_out_after_a_day() {
        let hour = Duration::from_secs(3600);
        let live = a_runner(true, Duration::from_secs(3));
        assert_eq!(
            runner(&live, &View::default()),
            "ci-7 pid 41 on mock: measles round 2026-12, heartbeat 3 s ago, 4 calls claimed"
        );
        let dead = a_runner(false, hour);
        let said = runner(&dead, &View::default());
        let when = clock::human_local(dead.last_heartbeat);
        let lagos = jiff::tz::TimeZone::get("Africa/Lagos").unwrap();
        let in_lagos = View {
            zone: Some(&lagos),
            ..View::default()
        };
        assert!(
            runner(&dead, &in_lagos).contains(&clock::human(dead.last_heartbeat, &lagos)),
            "the campaign's zone"
        );
        assert!(runner(&dead, &in_lagos).contains(" WAT:"));
        assert_eq!(
            said,
            format!(
                "ci-7 pid 41 on mock: measles round 2026-12, stopped without finishing (crashed or killed), last heard from {when}: the calls it was sending are looked up by the next run"
            )
        );
        assert!(listed(&live, false) && listed(&dead, false));
        let long_dead = a_runner(false, hour * 25);
        assert!(!listed(&long_dead, false));
        assert!(listed(&long_dead, true), "--all");
    }
}
