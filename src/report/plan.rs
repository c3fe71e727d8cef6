//! Printed plans: for people (human), for pull-request comments (markdown) and for CI (json).
//! Phone numbers and values that come from patient data are masked unless `--unmask`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::campaign::{Campaign, Kind};
use crate::plan::diff::{Field, PlanDiff};
use crate::plan::settings::SettingChange;
use crate::plan::timing::Timing;
use crate::plan::workflow_check::WorkflowCheck;
use crate::plan::{Call, Overview, Skip, Summary};
use crate::report::document::{Document, write_pretty};
use crate::report::mask::Masker;
use crate::report::words::{self, plural};
use crate::settings::formats::PlanFormat;

/// Everything a printed plan shows.
pub struct PlanView<'a> {
    pub campaign: &'a Campaign,
    pub campaign_path: &'a Path,
    pub overview: &'a Overview,
    pub unmask: bool,
    pub saved_to: Option<&'a Path>,
    /// Why the message was not checked against the workflow (no target), if it was not.
    pub message_unchecked: Option<&'a str>,
    /// The check of the workflow on a target, when one was given (for a declared workflow,
    /// its message as the file writes it, checked offline too).
    pub workflow: Option<&'a WorkflowCheck>,
    /// A workflow declared in the campaign, and where it stands on the target.
    pub declared: Option<&'a crate::plan::declared::DeclaredState>,
    /// In a campaign of several languages: each language, its workflow checked as `workflow`
    /// and `declared` are for a campaign of one (those are then `None`).
    pub languages: &'a [LanguageView<'a>],
    /// What changed since a plan saved earlier (`plan --compare`).
    pub changes: Option<&'a Changes<'a>>,
    /// When the calls can go (the windows, the next opening, `not_after`, `max_calls`).
    pub timing: Option<&'a Timing>,
}

/// One language of a campaign in several, as the plan shows it.
pub struct LanguageView<'a> {
    /// Its key in `languages:`.
    pub key: &'a str,
    pub language: &'a crate::campaign::languages::Language,
    /// Its workflow checked (on a target, or as the file declares it).
    pub check: Option<WorkflowCheck>,
    /// Why its message was not checked, if it was not.
    pub unchecked: Option<String>,
    /// Its declared workflow's state on the target.
    pub declared: Option<crate::plan::declared::DeclaredState>,
}

impl LanguageView<'_> {
    /// How the language's workflow is named: its id, or the name it declares.
    fn workflow_label(&self) -> String {
        match (&self.language.workflow_id, &self.language.workflow) {
            (Some(id), _) => id.clone(),
            (None, Some(w)) => format!("{} (declared in the file)", w.name),
            (None, None) => "none".to_owned(),
        }
    }

    /// The sentence saying its dates and numbers are in another language, when CLDR lacks it.
    fn names_sentence(&self) -> Option<String> {
        self.language.names.as_deref().map(|names| {
            format!(
                "CLDR has no month and day names for `{}`: its dates and numbers are written in `{names}`",
                self.key
            )
        })
    }
}

/// What changed since a plan saved earlier (`plan --compare PLAN.json`).
pub struct Changes<'a> {
    /// The saved plan compared with.
    pub against: &'a Path,
    pub diff: PlanDiff,
    /// Source labels of the new plan (for newly skipped rows).
    pub sources: Vec<String>,
    /// How many examples of each kind to list.
    pub sample: usize,
}

impl Changes<'_> {
    /// How many calls changed each variable or tag, by its printed name.
    fn changed_fields(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for c in &self.diff.changed {
            for f in &c.changes {
                let name = match f.field {
                    Field::Variable => f.name.clone(),
                    Field::Tag => format!("tag {}", f.name),
                };
                *out.entry(name).or_default() += 1;
            }
        }
        out
    }

    fn counts(&self) -> [(&'static str, String); 7] {
        let d = &self.diff;
        [
            ("settings changed", d.settings.len().to_string()),
            (
                "calls to place",
                format!("{} → {}", d.calls_before, d.calls_after),
            ),
            ("calls added", d.added.len().to_string()),
            ("calls removed", d.removed.len().to_string()),
            ("calls with changed values", d.changed.len().to_string()),
            ("rows newly skipped", d.new_skips.len().to_string()),
            ("rows no longer skipped", d.resolved_skips.to_string()),
        ]
    }
}

