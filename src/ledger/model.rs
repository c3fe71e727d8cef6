//! The ledger's model, shared by both stores: call states, attempts, runners, errors (how a
//! ledger location is told apart and printed is `location.rs`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::postgres::PgError;

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallState {
    /// Recorded before the request left; its fate is unknown until the answer arrives.
    Sending,
    /// The server accepted the request; the call's outcome is not known yet.
    Accepted,
    /// The server may or may not have placed the call (5xx, lost answer, crash).
    InDoubt,
    /// The server refused the request (4xx); no call was placed.
    Rejected,
    /// Provably never reached the server; may be sent again.
    NotSent,
    /// Final: the patient answered.
    Answered,
    /// Final: the call failed.
    Failed,
    /// Final: nobody answered.
    NoAnswer,
    /// Final for "pending": a callback said the batch completed but gave no per-call data, so
    /// whether this call was answered is not known. Neither pending nor retried.
    Completed,
    /// Final for "pending": accepted, and no outcome arrived within the campaign's
    /// `delivery.outcome_deadline`. Counted as not reached; retried only if the retry policy
    /// lists `outcome_unknown`.
    OutcomeUnknown,
}

impl CallState {
    pub const ALL: [CallState; 10] = [
        CallState::Sending,
        CallState::Accepted,
        CallState::InDoubt,
        CallState::Rejected,
        CallState::NotSent,
        CallState::Answered,
        CallState::Failed,
        CallState::NoAnswer,
        CallState::Completed,
        CallState::OutcomeUnknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Sending => "sending",
            CallState::Accepted => "accepted",
            CallState::InDoubt => "in_doubt",
            CallState::Rejected => "rejected",
            CallState::NotSent => "not_sent",
            CallState::Answered => "answered",
            CallState::Failed => "failed",
            CallState::NoAnswer => "no_answer",
            CallState::Completed => "completed",
            CallState::OutcomeUnknown => "outcome_unknown",
        }
    }

    pub fn parse(s: &str) -> Option<CallState> {
        CallState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether this attempt may have reached the patient (counts for exactly-once and caps).
    pub fn may_have_called(self) -> bool {
        !matches!(self, CallState::Rejected | CallState::NotSent)
    }

    /// Whether a retry policy may call again after an attempt that ended in this state
    /// (attempts left aside).
    pub fn retried_by(self, retry: &crate::campaign::Retry) -> bool {
        use crate::campaign::RetryOutcome;
        match self {
            CallState::Failed => retry.outcomes.contains(&RetryOutcome::Failed),
            CallState::NoAnswer => retry.outcomes.contains(&RetryOutcome::NoAnswer),
            CallState::OutcomeUnknown => retry.outcomes.contains(&RetryOutcome::OutcomeUnknown),
            // Completed: the batch ended and the call may have been answered; the rest are
            // not outcomes (pending, in doubt, or never placed).
            CallState::Completed
            | CallState::Sending
            | CallState::Accepted
            | CallState::InDoubt
            | CallState::Rejected
            | CallState::NotSent
            | CallState::Answered => false,
        }
    }

    /// Whether the outcome is final: nothing more is waited for (`completed` and
    /// `outcome_unknown` included: neither is pending).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallState::Answered
                | CallState::Failed
                | CallState::NoAnswer
                | CallState::Completed
                | CallState::OutcomeUnknown
        )
    }
}

/// How a run ended, as recorded in the ledger and the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Done,
    Problems,
    Interrupted,
    Failed,
}

impl RunStatus {
    /// The word recorded in the ledger and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Done => "done",
            RunStatus::Problems => "problems",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }
}

