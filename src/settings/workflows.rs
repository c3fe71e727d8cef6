//! Settings of `outreach workflows list|show|pull`.

use std::time::Duration;

use secrecy::SecretString;

use crate::settings::target::Target;

/// What `outreach workflows` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowsAction {
    /// Every workflow the server lists.
    List { json: bool },
    /// One workflow, every field.
    Show { id: String, json: bool },
    /// One workflow as a campaign's `workflow:` block.
    Pull { id: String },
}

/// Settings of `outreach workflows`.
#[derive(Debug)]
pub struct WorkflowsSettings {
    pub action: WorkflowsAction,
    /// The server read (`--mock` or `--api-url`).
    pub target: Target,
    /// The API key (from `INTRON_API_KEY` or `--api-key-file`).
    pub key: Option<SecretString>,
    /// Per-request timeout.
    pub request_timeout: Duration,
}
