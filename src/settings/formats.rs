//! The output formats a user chooses (`--format`), per command: settings the stages and the
//! reporters read, defined here so that neither `cli/` nor a stage needs `report/` to name them.

/// Output formats of `outreach report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    /// One self-contained page: charts as inline SVG, each with its numbers; prints on A4.
    Html,
}

/// Output formats of `outreach plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A summary, a sample of calls and the skipped rows grouped by reason.
    Human,
    /// The same as a JSON document (`format: outreach-plan-summary`), for CI.
    Json,
    /// A pull-request comment: summary table, sample, skip reasons.
    Markdown,
}

/// Output formats of `outreach validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    /// For people: each problem with the offending line underlined.
    Human,
    /// A documented JSON document (`format`, `version`, `files`, `summary`).
    Json,
    /// JUnit XML: one test case per file, for CI test dashboards.
    Junit,
    /// GitHub Actions workflow commands: annotations on the pull request's lines.
    Github,
}

/// Output formats of `outreach watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WatchFormat {
    /// For people: what changed since the previous plan, diagnostics with the line underlined.
    Human,
    /// One JSON object per line (`{"event": "run", …}`), for tools and tests.
    Json,
}

/// Formats of a per-patient list (`plan --list`), written by `report/list_file.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Comma-separated, one row per line; cells a spreadsheet would run as formulas made inert.
    Csv,
    /// An Excel workbook (needs --out FILE): header bold and frozen, numbers as numbers.
    Xlsx,
    /// One JSON document (`format: outreach-list`), rows as objects keyed by column.
    Json,
}

/// The per-patient lists `report --list` writes, from the ledger (and `skipped`, from
/// planning the campaign now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PatientListKind {
    /// No answered call, and none still due or pending: failed, no answer, in doubt, not
    /// sent, rejected, outcome unknown, with no retry left.
    Unreached,
    /// At least one call answered.
    Answered,
    /// The latest call failed.
    Failed,
    /// The latest call was not answered.
    NoAnswer,
    /// The latest call's request may or may not have reached the service.
    InDoubt,
    /// The latest call is accepted or being sent, its outcome not known yet.
    Pending,
    /// Every row the plan leaves out, as `plan --list skipped` writes it.
    Skipped,
}

/// The per-patient lists `plan --list` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListKind {
    /// Every row the plan leaves out, filtered rows included: its source, row, reason and
    /// the value at fault, for the clinic to fix.
    Skipped,
}
