//! Command-line flags (clap derive). They are turned into a [`crate::settings::Config`] once;
//! nothing below that sees raw flags.

mod callbacks;
mod resolve;
mod workflows;
pub use callbacks::CallbacksArgs;
pub use resolve::{logging, resolve};
pub use workflows::{ServerArgs, WorkflowsArgs, WorkflowsCommand, WorkflowsFormat};

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::formats::{ListKind, ValidateFormat, WatchFormat};

/// Parses the command line, clap's own help and errors coloured as `--color` says.
pub fn parse() -> Result<Cli, clap::Error> {
    log_lines::parse()
}

/// Run patient voice-call campaigns declared in YAML, against Intron Health's voicebot API.
///
/// Campaign files declare the workflow, the voice, where patients come from, the message
/// variables, opt-outs, calling windows and delivery limits.
///
/// Start with `outreach init --patients PATIENTS.csv`: it writes a campaign from your patient
/// file and plans it. Then `outreach validate`, `outreach plan CAMPAIGN`, and `outreach apply
/// CAMPAIGN --mock` to place the calls on the bundled mock server, where no patient is called.
///
/// Exit codes: 0 success, 1 the tool ran and found problems, 2 the tool could not run.
#[derive(Debug, Parser)]
#[command(
    name = "outreach",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// `--color`, `-v`, `--log-format`: the same flags as the mock's own binary.
    #[command(flatten)]
    pub output: log_lines::LogArgs,
}

/// Where calls go, and where their record is kept.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Use the bundled mock server, started in-process: no calls reach anyone.
    #[arg(long, conflicts_with = "api_url")]
    pub mock: bool,
    /// The voicebot API base URL.
    #[arg(long, value_name = "URL", default_value = crate::settings::target::LIVE_URL)]
    pub api_url: String,
    /// Read the API key from this file (otherwise from INTRON_API_KEY).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// The ledger: a SQLite file (default: .outreach/state.db beside the campaign), or a
    /// shared Postgres database (postgres://…) for several runners; see docs/scale-out.md.
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "OUTREACH_DATABASE_URL",
        hide_env_values = true
    )]
    pub state: Option<PathBuf>,
}

/// Which target's calls `report` shows, and where their record is kept. Unlike
/// [`TargetArgs`], no flag has a default: with none, the report shows the target the ledger
/// has for the campaign (and says which, and how to pick another).
#[derive(Debug, Clone, clap::Args)]
pub struct ReportTargetArgs {
    /// The calls placed on the bundled mock.
    #[arg(long, conflicts_with_all = ["api_url", "target"])]
    pub mock: bool,
    /// The calls placed on this voicebot API base URL.
    #[arg(long, value_name = "URL", conflicts_with = "target")]
    pub api_url: Option<String>,
    /// The calls placed on this target, named as `outreach status` prints it (`mock`, a URL).
    #[arg(long, value_name = "ID")]
    pub target: Option<String>,
    /// With --sync: read the API key from this file (otherwise from INTRON_API_KEY).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// The ledger: a SQLite file (default: .outreach/state.db beside the campaign), or a
    /// shared Postgres database (postgres://…).
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "OUTREACH_DATABASE_URL",
        hide_env_values = true
    )]
    pub state: Option<PathBuf>,
}

/// Where patient and opt-out files may be read from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SourceArgs {
    /// Also read patient and opt-out files inside DIR (symlinks resolved), outside the
    /// campaign's repository. By default a source must be inside the repository (the nearest
    /// folder above the campaign with a .git, else the campaign's folder) and not in .git.
    /// May be given several times.
    #[arg(long, value_name = "DIR")]
    pub allow_source_outside: Vec<PathBuf>,
}

