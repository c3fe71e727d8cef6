//! Settings resolved once from flags and the environment (by [`crate::cli::resolve`]): what
//! each command needs, and nothing about how it was spelt on the command line.

pub mod callbacks;
pub mod formats;
pub mod target;
pub mod workflows;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::campaign::Kind;
use crate::settings::formats::{
    ListFormat, ListKind, PlanFormat, ReportFormat, ValidateFormat, WatchFormat,
};
use crate::settings::target::{Target, TargetId};

/// What to do, fully resolved.
#[derive(Debug)]
pub enum Config {
    Init(InitSettings),
    Validate {
        paths: Vec<PathBuf>,
        format: ValidateFormat,
        color: bool,
    },
    Plan(PlanSettings),
    Apply(ApplySettings),
    Status {
        campaign: Option<PathBuf>,
        state: PathBuf,
        /// `--mock`, `--api-url`: only this target's rows.
        target: Option<TargetId>,
        json: bool,
        /// Runs that stopped without finishing long ago are listed too.
        all: bool,
        /// `--sync`: the campaign's outcomes looked up first.
        sync: Option<SyncSettings>,
    },
    Report {
        campaign: PathBuf,
        state: PathBuf,
        /// The target asked for (`--mock`, `--api-url`, `--target`, or the one `--sync`
        /// looks up on); `None`: the one the ledger has for the campaign.
        target: Option<TargetId>,
        format: ReportFormat,
        /// Write the report here instead of to standard output.
        out: Option<PathBuf>,
        unmask: bool,
        /// `--by COLUMN`: the `list_columns:` to break the patients down by, in order.
        by: Vec<String>,
        /// `--list KIND`: a list of patients instead of the figures (to `out`).
        list: Option<PatientListSettings>,
        /// `--sync`: the campaign's outcomes looked up first.
        sync: Option<SyncSettings>,
    },
    Sync(SyncSettings),
    Pause {
        campaign: PathBuf,
        state: PathBuf,
    },
    Resume {
        campaign: PathBuf,
        state: PathBuf,
    },
    Purge {
        state: PathBuf,
        older_than: jiff::SignedDuration,
    },
    Watch(WatchSettings),
    Schema,
    Migrate {
        state: PathBuf,
        /// Accept that a SQLite ledger lost records (see `Ledger::open_accepting_loss`).
        accept_lost_records: bool,
    },
    MockServer(mock_server::MockArgs),
    Callbacks(callbacks::CallbacksSettings),
    Workflows(workflows::WorkflowsSettings),
}

/// How the log on standard error is written (`--log-format`, `-v`, `--color`), for every
/// command.
#[derive(Debug, Clone, Copy)]
pub struct Logging {
    pub format: log_lines::LogFormat,
    /// How many `-v`.
    pub verbose: u8,
    /// Whether standard error is coloured.
    pub color: bool,
    /// `outreach mock-server`: the mock's own lines (one per request) are shown too.
    pub serving: bool,
}

/// Settings of `outreach plan`.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent flag of the command"
)]
pub struct PlanSettings {
    pub campaign: PathBuf,
    pub out: Option<PathBuf>,
    pub format: PlanFormat,
    pub unmask: bool,
    pub strict: bool,
    pub detailed_exitcode: bool,
    pub sample: usize,
    pub color: bool,
    /// Where to check the workflow, if anywhere.
    pub target: Option<Target>,
    pub key: Option<SecretString>,
    pub state: Option<PathBuf>,
    /// A plan saved earlier (`--out`) to show the changes from.
    pub compare: Option<PathBuf>,
    /// The receiver's callback URL the workflow must carry (it holds the token).
    pub callback_url: Option<SecretString>,
    /// `--list`: a list written instead of the plan (then `out` is `None`).
    pub list: Option<ListSettings>,
}

/// `report --list KIND`: which patients, in which format (to the report's `--out`).
#[derive(Debug, Clone)]
pub struct PatientListSettings {
    pub kind: formats::PatientListKind,
    pub format: ListFormat,
}

/// `plan --list KIND`: which list, in which format, to which file (stdout without one).
#[derive(Debug, Clone)]
pub struct ListSettings {
    pub kind: ListKind,
    pub format: ListFormat,
    pub out: Option<PathBuf>,
}