/// A ledger error.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the ledger {}: {error}", path.display())]
    Sql {
        path: PathBuf,
        error: rusqlite::Error,
    },
    #[error("the ledger {url}: {error}")]
    Postgres {
        /// The database, its password hidden.
        url: String,
        error: PgError,
    },
    #[error("the ledger {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("the ledger {} is in use by another run ({holder}); wait for it to finish, or stop it", path.display())]
    Locked { path: PathBuf, holder: String },
    /// A ledger file (the database, its `-wal` or `-shm`, the mark) reached through a
    /// symbolic link at its own name: never written through (it could be any file).
    #[error("the ledger's file {} is a symbolic link: outreach never writes through a link at a file's own name, which could overwrite the file it points to; point --state at the real file, or remove the link", path.display())]
    Symlink { path: PathBuf },
    /// The database holds fewer write-aheads than its mark says it committed: its `-wal`
    /// was lost or damaged, or an older copy was put back (see `mark.rs`).
    #[error("the ledger {} has lost records: it committed {recorded} write-aheads (its mark {} says so) and holds {found}; its -wal file was lost or damaged after a crash, or an older copy of it was put back. Nothing was sent: calls it forgot would be placed again. Restore {}-wal (or the newest copy of the ledger, with its -wal) and try again; if the records are truly gone, first check the provider's records of this ledger's campaigns, then accept the loss with `outreach migrate --state {} --accept-lost-records`", path.display(), mark.display(), path.display(), path.display())]
    LostRecords {
        path: PathBuf,
        mark: PathBuf,
        recorded: u64,
        found: u64,
    },
    #[error("the ledger {} has committed {found} write-aheads but its mark {} is missing: it was deleted, or the ledger was copied without it, so whether records were lost cannot be told. Nothing was sent. Put the mark back beside the ledger; or, once sure this is the newest copy of the ledger, accept it with `outreach migrate --state {} --accept-lost-records`", path.display(), mark.display(), path.display())]
    MissingMark {
        path: PathBuf,
        mark: PathBuf,
        found: u64,
    },
    #[error("the ledger's mark {} is damaged (it is not a file outreach wrote), so whether the ledger lost records cannot be told. Nothing was sent. Put back the mark that was there; or, once sure the ledger is complete, rewrite it with `outreach migrate --state <the ledger> --accept-lost-records`", mark.display())]
    DamagedMark { mark: PathBuf },
    /// A campaign name recorded for another campaign file (paths relative to the
    /// repository).
    #[error("campaign `{campaign}` is recorded in the ledger {} as {recorded}, and this file is {given}: two campaign files with one name share one record of calls, so patients called by one would count as called by the other. Give this campaign a name of its own; or, if {recorded} was moved or renamed to {given}, say so with --moved-from {recorded}", path.display())]
    CampaignElsewhere {
        path: PathBuf,
        campaign: String,
        recorded: String,
        given: String,
    },
    #[error("the ledger {} was written by a newer outreach (schema {found}, this build knows {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the ledger {} holds a call state this build does not know: `{state}`", path.display())]
    UnknownState { path: PathBuf, state: String },
    #[error("the ledger {} holds {error}", path.display())]
    BadTime { path: PathBuf, error: BadTime },
    /// A call through [`super::AsyncLedger`] after it was closed.
    #[error("the ledger was used after it was closed")]
    Closed,
    /// A location that is neither a file's path nor a database, or could be either.
    #[error(transparent)]
    Location(#[from] super::location::LocationError),
    /// A call through [`super::AsyncLedger`] that the async runtime dropped (it is shutting
    /// down) before it ran.
    #[error("a ledger call was cancelled: the async runtime is shutting down")]
    Cancelled,
    #[error("the ledger {} is a SQLite file: {what} needs a shared (Postgres) ledger", path.display())]
    NotShared { path: PathBuf, what: &'static str },
    /// A call whose language is not a language tag, refused before anything was written
    /// (see `call_language.rs`).
    #[error("the ledger {} refused a call: {problem}", path.display())]
    Language {
        path: PathBuf,
        problem: super::BadLanguage,
    },
    /// A workflow binding refused before anything was written (see `workflows/`).
    #[error("the ledger {} refused a workflow binding: {problem}", path.display())]
    Binding {
        path: PathBuf,
        problem: super::BindingProblem,
    },
    /// A shared ledger refused a write of this run (issue 14, class 11): its heartbeat is
    /// older than its lease by the database's clock, so other runners may have taken its
    /// calls over. A run past its lease never gets it back.
    #[error("this runner's lease on the ledger {} ran out (it stalled, or could not reach the database, for longer than --lease): other runners may have taken over its calls, so it records and sends nothing more, and they look up the calls it left `sending`", path.display())]
    LeaseLost { path: PathBuf },
}

/// A call state read from the ledger that this build does not know (a newer build's, or a
/// hand edit): reading it is an error, not a guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown call state `{0}`")]
pub struct UnknownState(pub String);

/// A time read from the ledger that is not one (a hand edit, a damaged row): reading it is an
/// error, not a default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadTime {
    #[error("`{0}`, which is not a timestamp")]
    Timestamp(String),
    #[error("{0}, which is not a length of time in seconds")]
    Seconds(String),
}

