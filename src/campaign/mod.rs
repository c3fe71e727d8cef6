//! The campaign file format, version 1: the typed form of a campaign YAML file.
//!
//! These types are the single source of truth for the format: `schemas/campaign.schema.json`
//! is generated from them (see [`crate::campaign::schema`]), and the validator deserialises into them
//! after the schema has passed. Doc comments become the schema's descriptions, so they are
//! written for the programme manager who reads them in an editor tooltip.

pub mod dates;
pub mod language_names;
pub mod languages;
pub mod schema;
pub mod values;
pub mod windows;
pub mod workflow;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use values::{Clock, End, Length, Start, Written};

/// The accents the voicebot offers for robocalls (exact spelling, `estako` included), as
/// the wire contract defines them.
pub const ROBOCALL_ACCENTS: [&str; 45] = voicebot_api::wire::ROBOCALL_ACCENTS;

/// The accents the voicebot offers for conversation calls.
pub const CONVERSATION_ACCENTS: [&str; 2] = voicebot_api::wire::CONVERSATION_ACCENTS;

/// The provider's documented request limit for conversation calls, per second.
pub const PROVIDER_REQUESTS_PER_SECOND: f64 = 5.0;

/// The most `workflow_params` entries one request may carry.
pub const MAX_BATCH_SIZE: u32 = 100;

/// A campaign: who to call, with which workflow and voice, when, and how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "outreach campaign",
    description = "A patient voice-call campaign for outreach (format version 1). See the README for every field."
)]
pub struct Campaign {
    /// The version of this file format. Always `1`.
    #[schemars(extend("const" = 1), example = 1)]
    pub version: u32,