impl PlanView<'_> {
    fn masker(&self) -> Masker {
        Masker::new(self.campaign, self.unmask)
    }

    fn phone(&self, p: &str) -> String {
        crate::report::mask::phone(self.unmask, p)
    }

    fn source_label(&self, index: usize) -> String {
        self.overview
            .header
            .as_ref()
            .and_then(|h| h.sources.get(index))
            .map_or_else(|| format!("source {}", index + 1), |s| s.label.clone())
    }

    fn skip_line(&self, s: &Skip) -> String {
        let phone = s
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                format!(
                    " ({})",
                    if self.unmask {
                        p.to_owned()
                    } else {
                        crate::patients::phone::mask(p.trim())
                    }
                )
            })
            .unwrap_or_default();
        format!(
            "{} row {}{phone}: {}",
            self.source_label(s.source),
            s.row,
            s.reason
        )
    }

    /// The workflow check of a call's language (the campaign's, without languages).
    fn check_of(&self, c: &Call) -> Option<&WorkflowCheck> {
        match &c.language {
            None => self.workflow,
            Some(key) => self
                .languages
                .iter()
                .find(|l| l.key == key)
                .and_then(|l| l.check.as_ref()),
        }
    }

    /// The message as the patient hears it, with patient data masked unless --unmask.
    fn heard(&self, derived: &Masker, c: &Call) -> Option<String> {
        let w = self.check_of(c)?;
        let mut shown = c.clone();
        for (k, val) in &mut shown.rendered.variables {
            *val = derived.variable(k, val);
        }
        w.heard(self.campaign.kind, &shown)
    }

    /// Example lines of a comparison: (mark, phone, detail), masked as the rest of the output.
    fn change_examples(&self, ch: &Changes<'_>) -> Vec<(&'static str, String, String)> {
        let derived = self.masker();
        let mut out = Vec::new();
        let d = &ch.diff;
        for (mark, calls) in [("+", &d.added), ("-", &d.removed)] {
            for c in calls.iter().take(ch.sample) {
                let (vars, tags) = PlanView::call_fields(&derived, c);
                let detail = if tags.is_empty() {
                    vars
                } else {
                    format!("{vars} [tags: {tags}]")
                };
                out.push((mark, self.phone(&c.phone), detail));
            }
        }
        for c in d.changed.iter().take(ch.sample) {
            let detail = derived.changes(&c.changes);
            out.push(("~", self.phone(&c.call.phone), detail));
        }
        for k in d.new_skips.iter().take(ch.sample) {
            let label = ch
                .sources
                .get(k.source)
                .cloned()
                .unwrap_or_else(|| format!("source {}", k.source + 1));
            let phone = k
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| self.phone(p.trim()))
                .unwrap_or_default();
            out.push(("!", phone, format!("{label} row {}: {}", k.row, k.reason)));
        }
        out
    }

    fn call_fields(derived: &Masker, c: &Call) -> (String, String) {
        let vars = c
            .rendered
            .variables
            .iter()
            .map(|(k, v)| format!("{k}={}", derived.variable(k, v)))
            .collect::<Vec<_>>()
            .join(", ");
        let tags = c
            .rendered
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={}", derived.tag(k, v)))
            .collect::<Vec<_>>()
            .join(", ");
        (vars, tags)
    }
}

/// Writes a plan in a format.
pub fn write(format: PlanFormat, view: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        PlanFormat::Human => human(view, out),
        PlanFormat::Json => json_summary(view, out),
        PlanFormat::Markdown => markdown(view, out),
    }
}

fn human(v: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = v.campaign;
    let s = &v.overview.summary;
    let derived = v.masker();
    writeln!(out, "Plan for {} ({})", c.name, v.campaign_path.display())?;
    let round = c
        .round
        .as_deref()
        .map(|r| format!(" · round {r}"))
        .unwrap_or_default();
    if v.languages.is_empty() {
        writeln!(
            out,
            "  {} · workflow {} · {} {} voice{round}",
            c.kind.as_str(),
            workflow_label(c),
            c.voice.accent,
            c.voice.gender.as_str()
        )?;
    } else {
        writeln!(
            out,
            "  {} · {} ({}), each patient's read from column `{}`{round}",
            c.kind.as_str(),
            plural(v.languages.len() as u64, "language"),
            v.languages
                .iter()
                .map(|l| l.key)
                .collect::<Vec<_>>()
                .join(", "),
            c.language.as_ref().map_or("", |l| l.column.as_str()),
        )?;
    }
    if let Some(over) = v.timing.and_then(Timing::over_sentence) {
        writeln!(out, "  WARNING: {over}")?;
    }
    if let Some(why) = v.message_unchecked {
        writeln!(out, "  message not checked: {why}")?;
    }
    if let Some(d) = v.declared {
        super::declared::human(d, out)?;
    }
    if let Some(w) = v.workflow {
        human_workflow(w, v.declared.is_some(), out)?;
    }
    human_languages(v, &derived, out)?;
    if let Some(ch) = v.changes {
        if let Some((before, after)) = message_change(ch) {
            super::declared::human_compared(before, after, out)?;
        }
        human_settings(ch, out)?;
    }
    writeln!(out)?;
    writeln!(out, "  patient rows read  {}", s.rows)?;
    writeln!(
        out,
        "  calls to place     {} in {}",
        s.calls,
        plural(s.batches, "batch")
    )?;
    writeln!(out, "  rows skipped       {}", s.skipped)?;
    if !c.exclude.is_empty() {
        write!(out, "  opt-out numbers    {}", s.opt_outs)?;
        if s.opt_outs_unusable > 0 {
            write!(
                out,
                " ({} entries are not valid numbers)",
                s.opt_outs_unusable
            )?;
        }
        writeln!(out)?;
    }
    if let Some(t) = v.timing {
        for (label, value) in timing_lines(t, s.calls) {
            writeln!(out, "  {label:<18} {value}")?;
        }
    }
    if let Some(ch) = v.changes {
        human_changes(v, ch, out)?;
    }
    human_sample(v, &derived, out)?;
    if !v.overview.skips.is_empty() {
        writeln!(out)?;
        writeln!(out, "Skipped, by reason:")?;
        for (code, (count, examples)) in &v.overview.skips {
            writeln!(out, "  {}: {count}", words::skipped_code(code))?;
            for e in examples {
                writeln!(out, "    {}", v.skip_line(e))?;
            }
            if !examples.is_empty() && *count > examples.len() as u64 {
                writeln!(out, "    … and {} more", count - examples.len() as u64)?;
            }
        }
    }
    writeln!(out)?;
    match v.saved_to {
        Some(p) => writeln!(
            out,
            "Saved the full plan to {} (readable by you only: it holds patient data).",
            p.display()
        ),
        None => writeln!(
            out,
            "Nothing saved: pass --out plan.json to keep the full plan."
        ),
    }
}