/// Summary formats of `outreach apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter campaign from a patient file, then validate and plan it.
    ///
    /// Reads the file's header and first rows (CSV with any common delimiter, XLSX, ODS,
    /// JSON, NDJSON), guesses the phone column and the country from the values and says how
    /// sure it is, proposes a variable per other column, and writes a commented campaign to
    /// DIR/<name>.yaml. On a terminal each guess is confirmed (Enter accepts it) unless --yes;
    /// the flags decide instead of asking. Never overwrites a file without --force.
    ///
    /// Exit codes: 0 written and valid, 1 written but invalid, 2 nothing written (the file
    /// exists, the patient file cannot be read, no column holds phone numbers).
    Init(InitArgs),
    /// Check campaign files against the schema and the rules a schema cannot express.
    ///
    /// Reports every problem in every file at once, with file:line:column, the JSON pointer,
    /// a stable code and a hint. Exit 0 when every file is valid (warnings allowed), 1 when
    /// some file is invalid, 2 when a path does not exist or a flag is wrong.
    Validate {
        /// Campaign files, or directories to search for *.yaml and *.yml (default: campaigns/
        /// if there is one, else the current directory, where `init` writes).
        paths: Vec<PathBuf>,
        /// Output format: human, json, junit, or github (annotations for GitHub Actions).
        #[arg(long, short = 'f', value_enum, default_value_t = ValidateFormat::Human)]
        format: ValidateFormat,
        #[command(flatten)]
        sources: SourceArgs,
    },
    /// Show exactly who would be called, with what words, and who is left out and why.
    ///
    /// Reads every patient source, normalises phone numbers, applies opt-outs and dedupe,
    /// renders the variables and tags for each patient, and groups the calls into batches.
    /// Printed output masks phone numbers and patient data unless --unmask; --out saves the
    /// full plan (unmasked, owner-only permissions) for review and for `apply`.
    ///
    /// Exit codes: 0 planned, 1 problems (invalid campaign; a patient source none of whose
    /// rows a template can fill; with --strict, any row skipped for a template), 2 could not
    /// run. With --detailed-exitcode, as `terraform plan`: 0 nothing to call, 2 calls pending,
    /// 1 any error.
    Plan(PlanArgs),
    /// Place the calls: exactly once, at the provider's pace, surviving crashes.
    ///
    /// Plans first (or reads a plan saved with `plan --out`, refusing it when the campaign or
    /// a source changed since), records every call in the ledger before its request leaves,
    /// sends in batches within the calling windows, and follows the calls to their outcome.
    /// Calls the server may have placed (a 5xx, a lost answer, a crash) are "in doubt": they
    /// are looked up on the server and never re-sent blindly.
    ///
    /// The API key comes from INTRON_API_KEY or --api-key-file, never from the campaign.
    /// Against anything but the mock, apply asks for confirmation unless --yes.
    ///
    /// Exit codes: 0 every due call was placed (or nothing is due now: --no-wait outside the
    /// window or while paused says until when), 1 some calls were rejected, could not be sent
    /// or are in doubt, 2 could not run (401, ledger in use or missing records, campaign name
    /// recorded for another file, stale plan, no terminal without --yes, not confirmed,
    /// server unreachable), 130 interrupted.
    Apply(ApplyArgs),
    /// Show the ledger: calls per state for each campaign and target.
    Status {
        /// A campaign file: show only this campaign (and use the ledger beside it).
        campaign: Option<PathBuf>,
        /// Look up the campaign's open calls on the server first, as `outreach sync` does
        /// (needs the campaign file; the live API unless --mock or --api-url).
        #[arg(long, requires = "campaign")]
        sync: bool,
        /// Only the calls placed on the bundled mock (with --sync: looked up on a mock
        /// started in-process, so it knows no earlier calls).
        #[arg(long, conflicts_with = "api_url")]
        mock: bool,
        /// Only the calls placed on this voicebot API base URL (with --sync: looked up there).
        #[arg(long, value_name = "URL")]
        api_url: Option<String>,
        /// With --sync: read the API key from this file (otherwise from INTRON_API_KEY).
        #[arg(long, value_name = "FILE", requires = "sync")]
        api_key_file: Option<PathBuf>,
        /// The ledger file (default: .outreach/state.db beside the campaign, or in the current directory).
        #[arg(
            long,
            value_name = "FILE|URL",
            env = "OUTREACH_DATABASE_URL",
            hide_env_values = true
        )]
        state: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also list the runs that stopped without finishing more than a day ago (the JSON
        /// always lists every one).
        #[arg(long)]
        all: bool,
    },
    /// Show a campaign's outcomes: answered, failed, unanswered, replies, durations.
    Report {
        /// The campaign file.
        campaign: PathBuf,
        #[command(flatten)]
        target: ReportTargetArgs,
        /// Output format: table (default), json, csv, or html (a self-contained page with
        /// charts); with --list: csv (default), xlsx (needs --out) or json.
        #[arg(long, short = 'f', value_enum)]
        format: Option<ReportOutput>,
        /// Instead of the figures, one row per patient of a kind: unreached (no answered call
        /// and none still due or pending: for a home visit or an SMS), answered, failed,
        /// no-answer, in-doubt, pending; or skipped (every row the plan leaves out, as
        /// `plan --list skipped`). Each row: source, row, the campaign's list_columns, the
        /// number (masked unless --unmask), the last state, attempts, the last call's time in
        /// the campaign's zone, the reply. --out FILE is owner-only.
        #[arg(long, value_enum, value_name = "KIND")]
        list: Option<crate::settings::formats::PatientListKind>,
        /// Write the report to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show phone numbers of pending and in-doubt calls.
        #[arg(long)]
        unmask: bool,
        /// Also break the patients down by COLUMN, one of the campaign's `list_columns:`
        /// (the value recorded with each call when it was placed: clinic, ward…), in every
        /// format; patients whose call has none are counted as `(not recorded)`. May be
        /// given several times.
        #[arg(long, value_name = "COLUMN")]
        by: Vec<String>,
        /// Look up the campaign's open calls on the server first, as `outreach sync` does:
        /// on --mock or --api-url, else the live API (never the ledger's guess).
        #[arg(long, conflicts_with = "target")]
        sync: bool,
    },
    /// Look up the outcomes of a campaign's open calls on the server and record them.
    ///
    /// Every call accepted or in doubt is looked up: through the batch endpoint when the
    /// server has it, else `GET /voicebot/v1/status/{call_id}` for calls whose id is known
    /// (from a callback or an earlier lookup), at the provider's pace. Accepted calls with no
    /// outcome past the campaign's `delivery.outcome_deadline` become `outcome_unknown`.
    /// Prints what it learnt and what it could not learn, and why.
    ///
    /// Exit codes: 0 everything that could be learnt was, 1 some calls remain whose outcome
    /// nobody can give (or could not be looked up), 2 could not run (401, no ledger, server
    /// unreachable).
    Sync {
        /// The campaign file.
        campaign: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        /// Output format: human, or json (one document, for CI).
        #[arg(long, short = 'f', value_enum, default_value_t = ApplyFormat::Human)]
        format: ApplyFormat,
    },
    /// Stop sending for a campaign, for every run that uses the same ledger.
    Pause {
        /// The campaign file.
        campaign: PathBuf,
        /// The ledger file (default: .outreach/state.db beside the campaign).
        #[arg(
            long,
            value_name = "FILE|URL",
            env = "OUTREACH_DATABASE_URL",
            hide_env_values = true
        )]
        state: Option<PathBuf>,
    },
    /// Restart sending for a paused campaign.
    Resume {
        /// The campaign file.
        campaign: PathBuf,
        /// The ledger file (default: .outreach/state.db beside the campaign).
        #[arg(
            long,
            value_name = "FILE|URL",
            env = "OUTREACH_DATABASE_URL",
            hide_env_values = true
        )]
        state: Option<PathBuf>,
    },
    /// Delete patient data (numbers, rows, replies) from the ledger past a retention period,
    /// keeping the counts.
    Purge {
        /// Purge attempts last updated longer ago than this, such as 90d.
        #[arg(long, value_name = "AGE")]
        older_than: String,
        /// A campaign file whose ledger to purge (default: .outreach/state.db here).
        campaign: Option<PathBuf>,
        /// The ledger file.
        #[arg(
            long,
            value_name = "FILE|URL",
            env = "OUTREACH_DATABASE_URL",
            hide_env_values = true
        )]
        state: Option<PathBuf>,
    },
    /// Validate and plan campaigns again each time they or their patient files change.
    ///
    /// Watches campaign files (and every *.yaml/*.yml in the directories given, including
    /// files added later) and the patient and opt-out files they name. After each change it
    /// validates, plans, and prints what changed since the previous plan: calls added and
    /// removed, changed variables, newly skipped rows. An invalid edit prints its problems and
    /// the watch goes on. Ctrl-C stops it.
    ///
    /// With --apply --mock, each good plan is also applied to one bundled mock server started
    /// for the session (never to a live target: --apply requires --mock), so each apply shows
    /// the calls that change would place. Calls are recorded in the ledger as `apply --mock`
    /// records them, and the ledger is locked while applying.
    Watch(WatchArgs),
    /// Create or upgrade the ledger's tables (apply and every other command also do it
    /// when they open the ledger; run this first to give a database role the tables before
    /// the runners start, or to upgrade at a moment of your choosing).
    Migrate {
        /// The ledger: a SQLite file, or a Postgres URL (postgres://…).
        #[arg(
            long,
            value_name = "FILE|URL",
            env = "OUTREACH_DATABASE_URL",
            hide_env_values = true
        )]
        state: PathBuf,
        /// Accept that a SQLite ledger lost records (its -wal file lost or damaged after a
        /// crash, or an older copy put back), which every command refuses until then: the
        /// calls it forgot will be placed again. Check the provider's records first.
        #[arg(long)]
        accept_lost_records: bool,
    },
    /// Print the campaign file's JSON schema (the one in schemas/campaign.schema.json).
    ///
    /// Editors with the YAML language server use it for completion and hover help: start a
    /// campaign file with `# yaml-language-server: $schema=<path to the schema>`.
    Schema,
    /// Run the bundled voicebot mock server: a stateful replica of the API for dry runs.
    ///
    /// Serves the voicebot endpoints on loopback, with the `/__mock/` controls (journal,
    /// calls, faults, clock). The documented samples work against it verbatim. See
    /// mock-server/README.md.
    MockServer(mock_server::MockArgs),
    /// Receive the service's completion callbacks and write every call's outcome to the
    /// ledger: an HTTP service to run behind a reverse proxy with TLS (see docs/receiver.md).
    ///
    /// Callbacks are posted to `POST /callbacks/<token>`, the workflow's `call_back_url`
    /// ending in the token from OUTREACH_CALLBACK_TOKEN or --token-file; a previous token
    /// (OUTREACH_CALLBACK_TOKEN_PREVIOUS, --previous-token-file) is accepted too during a
    /// rotation. A wrong token is answered 404, like an unknown path. Each callback is
    /// answered 200 only once its outcomes are committed, 503 when they could not be (the
    /// service sends it again), 400 when it is not a callback (kept, redacted, for
    /// inspection). `GET /healthz` answers 200. SIGTERM or SIGINT: no new connections, the
    /// callbacks in progress finish, exit 0.
    ///
    /// The receiver is not a run: it never takes the ledger's run lock, and runs beside
    /// `apply` on the same ledger.
    ///
    /// Exit codes: 0 stopped by a signal, 2 could not start (no token or a short one, the
    /// address in use, the ledger unreachable).
    Callbacks(CallbacksArgs),
    /// List, show and pull the server's workflows (the messages patients hear).
    ///
    /// `outreach workflows list` lists them, `show ID` shows one in full, and `pull ID`
    /// prints a `workflow:` block to paste into a campaign, so that a workflow made by hand on
    /// the service moves into the reviewed file. Against `--mock` or `--api-url` (the live
    /// API by default); the key from INTRON_API_KEY or --api-key-file. No output holds a
    /// callback URL's token.
    Workflows(WorkflowsArgs),
}

