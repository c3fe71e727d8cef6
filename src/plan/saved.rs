//! The saved plan (`plan --out`): every call as the request entry apply will send, written as the rows are planned.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::json;

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

/// A batch of the saved plan, serialised from borrowed fields.
#[derive(Serialize)]
pub(super) struct BatchOut<'a> {
    pub(super) index: u64,
    pub(super) timezone: &'a str,
    pub(super) calls: CallsOut<'a>,
}

pub(super) struct CallsOut<'a> {
    pub(super) kind: Kind,
    pub(super) calls: &'a [Call],
}

impl Serialize for CallsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq as _;
        let mut seq = s.serialize_seq(Some(self.calls.len()))?;
        for call in self.calls {
            seq.serialize_element(&CallOut {
                key: &call.key,
                source: call.source,
                row: call.row,
                entry: EntryOut {
                    kind: self.kind,
                    call,
                },
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct CallOut<'a> {
    key: &'a str,
    source: usize,
    row: u64,
    entry: EntryOut<'a>,
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

/// Writes the full plan as JSON, streaming the batches. Skips are kept until the end.
pub struct JsonPlanWriter<W: Write> {
    out: W,
    kind: Kind,
    first_batch: bool,
    skips: Vec<Skip>,
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
        let head = json!({
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "created_at": jiff::Timestamp::now().to_string(),
            "tool": format!("outreach {}", env!("CARGO_PKG_VERSION")),
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
            "settings": {
                "voice": c.voice,
                "variables": c.variables,
                "defaults": c.defaults,
                "tags": c.tags,
                "dedupe": c.dedupe,
                "schedule": c.schedule,
                "delivery": c.delivery,
            },
        });
        // Write the head object without its closing brace, then stream the batches.
        let text = serde_json::to_string(&head).map_err(io::Error::other)?;
        self.out.write_all(&text.as_bytes()[..text.len() - 1])?;
        self.out.write_all(b",\"batches\":[")
    }

    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        if !self.first_batch {
            self.out.write_all(b",")?;
        }
        self.first_batch = false;
        // Streamed from borrowed fields: the same bytes as building a `serde_json::Value` per
        // call (a test checks), without its maps and copies.
        let batch = BatchOut {
            index,
            timezone,
            calls: CallsOut {
                kind: self.kind,
                calls,
            },
        };
        serde_json::to_writer(&mut self.out, &batch).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.skips.push(skip.clone());
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.out.write_all(b"],\"skipped\":")?;
        serde_json::to_writer(&mut self.out, &self.skips).map_err(io::Error::other)?;
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
    let mut writer = JsonPlanWriter::new(BufWriter::new(file));
    let result = make(&mut writer);
    match result {
        Ok(summary) => {
            let file = writer
                .into_inner()
                .into_inner()
                .map_err(|e| PlanError::Write(e.into_error()))?;
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
