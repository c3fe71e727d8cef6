//! A saved plan is applied only if it is exactly what the campaign and its sources make now:
//! its head (name, kind, workflow, round), its sources and settings, and every call (key,
//! number, request entry, source row, batch and its time zone), in order. The plan is made
//! again and compared as it streams, call by call, with the saved calls apply already holds,
//! so a million-call plan is not held twice; the first difference is refused, named by its
//! place in the file and the call's key, its number masked.
//!
//! Not compared, as it legitimately differs: `created_at` and `tool`, what is there for
//! people (`description`, `skipped`, `summary`), and calls the plan left out because the
//! ledger had placed them when it was made (a plan made after an apply subtracts them): a
//! call the campaign makes that the plan does not have is accepted only if the ledger holds
//! it for this target. Calls placed since the plan was made stay in it; apply subtracts them
//! as for any plan.
//!
//! Planning depends on its date (`today` of the campaign's `where:` filters, and the dates of
//! patient files read against it), so the plan is made again on the date the saved plan
//! recorded (`today`), or, for a plan made before that was recorded, on the date of its
//! `created_at` in the campaign's time zone: a plan saved before midnight and applied after
//! is verified as it was made, not refused for the new day.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::campaign::{Campaign, Kind};
use crate::ledger::KeyHistory;
use crate::patients::phone::mask;
use crate::plan::saved::SavedPlan;
use crate::plan::settings::Settings;
use crate::plan::{self, Call, Header, Sink, Skip, SourceInfo, Summary, call_key};

use super::input::Planned;

/// What a saved plan said beyond its calls, kept to check it against the campaign.
#[derive(Debug, Clone)]
pub(super) struct SavedHead {
    pub(super) path: String,
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) workflow_id: Option<String>,
    pub(super) round: Option<String>,
    /// The date the plan was made on, as recorded (`None` in older plans).
    pub(super) today: Option<jiff::civil::Date>,
    /// When the plan was made: its date, in the campaign's zone, for older plans.
    pub(super) created_at: jiff::Timestamp,
    pub(super) sources: Vec<SourceInfo>,
    pub(super) settings: Settings,
    /// Where each batch starts among the calls, in file order, and its `index` as written.
    pub(super) batches: Vec<(usize, u64)>,
}

impl SavedHead {
    /// The head of `saved`; `None` for a version 1 plan, which recorded no settings.
    pub(super) fn of(path: &Path, saved: &SavedPlan) -> Option<SavedHead> {
        let mut start = 0;
        let batches = saved
            .batches
            .iter()
            .map(|b| {
                let at = (start, b.index);
                start += b.calls.len();
                at
            })
            .collect();
        Some(SavedHead {
            path: path.display().to_string(),
            name: saved.campaign.name.to_string(),
            kind: saved.campaign.kind,
            workflow_id: saved.campaign.workflow_id.as_deref().map(ToOwned::to_owned),
            round: saved.campaign.round.as_deref().map(ToOwned::to_owned),
            today: saved.today,
            created_at: saved.created_at,
            sources: saved.sources.clone(),
            settings: saved.settings.clone()?,
            batches,
        })
    }

    /// `batches[i].calls[j]` of the call at `flat` among all calls.
    fn place(&self, flat: usize) -> String {
        let i = self.batches.partition_point(|(start, _)| *start <= flat);
        let i = i.saturating_sub(1);
        let start = self.batches.get(i).map_or(0, |b| b.0);
        format!("batches[{i}].calls[{}]", flat - start)
    }
}

