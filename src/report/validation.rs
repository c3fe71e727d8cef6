//! Reporters: the only code that formats results for people and machines. One trait, one
//! implementation per output format; callers pick one from the `ValidateFormat` setting.

use std::fmt;
use std::io::{self, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use serde::Serialize;

use crate::load::diagnostic::{Code, Diagnostic, FileReport, Severity, inert};
use crate::report::document::{Document, write_pretty};
use crate::report::excerpt::Excerpt;
use crate::report::words::plural;
use crate::settings::formats::ValidateFormat;

/// Writes validation results in one format.
pub trait Reporter {
    fn validation(&self, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()>;
}

/// The reporter for a format. `color` applies to the human format only.
pub fn reporter(format: ValidateFormat, color: bool) -> Box<dyn Reporter> {
    match format {
        ValidateFormat::Human => Box::new(Human { color }),
        ValidateFormat::Json => Box::new(Json),
        ValidateFormat::Junit => Box::new(Junit),
        ValidateFormat::Github => Box::new(Github),
    }
}

/// Totals over a set of file reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(reports: &[FileReport]) -> Self {
        let mut s = Summary::default();
        for r in reports {
            s.files += 1;
            s.valid += usize::from(r.is_valid());
            s.errors += r.errors();
            s.warnings += r.warnings();
        }
        s
    }
}

/// The human format, rendered with miette.
pub struct Human {
    pub color: bool,
}

struct Shown<'a> {
    diag: &'a Diagnostic,
    message: String,
    help: Option<String>,
    source: Option<Excerpt>,
    label: Option<LabeledSpan>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

impl Human {
    fn render(&self, report: &FileReport, diag: &Diagnostic) -> String {
        let path = report.path.display().to_string();
        let located = diag.span.zip(report.source.as_ref());
        let (source, label, message) = match located {
            // An empty file has nothing to underline.
            Some((span, text)) if text.trim().is_empty() => (
                None,
                None,
                format!(
                    "{path}:{}:{}: {}",
                    span.start.line, span.start.column, diag.message
                ),
            ),
            Some((span, text)) => {
                // Underline the first line of the value only: a whole mapping is noise.
                let excerpt = Excerpt::around(path, text, span.start.offset, span.end.offset);
                let label = LabeledSpan::new_with_span(Some(label_for(diag)), excerpt.label());
                (Some(excerpt), Some(label), diag.message.clone())
            }
            None => match diag.span {
                Some(s) => (
                    None,
                    None,
                    format!(
                        "{path}:{}:{}: {}",
                        s.start.line, s.start.column, diag.message
                    ),
                ),
                None => (None, None, format!("{path}: {}", diag.message)),
            },
        };
        let shown = Shown {
            diag,
            // Messages may quote the file; nothing in them may act on the terminal.
            message: inert(&message),
            help: diag.help.as_deref().map(inert),
            source,
            label,
        };
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(120)
            .with_links(false)
            .with_context_lines(1);
        let mut out = String::new();
        if handler.render_report(&mut out, &shown).is_err() {
            // miette found a place it could not read: say it in one line rather than not at all.
            out = one_line(report, diag);
            out.push('\n');
        }
        out
    }
}

/// How many problems of a file the human format shows with the lines around them.
const SHOWN_IN_FULL: usize = 50;

fn label_for(diag: &Diagnostic) -> String {
    match diag.code {
        Code::UnknownKey => "unknown field".to_owned(),
        Code::MissingKey => "required field missing here".to_owned(),
        _ => "here".to_owned(),
    }
}

