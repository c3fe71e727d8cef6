//! What changed between two plans of one campaign: the settings that changed (workflow,
//! voice, windows, limits… see [`crate::plan::settings`]), calls added and removed (by
//! idempotency key), calls whose variables or tags changed, and rows newly skipped.
//!
//! [`Snapshot`] is a plan [`Sink`] that keeps what a diff needs; [`diff`] is a pure function
//! over two snapshots, so `watch` and `plan --format markdown` can share it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

use crate::campaign::Campaign;
use crate::plan::SkipReason;
use crate::plan::saved::SavedPlan;
use crate::plan::settings::{SettingChange, Settings};
use crate::plan::{Call, Header, Sink, Skip, Summary};

/// A plan, kept whole for comparison: every call by key, every skip, the counts.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Calls by idempotency key (hashed: a plan holds tens of thousands of calls whose keys
    /// share a prefix, and a diff only sorts what changed).
    pub calls: HashMap<String, Call>,
    /// Skipped rows, by [`skip_identity`].
    pub skips: BTreeMap<(SkipReason, String), Skip>,
    pub summary: Summary,
    /// Source labels (patients, then opt-outs), as in [`Header::sources`].
    pub sources: Vec<String>,
    /// `sha256:<hex>` of the campaign file this plan was made from.
    pub campaign_sha256: String,
    /// The campaign's settings; `None` when not known (a version 1 saved plan, or no plan).
    pub settings: Option<Settings>,
}

/// How a skipped row is recognised across two plans: its reason and its phone cell (rows move
/// when a file is edited, numbers do not), or its place when it has no phone.
pub fn skip_identity(skip: &Skip) -> (SkipReason, String) {
    let ident = match skip.phone.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => format!("phone:{p}"),
        _ => format!("row:{}:{}", skip.source, skip.row),
    };
    (skip.code, ident)
}

impl Sink for Snapshot {
    fn header(&mut self, header: &Header, campaign: &Campaign) -> io::Result<()> {
        self.sources = header.sources.iter().map(|s| s.label.clone()).collect();
        self.campaign_sha256.clone_from(&header.campaign_sha256);
        self.settings = Some(Settings::of(campaign, header));
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        for c in calls {
            self.calls.insert(c.key.clone(), c.clone());
        }
        Ok(())
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.skips
            .entry(skip_identity(skip))
            .or_insert_with(|| skip.clone());
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = summary.clone();
        Ok(())
    }
}

/// Where a changed value lives in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Variable,
    Tag,
    /// The language a patient is called in (its voice and workflow): `name` is `language`.
    Language,
}

/// One value that differs between two plans of the same call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: Field,
    pub name: String,
    /// `None`: the value did not exist on that side.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A call planned in both plans whose values differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The call as now planned.
    pub call: Call,
    pub changes: Vec<FieldChange>,
}

/// The difference between two plans of one campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDiff {
    /// The settings that changed, in the new plan's order (those only the old plan had last).
    pub settings: Vec<SettingChange>,
    /// The old plan did not record its settings (a version 1 saved plan): they could not be
    /// compared, so whether they changed is not known.
    pub settings_unrecorded: bool,
    /// Calls in the new plan only, in key order.
    pub added: Vec<Call>,
    /// Calls in the old plan only, in key order.
    pub removed: Vec<Call>,
    /// Calls in both whose variables or tags changed, in key order.
    pub changed: Vec<Changed>,
    /// Rows skipped in the new plan that were not skipped (for that reason) before.
    pub new_skips: Vec<Skip>,
    /// How many rows skipped before are no longer skipped for that reason.
    pub resolved_skips: u64,
    /// Skip counts per reason whose count changed: (before, after).
    pub skip_counts: BTreeMap<&'static str, (u64, u64)>,
    pub calls_before: u64,
    pub calls_after: u64,
}

impl PlanDiff {
    /// Whether the new plan has the same settings, calls the same numbers with the same
    /// values and skips the same rows (as far as is known: see [`PlanDiff::differs`]).
    pub fn is_empty(&self) -> bool {
        self.settings.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.new_skips.is_empty()
            && self.resolved_skips == 0
    }

    /// Whether the new plan may differ from the old: a change, or settings that could not be
    /// compared (what `plan --compare --detailed-exitcode` reads as pending).
    pub fn differs(&self) -> bool {
        !self.is_empty() || self.settings_unrecorded
    }
}

fn field_changes(
    field: Field,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    out: &mut Vec<FieldChange>,
) {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (b, a) = (before.get(name), after.get(name));
        if b != a {
            out.push(FieldChange {
                field,
                name: name.clone(),
                before: b.cloned(),
                after: a.cloned(),
            });
        }
    }
}

