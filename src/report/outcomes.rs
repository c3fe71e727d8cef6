//! `outreach report`: the figures ([`crate::report::figures`]) as a table, CSV, JSON or an
//! HTML page ([`crate::report::html`]).

use std::io::{self, Write};
use std::path::Path;

use crate::report::document::{Document, write_pretty};
use crate::report::figures::{Figures, ReportState, breakdowns, measures};
use crate::report::headline::{self, Line, headline};
use crate::report::words;
use crate::settings::formats::ReportFormat;

/// `report --format json` (`"format": "outreach-report"`): the figures, as they are.
impl Document for Figures {
    const FORMAT: &'static str = "outreach-report";
    // 2: a timeline bucket's `start` is RFC 3339 and its `label` is for people; `first_local`
    // and `last_local` are in the one time format for people.
    const VERSION: u32 = 2;
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
            for table in breakdowns(&f) {
                let name = &table.name;
                for row in table.rows {
                    let (key, b) = (&row.key, &row.calls);
                    writeln!(
                        out,
                        "{prefix},{},{}",
                        csv_cell(&format!("{name}.{key}.total")),
                        b.total
                    )?;
                    for state in ReportState::ALL {
                        writeln!(
                            out,
                            "{prefix},{},{}",
                            csv_cell(&format!("{name}.{key}.{}", state.as_str())),
                            b.get(state)
                        )?;
                    }
                    if table.rated {
                        writeln!(
                            out,
                            "{prefix},{},{}",
                            csv_cell(&format!("{name}.{key}.success_rate_percent")),
                            row.success_rate
                                .map_or_else(String::new, |r| format!("{r:.1}"))
                        )?;
                    }
                }
            }
            Ok(())
        }
        ReportFormat::Table => table(&f, out),
    }
}

/// The heading of a rated breakdown's last column: answered of its ended calls.
const RATE: &str = "success rate";