    /// A stable identity for the campaign: lower-case letters, digits and dashes. The ledger
    /// remembers who was called under this name, so do not rename a campaign that has run.
    #[schemars(
        regex(pattern = r"^[a-z0-9][a-z0-9-]*$"),
        length(min = 1, max = 64),
        example = &"measles-reminder-lagos"
    )]
    pub name: String,

    /// What the campaign is for, in a sentence a reviewer understands.
    #[serde(default)]
    #[schemars(example = &"Second-dose measles reminders for children registered in Lagos clinics")]
    pub description: String,

    /// The kind of call: `robocall` (a recorded message, the default) or `conversation`.
    #[serde(default)]
    pub kind: Kind,

    /// The voicebot workflow to run, as shown in the Intron dashboard, when its message is
    /// written on the service. Give either this or `workflow`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1), example = &"9b643eb4-0799-4761-bd34-9580eb315aaf")]
    pub workflow_id: Option<String>,

    /// The workflow written here, its message reviewed with the file: `apply` creates it on
    /// the service (and a new one whenever it changes) and calls with it. Give either this or
    /// `workflow_id`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "workflow::DeclaredWorkflow")]
    pub workflow: Option<workflow::DeclaredWorkflow>,

    /// The voice that reads the message. Defaults to a female `pidgin` voice.
    #[serde(default)]
    pub voice: Voice,

    /// Which column says each patient's language, and how its values map to the languages
    /// of `languages:`: `{column: language, values: {Hausa: ha, Yoruba: yo}, default: en}`.
    /// Give it with `languages:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<languages::LanguageColumn>,

    /// Each language's voice and message, keyed by language tag (`ha`, `yo`, `en`): a patient
    /// is called in their language, read by `language:`. With it, the campaign gives no
    /// `voice`, `workflow` or `workflow_id` of its own. The `date` and `number` helpers write
    /// month, day and number names in the patient's language.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub languages: BTreeMap<String, languages::Language>,

    /// A label for one pass of a recurring campaign, such as a month. Each patient is called
    /// at most once per round; a new round calls everyone again. It may be a template over
    /// the row's columns, `visit-{{date next_visit '%Y-%m-%d'}}`: each row then has its own
    /// round, so a campaign run every day reminds each patient once per visit.
    #[serde(default)]
    #[schemars(
        regex(pattern = r"^(?:[A-Za-z0-9._-]|\{\{[^{}]{1,160}\}\})+$"),
        length(max = 200),
        example = &"2026-12"
    )]
    pub round: Option<String>,

    /// Which rows of every patient source are called, as a condition over their columns,
    /// such as `next_visit between today and today + 3d` (`today` is the plan's date in the
    /// campaign's time zone). A source's own `where` applies too. The other rows are left
    /// out as `filtered-out`. See the README for the language.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000), example = &"status == \"active\" and age >= 18")]
    pub filter: Option<String>,

    /// Where the patients come from: one or more files or inline lists.
    #[schemars(length(min = 1))]
    pub patients: Vec<PatientSource>,

    /// The values the message needs, one template per placeholder. `{{first_name}}` inserts a
    /// column; helpers such as `{{title first_name}}` reshape it.
    #[serde(default)]
    #[schemars(example = example_variables())]
    pub variables: BTreeMap<String, String>,

    /// Values to use when a patient's column is empty or missing, by column name. Without a
    /// default, a patient whose template needs an empty column is skipped, never called with a
    /// blank.
    #[serde(default)]
    #[schemars(example = example_defaults())]
    pub defaults: BTreeMap<String, String>,

    /// Variables or tags that may render empty. Any other that renders empty (or only
    /// blanks) on a row skips that row, naming the variable: a call never carries a blank
    /// where the message expects words. List a variable here only if the message reads well
    /// without it, such as an optional `note`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = &["note"])]
    pub allow_empty: Vec<String>,

    /// Labels sent with each robocall (`user_tag_identifiers`), as templates. Useful to find a
    /// call again in the provider's dashboard. Not sent with conversation calls.
    #[serde(default)]
    #[schemars(example = example_tags())]
    pub tags: BTreeMap<String, String>,

    /// Columns of the patient sources kept with each call in the ledger, in this order, for
    /// `report --list` and `report --by`: `[clinic, ward]`. Each must be a column of every
    /// source with a header; at most 20, no duplicates, not a source's phone column (the
    /// number is listed on its own, masked). `purge` removes them with the other patient data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), example = &["clinic", "ward"])]
    pub list_columns: Vec<String>,

    /// Opt-out lists: anyone whose number appears here is never called.
    #[serde(default)]
    pub exclude: Vec<ExclusionSource>,

    /// How to recognise the same patient twice: `phone` (the normalised phone number, the
    /// default) or the name of a column such as `patient_id`. The first row that can be called wins.
    #[serde(default = "default_dedupe")]
    #[schemars(length(min = 1), example = &"phone")]
    pub dedupe: String,

    /// When calls may be placed.
    pub schedule: Schedule,

    /// How fast and in what batches calls are placed, and what happens when they fail.
    #[serde(default)]
    pub delivery: Delivery,

    /// Reply options (keys of the workflow's `response_options`, such as `"3"`) that mean
    /// "do not call me again": a patient who gives one is added to an opt-out list the ledger
    /// keeps, which plan and apply check like the campaign's own lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 64)), example = &["3"])]
    pub opt_out_replies: Vec<String>,

    /// How the dates in patient files are read: `{order: dmy, two_digit_years: 2000}`.
    /// Without it, a date that could be read two ways is refused for its row.
    #[serde(default)]
    pub dates: dates::Dates,
}

impl Campaign {
    /// The `round`, when it is a template rendered per row (`visit-{{next_visit}}`).
    pub fn round_template(&self) -> Option<&str> {
        self.round.as_deref().filter(|r| r.contains("{{"))
    }
}

fn example_variables() -> serde_json::Value {
    serde_json::json!({"name": "{{title first_name}}", "date": "{{date appointment 'd MMMM'}}"})
}

fn example_defaults() -> serde_json::Value {
    serde_json::json!({"clinic": "your health centre"})
}

fn example_tags() -> serde_json::Value {
    serde_json::json!({"patient_id": "{{patient_id}}"})
}

fn default_dedupe() -> String {
    "phone".to_owned()
}

/// The kind of call a campaign places.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A recorded message read to the patient, with an optional keypad reply.
    #[default]
    Robocall,
    /// A two-way conversation with the voicebot.
    Conversation,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Robocall => "robocall",
            Kind::Conversation => "conversation",
        }
    }

    /// The accents this kind of call accepts.
    pub fn accents(self) -> &'static [&'static str] {
        match self {
            Kind::Robocall => &ROBOCALL_ACCENTS,
            Kind::Conversation => &CONVERSATION_ACCENTS,
        }
    }
}