/// The sample of calls: each call's values and what its patient hears.
fn human_sample(v: &PlanView<'_>, derived: &Masker, out: &mut dyn Write) -> io::Result<()> {
    let s = &v.overview.summary;
    if !v.overview.sample.is_empty() {
        writeln!(out)?;
        let masked = if v.unmask {
            ""
        } else {
            "; numbers and patient data masked, --unmask to show"
        };
        writeln!(
            out,
            "Sample ({} of {}{masked}):",
            v.overview.sample.len(),
            s.calls
        )?;
        for call in &v.overview.sample {
            let (vars, tags) = PlanView::call_fields(derived, call);
            let language = call
                .language
                .as_deref()
                .map(|l| format!("[{l}] "))
                .unwrap_or_default();
            write!(out, "  {language}{}  {vars}", v.phone(&call.phone))?;
            if !tags.is_empty() {
                write!(out, "  [tags: {tags}]")?;
            }
            writeln!(out)?;
            if let Some(heard) = v.heard(derived, call) {
                writeln!(out, "      hears: \"{heard}\"")?;
            }
        }
    }
    Ok(())
}

/// Each language of a campaign in several: its voice, workflow, calls, where its names come
/// from, its workflow's state and check, and one sample of what its patients hear.
fn human_languages(v: &PlanView<'_>, derived: &Masker, out: &mut dyn Write) -> io::Result<()> {
    for l in v.languages {
        let calls = v.overview.languages.get(l.key);
        writeln!(out)?;
        writeln!(
            out,
            "  language {}: {} {} voice · workflow {} · {}",
            l.key,
            l.language.voice.accent,
            l.language.voice.gender.as_str(),
            l.workflow_label(),
            plural(calls.map_or(0, |c| c.calls), "call")
        )?;
        let mut lines = Vec::new();
        if let Some(names) = l.names_sentence() {
            writeln!(out, "    {names}")?;
        }
        if let Some(why) = &l.unchecked {
            writeln!(out, "    message not checked: {why}")?;
        }
        if let Some(d) = &l.declared {
            super::declared::human(d, &mut lines)?;
        }
        if let Some(w) = &l.check {
            human_workflow(w, l.declared.is_some(), &mut lines)?;
        }
        // Indented under the language.
        for line in String::from_utf8_lossy(&lines).lines() {
            writeln!(out, "  {line}")?;
        }
        if let Some(call) = calls.and_then(|c| c.sample.as_ref())
            && let Some(heard) = v.heard(derived, call)
        {
            writeln!(out, "    hears ({}): \"{heard}\"", v.phone(&call.phone))?;
        }
    }
    Ok(())
}

/// The workflow as found on the target, and its problems.
fn human_workflow(w: &WorkflowCheck, declared: bool, out: &mut dyn Write) -> io::Result<()> {
    match &w.workflow {
        // A declared workflow's words were shown with its state.
        Some(_) if declared => {}
        Some(wf) => writeln!(
            out,
            "  workflow on {}: \"{}\" ({}, {}), message: \"{}\"",
            w.target,
            wf.name,
            wf.workflow_type.as_str(),
            wf.status.as_str(),
            wf.message
        )?,
        None => writeln!(out, "  workflow on {}: not found", w.target)?,
    }
    if w.problems.is_empty() && w.longest == 0 {
        writeln!(out, "  message checked: every placeholder has a value")?;
    } else if w.problems.is_empty() {
        writeln!(
            out,
            "  message checked: every placeholder has a value; the longest message is {} characters (limit 4000)",
            w.longest
        )?;
    }
    for p in &w.problems {
        writeln!(out, "  PROBLEM: {p}")?;
    }
    Ok(())
}

