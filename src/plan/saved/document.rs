//! The saved plan's document: the serde types `plan --out` writes and apply and
//! `plan --compare` read back, so that both sides spell every field once.
//!
//! The writer fills them from borrowed data (`Cow::Borrowed`, references, a streamed
//! sequence of calls); the reader gets them owned.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::campaign::Kind;
use crate::ledger::ListValues;
use crate::plan::model::{KEY_TAG, Skip, SourceInfo, Summary};
pub(super) use crate::plan::settings::Settings;
use crate::render::Rendered;

/// A saved plan: the head, then every batch, the skipped rows and the counts.
///
/// `S` is the campaign's settings ([`Settings`]; in a version 1 plan, [`Unread`]) and `B` a
/// batch ([`Batch`]). The writer serialises the head alone (`batches`, `skipped` and
/// `summary` left `None`) and streams the rest after it; the reader refuses a document
/// without them.
///
/// How strict reading is: what apply places is read strictly. A batch, a call or a robocall
/// entry with a field this build does not know is refused (`deny_unknown_fields`): ignoring
/// it could place a call otherwise than the plan says. What is there for people (this head,
/// the campaign, the sources, the skipped rows, the summary) ignores fields it does not
/// know, so a plan that a later build annotated still reads. `settings` are named rows of
/// text ([`Settings`]), not the campaign's own types, so that reading them does not tie a
/// saved plan to the campaign format of the build that reads it; `plan --compare` shows
/// those that changed and apply refuses a plan whose settings are not the campaign's.
/// Conversation entries are flat (any key but `phone_number` is a variable), so only their
/// types are checked.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "S: Deserialize<'de>, B: Deserialize<'de>"))]
pub(super) struct PlanDocument<'a, S, B> {
    /// Always [`crate::plan::PLAN_FORMAT`].
    pub(super) format: Cow<'a, str>,
    /// [`crate::plan::PLAN_VERSION`] when written; read back only if it is.
    pub(super) version: u32,
    #[serde(deserialize_with = "timestamp")]
    pub(super) created_at: Timestamp,
    /// `outreach <version>`.
    pub(super) tool: Cow<'a, str>,
    /// The plan's date in the campaign's time zone (`today` of its `where:` filters), so
    /// that apply verifies a saved plan on the date it was made; absent in plans made before
    /// it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) today: Option<jiff::civil::Date>,
    pub(super) campaign: PlanCampaign<'a>,
    /// Patient sources, then opt-out lists; a call's `source` is an index into them.
    pub(super) sources: Cow<'a, [SourceInfo]>,
    pub(super) settings: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) batches: Option<Vec<B>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) skipped: Option<Vec<Skip>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) summary: Option<Summary>,
}

/// The campaign a plan was made from, as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCampaign<'a> {
    pub name: Cow<'a, str>,
    pub description: Cow<'a, str>,
    pub kind: Kind,
    /// The campaign's `workflow_id`; absent when it declares its workflow (`settings` hold it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<Cow<'a, str>>,
    pub round: Option<Cow<'a, str>>,
    /// The campaign file, as given to `plan`.
    pub file: Cow<'a, str>,
    /// `sha256:<hex>` of the campaign file.
    pub sha256: Cow<'a, str>,
}

/// `settings` as a version 1 plan wrote them (the campaign's sections as they were): not
/// read back, since they are not comparable with what a later build records.
pub(super) type Unread = IgnoredAny;

/// A batch of calls, all placed in one time zone.
#[derive(Debug, Serialize, Deserialize)]
#[serde(expecting = "a batch", deny_unknown_fields)]
pub(super) struct Batch<'a, C> {
    pub(super) index: u64,
    /// The IANA time zone of its calls.
    pub(super) timezone: Cow<'a, str>,
    /// The language of its calls (a key of the campaign's `languages:`), which picks the
    /// voice and the workflow they are sent with; absent in a campaign of one language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) language: Option<Cow<'a, str>>,
    /// Written as a streamed sequence, read as a `Vec` of [`SavedCall`]s.
    pub(super) calls: C,
}

