//! The one reader of saved plans, for apply and `plan --compare`: bounded, typed, checked,
//! and located when it refuses a plan, without quoting what the file holds (patients'
//! numbers).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::Read as _;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_path_to_error::Segment;

use super::document::{
    Batch, ConversationEntry, PlanCampaign, PlanDocument, RobocallEntry, SavedCall, SavedEntry,
    Settings, Unread,
};
use crate::campaign::Kind;
use crate::plan::model::{
    Call, KEY_TAG, PLAN_FORMAT, PLAN_VERSION, Skip, SourceInfo, SourceRole, Summary,
};

/// The largest saved plan read: 1 GiB. A million calls with three variables and a tag take
/// 295 MB (bench/plan's campaign), so this holds about three million such calls, or a
/// million with three times the words. Reading holds the file and its calls in memory at
/// once, so a larger file is refused before it is read.
pub const MAX_PLAN_BYTES: u64 = 1 << 30;

/// A saved plan, read back and checked: every call as the planner made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlan {
    /// The document's version: [`PLAN_VERSION`], or 1 (made by an older outreach).
    pub version: u32,
    pub created_at: jiff::Timestamp,
    /// The plan's date in the campaign's time zone; `None` in a plan made before it was
    /// recorded.
    pub today: Option<jiff::civil::Date>,
    /// The build that wrote it: `outreach <version>`.
    pub tool: String,
    pub campaign: PlanCampaign<'static>,
    /// As in [`crate::plan::Header::sources`].
    pub sources: Vec<SourceInfo>,
    /// The campaign's settings when the plan was made; `None` in a version 1 plan, which
    /// did not record them in a form that can be compared.
    pub settings: Option<Settings>,
    pub batches: Vec<SavedBatch>,
    pub skipped: Vec<Skip>,
    pub summary: Summary,
}

/// A batch of a saved plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedBatch {
    pub index: u64,
    pub timezone: String,
    /// Conversation calls have no tags: their entries carry none.
    pub calls: Vec<Call>,
}

/// Why a saved plan is refused. No message quotes the file's content: a place is named
/// by its field path, a problem by what was expected.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is {size} bytes, more than a saved plan may be ({MAX_PLAN_BYTES} bytes, 1 GiB)"
    )]
    TooLarge { path: String, size: u64 },
    /// Not a JSON object with a `format` member: the file is something else.
    #[error(
        "{path} is not a plan saved with `outreach plan --out` (a JSON object with \"format\": \"{PLAN_FORMAT}\")"
    )]
    NotAPlan { path: String },
    #[error(
        "{path}: format: not \"{PLAN_FORMAT}\", so not a plan saved with `outreach plan --out`"
    )]
    Format { path: String },
    #[error(
        "{path} is a version {found} plan; this outreach reads versions 1 and {PLAN_VERSION} (make the plan again with this outreach)"
    )]
    Version { path: String, found: u64 },
    /// `at`: the field path (`batches[0].calls[3].key`), when the problem has a place.
    #[error("{path}: {}{problem}", prefix(.at.as_deref()))]
    Invalid {
        path: String,
        at: Option<String>,
        problem: String,
    },
}

fn prefix(at: Option<&str>) -> String {
    at.map(|a| format!("{a}: ")).unwrap_or_default()
}

/// Reads the plan saved at `path` (see [`MAX_PLAN_BYTES`] for how large it may be).
pub fn read(path: &Path) -> Result<SavedPlan, SavedPlanError> {
    read_at_most(path, MAX_PLAN_BYTES)
}

fn read_at_most(path: &Path, limit: u64) -> Result<SavedPlan, SavedPlanError> {
    let name = path.display().to_string();
    let io = |source| SavedPlanError::Io {
        path: name.clone(),
        source,
    };
    let too_large = |size| SavedPlanError::TooLarge {
        path: name.clone(),
        size,
    };
    // A regular file only: a FIFO would block, and a device's size says nothing.
    let file = crate::load::input_file::open(path)
        .map_err(std::io::Error::from)
        .map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
    // Bounded again: the file may grow, or be a pipe whose size says nothing.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    parse(&name, &bytes)
}

