//! The settings of a plan: everything in the campaign that decides who is called, with what
//! words, in which voice, when and how fast, as named rows of text. A saved plan records
//! them, `plan --compare` shows each one that changed (before and after), and apply refuses
//! a saved plan whose settings are not the campaign's.
//!
//! Every field of the campaign is taken apart here without `..`, so a field added to the
//! model does not compile until it is given a row or named below as deliberately left out.
//! Left out, and why:
//! - `version`: always 1; another version is another format, refused when read.
//! - `description`: words for reviewers; nobody hears them.
//! - `inline` records of patient and opt-out sources: patient data, compared call by call
//!   (and covered by the campaign file's digest); their count is a row.
//! - the contents of patient files: compared call by call, as the calls they make.
//!
//! Not from the campaign: the words of its workflow (`workflow.message`,
//! `workflow.response_options.N`), when `plan` fetched the workflow from a target (see
//! [`FETCHED`]). A reviewer sees a message changed on the service; a plan made offline has
//! no such rows, and a comparison with one shows them only when both plans fetched them.
//! Apply does not compare them: it sends the workflow's id, never its words.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::campaign::values::Written;
use crate::campaign::{
    Campaign, Day, Delivery, ExclusionSource, FileFormat, FrequencyCap, NumbersAs, PatientSource,
    Retry, RetryOutcome, Schedule, Voice, Window,
};
use crate::plan::model::{Header, SourceRole, Summary};

/// The settings of one plan, in the order a reviewer reads them: name → value as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings(pub Vec<(String, String)>);