/// When the calls can go, as (label, value) lines for people.
fn timing_lines(t: &Timing, calls: u64) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "calling windows",
        format!("{} ({})", t.windows.join(", "), t.timezone),
    )];
    match (t.open_until, t.next_opens) {
        (Some(until), _) => out.push(("window", format!("open now, until {}", t.human(until)))),
        (None, Some(at)) => out.push(("next window opens", t.human(at))),
        (None, None) => out.push(("next window opens", "never: the schedule is over".into())),
    }
    if let (Some(at), Some(text)) = (t.last_call, &t.not_after) {
        out.push((
            "last call by",
            format!("{} (not_after {text})", t.human(at)),
        ));
    }
    if let Some(max) = t.max_calls {
        let fit = t.in_one_run(calls);
        let value = if fit < calls {
            format!(
                "{fit} of {calls} calls fit in one run (delivery.max_calls {max}); later runs place the rest"
            )
        } else {
            format!("all {calls} calls fit in one run (delivery.max_calls {max})")
        };
        out.push(("one run", value));
    }
    out
}

/// The settings that changed since the plan compared with, before and after, one a line.
fn human_settings(ch: &Changes<'_>, out: &mut dyn Write) -> io::Result<()> {
    if ch.diff.settings_unrecorded {
        writeln!(out)?;
        return writeln!(
            out,
            "  Settings: not compared; {} does not record them (a version 1 plan, made by an older outreach): make it again to compare workflow, voice, windows and limits.",
            ch.against.display()
        );
    }
    if ch.diff.settings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "  Settings changed since {}:", ch.against.display())?;
    let width = ch
        .diff
        .settings
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &ch.diff.settings {
        writeln!(
            out,
            "    {:<width$}  {} → {}",
            c.name,
            shown(c.before.as_deref()),
            shown(c.after.as_deref())
        )?;
    }
    Ok(())
}

/// A setting's value as shown: `—` when the plan had no such setting.
fn shown(value: Option<&str>) -> &str {
    value.unwrap_or("—")
}

fn human_changes(v: &PlanView<'_>, ch: &Changes<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    if ch.diff.is_empty() {
        let settings = if ch.diff.settings_unrecorded {
            "the same numbers, words and skips; the settings were not compared"
        } else {
            "the same settings, numbers, words and skips"
        };
        return writeln!(
            out,
            "What changed since {}: nothing ({settings}).",
            ch.against.display()
        );
    }
    writeln!(out, "What changed since {}:", ch.against.display())?;
    for (label, value) in ch.counts() {
        writeln!(out, "  {label:<27} {value}")?;
    }
    let fields = ch.changed_fields();
    if !fields.is_empty() {
        let list = fields
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(out, "  changed values: {list}")?;
    }
    let examples = v.change_examples(ch);
    if !examples.is_empty() {
        let masked = if v.unmask { "" } else { " (masked)" };
        writeln!(out, "  for example{masked}:")?;
        for (mark, phone, detail) in examples {
            writeln!(out, "    {mark} {phone}  {detail}")?;
        }
    }
    Ok(())
}

/// `plan --format json` (`"format": "outreach-plan-summary"`): what the human output shows,
/// masked the same way, for CI.
#[derive(Debug, Serialize)]
pub struct PlanSummary<'a> {
    pub campaign: CampaignInfo<'a>,
    /// Whether the message was checked against the workflow on a target.
    pub message_checked: bool,
    pub workflow: Option<WorkflowInfo<'a>>,
    /// A workflow declared in the campaign, and where it stands on the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_workflow: Option<DeclaredInfo<'a>>,
    /// In a campaign of several languages: each language's voice, workflow, calls and sample.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<LanguageInfo<'a>>,
    pub masked: bool,
    pub summary: &'a Summary,
    /// When the calls can go; times in RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleInfo<'a>>,
    pub sample: Vec<SampleCall>,
    /// Skipped rows by reason code.
    pub skipped: BTreeMap<&'static str, SkipGroup>,
    pub saved_to: Option<String>,
    /// With `--compare`: counts only, as the examples would carry patient data into CI logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeCounts>,
}

/// One language of the JSON plan.
#[derive(Debug, Serialize)]
pub struct LanguageInfo<'a> {
    pub language: &'a str,
    pub accent: &'a str,
    pub gender: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_name: Option<&'a str>,
    /// The language its dates and numbers are written in, when CLDR lacks its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names_from: Option<&'a str>,
    pub calls: u64,
    pub message_checked: bool,
    pub workflow: Option<WorkflowInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_workflow: Option<DeclaredInfo<'a>>,
    /// Its first call, masked unless `--unmask`.
    pub sample: Option<SampleCall>,
}