/// The report for people: the campaign, its headline figures in words, then each breakdown
/// as a table with the states as columns.
fn table(f: &Figures, out: &mut dyn Write) -> io::Result<()> {
    let round = if f.round.is_empty() {
        String::new()
    } else {
        format!(", round {}", f.round)
    };
    writeln!(
        out,
        "{}{round}: calls on {}",
        f.campaign,
        words::target(&f.target)
    )?;
    if let Some(note) = &f.target_note {
        writeln!(out, "  ({note})")?;
    }
    if !f.description.is_empty() {
        writeln!(out, "  {}", f.description)?;
    }
    if let Some(span) = span(f) {
        writeln!(out, "  {span}")?;
    }
    if let Some(e) = &f.plan_error {
        writeln!(out, "  planned: unknown ({e})")?;
    }
    let mut lines: Vec<(usize, Line)> = Vec::new();
    for l in headline(f) {
        let skipped = l.pointer == "/plan/skipped";
        lines.push((0, l));
        if skipped && let Some(p) = &f.plan {
            lines.extend(headline::skipped(p).into_iter().map(|l| (1, l)));
        }
    }
    lines.extend(headline::replies(f).into_iter().map(|l| (0, l)));
    let width = lines
        .iter()
        .map(|(depth, l)| depth * 2 + l.label.chars().count())
        .max()
        .unwrap_or(0);
    writeln!(out)?;
    for (depth, l) in &lines {
        let label = format!("{}{}", "  ".repeat(*depth), l.label);
        let value = match (l.amount.number(), l.amount.unit()) {
            (Some(n), "") => format!("{n:>6}"),
            (Some(n), unit) => format!("{n:>6} {unit}"),
            (None, _) => l.amount.missing().unwrap_or_default().to_owned(),
        };
        writeln!(out, "  {label:<width$}  {value}")?;
    }
    let breakdowns = breakdowns(f);
    let seen = |state: ReportState| {
        f.latest.get(state) > 0
            || breakdowns
                .iter()
                .any(|t| t.rows.iter().any(|r| r.calls.get(state) > 0))
    };
    let columns: Vec<ReportState> = ReportState::ALL
        .into_iter()
        .filter(|s| !s.said_only_when_seen() || seen(*s))
        .collect();
    for table in breakdowns {
        let rows = &table.rows;
        if rows.is_empty() {
            continue;
        }
        let title = match table.name.as_ref() {
            "timeline" => format!("Calls per {} ({})", f.timeline.bucket, f.timezone),
            other => match other.strip_prefix("by_column.") {
                Some(column) => format!("Outcomes by {column}"),
                None => words::breakdown(other).to_owned(),
            },
        };
        let width = rows
            .iter()
            .map(|r| r.label.chars().count())
            .max()
            .unwrap_or(0)
            .max(title.chars().count());
        writeln!(out)?;
        write!(out, "{title:<width$} {:>6}", "total")?;
        for state in &columns {
            write!(out, "  {}", words::state(*state))?;
        }
        if table.rated {
            write!(out, "  {RATE}")?;
        }
        writeln!(out)?;
        for row in rows {
            let (label, b) = (&row.label, &row.calls);
            write!(out, "{label:<width$} {:>6}", b.total)?;
            for state in &columns {
                let w = words::state(*state).chars().count();
                write!(out, "  {:>w$}", b.get(*state))?;
            }
            if table.rated {
                let rate = row
                    .success_rate
                    .map_or_else(|| "n/a".to_owned(), |r| format!("{} %", words::tenths(r)));
                write!(out, "  {rate:>w$}", w = RATE.len())?;
            }
            writeln!(out)?;
        }
    }
    if !f.open.is_empty() {
        writeln!(out)?;
        writeln!(out, "Still open ({}):", f.open.len())?;
        for o in f.open.iter().take(20) {
            writeln!(
                out,
                "  {} {} (attempt {}) {}{}",
                o.phone.as_deref().unwrap_or("(purged)"),
                words::state(ReportState::of(o.state)),
                o.attempt,
                o.source.as_deref().unwrap_or(""),
                o.row.map(|r| format!(" row {r}")).unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

/// When the ledger's records begin and end, as people read times (`Tue 1 Dec 09:14 WAT`).
pub(crate) fn span(f: &Figures) -> Option<String> {
    let zone = jiff::tz::TimeZone::get(&f.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let at = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| crate::clock::human(t, &zone))
    };
    Some(format!("from {} to {}", at(&f.first)?, at(&f.last)?))
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

    // Issue 20: the table and the CSV show each language's success rate beside its counts.
    #[test]
    fn the_table_and_csv_show_each_language_with_its_success_rate() {
        use crate::report::figures::{Breakdown, LanguageGroup};
        let group = |language: Option<&str>, total, success_rate| LanguageGroup {
            language: language.map(str::to_owned),
            calls: Breakdown {
                total,
                ..Breakdown::default()
            },
            success_rate,
        };
        let f = Figures {
            campaign: "c".into(),
            by_language: vec![group(Some("ha"), 3, Some(66.7)), group(None, 1, None)],
            ..Figures::default()
        };
        let mut out = Vec::new();
        write(&f, ReportFormat::Table, false, &mut out).unwrap();
        let table = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = table
            .lines()
            .skip_while(|l| !l.starts_with("Outcomes by language"))
            .take(3)
            .collect();
        assert!(lines[0].ends_with("success rate"), "{table}");
        assert!(
            lines[1].starts_with("ha ") && lines[1].ends_with("66.7 %"),
            "{table}"
        );
        assert!(
            lines[2].starts_with("(not recorded)") && lines[2].ends_with("n/a"),
            "{table}"
        );
        let mut out = Vec::new();
        write(&f, ReportFormat::Csv, false, &mut out).unwrap();
        let csv = String::from_utf8(out).unwrap();
        for line in [
            "c,,,by_language.ha.total,3",
            "c,,,by_language.ha.success_rate_percent,66.7",
            "c,,,by_language.(not recorded).total,1",
            "c,,,by_language.(not recorded).success_rate_percent,",
        ] {
            assert!(csv.lines().any(|l| l == line), "{line} in {csv}");
        }
    }

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
                "{\n  \"format\": \"outreach-report\",\n  \"version\": 2,\n  \"campaign\": \"c\","
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