/// One setting whose value differs between two plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    pub name: String,
    /// `None`: the setting did not exist in that plan (a window, a variable, a default).
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Settings {
    /// The settings of `campaign`, with the digests of its opt-out files from `header`.
    pub fn of(campaign: &Campaign, header: &Header) -> Settings {
        let mut rows = Rows(Vec::new());
        let Campaign {
            version: _,
            name,
            description: _,
            kind,
            workflow_id,
            workflow,
            voice,
            round,
            filter,
            patients,
            variables,
            defaults,
            tags,
            exclude,
            dedupe,
            schedule,
            delivery,
            dates,
            allow_empty,
            opt_out_replies,
            // Not compared: the columns kept in the ledger change nothing a patient hears or
            // who is called. A saved plan records each call's values (`list_values`), and
            // apply checks them against the row, so what is stored is the row's either way.
            list_columns: _,
            language,
            languages,
        } = campaign;
        rows.put("name", name);
        rows.put("kind", kind.as_str());
        if let Some(id) = workflow_id {
            rows.put("workflow_id", id);
        }
        if let Some(declared) = workflow {
            declared_rows(&mut rows, "", declared);
        } else if let Some(words) = &header.workflow {
            rows.put("workflow.message", &words.message);
            for (option, words) in &words.response_options {
                rows.put(&format!("workflow.response_options.{option}"), words);
            }
        }
        if languages.is_empty() {
            let Voice { accent, gender } = voice;
            rows.put("voice.accent", accent);
            rows.put("voice.gender", gender.as_str());
        }
        language_rows(&mut rows, language.as_ref(), languages);
        rows.put("round", round.as_deref().unwrap_or(NONE));
        // Who is called: rows the filters leave out are not.
        if let Some(filter) = filter {
            rows.put("where", filter);
        }
        for (i, p) in patients.iter().enumerate() {
            patient_rows(&mut rows, i, p);
        }
        for (k, v) in variables {
            rows.put(&format!("variables.{k}"), v);
        }
        for (k, v) in tags {
            rows.put(&format!("tags.{k}"), v);
        }
        for (k, v) in defaults {
            rows.put(&format!("defaults.{k}"), v);
        }
        for name in allow_empty {
            rows.put(&format!("allow_empty.{name}"), "may be empty");
        }
        let digests: Vec<Option<&str>> = header
            .sources
            .iter()
            .filter(|s| s.role == SourceRole::Exclude)
            .map(|s| s.sha256.as_deref())
            .collect();
        for (i, e) in exclude.iter().enumerate() {
            exclusion_rows(&mut rows, i, e, digests.get(i).copied().flatten());
        }
        rows.put("dedupe", dedupe);
        // Who is called next time: a reply listed here opts its patient out.
        if !opt_out_replies.is_empty() {
            rows.put("opt_out_replies", &opt_out_replies.join(", "));
        }
        let crate::campaign::dates::Dates {
            order,
            two_digit_years,
            columns,
        } = dates;
        rows.put("dates.order", order.map_or(NONE, |o| o.as_str()));
        rows.put(
            "dates.two_digit_years",
            &two_digit_years.map_or_else(|| NONE.to_owned(), |y| y.to_string()),
        );
        for (column, kind) in columns {
            let crate::campaign::dates::DateColumn::ExcelSerial = kind;
            rows.put(&format!("dates.columns.{column}"), "excel_serial");
        }
        schedule_rows(&mut rows, schedule);
        delivery_rows(&mut rows, delivery);
        Settings(rows.0)
    }

    /// What changed from `before` to `self`: in this plan's order, then the settings only
    /// `before` had. The opt-out counts of both plans are compared as settings too.
    pub fn changes_since(
        &self,
        before: &Settings,
        counts: (&Summary, &Summary),
    ) -> Vec<SettingChange> {
        let mut out = Vec::new();
        let find = |rows: &Settings, name: &str| {
            rows.0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        // The fetched words are compared only when both plans fetched them: in a plan made
        // offline they are unknown, not absent.
        let fetched = |rows: &Settings| rows.0.iter().any(|(n, _)| fetched_row(n));
        let both_fetched = fetched(self) && fetched(before);
        let compared = |name: &str| both_fetched || !fetched_row(name);
        for (name, value) in self.0.iter().filter(|(n, _)| compared(n)) {
            let old = find(before, name);
            if old.as_deref() != Some(value) {
                out.push(SettingChange {
                    name: name.clone(),
                    before: old,
                    after: Some(value.clone()),
                });
            }
        }
        for (name, value) in before.0.iter().filter(|(n, _)| compared(n)) {
            if find(self, name).is_none() {
                out.push(SettingChange {
                    name: name.clone(),
                    before: Some(value.clone()),
                    after: None,
                });
            }
        }
        let (b, a) = counts;
        for (name, old, new) in [
            ("opt-out numbers", b.opt_outs, a.opt_outs),
            (
                "opt-out entries that are not numbers",
                b.opt_outs_unusable,
                a.opt_outs_unusable,
            ),
        ] {
            if old != new {
                out.push(SettingChange {
                    name: name.to_owned(),
                    before: Some(old.to_string()),
                    after: Some(new.to_string()),
                });
            }
        }
        out
    }

    /// The first setting that differs between the two, if any: (name, recorded, now).
    pub fn first_difference<'a>(
        &'a self,
        now: &'a Settings,
    ) -> Option<(&'a str, Option<&'a str>, Option<&'a str>)> {
        let (this, now) = (self.campaign_rows(), now.campaign_rows());
        let len = this.len().max(now.len());
        (0..len).find_map(|i| {
            let (a, b) = (this.get(i).copied(), now.get(i).copied());
            if a == b {
                return None;
            }
            let name = a.or(b).map_or("", |(n, _)| n.as_str());
            let value_of = |rows: &[&'a (String, String)]| {
                rows.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            Some((name, value_of(&this), value_of(&now)))
        })
    }

    /// The rows that come from the campaign: all but the fetched words of its workflow. A
    /// declared workflow's words are the campaign's (its rows include `workflow.name`, which
    /// fetched words never have), so they are compared like any other.
    fn campaign_rows(&self) -> Vec<&(String, String)> {
        let declared = self.0.iter().any(|(n, _)| n == DECLARED);
        self.0
            .iter()
            .filter(|(n, _)| declared || !fetched_row(n))
            .collect()
    }
}

const NONE: &str = "none";

/// The settings that are the words of a workflow fetched from a target, not the campaign's.
pub const FETCHED: [&str; 2] = ["workflow.message", "workflow.response_options."];

/// The row only a declared workflow has.
const DECLARED: &str = "workflow.name";

/// The rows of a workflow declared in the campaign: everything that is pushed, the callback
/// URL as the file writes it (the receiver's token is never in it).
fn declared_rows(rows: &mut Rows, prefix: &str, w: &crate::campaign::workflow::DeclaredWorkflow) {
    let crate::campaign::workflow::DeclaredWorkflow {
        name,
        description,
        message,
        include_reply,
        response_options,
        call_back_url,
    } = w;
    rows.put(&format!("{prefix}{DECLARED}"), name);
    if let Some(d) = description {
        rows.put(&format!("{prefix}workflow.description"), d);
    }
    rows.put(&format!("{prefix}workflow.message"), message);
    rows.put(
        &format!("{prefix}workflow.include_reply"),
        if *include_reply { "yes" } else { "no" },
    );
    for (option, words) in response_options {
        rows.put(
            &format!("{prefix}workflow.response_options.{option}"),
            words,
        );
    }
    rows.opt(
        &format!("{prefix}workflow.call_back_url"),
        call_back_url
            .as_deref()
            .map(|u| crate::campaign::workflow::shown_url(u, None))
            .as_deref(),
    );
}

/// The rows of a campaign in several languages: how a patient's language is read, and each
/// language's voice, workflow and the language its names are written in.
fn language_rows(
    rows: &mut Rows,
    column: Option<&crate::campaign::languages::LanguageColumn>,
    languages: &std::collections::BTreeMap<String, crate::campaign::languages::Language>,
) {
    if let Some(crate::campaign::languages::LanguageColumn {
        column,
        values,
        default,
    }) = column
    {
        rows.put("language.column", column);
        for (written, language) in values {
            rows.put(&format!("language.values.{written}"), language);
        }
        rows.opt("language.default", default.as_deref());
    }
    for (key, l) in languages {
        let crate::campaign::languages::Language {
            voice: Voice { accent, gender },
            workflow_id,
            workflow,
            names,
        } = l;
        let prefix = format!("languages.{key}.");
        rows.put(&format!("{prefix}voice.accent"), accent);
        rows.put(&format!("{prefix}voice.gender"), gender.as_str());
        if let Some(id) = workflow_id {
            rows.put(&format!("{prefix}workflow_id"), id);
        }
        if let Some(declared) = workflow {
            declared_rows(rows, &prefix, declared);
        }
        if let Some(names) = names {
            rows.put(&format!("{prefix}names"), names);
        }
    }
}

/// Whether a setting is one of the [`FETCHED`] words.
fn fetched_row(name: &str) -> bool {
    name == FETCHED[0] || name.starts_with(FETCHED[1])
}

struct Rows(Vec<(String, String)>);

impl Rows {
    fn put(&mut self, name: &str, value: &str) {
        self.0.push((name.to_owned(), value.to_owned()));
    }
    fn opt(&mut self, name: &str, value: Option<&str>) {
        self.put(name, value.unwrap_or(NONE));
    }
}

fn patient_rows(rows: &mut Rows, i: usize, p: &PatientSource) {
    let PatientSource {
        file,
        format,
        sheet,
        delimiter,
        header_row,
        skip_rows,
        encoding,
        inline,
        phone_column,
        default_country,
        numbers_as,
        allowed_countries,
        timezone,
        filter,
    } = p;
    let at = format!("patients[{i}]");
    rows.put(&at, &source_name(file.as_deref(), inline.as_deref()));
    rows.opt(&format!("{at}.format"), format.map(FileFormat::as_str));
    rows.opt(&format!("{at}.sheet"), sheet.as_deref());
    rows.opt(&format!("{at}.delimiter"), delimiter.as_deref());
    layout_rows(rows, &at, *header_row, *skip_rows, encoding.as_deref());
    rows.put(&format!("{at}.phone_column"), phone_column);
    rows.opt(&format!("{at}.default_country"), default_country.as_deref());
    rows.opt(
        &format!("{at}.numbers_as"),
        numbers_as.map(NumbersAs::as_str),
    );
    let allowed: Vec<&str> = allowed_countries.iter().map(|c| c.0.as_str()).collect();
    rows.put(
        &format!("{at}.allowed_countries"),
        &if allowed.is_empty() {
            "any".to_owned()
        } else {
            allowed.join(", ")
        },
    );
    rows.opt(&format!("{at}.timezone"), timezone.as_deref());
    if let Some(filter) = filter {
        rows.put(&format!("{at}.where"), filter);
    }
}

fn exclusion_rows(rows: &mut Rows, i: usize, e: &ExclusionSource, digest: Option<&str>) {
    let ExclusionSource {
        file,
        format,
        sheet,
        delimiter,
        header_row,
        skip_rows,
        encoding,
        inline,
        phone_column,
        default_country,
        allow_invalid,
    } = e;
    let at = format!("exclude[{i}]");
    rows.put(&at, &source_name(file.as_deref(), inline.as_deref()));
    if file.is_some() {
        // The file's contents: a list edited in place changes who is left out.
        let short = digest.map(|d| d.chars().take(7 + 12).collect::<String>() + "…");
        rows.opt(&format!("{at}.contents"), short.as_deref());
    }
    rows.opt(&format!("{at}.format"), format.map(FileFormat::as_str));
    rows.opt(&format!("{at}.sheet"), sheet.as_deref());
    rows.opt(&format!("{at}.delimiter"), delimiter.as_deref());
    layout_rows(rows, &at, *header_row, *skip_rows, encoding.as_deref());
    rows.put(&format!("{at}.phone_column"), phone_column);
    rows.opt(&format!("{at}.default_country"), default_country.as_deref());
    rows.put(&format!("{at}.allow_invalid"), &allow_invalid.to_string());
}

/// Where a source's rows start and how its text is read: another row or encoding is other
/// patients or other words.
fn layout_rows(
    rows: &mut Rows,
    at: &str,
    header_row: Option<u32>,
    skip_rows: Option<u32>,
    encoding: Option<&str>,
) {
    rows.opt(
        &format!("{at}.header_row"),
        header_row.map(|r| r.to_string()).as_deref(),
    );
    rows.opt(
        &format!("{at}.skip_rows"),
        skip_rows.map(|r| r.to_string()).as_deref(),
    );
    rows.opt(&format!("{at}.encoding"), encoding);
}

fn source_name(file: Option<&str>, inline: Option<&[crate::campaign::Record]>) -> String {
    match (file, inline) {
        (Some(f), _) => f.to_owned(),
        (None, Some(records)) => format!("inline ({} records)", records.len()),
        (None, None) => NONE.to_owned(),
    }
}

fn schedule_rows(rows: &mut Rows, s: &Schedule) {
    let Schedule {
        timezone,
        windows,
        not_before,
        not_after,
    } = s;
    rows.put("schedule.timezone", timezone);
    for (i, w) in windows.iter().enumerate() {
        rows.put(&format!("schedule.windows[{i}]"), &window(w));
    }
    rows.opt(
        "schedule.not_before",
        not_before.as_ref().map(Written::text),
    );
    rows.opt("schedule.not_after", not_after.as_ref().map(Written::text));
}

/// `weekdays 09:00–17:00`.
pub fn window(w: &Window) -> String {
    let Window { days, from, until } = w;
    let days: Vec<&str> = days.iter().map(|d| day(*d)).collect();
    format!("{} {from}–{until}", days.join(", "))
}

fn day(d: Day) -> &'static str {
    match d {
        Day::Monday => "monday",
        Day::Tuesday => "tuesday",
        Day::Wednesday => "wednesday",
        Day::Thursday => "thursday",
        Day::Friday => "friday",
        Day::Saturday => "saturday",
        Day::Sunday => "sunday",
        Day::Weekdays => "weekdays",
        Day::Weekends => "weekends",
        Day::EveryDay => "every_day",
    }
}