/// A timestamp column, read: RFC 3339 text, as both stores write it (`Timestamp`'s Display).
pub(super) struct StoredTime(pub(super) Timestamp);

impl StoredTime {
    pub(super) fn parse(text: &str) -> Result<StoredTime, BadTime> {
        text.parse()
            .map(StoredTime)
            .map_err(|_| BadTime::Timestamp(text.to_owned()))
    }
}

/// A length of time column (or one computed by the database), read: seconds, not negative.
pub(super) struct StoredSeconds(pub(super) Duration);

impl StoredSeconds {
    pub(super) fn new(seconds: f64) -> Result<StoredSeconds, BadTime> {
        Duration::try_from_secs_f64(seconds)
            .map(StoredSeconds)
            .map_err(|_| BadTime::Seconds(seconds.to_string()))
    }
}

/// One call to record as `sending`.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub key: &'a str,
    pub attempt: u32,
    pub phone: &'a str,
    pub source: &'a str,
    pub row: u64,
    /// The row's values of the campaign's `list_columns` (SQLite 8, Postgres 6).
    pub list_values: &'a super::ListValues,
    /// The key of the campaign's `languages:` the call is placed in (SQLite 9, Postgres 7);
    /// `None` in a campaign without languages. A short language tag (`call_language.rs`).
    pub language: Option<&'a str>,
}

/// The history of one key under a target.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyHistory {
    /// The highest attempt recorded.
    pub attempt: u32,
    pub state: CallState,
    /// When a retry becomes due, for calls that ended failed or unanswered (written by
    /// apply; outcomes recorded without a campaign at hand, by the callback receiver or a
    /// deadline, have none: their retry is due `retry.delay` after `updated_at`).
    pub retry_at: Option<Timestamp>,
    /// When the attempt was last written (its outcome's arrival, for one that ended).
    pub updated_at: Timestamp,
}

/// A recorded attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub campaign: String,
    pub round: String,
    pub key: String,
    pub attempt: u32,
    pub phone: Option<String>,
    pub state: CallState,
    pub batch_id: Option<String>,
    pub call_id: Option<String>,
    pub reply: Option<String>,
    /// How long the call lasted, once its outcome is known.
    pub duration: Option<Duration>,
    pub message: Option<String>,
    pub source: Option<String>,
    pub row: Option<u64>,
    /// The row's values of the campaign's `list_columns`, as written at write-ahead; none
    /// once purged, and for calls recorded before they were kept.
    pub list_values: super::ListValues,
    /// The key of the campaign's `languages:` the call was placed in, as written at
    /// write-ahead; `None` for calls of a campaign without languages, and for calls recorded
    /// before they were kept. Kept by `purge`: the campaign's grouping, not the patient's cell.
    pub language: Option<String>,
    pub created_at: Timestamp,
    /// Also the token [`super::Ledger::resolve`] checks the row against: written back as the
    /// text it was read from (`Timestamp`'s Display round-trips what it wrote).
    pub updated_at: Timestamp,
    /// The run that last recorded it.
    pub run_id: String,
}

/// Counts per state for one campaign, round and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    pub target: String,
    pub campaign: String,
    pub round: String,
    pub counts: Vec<(CallState, u64)>,
}

/// A run still marked running: a live runner, or one that died (its heartbeat stopped).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Runner {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    pub campaign: String,
    pub round: String,
    pub target: String,
    pub started_at: Timestamp,
    /// Time since its last heartbeat (seconds in JSON).
    #[serde(serialize_with = "as_seconds")]
    pub heartbeat_age: Duration,
    /// Calls it has claimed so far.
    pub claimed: u64,
    /// Whether it is at work: its heartbeat within its lease (a dead runner's work is taken
    /// over after), and on a one-machine ledger, its process still there.
    pub alive: bool,
    /// When it was last heard from (its last heartbeat, RFC 3339 in JSON).
    pub last_heartbeat: Timestamp,
}