/// Compares two plans of one campaign. Calls are matched by idempotency key (campaign, round
/// and number), so a patient who moves to another row is the same call; a changed round makes
/// every call new, which is what it means.
pub fn diff(before: &Snapshot, after: &Snapshot) -> PlanDiff {
    let mut d = PlanDiff {
        calls_before: before.summary.calls,
        calls_after: after.summary.calls,
        ..PlanDiff::default()
    };
    match (&before.settings, &after.settings) {
        (Some(b), Some(a)) => {
            d.settings = a.changes_since(b, (&before.summary, &after.summary));
        }
        // The first plan of a watch session has nothing before it: nothing to compare.
        (None, _) | (_, None) => d.settings_unrecorded = before.settings.is_none(),
    }
    for (key, call) in &after.calls {
        match before.calls.get(key) {
            None => d.added.push(call.clone()),
            Some(old) if old.rendered != call.rendered || old.language != call.language => {
                let mut changes = Vec::new();
                field_changes(
                    Field::Variable,
                    &old.rendered.variables,
                    &call.rendered.variables,
                    &mut changes,
                );
                field_changes(
                    Field::Tag,
                    &old.rendered.tags,
                    &call.rendered.tags,
                    &mut changes,
                );
                if old.language != call.language {
                    changes.push(FieldChange {
                        field: Field::Language,
                        name: "language".to_owned(),
                        before: old.language.clone(),
                        after: call.language.clone(),
                    });
                }
                d.changed.push(Changed {
                    call: call.clone(),
                    changes,
                });
            }
            Some(_) => {}
        }
    }
    d.removed = before
        .calls
        .iter()
        .filter(|(k, _)| !after.calls.contains_key(*k))
        .map(|(_, c)| c.clone())
        .collect();
    d.added.sort_by(|a, b| a.key.cmp(&b.key));
    d.removed.sort_by(|a, b| a.key.cmp(&b.key));
    d.changed.sort_by(|a, b| a.call.key.cmp(&b.call.key));
    d.new_skips = after
        .skips
        .iter()
        .filter(|(k, _)| !before.skips.contains_key(*k))
        .map(|(_, s)| s.clone())
        .collect();
    // Show new skips in file order, as a reader scans the patient list.
    d.new_skips.sort_by_key(|s| (s.source, s.row));
    d.resolved_skips = before
        .skips
        .keys()
        .filter(|k| !after.skips.contains_key(*k))
        .count() as u64;
    let codes: BTreeSet<&&'static str> = before
        .summary
        .skipped_by_reason
        .keys()
        .chain(after.summary.skipped_by_reason.keys())
        .collect();
    for code in codes {
        let b = before
            .summary
            .skipped_by_reason
            .get(*code)
            .copied()
            .unwrap_or(0);
        let a = after
            .summary
            .skipped_by_reason
            .get(*code)
            .copied()
            .unwrap_or(0);
        if a != b {
            d.skip_counts.insert(code, (b, a));
        }
    }
    d
}

impl From<SavedPlan> for Snapshot {
    /// A plan saved with `outreach plan --out` (for `plan --compare`): its calls, skips and
    /// counts, as a [`Snapshot`] made while planning would hold them.
    fn from(saved: SavedPlan) -> Snapshot {
        let mut snap = Snapshot {
            calls: HashMap::with_capacity(saved.batches.iter().map(|b| b.calls.len()).sum()),
            sources: saved.sources.into_iter().map(|s| s.label).collect(),
            campaign_sha256: saved.campaign.sha256.into_owned(),
            settings: saved.settings,
            summary: saved.summary,
            ..Snapshot::default()
        };
        for call in saved.batches.into_iter().flat_map(|b| b.calls) {
            snap.calls.insert(call.key.clone(), call);
        }
        for skip in saved.skipped {
            snap.skips.entry(skip_identity(&skip)).or_insert(skip);
        }
        snap
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Rendered;

    fn call(key: &str, phone: &str, name: &str) -> Call {
        Call {
            key: key.to_owned(),
            phone: phone.to_owned(),
            source: 0,
            row: 2,
            list_values: crate::ledger::ListValues::default(),
            language: None,
            rendered: Rendered {
                variables: [("name".to_owned(), name.to_owned())].into(),
                tags: BTreeMap::new(),
            },
        }
    }

    fn skip(code: &'static str, phone: Option<&str>, row: u64) -> Skip {
        Skip {
            source: 0,
            row,
            code: SkipReason::from_code(code),
            reason: code.to_owned(),
            phone: phone.map(ToOwned::to_owned),
        }
    }

    fn snapshot(calls: &[Call], skips: &[Skip]) -> Snapshot {
        let mut s = Snapshot::default();
        s.batch(0, "Africa/Lagos", calls).unwrap();
        for k in skips {
            s.skip(k).unwrap();
            s.summary.skipped += 1;
            *s.summary
                .skipped_by_reason
                .entry(k.code.as_str())
                .or_default() += 1;
        }
        s.summary.calls = calls.len() as u64;
        s
    }

    /// `plan --compare` reads a saved plan back: it must hold what a snapshot made while
    /// planning holds, or every comparison would report phantom changes.
    #[test]
    fn a_saved_plan_reads_back_as_its_snapshot() {
        for fixture in ["csv-robocall.yaml", "json-conversation.yaml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/plan")
                .join(fixture);
            let campaign = crate::validate::check_file(&path).campaign.unwrap();
            let mut live = Snapshot::default();
            let mut writer = crate::plan::JsonPlanWriter::new(Vec::new());
            crate::plan::plan(
                &campaign,
                &path,
                &mut crate::plan::Tee(&mut writer, &mut live),
            )
            .unwrap();
            let bytes = writer.into_inner();
            let saved = Snapshot::from(crate::plan::saved::parse(fixture, &bytes).unwrap());
            assert!(diff(&saved, &live).is_empty(), "{fixture}");
            assert!(diff(&live, &saved).is_empty(), "{fixture}");
            assert_eq!(saved.summary, live.summary, "{fixture}");
            assert_eq!(saved.calls, live.calls, "{fixture}");
            assert!(!saved.calls.is_empty());
        }
    }