/// One call: its idempotency key, the row it comes from, and the request entry it sends
/// (written by [`crate::plan::entry`]'s rules, read as [`RobocallEntry`] or
/// [`ConversationEntry`] by the campaign's kind).
#[derive(Debug, Serialize, Deserialize)]
#[serde(expecting = "a call", deny_unknown_fields)]
pub(super) struct SavedCall<'a, E> {
    pub(super) key: Cow<'a, str>,
    /// Index into the plan's `sources`: a patient source.
    pub(super) source: usize,
    pub(super) row: u64,
    pub(super) entry: E,
    /// The row's values of the campaign's `list_columns`, in their order: what apply keeps in
    /// the ledger, never sent. Absent without list columns (and in plans made before them).
    #[serde(default, skip_serializing_if = "no_list_values")]
    pub(super) list_values: Cow<'a, ListValues>,
}

/// Whether a call has no list values to write.
#[expect(
    clippy::ptr_arg,
    reason = "serde's `skip_serializing_if` passes the field itself"
)]
fn no_list_values(values: &Cow<'_, ListValues>) -> bool {
    values.is_empty()
}

/// A request entry as read back, taken apart into what a [`crate::plan::Call`] holds.
pub(super) trait SavedEntry {
    /// The number, the rendered values, and the key the entry carries (a robocall's tag).
    fn into_parts(self) -> (String, Rendered, Option<String>);
}

/// A robocall's entry: the wire's `RobocallParam`, its tags required since they carry the
/// idempotency key.
#[derive(Debug, Deserialize)]
#[serde(expecting = "a robocall entry", deny_unknown_fields)]
pub(super) struct RobocallEntry {
    phone_number: String,
    workflow_variables: BTreeMap<String, String>,
    user_tag_identifiers: KeyedTags,
}

/// A robocall's tags: the campaign's, and the idempotency key under [`KEY_TAG`].
#[derive(Debug)]
struct KeyedTags {
    key: String,
    tags: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for KeyedTags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (key, tags) = taken_out(d, KEY_TAG)?;
        Ok(KeyedTags { key, tags })
    }
}

/// A map of strings with one member it must have taken out: that member, and the rest.
fn taken_out<'de, D: Deserializer<'de>>(
    d: D,
    name: &'static str,
) -> Result<(String, BTreeMap<String, String>), D::Error> {
    let mut map = BTreeMap::<String, String>::deserialize(d)?;
    let value = map
        .remove(name)
        .ok_or_else(|| de::Error::missing_field(name))?;
    Ok((value, map))
}

impl SavedEntry for RobocallEntry {
    fn into_parts(self) -> (String, Rendered, Option<String>) {
        let rendered = Rendered {
            variables: self.workflow_variables,
            tags: self.user_tag_identifiers.tags,
        };
        (
            self.phone_number,
            rendered,
            Some(self.user_tag_identifiers.key),
        )
    }
}

/// A conversation's entry: the wire's `ConversationParam` as the plan writes it, the number
/// and the variables side by side, no tags.
#[derive(Debug)]
pub(super) struct ConversationEntry {
    phone_number: String,
    variables: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for ConversationEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (phone_number, variables) = taken_out(d, "phone_number")?;
        Ok(ConversationEntry {
            phone_number,
            variables,
        })
    }
}

impl SavedEntry for ConversationEntry {
    fn into_parts(self) -> (String, Rendered, Option<String>) {
        let rendered = Rendered {
            variables: self.variables,
            tags: BTreeMap::new(),
        };
        (self.phone_number, rendered, None)
    }
}

/// `created_at`, refused without quoting it (the parser's message would).
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    text.parse()
        .map_err(|_| de::Error::custom("not an RFC 3339 timestamp"))
}