/// Refuses `calls` (the saved plan's, in file order) unless they, and `head`, are what
/// `campaign` makes now; `history` is what the ledger holds for this target, campaign and
/// round.
pub(super) fn verify(
    campaign: &Campaign,
    campaign_path: &Path,
    head: &SavedHead,
    calls: &[Arc<Planned>],
    history: &HashMap<String, KeyHistory>,
) -> anyhow::Result<()> {
    let refuse = |what: String| {
        anyhow::anyhow!(
            "the plan {} is not what the campaign and its sources make now: {what}; nothing is sent. Make the plan again with `outreach plan {} --out {}` and review it",
            head.path,
            campaign_path.display(),
            head.path
        )
    };
    if let Some(what) = head_difference(campaign, head, calls) {
        return Err(refuse(what));
    }
    let mut check = Compare {
        campaign,
        head,
        calls,
        history,
        cursor: 0,
        difference: None,
    };
    let today = head.today.unwrap_or_else(|| {
        let zone =
            jiff::tz::TimeZone::get(&campaign.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        head.created_at.to_zoned_datetime(zone).date()
    });
    let made = plan::plan_on(campaign, campaign_path, today, &mut check);
    if let Some(what) = check.difference {
        return Err(refuse(what));
    }
    made?;
    Ok(())
}

/// The first difference in what the plan says of the campaign, or in its batches' shape.
fn head_difference(
    campaign: &Campaign,
    head: &SavedHead,
    calls: &[Arc<Planned>],
) -> Option<String> {
    let round = campaign.round.as_deref();
    for (field, saved, now) in [
        (
            "campaign.name",
            Some(head.name.as_str()),
            Some(campaign.name.as_str()),
        ),
        (
            "campaign.kind",
            Some(head.kind.as_str()),
            Some(campaign.kind.as_str()),
        ),
        (
            "campaign.workflow_id",
            head.workflow_id.as_deref(),
            campaign.workflow_id.as_deref(),
        ),
        ("campaign.round", head.round.as_deref(), round),
    ] {
        if saved != now {
            return Some(format!(
                "{field} is {}, the campaign's is {}",
                shown(saved),
                shown(now)
            ));
        }
    }
    let size = campaign.delivery.batch_size.max(1) as usize;
    for (i, (start, index)) in head.batches.iter().enumerate() {
        let end = head.batches.get(i + 1).map_or(calls.len(), |b| b.0);
        if *index != i as u64 {
            return Some(format!("batches[{i}].index is {index}, not {i}"));
        }
        if end == *start || end - start > size {
            return Some(format!(
                "batches[{i}] has {} calls; a batch has 1 to delivery.batch_size ({size})",
                end - start
            ));
        }
    }
    None
}

fn shown(value: Option<&str>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| format!("`{v}`"))
}

/// A plan sink that compares the plan being made with the saved calls, in order.
struct Compare<'a> {
    campaign: &'a Campaign,
    head: &'a SavedHead,
    calls: &'a [Arc<Planned>],
    history: &'a HashMap<String, KeyHistory>,
    /// The next saved call to meet.
    cursor: usize,
    difference: Option<String>,
}

