//! The saved plan's writer: the head, then every batch as it is planned, then the skipped
//! rows and the counts.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::document::{Batch, PlanCampaign, PlanDocument, SavedCall, Settings};
use crate::campaign::{Campaign, Kind};
use crate::plan::model::{
    Call, Header, KEY_TAG, PLAN_FORMAT, PLAN_VERSION, PlanError, Sink, Skip, Summary,
};

/// The request entry of a call, exactly as it will be sent: robocall entries nest
/// `workflow_variables` and `user_tag_identifiers` (with the idempotency key); conversation
/// entries are flat and carry only the variables.
pub fn entry(kind: Kind, call: &Call) -> serde_json::Value {
    match kind {
        Kind::Robocall => {
            let mut tags: serde_json::Map<String, serde_json::Value> = call
                .rendered
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            tags.insert(
                KEY_TAG.to_owned(),
                serde_json::Value::String(call.key.clone()),
            );
            serde_json::to_value(voicebot_api::wire::RobocallParam {
                phone_number: call.phone.clone(),
                workflow_variables: call.rendered.variables.clone(),
                user_tag_identifiers: Some(tags),
            })
            .expect("wire types serialise")
        }
        Kind::Conversation => serde_json::to_value(voicebot_api::wire::ConversationParam {
            phone_number: call.phone.clone(),
            user_tag_identifiers: None,
            variables: call.rendered.variables.clone(),
        })
        .expect("wire types serialise"),
    }
}

/// A batch's calls, serialised from borrowed fields as [`SavedCall`]s.
struct CallsOut<'a> {
    kind: Kind,
    calls: &'a [Call],
}

impl Serialize for CallsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = s.serialize_seq(Some(self.calls.len()))?;
        for call in self.calls {
            seq.serialize_element(&SavedCall {
                key: Cow::Borrowed(&call.key),
                source: call.source,
                row: call.row,
                entry: EntryOut {
                    kind: self.kind,
                    call,
                },
                list_values: Cow::Borrowed(&call.list_values),
            })?;
        }
        seq.end()
    }
}

/// [`entry`] without building a `Value`: the same keys in the same order.
struct EntryOut<'a> {
    kind: Kind,
    call: &'a Call,
}

impl Serialize for EntryOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let c = self.call;
        match self.kind {
            // A tag named like the key tag, or a variable named `phone_number`, replaces a
            // value in place in `entry`'s map: rare, so left to `entry` itself.
            Kind::Robocall if !c.rendered.tags.contains_key(KEY_TAG) => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("phone_number", &c.phone)?;
                m.serialize_entry("workflow_variables", &c.rendered.variables)?;
                m.serialize_entry("user_tag_identifiers", &TagsOut(c))?;
                m.end()
            }
            Kind::Conversation if !c.rendered.variables.contains_key("phone_number") => {
                let mut m = s.serialize_map(Some(1 + c.rendered.variables.len()))?;
                m.serialize_entry("phone_number", &c.phone)?;
                for (k, v) in &c.rendered.variables {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            kind => entry(kind, c).serialize(s),
        }
    }
}

/// A robocall's tags, then its idempotency key.
struct TagsOut<'a>(&'a Call);

impl Serialize for TagsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let tags = &self.0.rendered.tags;
        let mut m = s.serialize_map(Some(tags.len() + 1))?;
        for (k, v) in tags {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry(KEY_TAG, &self.0.key)?;
        m.end()
    }
}

/// The head of the plan: everything before its batches.
fn head<'a>(
    header: &'a Header,
    c: &'a Campaign,
    created_at: jiff::Timestamp,
) -> PlanDocument<'a, Settings, ()> {
    PlanDocument {
        format: Cow::Borrowed(PLAN_FORMAT),
        version: PLAN_VERSION,
        created_at,
        tool: Cow::Owned(format!("outreach {}", env!("CARGO_PKG_VERSION"))),
        today: Some(header.today),
        campaign: PlanCampaign {
            name: Cow::Borrowed(&c.name),
            description: Cow::Borrowed(&c.description),
            kind: c.kind,
            workflow_id: c.workflow_id.as_deref().map(Cow::Borrowed),
            round: c.round.as_deref().map(Cow::Borrowed),
            file: Cow::Borrowed(&header.campaign_file),
            sha256: Cow::Borrowed(&header.campaign_sha256),
        },
        sources: Cow::Borrowed(&header.sources),
        settings: Settings::of(c, header),
        batches: None,
        skipped: None,
        summary: None,
    }
}

