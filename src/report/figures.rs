//! What the ledger says of one campaign under one target: the figures, computed once
//! ([`Figures::compute`]) and written by every format, so that they always agree.

use std::collections::BTreeMap;
use std::io::{self};
use std::path::Path;

use jiff::{Timestamp, ZonedDateTime as Zoned};

use serde::Serialize;

use crate::campaign::Campaign;
use crate::ledger::{CallState, Ledger, LedgerError};
use crate::plan;

/// A campaign's outcomes under one target.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub campaign: String,
    /// What the campaign is for, as its file says (empty when it says nothing).
    pub description: String,
    pub round: String,
    pub target: String,
    /// The campaign's time zone: the timeline and the local times are in it.
    pub timezone: String,
    /// The first and last moments recorded.
    pub first: Option<String>,
    pub last: Option<String>,
    /// The same moments for people, in the campaign's time zone (`Tue 1 Dec 09:00 WAT`).
    pub first_local: Option<String>,
    pub last_local: Option<String>,
    /// What planning the campaign now gives (null when its sources cannot be read).
    pub plan: Option<Planned>,
    /// Why the campaign could not be planned, when it could not.
    pub plan_error: Option<String>,
    /// Patients with at least one attempt that may have reached them.
    pub patients_called: u64,
    /// Attempts (retries included) that may have reached a patient.
    pub attempts: u64,
    /// Patients by the outcome of their latest attempt (`answered`, `failed`, … at the top
    /// level of the document).
    #[serde(flatten)]
    pub latest: StateCounts,
    /// Replies per response option, over answered calls.
    pub replies: BTreeMap<String, u64>,
    /// Average duration of answered calls, in seconds.
    pub average_duration: Option<f64>,
    /// Answered among patients whose outcome is known or given up on (answered, failed,
    /// unanswered, no outcome in time: the last counted as not reached), in percent; calls
    /// completed without a per-call outcome are left out.
    pub success_rate: Option<f64>,
    /// Patients by the number of their latest attempt, and its outcome (the retry funnel).
    pub by_attempt: BTreeMap<u32, Breakdown>,
    /// Patients by the source they were read from (their latest attempt's outcome).
    pub by_source: BTreeMap<String, Breakdown>,
    /// Patients by the voice accent they were called with (one per campaign today).
    pub by_accent: BTreeMap<String, Breakdown>,
    /// Patients by a column of the campaign's `list_columns:`, as stored with their call at
    /// write-ahead (`report --by COLUMN`): one entry per column asked for, in that order;
    /// absent when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_column: Vec<ColumnBreakdown>,
    /// Patients by the language their latest call was placed in (the key of the campaign's
    /// `languages:`, as the ledger recorded it at write-ahead), each group with its success
    /// rate: the keys in order, then the calls recorded without one (`language` null). Their
    /// totals sum to the patients of the report. Absent when no call has a language.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_language: Vec<LanguageGroup>,
    /// Attempts over time, by when they were sent, in the campaign's time zone.
    pub timeline: Timeline,
    /// Patients still pending or in doubt (number masked unless asked).
    pub open: Vec<OpenCall>,
    /// Why this target is the one shown, for people (the table says it; other formats
    /// leave it to the log).
    #[serde(skip)]
    pub target_note: Option<String>,
}

/// What the plan of the campaign says, for the headline figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Planned {
    /// Patient rows read from the sources.
    pub rows: u64,
    /// Calls the plan holds (patients planned).
    pub calls: u64,
    /// Rows left out, in all and by reason code (`opted-out`, `duplicate`, …).
    pub skipped: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Rows left out because the number is on an opt-out list.
    pub opted_out: u64,
}