impl Compare<'_> {
    fn differ(&mut self, what: String) -> io::Error {
        self.difference.get_or_insert(what);
        io::Error::other("the saved plan differs")
    }

    /// `batches[i].calls[j] (key …, +234******4567)`.
    fn saved_call(&self, at: usize) -> String {
        let c = &self.calls[at].call;
        format!(
            "{} (key {}, {})",
            self.head.place(at),
            c.key,
            mask(&c.phone)
        )
    }

    /// The first field in which the saved call differs from `now`, the same call made now.
    fn field_difference(&self, saved: &Planned, timezone: &str, now: &Call) -> Option<String> {
        let s = &saved.call;
        let round = self.campaign.round.as_deref();
        // A round rendered per row makes the key from the row: equal to the key made now
        // (the caller's match), it is the key of its number if the numbers are equal.
        let templated = self.campaign.round_template().is_some();
        if !templated && s.key != call_key(&self.campaign.name, round, &s.phone) {
            return Some("key: not the idempotency key of its number".to_owned());
        }
        if s.phone != now.phone {
            return Some("entry.phone_number: not the number the campaign makes".to_owned());
        }
        if s.source != now.source || s.row != now.row {
            return Some(format!(
                "source and row: {} row {}, the campaign's call comes from {} row {}",
                s.source, s.row, now.source, now.row
            ));
        }
        let (vars, tags) = match self.campaign.kind {
            Kind::Robocall => (
                "entry.workflow_variables",
                Some("entry.user_tag_identifiers"),
            ),
            Kind::Conversation => ("entry", None),
        };
        if let Some(name) = map_difference(&s.rendered.variables, &now.rendered.variables) {
            return Some(format!("{vars}.{name}: not the words the campaign makes"));
        }
        if let Some(tags) = tags
            && let Some(name) = map_difference(&s.rendered.tags, &now.rendered.tags)
        {
            return Some(format!("{tags}.{name}: not the tag the campaign makes"));
        }
        if s.list_values != now.list_values {
            return Some("list_values: not the values of its row's `list_columns`".to_owned());
        }
        if s.language != now.language {
            let said = |l: &Option<String>| {
                l.as_deref()
                    .map_or_else(|| "none".to_owned(), |l| format!("`{l}`"))
            };
            return Some(format!(
                "its batch's language is {}, the campaign calls its patient in {}",
                said(&s.language),
                said(&now.language)
            ));
        }
        if saved.timezone != timezone {
            return Some(format!(
                "its batch's timezone is {}, the campaign places it in {timezone}",
                saved.timezone
            ));
        }
        None
    }
}

/// The first name whose value differs between two maps of rendered values.
fn map_difference(
    a: &std::collections::BTreeMap<String, String>,
    b: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    a.keys()
        .chain(b.keys())
        .find(|k| a.get(*k) != b.get(*k))
        .cloned()
}

impl Sink for Compare<'_> {
    fn header(&mut self, header: &Header, campaign: &Campaign) -> io::Result<()> {
        if header.sources != self.head.sources {
            let i = header
                .sources
                .iter()
                .zip(&self.head.sources)
                .position(|(a, b)| a != b)
                .unwrap_or(header.sources.len().min(self.head.sources.len()));
            return Err(self.differ(format!(
                "sources[{i}] is not the campaign's source as it is now"
            )));
        }
        let now = Settings::of(campaign, header);
        if let Some((name, saved, now)) = self.head.settings.first_difference(&now) {
            let what = format!(
                "settings.{name} is {}, the campaign's is {}",
                shown(saved),
                shown(now)
            );
            return Err(self.differ(what));
        }
        Ok(())
    }

    fn batch(&mut self, _: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        for now in calls {
            match self.calls.get(self.cursor) {
                Some(saved) if saved.call.key == now.key => {
                    if let Some(what) = self.field_difference(saved, timezone, now) {
                        let what = format!("{}: {what}", self.saved_call(self.cursor));
                        return Err(self.differ(what));
                    }
                    self.cursor += 1;
                }
                // Left out of the plan when it was made, because the ledger had placed it.
                _ if self.history.contains_key(&now.key) => {}
                Some(saved) => {
                    let round = self.campaign.round.as_deref();
                    let s = &saved.call;
                    let templated = self.campaign.round_template().is_some();
                    let what =
                        if templated || s.key == call_key(&self.campaign.name, round, &s.phone) {
                            format!(
                                "the campaign makes the call for {} (key {}) here",
                                mask(&now.phone),
                                now.key
                            )
                        } else {
                            "key: not the idempotency key of its number".to_owned()
                        };
                    let what = format!("{}: {what}", self.saved_call(self.cursor));
                    return Err(self.differ(what));
                }
                None => {
                    let what = format!(
                        "the campaign makes a call for {} (key {}) that the plan does not have",
                        mask(&now.phone),
                        now.key
                    );
                    return Err(self.differ(what));
                }
            }
        }
        Ok(())
    }

    fn skip(&mut self, _: &Skip) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        if self.cursor < self.calls.len() {
            let what = format!(
                "{}: a call the campaign and its sources do not make",
                self.saved_call(self.cursor)
            );
            return Err(self.differ(what));
        }
        Ok(())
    }
}