impl Reporter for Human {
    fn validation(&self, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
        for r in reports {
            if r.diagnostics.is_empty() {
                writeln!(out, "ok: {}", r.path.display())?;
                continue;
            }
            // Each problem shown in full costs a look through the file around it: past the
            // first few, a hostile file of 50,000 unknown keys would take hours. The rest are
            // one line each (all of them are in `--format json`).
            for (i, d) in r.diagnostics.iter().enumerate() {
                if i < SHOWN_IN_FULL {
                    write!(out, "{}", self.render(r, d))?;
                    writeln!(out)?;
                    continue;
                }
                if i == SHOWN_IN_FULL {
                    let n = r.diagnostics.len() - SHOWN_IN_FULL;
                    let problems = if n == 1 { "problem" } else { "problems" };
                    writeln!(
                        out,
                        "{n} more {problems} in {}, one line each:",
                        r.path.display()
                    )?;
                }
                writeln!(out, "{}", inert(&one_line(r, d)))?;
            }
            if r.diagnostics.len() > SHOWN_IN_FULL {
                writeln!(out)?;
            }
            let verdict = if r.is_valid() { "valid" } else { "INVALID" };
            writeln!(
                out,
                "{}: {verdict} ({}, {})",
                r.path.display(),
                plural(r.errors(), "error"),
                plural(r.warnings(), "warning")
            )?;
        }
        let s = Summary::of(reports);
        writeln!(
            out,
            "\n{} checked: {} valid, {} invalid ({}, {})",
            plural(s.files, "file"),
            s.valid,
            s.files - s.valid,
            plural(s.errors, "error"),
            plural(s.warnings, "warning")
        )
    }
}

/// The JSON format. Its shape is documented in the README and versioned by `version`.
pub struct Json;

/// `validate --format json` (`"format": "outreach-validate"`).
#[derive(Debug, Serialize)]
pub struct ValidationDocument<'a> {
    /// Whether every file is valid.
    pub valid: bool,
    pub files: Vec<FileEntry<'a>>,
    pub summary: Totals,
}

impl Document for ValidationDocument<'_> {
    const FORMAT: &'static str = "outreach-validate";
    const VERSION: u32 = 1;
}

/// One file checked.
#[derive(Debug, Serialize)]
pub struct FileEntry<'a> {
    pub path: String,
    pub valid: bool,
    #[serde(flatten)]
    pub problems: Problems<'a>,
}

/// A file's problems: counted, then listed. Also the body of `watch`'s `invalid` event.
#[derive(Debug, Serialize)]
pub struct Problems<'a> {
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<DiagnosticEntry<'a>>,
}

impl<'a> Problems<'a> {
    pub fn of(report: &'a FileReport) -> Self {
        Problems {
            errors: report.errors(),
            warnings: report.warnings(),
            diagnostics: report.diagnostics.iter().map(DiagnosticEntry::of).collect(),
        }
    }
}

/// One diagnostic, its span as 1-based lines and columns (`null` when it has none).
#[derive(Debug, Serialize)]
pub struct DiagnosticEntry<'a> {
    pub severity: Severity,
    pub code: &'static str,
    pub message: &'a str,
    pub pointer: &'a str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub help: Option<&'a str>,
}

impl<'a> DiagnosticEntry<'a> {
    pub fn of(d: &'a Diagnostic) -> Self {
        DiagnosticEntry {
            severity: d.severity,
            code: d.code.as_str(),
            message: &d.message,
            pointer: &d.pointer,
            line: d.span.map(|s| s.start.line),
            column: d.span.map(|s| s.start.column),
            end_line: d.span.map(|s| s.end.line),
            end_column: d.span.map(|s| s.end.column),
            help: d.help.as_deref(),
        }
    }
}

