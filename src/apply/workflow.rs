//! Before any call, a declared workflow (`workflow:` in the campaign) is made to exist on the
//! target as the file writes it, and the campaign bound to it in the ledger.
//!
//! - Bound and unchanged: its calls use the bound workflow. Where the service offers the
//!   workflow GET, a hand edit there since the push is refused (with the three versions)
//!   unless `--overwrite-workflow`; where it does not, that is said.
//! - Absent, or changed in the file: a new workflow is created (the documented POST) and the
//!   campaign rebound to it, so calls still queued on the old one keep their words and no
//!   [ours] endpoint is needed. It is created right before the first batch is written ahead:
//!   after the confirmation of the calls (whose question shows the message), the calling
//!   window and any pause; a run with nothing to send creates nothing.
//! - A failed create places no call. `--dry-run` creates nothing.

use anyhow::bail;
use voicebot_api::wire::Workflow;

use super::state::Shared;
use super::{Api, ApplySettings};
use crate::campaign::languages::Speaker;
use crate::campaign::workflow::Comparable;
use crate::client::{Client, LookupError};
use crate::ledger::{AsyncLedger, BindingKey, WorkflowBinding};
use crate::plan::declared::{Bound, Drift, Service, same_name};
use crate::settings::target::Target;

/// What the run calls with.
pub(super) enum Ensured {
    /// The campaign names its workflow by id: nothing to do.
    ById,
    /// The declared workflow's id on the target.
    Use(String),
    /// A workflow to create before the first batch.
    Create(Box<Creation>),
}

/// A workflow apply will create (when it is about to send) and bind the campaign to.
pub(super) struct Creation {
    key: Key,
    previous: Option<String>,
    file: Comparable,
    why: String,
}

impl Creation {
    /// The start of the confirmation's question.
    pub(super) fn sentence(&self, target: &str) -> String {
        let language = if self.key.language.is_empty() {
            String::new()
        } else {
            format!(" for `{}`", self.key.language)
        };
        format!(
            "About to create workflow `{}`{language} on {target} ({}), with the message \"{}\". ",
            self.key.name,
            self.why,
            inert(&self.file.message)
        )
    }
}

/// The id a dry run's requests name when the workflow would have been created.
const NOT_CREATED: &str = "not-created-dry-run";

/// The ledger's key of the campaign's declared workflow on a target, owned.
#[derive(Clone)]
struct Key {
    target: String,
    campaign: String,
    name: String,
    /// The language of `languages:` the workflow is for; `""` for the campaign's own.
    language: String,
}

impl Key {
    fn borrowed(&self) -> BindingKey<'_> {
        BindingKey {
            target: &self.target,
            campaign: &self.campaign,
            workflow_name: &self.name,
            language: &self.language,
        }
    }
}

/// What the run does about a declared workflow of the campaign (its own, or a language's)
/// on the target: use the bound one, create one, or refuse (edited by hand on the service).
pub(super) async fn prepare(
    s: &ApplySettings,
    api: &Api,
    ledger: &AsyncLedger,
    (campaign, kind): (&str, crate::campaign::Kind),
    speaker: Speaker<'_>,
) -> anyhow::Result<Ensured> {
    let Some(declared) = speaker.workflow else {
        return Ok(Ensured::ById);
    };
    let file = Comparable::declared(declared, kind);
    // A dry run reads the real target's binding and writes none.
    let key = Key {
        target: s.target.id().to_string(),
        campaign: campaign.to_owned(),
        name: declared.name.clone(),
        language: speaker.binding_language().to_owned(),
    };
    let binding = read_binding(ledger, &key).await?;
    let (bound, service, found_by_name) = match &binding {
        Some(b) => {
            let bound = Bound {
                workflow_id: b.workflow_id.clone(),
                digest: b.digest.clone(),
                pushed: Comparable::from_json(&b.pushed),
            };
            let service = lookup(api, &s.target, &b.workflow_id).await?;
            (Some(bound), service, false)
        }
        None => match by_name(api, &file).await? {
            Some(w) => (
                Some(Bound::found(&w, &file)),
                Service::Found(Box::new(w)),
                true,
            ),
            None => (None, Service::NotAsked, false),
        },
    };
    let drift = Drift::of(&file, bound.as_ref(), &service, true);
    let name = &key.name;
    let target = &api.base;
    match &drift {
        Drift::Same {
            workflow_id,
            checked,
        } => {
            if !checked {
                tracing::warn!(
                    "workflow `{name}` ({workflow_id}) is bound and unchanged in the file; hand edits on {target} were not checked: it offers no workflow lookup"
                );
            }
            let stale = binding.as_ref().is_some_and(|b| b.digest != file.digest());
            if (found_by_name || stale) && !s.dry_run {
                // Found by name, or edited on the service to the file's words: bound to it
                // from now on, nothing created.
                let previous = binding.as_ref().map(|b| b.workflow_id.as_str());
                bind(ledger, &key, previous, workflow_id, &file).await?;
                tracing::info!(
                    "workflow `{name}` on {target} ({workflow_id}) is what the file declares: the campaign is bound to it"
                );
            }
            return Ok(Ensured::Use(workflow_id.clone()));
        }
        Drift::HandEdited {
            workflow_id,
            pushed,
            service,
        } if !s.overwrite_workflow => {
            // In a campaign of languages the whole run stops: say whose workflow it is.
            let whose = if key.language.is_empty() {
                String::new()
            } else {
                format!("language `{}`: ", key.language)
            };
            bail!(
                "{whose}{}",
                three_versions(name, workflow_id, target, pushed.as_ref(), service, &file)
            );
        }
        _ => {}
    }
    let why = why_create(&drift, found_by_name);
    if s.dry_run {
        tracing::info!(
            "dry run: would create workflow `{name}` on {target} ({why}) and call with it"
        );
        return Ok(Ensured::Use(
            drift.bound_id().unwrap_or(NOT_CREATED).to_owned(),
        ));
    }
    Ok(Ensured::Create(Box::new(Creation {
        previous: binding.map(|b| b.workflow_id),
        key,
        file,
        why,
    })))
}

