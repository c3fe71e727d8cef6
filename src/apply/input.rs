//! What apply places: the calls of a campaign planned now, or of a saved plan checked against the campaign and sources it was made from.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::campaign::{Campaign, Kind};
use crate::patients::opt_outs::OptOutError;
use crate::plan::{self, Call, Header, Sink, Skip, Summary};
use crate::validate;

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
        let labels = self
            .header
            .as_ref()
            .map(|h| h.sources.clone())
            .unwrap_or_default();
        for c in calls {
            self.calls.push(Arc::new(Planned {
                call: c.clone(),
                source_label: labels
                    .get(c.source)
                    .map_or_else(String::new, |s| s.label.clone()),
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
}

pub(super) fn load(input: &Path) -> anyhow::Result<Loaded> {
    let text = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let looks_like_plan = text.first() == Some(&b'{')
        && serde_json::from_slice::<Value>(&text)
            .ok()
            .is_some_and(|v| v.get("format").and_then(Value::as_str) == Some(plan::PLAN_FORMAT));
    if looks_like_plan {
        return load_plan(input, &text);
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
    })
}

/// A saved plan: refused when the campaign or a source changed since it was made.
pub(super) fn load_plan(path: &Path, text: &[u8]) -> anyhow::Result<Loaded> {
    let doc: Value = serde_json::from_slice(text)
        .with_context(|| format!("{} is not a plan", path.display()))?;
    let version = doc.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version != u64::from(plan::PLAN_VERSION) {
        bail!(
            "{} is a version {version} plan; this outreach reads version {}",
            path.display(),
            plan::PLAN_VERSION
        );
    }
    let campaign_file = doc["campaign"]["file"]
        .as_str()
        .context("the plan names no campaign file")?;
    let campaign_path = PathBuf::from(campaign_file);
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
    if Some(digest.as_str()) != doc["campaign"]["sha256"].as_str() {
        return Err(stale(&format!("the campaign {}", campaign_path.display())));
    }
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let sources = doc["sources"].as_array().cloned().unwrap_or_default();
    for s in &sources {
        if let Some(expected) = s["sha256"].as_str() {
            let label = s["label"].as_str().unwrap_or_default();
            let actual =
                plan::file_digest(&crate::patients::source::resolve_path(&base, label)).ok();
            if actual.as_deref() != Some(expected) {
                return Err(stale(&format!("the source {label}")));
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
    let mut calls = Vec::new();
    for batch in doc["batches"].as_array().cloned().unwrap_or_default() {
        let timezone = batch["timezone"]
            .as_str()
            .unwrap_or(&campaign.schedule.timezone)
            .to_owned();
        for c in batch["calls"].as_array().cloned().unwrap_or_default() {
            let entry = &c["entry"];
            let source = usize::try_from(c["source"].as_u64().unwrap_or(0)).unwrap_or(0);
            let mut variables = BTreeMap::new();
            let mut tags = BTreeMap::new();
            match campaign.kind {
                Kind::Robocall => {
                    for (k, v) in entry["workflow_variables"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                    {
                        variables.insert(k, v.as_str().unwrap_or_default().to_owned());
                    }
                    for (k, v) in entry["user_tag_identifiers"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default()
                    {
                        if k != plan::KEY_TAG {
                            tags.insert(k, v.as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
                Kind::Conversation => {
                    for (k, v) in entry.as_object().cloned().unwrap_or_default() {
                        if k != "phone_number" {
                            variables.insert(k, v.as_str().unwrap_or_default().to_owned());
                        }
                    }
                }
            }
            calls.push(Arc::new(Planned {
                call: Call {
                    key: c["key"].as_str().unwrap_or_default().to_owned(),
                    phone: entry["phone_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    source,
                    row: c["row"].as_u64().unwrap_or(0),
                    rendered: crate::render::Rendered { variables, tags },
                },
                source_label: sources
                    .get(source)
                    .and_then(|s| s["label"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                timezone: timezone.clone(),
            }));
        }
    }
    Ok(Loaded {
        campaign,
        campaign_path,
        calls,
    })
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
    }
}