/// The voice that reads the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Voice {
    /// The accent the message is read in, not its language (the words are the workflow's
    /// message): one of the 45 robocall accents (such as `yoruba`, `hausa`, `igbo`, `pidgin`),
    /// or `pidgin`/`english` for conversation calls.
    #[serde(default = "default_accent")]
    #[schemars(extend("enum" = all_accents()), example = &"yoruba")]
    pub accent: String,
    /// `female` (the default) or `male`.
    #[serde(default)]
    pub gender: Gender,
}

fn all_accents() -> Vec<&'static str> {
    let mut all: Vec<&str> = ROBOCALL_ACCENTS.to_vec();
    all.push("english");
    all
}

fn default_accent() -> String {
    "pidgin".to_owned()
}

impl Default for Voice {
    fn default() -> Self {
        Voice {
            accent: default_accent(),
            gender: Gender::default(),
        }
    }
}

/// The gender of the voice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    #[default]
    Female,
    Male,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }
}

/// The formats a patient or exclusion file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Comma-separated (or another `delimiter`) text with a header row.
    Csv,
    /// An Excel workbook; the first row of the sheet is the header.
    Xlsx,
    /// An OpenDocument spreadsheet; the first row of the sheet is the header.
    Ods,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
            FileFormat::Ods => "ods",
            FileFormat::Json => "json",
            FileFormat::Ndjson => "ndjson",
        }
    }

    /// The format a file name's extension implies, if any.
    pub fn from_path(path: &str) -> Option<FileFormat> {
        let ext = std::path::Path::new(path)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" => Some(FileFormat::Csv),
            "xlsx" | "xlsm" => Some(FileFormat::Xlsx),
            "ods" => Some(FileFormat::Ods),
            "json" => Some(FileFormat::Json),
            "ndjson" | "jsonl" => Some(FileFormat::Ndjson),
            _ => None,
        }
    }
}

/// One inline record: column name to value.
pub type Record = BTreeMap<String, serde_json::Value>;

/// A list of patients: a file beside the campaign, or records written inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientSource {
    /// A patient file, relative to the campaign file. Give either `file` or `inline`.
    #[serde(default)]
    #[schemars(length(min = 1), example = &"patients/lagos-measles.csv")]
    pub file: Option<String>,

    /// The file's format. Normally worked out from the file name (`.csv`, `.xlsx`, `.ods`,
    /// `.json`, `.ndjson`).
    #[serde(default)]
    pub format: Option<FileFormat>,

    /// For spreadsheets: the sheet to read. Defaults to the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,

    /// For CSV files: the character between columns. Defaults to a comma.
    #[serde(default)]
    #[schemars(length(min = 1, max = 1), example = &";")]
    pub delimiter: Option<String>,

    /// The row the column names are on: the line of a CSV file or the row number a
    /// spreadsheet shows, from 1 (the default). Blank rows at it are passed over. Rows above
    /// it (a register's title, the clinic's name) are not read.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1_048_576), example = 3)]
    pub header_row: Option<u32>,

    /// How many rows right below the header are not patients (a line of units or notes);
    /// blank rows are not counted. Default 0.
    #[serde(default)]
    #[schemars(range(max = 1000), example = 1)]
    pub skip_rows: Option<u32>,

    /// For CSV files: the text encoding, when the file is not UTF-8 (`windows-1252`,
    /// `iso-8859-1`, `utf-16le`…, any WHATWG label). Left out, UTF-8 is read (with or
    /// without a byte-order mark) and UTF-16 with a byte-order mark; any other file is
    /// refused, never guessed.
    #[serde(default)]
    #[schemars(length(min = 1, max = 40), example = &"windows-1252")]
    pub encoding: Option<String>,

    /// Patients written in the campaign file itself, one record per patient. Quote phone
    /// numbers: `phone: "+2348031234567"`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<BTreeMap<String, InlineValue>>>")]
    pub inline: Option<Vec<Record>>,

    /// The column holding the phone number. Defaults to `phone`.
    #[serde(default = "default_phone_column")]
    #[schemars(length(min = 1), example = &"phone")]
    pub phone_column: String,

    /// The country for numbers written without a country code, as a two-letter code
    /// (`NG` for Nigeria): `08031234567` becomes `+2348031234567`.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"), example = &"NG")]
    pub default_country: Option<String>,

    /// For spreadsheets: how to read a phone cell stored as a number, whose leading `0` or
    /// `+` the spreadsheet dropped. `national`: the number without its leading 0, put back
    /// by `default_country`'s rules (`8031234567` → `08031234567`); `international`: the
    /// whole number with its country code (`2348031234567` → `+2348031234567`). Left out,
    /// such rows are skipped: the tool never guesses which it is.
    #[serde(default)]
    pub numbers_as: Option<NumbersAs>,

    /// Only call numbers from these countries (two-letter codes). Empty means any country.
    #[serde(default)]
    #[schemars(example = vec!["NG"])]
    pub allowed_countries: Vec<CountryCode>,

    /// The time zone of these patients, if it differs from the campaign's (IANA name).
    #[serde(default)]
    #[schemars(example = &"Africa/Accra")]
    pub timezone: Option<String>,

    /// Which rows of this source are called, as a condition over its columns, such as
    /// `next_visit between today and today + 3d`; the campaign's `where` applies too.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000), example = &"clinic == \"Gwale PHC\"")]
    pub filter: Option<String>,
}

