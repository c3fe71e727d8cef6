//! `outreach report`: a campaign's outcomes as a table, CSV, JSON or an HTML page.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use crate::Outcome;
use crate::report::list_file::Destination;
use crate::report::shown_target::ShownTarget;
use crate::report::{outcomes, patient_list};
use crate::settings::formats::PatientListKind;
use crate::settings::formats::ReportFormat;
use crate::settings::target::TargetId;
use crate::validate;

/// What `outreach report` was asked for.
pub struct ReportArgs<'a> {
    pub campaign: &'a Path,
    pub state: &'a Path,
    /// The target a flag named; `None`: the one the ledger has calls of the campaign on.
    pub target: Option<&'a TargetId>,
    pub format: ReportFormat,
    /// Write the report here instead of to standard output.
    pub file: Option<&'a Path>,
    pub unmask: bool,
    /// `--by COLUMN`: columns of the campaign's `list_columns:`.
    pub by: &'a [String],
    /// `--list KIND`: a list of patients instead of the figures.
    pub list: Option<&'a crate::settings::PatientListSettings>,
}

/// Runs `outreach report`.
pub fn run(a: &ReportArgs<'_>, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let checked = validate::check_file(a.campaign);
    let c = checked
        .campaign
        .with_context(|| format!("{} is not a valid campaign", a.campaign.display()))?;
    check_by(a.by, &c.list_columns)?;
    if let Some(list) = a.list
        && list.kind == PatientListKind::Skipped
    {
        // The plan's skipped rows, as `plan --list skipped` writes them; no ledger needed.
        return skipped(&c, a, list.format, out);
    }
    let ledger = super::open_existing(a.state)?;
    let shown = ShownTarget::pick(a.target, &ledger.counts(Some(&c.name))?);
    if let Some(list) = a.list {
        if let Some(note) = shown.note() {
            tracing::info!("the list is of {}: {note}", shown.id);
        }
        let round = c.round.clone().unwrap_or_default();
        let attempts = ledger.attempts(&shown.id, &c.name, &round, &[])?;
        let destination = match a.file {
            Some(path) => Destination::File(path),
            None => Destination::Stdout(&mut *out),
        };
        let rows =
            patient_list::write(&c, &attempts, list.kind, list.format, destination, a.unmask)?;
        if let Some(path) = a.file {
            patient_list::wrote(rows, list.kind, path, out)?;
        }
        return Ok(Outcome::Success);
    }
    let mut figures =
        crate::report::figures::Figures::compute(&ledger, &shown.id, &c, a.campaign, a.by)?;
    figures.target_note = shown.note();
    if a.format != ReportFormat::Table
        && let Some(note) = &figures.target_note
    {
        tracing::warn!("the report shows {}: {note}", shown.id);
    }
    if let Some(e) = &figures.plan_error {
        tracing::warn!(
            "the campaign could not be planned, so the report has no planned or skipped counts: {e}"
        );
    }
    match a.file {
        Some(path) => {
            // Owner-only and never through a link: a report can hold full numbers (--unmask).
            let mut w = std::io::BufWriter::new(
                crate::private::create(path, crate::private::Existing::Truncate)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            );
            outcomes::write(&figures, a.format, a.unmask, &mut w)?;
            w.flush()
                .with_context(|| format!("cannot write {}", path.display()))?;
            outcomes::wrote(&figures.campaign, path, out)?;
        }
        None => outcomes::write(&figures, a.format, a.unmask, out)?,
    }
    Ok(Outcome::Success)
}

/// Every `--by` column is one the campaign keeps with its calls (`list_columns:`): any other
/// was never recorded, and a breakdown of it would be one group of `(not recorded)`.
fn check_by(by: &[String], kept: &[String]) -> anyhow::Result<()> {
    let Some(unknown) = by.iter().find(|c| !kept.contains(c)) else {
        return Ok(());
    };
    let shown = crate::load::diagnostic::quoted(unknown);
    if kept.is_empty() {
        anyhow::bail!(
            "--by {shown}: the campaign keeps no column with its calls; list the columns to break reports down by under `list_columns:` (`list_columns: [clinic]`), and calls placed from then on record them"
        );
    }
    anyhow::bail!(
        "--by {shown}: not one of the campaign's list_columns ({}); only those are recorded with each call",
        kept.join(", ")
    )
}

/// `report --list skipped`: every row planning the campaign now leaves out, as `plan --list
/// skipped` lists them (what the ledger placed is not subtracted: those rows are patients).
fn skipped(
    c: &crate::campaign::Campaign,
    a: &ReportArgs<'_>,
    format: crate::settings::formats::ListFormat,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    use crate::report::skipped_list;
    let destination = match a.file {
        Some(path) => Destination::File(path),
        None => Destination::Stdout(&mut *out),
    };
    let rows = skipped_list::write(c, format, destination, a.unmask, |sink| {
        crate::plan::plan(c, a.campaign, sink)
            .map(drop)
            .map_err(anyhow::Error::from)
    })?;
    if let Some(path) = a.file {
        skipped_list::wrote(rows, &c.name, path, out)?;
    }
    Ok(Outcome::Success)
}
