//! The voicebot wire format, defined once and shared by the mock server and the outreach client.
//!
//! Request types serialise to exactly the documented bodies. Response types deserialise
//! leniently (unknown keys ignored, optional fields optional, any key order) because the live
//! service may differ wherever `docs/voicebot-api.md` says [assumed]; they serialise to the documented
//! samples, which is what the mock sends.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The 45 robocall accents, spelled exactly as documented (`estako` included, no `english`).
pub const ROBOCALL_ACCENTS: [&str; 45] = [
    "afrikaans",
    "akan",
    "amharic",
    "arabic",
    "bajju",
    "bekwarra",
    "benin",
    "bette",
    "chichewa",
    "ebira",
    "eggon",
    "epie",
    "estako",
    "french",
    "fulani",
    "ga",
    "gerawa",
    "hausa",
    "ibibio",
    "idoma",
    "igala",
    "igbo",
    "ijaw",
    "isindebele",
    "isoko",
    "kanuri",
    "kinyarwanda",
    "luganda",
    "nupe",
    "nyandang",
    "ogbia",
    "ogoni",
    "pidgin",
    "sepedi",
    "sesotho",
    "shona",
    "siswati",
    "swahili",
    "tiv",
    "tswana",
    "twi",
    "urhobo",
    "xhosa",
    "yoruba",
    "zulu",
];

/// Accents of conversation calls; the first is the default.
pub const CONVERSATION_ACCENTS: [&str; 2] = ["pidgin", "english"];

/// Voice genders of both call kinds.
pub const GENDERS: [&str; 2] = ["male", "female"];

/// [ours] Robocall defaults (undocumented upstream, so the client always sends both).
pub const DEFAULT_ROBOCALL_ACCENT: &str = "pidgin";
/// Default voice gender of both call kinds.
pub const DEFAULT_GENDER: &str = "female";

/// The longest message allowed after substituting variables, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// `POST /voicebot/v1/call` (and `/voicebot/v1/robocall/call`): place robocalls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobocallRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_voice_accent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_voice_gender: Option<String>,
    pub workflow_id: String,
    pub workflow_params: Vec<RobocallParam>,
}

/// One robocall `workflow_params` entry: one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobocallParam {
    pub phone_number: String,
    /// Values for the message's `[name]` placeholders.
    #[serde(default)]
    pub workflow_variables: BTreeMap<String, String>,
    /// Free-form tags, echoed back in status, batch and callback data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_tag_identifiers: Option<Map<String, Value>>,
}

/// `POST /voicebot/v1/convobot/call`: place conversation calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_voice_accent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tts_voice_gender: Option<String>,
    pub workflow_id: String,
    pub workflow_params: Vec<ConversationParam>,
}

/// One conversation entry. Entries are flat: every key other than `phone_number` (and
/// `user_tag_identifiers`) is a variable for `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationParam {
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_tag_identifiers: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub variables: BTreeMap<String, String>,
}

/// The `{"status", "message", "data"}` envelope of every response.
///
/// `status` is `"Ok"` or `"Error"`; clients decide success by the HTTP status code instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub status: String,
}

impl<T> Envelope<T> {
    /// A success envelope (`"status": "Ok"`).
    pub fn ok(message: impl Into<String>, data: T) -> Self {
        Self {
            data,
            message: message.into(),
            status: "Ok".to_owned(),
        }
    }
}

/// The body of an error response: `{"status": "Error", "message": "...", "data": {}}`.
/// Every field is optional when parsing, since error bodies of the live service are undocumented.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub status: String,
}

impl ErrorEnvelope {
    /// An error envelope with empty `data`.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            data: Value::Object(Map::new()),
            message: message.into(),
            status: "Error".to_owned(),
        }
    }
}

/// `data` of a successful call POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchCreated {
    pub batch_id: String,
}

