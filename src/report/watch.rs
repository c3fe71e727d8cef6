//! The reporter of `outreach watch`: one event at a time, for people (human) or as JSON lines
//! for tools and tests. Phone numbers and values drawn from patient data are masked unless
//! `--unmask`, as in `plan`'s printed output.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::apply::{ApplySummary, RunCounts, RunStatus, Stopped};
use crate::campaign::Campaign;
use crate::load::diagnostic::FileReport;
use crate::plan::diff::{Changed, Field, PlanDiff, Snapshot};
use crate::plan::{Call, Skip, SkipReason};
use crate::report::document::{Document, write_line};
use crate::report::mask::Masker;
use crate::report::validation::Problems;
use crate::report::words::{self, plural};
use crate::settings::formats::WatchFormat;

/// What the watcher has to say.
pub enum Event<'a> {
    /// Watching started; the first runs follow.
    Watching {
        campaigns: &'a [String],
        debounce_ms: u64,
        /// With `--apply --mock`: where good plans are applied.
        apply_to: Option<&'a str>,
    },
    /// A campaign file appeared under a watched path.
    Added { campaign: &'a str },
    /// A campaign file went away; its plan is forgotten.
    Removed { campaign: &'a str },
    /// The campaign has errors; nothing was planned and the last good plan stands.
    Invalid {
        campaign: &'a str,
        report: &'a FileReport,
    },
    /// The campaign is valid but could not be planned.
    Failed { campaign: &'a str, message: &'a str },
    /// A new plan, and how it differs from the previous good one.
    Planned {
        campaign_file: &'a str,
        campaign: &'a Campaign,
        snapshot: &'a Snapshot,
        diff: &'a PlanDiff,
        /// No earlier plan of this campaign in this session.
        first: bool,
    },
    /// The plan just reported is being applied to the session's mock (`--apply --mock`).
    Applying { campaign: &'a str },
    /// The apply ended: `apply`'s summary.
    Applied {
        campaign: &'a str,
        summary: &'a ApplySummary,
    },
    /// The apply could not run (the ledger is in use, the plan went stale, …).
    ApplyFailed { campaign: &'a str, message: &'a str },
    /// The file watcher reported a problem (a directory that cannot be watched, …).
    WatchError { message: &'a str },
    /// Ctrl-C: the watcher stopped.
    Stopped,
}

/// One line of `watch --format json` (`"format": "outreach-watch"`): an [`Event`], named by
/// its `event` field, patient data masked as asked.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum WatchEvent<'a> {
    Watching {
        campaigns: &'a [String],
        debounce_ms: u64,
        /// `mock` with `--apply --mock`.
        apply: Option<&'static str>,
    },
    Added {
        campaign: &'a str,
    },
    Removed {
        campaign: &'a str,
    },
    Invalid {
        campaign: &'a str,
        #[serde(flatten)]
        problems: Problems<'a>,
    },
    Failed {
        campaign: &'a str,
        message: &'a str,
    },
    Run(Box<RunEvent<'a>>),
    Applying {
        campaign: &'a str,
    },
    Apply {
        campaign: &'a str,
        target: &'static str,
        status: RunStatus,
        counts: &'a RunCounts,
        /// Why the apply stopped before its due calls (as in `apply --json`; `null`: it did not).
        stopped: &'a Option<Stopped>,
    },
    ApplyFailed {
        campaign: &'a str,
        message: &'a str,
    },
    WatchError {
        message: &'a str,
    },
    Stopped,
}

impl Document for WatchEvent<'_> {
    const FORMAT: &'static str = "outreach-watch";
    const VERSION: u32 = 1;
}

/// A new plan (`"event": "run"`) and how it differs from the previous good one.
#[derive(Debug, Serialize)]
pub struct RunEvent<'a> {
    /// The campaign file.
    pub campaign: &'a str,
    /// The campaign's name.
    pub name: &'a str,
    /// No earlier plan of this campaign in this session.
    pub first: bool,
    /// Of the campaign file planned.
    pub sha256: &'a str,
    pub rows: u64,
    pub calls: u64,
    pub batches: u64,
    pub skipped: u64,
    pub skipped_by_reason: &'a BTreeMap<&'static str, u64>,
    pub masked: bool,
    pub diff: DiffSummary<'a>,
}

/// What changed since the previous plan: counts, and a few examples of each kind.
#[derive(Debug, Serialize)]
pub struct DiffSummary<'a> {
    pub calls_before: u64,
    pub calls_after: u64,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub new_skips: usize,
    pub resolved_skips: u64,
    /// Skip counts per reason whose count changed.
    pub skip_counts: BTreeMap<&'static str, BeforeAfter>,
    pub examples: Examples<'a>,
}

