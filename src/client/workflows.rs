//! The workflow endpoints: the documented create (`POST /voicebot/v1/workflows`), which is not
//! idempotent and so says what a failure proves, and the [ours] list, paged with a bound.

use std::collections::HashSet;

use secrecy::ExposeSecret as _;
use voicebot_api::routes;
use voicebot_api::wire::{CreateWorkflow, Envelope, Workflow, WorkflowCreated, WorkflowList};

use super::{Client, LookupError, body_text, describe, message_of};

/// The largest answer read to a create (a workflow of a 4000-character message is a few KiB).
const MAX_CREATE_ANSWER: usize = 1024 * 1024;
/// The largest page of the workflow list read.
const MAX_LIST_PAGE: usize = 4 * 1024 * 1024;
/// Workflows asked for per page by [`Client::workflows_all`].
pub const PAGE_LIMIT: u64 = 100;
/// The most pages [`Client::workflows_all`] reads: a service with more is listed in part.
pub const MAX_PAGES: u64 = 50;
/// The longest workflow id accepted.
pub const MAX_ID_CHARS: usize = 128;

/// Whether `id` may be put in a URL's path as it is: 1 to [`MAX_ID_CHARS`] ASCII letters,
/// digits, `_` and `-` (every id the service and the mock hand out). Anything else (`/`, `..`,
/// `%`, a query) could reach another path, and is refused before a URL is built.
pub fn is_workflow_id(id: &str) -> bool {
    id.len() <= MAX_ID_CHARS && routes::is_id(id)
}

/// What a failed create proves. A create is not idempotent: only `NotSent`, `Rejected` and
/// `Unauthorized` prove that no workflow was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// The request provably never reached the server (connection refused, DNS).
    #[error("the workflow was not created: the request was not sent: {0}")]
    NotSent(String),
    /// 401: the key is wrong; nothing was created.
    #[error("the workflow was not created: the API key was refused (401): {0}")]
    Unauthorized(String),
    /// Another 4xx (a 429 included): nothing was created; the server's message says why
    /// (cut and made inert).
    #[error("the workflow was not created ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The server may have created it (5xx, a timeout or reset after sending, an answer
    /// without a usable id).
    #[error("the workflow may or may not have been created: {0}")]
    InDoubt(String),
}

/// The workflows a service lists, read page by page.
#[derive(Debug, Clone, PartialEq)]
pub struct AllWorkflows {
    /// In the service's order, each id once.
    pub workflows: Vec<Workflow>,
    /// False when [`MAX_PAGES`] pages were read and the service said it had more.
    pub complete: bool,
}

impl Client {
    /// Creates a workflow ([doc] `POST /voicebot/v1/workflows`) and returns its id.
    pub async fn create_workflow(
        &self,
        body: &CreateWorkflow,
    ) -> Result<WorkflowCreated, CreateError> {
        let resp = self
            .http
            .post(self.url(routes::WORKFLOWS))
            .bearer_auth(self.key.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    CreateError::NotSent(describe(&e))
                } else {
                    // Timeout or reset after the request may have been written.
                    CreateError::InDoubt(describe(&e))
                }
            })?;
        let status = resp.status();
        if status.is_redirection() {
            // The server may have created it (a 303 after a POST says it did): in doubt.
            return Err(CreateError::InDoubt(super::redirected(&resp)));
        }
        let text = body_text(resp, MAX_CREATE_ANSWER).await;
        if status.is_success() {
            let text = text.map_err(|e| {
                CreateError::InDoubt(format!(
                    "accepted ({status}) but the answer could not be read: {e}"
                ))
            })?;
            let created = serde_json::from_str::<Envelope<WorkflowCreated>>(&text)
                .map(|e| e.data)
                .map_err(|e| {
                    CreateError::InDoubt(format!(
                        "accepted ({status}) but the answer has no workflow id: {e}"
                    ))
                })?;
            if !is_workflow_id(&created.id) {
                // Never echoed: it may be anything, and it cannot be put in a URL.
                return Err(CreateError::InDoubt(format!(
                    "accepted ({status}) but the workflow id answered is not 1 to {MAX_ID_CHARS} letters, digits, `_` or `-`"
                )));
            }
            return Ok(created);
        }
        let message = text.map(|t| message_of(&t)).unwrap_or_default();
        Err(match status.as_u16() {
            401 => CreateError::Unauthorized(message),
            400..=499 => CreateError::Rejected {
                status: status.as_u16(),
                message,
            },
            _ => CreateError::InDoubt(format!("server error {status}: {message}")),
        })
    }

    /// One page of the workflow list ([ours]; `None` when the server does not offer it).
    pub async fn workflows(
        &self,
        page: u64,
        limit: u64,
    ) -> Result<Option<WorkflowList>, LookupError> {
        self.get_capped(&routes::workflows_page(page, limit), MAX_LIST_PAGE)
            .await
    }

    /// Every workflow, page after page ([ours]; `None` when the list is not offered): at
    /// most [`MAX_PAGES`] pages of [`PAGE_LIMIT`]. Stops at an empty or short page, at the
    /// `total` the server gives, or at a page that adds no new id (a server ignoring `page`).
    pub async fn workflows_all(&self) -> Result<Option<AllWorkflows>, LookupError> {
        let mut workflows = Vec::new();
        let mut seen = HashSet::new();
        for page in 1..=MAX_PAGES {
            let Some(list) = self.workflows(page, PAGE_LIMIT).await? else {
                if page == 1 {
                    return Ok(None);
                }
                // The list vanished in the middle: what was read is what there is.
                return Ok(Some(AllWorkflows {
                    workflows,
                    complete: false,
                }));
            };
            let got = list.workflows.len() as u64;
            let mut added = 0u64;
            for w in list.workflows {
                if seen.insert(w.id.clone()) {
                    workflows.push(w);
                    added += 1;
                }
            }
            let total_reached = list.total > 0 && workflows.len() as u64 >= list.total;
            if got < PAGE_LIMIT || added == 0 || total_reached {
                return Ok(Some(AllWorkflows {
                    workflows,
                    complete: true,
                }));
            }
        }
        Ok(Some(AllWorkflows {
            workflows,
            complete: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_fit_a_path_segment() {
        for good in [
            "9b643eb4-0799-4761-bd34-9580eb315aaf",
            "wf_1",
            "A",
            &"a".repeat(128),
        ] {
            assert!(is_workflow_id(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "a/b",
            "../status/x",
            "a?b",
            "a%2Fb",
            "a b",
            "é",
            &"a".repeat(129),
        ] {
            assert!(!is_workflow_id(bad), "{bad}");
        }
    }
}