// The flags of `outreach init` (its help text is the variant\'s).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write the campaign in.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The patient file to start from.
    #[arg(long, value_name = "FILE")]
    pub patients: PathBuf,
    /// The column with the phone numbers (default: guessed from the values).
    #[arg(long, value_name = "COLUMN")]
    pub phone_column: Option<String>,
    /// For spreadsheets: the sheet with the patients (default: the sheet with the most phone
    /// numbers).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The country of numbers written without a country code, such as NG (default: guessed).
    #[arg(long, value_name = "CODE")]
    pub country: Option<String>,
    /// The campaign's name (default: from the patient file's name).
    #[arg(long)]
    pub name: Option<String>,
    /// robocall (default) or conversation.
    #[arg(long, value_parser = ["robocall", "conversation"])]
    pub kind: Option<String>,
    /// Where to write the campaign (default: DIR/<name>.yaml).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The schema file the campaign's first line names for editors, written there when
    /// missing (default: the checkout's schemas/campaign.schema.json, else
    /// campaign.schema.json beside the campaign).
    #[arg(long, value_name = "PATH")]
    pub schema: Option<PathBuf>,
    /// Accept every guess without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Overwrite the campaign file if it exists.
    #[arg(long)]
    pub force: bool,
}

// The flags of `outreach plan` (its help text is the variant\'s).
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent flag of the command"
)]
pub struct PlanArgs {
    /// The campaign file.
    pub campaign: PathBuf,
    /// Save the full plan as JSON to this file. With --list: the list's file instead (no
    /// plan is saved), owner-only.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format: human (the default), json (a summary document for CI) or markdown (a
    /// pull-request comment). With --list: csv (the default, or as --out's extension says),
    /// xlsx (needs --out) or json.
    #[arg(long, short = 'f', value_enum, value_name = "FORMAT")]
    pub format: Option<PlanOutput>,
    /// Write a list instead of the plan: `skipped` is every row the plan leaves out (filtered
    /// rows included), in row order, with its source, row, reason and the value at fault,
    /// for the clinic to fix. Phone numbers masked unless --unmask.
    #[arg(long, value_enum, value_name = "LIST")]
    pub list: Option<ListKind>,
    /// Show phone numbers and patient data in printed output (never in pull requests!).
    #[arg(long)]
    pub unmask: bool,
    /// Fail (exit 1, nothing saved) when any row is skipped because a template has no value
    /// for it (`missing-value`) or cannot be filled (`template-error`): among them, the rows a
    /// default under the wrong key was meant for (`clinic` where the template reads `Clinic`).
    #[arg(long)]
    pub strict: bool,
    /// Exit 0 when there is nothing to call, 2 when calls are pending, 1 on any error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How many rendered calls the printed output shows.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub sample: usize,
    /// Check the workflow on the bundled mock server (started in-process).
    #[arg(long, conflicts_with = "api_url")]
    pub mock: bool,
    /// Check the workflow on this server: it exists, fits the campaign's kind, is active,
    /// gets a value for every placeholder, and every message stays within 4000 characters.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Read the API key from this file (otherwise from INTRON_API_KEY), with --api-url.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// The ledger whose calls the plan subtracts (default: .outreach/state.db beside the
    /// campaign, when it exists), for the target given (--mock, --api-url, else the live API).
    #[arg(
        long,
        value_name = "FILE|URL",
        env = "OUTREACH_DATABASE_URL",
        hide_env_values = true
    )]
    pub state: Option<PathBuf>,
    /// Add a "What changed" section: the differences from this plan, saved earlier with
    /// --out (in CI, the base branch's plan): calls added and removed, changed variables,
    /// newly skipped rows. Masked unless --unmask (json: the counts only).
    #[arg(long, value_name = "PLAN.json")]
    pub compare: Option<PathBuf>,
    /// With --mock or --api-url: the receiver's callback URL
    /// (`https://…/callbacks/<token>`, see `outreach callbacks`); a workflow whose
    /// call_back_url is another is a problem, since its outcomes would not reach the
    /// ledger. Neither URL is ever printed: they hold the token.
    #[arg(
        long,
        value_name = "URL",
        env = "OUTREACH_CALLBACK_URL",
        hide_env_values = true
    )]
    pub callback_url: Option<String>,
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// What `report --format` accepts: the report's formats, and with `--list` the list's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportOutput {
    /// Aligned text for people.
    Table,
    /// One document (`outreach-report`); with --list, the list (`outreach-list`).
    Json,
    /// A measure per row; with --list, a patient per row, formulas made inert.
    Csv,
    /// A self-contained page with charts.
    Html,
    /// With --list: an Excel workbook, written to --out FILE.
    Xlsx,
}

