//! What apply places: the calls of a campaign planned now, or of a saved plan checked against the campaign and sources it was made from.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};

use crate::campaign::Campaign;
use crate::patients::opt_outs::OptOutError;
use crate::plan::saved::{SavedPlan, SavedPlanError};
use crate::plan::{self, Call, Header, Sink, Skip, SourceInfo, Summary};
use crate::validate;

use super::verify::SavedHead;

/// A planned call, with where it goes.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) call: Call,
    pub(super) source_label: String,
    pub(super) timezone: String,
}

/// Collects calls from the plan stage.
#[derive(Default)]
pub(super) struct Collect {
    pub(super) header: Option<Header>,
    pub(super) calls: Vec<Arc<Planned>>,
    pub(super) skipped: u64,
}

impl Sink for Collect {
    fn header(&mut self, header: &Header, _: &Campaign) -> std::io::Result<()> {
        self.header = Some(header.clone());
        Ok(())
    }
    fn batch(&mut self, _: u64, timezone: &str, calls: &[Call]) -> std::io::Result<()> {
        let sources = self.header.as_ref().map_or(&[][..], |h| &h.sources);
        for c in calls {
            self.calls.push(Arc::new(Planned {
                call: c.clone(),
                source_label: label_of(sources, c.source),
                timezone: timezone.to_owned(),
            }));
        }
        Ok(())
    }
    fn skip(&mut self, _: &Skip) -> std::io::Result<()> {
        self.skipped += 1;
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

/// The campaign and its calls, from a campaign file or a saved plan.
pub(super) struct Loaded {
    pub(super) campaign: Campaign,
    pub(super) campaign_path: PathBuf,
    pub(super) calls: Vec<Arc<Planned>>,
    /// From a saved plan: its head, to check the plan against the campaign
    /// ([`super::verify`]) once the ledger can say which calls it left out.
    pub(super) saved: Option<SavedHead>,
}

pub(super) fn load(input: &Path) -> anyhow::Result<Loaded> {
    match plan::saved::read(input) {
        Ok(saved) => return load_plan(input, saved),
        // Not a saved plan at all: a campaign file.
        Err(SavedPlanError::NotAPlan { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let checked = validate::check_file(input);
    let Some(campaign) = checked.campaign else {
        bail!(
            "{} is not a valid campaign (run `outreach validate {}` to see why)",
            input.display(),
            input.display()
        );
    };
    let mut collect = Collect::default();
    plan::plan(&campaign, input, &mut collect)?;
    Ok(Loaded {
        campaign,
        campaign_path: input.to_path_buf(),
        calls: collect.calls,
        saved: None,
    })
}

/// A saved plan: refused when the campaign or a source changed since it was made, or when
/// it records no settings to check (version 1). Its calls are checked against the campaign
/// later, by [`super::verify`].
fn load_plan(path: &Path, saved: SavedPlan) -> anyhow::Result<Loaded> {
    let campaign_path = PathBuf::from(&*saved.campaign.file);
    let Some(head) = SavedHead::of(path, &saved) else {
        bail!(
            "the plan {} was made by an older outreach (a version {} plan) and does not record its settings, so it cannot be checked against the campaign; make it again with `outreach plan {} --out {}`",
            path.display(),
            saved.version,
            campaign_path.display(),
            path.display()
        );
    };
    let stale = |what: &str| {
        anyhow::anyhow!(
            "the plan {} is stale: {what} changed since it was made; make a new plan with `outreach plan {} --out {}`",
            path.display(),
            campaign_path.display(),
            path.display()
        )
    };
    let digest = plan::file_digest(&campaign_path).with_context(|| {
        format!(
            "the plan's campaign {} cannot be read",
            campaign_path.display()
        )
    })?;
    if digest != saved.campaign.sha256 {
        return Err(stale(&format!("the campaign {}", campaign_path.display())));
    }
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    for s in &saved.sources {
        if let Some(expected) = &s.sha256 {
            let actual =
                plan::file_digest(&crate::patients::source::resolve_path(&base, &s.label)).ok();
            if actual.as_ref() != Some(expected) {
                return Err(stale(&format!("the source {}", s.label)));
            }
        }
    }
    let checked = validate::check_file(&campaign_path);
    let campaign = checked.campaign.with_context(|| {
        format!(
            "the plan's campaign {} is not valid",
            campaign_path.display()
        )
    })?;
    let mut calls = Vec::with_capacity(saved.batches.iter().map(|b| b.calls.len()).sum());
    for batch in saved.batches {
        for call in batch.calls {
            calls.push(Arc::new(Planned {
                // The reader checked that every call's source is there.
                source_label: label_of(&saved.sources, call.source),
                call,
                timezone: batch.timezone.clone(),
            }));
        }
    }
    Ok(Loaded {
        campaign,
        campaign_path,
        calls,
        saved: Some(head),
    })
}

/// The label of a plan's source `index`.
fn label_of(sources: &[SourceInfo], index: usize) -> String {
    sources
        .get(index)
        .map_or_else(String::new, |s| s.label.clone())
}

/// Reads the opt-out lists again, failing closed.
pub(super) fn opt_outs(campaign: &Campaign, campaign_path: &Path) -> anyhow::Result<HashSet<u64>> {
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    match crate::patients::opt_outs::load(&campaign.exclude, &base) {
        Ok(lists) => Ok(lists.numbers),
        Err(OptOutError::Open { index, source }) => Err(anyhow::anyhow!(
            "opt-out list {}: {source}; nothing is sent while an opt-out list cannot be read",
            index + 1
        )),
        Err(OptOutError::Row {
            index,
            row,
            message,
        }) => Err(anyhow::anyhow!(
            "opt-out list {}, row {row}: {message}; nothing is sent",
            index + 1
        )),
        Err(e @ OptOutError::Invalid { .. }) => Err(anyhow::anyhow!(
            "opt-out list {}: {}; nothing is sent while an opt-out list holds entries that are not numbers",
            e.index() + 1,
            e.describe()
        )),
    }
}
