//! `outreach report`: the figures ([`crate::report::figures`]) as a table, CSV, JSON or an
//! HTML page ([`crate::report::html`]).

use std::io::{self, Write};
use std::path::Path;

use crate::report::document::{Document, write_pretty};
use crate::report::figures::{Figures, ReportState, breakdowns, measures};
use crate::settings::formats::ReportFormat;

/// `report --format json` (`"format": "outreach-report"`): the figures, as they are.
impl Document for Figures {
    const FORMAT: &'static str = "outreach-report";
    const VERSION: u32 = 1;
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
        ReportFormat::Json => write_pretty(&f, out),
        ReportFormat::Html => crate::report::html::write(&f, !unmask, out),
        ReportFormat::Csv => {
            writeln!(out, "campaign,round,target,measure,value")?;
            let prefix = format!(
                "{},{},{}",
                csv_cell(&f.campaign),
                csv_cell(&f.round),
                csv_cell(&f.target)
            );
            for (k, v) in measures(&f) {
                writeln!(out, "{prefix},{},{v}", csv_cell(&k))?;
            }
            for (name, rows) in breakdowns(&f) {
                for (row, b) in rows {
                    writeln!(
                        out,
                        "{prefix},{},{}",
                        csv_cell(&format!("{name}.{row}.total")),
                        b.total
                    )?;
                    for state in ReportState::ALL {
                        writeln!(
                            out,
                            "{prefix},{},{}",
                            csv_cell(&format!("{name}.{row}.{}", state.as_str())),
                            b.get(state)
                        )?;
                    }
                }
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
            if let (Some(a), Some(b)) = (&f.first_local, &f.last_local) {
                writeln!(out, "  from {a} to {b}")?;
            }
            if let Some(e) = &f.plan_error {
                writeln!(out, "  planned: unknown ({e})")?;
            }
            for (k, v) in measures(&f) {
                writeln!(out, "  {k:<28} {v:>10}")?;
            }
            for (name, rows) in breakdowns(&f) {
                if rows.is_empty() {
                    continue;
                }
                let title = match name {
                    "timeline" => format!("calls per {} ({})", f.timeline.bucket, f.timezone),
                    other => other.replace('_', " "),
                };
                let width = rows
                    .iter()
                    .map(|(r, _)| r.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(title.chars().count());
                write!(out, "{title:<width$} {:>8}", "total")?;
                for state in ReportState::ALL {
                    write!(out, " {:>9}", state.as_str())?;
                }
                writeln!(out)?;
                for (row, b) in &rows {
                    write!(out, "{row:<width$} {:>8}", b.total)?;
                    for state in ReportState::ALL {
                        write!(out, " {:>9}", b.get(state))?;
                    }
                    writeln!(out)?;
                }
            }
            if !f.open.is_empty() {
                writeln!(out, "Still open ({}):", f.open.len())?;
                for o in f.open.iter().take(20) {
                    writeln!(
                        out,
                        "  {} {} (attempt {}) {}{}",
                        o.phone.as_deref().unwrap_or("(purged)"),
                        o.state.as_str(),
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

/// Says where the report of `campaign` was written (`report --out FILE`).
pub fn wrote(campaign: &str, path: &Path, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Wrote the report of {campaign} to {}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::CallState;
    use crate::report::figures::OpenCall;

    #[test]
    fn the_json_leads_with_its_format_and_keeps_the_states_as_fields() {
        let f = Figures {
            campaign: "c".into(),
            open: vec![OpenCall {
                phone: Some("+2348031234567".into()),
                state: CallState::InDoubt,
                attempt: 1,
                source: None,
                row: None,
            }],
            ..Figures::default()
        };
        let mut out = Vec::new();
        write(&f, ReportFormat::Json, false, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "{\n  \"format\": \"outreach-report\",\n  \"version\": 1,\n  \"campaign\": \"c\","
            ),
            "{text}"
        );
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for state in ReportState::ALL {
            assert_eq!(doc[state.as_str()], 0, "{state:?}");
        }
        assert_eq!(doc["open"][0]["state"], "in_doubt");
        assert_eq!(doc["open"][0]["phone"], "+234******4567", "masked");
    }
}