/// An opt-out list: numbers that must never be called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSource {
    /// An opt-out file, relative to the campaign file. Give either `file` or `inline`.
    /// If the file is missing or unreadable, nothing is called.
    #[serde(default)]
    #[schemars(length(min = 1), example = &"opt-outs.csv")]
    pub file: Option<String>,

    /// The file's format. Normally worked out from the file name.
    #[serde(default)]
    pub format: Option<FileFormat>,

    /// For spreadsheets: the sheet to read. Defaults to the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,

    /// For CSV files: the character between columns. Defaults to a comma.
    #[serde(default)]
    #[schemars(length(min = 1, max = 1))]
    pub delimiter: Option<String>,

    /// The row the column names are on: the line of a CSV file or the row number a
    /// spreadsheet shows, from 1 (the default). Blank rows at it are passed over. Rows above
    /// it (a register's title, the clinic's name) are not read.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1_048_576), example = 3)]
    pub header_row: Option<u32>,

    /// How many rows right below the header are not patients (a line of units or notes);
    /// blank rows are not counted. Default 0.
    #[serde(default)]
    #[schemars(range(max = 1000), example = 1)]
    pub skip_rows: Option<u32>,

    /// For CSV files: the text encoding, when the file is not UTF-8 (`windows-1252`,
    /// `iso-8859-1`, `utf-16le`…, any WHATWG label). Left out, UTF-8 is read (with or
    /// without a byte-order mark) and UTF-16 with a byte-order mark; any other file is
    /// refused, never guessed.
    #[serde(default)]
    #[schemars(length(min = 1, max = 40), example = &"windows-1252")]
    pub encoding: Option<String>,

    /// Numbers written in the campaign file itself, one record each.
    #[serde(default)]
    #[schemars(with = "Option<Vec<BTreeMap<String, InlineValue>>>")]
    pub inline: Option<Vec<Record>>,

    /// The column holding the phone number. Defaults to `phone`.
    #[serde(default = "default_phone_column")]
    #[schemars(length(min = 1))]
    pub phone_column: String,

    /// The country for numbers written without a country code (two-letter code).
    #[serde(default)]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"), example = &"NG")]
    pub default_country: Option<String>,

    /// How many entries of this list may be unreadable as phone numbers. Default 0: one
    /// entry that is not a number stops every call (each is listed with its row), since a
    /// list read on the wrong column lets everyone through.
    #[serde(default)]
    #[schemars(range(max = 100_000), example = 0)]
    pub allow_invalid: u32,
}

/// A two-letter country code such as `NG`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct CountryCode(#[schemars(regex(pattern = r"^[A-Z]{2}$"))] pub String);

/// A value in an inline record: text, a number or a yes/no.
#[derive(JsonSchema)]
#[serde(untagged)]
#[expect(dead_code, reason = "only describes the schema of inline values")]
enum InlineValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

fn default_phone_column() -> String {
    "phone".to_owned()
}

