//! The flags of `outreach workflows`, and how they become its settings.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

use crate::settings::target::{ApiUrl, Target};
use crate::settings::workflows::{WorkflowsAction, WorkflowsSettings};

// The flags of `outreach workflows` (its help text is the variant's).
#[derive(Debug, clap::Args)]
pub struct WorkflowsArgs {
    #[command(subcommand)]
    pub action: WorkflowsCommand,
}

/// The server whose workflows are read.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Use the bundled mock server, started in-process (it holds its two seeded workflows).
    #[arg(long, conflicts_with = "api_url")]
    pub mock: bool,
    /// The voicebot API base URL.
    #[arg(long, value_name = "URL", default_value = crate::settings::target::LIVE_URL)]
    pub api_url: String,
    /// Read the API key from this file (otherwise from INTRON_API_KEY).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
}

/// Output formats of `workflows list` and `workflows show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkflowsFormat {
    /// For people: a table (list) or every field (show).
    Human,
    /// A JSON document (`format: outreach-workflows` or `outreach-workflow`).
    Json,
}

#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// List the server's workflows: id, name, type, status, reply options, callback URL.
    ///
    /// Reads `GET /voicebot/v1/workflows` page by page (at most 50 pages of 100). That
    /// endpoint is this project's guess at an undocumented path ([ours] in
    /// docs/voicebot-api.md): on a server without it, list says so and exits 2. A callback
    /// URL is shown without the receiver's token (`…/callbacks/<token>`).
    ///
    /// Exit codes: 0 listed, 2 could not list (no list endpoint, 401, server unreachable).
    List {
        #[command(flatten)]
        server: ServerArgs,
        /// Output format: human (a table) or json.
        #[arg(long, short = 'f', value_enum, default_value_t = WorkflowsFormat::Human)]
        format: WorkflowsFormat,
    },
    /// Show one workflow: every field, the message in full, the callback URL without its token.
    ///
    /// Reads `GET /voicebot/v1/workflows/{ID}` ([ours]). ID is the workflow's id, as `list`
    /// shows it (1 to 128 letters, digits, `_` or `-`).
    ///
    /// Exit codes: 0 shown, 2 could not (no such workflow or no such endpoint, 401, server
    /// unreachable, an ID that is not one).
    Show {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
        /// Output format: human or json.
        #[arg(long, short = 'f', value_enum, default_value_t = WorkflowsFormat::Human)]
        format: WorkflowsFormat,
    },
    /// Print a `workflow:` block for a campaign file from a workflow on the server.
    ///
    /// Paste it into a campaign in place of its `workflow_id:` line, and the campaign
    /// declares the same workflow: `plan` then finds it unchanged. The callback URL is
    /// written without the receiver's token, which `apply` appends from
    /// OUTREACH_CALLBACK_TOKEN. The campaign's `kind` must match the workflow's type
    /// (robocall for ROBOCALL, conversation for CONVERSATION): the block says which.
    ///
    /// Exit codes: 0 printed, 2 could not (as for `show`).
    Pull {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Per-request timeout of the workflow lookups.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `outreach workflows …` as settings: an id that could reach another path is refused here,
/// before any URL is built.
pub(super) fn resolve(args: WorkflowsArgs) -> anyhow::Result<WorkflowsSettings> {
    let (action, server) = match args.action {
        WorkflowsCommand::List { server, format } => (
            WorkflowsAction::List {
                json: format == WorkflowsFormat::Json,
            },
            server,
        ),
        WorkflowsCommand::Show { id, server, format } => (
            WorkflowsAction::Show {
                id: workflow_id(id)?,
                json: format == WorkflowsFormat::Json,
            },
            server,
        ),
        WorkflowsCommand::Pull { id, server } => (
            WorkflowsAction::Pull {
                id: workflow_id(id)?,
            },
            server,
        ),
    };
    if !server.mock {
        crate::clock::reaching_a_server(&crate::settings::target::shown_url(&server.api_url));
    }
    let key = super::resolve::api_key(&super::TargetArgs {
        mock: server.mock,
        api_url: server.api_url.clone(),
        api_key_file: server.api_key_file.clone(),
        state: None,
    })?;
    Ok(WorkflowsSettings {
        action,
        target: if server.mock {
            Target::Mock
        } else {
            Target::Url(ApiUrl::parse(&server.api_url)?)
        },
        key,
        request_timeout: REQUEST_TIMEOUT,
    })
}

/// The id, when it fits in a URL's path as it is (never echoed otherwise: it may hold
/// anything).
fn workflow_id(id: String) -> anyhow::Result<String> {
    if crate::client::is_workflow_id(&id) {
        Ok(id)
    } else {
        anyhow::bail!(
            "the workflow id given is not one: an id is 1 to {} letters, digits, `_` or `-` (as `outreach workflows list` shows them)",
            crate::client::MAX_ID_CHARS
        )
    }
}
