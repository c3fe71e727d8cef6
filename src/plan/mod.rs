//! The plan stage: a valid campaign → every call it would place, in batches, and every row
//! left out with its reason. Rows stream from the sources through a [`Sink`], so memory
//! holds only what dedupe and opt-outs must remember (a `u64` per number) and the skips.

pub mod dedupe;
pub mod diff;
mod model;
pub mod saved;
mod sinks;
pub mod skip;
pub mod subtract;
mod workers;
pub mod workflow_check;

use std::io::{self};
use std::path::{Path, PathBuf};

use crate::campaign::{Campaign, Source};
use crate::patients::opt_outs::OptOutError;
use crate::patients::source::SourceError;
use crate::render::Renderer;
use dedupe::{Dedupe, Duplicate};
pub use model::{
    Call, Header, KEY_TAG, PLAN_FORMAT, PLAN_VERSION, PlanError, Sink, Skip, SourceInfo,
    SourceRole, Summary, call_key, file_digest,
};
pub use saved::{JsonPlanWriter, entry, save_with};
pub use sinks::{Discard, Overview, SKIP_EXAMPLES, Tee};
pub use skip::SkipReason;
use workers::{Prepared, in_parallel};

/// Where the row a duplicate repeats is: `row 4`, or `row 4 of other.csv` in another source.
fn first_row(
    campaign: &Campaign,
    source: usize,
    (first_source, first_row): (usize, u64),
) -> String {
    if first_source == source {
        format!("row {first_row}")
    } else {
        let other = label(&campaign.patients[first_source], "patient", first_source);
        format!("row {first_row} of {other}")
    }
}

fn label(s: &dyn Source, role: &str, index: usize) -> String {
    s.file().map_or_else(
        || format!("inline records of {role} source {}", index + 1),
        ToOwned::to_owned,
    )
}

/// The plan's header: digests of the campaign and every source file.
fn header(campaign: &Campaign, campaign_path: &Path, base: &Path) -> Result<Header, PlanError> {
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| PlanError::Io { path, source }
    };
    let mut sources = Vec::new();
    for (i, s) in campaign.patients.iter().enumerate() {
        sources.push(SourceInfo {
            role: SourceRole::Patients,
            label: label(s, "patient", i),
            sha256: match s.file() {
                Some(f) => {
                    let p = crate::patients::source::resolve_path(base, f);
                    Some(file_digest(&p).map_err(|e| PlanError::Source {
                        label: f.to_owned(),
                        source: SourceError::Unreadable(p.clone(), e.to_string()),
                    })?)
                }
                None => None,
            },
            timezone: Some(
                s.timezone
                    .clone()
                    .unwrap_or_else(|| campaign.schedule.timezone.clone()),
            ),
        });
    }
    for (i, s) in campaign.exclude.iter().enumerate() {
        let lbl = label(s, "opt-out", i);
        sources.push(SourceInfo {
            role: SourceRole::Exclude,
            label: lbl.clone(),
            sha256: match s.file() {
                Some(f) => {
                    let p = crate::patients::source::resolve_path(base, f);
                    Some(file_digest(&p).map_err(|e| PlanError::Exclusion {
                        label: lbl.clone(),
                        source: if p.exists() {
                            SourceError::Unreadable(p.clone(), e.to_string())
                        } else {
                            SourceError::Missing(p.clone())
                        },
                    })?)
                }
                None => None,
            },
            timezone: None,
        });
    }
    Ok(Header {
        campaign_file: campaign_path.display().to_string(),
        campaign_sha256: file_digest(campaign_path).map_err(io_err(campaign_path))?,
        sources,
    })
}