/// A declared workflow in the JSON plan: callback URLs without the token.
#[derive(Debug, Serialize)]
pub struct DeclaredInfo<'a> {
    pub name: &'a str,
    /// `not-compared`, `absent`, `gone`, `unchanged`, `changed` or `edited-on-service`.
    pub state: &'static str,
    /// Whether apply creates a workflow (a change, for `--detailed-exitcode`).
    pub creates: bool,
    pub target: Option<&'a str>,
    /// The workflow the campaign is bound to on the target now.
    pub workflow_id: Option<&'a str>,
    pub hand_edits_checked: bool,
    pub message: &'a str,
    /// The message before the change (pushed, or on the service when edited there).
    pub message_before: Option<&'a str>,
    pub digest: String,
    /// This round's patients already called with an earlier message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_calls: Option<EarlierInfo>,
}

#[derive(Debug, Serialize)]
pub struct EarlierInfo {
    pub called: u64,
    pub answered: u64,
}

/// The campaign planned.
#[derive(Debug, Serialize)]
pub struct CampaignInfo<'a> {
    pub name: &'a str,
    pub file: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<&'a str>,
    /// The declared workflow's name, when the campaign writes its workflow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_name: Option<&'a str>,
    pub round: Option<&'a str>,
}

/// The check of the workflow on a target.
#[derive(Debug, Serialize)]
pub struct WorkflowInfo<'a> {
    pub target: &'a str,
    pub found: bool,
    pub name: Option<&'a str>,
    pub message: Option<&'a str>,
    pub longest_message: usize,
    pub too_long: u64,
    pub problems: &'a [String],
}

/// When the calls can go: the plan's [`Timing`], and how many calls one run places.
#[derive(Debug, Serialize)]
pub struct ScheduleInfo<'a> {
    #[serde(flatten)]
    pub timing: &'a Timing,
    /// How many of the plan's calls one run places (`delivery.max_calls`).
    pub calls_in_one_run: u64,
}

/// A call of the sample, masked unless `--unmask`.
#[derive(Debug, Serialize)]
pub struct SampleCall {
    pub phone_number: String,
    /// The language it is called in, in a campaign of several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub variables: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub source: String,
    pub row: u64,
    /// The message as the patient hears it, when the workflow was checked.
    pub heard: Option<String>,
}

/// The rows skipped for one reason, and the first few.
#[derive(Debug, Serialize)]
pub struct SkipGroup {
    pub count: u64,
    pub examples: Vec<SkipExample>,
}

#[derive(Debug, Serialize)]
pub struct SkipExample {
    pub source: String,
    pub row: u64,
    pub reason: String,
}

/// What changed since the plan compared with.
#[derive(Debug, Serialize)]
pub struct ChangeCounts {
    pub against: String,
    /// Whether the plan compared with recorded its settings (a version 1 plan did not).
    pub settings_recorded: bool,
    /// The settings that changed: campaign text, never patient data, so shown in full.
    pub settings: Vec<SettingChange>,
    pub calls_before: u64,
    pub calls_after: u64,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub changed_fields: BTreeMap<String, u64>,
    pub new_skips: usize,
    pub resolved_skips: u64,
}

impl Document for PlanSummary<'_> {
    const FORMAT: &'static str = "outreach-plan-summary";
    const VERSION: u32 = 1;
}

impl<'a> PlanView<'a> {
    /// The plan as a [`PlanSummary`].
    fn summary_document(&self) -> PlanSummary<'a> {
        let derived = self.masker();
        let c = self.campaign;
        PlanSummary {
            campaign: CampaignInfo {
                name: &c.name,
                file: self.campaign_path.display().to_string(),
                kind: c.kind,
                workflow_id: c.workflow_id.as_deref(),
                workflow_name: c.workflow.as_ref().map(|w| w.name.as_str()),
                round: c.round.as_deref(),
            },
            message_checked: self.message_unchecked.is_none(),
            workflow: self.workflow.map(workflow_info),
            declared_workflow: self.declared.map(declared_info),
            languages: self
                .languages
                .iter()
                .map(|l| {
                    let calls = self.overview.languages.get(l.key);
                    LanguageInfo {
                        language: l.key,
                        accent: &l.language.voice.accent,
                        gender: l.language.voice.gender.as_str(),
                        workflow_id: l.language.workflow_id.as_deref(),
                        workflow_name: l.language.workflow.as_ref().map(|w| w.name.as_str()),
                        names_from: l.language.names.as_deref(),
                        calls: calls.map_or(0, |c| c.calls),
                        message_checked: l.unchecked.is_none(),
                        workflow: l.check.as_ref().map(workflow_info),
                        declared_workflow: l.declared.as_ref().map(declared_info),
                        sample: calls
                            .and_then(|c| c.sample.as_ref())
                            .map(|c| self.sample_call(&derived, c)),
                    }
                })
                .collect(),
            masked: !self.unmask,
            summary: &self.overview.summary,
            schedule: self.timing.map(|t| ScheduleInfo {
                timing: t,
                calls_in_one_run: t.in_one_run(self.overview.summary.calls),
            }),
            sample: self
                .overview
                .sample
                .iter()
                .map(|c| self.sample_call(&derived, c))
                .collect(),
            skipped: self
                .overview
                .skips
                .iter()
                .map(|(code, (count, examples))| {
                    let examples = examples
                        .iter()
                        .map(|e| SkipExample {
                            source: self.source_label(e.source),
                            row: e.row,
                            reason: e.reason.clone(),
                        })
                        .collect();
                    (
                        *code,
                        SkipGroup {
                            count: *count,
                            examples,
                        },
                    )
                })
                .collect(),
            saved_to: self.saved_to.map(|p| p.display().to_string()),
            changes: self.changes.map(|ch| ChangeCounts {
                against: ch.against.display().to_string(),
                settings_recorded: !ch.diff.settings_unrecorded,
                settings: ch.diff.settings.clone(),
                calls_before: ch.diff.calls_before,
                calls_after: ch.diff.calls_after,
                added: ch.diff.added.len(),
                removed: ch.diff.removed.len(),
                changed: ch.diff.changed.len(),
                changed_fields: ch.changed_fields(),
                new_skips: ch.diff.new_skips.len(),
                resolved_skips: ch.diff.resolved_skips,
            }),
        }
    }
}

