//! The plan stage: a valid campaign → every call it would place, in batches, and every row
//! left out with its reason. Rows stream from the sources through a [`Sink`], so memory
//! holds only what dedupe and opt-outs must remember (a `u64` per number) and the skips.

pub mod dedupe;
pub mod diff;
pub mod skip;
pub mod subtract;
pub mod workflow_check;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::campaign::{Campaign, Kind, Source};
use crate::patients::opt_outs::OptOutError;
use crate::patients::phone::PhoneProblem;
use crate::patients::source::SourceError;
use crate::render::{Rendered, Renderer};
use dedupe::{Dedupe, Duplicate};
pub use skip::SkipReason;

/// The `format` of a saved plan document.
pub const PLAN_FORMAT: &str = "outreach-plan";
/// The version of the saved plan document.
pub const PLAN_VERSION: u32 = 1;
/// The tag that carries a robocall's idempotency key.
pub const KEY_TAG: &str = "outreach_key";

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "opt-out list {label}: {source}; nothing is planned while an opt-out list cannot be read"
    )]
    Exclusion { label: String, source: SourceError },
    #[error(
        "opt-out list {label}, {location}: {message}; nothing is planned while an opt-out list cannot be read"
    )]
    ExclusionRow {
        label: String,
        location: String,
        message: String,
    },
    #[error("patient source {label}: {source}")]
    Source { label: String, source: SourceError },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{0}")]
    Template(String),
    #[error("writing the plan: {0}")]
    Write(#[from] io::Error),
}

/// One call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The idempotency key: derived from the campaign name, round and number.
    pub key: String,
    /// E.164.
    pub phone: String,
    /// Index into [`Header::sources`].
    pub source: usize,
    /// The row in the source (see [`crate::patients::source::Row::number`]).
    pub row: u64,
    pub rendered: Rendered,
}

/// A row that is not called, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub source: usize,
    pub row: u64,
    /// Why; its stable code is [`SkipReason::as_str`].
    pub code: SkipReason,
    pub reason: String,
    /// The phone cell as written (masked when printed).
    pub phone: Option<String>,
}

impl Skip {
    /// Whether the skip comes from a template (what `plan --strict` refuses).
    pub fn is_template(&self) -> bool {
        self.code.is_template()
    }
}

/// A source as recorded in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// `patients` or `exclude`.
    pub role: &'static str,
    /// The file as written in the campaign, or `inline`.
    pub label: String,
    /// `sha256:<hex>` of the file; inline records are covered by the campaign's digest.
    pub sha256: Option<String>,
    /// The time zone its calls are placed in (patients only).
    pub timezone: Option<String>,
}

/// What a plan is about: written before the calls.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub campaign_file: String,
    pub campaign_sha256: String,
    pub sources: Vec<SourceInfo>,
}

/// Counts over the whole plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Patient rows read.
    pub rows: u64,
    pub calls: u64,
    pub batches: u64,
    pub skipped: u64,
    /// Skipped rows per reason code.
    pub skipped_by_reason: BTreeMap<&'static str, u64>,
    /// Numbers loaded from the opt-out lists.
    pub opt_outs: u64,
    /// Opt-out entries that are not valid numbers (they cannot match a valid patient number).
    pub opt_outs_unusable: u64,
}