    #[test]
    fn identical_plans_have_no_diff() {
        let a = snapshot(&[call("k1", "+2348031234567", "Ada")], &[]);
        let d = diff(&a, &a.clone());
        assert!(d.is_empty());
        assert_eq!((d.calls_before, d.calls_after), (1, 1));
    }

    #[test]
    fn added_removed_and_changed_by_key() {
        let before = snapshot(
            &[
                call("k1", "+2348031234567", "Ada"),
                call("k2", "+2348031234568", "Bola"),
            ],
            &[],
        );
        let mut moved = call("k1", "+2348031234567", "Adaeze");
        moved.row = 9; // a row that moved is the same call
        let after = snapshot(&[moved, call("k3", "+2348031234569", "Chi")], &[]);
        let d = diff(&before, &after);
        assert_eq!(
            d.added.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
            ["k3"]
        );
        assert_eq!(
            d.removed.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
            ["k2"]
        );
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            d.changed[0].changes,
            [FieldChange {
                field: Field::Variable,
                name: "name".to_owned(),
                before: Some("Ada".to_owned()),
                after: Some("Adaeze".to_owned()),
            }]
        );
    }

    #[test]
    fn a_moved_row_is_not_a_change() {
        let before = snapshot(&[call("k1", "+2348031234567", "Ada")], &[]);
        let mut moved = call("k1", "+2348031234567", "Ada");
        moved.row = 40;
        assert!(diff(&before, &snapshot(&[moved], &[])).is_empty());
    }

    #[test]
    fn new_and_resolved_skips() {
        let before = snapshot(
            &[],
            &[
                skip("invalid-phone", Some("12345"), 3),
                skip("missing-phone", None, 4),
            ],
        );
        let after = snapshot(
            &[],
            &[
                // The same bad number on another row is not new.
                skip("invalid-phone", Some("12345"), 5),
                skip("opted-out", Some("08031234567"), 2),
            ],
        );
        let d = diff(&before, &after);
        assert_eq!(
            d.new_skips
                .iter()
                .map(|s| s.code.as_str())
                .collect::<Vec<_>>(),
            ["opted-out"]
        );
        assert_eq!(d.resolved_skips, 1);
        assert_eq!(
            d.skip_counts,
            [("missing-phone", (1, 0)), ("opted-out", (0, 1))].into()
        );
    }

    #[test]
    fn variables_that_appear_or_disappear() {
        let before = snapshot(&[call("k1", "+2348031234567", "Ada")], &[]);
        let mut c = call("k1", "+2348031234567", "Ada");
        c.rendered
            .variables
            .insert("clinic".to_owned(), "Yaba".to_owned());
        c.rendered.tags.insert("id".to_owned(), "7".to_owned());
        let d = diff(&before, &snapshot(&[c], &[]));
        let names: Vec<_> = d.changed[0]
            .changes
            .iter()
            .map(|f| (f.field, f.name.as_str(), f.before.is_none()))
            .collect();
        assert_eq!(
            names,
            [(Field::Variable, "clinic", true), (Field::Tag, "id", true)]
        );
    }
}