/// Writes the full plan as JSON, streaming the batches. Skips are kept until the end.
pub struct JsonPlanWriter<W: Write> {
    out: W,
    kind: Kind,
    first_batch: bool,
    /// The skipped rows, each as its JSON (comma-separated), kept for the end of the plan:
    /// a few dozen bytes each rather than a `Skip` with two strings.
    skips: Vec<u8>,
}

impl<W: Write> JsonPlanWriter<W> {
    pub fn new(out: W) -> Self {
        JsonPlanWriter {
            out,
            kind: Kind::Robocall,
            first_batch: true,
            skips: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for JsonPlanWriter<W> {
    fn header(&mut self, header: &Header, c: &Campaign) -> io::Result<()> {
        self.kind = c.kind;
        let head = head(header, c, jiff::Timestamp::now());
        // Write the head object without its closing brace, then stream the batches.
        let text = serde_json::to_string(&head).map_err(io::Error::other)?;
        self.out.write_all(&text.as_bytes()[..text.len() - 1])?;
        self.out.write_all(b",\"batches\":[")
    }

    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        // A batch is of one language: its calls are sent with that language's voice.
        let language = calls.first().and_then(|c| c.language.as_deref());
        if calls.iter().any(|c| c.language.as_deref() != language) {
            return Err(io::Error::other(
                "a batch mixes languages: the plan is not written",
            ));
        }
        if !self.first_batch {
            self.out.write_all(b",")?;
        }
        self.first_batch = false;
        // Streamed from borrowed fields: the same bytes as building a `serde_json::Value` per
        // call (a test checks), without its maps and copies.
        let batch = Batch {
            index,
            timezone: Cow::Borrowed(timezone),
            language: calls
                .first()
                .and_then(|c| c.language.as_deref())
                .map(Cow::Borrowed),
            calls: CallsOut {
                kind: self.kind,
                calls,
            },
        };
        serde_json::to_writer(&mut self.out, &batch).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        if !self.skips.is_empty() {
            self.skips.push(b',');
        }
        serde_json::to_writer(&mut self.skips, skip).map_err(io::Error::other)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        // The same bytes as the list written whole: `[`, each skip, `]`, no spaces.
        self.out.write_all(b"],\"skipped\":[")?;
        self.out.write_all(&self.skips)?;
        self.out.write_all(b"]")?;
        self.out.write_all(b",\"summary\":")?;
        serde_json::to_writer(&mut self.out, summary).map_err(io::Error::other)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

/// Saves a plan to `path` atomically, owner-only; `make` runs the plan into the file's sink
/// (through whatever filters the caller puts in front of it).
pub fn save_with(
    path: &Path,
    make: impl FnOnce(&mut dyn Sink) -> Result<Summary, PlanError>,
) -> Result<Summary, PlanError> {
    // The rename below would replace a link at `path`; refuse one instead, before planning.
    crate::private::refuse_link(path).map_err(|link| {
        PlanError::Write(std::io::Error::new(
            link.kind(),
            format!("{}: {link}", path.display()),
        ))
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("plan.json"),
        std::process::id()
    ));
    let file = crate::private::owner_only()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|source| PlanError::Io {
            path: tmp.display().to_string(),
            source,
        })?;
    let mut writer = JsonPlanWriter::new(BufWriter::new(super::writeback::Writeback::new(file)?));
    let result = make(&mut writer);
    match result {
        Ok(summary) => {
            let file = writer
                .into_inner()
                .into_inner()
                .map_err(|e| PlanError::Write(e.into_error()))?
                .finish()?;
            file.sync_all()?;
            std::fs::rename(&tmp, path).map_err(|source| PlanError::Io {
                path: path.display().to_string(),
                source,
            })?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Rendered;
    use serde_json::json;

    fn fixture(name: &str) -> (std::path::PathBuf, Campaign) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/plan")
            .join(name);
        let campaign = crate::validate::check_file(&path).campaign.unwrap();
        (path, campaign)
    }

    /// The typed head is byte for byte the `json!` object it replaced.
    #[test]
    fn the_head_is_what_building_a_value_gave() {
        let at: jiff::Timestamp = "2026-12-01T10:32:10.270505037Z".parse().unwrap();
        for name in ["csv-robocall.yaml", "json-conversation.yaml"] {
            let (path, c) = fixture(name);
            let header = crate::plan::header(
                &c,
                &path,
                path.parent().unwrap(),
                jiff::civil::date(2026, 12, 1),
            )
            .unwrap();
            let expected = json!({
                "format": PLAN_FORMAT,
                "version": PLAN_VERSION,
                "created_at": at.to_string(),
                "tool": format!("outreach {}", env!("CARGO_PKG_VERSION")),
                "today": "2026-12-01",
                "campaign": {
                    "name": c.name,
                    "description": c.description,
                    "kind": c.kind,
                    "workflow_id": c.workflow_id,
                    "round": c.round,
                    "file": header.campaign_file,
                    "sha256": header.campaign_sha256,
                },
                "sources": header.sources,
                "settings": Settings::of(&c, &header),
            });
            // The roles are an enum now: spelt as the strings they were.
            let roles: Vec<_> = header.sources.iter().map(|s| json!(s.role)).collect();
            let spelt = if name == "csv-robocall.yaml" {
                vec![json!("patients"), json!("exclude")]
            } else {
                vec![json!("patients"), json!("patients")]
            };
            assert_eq!(roles, spelt, "{name}");
            assert_eq!(
                serde_json::to_string(&head(&header, &c, at)).unwrap(),
                serde_json::to_string(&expected).unwrap(),
                "{name}"
            );
        }
    }

    /// The streamed batch is byte for byte what building `Value`s gives.
    #[test]
    fn streamed_batches_match_values() {
        let mut rendered = Rendered::default();
        rendered
            .variables
            .insert("name".to_owned(), "Ada \"Ọlá\"\n".to_owned());
        rendered
            .variables
            .insert("clinic".to_owned(), "Yaba".to_owned());
        rendered
            .tags
            .insert("patient_id".to_owned(), "P1".to_owned());
        rendered.tags.insert("a".to_owned(), "x".to_owned());
        let call = Call {
            key: "ok-1".to_owned(),
            phone: "+2348031234567".to_owned(),
            source: 1,
            row: 7,
            rendered,
            list_values: crate::ledger::ListValues::default(),
            language: None,
        };
        let mut clash = call.clone();
        clash
            .rendered
            .tags
            .insert(KEY_TAG.to_owned(), "mine".to_owned());
        clash
            .rendered
            .variables
            .insert("phone_number".to_owned(), "x".to_owned());
        let calls = [call.clone(), clash];
        for kind in [Kind::Robocall, Kind::Conversation] {
            let values: Vec<_> = calls
                .iter()
                .map(|c| json!({"key": c.key, "source": c.source, "row": c.row, "entry": entry(kind, c)}))
                .collect();
            let expected = serde_json::to_string(
                &json!({"index": 3, "timezone": "Africa/Lagos", "calls": values}),
            )
            .unwrap();
            let streamed = serde_json::to_string(&Batch {
                index: 3,
                timezone: Cow::Borrowed("Africa/Lagos"),
                language: None,
                calls: CallsOut {
                    kind,
                    calls: &calls,
                },
            })
            .unwrap();
            assert_eq!(streamed, expected);
        }
    }
}