/// Receives the plan as it is made.
pub trait Sink {
    fn header(&mut self, header: &Header, campaign: &Campaign) -> io::Result<()>;
    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()>;
    fn skip(&mut self, skip: &Skip) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// The idempotency key of a call: stable across runs, unique per campaign, round and number.
pub fn call_key(campaign: &str, round: Option<&str>, phone: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(campaign.as_bytes());
    h.update([0x1f]);
    h.update(round.unwrap_or("").as_bytes());
    h.update([0x1f]);
    h.update(phone.as_bytes());
    let digest = h.finalize();
    let mut key = String::with_capacity(35);
    key.push_str("ok-");
    for b in &digest[..16] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    key
}

/// `sha256:<hex>` of a file.
pub fn file_digest(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

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
fn header(campaign: &Campaign, campaign_path: &Path, base: &Path) -> Result<Header, PlanError> {
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| PlanError::Io { path, source }
    };
    let mut sources = Vec::new();
    for (i, s) in campaign.patients.iter().enumerate() {
        sources.push(SourceInfo {
            role: "patients",
            label: label(s, "patient", i),
            sha256: match s.file() {
                Some(f) => {
                    let p = crate::patients::source::resolve_path(base, f);
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
            role: "exclude",
            label: lbl.clone(),
            sha256: match s.file() {
                Some(f) => {
                    let p = crate::patients::source::resolve_path(base, f);
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
    })
}

/// Makes the plan of `campaign` (read from `campaign_path`), feeding `sink`.
#[expect(
    clippy::too_many_lines,
    reason = "the row loop and the state it alone holds; splitting it into a planner type is still to do"
)]
pub fn plan(
    campaign: &Campaign,
    campaign_path: &Path,
    sink: &mut dyn Sink,
) -> Result<Summary, PlanError> {
    let base = campaign_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let header = header(campaign, campaign_path, &base)?;
    sink.header(&header, campaign)?;

    let mut summary = Summary::default();

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
        }
    })?;
    summary.opt_outs += opt_outs.usable;
    summary.opt_outs_unusable += opt_outs.unusable;
    let opted_out = opt_outs.numbers;

    let renderer = Renderer::new(&campaign.variables, &campaign.tags, &campaign.defaults)
        .map_err(PlanError::Template)?;
    let batch_size = campaign.delivery.batch_size.max(1) as usize;
    let mut seen = Dedupe::default();
    let mut batch: Vec<Call> = Vec::with_capacity(batch_size);
    let round = campaign.round.as_deref();

    for (si, s) in campaign.patients.iter().enumerate() {
        let lbl = label(s, "patient", si);
        let rows = crate::patients::source::open(s, &base).map_err(|e| PlanError::Source {
            label: lbl.clone(),
            source: e,
        })?;
        let timezone = s
            .timezone
            .clone()
            .unwrap_or_else(|| campaign.schedule.timezone.clone());
        let phone_idx = rows.header.iter().position(|h| h == &s.phone_column);
        let dedupe_idx = (campaign.dedupe != "phone")
            .then(|| rows.header.iter().position(|h| h == &campaign.dedupe))
            .flatten();
        let country = s
            .default_country
            .as_deref()
            .and_then(crate::patients::phone::country);
        let allowed: Vec<_> = s
            .allowed_countries
            .iter()
            .filter_map(|c| crate::patients::phone::country(&c.0))
            .collect();
        let bound = renderer.bind(&rows.header);
        // The costly, row-independent part (the number, the words, the key) runs on worker
        // threads; the rest (opt-outs, first-row-wins dedupe, batches) here, in row order.
        let prepare = |row: Result<
            crate::patients::source::Row,
            crate::patients::source::RowError,
        >|
         -> Prepared {
            let row = row?;
            if row.numeric_phone {
                return Ok((row, None));
            }
            let raw = phone_idx.and_then(|i| row.cells.get(i)).unwrap_or("");
            let number = crate::patients::phone::normalise(raw, country, &allowed);
            let rest = number.map(|number| {
                let values = bound.render(&row.cells);
                let key = call_key(&campaign.name, round, &number.e164);
                (number, values, key)
            });
            Ok((row, Some(rest)))
        };
        let mut consume = |prepared: Prepared| -> Result<(), PlanError> {
            summary.rows += 1;
            let mut skip = |code: SkipReason,
                            reason: String,
                            phone: Option<String>,
                            row: u64|
             -> io::Result<()> {
                summary.skipped += 1;
                *summary.skipped_by_reason.entry(code.as_str()).or_default() += 1;
                sink.skip(&Skip {
                    source: si,
                    row,
                    code,
                    reason,
                    phone,
                })
            };
            let (row, prepared) = match prepared {
                Ok(r) => r,
                Err(e) => {
                    skip(SkipReason::UnreadableRow, e.message, None, e.number)?;
                    return Ok(());
                }
            };
            let raw = phone_idx
                .and_then(|i| row.cells.get(i))
                .unwrap_or("")
                .to_owned();
            let Some(prepared) = prepared else {
                skip(
                    SkipReason::PhoneStoredAsNumber,
                    "the spreadsheet stores this phone number as a number, so its leading 0 or + is lost; format the column as text".to_owned(),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            };
            let (number, values, key) = match prepared {
                Ok(p) => p,
                Err(problem) => {
                    skip(
                        SkipReason::from(&problem),
                        problem.describe(),
                        Some(raw),
                        row.number,
                    )?;
                    return Ok(());
                }
            };
            let n = number.as_u64();
            if opted_out.contains(&n) {
                skip(
                    SkipReason::OptedOut,
                    "the number is on an opt-out list".to_owned(),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            }
            let column = dedupe_idx.map(|i| row.cells.get(i).unwrap_or(""));
            if let Some(dup) = seen.see(n, column, (si, row.number)) {
                let (what, first) = match dup {
                    Duplicate::Column(first) => (format!("the same `{}`", campaign.dedupe), first),
                    Duplicate::Number(first) => ("the same number".to_owned(), first),
                };
                let place = first_row(campaign, si, first);
                skip(
                    SkipReason::Duplicate,
                    format!("{what} as {place}, which is called instead"),
                    Some(raw),
                    row.number,
                )?;
                return Ok(());
            }
            let values = match values {
                Ok(r) => r,
                Err(problem) => {
                    skip(
                        SkipReason::from(&problem),
                        problem.describe(),
                        Some(raw),
                        row.number,
                    )?;
                    return Ok(());
                }
            };
            batch.push(Call {
                key,
                phone: number.e164,
                source: si,
                row: row.number,
                rendered: values,
            });
            summary.calls += 1;
            if batch.len() == batch_size {
                sink.batch(summary.batches, &timezone, &batch)?;
                summary.batches += 1;
                batch.clear();
            }
            Ok(())
        };
        in_parallel(rows, &prepare, &mut consume)?;
        // Batches never mix sources, so each has one time zone.
        if !batch.is_empty() {
            sink.batch(summary.batches, &timezone, &batch)?;
            summary.batches += 1;
            batch.clear();
        }
    }
    sink.finish(&summary)?;
    Ok(summary)
}

/// A row with its number, and (for a valid number) its rendered values and key; `None` for
/// a phone cell a spreadsheet stored as a number.
type Prepared = Result<
    (
        crate::patients::source::Row,
        Option<
            Result<
                (
                    crate::patients::phone::Phone,
                    Result<Rendered, crate::render::RenderProblem>,
                    String,
                ),
                PhoneProblem,
            >,
        >,
    ),
    crate::patients::source::RowError,
>;

/// Maps `items` with `work` on worker threads (up to two: the machine this was measured on
/// has two cores) in chunks, and hands the results to `consume` in the items' order. A
/// `consume` error stops the reading and is returned.
fn in_parallel<T: Send, U: Send, E>(
    items: impl Iterator<Item = T>,
    work: &(dyn Fn(T) -> U + Sync),
    consume: &mut dyn FnMut(U) -> Result<(), E>,
) -> Result<(), E> {
    const CHUNK: usize = 256;
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 2);
    let mut items = items;
    std::thread::scope(|scope| {
        let mut to = Vec::with_capacity(workers);
        let mut from = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<T>>(2);
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Vec<U>>(2);
            scope.spawn(move || {
                for chunk in rx {
                    if done_tx.send(chunk.into_iter().map(work).collect()).is_err() {
                        break;
                    }
                }
            });
            to.push(tx);
            from.push(done_rx);
        }
        // Chunks go round the workers and come back in the same round, so order is kept;
        // at most two chunks per worker are out at a time, so memory stays bounded.
        let (mut sent, mut received, mut exhausted) = (0usize, 0usize, false);
        loop {
            while !exhausted && sent - received < 2 * workers {
                let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    exhausted = true;
                } else {
                    to[sent % workers]
                        .send(chunk)
                        .expect("a plan worker stopped");
                    sent += 1;
                }
            }
            if received == sent {
                return Ok(());
            }
            let results = from[received % workers]
                .recv()
                .expect("a plan worker stopped");
            received += 1;
            for r in results {
                consume(r)?;
            }
        }
    })
}

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
struct BatchOut<'a> {
    index: u64,
    timezone: &'a str,
    calls: CallsOut<'a>,
}