/// Creates the run's pending workflows, if any, once: right before the first batch is
/// written ahead. A failed create ends the run before any call is recorded or placed.
pub(super) async fn create_pending(
    s: &ApplySettings,
    shared: &std::sync::Arc<Shared>,
    client: &Client,
) -> anyhow::Result<()> {
    let mut pending = shared.pending_workflow.lock().await;
    while let Some(creation) = pending.first() {
        let id = create_one(s, client, shared, creation).await?;
        super::lock(&shared.call_workflow).insert(creation.key.language.clone(), id);
        pending.remove(0);
    }
    Ok(())
}

/// Creates one pending workflow: its id.
async fn create_one(
    s: &ApplySettings,
    client: &Client,
    shared: &Shared,
    creation: &Creation,
) -> anyhow::Result<String> {
    let (id, created) = create_and_bind(
        s,
        client,
        &shared.store,
        &creation.key,
        creation.previous.as_deref(),
        &creation.file,
    )
    .await?;
    if created {
        tracing::info!(
            "created workflow `{}` on {} ({}): {id}; its calls use it",
            creation.key.name,
            client.base(),
            creation.why
        );
    }
    Ok(id)
}

/// Why apply creates a workflow, in words.
fn why_create(drift: &Drift, found_by_name: bool) -> String {
    match drift {
        Drift::Changed { workflow_id, .. } if found_by_name => format!(
            "workflow {workflow_id} of that name on the service has other words, and outreach did not push it"
        ),
        Drift::Absent => "it was not on the service".to_owned(),
        Drift::Gone { workflow_id } => {
            format!("the workflow it was bound to ({workflow_id}) is no longer on the service")
        }
        Drift::Changed { workflow_id, .. } => {
            format!("its words changed since workflow {workflow_id} was pushed")
        }
        Drift::HandEdited { workflow_id, .. } => format!(
            "workflow {workflow_id} was edited on the service, and --overwrite-workflow puts the file's words back"
        ),
        Drift::Same { .. } | Drift::NotCompared => "its state on the service changed".to_owned(),
    }
}

/// The ledger's binding of the key.
async fn read_binding(ledger: &AsyncLedger, key: &Key) -> anyhow::Result<Option<WorkflowBinding>> {
    let key = key.clone();
    Ok(ledger
        .call(move |l| l.workflow_binding(&key.borrowed()))
        .await?)
}

/// Creates the file's workflow and binds the campaign to it: its id, and whether it is the
/// one created here (another runner may have bound one of the same words first).
async fn create_and_bind(
    s: &ApplySettings,
    client: &Client,
    ledger: &AsyncLedger,
    key: &Key,
    previous: Option<&str>,
    file: &Comparable,
) -> anyhow::Result<(String, bool)> {
    let name = &key.name;
    let target = client.base();
    let token = s.callback_token.as_ref().map(|token| {
        use secrecy::ExposeSecret as _;
        token.expose_secret()
    });
    // The bundled mock is given no callback URL without a token (a pull request's dry run
    // has none): it would send outcomes to the real receiver. What is bound is what was
    // pushed.
    let mut pushed = file.clone();
    let body = match file.create_body(token) {
        Ok(body) => body,
        Err(crate::campaign::workflow::MissingToken) if s.target.is_mock() => {
            tracing::warn!(
                "no OUTREACH_CALLBACK_TOKEN: the mock's workflow `{name}` is created without its call_back_url"
            );
            pushed.call_back_url = None;
            pushed.create_body(None)?
        }
        Err(e) => return Err(e.into()),
    };
    let file = &pushed;
    let created = client.create_workflow(&body).await.map_err(|e| {
        anyhow::anyhow!(
            "creating workflow `{name}` on {target}: {}; no call was placed",
            scrub(&e.to_string(), s.callback_token.as_ref())
        )
    })?;
    let id = created.id;
    if !crate::client::is_workflow_id(&id) {
        bail!(
            "{target} answered the creation of workflow `{name}` with an id that is not one; no call was placed"
        );
    }
    if bind(ledger, key, previous, &id, file).await? {
        return Ok((id, true));
    }
    // Another runner bound it first: calls use its workflow when it is this file's.
    match read_binding(ledger, key).await? {
        Some(b) if b.digest == file.digest() => {
            tracing::warn!(
                "another runner bound workflow `{name}` first ({}): calls use it; the one created here ({id}) is not used",
                b.workflow_id
            );
            Ok((b.workflow_id, false))
        }
        _ => bail!(
            "another runner bound workflow `{name}` to other words while this one created {id}; nothing was sent: run again"
        ),
    }
}

