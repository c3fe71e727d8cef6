//! `outreach report --format html`: one self-contained page (no script, no network, styles
//! inline) rendered from [`crate::report::figures::Figures`] with the project's handlebars.
//!
//! Every chart is inline SVG with a table of its numbers beside it. Every number carries
//! `data-measure="<JSON pointer>"`: where the same figure sits in `report --format json`, so
//! a test (or a reader) can check that the page and the JSON agree.

use std::fmt::Write as _;
use std::io::{self, Write};

use handlebars::Handlebars;
use serde::Serialize;

use crate::report::figures::{Breakdown, Figures, ReportState};
use crate::report::headline::{self, Amount, Line, token};
use crate::report::words;

const TEMPLATE: &str = include_str!("report.html.hbs");

/// Open calls listed on the page; the rest are counted.
const OPEN_LISTED: usize = 200;

/// How the page names a state ([`words::state`]), and its colour: the Okabe–Ito palette, told
/// apart with every common colour blindness (and each chart has its numbers beside it anyway).
fn label_and_colour(state: ReportState) -> (&'static str, &'static str) {
    let colour = match state {
        ReportState::Answered => "#009E73",
        ReportState::Failed => "#D55E00",
        ReportState::NoAnswer => "#E69F00",
        // The palette's last colour, and a neutral grey beside it: both are "not known".
        ReportState::OutcomeUnknown => "#000000",
        ReportState::Completed => "#999999",
        ReportState::InDoubt => "#CC79A7",
        ReportState::Pending => "#56B4E9",
        ReportState::Rejected => "#F0E442",
        ReportState::NotSent => "#0072B2",
    };
    (words::state(state), colour)
}

/// The colour of single-series charts.
const PLAIN: &str = "#0072B2";

/// Writes the page. `figures` are already masked as asked; `masked` says whether they are.
pub fn write(figures: &Figures, masked: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_template_string("report", TEMPLATE)
        .map_err(io::Error::other)?;
    let page = hb
        .render("report", &Page::of(figures, masked))
        .map_err(io::Error::other)?;
    out.write_all(page.as_bytes())
}

/// The view the template renders.
#[derive(Serialize)]
struct Page<'a> {
    campaign: &'a str,
    description: &'a str,
    round: &'a str,
    /// Where the calls went, in words (`the bundled mock`).
    target: String,
    timezone: &'a str,
    first: String,
    last: String,
    /// When the records begin and end, as people read times.
    span: Option<String>,
    plan_error: Option<&'a str>,
    headline: Vec<Headline>,
    sections: Vec<Section>,
    open: Vec<OpenRow>,
    open_total: usize,
    open_more: usize,
    masked: bool,
}

/// A number on the page and its place in `report --format json`.
#[derive(Serialize)]
struct Cell {
    measure: String,
    value: String,
}

fn cell(measure: String, value: String) -> Cell {
    Cell { measure, value }
}

/// One headline figure: its number and place in the JSON, or, when there is no number yet,
/// why (in `value`, with no `measure`).
#[derive(Serialize)]
struct Headline {
    label: String,
    measure: Option<String>,
    value: String,
    unit: &'static str,
}

impl From<Line> for Headline {
    fn from(l: Line) -> Self {
        match l.amount.number() {
            Some(value) => Headline {
                label: l.label,
                measure: Some(l.pointer),
                value,
                unit: l.amount.unit(),
            },
            None => Headline {
                label: l.label,
                measure: None,
                value: l.amount.missing().unwrap_or_default().to_owned(),
                unit: "",
            },
        }
    }
}

/// One open call, each value with its place in the JSON.
#[derive(Serialize)]
struct OpenRow {
    phone: Cell,
    state: OpenState,
    attempt: Cell,
    source: Cell,
    row: Cell,
}

/// An open call's state: in words on the page, its code (`/open/N/state` in the JSON) in
/// `data-state`.
#[derive(Serialize)]
struct OpenState {
    code: &'static str,
    words: &'static str,
}

/// A chart and the table of its numbers.
#[derive(Serialize)]
struct Section {
    #[serde(flatten)]
    heading: Heading,
    svg: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
}

/// What a section is called and says, and what its table's rows are.
#[derive(Serialize)]
struct Heading {
    id: String,
    title: String,
    intro: String,
    row_header: String,
}