#[derive(Debug, Serialize)]
pub struct BeforeAfter {
    pub before: u64,
    pub after: u64,
}

/// Up to `--sample` of each kind of change.
#[derive(Debug, Serialize)]
pub struct Examples<'a> {
    pub added: Vec<CallExample<'a>>,
    pub removed: Vec<CallExample<'a>>,
    pub changed: Vec<ChangedExample<'a>>,
    pub new_skips: Vec<SkippedRow<'a>>,
}

/// A call added or removed.
#[derive(Debug, Serialize)]
pub struct CallExample<'a> {
    pub phone: String,
    pub source: Option<&'a String>,
    pub row: u64,
    pub variables: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

impl<'a> CallExample<'a> {
    fn of(m: &Masker, c: &Call, sources: &'a [String]) -> Self {
        CallExample {
            phone: m.phone(&c.phone),
            source: sources.get(c.source),
            row: c.row,
            variables: m.values(Field::Variable, &c.rendered.variables),
            tags: m.values(Field::Tag, &c.rendered.tags),
        }
    }
}

/// A call whose values changed.
#[derive(Debug, Serialize)]
pub struct ChangedExample<'a> {
    pub phone: String,
    pub changes: Vec<ValueChange<'a>>,
}

impl<'a> ChangedExample<'a> {
    fn of(m: &Masker, c: &'a Changed) -> Self {
        ChangedExample {
            phone: m.phone(&c.call.phone),
            changes: c
                .changes
                .iter()
                .map(|f| ValueChange {
                    field: field_name(f.field),
                    name: &f.name,
                    before: f.before.as_deref().map(|v| m.value(f.field, &f.name, v)),
                    after: f.after.as_deref().map(|v| m.value(f.field, &f.name, v)),
                })
                .collect(),
        }
    }
}

/// One value of a changed call: `null` where it did not exist.
#[derive(Debug, Serialize)]
pub struct ValueChange<'a> {
    /// `variable` or `tag`.
    pub field: &'static str,
    pub name: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A row newly skipped.
#[derive(Debug, Serialize)]
pub struct SkippedRow<'a> {
    pub code: SkipReason,
    pub source: Option<&'a String>,
    pub row: u64,
    pub reason: &'a str,
    pub phone: Option<String>,
}

impl<'a> SkippedRow<'a> {
    fn of(m: &Masker, s: &'a Skip, sources: &'a [String]) -> Self {
        SkippedRow {
            code: s.code,
            source: sources.get(s.source),
            row: s.row,
            reason: &s.reason,
            phone: s
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| m.phone(p)),
        }
    }
}

/// Writes watch events in one format.
pub struct Reporter {
    format: WatchFormat,
    color: bool,
    unmask: bool,
    /// How many calls and skips of each kind a change lists.
    sample: usize,
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::Variable => "variable",
        Field::Tag => "tag",
    }
}

impl Reporter {
    pub fn new(format: WatchFormat, color: bool, unmask: bool, sample: usize) -> Self {
        Reporter {
            format,
            color,
            unmask,
            sample,
        }
    }

    /// Writes one event and flushes, so a reader sees it at once.
    pub fn event(&self, event: &Event<'_>, out: &mut dyn Write) -> io::Result<()> {
        match self.format {
            WatchFormat::Json => {
                write_line(&self.json(event), out)?;
            }
            WatchFormat::Human => self.human(event, out)?,
        }
        out.flush()
    }