impl Runner {
    /// Whether a run last heard from `age` ago is within its lease of `lease` seconds.
    pub(super) fn within_lease(age: Duration, lease: f64) -> bool {
        age.as_secs_f64() < lease
    }

    /// Whether the process of a run on `host` with `pid` is known to be gone: it ran on this
    /// machine, which lists its processes (`/proc`), and it is not among them. A run killed
    /// long ago whose heartbeat still reads as recent (a clock set back, `OUTREACH_FAKE_NOW`)
    /// is then not taken for alive.
    pub(super) fn process_gone(host: &str, pid: u32) -> bool {
        let proc = Path::new("/proc");
        pid != 0
            && host == super::hostname()
            && proc.join("self").exists()
            && !proc.join(pid.to_string()).exists()
    }
}

/// Due work not done yet, seen from one runner (Postgres).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OpenWork {
    /// Calls nobody holds: claim them.
    pub unclaimed: u64,
    /// Calls other runners hold a live lease on (claimed, not yet recorded as sent).
    pub leased_elsewhere: u64,
    /// How long until the first of those leases runs out.
    pub next_expiry: Option<Duration>,
}

/// A length of time as seconds, as `status --json` has always written it.
fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One row of counts: target, campaign, round, latest state, and how many keys are in it.
pub(super) type CountRow = (String, String, String, CallState, u64);

impl StateCount {
    /// Groups (target, campaign, round, state, count) rows, ordered by campaign, round and
    /// target, into one count per campaign round and target.
    pub(super) fn group(rows: impl IntoIterator<Item = CountRow>) -> Vec<StateCount> {
        let mut out: Vec<StateCount> = Vec::new();
        for (target, campaign, round, state, n) in rows {
            match out.last_mut() {
                Some(last)
                    if last.target == target
                        && last.campaign == campaign
                        && last.round == round =>
                {
                    last.counts.push((state, n));
                }
                _ => out.push(StateCount {
                    target,
                    campaign,
                    round,
                    counts: vec![(state, n)],
                }),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_ended_without_an_outcome_are_final_and_retried_only_when_listed() {
        use crate::campaign::{Retry, RetryOutcome};
        for state in [CallState::Completed, CallState::OutcomeUnknown] {
            assert!(state.is_final(), "{state:?}: not pending");
            assert!(state.may_have_called(), "{state:?}: counts for caps");
            assert_eq!(CallState::parse(state.as_str()), Some(state));
        }
        let default = Retry::default();
        assert!(!CallState::OutcomeUnknown.retried_by(&default));
        assert!(!CallState::Completed.retried_by(&default));
        let listed = Retry {
            outcomes: vec![RetryOutcome::OutcomeUnknown],
            ..Retry::default()
        };
        assert!(CallState::OutcomeUnknown.retried_by(&listed));
        assert!(!CallState::Completed.retried_by(&listed), "never retried");
        assert!(!CallState::NoAnswer.retried_by(&listed));
    }

    #[test]
    fn counts_are_grouped_per_campaign_round_and_target() {
        let row =
            |t: &str, c: &str, r: &str, s, n| (t.to_owned(), c.to_owned(), r.to_owned(), s, n);
        let grouped = StateCount::group([
            row("mock", "c", "r1", CallState::Answered, 2),
            row("mock", "c", "r1", CallState::Failed, 1),
            row("mock", "c", "r2", CallState::Answered, 3),
            row("live", "c", "r2", CallState::Answered, 4),
        ]);
        assert_eq!(
            grouped
                .iter()
                .map(|g| (g.target.as_str(), g.round.as_str(), g.counts.clone()))
                .collect::<Vec<_>>(),
            vec![
                (
                    "mock",
                    "r1",
                    vec![(CallState::Answered, 2), (CallState::Failed, 1)]
                ),
                ("mock", "r2", vec![(CallState::Answered, 3)]),
                ("live", "r2", vec![(CallState::Answered, 4)]),
            ]
        );
    }
}