/// Settings of `outreach watch`.
#[derive(Debug)]
pub struct WatchSettings {
    pub paths: Vec<PathBuf>,
    pub format: WatchFormat,
    /// The quiet time after the last change, in milliseconds.
    pub debounce_ms: u64,
    pub unmask: bool,
    pub sample: usize,
    pub color: bool,
    /// `--apply --mock`: apply each good plan to the session's mock.
    pub apply: bool,
    /// With `apply`: the ledger (default: beside each campaign).
    pub state: Option<PathBuf>,
}

impl Config {
    /// Whether exit codes follow `terraform plan -detailed-exitcode`.
    pub fn detailed_exitcode(&self) -> bool {
        matches!(self, Config::Plan(p) if p.detailed_exitcode)
    }
}

/// Settings of `outreach apply`.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each is an independent flag of the command"
)]
pub struct ApplySettings {
    /// A campaign file, or a saved plan.
    pub input: PathBuf,
    pub target: Target,
    /// The API key (from `INTRON_API_KEY` or `--api-key-file`).
    pub key: Option<SecretString>,
    pub yes: bool,
    pub new_ledger: bool,
    /// Create a workflow of the file's words even when the bound one was edited on the
    /// service by hand.
    pub overwrite_workflow: bool,
    /// The receiver's token, appended to a declared workflow's `call_back_url` when apply
    /// creates it (from OUTREACH_CALLBACK_TOKEN or --callback-token-file).
    pub callback_token: Option<SecretString>,
    /// The campaign file's path before it was moved or renamed (`--moved-from`): the ledger
    /// then takes this file for the campaign it recorded there.
    pub moved_from: Option<PathBuf>,
    pub max_calls: Option<u64>,
    pub dry_run: bool,
    pub no_wait: bool,
    pub no_follow: bool,
    /// Wait for calling windows (always, except against the mock unless asked).
    pub enforce_schedule: bool,
    pub resend_in_doubt: bool,
    /// How long after sending a call that the server does not list counts as never placed.
    pub in_doubt_grace: Duration,
    /// The ledger file (default `.outreach/state.db` beside the campaign), or a Postgres URL.
    pub state: Option<PathBuf>,
    /// How long a runner's claims and heartbeat hold before other runners take its work over
    /// (shared Postgres ledgers).
    pub lease: Duration,
    pub json: bool,
    /// How long to follow accepted calls to their outcome.
    pub follow_timeout: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Told once the input is loaded (a saved plan checked for staleness) and the ledger is
    /// locked: from then on the run no longer reads the campaign file's calls. `watch --apply`
    /// reports the apply as under way at that moment.
    pub locked: Option<std::sync::mpsc::Sender<()>>,
}

/// Settings of `outreach sync` (and of `report --sync`, `status --sync`): the campaign, where
/// its calls went and where they are recorded.
#[derive(Debug)]
pub struct SyncSettings {
    pub campaign: PathBuf,
    pub target: Target,
    /// The API key (from `INTRON_API_KEY` or `--api-key-file`).
    pub key: Option<SecretString>,
    /// The ledger (resolved: `--state`, or beside the campaign).
    pub state: PathBuf,
    pub json: bool,
    /// Per-request timeout.
    pub request_timeout: Duration,
}

/// Settings of `outreach init`.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent flag of the command"
)]
pub struct InitSettings {
    pub dir: PathBuf,
    pub patients: PathBuf,
    pub phone_column: Option<String>,
    /// `--sheet`: the spreadsheet's sheet to read, instead of the one with phone numbers.
    pub sheet: Option<String>,
    pub country: Option<String>,
    pub name: Option<String>,
    pub kind: Option<Kind>,
    pub out: Option<PathBuf>,
    /// The schema file the modeline names (`--schema`), instead of the checkout's or one
    /// beside the campaign.
    pub schema: Option<PathBuf>,
    pub yes: bool,
    pub force: bool,
    /// Ask to confirm each guess: on a terminal, without --yes.
    pub interactive: bool,
    pub color: bool,
}