/// Totals over the files.
#[derive(Debug, Serialize)]
pub struct Totals {
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Reporter for Json {
    fn validation(&self, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
        let s = Summary::of(reports);
        let doc = ValidationDocument {
            valid: s.valid == s.files,
            files: reports
                .iter()
                .map(|r| FileEntry {
                    path: r.path.display().to_string(),
                    valid: r.is_valid(),
                    problems: Problems::of(r),
                })
                .collect(),
            summary: Totals {
                files: s.files,
                valid: s.valid,
                invalid: s.files - s.valid,
                errors: s.errors,
                warnings: s.warnings,
            },
        };
        write_pretty(&doc, out)
    }
}

/// JUnit XML.
pub struct Junit;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn one_line(r: &FileReport, d: &Diagnostic) -> String {
    let place = d.span.map_or_else(
        || r.path.display().to_string(),
        |s| format!("{}:{}:{}", r.path.display(), s.start.line, s.start.column),
    );
    let help = d
        .help
        .as_ref()
        .map(|h| format!(" (help: {h})"))
        .unwrap_or_default();
    format!(
        "{place}: {}[{}]: {}{help}",
        d.severity.as_str(),
        d.code,
        d.message
    )
}

impl Reporter for Junit {
    fn validation(&self, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
        let s = Summary::of(reports);
        let failures = s.files - s.valid;
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="outreach validate" tests="{}" failures="{failures}" errors="0">"#,
            s.files
        )?;
        writeln!(
            out,
            r#"  <testsuite name="outreach validate" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
            s.files
        )?;
        for r in reports {
            let name = xml_escape(&r.path.display().to_string());
            write!(
                out,
                r#"    <testcase classname="outreach.validate" name="{name}""#
            )?;
            let lines: Vec<String> = r.diagnostics.iter().map(|d| one_line(r, d)).collect();
            if r.is_valid() && lines.is_empty() {
                writeln!(out, "/>")?;
                continue;
            }
            writeln!(out, ">")?;
            if r.is_valid() {
                writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    xml_escape(&lines.join("\n"))
                )?;
            } else {
                writeln!(
                    out,
                    r#"      <failure type="invalid-campaign" message="{}">{}</failure>"#,
                    xml_escape(&format!(
                        "{} in {}",
                        plural(r.errors(), "error"),
                        r.path.display()
                    )),
                    xml_escape(&lines.join("\n"))
                )?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

/// GitHub Actions workflow commands (`::error file=…,line=…::message`).
pub struct Github;

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

impl Reporter for Github {
    fn validation(&self, reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
        for r in reports {
            for d in &r.diagnostics {
                let mut props = vec![format!(
                    "file={}",
                    gh_property(&r.path.display().to_string())
                )];
                if let Some(s) = d.span {
                    props.push(format!("line={}", s.start.line));
                    props.push(format!("col={}", s.start.column));
                    if s.end.line == s.start.line {
                        props.push(format!("endColumn={}", s.end.column));
                    }
                }
                props.push(format!(
                    "title={}",
                    gh_property(&format!("outreach {}", d.code))
                ));
                let mut message = d.message.clone();
                if let Some(h) = &d.help {
                    message.push_str("\nhelp: ");
                    message.push_str(h);
                }
                writeln!(
                    out,
                    "::{} {}::{}",
                    d.severity.as_str(),
                    props.join(","),
                    gh_data(&inert(&message))
                )?;
            }
        }
        let s = Summary::of(reports);
        writeln!(
            out,
            "{} checked: {} valid, {} invalid ({}, {})",
            plural(s.files, "file"),
            s.valid,
            s.files - s.valid,
            plural(s.errors, "error"),
            plural(s.warnings, "warning")
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_diagnostic_without_a_place_has_null_lines_and_columns() {
        let mut report = FileReport::new(Path::new("big.yaml"));
        report
            .diagnostics
            .push(Diagnostic::error(Code::FileTooLarge, "too large").help("split it"));
        let mut out = Vec::new();
        Json.validation(&[report], &mut out).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "format": "outreach-validate",
                "version": 1,
                "valid": false,
                "files": [{
                    "path": "big.yaml",
                    "valid": false,
                    "errors": 1,
                    "warnings": 0,
                    "diagnostics": [{
                        "severity": "error",
                        "code": "file-too-large",
                        "message": "too large",
                        "pointer": "",
                        "line": null, "column": null, "end_line": null, "end_column": null,
                        "help": "split it",
                    }],
                }],
                "summary": {"files": 1, "valid": 0, "invalid": 1, "errors": 1, "warnings": 0},
            })
        );
    }
}