/// Reads a saved plan from its bytes; `name` names it in errors.
pub fn parse(name: &str, bytes: &[u8]) -> Result<SavedPlan, SavedPlanError> {
    let probe = Probe::of(bytes);
    match probe.format.as_deref() {
        Some(PLAN_FORMAT) => {}
        Some(_) => return Err(SavedPlanError::Format { path: name.into() }),
        None => return Err(SavedPlanError::NotAPlan { path: name.into() }),
    }
    if let Some(found) = probe.version
        && found != u64::from(PLAN_VERSION)
        && found != 1
    {
        return Err(SavedPlanError::Version {
            path: name.into(),
            found,
        });
    }
    // Without a readable kind the typed read fails at `campaign`, whichever entries it
    // expects; the typed read sees the same `campaign` the probe did (a second one is an
    // error), so the entries are read for the kind the plan states.
    let kind = probe.kind.unwrap_or_default();
    if probe.version == Some(1) {
        // Version 1 wrote the campaign's sections as they were: not read back.
        let unread = |_: Unread| None;
        return match kind {
            Kind::Robocall => checked(name, typed::<_, RobocallEntry>(name, bytes)?, unread),
            Kind::Conversation => {
                checked(name, typed::<_, ConversationEntry>(name, bytes)?, unread)
            }
        };
    }
    match kind {
        Kind::Robocall => checked(name, typed::<Settings, RobocallEntry>(name, bytes)?, Some),
        Kind::Conversation => checked(
            name,
            typed::<Settings, ConversationEntry>(name, bytes)?,
            Some,
        ),
    }
}

/// The document as read, its settings `S` and its calls' entries those of one kind.
type Document<S, E> = PlanDocument<'static, S, Batch<'static, Vec<SavedCall<'static, E>>>>;

fn typed<S: DeserializeOwned, E: DeserializeOwned>(
    name: &str,
    bytes: &[u8],
) -> Result<Document<S, E>, SavedPlanError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = serde_path_to_error::deserialize(&mut de).map_err(|e| SavedPlanError::Invalid {
        path: name.into(),
        at: place(e.path()),
        problem: without_values(&e.inner().to_string()),
    })?;
    de.end().map_err(|e| SavedPlanError::Invalid {
        path: name.into(),
        at: None,
        problem: e.to_string(),
    })?;
    Ok(doc)
}

/// The document's calls as [`Call`]s, every one checked.
fn checked<S, E: SavedEntry>(
    name: &str,
    doc: Document<S, E>,
    settings: impl FnOnce(S) -> Option<Settings>,
) -> Result<SavedPlan, SavedPlanError> {
    let invalid = |at: Option<String>, problem: String| SavedPlanError::Invalid {
        path: name.into(),
        at,
        problem,
    };
    let missing = |field: &str| invalid(None, format!("missing field `{field}`"));
    let batches = doc.batches.ok_or_else(|| missing("batches"))?;
    let skipped = doc.skipped.ok_or_else(|| missing("skipped"))?;
    let summary = doc.summary.ok_or_else(|| missing("summary"))?;
    let sources = doc.sources.into_owned();
    let mut out = Vec::with_capacity(batches.len());
    for (i, batch) in batches.into_iter().enumerate() {
        let language = batch.language.map(Cow::into_owned);
        if let Some(l) = &language
            && !crate::campaign::languages::is_tag(l)
        {
            return Err(invalid(
                Some(format!("batches[{i}].language")),
                "not a language tag, as plans write them".to_owned(),
            ));
        }
        let mut calls = Vec::with_capacity(batch.calls.len());
        for (j, c) in batch.calls.into_iter().enumerate() {
            let mut call = call_of(c, &sources).map_err(|(field, problem)| {
                invalid(Some(format!("batches[{i}].calls[{j}].{field}")), problem)
            })?;
            call.language.clone_from(&language);
            calls.push(call);
        }
        out.push(SavedBatch {
            index: batch.index,
            timezone: batch.timezone.into_owned(),
            calls,
        });
    }
    if let Some((at, first)) = duplicate(&out) {
        return Err(invalid(
            Some(format!("{at}.key")),
            format!("the same key as {first}: a plan calls each key once"),
        ));
    }
    Ok(SavedPlan {
        version: doc.version,
        created_at: doc.created_at,
        today: doc.today,
        tool: doc.tool.into_owned(),
        campaign: doc.campaign,
        sources,
        settings: settings(doc.settings),
        batches: out,
        skipped,
        summary,
    })
}