/// Makes the plan of `campaign` (read from `campaign_path`), feeding `sink`.
#[expect(
    clippy::too_many_lines,
    reason = "the row loop and the state it alone holds; splitting it into a planner type is still to do"
)]
pub fn plan(
    campaign: &Campaign,
    campaign_path: &Path,
    sink: &mut dyn Sink,
) -> Result<Summary, PlanError> {
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let header = header(campaign, campaign_path, &base)?;
    sink.header(&header, campaign)?;

    let mut summary = Summary::default();

    // Opt-outs first, failing closed: an unreadable list stops the plan.
    let opt_outs = crate::patients::opt_outs::load(&campaign.exclude, &base).map_err(|e| {
        let lbl = |i: usize| label(&campaign.exclude[i], "opt-out", i);
        match e {
            OptOutError::Open { index, source } => PlanError::Exclusion {
                label: lbl(index),
                source,
            },
            OptOutError::Row {
                index,
                row,
                message,
            } => PlanError::ExclusionRow {
                label: lbl(index),
                location: format!("row {row}"),
                message,
            },
        }
    })?;
    summary.opt_outs += opt_outs.usable;
    summary.opt_outs_unusable += opt_outs.unusable;
    let opted_out = opt_outs.numbers;

    let renderer = Renderer::new(&campaign.variables, &campaign.tags, &campaign.defaults)
        .map_err(PlanError::Template)?;
    let batch_size = campaign.delivery.batch_size.max(1) as usize;
    let mut seen = Dedupe::default();
    let mut batch: Vec<Call> = Vec::with_capacity(batch_size);
    let round = campaign.round.as_deref();

    for (si, s) in campaign.patients.iter().enumerate() {
        let lbl = label(s, "patient", si);
        let rows = crate::patients::source::open(s, &base).map_err(|e| PlanError::Source {
            label: lbl.clone(),
            source: e,
        })?;
        let timezone = s
            .timezone
            .clone()
            .unwrap_or_else(|| campaign.schedule.timezone.clone());
        let phone_idx = rows.header.iter().position(|h| h == &s.phone_column);
        let dedupe_idx = (campaign.dedupe != "phone")
            .then(|| rows.header.iter().position(|h| h == &campaign.dedupe))
            .flatten();
        let country = s
            .default_country
            .as_deref()
            .and_then(crate::patients::phone::country);
        let allowed: Vec<_> = s
            .allowed_countries
            .iter()
            .filter_map(|c| crate::patients::phone::country(&c.0))
            .collect();
        let bound = renderer.bind(&rows.header);
        // The costly, row-independent part (the number, the words, the key) runs on worker
        // threads; the rest (opt-outs, first-row-wins dedupe, batches) here, in row order.
        let prepare = |row: Result<
            crate::patients::source::Row,
            crate::patients::source::RowError,
        >|
         -> Prepared {
            let row = row?;
            if row.numeric_phone {
                return Ok((row, None));
            }
            let raw = phone_idx.and_then(|i| row.cells.get(i)).unwrap_or("");
            let number = crate::patients::phone::normalise(raw, country, &allowed);
            let rest = number.map(|number| {
                let values = bound.render(&row.cells);
                let key = call_key(&campaign.name, round, &number.e164);
                (number, values, key)
            });
            Ok((row, Some(rest)))
        };
        let mut consume = |prepared: Prepared| -> Result<(), PlanError> {
            summary.rows += 1;
            let mut skip = |code: SkipReason,
                            reason: String,
                            phone: Option<String>,
                            row: u64|
             -> io::Result<()> {
                summary.skipped += 1;
                *summary.skipped_by_reason.entry(code.as_str()).or_default() += 1;
                sink.skip(&Skip {
                    source: si,
                    row,
                    code,
                    reason,
                    phone,
                })
            };
            let (row, prepared) = match prepared {
                Ok(r) => r,
                Err(e) => {
                    skip(SkipReason::UnreadableRow, e.message, None, e.number)?;
                    return Ok(());
                }
            };
            let raw = phone_idx
                .and_then(|i| row.cells.get(i))
                .unwrap_or("")
                .to_owned();
            let Some(prepared) = prepared else {
                skip(
                    SkipReason::PhoneStoredAsNumber,
                    "the spreadsheet stores this phone number as a number, so its leading 0 or + is lost; format the column as text".to_owned(),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            };
            let (number, values, key) = match prepared {
                Ok(p) => p,
                Err(problem) => {
                    skip(
                        SkipReason::from(&problem),
                        problem.describe(),
                        Some(raw),
                        row.number,
                    )?;
                    return Ok(());
                }
            };
            let n = number.as_u64();
            if opted_out.contains(&n) {
                skip(
                    SkipReason::OptedOut,
                    "the number is on an opt-out list".to_owned(),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            }
            let column = dedupe_idx.map(|i| row.cells.get(i).unwrap_or(""));
            if let Some(dup) = seen.see(n, column, (si, row.number)) {
                let (what, first) = match dup {
                    Duplicate::Column(first) => (format!("the same `{}`", campaign.dedupe), first),
                    Duplicate::Number(first) => ("the same number".to_owned(), first),
                };
                let place = first_row(campaign, si, first);
                skip(
                    SkipReason::Duplicate,
                    format!("{what} as {place}, which is called instead"),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            }
            let values = match values {
                Ok(r) => r,
                Err(problem) => {
                    skip(
                        SkipReason::from(&problem),
                        problem.describe(),
                        Some(raw),
                        row.number,
                    )?;
                    return Ok(());
                }
            };
            batch.push(Call {
                key,
                phone: number.e164,
                source: si,
                row: row.number,
                rendered: values,
            });
            summary.calls += 1;
            if batch.len() == batch_size {
                sink.batch(summary.batches, &timezone, &batch)?;
                summary.batches += 1;
                batch.clear();
            }
            Ok(())
        };
        in_parallel(rows, &prepare, &mut consume)?;
        // Batches never mix sources, so each has one time zone.
        if !batch.is_empty() {
            sink.batch(summary.batches, &timezone, &batch)?;
            summary.batches += 1;
            batch.clear();
        }
    }
    sink.finish(&summary)?;
    Ok(summary)
}

/// Saves a plan to `path` atomically, readable by its owner only (it holds patient data).
pub fn save(
    campaign: &Campaign,
    campaign_path: &Path,
    path: &Path,
    report: &mut dyn Sink,
) -> Result<Summary, PlanError> {
    save_with(path, |writer| {
        plan(campaign, campaign_path, &mut Tee(writer, report))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        let a = call_key("c", Some("2026-12"), "+2348031234567");
        assert_eq!(a, call_key("c", Some("2026-12"), "+2348031234567"));
        assert_ne!(a, call_key("c", Some("2027-01"), "+2348031234567"));
        assert_ne!(a, call_key("d", Some("2026-12"), "+2348031234567"));
        assert_ne!(
            call_key("c", None, "+2348031234567"),
            call_key("c", Some(""), "+2348031234568")
        );
        assert_eq!(a.len(), 35);
    }
}
