//! What a plan is made of: calls, skips, the header and the summary, and the [`Sink`] that
//! receives them as they are planned.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::campaign::Campaign;
use crate::ledger::ListValues;
use crate::patients::source::SourceError;
use crate::plan::skip::SkipReason;
use crate::render::Rendered;

/// The `format` of a saved plan document.
pub const PLAN_FORMAT: &str = "outreach-plan";
/// The version of the saved plan document. Version 2 records the campaign's [`settings`]
/// (`crate::plan::settings`) as named rows of text; version 1 plans are still read by
/// `plan --compare` (with a note that their settings were not recorded), never applied.
///
/// [`settings`]: crate::plan::settings::Settings
pub const PLAN_VERSION: u32 = 2;
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
    #[error(
        "opt-out list {label}: {message}; nothing is planned while an opt-out list holds entries that are not numbers (fix those rows, check `phone_column`, or accept them with `allow_invalid`)"
    )]
    ExclusionInvalid { label: String, message: String },
    #[error("patient source {label}: {source}")]
    Source { label: String, source: SourceError },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{0}")]
    Template(String),
    #[error("`{at}`: {message}")]
    Filter { at: String, message: String },
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
    /// The row's values of the campaign's `list_columns`, in their order: kept in the
    /// ledger with the call, never sent.
    pub list_values: ListValues,
    /// The language of the campaign's `languages:` this patient is called in (their row's
    /// `language:` column, mapped), which picks the voice and the message; `None` in a
    /// campaign of one language.
    pub language: Option<String>,
}

/// A row that is not called, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// What a source of the plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceRole {
    /// Patients to call: calls point at these.
    Patients,
    /// An opt-out list.
    Exclude,
}

/// A source as recorded in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub role: SourceRole,
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
    /// The plan's date, `today` of the campaign's `where:` filters and of its dates: the
    /// clock's date in the campaign's time zone, or the date a saved plan recorded when apply
    /// makes it again to verify it.
    #[serde(skip)]
    pub today: jiff::civil::Date,
    /// What patients hear from the campaign's workflow, when `plan` fetched it from a target
    /// (`None` offline): recorded among the plan's settings, so that `--compare` shows a
    /// message changed on the service. See [`crate::plan::workflow_check::Fetched`].
    #[serde(skip)]
    pub workflow: Option<FetchedWords>,
}

/// The words of a fetched workflow: its message and the reply options it reads out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedWords {
    pub message: String,
    pub response_options: BTreeMap<String, String>,
}

/// Counts over the whole plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Patient rows read.
    pub rows: u64,
    pub calls: u64,
    pub batches: u64,
    pub skipped: u64,
    /// Skipped rows per reason code.
    #[serde(deserialize_with = "crate::plan::skip::counts_by_code")]
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
    /// A row a `where:` filter leaves out (`filtered-out`). The summary counts them always;
    /// they reach a sink one by one only when it asks ([`Sink::wants_filtered`]: a list of
    /// every skipped row), so a plan that lists none pays nothing for them.
    fn filtered(&mut self, _skip: &Skip) -> io::Result<()> {
        Ok(())
    }
    /// Whether [`Sink::filtered`] wants each filtered row. Asked once, before the rows.
    fn wants_filtered(&self) -> bool {
        false
    }
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
    // Regular files only: the digest of `/dev/zero` or a FIFO never ends.
    let mut file = crate::load::input_file::open(path)?;
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