/// `data` of `GET /voicebot/v1/status/{call_id}`, and one item of `request_calls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStatus {
    /// Empty when the item has none: a callback item without it is still matched by its tag
    /// or number, and one such item must not refuse the outcomes of the whole batch.
    #[serde(default)]
    pub call_id: String,
    /// Absent in the seed's own sample although the call was processed: optional.
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub call_duration_in_seconds: Option<u64>,
    pub processing_status: ProcessingStatus,
    #[serde(default)]
    pub batch_id: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub user_tag_identifiers: Option<Map<String, Value>>,
    /// The chosen response option (a key of `response_options`), or null.
    #[serde(default, deserialize_with = "lenient_string")]
    pub reply: Option<String>,
}

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

string_enum! {
    /// `processing_status` of a call. Unknown values are kept and are not final.
    pub enum ProcessingStatus {
        Queued => "VOICE_CALL_QUEUED",
        Processing => "VOICE_CALL_PROCESSING",
        /// Final: answered.
        Processed => "VOICE_CALL_PROCESSED",
        /// Final: the call failed.
        Failed => "VOICE_CALL_FAILED",
        /// Final: no answer.
        Timeout => "VOICE_CALL_TIMEOUT",
    }
}

impl ProcessingStatus {
    /// Whether the call has ended. Unknown values are not final.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Processed | Self::Failed | Self::Timeout)
    }
}

string_enum! {
    /// `workflow_type` of a workflow.
    pub enum WorkflowType {
        Robocall => "ROBOCALL",
        Conversation => "CONVERSATION",
    }
}

string_enum! {
    /// `status` of a workflow.
    pub enum WorkflowStatus {
        Active => "ACTIVE",
        Inactive => "INACTIVE",
    }
}

string_enum! {
    /// `status` of a batch (request). [ours]
    pub enum BatchStatus {
        /// Every call is still queued.
        Pending => "PENDING",
        InProgress => "IN_PROGRESS",
        /// Every call is final (the callback's `status`).
        Completed => "COMPLETED",
    }
}

/// A workflow object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub workflow_type: WorkflowType,
    pub message: String,
    #[serde(default)]
    pub include_reply: bool,
    #[serde(default, deserialize_with = "lenient_options")]
    pub response_options: BTreeMap<String, String>,
    #[serde(default)]
    pub call_back_url: Option<String>,
    #[serde(default = "active")]
    pub status: WorkflowStatus,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

fn active() -> WorkflowStatus {
    WorkflowStatus::Active
}

/// `POST /voicebot/v1/workflows` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateWorkflow {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub workflow_type: WorkflowType,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_reply: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_options: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_back_url: Option<String>,
}

/// `data` of the answer to `POST /voicebot/v1/workflows` [doc]: the new workflow's `id`. Read
/// leniently: the mock answers the whole workflow, the service may answer only `{"id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowCreated {
    pub id: String,
}

/// `PATCH /voicebot/v1/workflows/{id}` body: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatchWorkflow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_type: Option<WorkflowType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_reply: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_options: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_back_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkflowStatus>,
}

/// `data` of `GET /voicebot/v1/workflows`. [ours]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowList {
    #[serde(default)]
    pub workflows: Vec<Workflow>,
    #[serde(default)]
    pub page: u64,
    #[serde(default)]
    pub limit: u64,
    #[serde(default)]
    pub total: u64,
}

/// `data` of `DELETE /voicebot/v1/workflows/{id}`. [ours]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: String,
}

/// Statistics of a batch, as in the callback. Counts are integers; `avg_duration` (seconds,
/// over answered calls) and `success_rate` (answered calls in percent of all) are floats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchStats {
    pub total_calls: u64,
    /// Answered calls (`VOICE_CALL_PROCESSED`).
    pub completed_calls: u64,
    pub timeout_calls: u64,
    pub replied_calls: u64,
    pub response_options_counts: ResponseOptionsCounts,
    pub avg_duration: f64,
    pub success_rate: f64,
    /// [ours] `VOICE_CALL_FAILED` calls; not in the documented sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_calls: Option<u64>,
    /// [ours] Calls not final yet; not in the documented sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_calls: Option<u64>,
}