impl PlanView<'_> {
    /// A call of the sample, masked as the rest of the output.
    fn sample_call(&self, derived: &Masker, c: &Call) -> SampleCall {
        SampleCall {
            phone_number: self.phone(&c.phone),
            language: c.language.clone(),
            variables: derived.values(Field::Variable, &c.rendered.variables),
            tags: derived.values(Field::Tag, &c.rendered.tags),
            source: self.source_label(c.source),
            row: c.row,
            heard: self.heard(derived, c),
        }
    }
}

fn workflow_info(w: &WorkflowCheck) -> WorkflowInfo<'_> {
    WorkflowInfo {
        target: &w.target,
        found: w.workflow.is_some(),
        name: w.workflow.as_ref().map(|x| x.name.as_str()),
        message: w.workflow.as_ref().map(|x| x.message.as_str()),
        longest_message: w.longest,
        too_long: w.too_long,
        problems: &w.problems,
    }
}

fn declared_info(d: &crate::plan::declared::DeclaredState) -> DeclaredInfo<'_> {
    DeclaredInfo {
        name: &d.file.name,
        state: d.drift.code(),
        creates: d.drift.creates(),
        target: d.target.as_deref(),
        workflow_id: d.drift.bound_id(),
        hand_edits_checked: d.drift.hand_edits_checked(),
        message: &d.file.message,
        message_before: d.drift.before().map(|b| b.message.as_str()),
        digest: d.file.digest(),
        earlier_calls: d.earlier.map(|e| EarlierInfo {
            called: e.called,
            answered: e.answered,
        }),
    }
}

fn json_summary(v: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    write_pretty(&v.summary_document(), out)
}

/// How the plan names the campaign's workflow: its id, or the name it declares.
fn workflow_label(c: &Campaign) -> String {
    match (&c.workflow_id, &c.workflow) {
        (Some(id), _) => id.clone(),
        (None, Some(w)) => format!("{} (declared in the file)", w.name),
        (None, None) => "none".to_owned(),
    }
}

/// [`workflow_label`] in markdown.
fn md_workflow_label(c: &Campaign) -> String {
    match (&c.workflow_id, &c.workflow) {
        (Some(id), _) => format!("`{id}`"),
        (None, Some(w)) => format!("`{}` (declared in the file)", w.name.replace('`', "'")),
        (None, None) => "none".to_owned(),
    }
}

/// Each language of a campaign in several, grouped: its voice and workflow, its declared
/// workflow's state and words, and one sample of what its patients hear, for a reviewer who
/// speaks it.
fn markdown_languages(v: &PlanView<'_>, derived: &Masker, md: &mut String) {
    if v.languages.is_empty() {
        return;
    }
    let masked = if v.unmask { "" } else { ", masked" };
    let _ = writeln!(md, "#### Samples by language\n");
    for l in v.languages {
        let calls = v.overview.languages.get(l.key);
        let _ = writeln!(
            md,
            "##### `{}`: {} {} voice · {} · {}\n",
            md_escape(l.key),
            l.language.voice.accent,
            l.language.voice.gender.as_str(),
            md_escape(&l.workflow_label()),
            plural(calls.map_or(0, |c| c.calls), "call")
        );
        if let Some(names) = l.names_sentence() {
            let _ = writeln!(md, "> {}\n", md_escape(&names));
        }
        if let Some(d) = &l.declared {
            super::declared::markdown(d, md);
        }
        if let Some(why) = &l.unchecked {
            let _ = writeln!(md, "> The message was not checked: {}.\n", md_escape(why));
        }
        if let Some(w) = &l.check {
            for p in &w.problems {
                let _ = writeln!(md, "> **Problem:** {}\n", md_escape(p));
            }
        }
        match calls
            .and_then(|c| c.sample.as_ref())
            .map(|c| (c, v.heard(derived, c)))
        {
            Some((call, Some(heard))) => {
                let _ = writeln!(
                    md,
                    "A patient hears (`{}`{masked}): _{}_\n",
                    v.phone(&call.phone),
                    md_escape(&heard)
                );
            }
            Some((call, None)) => {
                let (vars, _) = PlanView::call_fields(derived, call);
                let _ = writeln!(
                    md,
                    "A call's values (`{}`{masked}): {}\n",
                    v.phone(&call.phone),
                    md_escape(&vars)
                );
            }
            None => {
                let _ = writeln!(md, "No call in this language.\n");
            }
        }
    }
}