fn heading(id: &str, title: &str, intro: &str, row_header: &str) -> Heading {
    Heading {
        id: id.to_owned(),
        title: title.to_owned(),
        intro: intro.to_owned(),
        row_header: row_header.to_owned(),
    }
}

#[derive(Serialize)]
struct Column {
    label: &'static str,
    /// Empty for a column without a swatch.
    colour: &'static str,
}

#[derive(Serialize)]
struct Row {
    label: String,
    /// Where the row's label sits in the JSON, when it is a value there (a timeline bucket).
    label_measure: Option<String>,
    cells: Vec<Cell>,
}

impl<'a> Page<'a> {
    fn of(f: &'a Figures, masked: bool) -> Self {
        let open = f
            .open
            .iter()
            .take(OPEN_LISTED)
            .enumerate()
            .map(|(i, o)| OpenRow {
                phone: cell(
                    format!("/open/{i}/phone"),
                    o.phone.clone().unwrap_or_else(|| "(purged)".to_owned()),
                ),
                state: OpenState {
                    code: o.state.as_str(),
                    words: words::state(ReportState::of(o.state)),
                },
                attempt: cell(format!("/open/{i}/attempt"), o.attempt.to_string()),
                source: cell(
                    format!("/open/{i}/source"),
                    o.source.clone().unwrap_or_default(),
                ),
                row: cell(
                    format!("/open/{i}/row"),
                    o.row.map(|r| r.to_string()).unwrap_or_default(),
                ),
            })
            .collect();
        let opt = |v: Option<&String>| v.cloned().unwrap_or_default();
        Page {
            campaign: &f.campaign,
            description: &f.description,
            round: &f.round,
            target: words::target(&f.target),
            timezone: &f.timezone,
            first: opt(f.first.as_ref()),
            last: opt(f.last.as_ref()),
            span: crate::report::outcomes::span(f),
            plan_error: f.plan_error.as_deref(),
            headline: headline(f),
            sections: sections(f),
            open,
            open_total: f.open.len(),
            open_more: f.open.len().saturating_sub(OPEN_LISTED),
            masked,
        }
    }
}

/// The headline figures ([`headline::headline`]), with the numbers on an opt-out list beside
/// the rows skipped.
fn headline(f: &Figures) -> Vec<Headline> {
    let mut cards = Vec::new();
    for l in headline::headline(f) {
        let skipped = l.pointer == "/plan/skipped";
        cards.push(Headline::from(l));
        if skipped && let Some(p) = &f.plan {
            cards.push(Headline::from(headline::opted_out(p)));
        }
    }
    cards
}

/// The charts, each with its table.
fn sections(f: &Figures) -> Vec<Section> {
    let mut sections = Vec::new();
    if let Some(p) = &f.plan {
        let rows: Vec<(String, String, u64)> = headline::skipped(p)
            .into_iter()
            .map(|l| {
                let n = match l.amount {
                    Amount::Count(n) => n,
                    Amount::Seconds(_) | Amount::Percent(_) => 0,
                };
                (l.label, l.pointer, n)
            })
            .collect();
        sections.push(single_section(
            heading(
                "skipped",
                "Rows skipped, by reason",
                "Patient rows the plan leaves out, and why (from planning the campaign now).",
                "reason",
            ),
            "rows",
            &rows,
        ));
    }
    sections.push(breakdown_section(
        heading(
            "timeline",
            &format!("Calls per {} ({})", f.timeline.bucket, f.timezone),
            "Calls placed (retries included) by when they were sent, and what became of them.",
            if f.timeline.bucket == "day" {
                "day"
            } else {
                "hour"
            },
        ),
        &f.timeline
            .buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    b.label.clone(),
                    Some(format!("/timeline/buckets/{i}/label")),
                    format!("/timeline/buckets/{i}/calls"),
                    &b.calls,
                )
            })
            .collect::<Vec<_>>(),
    ));
    sections.push(breakdown_section(
        heading(
            "by-source",
            words::breakdown("by_source"),
            "Patients by the file they were read from, by the outcome of their latest call.",
            "source",
        ),
        &f.by_source
            .iter()
            .map(|(k, b)| (k.clone(), None, format!("/by_source/{}", token(k)), b))
            .collect::<Vec<_>>(),
    ));
    sections.push(breakdown_section(
        heading(
            "by-accent",
            words::breakdown("by_accent"),
            "Patients by the voice accent they were called with.",
            "accent",
        ),
        &f.by_accent
            .iter()
            .map(|(k, b)| (k.clone(), None, format!("/by_accent/{}", token(k)), b))
            .collect::<Vec<_>>(),
    ));
    sections.extend(by_language_section(f));
    sections.extend(by_column_sections(f));
    sections.push(breakdown_section(
        heading(
            "by-attempt",
            words::breakdown("by_attempt"),
            "Patients by the number of their latest attempt and its outcome.",
            "attempt",
        ),
        &f.by_attempt
            .iter()
            .map(|(n, b)| (n.to_string(), None, format!("/by_attempt/{n}"), b))
            .collect::<Vec<_>>(),
    ));
    let replies: Vec<(String, String, u64)> = f
        .replies
        .iter()
        .map(|(k, n)| (k.clone(), format!("/replies/{}", token(k)), *n))
        .collect();
    sections.push(single_section(
        heading(
            "replies",
            "Reply options chosen",
            "Answered calls by the option the patient chose.",
            "option",
        ),
        "answered calls",
        &replies,
    ));
    sections
}