    /// An event as its JSON line, masked as asked.
    fn json<'a>(&self, event: &'a Event<'a>) -> WatchEvent<'a> {
        match *event {
            Event::Watching {
                campaigns,
                debounce_ms,
                apply_to,
            } => WatchEvent::Watching {
                campaigns,
                debounce_ms,
                apply: apply_to.map(|_| "mock"),
            },
            Event::Added { campaign } => WatchEvent::Added { campaign },
            Event::Removed { campaign } => WatchEvent::Removed { campaign },
            Event::Invalid { campaign, report } => WatchEvent::Invalid {
                campaign,
                problems: Problems::of(report),
            },
            Event::Failed { campaign, message } => WatchEvent::Failed { campaign, message },
            Event::Planned {
                campaign_file,
                campaign,
                snapshot,
                diff,
                first,
            } => WatchEvent::Run(Box::new(self.run(
                campaign_file,
                campaign,
                snapshot,
                diff,
                first,
            ))),
            Event::Applying { campaign } => WatchEvent::Applying { campaign },
            Event::Applied { campaign, summary } => WatchEvent::Apply {
                campaign,
                target: "mock",
                status: summary.status,
                counts: &summary.counts,
                stopped: &summary.stopped,
            },
            Event::ApplyFailed { campaign, message } => {
                WatchEvent::ApplyFailed { campaign, message }
            }
            Event::WatchError { message } => WatchEvent::WatchError { message },
            Event::Stopped => WatchEvent::Stopped,
        }
    }