/// The sample of calls in a collapsed table.
fn markdown_sample(v: &PlanView<'_>, derived: &Masker, md: &mut String) {
    let s = &v.overview.summary;
    if !v.overview.sample.is_empty() {
        let _ = writeln!(
            md,
            "\n<details><summary>Sample: {} of {} calls{}</summary>\n",
            v.overview.sample.len(),
            s.calls,
            if v.unmask { "" } else { " (masked)" }
        );
        let _ = writeln!(md, "| phone | variables | tags |\n|---|---|---|");
        for call in &v.overview.sample {
            let (vars, tags) = PlanView::call_fields(derived, call);
            let _ = writeln!(
                md,
                "| `{}` | {} | {} |",
                v.phone(&call.phone),
                md_escape(&vars),
                md_escape(&tags)
            );
        }
        let _ = writeln!(md, "\n</details>");
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The name a pull-request comment gives the plan compared with: its file name.
/// The workflow message's change between two compared plans, when it changed.
fn message_change<'c>(ch: &'c Changes<'_>) -> Option<(&'c str, &'c str)> {
    ch.diff
        .settings
        .iter()
        .find(|c| c.name == "workflow.message")
        .and_then(|c| Some((c.before.as_deref()?, c.after.as_deref()?)))
}

fn against_name(ch: &Changes<'_>) -> String {
    ch.against.file_name().map_or_else(
        || ch.against.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The settings that changed, as a before/after table near the top of the comment.
fn markdown_settings(ch: &Changes<'_>, md: &mut String) {
    let against = md_escape(&against_name(ch));
    if ch.diff.settings_unrecorded {
        let _ = writeln!(
            md,
            "> **Settings not compared:** `{against}` does not record them (a version 1 plan, made by an older outreach). Make the base plan again with this outreach to compare workflow, voice, windows and limits.\n"
        );
        return;
    }
    if ch.diff.settings.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "#### Settings changed since `{against}`\n\n| setting | before | after |\n|---|---|---|"
    );
    for c in &ch.diff.settings {
        let _ = writeln!(
            md,
            "| `{}` | {} | {} |",
            md_escape(&c.name),
            md_escape(shown(c.before.as_deref())),
            md_escape(shown(c.after.as_deref()))
        );
    }
    md.push('\n');
}

fn markdown_changes(v: &PlanView<'_>, ch: &Changes<'_>, md: &mut String) {
    let against = against_name(ch);
    let _ = writeln!(md, "\n#### What changed\n");
    if ch.diff.is_empty() {
        let _ = writeln!(
            md,
            "No change from the plan compared with (`{}`): {}the same numbers, the same words, the same skipped rows.",
            md_escape(&against),
            if ch.diff.settings_unrecorded {
                ""
            } else {
                "the same settings, "
            }
        );
        return;
    }
    let _ = writeln!(
        md,
        "Compared with the plan `{}`.\n\n| | |\n|---|---:|",
        md_escape(&against)
    );
    for (label, value) in ch.counts() {
        let _ = writeln!(md, "| {label} | {value} |");
    }
    let fields = ch.changed_fields();
    if !fields.is_empty() {
        let list = fields
            .iter()
            .map(|(name, n)| format!("`{}` ({n})", md_escape(name)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(md, "\nChanged values: {list}.");
    }
    let examples = v.change_examples(ch);
    if !examples.is_empty() {
        let _ = writeln!(
            md,
            "\n<details><summary>Examples{}</summary>\n\n| | phone | change |\n|---|---|---|",
            if v.unmask { "" } else { " (masked)" }
        );
        for (mark, phone, detail) in examples {
            let phone = if phone.is_empty() {
                String::new()
            } else {
                format!("`{phone}`")
            };
            let _ = writeln!(md, "| {mark} | {phone} | {} |", md_escape(&detail));
        }
        let _ = writeln!(md, "\n</details>");
    }
}

fn markdown(v: &PlanView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = v.campaign;
    let s = &v.overview.summary;
    let derived = v.masker();
    let mut md = String::new();
    let _ = writeln!(md, "### outreach plan: `{}`\n", c.name);
    let round = c
        .round
        .as_deref()
        .map(|r| format!(" · round `{r}`"))
        .unwrap_or_default();
    if v.languages.is_empty() {
        let _ = writeln!(
            md,
            "`{}` · {} · workflow {} · {} {} voice{round}\n",
            v.campaign_path.display(),
            c.kind.as_str(),
            md_workflow_label(c),
            c.voice.accent,
            c.voice.gender.as_str(),
        );
    } else {
        let _ = writeln!(
            md,
            "`{}` · {} · {}{round}\n",
            v.campaign_path.display(),
            c.kind.as_str(),
            plural(v.languages.len() as u64, "language"),
        );
    }
    if let Some(over) = v.timing.and_then(Timing::over_sentence) {
        let _ = writeln!(md, "> **Warning:** {}.\n", md_escape(&over));
    }
    // The words a patient hears first: they are what a reviewer approves.
    if let Some(d) = v.declared {
        super::declared::markdown(d, &mut md);
    }
    markdown_languages(v, &derived, &mut md);
    if let Some(ch) = v.changes {
        if let Some((before, after)) = message_change(ch) {
            super::declared::markdown_message_change(
                &format!("Message changed since `{}`", md_escape(&against_name(ch))),
                before,
                after,
                &mut md,
            );
        }
        markdown_settings(ch, &mut md);
    }
    let _ = writeln!(md, "| | count |\n|---|---:|");
    let _ = writeln!(md, "| patient rows read | {} |", s.rows);
    let _ = writeln!(md, "| **calls to place** | **{}** |", s.calls);
    let _ = writeln!(md, "| batches | {} |", s.batches);
    let _ = writeln!(md, "| rows skipped | {} |", s.skipped);
    if !c.exclude.is_empty() {
        let _ = writeln!(md, "| opt-out numbers | {} |", s.opt_outs);
    }
    if let Some(t) = v.timing {
        let _ = writeln!(md, "\n| when | |\n|---|---|");
        for (label, value) in timing_lines(t, s.calls) {
            let _ = writeln!(md, "| {label} | {} |", md_escape(&value));
        }
    }
    if let Some(why) = v.message_unchecked {
        let _ = writeln!(md, "\n> The message was not checked: {why}.");
    }
    if let Some(w) = v.workflow {
        if let Some(wf) = w.workflow.as_ref().filter(|_| v.declared.is_none()) {
            let _ = writeln!(
                md,
                "\nWorkflow on {}: **{}** ({}, {}): _{}_",
                w.target,
                md_escape(&wf.name),
                wf.workflow_type.as_str(),
                wf.status.as_str(),
                md_escape(&wf.message)
            );
        }
        for p in &w.problems {
            let _ = writeln!(md, "\n> **Problem:** {}", md_escape(p));
        }
    }
    if let Some(ch) = v.changes {
        markdown_changes(v, ch, &mut md);
    }
    markdown_sample(v, &derived, &mut md);
    if !v.overview.skips.is_empty() {
        let _ = writeln!(
            md,
            "\n#### Skipped rows\n\n| reason | rows | for example |\n|---|---:|---|"
        );
        for (code, (count, examples)) in &v.overview.skips {
            let example = examples
                .first()
                .map(|e| md_escape(&v.skip_line(e)))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {count} | {example} |",
                words::skipped_code(code)
            );
        }
    }
    out.write_all(md.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_summary_keeps_its_fields_and_their_order() {
        let campaign: Campaign = serde_json::from_value(serde_json::json!({
            "version": 1,
            "name": "t",
            "workflow_id": "w",
            "patients": [{"file": "p.csv"}],
            "variables": {"name": "{{first_name}}"},
            "schedule": {"timezone": "Africa/Lagos", "windows": [{"days": ["weekdays"], "from": "09:00", "until": "17:00"}]},
        }))
        .unwrap();
        let overview = Overview::new(5);
        let view = PlanView {
            campaign: &campaign,
            campaign_path: Path::new("t.yaml"),
            overview: &overview,
            unmask: false,
            saved_to: None,
            message_unchecked: Some("no target"),
            workflow: None,
            declared: None,
            languages: &[],
            changes: None,
            timing: None,
        };
        let mut out = Vec::new();
        write(PlanFormat::Json, &view, &mut out).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let keys: Vec<_> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "format",
                "version",
                "campaign",
                "message_checked",
                "workflow",
                "masked",
                "summary",
                "sample",
                "skipped",
                "saved_to"
            ],
            "no `changes` without --compare"
        );
        assert_eq!(doc["format"], "outreach-plan-summary");
        assert_eq!(doc["version"], 1);
        assert_eq!(
            doc["campaign"],
            serde_json::json!({"name": "t", "file": "t.yaml", "kind": "robocall", "workflow_id": "w", "round": null})
        );
    }
}
