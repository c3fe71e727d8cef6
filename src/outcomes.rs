//! What the ledger says: `outreach status` (calls per state) and `outreach report` (a
//! campaign's outcomes). The figures are computed once ([`Figures::compute`]) and rendered
//! by several formats, so they always agree.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::json;

use crate::campaign::Campaign;
use crate::cli::ReportFormat;
use crate::ledger::{CallState, Ledger, LedgerError};
use crate::phone;

/// Writes the ledger's counts per state.
pub fn status(
    ledger: &Ledger,
    campaign: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let counts = ledger.counts(campaign)?;
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
            &json!({"format": "outreach-status", "version": 1, "ledger": ledger.path().display().to_string(), "campaigns": rows}),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "Ledger {}", ledger.path().display())?;
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

/// A campaign's outcomes under one target.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub campaign: String,
    pub round: String,
    pub target: String,
    /// The first and last moments recorded.
    pub first: Option<String>,
    pub last: Option<String>,
    /// Patients with at least one attempt that may have reached them.
    pub patients_called: u64,
    /// Attempts (retries included) that may have reached a patient.
    pub attempts: u64,
    /// Patients by the outcome of their latest attempt.
    pub answered: u64,
    pub failed: u64,
    pub no_answer: u64,
    pub in_doubt: u64,
    /// Accepted or being sent, outcome not known yet.
    pub pending: u64,
    pub rejected: u64,
    pub not_sent: u64,
    /// Replies per response option, over answered calls.
    pub replies: BTreeMap<String, u64>,
    /// Average duration of answered calls, in seconds.
    pub average_duration: Option<f64>,
    /// Answered among patients whose outcome is final, in percent.
    pub success_rate: Option<f64>,
    /// Latest-attempt states by attempt number (the retry funnel).
    pub by_attempt: BTreeMap<u32, BTreeMap<String, u64>>,
    /// Patients still pending or in doubt (number masked unless asked).
    pub open: Vec<OpenCall>,
}

/// A call whose outcome is not final.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OpenCall {
    pub phone: Option<String>,
    pub state: String,
    pub attempt: u32,
    pub source: Option<String>,
    pub row: Option<u64>,
}

impl Figures {
    /// Computes the figures from the ledger.
    pub fn compute(
        ledger: &Ledger,
        target: &str,
        campaign: &Campaign,
    ) -> Result<Figures, LedgerError> {
        let round = campaign.round.clone().unwrap_or_default();
        let attempts = ledger.attempts(target, &campaign.name, &round, &[])?;
        let mut f = Figures {
            campaign: campaign.name.clone(),
            round: round.clone(),
            target: target.to_owned(),
            ..Figures::default()
        };
        let mut latest: BTreeMap<&str, &crate::ledger::Attempt> = BTreeMap::new();
        let mut durations = Vec::new();
        for a in &attempts {
            if a.state.may_have_called() {
                f.attempts += 1;
            }
            if f.first.as_deref().is_none_or(|x| a.created_at.as_str() < x) {
                f.first = Some(a.created_at.clone());
            }
            if f.last.as_deref().is_none_or(|x| a.updated_at.as_str() > x) {
                f.last = Some(a.updated_at.clone());
            }
            if a.state == CallState::Answered {
                if let Some(d) = a.duration {
                    durations.push(d);
                }
                if let Some(r) = &a.reply {
                    *f.replies.entry(r.clone()).or_default() += 1;
                }
            }
            let e = latest.entry(a.key.as_str()).or_insert(a);
            if a.attempt > e.attempt {
                *e = a;
            }
        }
        for a in latest.values() {
            if a.state.may_have_called() {
                f.patients_called += 1;
            }
            match a.state {
                CallState::Answered => f.answered += 1,
                CallState::Failed => f.failed += 1,
                CallState::NoAnswer => f.no_answer += 1,
                CallState::InDoubt => f.in_doubt += 1,
                CallState::Accepted | CallState::Sending => f.pending += 1,
                CallState::Rejected => f.rejected += 1,
                CallState::NotSent => f.not_sent += 1,
            }
            *f.by_attempt
                .entry(a.attempt)
                .or_default()
                .entry(a.state.as_str().to_owned())
                .or_default() += 1;
            if matches!(
                a.state,
                CallState::InDoubt | CallState::Accepted | CallState::Sending
            ) {
                f.open.push(OpenCall {
                    phone: a.phone.clone(),
                    state: a.state.as_str().to_owned(),
                    attempt: a.attempt,
                    source: a.source.clone(),
                    row: a.row,
                });
            }
        }
        if !durations.is_empty() {
            #[allow(clippy::cast_precision_loss)] // an average for people
            let avg = durations.iter().sum::<f64>() / durations.len() as f64;
            f.average_duration = Some((avg * 10.0).round() / 10.0);
        }
        let finals = f.answered + f.failed + f.no_answer;
        if finals > 0 {
            #[allow(clippy::cast_precision_loss)] // a percentage for people
            let rate = f.answered as f64 * 100.0 / finals as f64;
            f.success_rate = Some((rate * 10.0).round() / 10.0);
        }
        Ok(f)
    }