/// A call as apply places it, or the field (below the call) that apply cannot rely on and
/// why: a key; the same key in a robocall's tag; an E.164 number (its digits are what the
/// opt-out recheck looks up); a patient source that exists.
fn call_of<E: SavedEntry>(
    c: SavedCall<'static, E>,
    sources: &[SourceInfo],
) -> Result<Call, (String, String)> {
    let refuse = |field: &str, problem: String| Err((field.to_owned(), problem));
    if c.key.is_empty() {
        return refuse("key", "empty: every call needs its idempotency key".into());
    }
    let (phone, rendered, tagged) = c.entry.into_parts();
    if tagged.is_some_and(|k| k != c.key) {
        return refuse(
            &format!("entry.user_tag_identifiers.{KEY_TAG}"),
            "not the call's `key`".into(),
        );
    }
    if phone.is_empty() {
        return refuse(
            "entry.phone_number",
            "empty: every call needs a number".into(),
        );
    }
    if !is_e164(&phone) {
        return refuse(
            "entry.phone_number",
            "not an E.164 number (a + and up to 15 digits), as plans write them".into(),
        );
    }
    match sources.get(c.source) {
        Some(s) if s.role == SourceRole::Patients => {}
        Some(_) => {
            let problem = format!("{} is an opt-out list in `sources`, not patients", c.source);
            return refuse("source", problem);
        }
        None => {
            let problem = format!(
                "{} is not in `sources` (it lists {})",
                c.source,
                sources.len()
            );
            return refuse("source", problem);
        }
    }
    Ok(Call {
        key: c.key.into_owned(),
        phone,
        source: c.source,
        row: c.row,
        rendered,
        list_values: c.list_values.into_owned(),
        language: None,
    })
}

/// The first call whose key an earlier call has, and that earlier call: their places.
fn duplicate(batches: &[SavedBatch]) -> Option<(String, String)> {
    let place = |(i, j): (usize, usize)| format!("batches[{i}].calls[{j}]");
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, batch) in batches.iter().enumerate() {
        for (j, call) in batch.calls.iter().enumerate() {
            if let Some(first) = seen.insert(&call.key, (i, j)) {
                return Some((place((i, j)), place(first)));
            }
        }
    }
    None
}

fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (1..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What the head says, read before the rest and only as far as needed: whether the file is
/// a saved plan, its version (a plan of another version is refused as such, not by a field
/// it lays out otherwise), and its kind (which entries its calls hold).
#[derive(Default)]
struct Probe {
    format: Option<String>,
    version: Option<u64>,
    kind: Option<Kind>,
}

impl Probe {
    fn of(bytes: &[u8]) -> Probe {
        let mut probe = Probe::default();
        // Its error is the typed read's to report, with a path. A probe that stops once it
        // knows (the writer puts these three first) also gets one for the rest it left.
        let _ = serde_json::Deserializer::from_slice(bytes).deserialize_map(&mut probe);
        probe
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum HeadField {
    Format,
    Version,
    Campaign,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct KindOf {
    kind: Kind,
}

impl<'de> Visitor<'de> for &mut Probe {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a saved plan")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key()? {
            match field {
                HeadField::Format => self.format = Some(map.next_value()?),
                HeadField::Version => self.version = Some(map.next_value()?),
                HeadField::Campaign => self.kind = Some(map.next_value::<KindOf>()?.kind),
                HeadField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if self.format.is_some() && self.version.is_some() && self.kind.is_some() {
                break;
            }
        }
        Ok(())
    }
}

/// A serde path as a place, with names from the document shown only when they look like
/// field names: a map key could be anything a damaged file holds.
fn place(path: &serde_path_to_error::Path) -> Option<String> {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if is_name(key) { key } else { "…" });
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a name from the document is shown: a field-like name (`first_name`,
/// `invalid-phone`), never a number or a sentence.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// serde's messages quote the value they reject (`invalid type: string "+234…", expected
/// u64`) and the unknown names they meet: the values go, field-like names stay.
static QUOTED: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"(string) "(?:[^"\\]|\\.)*"|(integer|floating point|boolean|character) `[^`]*`|unknown (field|variant) `([^`]*)`"#,
    )
    .expect("a valid pattern")
});

fn without_values(message: &str) -> String {
    QUOTED
        .replace_all(message, |c: &regex::Captures<'_>| {
            if let Some(kind) = c.get(1).or_else(|| c.get(2)) {
                return kind.as_str().to_owned();
            }
            let (what, name) = (&c[3], &c[4]);
            if is_name(name) {
                format!("unknown {what} `{name}`")
            } else {
                format!("unknown {what} (its name is not shown)")
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::campaign::Campaign;
    use crate::plan::{Header, JsonPlanWriter, Sink, Tee};

    /// Everything a plan's sink is given, kept.
    #[derive(Default)]
    struct Kept {
        header: Option<Header>,
        batches: Vec<SavedBatch>,
        skips: Vec<Skip>,
        summary: Summary,
    }

    impl Sink for Kept {
        fn header(&mut self, header: &Header, _: &Campaign) -> std::io::Result<()> {
            self.header = Some(header.clone());
            Ok(())
        }
        fn batch(&mut self, index: u64, timezone: &str, calls: &[Call]) -> std::io::Result<()> {
            self.batches.push(SavedBatch {
                index,
                timezone: timezone.to_owned(),
                calls: calls.to_vec(),
            });
            Ok(())
        }
        fn skip(&mut self, skip: &Skip) -> std::io::Result<()> {
            self.skips.push(skip.clone());
            Ok(())
        }
        fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
            self.summary = summary.clone();
            Ok(())
        }
    }

    /// A fixture planned into a saved plan, and what its sink was given.
    fn planned(fixture: &str) -> (Vec<u8>, Kept, Campaign) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/plan")
            .join(fixture);
        planned_at(&path)
    }

    /// The campaign at `path` planned into a saved plan, and what its sink was given.
    fn planned_at(path: &Path) -> (Vec<u8>, Kept, Campaign) {
        let path = path.to_path_buf();
        let campaign = crate::validate::check_file(&path).campaign.unwrap();
        let mut writer = JsonPlanWriter::new(Vec::new());
        let mut kept = Kept::default();
        crate::plan::plan(&campaign, &path, &mut Tee(&mut writer, &mut kept)).unwrap();
        (writer.into_inner(), kept, campaign)
    }

    /// The robocall fixture's plan, `damage` done to it, read: the error's text.
    fn refused_after(damage: impl FnOnce(&mut Value)) -> String {
        let (bytes, ..) = planned("csv-robocall.yaml");
        let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
        damage(&mut doc);
        let bytes = serde_json::to_vec(&doc).unwrap();
        match parse("plan.json", &bytes) {
            Ok(_) => panic!("a damaged plan was read: {doc}"),
            Err(e) => e.to_string(),
        }
    }

    /// The robocall fixture's plan with the member at `pointer` set to `value`, or removed
    /// (`None`), read: the error's text.
    fn refused(pointer: &str, value: Option<Value>) -> String {
        refused_after(|doc| {
            let (parent, name) = pointer.rsplit_once('/').unwrap();
            match (doc.pointer_mut(pointer), value) {
                (Some(slot), Some(v)) => *slot = v,
                (_, value) => {
                    let parent = doc.pointer_mut(parent).and_then(Value::as_object_mut);
                    let parent = parent.expect(pointer);
                    match value {
                        Some(v) => parent.insert(name.to_owned(), v),
                        None => parent.remove(name),
                    };
                }
            }
        })
    }

    #[test]
    fn a_written_plan_reads_back_as_it_was_planned() {
        for fixture in ["csv-robocall.yaml", "json-conversation.yaml"] {
            let (bytes, mut kept, campaign) = planned(fixture);
            let saved = parse(fixture, &bytes).unwrap();
            let header = kept.header.take().unwrap();
            assert_eq!(saved.campaign.file, header.campaign_file, "{fixture}");
            assert_eq!(saved.campaign.sha256, header.campaign_sha256, "{fixture}");
            assert_eq!(saved.campaign.name, campaign.name, "{fixture}");
            assert_eq!(saved.campaign.kind, campaign.kind, "{fixture}");
            assert_eq!(saved.campaign.round.as_deref(), campaign.round.as_deref());
            assert_eq!(saved.sources, header.sources, "{fixture}");
            assert!(saved.tool.starts_with("outreach "), "{fixture}");
            assert!(
                saved.batches.iter().any(|b| !b.calls.is_empty()),
                "{fixture}"
            );
            assert_eq!(saved.batches, kept.batches, "{fixture}");
            assert!(!saved.skipped.is_empty(), "{fixture}");
            assert_eq!(saved.skipped, kept.skips, "{fixture}");
            assert_eq!(saved.summary, kept.summary, "{fixture}");
        }
    }

    // Issue 19: each call's `list_columns` values are written in the saved plan (what apply
    // stores from it), in the campaign's order, and read back; a plan without them (made
    // before they were kept, or by a campaign without list columns) reads as having none.
    #[test]
    fn list_values_are_saved_with_each_call_and_read_back() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan");
        let dir = tempfile::tempdir().unwrap();
        for file in ["patients.csv", "opt-outs.csv"] {
            std::fs::copy(fixtures.join(file), dir.path().join(file)).unwrap();
        }
        let text = std::fs::read_to_string(fixtures.join("csv-robocall.yaml")).unwrap();
        let path = dir.path().join("lists.yaml");
        std::fs::write(
            &path,
            text.replace("schedule:", "list_columns: [clinic, patient_id]\nschedule:"),
        )
        .unwrap();
        let (bytes, kept, _) = planned_at(&path);
        let saved = parse("lists", &bytes).unwrap();
        assert_eq!(saved.batches, kept.batches);
        let first = &saved.batches[0].calls[0];
        assert_eq!(
            first.list_values.iter().collect::<Vec<_>>(),
            [("clinic", "Yaba PHC"), ("patient_id", "P01")]
        );
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            doc.pointer("/batches/0/calls/0/list_values"),
            Some(&json!({"clinic": "Yaba PHC", "patient_id": "P01"}))
        );
        let (without, ..) = planned("csv-robocall.yaml");
        let doc: Value = serde_json::from_slice(&without).unwrap();
        assert_eq!(doc.pointer("/batches/0/calls/0/list_values"), None);
        let saved = parse("plain", &without).unwrap();
        assert!(saved.batches[0].calls[0].list_values.is_empty());
    }

    #[test]
    fn each_damage_is_refused_with_its_field_named() {
        let call = "/batches/0/calls/0";
        let cases = [
            (
                "/batches/0/calls/1/key",
                Some(Value::Null),
                "plan.json: batches[0].calls[1].key: invalid type: null, expected a string",
            ),
            (
                &format!("{call}/key"),
                Some(json!("")),
                "plan.json: batches[0].calls[0].key: empty",
            ),
            (
                &format!("{call}/entry/phone_number"),
                Some(json!("")),
                "plan.json: batches[0].calls[0].entry.phone_number: empty",
            ),
            (
                &format!("{call}/entry/phone_number"),
                Some(json!("08031234567")),
                "plan.json: batches[0].calls[0].entry.phone_number: not an E.164 number",
            ),
            (
                &format!("{call}/source"),
                Some(json!(7)),
                "plan.json: batches[0].calls[0].source: 7 is not in `sources` (it lists 2)",
            ),
            (
                &format!("{call}/source"),
                Some(json!(1)),
                "plan.json: batches[0].calls[0].source: 1 is an opt-out list",
            ),
            (
                &format!("{call}/entry/user_tag_identifiers/{KEY_TAG}"),
                Some(json!("ok-0000")),
                "plan.json: batches[0].calls[0].entry.user_tag_identifiers.outreach_key: not the call's `key`",
            ),
            (
                &format!("{call}/entry/user_tag_identifiers/{KEY_TAG}"),
                None,
                "plan.json: batches[0].calls[0].entry.user_tag_identifiers: missing field `outreach_key`",
            ),
            (
                &format!("{call}/entry/workflow_variables"),
                None,
                "plan.json: batches[0].calls[0].entry: missing field `workflow_variables`",
            ),
            (
                &format!("{call}/entry/workflow_variables/name"),
                Some(json!(5)),
                "plan.json: batches[0].calls[0].entry.workflow_variables.name: invalid type: integer, expected a string",
            ),
            (
                &format!("{call}/entry/voice"),
                Some(json!("male")),
                "plan.json: batches[0].calls[0].entry.voice: unknown field `voice`, expected one of",
            ),
            (
                call,
                Some(Value::Null),
                "plan.json: batches[0].calls[0]: invalid type: null, expected a call",
            ),
            (
                "/batches/0/timezone",
                None,
                "plan.json: batches[0]: missing field `timezone`",
            ),
            ("/batches", None, "plan.json: missing field `batches`"),
            (
                "/format",
                Some(json!("outreach-status")),
                "plan.json: format: not \"outreach-plan\"",
            ),
            ("/version", None, "plan.json: missing field `version`"),
            (
                "/version",
                Some(json!("1")),
                "plan.json: version: invalid type: string, expected u32",
            ),
            (
                "/version",
                Some(json!(3)),
                "plan.json is a version 3 plan; this outreach reads versions 1 and 2",
            ),
            (
                "/settings/voice.accent",
                Some(json!(5)),
                "plan.json: settings.…: invalid type: integer, expected a string",
            ),
            (
                "/campaign/sha256",
                Some(Value::Null),
                "plan.json: campaign.sha256: invalid type: null, expected a string",
            ),
            (
                "/summary/calls",
                Some(json!(-1)),
                "plan.json: summary.calls: invalid value: integer, expected u64",
            ),
        ];
        for (pointer, value, expected) in cases {
            let text = refused(pointer, value);
            assert!(text.starts_with(expected), "{text}\n  expected: {expected}");
        }
        let text = refused_after(|d| {
            let first = d.pointer("/batches/0/calls/0/key").unwrap().clone();
            *d.pointer_mut("/batches/1/calls/0/key").unwrap() = first.clone();
            let tag = format!("/batches/1/calls/0/entry/user_tag_identifiers/{KEY_TAG}");
            *d.pointer_mut(&tag).unwrap() = first;
        });
        assert_eq!(
            text,
            "plan.json: batches[1].calls[0].key: the same key as batches[0].calls[0]: a plan calls each key once"
        );
    }

    /// Errors name places, never what a damaged file holds: a patient's number put where
    /// something else belongs is not quoted back.
    #[test]
    fn no_error_quotes_a_number() {
        let call = "/batches/0/calls/0";
        let number = json!("+2348031234567");
        let cases = [
            (format!("{call}/row"), number.clone()),
            (format!("{call}/key"), json!(2_348_031_234_567_u64)),
            (
                format!("{call}/entry/phone_number"),
                json!(2_348_031_234_567_u64),
            ),
            (
                format!("{call}/entry/phone_number"),
                json!(2.348_031_234_567e12),
            ),
            (format!("{call}/entry/phone_number"), json!("2348031234567")),
            (
                format!("{call}/entry/phone_number"),
                json!("+234 803 123 4567"),
            ),
            (format!("{call}/+2348031234567"), json!(1)),
            (
                format!("{call}/entry/workflow_variables/+2348031234567"),
                json!(true),
            ),
            ("/campaign/kind".to_owned(), number.clone()),
            ("/created_at".to_owned(), number.clone()),
            ("/format".to_owned(), number.clone()),
            ("/sources/0/role".to_owned(), number.clone()),
            ("/skipped/0/row".to_owned(), number.clone()),
            (
                "/summary/skipped_by_reason/+2348031234567".to_owned(),
                number.clone(),
            ),
        ];
        for (pointer, value) in cases {
            let text = refused(&pointer, Some(value));
            assert!(!text.contains("8031234567"), "a number in: {text}");
            assert!(text.starts_with("plan.json"), "{text}");
        }
        // A name that reads like a field is shown.
        let text = refused("/campaign/kind", Some(json!("robocal")));
        assert!(text.contains("unknown variant `robocal`"), "{text}");
    }

    #[test]
    fn what_is_not_a_saved_plan_is_told_apart() {
        let not_a_plan =
            |bytes: &[u8]| matches!(parse("x", bytes), Err(SavedPlanError::NotAPlan { .. }));
        assert!(not_a_plan(b"phone\n+2348031234567\n"));
        assert!(not_a_plan(b"version: 1\nname: c\n"));
        assert!(not_a_plan(b"{version: 1, name: c}"));
        assert!(not_a_plan(b"[1, 2]"));
        assert!(not_a_plan(br#"{"version": 1, "name": "c"}"#));
        assert!(not_a_plan(b""));
        // A plan cut short is a damaged plan, not something else.
        let (bytes, ..) = planned("csv-robocall.yaml");
        let text = parse("plan.json", &bytes[..bytes.len() / 2])
            .unwrap_err()
            .to_string();
        assert!(text.starts_with("plan.json: batches["), "{text}");
        assert!(text.contains("EOF while parsing"), "{text}");
        let mut extra = bytes.clone();
        extra.extend_from_slice(b"{}");
        let text = parse("plan.json", &extra).unwrap_err().to_string();
        assert!(text.starts_with("plan.json: trailing characters"), "{text}");
    }

    /// Keys in any order (`jq -S` sorts them) read the same.
    #[test]
    fn members_in_any_order_read_the_same() {
        let (bytes, ..) = planned("json-conversation.yaml");
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let mut sorted: Vec<(String, Value)> =
            doc.as_object().unwrap().clone().into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let sorted = Value::Object(sorted.into_iter().collect());
        let again = parse("sorted.json", &serde_json::to_vec(&sorted).unwrap()).unwrap();
        assert_eq!(again, parse("plan.json", &bytes).unwrap());
        assert_eq!(again.campaign.kind, Kind::Conversation);
    }

    #[test]
    fn a_plan_over_the_limit_is_refused_before_it_is_read() {
        let (bytes, ..) = planned("csv-robocall.yaml");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, &bytes).unwrap();
        let limit = bytes.len() as u64 - 1;
        match read_at_most(&path, limit) {
            Err(SavedPlanError::TooLarge { size, .. }) => assert_eq!(size, limit + 1),
            other => panic!("{other:?}"),
        }
        assert!(read_at_most(&path, limit + 1).is_ok());
        assert!(matches!(
            read(&dir.path().join("none.json")),
            Err(SavedPlanError::Io { .. })
        ));
    }
}