fn delivery_rows(rows: &mut Rows, d: &Delivery) {
    let Delivery {
        batch_size,
        requests_per_second,
        concurrency,
        max_calls,
        retry,
        in_doubt,
        frequency_cap,
        outcome_deadline,
    } = d;
    rows.put("delivery.batch_size", &batch_size.to_string());
    rows.put(
        "delivery.requests_per_second",
        &requests_per_second.to_string(),
    );
    rows.put("delivery.concurrency", &concurrency.to_string());
    rows.put(
        "delivery.max_calls",
        &max_calls.map_or_else(|| "no limit".to_owned(), |m| m.to_string()),
    );
    let Retry {
        attempts,
        delay,
        outcomes,
    } = retry;
    rows.put("delivery.retry.attempts", &attempts.to_string());
    rows.put("delivery.retry.delay", delay.text());
    let outcomes: Vec<&str> = outcomes
        .iter()
        .map(|o| match o {
            RetryOutcome::Failed => "failed",
            RetryOutcome::NoAnswer => "no_answer",
            RetryOutcome::OutcomeUnknown => "outcome_unknown",
        })
        .collect();
    rows.put("delivery.retry.outcomes", &outcomes.join(", "));
    rows.put(
        "delivery.in_doubt",
        match in_doubt {
            crate::campaign::InDoubt::Hold => "hold",
            crate::campaign::InDoubt::Resend => "resend",
        },
    );
    let cap = frequency_cap
        .as_ref()
        .map(|FrequencyCap { calls, per }| format!("{calls} per {per}"));
    rows.opt("delivery.frequency_cap", cap.as_deref());
    rows.put("delivery.outcome_deadline", outcome_deadline.text());
}