struct CallsOut<'a> {
    kind: Kind,
    calls: &'a [Call],
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

/// Keeps what a printed report needs: a sample of calls and the skips grouped by reason.
#[derive(Debug, Default)]
pub struct Overview {
    pub header: Option<Header>,
    pub sample: Vec<Call>,
    pub sample_size: usize,
    /// Per reason: the count and the first few skips.
    pub skips: BTreeMap<&'static str, (u64, Vec<Skip>)>,
    pub template_skips: u64,
    pub summary: Summary,
}

/// How many skips of each reason a printed report lists.
pub const SKIP_EXAMPLES: usize = 5;

impl Overview {
    pub fn new(sample_size: usize) -> Self {
        Overview {
            sample_size,
            ..Overview::default()
        }
    }
}

impl Sink for Overview {
    fn header(&mut self, header: &Header, _: &Campaign) -> io::Result<()> {
        self.header = Some(header.clone());
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, calls: &[Call]) -> io::Result<()> {
        let room = self.sample_size.saturating_sub(self.sample.len());
        self.sample.extend(calls.iter().take(room).cloned());
        Ok(())
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        if skip.is_template() {
            self.template_skips += 1;
        }
        let entry = self.skips.entry(skip.code.as_str()).or_default();
        entry.0 += 1;
        if entry.1.len() < SKIP_EXAMPLES {
            entry.1.push(skip.clone());
        }
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.summary = summary.clone();
        Ok(())
    }
}

/// Keeps nothing (the other half of a [`Tee`] that is not always wanted).
#[derive(Debug, Default)]
pub struct Discard;

impl Sink for Discard {
    fn header(&mut self, _: &Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, _: &[Call]) -> io::Result<()> {
        Ok(())
    }
    fn skip(&mut self, _: &Skip) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Sends the plan to two sinks.
pub struct Tee<'a>(pub &'a mut dyn Sink, pub &'a mut dyn Sink);

impl Sink for Tee<'_> {
    fn header(&mut self, header: &Header, c: &Campaign) -> io::Result<()> {
        self.0.header(header, c)?;
        self.1.header(header, c)
    }
    fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> io::Result<()> {
        self.0.batch(index, timezone, calls)?;
        self.1.batch(index, timezone, calls)
    }
    fn skip(&mut self, skip: &Skip) -> io::Result<()> {
        self.0.skip(skip)?;
        self.1.skip(skip)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.finish(summary)?;
        self.1.finish(summary)
    }
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
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&tmp).map_err(|source| PlanError::Io {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            let streamed = serde_json::to_string(&BatchOut {
                index: 3,
                timezone: "Africa/Lagos",
                calls: CallsOut {
                    kind,
                    calls: &calls,
                },
            })
            .unwrap();
            assert_eq!(streamed, expected);
        }
    }

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