/// What a report counts a call as: the ledger's [`CallState`], with a call accepted or being
/// sent counted as `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportState {
    Answered,
    Failed,
    NoAnswer,
    /// No outcome arrived within the campaign's outcome deadline: counted as not reached.
    OutcomeUnknown,
    /// The batch completed and the service gave no per-call outcome: reached or not is
    /// not known.
    Completed,
    InDoubt,
    /// Accepted or being sent, outcome not known yet.
    Pending,
    Rejected,
    NotSent,
}

impl ReportState {
    /// The states in display order.
    pub const ALL: [ReportState; 9] = [
        ReportState::Answered,
        ReportState::Failed,
        ReportState::NoAnswer,
        ReportState::OutcomeUnknown,
        ReportState::Completed,
        ReportState::InDoubt,
        ReportState::Pending,
        ReportState::Rejected,
        ReportState::NotSent,
    ];

    /// The name used in every format: a field of the JSON, a CSV measure, a column.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Answered => "answered",
            ReportState::Failed => "failed",
            ReportState::NoAnswer => "no_answer",
            ReportState::OutcomeUnknown => "outcome_unknown",
            ReportState::Completed => "completed",
            ReportState::InDoubt => "in_doubt",
            ReportState::Pending => "pending",
            ReportState::Rejected => "rejected",
            ReportState::NotSent => "not_sent",
        }
    }

    /// Whether the table's breakdowns have a column for this state only when some call is in
    /// it: the two states of outcomes that never came are rare, and a column of zeros for
    /// each would only widen every table. The headline figures, JSON, CSV and the page
    /// always have them.
    pub fn said_only_when_seen(self) -> bool {
        matches!(self, ReportState::OutcomeUnknown | ReportState::Completed)
    }

    /// How a report counts a call in the ledger's state.
    pub fn of(state: CallState) -> ReportState {
        match state {
            CallState::Answered => ReportState::Answered,
            CallState::Failed => ReportState::Failed,
            CallState::NoAnswer => ReportState::NoAnswer,
            CallState::OutcomeUnknown => ReportState::OutcomeUnknown,
            CallState::Completed => ReportState::Completed,
            CallState::InDoubt => ReportState::InDoubt,
            CallState::Accepted | CallState::Sending => ReportState::Pending,
            CallState::Rejected => ReportState::Rejected,
            CallState::NotSent => ReportState::NotSent,
        }
    }
}

/// Counts by [`ReportState`] (indexed by its declaration order, which is the order of
/// [`ReportState::ALL`]), written as one field per state named by [`ReportState::as_str`]
/// (`{"answered": 5, "failed": 1, …}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts([u64; ReportState::ALL.len()]);

impl StateCounts {
    /// The count of a state.
    pub fn get(&self, state: ReportState) -> u64 {
        self.0[state as usize]
    }

    fn add(&mut self, state: CallState) {
        self.0[ReportState::of(state) as usize] += 1;
    }
}

impl Serialize for StateCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut fields = s.serialize_struct("StateCounts", ReportState::ALL.len())?;
        for state in ReportState::ALL {
            fields.serialize_field(state.as_str(), &self.get(state))?;
        }
        fields.end()
    }
}

/// Patients (by their latest attempt) or attempts, by state.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Breakdown {
    pub total: u64,
    /// `answered`, `failed`, … beside `total` in the document.
    #[serde(flatten)]
    pub states: StateCounts,
}

impl Breakdown {
    fn add(&mut self, state: CallState) {
        self.total += 1;
        self.states.add(state);
    }

    /// The count of a state.
    pub fn get(&self, state: ReportState) -> u64 {
        self.states.get(state)
    }
}

/// Patients by the value one `list_columns:` column has on their row.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ColumnBreakdown {
    pub column: String,
    /// One group per value, in the values' order, then the patients whose call has no value
    /// recorded (`value` null: purged, or placed before the column was listed). Their totals
    /// sum to the patients of the report.
    pub groups: Vec<ColumnGroup>,
}

/// The patients of one value of a column.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ColumnGroup {
    pub value: Option<String>,
    /// `total`, `answered`, … beside `value` in the document.
    #[serde(flatten)]
    pub calls: Breakdown,
}

