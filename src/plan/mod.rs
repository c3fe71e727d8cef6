//! The plan stage: a valid campaign → every call it would place, in batches, and every row
//! left out with its reason. Rows stream from the sources through a [`Sink`], so memory
//! holds only what dedupe and opt-outs must remember (a `u64` per number) and the skips.

pub mod declared;
pub mod dedupe;
pub mod diff;
mod model;
mod planner;
pub mod saved;
pub mod settings;
mod sinks;
pub mod skip;
pub mod subtract;
pub mod timing;
mod workers;
pub mod workflow_check;

use std::path::{Path, PathBuf};

use crate::campaign::{Campaign, Source};
use crate::patients::opt_outs::OptOutError;
use crate::patients::source::SourceError;
use crate::render::Renderer;
use crate::render::dates::DateRules;
pub use model::{
    Call, Header, KEY_TAG, PLAN_FORMAT, PLAN_VERSION, PlanError, Sink, Skip, SourceInfo,
    SourceRole, Summary, call_key, file_digest,
};
use planner::{Planner, RowFilter, SourceRows};
pub use saved::{JsonPlanWriter, entry, save_with};
pub use sinks::{Discard, Overview, Rendering, SKIP_EXAMPLES, Tee};
pub use skip::SkipReason;
use workers::in_parallel;

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
fn header(
    campaign: &Campaign,
    campaign_path: &Path,
    base: &Path,
    today: jiff::civil::Date,
) -> Result<Header, PlanError> {
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
                    let p = crate::patients::source::locate(base, f).map_err(|source| {
                        PlanError::Source {
                            label: f.to_owned(),
                            source,
                        }
                    })?;
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
                    let p = crate::patients::source::locate(base, f).map_err(|source| {
                        PlanError::Exclusion {
                            label: lbl.clone(),
                            source,
                        }
                    })?;
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
        today,
        workflow: None,
    })
}

/// The plan's date: the clock's today in the campaign's time zone (a date more than five
/// years after it is refused, and `today` of its `where:` filters).
pub fn plan_date(campaign: &Campaign) -> jiff::civil::Date {
    let zone =
        jiff::tz::TimeZone::get(&campaign.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    crate::clock::now().to_zoned_datetime(zone).date()
}

/// Makes the plan of `campaign` (read from `campaign_path`) on the clock's date, feeding
/// `sink`.
pub fn plan(
    campaign: &Campaign,
    campaign_path: &Path,
    sink: &mut dyn Sink,
) -> Result<Summary, PlanError> {
    plan_on(campaign, campaign_path, plan_date(campaign), sink)
}

/// Makes the plan of `campaign` as on `today` (in the campaign's time zone): apply
/// verifies a saved plan on the date it recorded.
pub fn plan_on(
    campaign: &Campaign,
    campaign_path: &Path,
    today: jiff::civil::Date,
    sink: &mut dyn Sink,
) -> Result<Summary, PlanError> {
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let header = header(campaign, campaign_path, &base, today)?;
    sink.header(&header, campaign)?;

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
            e @ OptOutError::Invalid { .. } => PlanError::ExclusionInvalid {
                label: lbl(e.index()),
                message: e.describe(),
            },
        }
    })?;
    let summary = Summary {
        opt_outs: opt_outs.usable,
        opt_outs_unusable: opt_outs.unusable,
        ..Summary::default()
    };

    let renderer = Renderer::new(
        &campaign.variables,
        &campaign.tags,
        &campaign.defaults,
        DateRules::new(&campaign.dates, today),
    )
    .map_err(PlanError::Template)?
    .allowing_empty(&campaign.allow_empty);
    // A `round` template is rendered like the variables (with the defaults), per row.
    let round = campaign
        .round_template()
        .map(|t| {
            let template =
                std::collections::BTreeMap::from([(planner::ROUND.to_owned(), t.to_owned())]);
            Renderer::new(
                &template,
                &std::collections::BTreeMap::new(),
                &campaign.defaults,
                DateRules::new(&campaign.dates, today),
            )
        })
        .transpose()
        .map_err(PlanError::Template)?;
    // Filters are tested on the plan's date, read by the same rules as the templates' dates.
    let dates = DateRules::new(&campaign.dates, today);
    let everywhere = parse_filter(campaign.filter.as_deref(), "where")?;
    let own = campaign
        .patients
        .iter()
        .enumerate()
        .map(|(i, s)| parse_filter(s.filter.as_deref(), &format!("patients[{i}].where")))
        .collect::<Result<Vec<_>, _>>()?;
    let languages = planner::Languages::of(campaign).map_err(PlanError::Template)?;
    let mut planner = Planner::new(campaign, sink, &opt_outs.numbers, summary);
    for (si, s) in campaign.patients.iter().enumerate() {
        let rows = crate::patients::source::open(s, &base).map_err(|e| PlanError::Source {
            label: label(s, "patient", si),
            source: e,
        })?;
        let filters = everywhere
            .iter()
            .map(|f| RowFilter {
                bound: f.bind(&rows.header),
                whose: "the campaign's",
            })
            .chain(own[si].iter().map(|f| RowFilter {
                bound: f.bind(&rows.header),
                whose: "the source's",
            }))
            .collect();
        let src = SourceRows::new(
            campaign,
            si,
            s,
            &rows.header,
            (
                renderer.bind(&rows.header),
                round.as_ref().map(|r| r.bind(&rows.header)),
            ),
            (filters, &dates),
            languages.as_ref(),
        );
        in_parallel(rows, &|row| src.prepare(row), &mut |prepared| {
            planner.consume(&src, prepared)
        })?;
        planner.flush(&src.timezone)?;
    }
    Ok(planner.finish()?)
}

/// A `where:` filter, checked (validate refuses a campaign whose filter does not parse first).
fn parse_filter(text: Option<&str>, at: &str) -> Result<Option<crate::filter::Filter>, PlanError> {
    text.map(crate::filter::Filter::parse)
        .transpose()
        .map_err(|e| PlanError::Filter {
            at: at.to_owned(),
            message: e.to_string(),
        })
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