/// What `plan --format` accepts: the plan's formats, and with `--list` the list's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanOutput {
    /// A summary, a sample of calls and the skipped rows grouped by reason.
    Human,
    /// The plan's summary document (`outreach-plan-summary`); with --list, the list as one
    /// document (`outreach-list`).
    Json,
    /// A pull-request comment: summary table, sample, skip reasons.
    Markdown,
    /// With --list: comma-separated values, formulas made inert.
    Csv,
    /// With --list: an Excel workbook, written to --out FILE.
    Xlsx,
}

// The flags of `outreach apply` (its help text is the variant\'s).
#[derive(Debug, clap::Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent flag of the command"
)]
pub struct ApplyArgs {
    /// A campaign file, or a plan saved with `outreach plan --out`.
    pub input: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Confirm that this is the campaign's first run against this target with this ledger.
    #[arg(long)]
    pub new_ledger: bool,
    /// When the campaign's declared workflow was edited on the service by hand since apply
    /// pushed it, create a workflow of the file's words anyway and call with it (without
    /// this, apply refuses and shows the three versions).
    #[arg(long)]
    pub overwrite_workflow: bool,
    /// Read the receiver's token, appended to a declared workflow's call_back_url when apply
    /// creates it, from this file, readable by its owner only (otherwise from
    /// OUTREACH_CALLBACK_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub callback_token_file: Option<PathBuf>,
    /// The campaign was moved or renamed from OLD.yaml: the ledger records campaign names
    /// with their file (relative to the repository) and refuses another file of the same
    /// name, which would share its record of calls.
    #[arg(long, value_name = "OLD.yaml")]
    pub moved_from: Option<PathBuf>,
    /// Place at most N calls in this run (the smaller of this and delivery.max_calls wins).
    #[arg(long, value_name = "N")]
    pub max_calls: Option<u64>,
    /// Go through every step except sending (recorded under a separate dry-run target).
    #[arg(long)]
    pub dry_run: bool,
    /// Outside a calling window, while paused, or with retries scheduled later: exit (0, and
    /// say until when) instead of waiting.
    #[arg(long)]
    pub no_wait: bool,
    /// Do not follow accepted calls to their outcome.
    #[arg(long)]
    pub no_follow: bool,
    /// With --mock, wait for calling windows as a live run would. By default the mock
    /// places calls at any hour (so CI dry runs do not depend on the time of day) and
    /// reports when a live run would have waited.
    #[arg(long, requires = "mock")]
    pub enforce_schedule: bool,
    /// Re-send calls in doubt that cannot be looked up on the server (risks a second call).
    #[arg(long)]
    pub resend_in_doubt: bool,
    /// Calls in doubt are only declared "never placed" when the server does not list
    /// them this many seconds after they were sent (a request may still be in flight).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub in_doubt_grace: u64,
    /// With a shared Postgres ledger: how long, in seconds, a runner's claimed calls and
    /// heartbeat hold. A runner renews them while it works; when one stops (a crash, a
    /// killed pod), the others take over its unsent calls after this long and look up the
    /// ones it was sending.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub lease: f64,
    /// How long to follow accepted calls, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub follow_timeout: u64,
    /// Summary format: human (a table), or json (one object, for CI).
    #[arg(long, short = 'f', value_enum, default_value_t = ApplyFormat::Human)]
    pub format: ApplyFormat,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

// The flags of `outreach watch` (its help text is the variant\'s).
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Campaign files, or directories to search for *.yaml and *.yml (default: campaigns/
    /// if there is one, else the current directory, where `init` writes).
    pub paths: Vec<PathBuf>,
    /// Output format: human, or json (one event object per line, for tools).
    #[arg(long, short = 'f', value_enum, default_value_t = WatchFormat::Human)]
    pub format: WatchFormat,
    /// Quiet time after the last change before the campaigns run again, in milliseconds.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub debounce: u64,
    /// Show phone numbers and patient data in printed output.
    #[arg(long)]
    pub unmask: bool,
    /// How many calls and skipped rows of each kind a change lists.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub sample: usize,
    /// After each good plan, apply it to the session's mock server (requires --mock).
    /// Outcomes are not followed and calling windows are not waited for.
    #[arg(long, requires = "mock")]
    pub apply: bool,
    /// With --apply: the target is the bundled mock server, started once for the session.
    /// There is no live target for the watcher.
    #[arg(long, requires = "apply")]
    pub mock: bool,
    /// With --apply: the ledger file (default: .outreach/state.db beside each campaign).
    #[arg(long, value_name = "FILE", requires = "apply")]
    pub state: Option<PathBuf>,
    #[command(flatten)]
    pub sources: SourceArgs,
}

impl Command {
    /// Where the command may read sources from, for the commands that read them.
    pub fn sources(&self) -> Option<&SourceArgs> {
        match self {
            Command::Validate { sources, .. } => Some(sources),
            Command::Plan(args) => Some(&args.sources),
            Command::Apply(args) => Some(&args.sources),
            Command::Watch(args) => Some(&args.sources),
            _ => None,
        }
    }
}