impl Serialize for Settings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Settings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the plan's settings, names and values as text")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Settings, A::Error> {
                let mut rows = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if rows.iter().any(|(n, _): &(String, String)| *n == k) {
                        return Err(serde::de::Error::custom("a setting named twice"));
                    }
                    rows.push((k, v));
                }
                Ok(Settings(rows))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> (Campaign, Header) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("campaigns/measles-reminder.yaml");
        let campaign = crate::validate::check_file(&path).campaign.unwrap();
        let header = crate::plan::header(
            &campaign,
            &path,
            path.parent().unwrap(),
            jiff::civil::date(2026, 12, 1),
        )
        .unwrap();
        (campaign, header)
    }

    #[test]
    fn the_settings_name_what_decides_the_calls() {
        let (c, h) = example();
        let s = Settings::of(&c, &h);
        let get = |n: &str| {
            let row = s.0.iter().find(|(k, _)| k == n);
            row.unwrap_or_else(|| panic!("{n}")).1.as_str()
        };
        assert_eq!(get("voice.accent"), "yoruba");
        assert_eq!(get("schedule.windows[0]"), "weekdays 09:00–17:00");
        assert_eq!(get("delivery.max_calls"), "5000");
        assert_eq!(get("delivery.frequency_cap"), "none");
        assert!(get("exclude[0].contents").starts_with("sha256:"));
        assert!(!s.0.iter().any(|(k, _)| k == "description"));
    }

    #[test]
    fn changes_are_listed_in_order_with_both_sides() {
        let (c, h) = example();
        let before = Settings::of(&c, &h);
        let mut c2 = c.clone();
        c2.voice.accent = "hausa".into();
        c2.schedule.windows.pop();
        c2.defaults.insert("ward".into(), "your ward".into());
        let after = Settings::of(&c2, &h);
        let sum = Summary::default();
        let changes = after.changes_since(&before, (&sum, &sum));
        let names: Vec<_> = changes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["voice.accent", "defaults.ward", "schedule.windows[1]"]
        );
        assert_eq!(changes[2].after, None);
        assert!(after.changes_since(&after, (&sum, &sum)).is_empty());
        assert_eq!(
            after.first_difference(&before).map(|d| d.0),
            Some("voice.accent")
        );
        let text = serde_json::to_string(&after).unwrap();
        let back: Settings = serde_json::from_str(&text).unwrap();
        assert_eq!(back, after, "read back in order");
    }

    // Issue 15, case 5: the fetched words of the workflow are settings to compare, but not
    // the campaign's: apply's check of a saved plan (which fetches nothing) leaves them out.
    #[test]
    fn the_fetched_words_are_compared_but_are_not_the_campaigns() {
        let (campaign, header) = example();
        let offline = Settings::of(&campaign, &header);
        let fetched = |message: &str| {
            let mut h = header.clone();
            h.workflow = Some(crate::plan::model::FetchedWords {
                message: message.to_owned(),
                response_options: [("1".to_owned(), "I will come".to_owned())].into(),
            });
            Settings::of(&campaign, &h)
        };
        let (a, b) = (fetched("Hello [name]"), fetched("Hi [name]"));
        let counts = (&Summary::default(), &Summary::default());
        let names = |c: Vec<SettingChange>| c.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names(b.changes_since(&a, counts)), ["workflow.message"]);
        assert!(a.0.iter().any(|(n, _)| n == "workflow.response_options.1"));
        // Offline against fetched, either way: unknown words, no change.
        assert!(offline.changes_since(&a, counts).is_empty());
        assert!(a.changes_since(&offline, counts).is_empty());
        // The campaign's own settings are the same whatever was fetched.
        assert_eq!(a.first_difference(&offline), None);
        assert_eq!(a.first_difference(&b), None);
        let mut changed = campaign.clone();
        changed.voice.accent = "hausa".to_owned();
        assert_eq!(
            a.first_difference(&Settings::of(&changed, &header))
                .map(|d| d.0),
            Some("voice.accent")
        );
    }
}