    fn masked(&self, unmask: bool) -> Figures {
        let mut f = self.clone();
        if !unmask {
            for o in &mut f.open {
                o.phone = o.phone.as_deref().map(phone::mask);
            }
        }
        f
    }
}

/// Writes the figures in a format.
pub fn write(
    f: &Figures,
    format: ReportFormat,
    unmask: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let f = f.masked(unmask);
    match format {
        ReportFormat::Json => {
            let mut v = serde_json::to_value(&f)?;
            v["format"] = json!("outreach-report");
            v["version"] = json!(1);
            serde_json::to_writer_pretty(&mut *out, &v)?;
            writeln!(out)
        }
        ReportFormat::Csv => {
            writeln!(out, "campaign,round,target,measure,value")?;
            for (k, v) in measures(&f) {
                writeln!(
                    out,
                    "{},{},{},{k},{v}",
                    csv_cell(&f.campaign),
                    csv_cell(&f.round),
                    csv_cell(&f.target)
                )?;
            }
            Ok(())
        }
        ReportFormat::Table => {
            let round = if f.round.is_empty() {
                String::new()
            } else {
                format!(" round {}", f.round)
            };
            writeln!(out, "{}{round} on {}", f.campaign, f.target)?;
            if let (Some(a), Some(b)) = (&f.first, &f.last) {
                writeln!(out, "  from {a} to {b}")?;
            }
            for (k, v) in measures(&f) {
                writeln!(out, "  {k:<28} {v:>10}")?;
            }
            if !f.open.is_empty() {
                writeln!(out, "Still open ({}):", f.open.len())?;
                for o in f.open.iter().take(20) {
                    writeln!(
                        out,
                        "  {} {} (attempt {}) {}{}",
                        o.phone.as_deref().unwrap_or("(purged)"),
                        o.state,
                        o.attempt,
                        o.source.as_deref().unwrap_or(""),
                        o.row.map(|r| format!(" row {r}")).unwrap_or_default()
                    )?;
                }
            }
            Ok(())
        }
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The figures as (measure, value) rows, in a fixed order.
fn measures(f: &Figures) -> Vec<(String, String)> {
    let mut rows = vec![
        ("patients_called".to_owned(), f.patients_called.to_string()),
        ("attempts".to_owned(), f.attempts.to_string()),
        ("answered".to_owned(), f.answered.to_string()),
        ("failed".to_owned(), f.failed.to_string()),
        ("unanswered".to_owned(), f.no_answer.to_string()),
        ("in_doubt".to_owned(), f.in_doubt.to_string()),
        ("pending".to_owned(), f.pending.to_string()),
        ("rejected".to_owned(), f.rejected.to_string()),
        ("not_sent".to_owned(), f.not_sent.to_string()),
        (
            "average_duration_seconds".to_owned(),
            f.average_duration
                .map_or_else(String::new, |d| format!("{d:.1}")),
        ),
        (
            "success_rate_percent".to_owned(),
            f.success_rate
                .map_or_else(String::new, |r| format!("{r:.1}")),
        ),
    ];
    for (option, n) in &f.replies {
        rows.push((format!("reply_{option}"), n.to_string()));
    }
    rows
}