    fn run<'a>(
        &self,
        campaign_file: &'a str,
        campaign: &'a Campaign,
        snapshot: &'a Snapshot,
        diff: &'a PlanDiff,
        first: bool,
    ) -> RunEvent<'a> {
        let m = Masker::new(campaign, self.unmask);
        let src = &snapshot.sources;
        let s = &snapshot.summary;
        let n = self.sample;
        let calls = |calls: &'a [Call]| {
            calls
                .iter()
                .take(n)
                .map(|c| CallExample::of(&m, c, src))
                .collect()
        };
        RunEvent {
            campaign: campaign_file,
            name: &campaign.name,
            first,
            sha256: &snapshot.campaign_sha256,
            rows: s.rows,
            calls: s.calls,
            batches: s.batches,
            skipped: s.skipped,
            skipped_by_reason: &s.skipped_by_reason,
            masked: !self.unmask,
            diff: DiffSummary {
                calls_before: diff.calls_before,
                calls_after: diff.calls_after,
                added: diff.added.len(),
                removed: diff.removed.len(),
                changed: diff.changed.len(),
                new_skips: diff.new_skips.len(),
                resolved_skips: diff.resolved_skips,
                skip_counts: diff
                    .skip_counts
                    .iter()
                    .map(|(k, (before, after))| {
                        (
                            *k,
                            BeforeAfter {
                                before: *before,
                                after: *after,
                            },
                        )
                    })
                    .collect(),
                examples: Examples {
                    added: calls(&diff.added),
                    removed: calls(&diff.removed),
                    changed: diff
                        .changed
                        .iter()
                        .take(n)
                        .map(|c| ChangedExample::of(&m, c))
                        .collect(),
                    new_skips: diff
                        .new_skips
                        .iter()
                        .take(n)
                        .map(|k| SkippedRow::of(&m, k, src))
                        .collect(),
                },
            },
        }
    }

    fn human(&self, event: &Event<'_>, out: &mut dyn Write) -> io::Result<()> {
        match event {
            Event::Watching {
                campaigns,
                debounce_ms,
                apply_to,
            } => {
                writeln!(
                    out,
                    "Watching {} ({} ms after the last change); Ctrl-C to stop.",
                    plural(campaigns.len() as u64, "campaign"),
                    debounce_ms
                )?;
                match apply_to {
                    Some(target) => writeln!(
                        out,
                        "Applying each good plan to {target}; the watcher never places calls on a live target."
                    ),
                    None => writeln!(
                        out,
                        "Plans only: the watcher never places calls on a live target."
                    ),
                }
            }
            Event::Applying { campaign } => {
                writeln!(out, "  … applying {campaign} to the mock")
            }
            // The words of `apply`'s own summary, so that the two never tell it differently.
            Event::Applied { campaign, summary } => writeln!(
                out,
                "  → {campaign} on the mock: {}",
                crate::report::apply::headline(summary)
            ),
            Event::ApplyFailed { campaign, message } => {
                writeln!(out, "  ✗ {campaign}: not applied: {message}")
            }
            Event::Added { campaign } => writeln!(out, "\n+ new campaign file {campaign}"),
            Event::Removed { campaign } => {
                writeln!(out, "\n- campaign file {campaign} is gone; forgot its plan")
            }
            Event::Invalid { campaign, report } => {
                writeln!(
                    out,
                    "\n✗ {campaign} is invalid ({}); nothing planned, the last good plan stands:",
                    plural(report.errors() as u64, "error")
                )?;
                crate::report::validation::reporter(
                    crate::settings::formats::ValidateFormat::Human,
                    self.color,
                )
                .validation(std::slice::from_ref(*report), out)
            }
            Event::Failed { campaign, message } => {
                writeln!(out, "\n✗ {campaign}: cannot plan: {message}")
            }
            Event::Planned {
                campaign_file,
                campaign,
                snapshot,
                diff,
                first,
            } => self.human_plan(campaign_file, campaign, snapshot, diff, *first, out),
            Event::WatchError { message } => writeln!(out, "\n! watcher: {message}"),
            Event::Stopped => writeln!(out, "\nStopped."),
        }
    }

    fn human_plan(
        &self,
        file: &str,
        campaign: &Campaign,
        snapshot: &Snapshot,
        diff: &PlanDiff,
        first: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let m = Masker::new(campaign, self.unmask);
        let s = &snapshot.summary;
        let src = &snapshot.sources;
        writeln!(
            out,
            "\n✓ {} ({file}): {} in {}, {} skipped",
            campaign.name,
            plural(s.calls, "call"),
            plural(s.batches, "batch"),
            s.skipped
        )?;
        if first {
            return Ok(());
        }
        if diff.is_empty() {
            return writeln!(out, "  no change since the previous plan");
        }
        let fields = |c: &Call| {
            c.rendered
                .variables
                .iter()
                .map(|(k, v)| format!("{k}={}", m.value(Field::Variable, k, v)))
                .chain(
                    c.rendered
                        .tags
                        .iter()
                        .map(|(k, v)| format!("[{k}={}]", m.value(Field::Tag, k, v))),
                )
                .collect::<Vec<_>>()
                .join(", ")
        };
        let more = |out: &mut dyn Write, total: usize| -> io::Result<()> {
            if total > self.sample {
                writeln!(out, "      … and {} more", total - self.sample)?;
            }
            Ok(())
        };
        if !diff.added.is_empty() {
            writeln!(out, "  + {} added", plural(diff.added.len() as u64, "call"))?;
            for c in diff.added.iter().take(self.sample) {
                writeln!(out, "      {}  {}", m.phone(&c.phone), fields(c))?;
            }
            more(out, diff.added.len())?;
        }
        if !diff.removed.is_empty() {
            writeln!(
                out,
                "  - {} removed",
                plural(diff.removed.len() as u64, "call")
            )?;
            for c in diff.removed.iter().take(self.sample) {
                writeln!(out, "      {}  {}", m.phone(&c.phone), fields(c))?;
            }
            more(out, diff.removed.len())?;
        }
        if !diff.changed.is_empty() {
            writeln!(
                out,
                "  ~ {} changed{}",
                plural(diff.changed.len() as u64, "call"),
                if self.unmask {
                    ""
                } else {
                    " (patient values masked, --unmask to show)"
                }
            )?;
            for c in diff.changed.iter().take(self.sample) {
                let changes = m.changes(&c.changes);
                writeln!(out, "      {}  {changes}", m.phone(&c.call.phone))?;
            }
            more(out, diff.changed.len())?;
        }
        if !diff.new_skips.is_empty() {
            writeln!(
                out,
                "  ! {} newly skipped",
                plural(diff.new_skips.len() as u64, "row")
            )?;
            for k in diff.new_skips.iter().take(self.sample) {
                let label = src.get(k.source).map_or("source", String::as_str);
                let phone = k
                    .phone
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| format!(" ({})", m.phone(p)))
                    .unwrap_or_default();
                writeln!(out, "      {label} row {}{phone}: {}", k.row, k.reason)?;
            }
            more(out, diff.new_skips.len())?;
        }
        if diff.resolved_skips > 0 {
            writeln!(
                out,
                "  ✓ {} no longer skipped",
                plural(diff.resolved_skips, "row")
            )?;
        }
        if !diff.skip_counts.is_empty() {
            let counts = diff
                .skip_counts
                .iter()
                .map(|(code, (b, a))| format!("{} {b} → {a}", words::skipped_code(code)))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(out, "  skipped by reason: {counts}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::Sink as _;
    use crate::plan::diff::diff;
    use crate::render::Rendered;

    fn campaign() -> Campaign {
        serde_json::from_value(json!({
            "version": 1,
            "name": "t",
            "workflow_id": "w",
            "patients": [{"file": "p.csv"}],
            "variables": {"name": "{{first_name}}", "clinic": "Yaba PHC"},
            "schedule": {"timezone": "Africa/Lagos", "windows": [{"days": ["weekdays"], "from": "09:00", "until": "17:00"}]},
        }))
        .unwrap()
    }

    fn call(key: &str, phone: &str, name: &str) -> Call {
        Call {
            key: key.to_owned(),
            phone: phone.to_owned(),
            source: 0,
            row: 2,
            list_values: crate::ledger::ListValues::default(),
            language: None,
            rendered: Rendered {
                variables: [
                    ("name".to_owned(), name.to_owned()),
                    ("clinic".to_owned(), "Yaba PHC".to_owned()),
                ]
                .into(),
                tags: BTreeMap::new(),
            },
        }
    }

    fn snapshot(calls: &[Call]) -> Snapshot {
        let mut s = Snapshot::default();
        s.batch(0, "Africa/Lagos", calls).unwrap();
        s.summary.calls = calls.len() as u64;
        s.summary.batches = 1;
        s
    }

    fn human(unmask: bool) -> String {
        planned(WatchFormat::Human, unmask)
    }

    fn planned(format: WatchFormat, unmask: bool) -> String {
        let before = snapshot(&[call("k1", "+2348031234567", "Ada")]);
        let after = snapshot(&[
            call("k1", "+2348031234567", "Adaeze"),
            call("k2", "+2348039990001", "Zainab Bello"),
        ]);
        let d = diff(&before, &after);
        let c = campaign();
        let mut out = Vec::new();
        Reporter::new(format, false, unmask, 5)
            .event(
                &Event::Planned {
                    campaign_file: "c.yaml",
                    campaign: &c,
                    snapshot: &after,
                    diff: &d,
                    first: false,
                },
                &mut out,
            )
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn human_diff_is_masked() {
        let text = human(false);
        assert!(
            text.contains("✓ t (c.yaml): 2 calls in 1 batch, 0 skipped"),
            "{text}"
        );
        assert!(text.contains("+ 1 call added"), "{text}");
        assert!(
            text.contains("+234******0001  clinic=Yaba PHC, name=Z*** B***"),
            "constant values are shown, patient values masked: {text}"
        );
        assert!(text.contains("~ 1 call changed"), "{text}");
        assert!(text.contains("+234******4567  name: A*** → A***"), "{text}");
        assert!(!text.contains("Zainab") && !text.contains("8031234567"));
    }

    #[test]
    fn human_diff_unmasked() {
        let text = human(true);
        assert!(
            text.contains("+2348031234567  name: Ada → Adaeze"),
            "{text}"
        );
    }

    fn line(event: &Event<'_>) -> String {
        let mut out = Vec::new();
        Reporter::new(WatchFormat::Json, false, false, 5)
            .event(event, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_lines_lead_with_their_format_and_event_and_are_masked() {
        let text = planned(WatchFormat::Json, false);
        assert!(
            text.starts_with(
                r#"{"format":"outreach-watch","version":1,"event":"run","campaign":"c.yaml","name":"t","first":false,"#
            ),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["diff"]["added"], 1);
        assert_eq!(v["diff"]["examples"]["added"][0]["phone"], "+234******0001");
        assert_eq!(
            v["diff"]["examples"]["changed"][0]["changes"][0],
            json!({"field": "variable", "name": "name", "before": "A***", "after": "A***"})
        );
        assert_eq!(
            line(&Event::Stopped),
            "{\"format\":\"outreach-watch\",\"version\":1,\"event\":\"stopped\"}\n"
        );
    }

    #[test]
    fn an_apply_is_reported_with_apply_s_status_and_counts() {
        let counts = RunCounts {
            planned: 5,
            already_done: 2,
            sent: 3,
            accepted: 3,
            ..RunCounts::default()
        };
        let summary = ApplySummary::example(RunStatus::Done, counts);
        let event = Event::Applied {
            campaign: "c.yaml",
            summary: &summary,
        };
        let v: serde_json::Value = serde_json::from_str(&line(&event)).unwrap();
        assert_eq!(v["event"], "apply");
        assert_eq!(v["target"], "mock");
        assert_eq!(v["status"], "done");
        assert_eq!(v["counts"]["sent"], 3);
        assert_eq!(v["counts"]["already_done"], 2);
        assert_eq!(v["stopped"], serde_json::Value::Null);
        let mut out = Vec::new();
        Reporter::new(WatchFormat::Human, false, false, 5)
            .event(&event, &mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  → c.yaml on the mock: done: 3 calls placed\n"
        );
    }
}