/// Records that the campaign's declared workflow is `id`, if still bound to `previous`.
async fn bind(
    ledger: &AsyncLedger,
    key: &Key,
    previous: Option<&str>,
    id: &str,
    file: &Comparable,
) -> anyhow::Result<bool> {
    let key = key.clone();
    let previous = previous.map(ToOwned::to_owned);
    let binding = WorkflowBinding {
        workflow_id: id.to_owned(),
        digest: file.digest(),
        pushed: file.to_json(),
        bound_at: crate::clock::now(),
    };
    Ok(ledger
        .call(move |l| l.bind_workflow(&key.borrowed(), previous.as_deref(), &binding))
        .await?)
}

/// What the service says of the bound workflow. A lookup that fails (not a 404) stops the
/// run: a hand edit could not be ruled out.
async fn lookup(api: &Api, target: &Target, id: &str) -> anyhow::Result<Service> {
    match api.client.workflow(id).await {
        Ok(Some(w)) => Ok(Service::Found(Box::new(w))),
        Ok(None) if target.is_mock() => Ok(Service::Gone),
        Ok(None) => Ok(Service::NotOffered),
        Err(LookupError::Unauthorized) => {
            bail!("the API key was refused (401) while reading workflow {id}; nothing was sent")
        }
        Err(LookupError::Other(e)) => bail!(
            "cannot read workflow {id} on {} to check it was not edited there: {e}; nothing was sent",
            api.base
        ),
    }
}

/// The service's workflow of the file's name, when nothing is bound and the service lists
/// its workflows ([ours]; a server without the list: none).
async fn by_name(api: &Api, file: &Comparable) -> anyhow::Result<Option<Workflow>> {
    match api.client.workflows_all().await {
        Ok(Some(all)) => Ok(same_name(file, &all.workflows).cloned()),
        Ok(None) => Ok(None),
        Err(LookupError::Unauthorized) => {
            bail!("the API key was refused (401) while listing workflows; nothing was sent")
        }
        Err(LookupError::Other(e)) => {
            tracing::warn!(
                "cannot list the workflows on {} ({e}): a workflow of the same name there is not looked for",
                api.base
            );
            Ok(None)
        }
    }
}

/// The refusal of a hand-edited workflow: the last push, the service's and the file's.
fn three_versions(
    name: &str,
    id: &str,
    target: &str,
    pushed: Option<&Comparable>,
    service: &Comparable,
    file: &Comparable,
) -> String {
    let pushed = pushed.map_or_else(|| "(not recorded)".to_owned(), version);
    format!(
        "workflow `{name}` ({id}) was edited on {target} since apply pushed it; nothing was sent.\n  last pushed: {pushed}\n  on service:  {}\n  in the file: {}\nPut the words you want in the file; then run apply with --overwrite-workflow to create a workflow of the file's words and call with it.",
        version(service),
        version(file)
    )
}

/// One version of a workflow on a line: its message, options and callback URL (no token).
fn version(c: &Comparable) -> String {
    let options = if c.response_options.is_empty() {
        "none".to_owned()
    } else {
        c.response_options
            .iter()
            .map(|(k, v)| format!("{k} \"{}\"", inert(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let callback = c
        .call_back_url
        .as_deref()
        .map_or_else(|| "none".to_owned(), |u| format!("{}/<token>", inert(u)));
    format!(
        "\"{}\" · reply options {options} · callback {callback}",
        inert(&c.message)
    )
}

/// Text for one log line: control characters and line breaks made visible.
fn inert(s: &str) -> String {
    crate::load::diagnostic::inert(s).replace('\n', "⏎")
}

/// A server's words with the receiver's token taken out: a service may echo the callback
/// URL it was given in an error.
fn scrub(text: &str, token: Option<&secrecy::SecretString>) -> String {
    match token
        .map(secrecy::ExposeSecret::expose_secret)
        .filter(|t| !t.is_empty())
    {
        Some(t) => text.replace(t, "<token>"),
        None => text.to_owned(),
    }
}