impl BatchStats {
    /// The stats as the documented callback sample shows them: its seven keys only, with
    /// `response_options_counts` the number of calls with a reply.
    #[must_use]
    pub fn documented(self) -> Self {
        Self {
            response_options_counts: ResponseOptionsCounts::Total(
                self.response_options_counts.total(),
            ),
            failed_calls: None,
            pending_calls: None,
            ..self
        }
    }
}

/// `response_options_counts`: an integer in the documented callback sample [doc]; per-option
/// counts (`{"1": 3, "2": 1}`) in the mock's batches [ours]. Either form parses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseOptionsCounts {
    /// Calls with a reply, as the documented sample shows.
    Total(u64),
    /// Calls per reply option.
    PerOption(BTreeMap<String, u64>),
}

impl Default for ResponseOptionsCounts {
    fn default() -> Self {
        Self::PerOption(BTreeMap::new())
    }
}

impl ResponseOptionsCounts {
    /// Calls with a reply, whichever form the counts came in.
    pub fn total(&self) -> u64 {
        match self {
            Self::Total(n) => *n,
            Self::PerOption(per) => per.values().fold(0, |sum, n| sum.saturating_add(*n)),
        }
    }
}

/// A batch (also called a request): one call POST. [ours]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub batch_id: String,
    #[serde(default)]
    pub workflow_id: Option<String>,
    pub status: BatchStatus,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub stats: BatchStats,
    /// Present on `GET /voicebot/v1/requests/{batch_id}`, absent in workflow listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_calls: Option<Vec<CallStatus>>,
}

/// `data` of `GET /voicebot/v1/workflows/{id}/requests`. [ours]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchList {
    #[serde(default)]
    pub requests: Vec<Batch>,
}

/// The body sent (POST) to a workflow's `call_back_url` once every call of a batch is final.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackPayload {
    /// Equals the `batch_id` returned by the call POST.
    pub request_id: String,
    /// `"COMPLETED"`.
    pub status: String,
    #[serde(default)]
    pub integrator_id: Option<String>,
    #[serde(default)]
    pub stats: BatchStats,
    #[serde(default)]
    pub request_calls: Vec<CallStatus>,
}

/// Accepts an integer, a float (rounded), a numeric string or null.
fn lenient_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct Seconds;
    impl<'de> Visitor<'de> for Seconds {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number of seconds or null")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(u64::try_from(v).unwrap_or(0)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.is_finite() && v >= 0.0 {
                // Rounded to whole seconds; durations never approach u64::MAX.
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "checked above"
                )]
                Ok(Some(v.round() as u64))
            } else {
                Ok(None)
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            match v.trim().parse::<f64>() {
                Ok(n) => self.visit_f64(n),
                Err(_) => Ok(None),
            }
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
    }
    deserializer.deserialize_any(Seconds)
}

/// Accepts a string, a number (kept as its text) or null.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    })
}