/// What a source has in common, whether it lists patients or opt-outs.
pub trait Source {
    fn file(&self) -> Option<&str>;
    fn format(&self) -> Option<FileFormat>;
    fn sheet(&self) -> Option<&str>;
    fn delimiter(&self) -> Option<&str>;
    fn inline(&self) -> Option<&[Record]>;
    fn phone_column(&self) -> &str;
    fn default_country(&self) -> Option<&str>;
    /// The row the header is on, from 1.
    fn header_row(&self) -> u32;
    /// How many non-blank rows below the header are not data.
    fn skip_rows(&self) -> u32;
    /// The encoding a CSV file is read in, as written (a WHATWG label).
    fn encoding(&self) -> Option<&str>;
    /// How a spreadsheet's numeric phone cells are read; `None`: they are not.
    fn numbers_as(&self) -> Option<NumbersAs>;

    /// The format given, or the one the file name implies.
    fn resolved_format(&self) -> Option<FileFormat> {
        self.format()
            .or_else(|| self.file().and_then(FileFormat::from_path))
    }
}

macro_rules! impl_source {
    ($t:ty, $numbers_as:path) => {
        impl Source for $t {
            fn file(&self) -> Option<&str> {
                self.file.as_deref()
            }
            fn format(&self) -> Option<FileFormat> {
                self.format
            }
            fn sheet(&self) -> Option<&str> {
                self.sheet.as_deref()
            }
            fn delimiter(&self) -> Option<&str> {
                self.delimiter.as_deref()
            }
            fn inline(&self) -> Option<&[Record]> {
                self.inline.as_deref()
            }
            fn phone_column(&self) -> &str {
                &self.phone_column
            }
            fn default_country(&self) -> Option<&str> {
                self.default_country.as_deref()
            }
            fn header_row(&self) -> u32 {
                self.header_row.unwrap_or(1).max(1)
            }
            fn skip_rows(&self) -> u32 {
                self.skip_rows.unwrap_or(0)
            }
            fn encoding(&self) -> Option<&str> {
                self.encoding.as_deref()
            }
            fn numbers_as(&self) -> Option<NumbersAs> {
                $numbers_as(self)
            }
        }
    };
}
impl_source!(PatientSource, patient_numbers_as);
impl_source!(ExclusionSource, opt_out_numbers_as);

fn patient_numbers_as(s: &PatientSource) -> Option<NumbersAs> {
    s.numbers_as
}

/// Opt-out lists read numeric cells as their text with `default_country`, as before: a
/// number wrongly taken as opted out is a call not made, never a call to the wrong person.
fn opt_out_numbers_as(_: &ExclusionSource) -> Option<NumbersAs> {
    None
}

/// How a spreadsheet's phone cells stored as numbers are read (their leading `0` or `+` is
/// lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumbersAs {
    /// The digits are a national number whose leading 0 (the trunk prefix) was dropped;
    /// `default_country` says which country's rules put it back.
    National,
    /// The digits are the whole number, country code first, whose `+` was dropped.
    International,
}

impl NumbersAs {
    pub fn as_str(self) -> &'static str {
        match self {
            NumbersAs::National => "national",
            NumbersAs::International => "international",
        }
    }
}

/// When calls may be placed, in the campaign's time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The campaign's time zone, as an IANA name such as `Africa/Lagos`.
    #[schemars(length(min = 1), example = &"Africa/Lagos")]
    pub timezone: String,

    /// The calling windows: calls are only placed inside one of them.
    #[schemars(length(min = 1))]
    pub windows: Vec<Window>,

    /// No call before this date (`2026-12-01`) or local date and time (`2026-12-01T09:00`).
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"2026-12-01")]
    pub not_before: Option<Written<Start>>,

    /// No call after this date (the whole day counts) or local date and time.
    #[serde(default)]
    #[schemars(with = "Option<String>", example = &"2026-12-31")]
    pub not_after: Option<Written<End>>,
}

/// A calling window: some days of the week, between two local times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The days this window applies to: `monday` … `sunday`, or `weekdays`, `weekends`,
    /// `every_day`.
    #[schemars(length(min = 1), example = vec![Day::Weekdays])]
    pub days: Vec<Day>,
    /// The local time the window opens, as `HH:MM` (24-hour clock). Quote it: `"09:00"`.
    #[schemars(with = "String", regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"), example = &"09:00")]
    pub from: Written<Clock>,
    /// The local time the window closes, as `HH:MM` (24-hour clock), after `from`.
    #[schemars(with = "String", regex(pattern = r"^([01][0-9]|2[0-4]):[0-5][0-9]$"), example = &"17:00")]
    pub until: Written<Clock>,
}