impl ColumnGroup {
    /// Its value for people, on one line and inert (it comes from a patient file):
    /// `(empty)` for a blank cell, `(not recorded)` for none.
    pub fn label(&self) -> String {
        match self.value.as_deref() {
            None => "(not recorded)".to_owned(),
            Some("") => "(empty)".to_owned(),
            Some(v) => crate::load::diagnostic::inert(v).replace(['\n', '\t', '\r'], " "),
        }
    }
}

/// The patients whose latest call was placed in one language.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LanguageGroup {
    /// The key of the campaign's `languages:` (`ha`); null for calls recorded without one.
    pub language: Option<String>,
    /// `total`, `answered`, … beside `language` in the document.
    #[serde(flatten)]
    pub calls: Breakdown,
    /// Answered among the group's ended calls, in percent, as the report's `success_rate`;
    /// null when none has ended.
    pub success_rate: Option<f64>,
}

impl LanguageGroup {
    /// Its language for people: the key (a short tag the ledger checked), `(not recorded)`
    /// for none.
    pub fn label(&self) -> String {
        self.language
            .clone()
            .unwrap_or_else(|| "(not recorded)".to_owned())
    }
}

/// Attempts that may have reached a patient, bucketed by when they were sent.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Timeline {
    /// `hour` when the campaign spans less than two days, else `day`.
    pub bucket: String,
    /// Every bucket from the first attempt's to the last's, empty ones included.
    pub buckets: Vec<TimeBucket>,
}

/// One hour or day of the timeline.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TimeBucket {
    /// Its start, RFC 3339 with the campaign's offset: `2026-12-01T09:00:00+01:00`.
    pub start: String,
    /// Its start for people, in the one time format ([`crate::clock::human`]): `Tue 1 Dec
    /// 09:00 WAT` for an hour, `Tue 1 Dec` for a day (with the year when it is not this one).
    pub label: String,
    /// The attempts sent in it, by their state now.
    pub calls: Breakdown,
}

/// A call whose outcome is not final.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OpenCall {
    pub phone: Option<String>,
    #[serde(serialize_with = "crate::report::call_state::serialize")]
    pub state: CallState,
    pub attempt: u32,
    pub source: Option<String>,
    pub row: Option<u64>,
}

