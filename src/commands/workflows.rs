//! `outreach workflows list|show|pull`: read the server's workflows and hand them to
//! `report::workflows`.

use std::io::Write;

use anyhow::Context as _;

use crate::Outcome;
use crate::client::{Client, LookupError};
use crate::endpoint::Endpoint;
use crate::report::workflows::{self as reporter, Unavailable};
use crate::settings::workflows::{WorkflowsAction, WorkflowsSettings};

/// Runs `outreach workflows …`: exit 0 when shown, 2 (its reporter says why) when the server
/// has no such list or workflow.
pub fn run(s: &WorkflowsSettings, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let endpoint = Endpoint::open(&s.target).await?;
        let result = against(s, &endpoint, out).await;
        endpoint.close().await;
        result
    })
}

async fn against(
    s: &WorkflowsSettings,
    endpoint: &Endpoint,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let key = crate::apply::api_key(s.key.as_ref(), &s.target, false)?;
    let client = Client::new(&endpoint.base, key, s.request_timeout).map_err(anyhow::Error::msg)?;
    let server = crate::settings::target::shown_url(&endpoint.name);
    match &s.action {
        WorkflowsAction::List { json } => {
            let Some(all) = client
                .workflows_all()
                .await
                .map_err(|e| failed(&e, &server))?
            else {
                reporter::unavailable(&Unavailable::NoList, &server, *json, out)?;
                return Ok(Outcome::NotRun);
            };
            reporter::list(&server, &all.workflows, all.complete, *json, out)?;
        }
        WorkflowsAction::Show { id, json } => {
            let Some(w) = client.workflow(id).await.map_err(|e| failed(&e, &server))? else {
                let why = Unavailable::NoWorkflow { id: id.clone() };
                reporter::unavailable(&why, &server, *json, out)?;
                return Ok(Outcome::NotRun);
            };
            reporter::show(&server, &w, *json, out)?;
        }
        WorkflowsAction::Pull { id } => {
            let Some(w) = client.workflow(id).await.map_err(|e| failed(&e, &server))? else {
                let why = Unavailable::NoWorkflow { id: id.clone() };
                reporter::unavailable(&why, &server, false, out)?;
                return Ok(Outcome::NotRun);
            };
            reporter::pull(&w, out)?;
        }
    }
    Ok(Outcome::Success)
}

/// A lookup that failed, in words naming the server.
fn failed(e: &LookupError, server: &str) -> anyhow::Error {
    match e {
        LookupError::Unauthorized => anyhow::anyhow!(
            "{server} refused the API key (401): check INTRON_API_KEY or --api-key-file"
        ),
        LookupError::Other(m) => anyhow::anyhow!(
            "cannot read the workflows of {server}: {}",
            crate::load::diagnostic::inert(m)
        ),
    }
}