/// Patients by the language their call was placed in, when any call has one: the groups as
/// the JSON has them, each with its success rate beside its counts.
fn by_language_section(f: &Figures) -> Option<Section> {
    if f.by_language.is_empty() {
        return None;
    }
    let mut section = breakdown_section(
        heading(
            "by-language",
            words::breakdown("by_language"),
            "Patients by the language they were called in (as the ledger recorded it), by the outcome of their latest call, with the success rate of each: answered of ended calls.",
            "language",
        ),
        &f.by_language
            .iter()
            .enumerate()
            .map(|(j, g)| {
                let measure = g
                    .language
                    .is_some()
                    .then(|| format!("/by_language/{j}/language"));
                (g.label(), measure, format!("/by_language/{j}"), &g.calls)
            })
            .collect::<Vec<_>>(),
    );
    section.columns.push(Column {
        label: "success rate (%)",
        colour: "",
    });
    for (j, (row, g)) in section.rows.iter_mut().zip(&f.by_language).enumerate() {
        row.cells.push(cell(
            format!("/by_language/{j}/success_rate"),
            g.success_rate
                .map_or_else(|| "n/a".to_owned(), words::tenths),
        ));
    }
    Some(section)
}

/// `report --by COLUMN`: one more chart per column, its groups as the JSON has them.
fn by_column_sections(f: &Figures) -> Vec<Section> {
    let mut out = Vec::new();
    for (i, c) in f.by_column.iter().enumerate() {
        let column = crate::load::diagnostic::inert(&c.column);
        out.push(breakdown_section(
            heading(
                &format!("by-column-{i}"),
                &format!("Outcomes by {column}"),
                &format!(
                    "Patients by the {column} their row had when they were called (as the ledger recorded it), by the outcome of their latest call."
                ),
                &column,
            ),
            &c.groups
                .iter()
                .enumerate()
                .map(|(j, g)| {
                    let label = g.label();
                    // The label is the JSON's value only when it is shown as it is stored.
                    let measure = (g.value.as_deref() == Some(label.as_str()))
                        .then(|| format!("/by_column/{i}/groups/{j}/value"));
                    (label, measure, format!("/by_column/{i}/groups/{j}"), &g.calls)
                })
                .collect::<Vec<_>>(),
        ));
    }
    out
}

/// A chart of one count per row, with its table.
fn single_section(
    heading: Heading,
    column: &'static str,
    rows: &[(String, String, u64)],
) -> Section {
    let svg = stacked_bars(
        &heading.title,
        &rows
            .iter()
            .map(|(label, _, n)| (label.clone(), vec![*n]))
            .collect::<Vec<_>>(),
        &[(column, PLAIN)],
    );
    Section {
        heading,
        svg,
        columns: vec![Column {
            label: column,
            colour: "",
        }],
        rows: rows
            .iter()
            .map(|(label, measure, n)| Row {
                label: label.clone(),
                label_measure: None,
                cells: vec![cell(measure.clone(), n.to_string())],
            })
            .collect(),
    }
}