/// Accepts `{"1": "text"}` with string or number values, or null.
fn lenient_options<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Object(map) => map
            .into_iter()
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (key, text)
            })
            .collect(),
        _ => BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_status_sample_without_duration_parses() {
        let body = json!({
            "data": {"call_id": "12a9767f-b865-4404-91d0-a65d4cdt78fs", "processing_status": "VOICE_CALL_PROCESSED"},
            "message": "call status found",
            "status": "Ok"
        });
        let parsed: Envelope<CallStatus> = serde_json::from_value(body).unwrap();
        assert_eq!(parsed.data.processing_status, ProcessingStatus::Processed);
        assert_eq!(parsed.data.call_duration_in_seconds, None);
        assert!(parsed.data.processing_status.is_final());
    }

    #[test]
    fn unknown_status_is_kept_and_not_final() {
        let status: ProcessingStatus = serde_json::from_value(json!("VOICE_CALL_RINGING")).unwrap();
        assert_eq!(
            status,
            ProcessingStatus::Unknown("VOICE_CALL_RINGING".into())
        );
        assert!(!status.is_final());
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!("VOICE_CALL_RINGING")
        );
    }

    #[test]
    fn durations_are_lenient() {
        for (raw, want) in [
            (json!(3), Some(3)),
            (json!(2.6), Some(3)),
            (json!("4"), Some(4)),
            (json!(null), None),
        ] {
            let body = json!({"call_id": "x", "processing_status": "VOICE_CALL_PROCESSED", "call_duration_in_seconds": raw});
            let parsed: CallStatus = serde_json::from_value(body).unwrap();
            assert_eq!(parsed.call_duration_in_seconds, want);
        }
    }

    #[test]
    fn robocall_request_serialises_like_the_seed() {
        let request = RobocallRequest {
            tts_voice_accent: Some("igbo".into()),
            tts_voice_gender: Some("female".into()),
            workflow_id: "9b643eb4-0799-4761-bd34-9580eb315aaf".into(),
            workflow_params: vec![RobocallParam {
                phone_number: "+2348076960623".into(),
                workflow_variables: BTreeMap::from([("name".into(), "James".into())]),
                user_tag_identifiers: None,
            }],
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "tts_voice_accent": "igbo",
                "tts_voice_gender": "female",
                "workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
                "workflow_params": [{"phone_number": "+2348076960623", "workflow_variables": {"name": "James"}}]
            })
        );
    }

    #[test]
    fn conversation_entries_are_flat() {
        let param = ConversationParam {
            phone_number: "+1234567890".into(),
            user_tag_identifiers: None,
            variables: BTreeMap::from([("name".into(), "John Doe".into())]),
        };
        assert_eq!(
            serde_json::to_value(&param).unwrap(),
            json!({"name": "John Doe", "phone_number": "+1234567890"})
        );
    }

    #[test]
    fn error_bodies_parse_whatever_they_hold() {
        let parsed: ErrorEnvelope = serde_json::from_str(r#"{"message":"nope"}"#).unwrap();
        assert_eq!(parsed.message, "nope");
        assert_eq!(
            serde_json::to_value(ErrorEnvelope::error("bad")).unwrap(),
            json!({"data": {}, "message": "bad", "status": "Error"})
        );
    }

    #[test]
    fn response_options_counts_parse_in_either_form() {
        let documented: BatchStats =
            serde_json::from_value(json!({"replied_calls": 3, "response_options_counts": 3}))
                .unwrap();
        assert_eq!(
            documented.response_options_counts,
            ResponseOptionsCounts::Total(3)
        );
        let per_option: BatchStats =
            serde_json::from_value(json!({"response_options_counts": {"1": 2, "2": 1}})).unwrap();
        assert_eq!(per_option.response_options_counts.total(), 3);
        assert_eq!(per_option.failed_calls, None);
    }

    #[test]
    fn documented_stats_have_the_seven_keys_of_the_sample() {
        let stats = BatchStats {
            total_calls: 4,
            completed_calls: 2,
            timeout_calls: 1,
            replied_calls: 2,
            response_options_counts: ResponseOptionsCounts::PerOption(BTreeMap::from([
                ("1".to_owned(), 1),
                ("2".to_owned(), 1),
            ])),
            avg_duration: 30.0,
            success_rate: 50.0,
            failed_calls: Some(1),
            pending_calls: Some(0),
        };
        assert_eq!(
            serde_json::to_value(stats.documented()).unwrap(),
            json!({"total_calls": 4, "completed_calls": 2, "timeout_calls": 1, "replied_calls": 2,
                   "response_options_counts": 2, "avg_duration": 30.0, "success_rate": 50.0})
        );
    }

    #[test]
    fn envelope_ignores_unknown_keys_and_order() {
        let parsed: Envelope<BatchCreated> = serde_json::from_str(
            r#"{"status":"Ok","extra":1,"data":{"batch_id":"b","more":true},"message":"m"}"#,
        )
        .unwrap();
        assert_eq!(parsed.data.batch_id, "b");
    }
}