impl Figures {
    /// Computes the figures from the ledger, and plans the campaign (read from
    /// `campaign_path`) for the planned and skipped counts; `by` names the `list_columns:`
    /// to break the patients down by (checked by the caller).
    pub fn compute(
        ledger: &Ledger,
        target: &str,
        campaign: &Campaign,
        campaign_path: &Path,
        by: &[String],
    ) -> Result<Figures, LedgerError> {
        let round = campaign.round.clone().unwrap_or_default();
        let attempts = ledger.attempts(target, &campaign.name, &round, &[])?;
        let tz =
            jiff::tz::TimeZone::get(&campaign.schedule.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let mut f = Figures {
            campaign: campaign.name.clone(),
            description: campaign.description.clone(),
            round: round.clone(),
            target: target.to_owned(),
            timezone: campaign.schedule.timezone.clone(),
            ..Figures::default()
        };
        match plan::plan(campaign, campaign_path, &mut NoCalls) {
            Ok(summary) => {
                f.plan = Some(Planned {
                    rows: summary.rows,
                    calls: summary.calls,
                    skipped: summary.skipped,
                    opted_out: summary
                        .skipped_by_reason
                        .get("opted-out")
                        .copied()
                        .unwrap_or(0),
                    skipped_by_reason: summary
                        .skipped_by_reason
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), *v))
                        .collect(),
                });
            }
            Err(e) => f.plan_error = Some(e.to_string()),
        }
        let mut latest: BTreeMap<&str, &crate::ledger::Attempt> = BTreeMap::new();
        let mut durations = Vec::new();
        let mut sent_at = Vec::new();
        let (mut first, mut last) = (None::<Timestamp>, None::<Timestamp>);
        for a in &attempts {
            if a.state.may_have_called() {
                f.attempts += 1;
                sent_at.push((a.created_at, a.state));
            }
            first = Some(first.map_or(a.created_at, |t| t.min(a.created_at)));
            last = Some(last.map_or(a.updated_at, |t| t.max(a.updated_at)));
            if a.state == CallState::Answered {
                if let Some(d) = a.duration {
                    durations.push(d.as_secs_f64());
                }
                if let Some(r) = &a.reply {
                    *f.replies.entry(r.clone()).or_default() += 1;
                }
            }
            let e = latest.entry(a.key.as_str()).or_insert(a);
            if a.attempt > e.attempt {
                *e = a;
            }
        }
        let local = |t: Option<Timestamp>| t.map(|t| crate::clock::human(t, &tz));
        f.first = first.map(|t| t.to_string());
        f.last = last.map(|t| t.to_string());
        f.first_local = local(first);
        f.last_local = local(last);
        f.timeline = timeline(&sent_at, &tz, crate::clock::now());
        f.by_column = by_column(by, latest.values().copied());
        if attempts.iter().any(|a| a.language.is_some()) {
            f.by_language = by_language(latest.values().copied());
        }
        for a in latest.values() {
            if a.state.may_have_called() {
                f.patients_called += 1;
            }
            f.latest.add(a.state);
            f.by_attempt.entry(a.attempt).or_default().add(a.state);
            f.by_source
                .entry(a.source.clone().unwrap_or_else(|| "(purged)".to_owned()))
                .or_default()
                .add(a.state);
            // Each campaign has one voice; the ledger does not record it per attempt.
            f.by_accent
                .entry(campaign.voice.accent.clone())
                .or_default()
                .add(a.state);
            if matches!(
                a.state,
                CallState::InDoubt | CallState::Accepted | CallState::Sending
            ) {
                f.open.push(OpenCall {
                    phone: a.phone.clone(),
                    state: a.state,
                    attempt: a.attempt,
                    source: a.source.clone(),
                    row: a.row,
                });
            }
        }
        if !durations.is_empty() {
            #[expect(clippy::cast_precision_loss, reason = "an average for people")]
            let avg = durations.iter().sum::<f64>() / durations.len() as f64;
            f.average_duration = Some((avg * 10.0).round() / 10.0);
        }
        f.success_rate = success_rate(&f.latest);
        Ok(f)
    }

    #[must_use]
    pub fn masked(&self, unmask: bool) -> Figures {
        let mut f = self.clone();
        if !unmask {
            for o in &mut f.open {
                o.phone = o.phone.as_deref().map(crate::patients::phone::mask);
            }
        }
        f
    }
}

/// Answered among patients whose outcome is known or given up on, in percent to a tenth;
/// `None` when none is. An outcome that never arrived counts as not reached; a batch
/// completed without per-call data says nothing either way, so it is left out.
fn success_rate(latest: &StateCounts) -> Option<f64> {
    let answered = latest.get(ReportState::Answered);
    let finals = answered
        + latest.get(ReportState::Failed)
        + latest.get(ReportState::NoAnswer)
        + latest.get(ReportState::OutcomeUnknown);
    (finals > 0).then(|| {
        #[expect(clippy::cast_precision_loss, reason = "a percentage for people")]
        let rate = answered as f64 * 100.0 / finals as f64;
        (rate * 10.0).round() / 10.0
    })
}

/// The patients (their latest attempts) by the language their call was placed in, the
/// languages in order and the unrecorded last.
fn by_language<'a>(latest: impl Iterator<Item = &'a crate::ledger::Attempt>) -> Vec<LanguageGroup> {
    let mut groups: BTreeMap<(bool, &str), Breakdown> = BTreeMap::new();
    for a in latest {
        let key = match a.language.as_deref() {
            Some(l) => (false, l),
            None => (true, ""),
        };
        groups.entry(key).or_default().add(a.state);
    }
    groups
        .into_iter()
        .map(|((unrecorded, language), calls)| LanguageGroup {
            language: (!unrecorded).then(|| language.to_owned()),
            success_rate: success_rate(&calls.states),
            calls,
        })
        .collect()
}

