//! What a watch session does for one campaign: a [`Step`] (validate and plan; with `--apply
//! --mock`, apply too) and what it hands back.

use std::path::Path;

use crate::apply::ApplySummary;
use crate::campaign::Campaign;
use crate::load::diagnostic::FileReport;
use crate::plan;
use crate::plan::diff::Snapshot;
use crate::validate;

/// What a [`Step`] made of one campaign.
#[derive(Debug)]
pub enum StepOutput {
    /// The campaign has errors: nothing was planned (or applied).
    Invalid(FileReport),
    /// The campaign is valid but could not be planned (an unreadable opt-out list, …).
    Failed(String),
    /// The plan.
    Planned {
        campaign: Box<Campaign>,
        snapshot: Snapshot,
    },
    /// The plan just handed over is being applied (to the session's mock).
    Applying,
    /// How the apply of that plan ended: its status and counts, or why it could not run.
    Applied(Result<Applied, String>),
}

/// The end of one apply: `apply`'s summary (its status, counts, and why it stopped).
#[derive(Debug, Clone)]
pub struct Applied {
    /// Boxed: a summary is large beside the other outputs.
    pub summary: Box<ApplySummary>,
}

/// The work done for one campaign on each change: validate → plan, and with `--apply --mock`
/// → apply. Each result goes to `emit` as soon as it is known, so the plan is reported while
/// its apply runs.
pub trait Step: Send + Sync {
    fn run(&self, campaign: &Path, emit: &mut dyn FnMut(StepOutput));
}

/// Validate, then plan.
#[derive(Debug, Default)]
pub struct PlanStep;

impl Step for PlanStep {
    fn run(&self, path: &Path, emit: &mut dyn FnMut(StepOutput)) {
        let checked = validate::check_file(path);
        let Some(campaign) = checked.campaign else {
            return emit(StepOutput::Invalid(checked.report));
        };
        let mut snapshot = Snapshot::default();
        emit(match plan::plan(&campaign, path, &mut snapshot) {
            Ok(_) => StepOutput::Planned {
                campaign: Box::new(campaign),
                snapshot,
            },
            Err(e) => StepOutput::Failed(e.to_string()),
        });
    }
}