/// A stacked chart of outcomes per row, with its table (total and every state).
fn breakdown_section(
    heading: Heading,
    rows: &[(String, Option<String>, String, &Breakdown)],
) -> Section {
    let series: Vec<(&str, &str)> = ReportState::ALL.map(label_and_colour).to_vec();
    let svg = stacked_bars(
        &heading.title,
        &rows
            .iter()
            .map(|(label, _, _, b)| {
                (
                    label.clone(),
                    ReportState::ALL.iter().map(|s| b.get(*s)).collect(),
                )
            })
            .collect::<Vec<_>>(),
        &series,
    );
    let mut columns = vec![Column {
        label: "total",
        colour: "",
    }];
    columns.extend(
        series
            .iter()
            .map(|(label, colour)| Column { label, colour }),
    );
    Section {
        heading,
        svg,
        columns,
        rows: rows
            .iter()
            .map(|(label, label_measure, base, b)| {
                let mut cells = vec![cell(format!("{base}/total"), b.total.to_string())];
                cells.extend(
                    ReportState::ALL
                        .iter()
                        .map(|s| cell(format!("{base}/{}", s.as_str()), b.get(*s).to_string())),
                );
                Row {
                    label: label.clone(),
                    label_measure: label_measure.clone(),
                    cells,
                }
            })
            .collect(),
    }
}

/// A chart's label cut to `max` characters: a path keeps its end (the file's name), words
/// their start.
fn shorten(label: &str, max: usize) -> String {
    let count = label.chars().count();
    if count <= max {
        label.to_owned()
    } else if label.contains('/') {
        let end: String = label.chars().skip(count - (max - 1)).collect();
        format!("…{end}")
    } else {
        let start: String = label.chars().take(max - 1).collect();
        format!("{}…", start.trim_end())
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal stacked bars, one per row, scaled to the largest row total. Hand-written SVG:
/// a few rectangles need no charting library.
fn stacked_bars(title: &str, rows: &[(String, Vec<u64>)], series: &[(&str, &str)]) -> String {
    const WIDTH: u32 = 600;
    const LABEL: u32 = 210;
    const ROW: u32 = 20;
    const BAR: u32 = 14;
    let legend_rows = if series.len() > 1 {
        u32::try_from(series.len().div_ceil(4)).unwrap_or(1)
    } else {
        0
    };
    let top = 8 + legend_rows * 18;
    let count = u32::try_from(rows.len()).unwrap_or(u32::MAX).max(1);
    let height = top + count * ROW + 8;
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = f64::from(WIDTH - LABEL - 50);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    if legend_rows > 0 {
        for (i, (label, colour)) in series.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(0);
            let x = 4 + (i % 4) * 135;
            let y = 6 + (i / 4) * 18;
            let _ = write!(
                s,
                r##"<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}" stroke="#333" stroke-width="0.5"/><text x="{}" y="{}" font-size="11">{}</text>"##,
                x + 16,
                y + 10,
                escape(label)
            );
        }
    }
    if rows.is_empty() {
        let _ = write!(
            s,
            r##"<text x="4" y="{}" font-size="12" fill="#555">nothing recorded</text>"##,
            top + 14
        );
    }
    for (r, (label, values)) in rows.iter().enumerate() {
        let y = top + u32::try_from(r).unwrap_or(0) * ROW;
        let shown = shorten(label, 34);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
            LABEL - 6,
            y + 11,
            escape(&shown)
        );
        let mut x = f64::from(LABEL);
        for (v, (name, colour)) in values.iter().zip(series) {
            if *v == 0 {
                continue;
            }
            #[expect(clippy::cast_precision_loss, reason = "pixels")]
            let w = *v as f64 * plot / max as f64;
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="{BAR}" fill="{colour}" stroke="#333" stroke-width="0.5"><title>{}: {v}</title></rect>"##,
                escape(name)
            );
            x += w;
        }
        let total: u64 = values.iter().sum();
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="11">{total}</text>"#,
            x + 4.0,
            y + 11
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_keep_a_path_s_end_and_words_their_start() {
        assert_eq!(shorten("short", 34), "short");
        assert_eq!(
            shorten("clinics/lagos/2026/december/measles-second-dose.csv", 20),
            "…les-second-dose.csv"
        );
        assert_eq!(
            shorten("numbers that are not a mobile or fixed line", 34),
            "numbers that are not a mobile or…"
        );
    }

    #[test]
    fn an_empty_report_renders_without_script_or_network() {
        let mut out = Vec::new();
        write(&Figures::default(), true, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        for banned in ["<script", "http://", "https://", "src=", "url(", "<link"] {
            assert!(!page.contains(banned), "{banned}");
        }
        assert_eq!(
            page.matches("<svg").count(),
            page.matches("<figure class=\"chart\"").count()
        );
    }
}