/// The patients (their latest attempts) by the value each column of `by` has on their row,
/// the groups in the values' order and the unrecorded last.
fn by_column<'a>(
    by: &[String],
    latest: impl Iterator<Item = &'a crate::ledger::Attempt>,
) -> Vec<ColumnBreakdown> {
    let mut by_value: Vec<BTreeMap<(bool, String), Breakdown>> = vec![BTreeMap::new(); by.len()];
    for a in latest {
        for (column, groups) in by.iter().zip(&mut by_value) {
            let key = match a.list_values.get(column) {
                Some(v) => (false, v.to_owned()),
                None => (true, String::new()),
            };
            groups.entry(key).or_default().add(a.state);
        }
    }
    by.iter()
        .zip(by_value)
        .map(|(column, groups)| ColumnBreakdown {
            column: column.clone(),
            groups: groups
                .into_iter()
                .map(|((unrecorded, value), calls)| ColumnGroup {
                    value: (!unrecorded).then_some(value),
                    calls,
                })
                .collect(),
        })
        .collect()
}

/// A plan sink that keeps nothing: the report needs only the plan's summary.
struct NoCalls;

impl plan::Sink for NoCalls {
    fn header(&mut self, _: &plan::Header, _: &Campaign) -> io::Result<()> {
        Ok(())
    }
    fn batch(&mut self, _: u64, _: &str, _: &[plan::Call]) -> io::Result<()> {
        Ok(())
    }
    fn skip(&mut self, _: &plan::Skip) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &plan::Summary) -> io::Result<()> {
        Ok(())
    }
}

/// Buckets attempts by the hour (a span under two days) or the day, in `tz`, with every
/// bucket between the first and the last.
fn timeline(
    sent_at: &[(Timestamp, CallState)],
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> Timeline {
    let (Some(first), Some(last)) = (
        sent_at.iter().map(|(t, _)| *t).min(),
        sent_at.iter().map(|(t, _)| *t).max(),
    ) else {
        return Timeline {
            bucket: "hour".to_owned(),
            buckets: Vec::new(),
        };
    };
    let hourly = last.duration_since(first) < jiff::SignedDuration::from_hours(48);
    let start_of = |t: Timestamp| -> Zoned {
        let z = t.to_zoned_datetime(tz.clone());
        if hourly {
            z.round(
                jiff::ZonedDateTimeRound::new()
                    .smallest(jiff::Unit::Hour)
                    .mode(jiff::RoundMode::Floor),
            )
            .unwrap_or(z)
        } else {
            z.start_of_day().unwrap_or(z)
        }
    };
    let label = |z: &Zoned| {
        if hourly {
            crate::clock::human_at(z.timestamp(), tz, now)
        } else if z.year() == now.to_zoned_datetime(tz.clone()).year() {
            z.strftime("%a %-d %b").to_string()
        } else {
            z.strftime("%a %-d %b %Y").to_string()
        }
    };
    let mut starts = Vec::new();
    let end = start_of(last);
    let mut z = start_of(first);
    while z <= end {
        starts.push(z.clone());
        let next = if hourly {
            z.checked_add(jiff::SignedDuration::from_hours(1))
        } else {
            z.tomorrow().and_then(|d| d.start_of_day())
        };
        match next {
            Ok(n) if n > z => z = n,
            _ => break,
        }
    }
    let mut buckets: Vec<TimeBucket> = starts
        .iter()
        .map(|z| TimeBucket {
            start: z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            label: label(z),
            calls: Breakdown::default(),
        })
        .collect();
    for (t, state) in sent_at {
        let z = start_of(*t);
        let i = starts.partition_point(|s| *s <= z).saturating_sub(1);
        if let Some(b) = buckets.get_mut(i) {
            b.calls.add(*state);
        }
    }
    Timeline {
        bucket: if hourly { "hour" } else { "day" }.to_owned(),
        buckets,
    }
}

/// The headline figures as (measure, value) rows, in a fixed order.
pub fn measures(f: &Figures) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Some(p) = &f.plan {
        rows.push(("planned".to_owned(), p.calls.to_string()));
        rows.push(("skipped".to_owned(), p.skipped.to_string()));
        rows.push(("opted_out".to_owned(), p.opted_out.to_string()));
        for (code, n) in &p.skipped_by_reason {
            rows.push((format!("skipped_{code}"), n.to_string()));
        }
    }
    rows.extend([
        ("patients_called".to_owned(), f.patients_called.to_string()),
        ("attempts".to_owned(), f.attempts.to_string()),
    ]);
    // The CSV's measure of `no_answer` has always been `unanswered`.
    rows.extend(ReportState::ALL.map(|state| {
        let name = match state {
            ReportState::NoAnswer => "unanswered",
            other => other.as_str(),
        };
        (name.to_owned(), f.latest.get(state).to_string())
    }));
    rows.extend([
        (
            "average_duration_seconds".to_owned(),
            f.average_duration
                .map_or_else(String::new, |d| format!("{d:.1}")),
        ),
        (
            "success_rate_percent".to_owned(),
            f.success_rate
                .map_or_else(String::new, |r| format!("{r:.1}")),
        ),
    ]);
    for (option, n) in &f.replies {
        rows.push((format!("reply_{option}"), n.to_string()));
    }
    rows
}