/// A day, or a group of days, of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
    /// Monday to Friday.
    Weekdays,
    /// Saturday and Sunday.
    Weekends,
    /// Every day of the week.
    EveryDay,
}

/// How fast and in what batches calls are placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// Patients per request to the voicebot (1 to 100).
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 100), example = 50)]
    pub batch_size: u32,

    /// The most requests per second. The provider documents 5 per second for conversation
    /// calls.
    #[serde(default = "default_rps")]
    #[schemars(range(min = 0.01, max = 1000.0), example = 5)]
    pub requests_per_second: f64,

    /// The most requests waiting for an answer at once (1 to 64).
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 64), example = 2)]
    pub concurrency: u32,

    /// The most calls one run places. No limit when absent.
    #[serde(default)]
    #[schemars(range(min = 1), example = 5000)]
    pub max_calls: Option<u64>,

    /// Whether and when to call again after a failed or unanswered call.
    #[serde(default)]
    pub retry: Retry,

    /// What to do with calls whose fate is unknown after a crash or a lost answer: `hold`
    /// (report them and never call again, the default) or `resend`.
    #[serde(default)]
    pub in_doubt: InDoubt,

    /// At most this many calls to one number within a period, counting every campaign that
    /// shares the ledger. Checked right before each send.
    #[serde(default)]
    pub frequency_cap: Option<FrequencyCap>,

    /// How long to wait for an accepted call's outcome, such as `48h` (the default) or `3d`.
    /// A call whose outcome has not arrived by then is recorded as `outcome_unknown`: no
    /// longer pending, counted as not reached, and called again only if `retry.outcomes`
    /// lists `outcome_unknown`.
    #[serde(default = "default_outcome_deadline")]
    #[schemars(with = "String", example = &"48h")]
    pub outcome_deadline: Written<Length>,
}

/// A per-patient limit on calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// The most calls to one number within `per` (1 to 100).
    #[schemars(range(min = 1, max = 100), example = 2)]
    pub calls: u32,
    /// The period, such as `7d` or `24h`.
    #[schemars(with = "String", example = &"7d")]
    pub per: Written<Length>,
}

fn default_batch_size() -> u32 {
    50
}
fn default_rps() -> f64 {
    PROVIDER_REQUESTS_PER_SECOND
}
fn default_concurrency() -> u32 {
    2
}
fn default_outcome_deadline() -> Written<Length> {
    Written::known("48h")
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            batch_size: default_batch_size(),
            requests_per_second: default_rps(),
            concurrency: default_concurrency(),
            max_calls: None,
            retry: Retry::default(),
            in_doubt: InDoubt::default(),
            frequency_cap: None,
            outcome_deadline: default_outcome_deadline(),
        }
    }
}

/// The retry policy for calls that ended badly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// How many times a patient may be called in all, the first call included (1 means no
    /// retry, the default; at most 5).
    #[serde(default = "default_attempts")]
    #[schemars(range(min = 1, max = 5), example = 2)]
    pub attempts: u32,

    /// How long to wait before calling again, such as `30m`, `2h` or `1d`.
    #[serde(default = "default_retry_delay")]
    #[schemars(with = "String", example = &"2h")]
    pub delay: Written<Length>,

    /// Which outcomes are called again: `failed`, `no_answer` and/or `outcome_unknown` (a call
    /// whose outcome did not arrive within `outcome_deadline`; it may have been answered).
    #[serde(default = "default_retry_on")]
    pub outcomes: Vec<RetryOutcome>,
}

fn default_attempts() -> u32 {
    1
}
fn default_retry_delay() -> Written<Length> {
    Written::known("1h")
}
fn default_retry_on() -> Vec<RetryOutcome> {
    vec![RetryOutcome::Failed, RetryOutcome::NoAnswer]
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: default_attempts(),
            delay: default_retry_delay(),
            outcomes: default_retry_on(),
        }
    }
}

/// An outcome that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryOutcome {
    /// The call could not be completed.
    Failed,
    /// The patient did not pick up.
    NoAnswer,
    /// No outcome arrived within `delivery.outcome_deadline` (the call may have been
    /// answered: list it only if a second call is acceptable then).
    OutcomeUnknown,
}

/// What to do with calls in doubt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InDoubt {
    /// Report them and never call again without an operator's word.
    #[default]
    Hold,
    /// Call them again.
    Resend,
}