/// One row of a breakdown: its key for machines (CSV), its label for people (the table).
pub struct BreakdownRow {
    pub key: String,
    pub label: String,
    pub calls: Breakdown,
    /// Its success rate, in a breakdown that shows one ([`BreakdownTable::rated`]).
    pub success_rate: Option<f64>,
}

/// One breakdown: its name in the CSV (`by_source`, `by_column.clinic`), whether its rows
/// show their success rate (by language, so a programme sees a group answering less), and
/// its rows.
pub struct BreakdownTable {
    pub name: std::borrow::Cow<'static, str>,
    pub rated: bool,
    pub rows: Vec<BreakdownRow>,
}

/// The breakdowns in a fixed order, each with its rows: by source, accent, language (when
/// any call has one, keyed by the language, `(not recorded)` for none), attempt, each column
/// asked for (`by_column.clinic`, keyed by value, `(not recorded)` for none) and time (whose
/// rows machines key by their RFC 3339 start and people read in the one time format).
pub fn breakdowns(f: &Figures) -> Vec<BreakdownTable> {
    use std::borrow::Cow;
    let same = |k: String, calls: &Breakdown| BreakdownRow {
        label: k.clone(),
        key: k,
        calls: calls.clone(),
        success_rate: None,
    };
    let plain = |name: &'static str, rows: Vec<BreakdownRow>| BreakdownTable {
        name: Cow::Borrowed(name),
        rated: false,
        rows,
    };
    let mut all = vec![
        plain(
            "by_source",
            f.by_source
                .iter()
                .map(|(k, v)| same(k.clone(), v))
                .collect(),
        ),
        plain(
            "by_accent",
            f.by_accent
                .iter()
                .map(|(k, v)| same(k.clone(), v))
                .collect(),
        ),
    ];
    if !f.by_language.is_empty() {
        all.push(BreakdownTable {
            name: Cow::Borrowed("by_language"),
            rated: true,
            rows: f
                .by_language
                .iter()
                .map(|g| BreakdownRow {
                    key: g.label(),
                    label: g.label(),
                    calls: g.calls.clone(),
                    success_rate: g.success_rate,
                })
                .collect(),
        });
    }
    all.push(plain(
        "by_attempt",
        f.by_attempt
            .iter()
            .map(|(k, v)| same(k.to_string(), v))
            .collect(),
    ));
    all.extend(f.by_column.iter().map(|c| {
        BreakdownTable {
            name: Cow::Owned(format!("by_column.{}", c.column)),
            rated: false,
            rows: c
                .groups
                .iter()
                .map(|g| BreakdownRow {
                    key: g
                        .value
                        .clone()
                        .unwrap_or_else(|| "(not recorded)".to_owned()),
                    label: g.label(),
                    calls: g.calls.clone(),
                    success_rate: None,
                })
                .collect(),
        }
    }));
    all.push(plain(
        "timeline",
        f.timeline
            .buckets
            .iter()
            .map(|b| BreakdownRow {
                key: b.start.clone(),
                label: b.label.clone(),
                calls: b.calls.clone(),
                success_rate: None,
            })
            .collect(),
    ));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn every_state_has_its_own_count_and_pending_gathers_the_unsettled() {
        for (i, state) in ReportState::ALL.into_iter().enumerate() {
            assert_eq!(state as usize, i, "{state:?}: ALL is in declaration order");
        }
        let mut counts = StateCounts::default();
        for state in CallState::ALL {
            counts.add(state);
        }
        assert_eq!(counts.get(ReportState::Pending), 2, "accepted and sending");
        let total: u64 = ReportState::ALL.map(|s| counts.get(s)).iter().sum();
        assert_eq!(total, CallState::ALL.len() as u64);
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"answered":1,"failed":1,"no_answer":1,"outcome_unknown":1,"completed":1,"in_doubt":1,"pending":2,"rejected":1,"not_sent":1}"#
        );
    }

    fn attempt(
        key: &str,
        n: u32,
        state: CallState,
        language: Option<&str>,
    ) -> crate::ledger::Attempt {
        crate::ledger::Attempt {
            campaign: "c".into(),
            round: String::new(),
            key: key.into(),
            attempt: n,
            phone: None,
            state,
            batch_id: None,
            call_id: None,
            reply: None,
            duration: None,
            message: None,
            source: None,
            row: None,
            list_values: crate::ledger::ListValues::default(),
            language: language.map(str::to_owned),
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            run_id: "r".into(),
        }
    }

    // Issue 20: patients by the language of their latest call, each group with its own
    // success rate, the keys in order and the unrecorded last; the groups sum to the totals.
    #[test]
    fn patients_are_grouped_by_the_language_of_their_latest_call() {
        use CallState::{Answered, Completed, Failed, NoAnswer, Sending};
        let latest = [
            attempt("k1", 2, Answered, Some("yo")),
            attempt("k2", 1, NoAnswer, Some("ha")),
            attempt("k3", 1, Answered, Some("ha")),
            attempt("k4", 1, Failed, Some("ha")),
            attempt("k5", 1, Sending, Some("pcm")),
            attempt("k6", 1, Completed, None),
        ];
        let groups = by_language(latest.iter());
        let shown: Vec<(String, u64, Option<f64>)> = groups
            .iter()
            .map(|g| (g.label(), g.calls.total, g.success_rate))
            .collect();
        assert_eq!(
            shown,
            [
                ("ha".to_owned(), 3, Some(33.3)),
                ("pcm".to_owned(), 1, None),
                ("yo".to_owned(), 1, Some(100.0)),
                ("(not recorded)".to_owned(), 1, None),
            ]
        );
        assert_eq!(groups.iter().map(|g| g.calls.total).sum::<u64>(), 6);
        for state in ReportState::ALL {
            let mut all = StateCounts::default();
            for a in &latest {
                all.add(a.state);
            }
            let sum: u64 = groups.iter().map(|g| g.calls.get(state)).sum();
            assert_eq!(sum, all.get(state), "{state:?}");
        }
        let doc = serde_json::to_value(&groups).unwrap();
        assert_eq!(doc[0]["language"], "ha");
        assert_eq!(doc[0]["answered"], 1);
        assert_eq!(doc[0]["success_rate"], 33.3);
        assert_eq!(doc[3]["language"], serde_json::Value::Null);
        // In the breakdowns, after the accent and rated; absent when no call has a language.
        let f = Figures {
            by_language: groups,
            ..Figures::default()
        };
        let names: Vec<(String, bool)> = breakdowns(&f)
            .iter()
            .map(|t| (t.name.to_string(), t.rated))
            .collect();
        assert_eq!(names[2], ("by_language".to_owned(), true));
        assert!(
            breakdowns(&Figures::default())
                .iter()
                .all(|t| t.name != "by_language")
        );
        assert!(by_language([].iter()).is_empty());
    }

    #[test]
    fn a_short_campaign_is_bucketed_by_the_local_hour_with_empty_hours_kept() {
        let tz = jiff::tz::TimeZone::get("Africa/Lagos").unwrap();
        let t = timeline(
            &[
                (at("2026-12-01T08:59:00Z"), CallState::Answered),
                (at("2026-12-01T11:10:00Z"), CallState::NoAnswer),
                (at("2026-12-01T11:50:00Z"), CallState::InDoubt),
            ],
            &tz,
            at("2026-12-01T12:00:00Z"),
        );
        assert_eq!(t.bucket, "hour");
        let starts: Vec<_> = t.buckets.iter().map(|b| b.start.as_str()).collect();
        // 08:59 UTC is 09:59 in Lagos (UTC+1).
        assert_eq!(
            starts,
            [
                "2026-12-01T09:00:00+01:00",
                "2026-12-01T10:00:00+01:00",
                "2026-12-01T11:00:00+01:00",
                "2026-12-01T12:00:00+01:00"
            ]
        );
        // People read the one time format.
        assert_eq!(t.buckets[0].label, "Tue 1 Dec 09:00 WAT");
        assert_eq!(t.buckets[0].calls.get(ReportState::Answered), 1);
        assert_eq!(t.buckets[1].calls.total, 0);
        assert_eq!(t.buckets[3].calls.get(ReportState::NoAnswer), 1);
        assert_eq!(t.buckets[3].calls.get(ReportState::InDoubt), 1);
    }

    #[test]
    fn two_days_or_more_are_bucketed_by_the_local_day() {
        let tz = jiff::tz::TimeZone::get("Africa/Lagos").unwrap();
        let t = timeline(
            &[
                // 23:30 UTC on 1 December is 00:30 on 2 December in Lagos.
                (at("2026-12-01T23:30:00Z"), CallState::Failed),
                (at("2026-12-05T10:00:00Z"), CallState::Answered),
            ],
            &tz,
            at("2026-12-06T00:00:00Z"),
        );
        assert_eq!(t.bucket, "day");
        assert_eq!(t.buckets.len(), 4);
        assert_eq!(t.buckets[0].start, "2026-12-02T00:00:00+01:00");
        assert_eq!(t.buckets[0].label, "Wed 2 Dec");
        assert_eq!(t.buckets[0].calls.get(ReportState::Failed), 1);
        assert_eq!(t.buckets[3].start, "2026-12-05T00:00:00+01:00");
        assert_eq!(t.buckets[3].calls.get(ReportState::Answered), 1);
        assert!(
            timeline(&[], &tz, at("2026-12-06T00:00:00Z"))
                .buckets
                .is_empty()
        );
        // Another year's days carry it.
        let old = timeline(
            &[
                (at("2025-03-01T10:00:00Z"), CallState::Answered),
                (at("2025-03-04T10:00:00Z"), CallState::Answered),
            ],
            &tz,
            at("2026-12-06T00:00:00Z"),
        );
        assert_eq!(old.buckets[0].label, "Sat 1 Mar 2025");
    }
}
