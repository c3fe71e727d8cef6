//! A message over the service's limit is refused before anything is sent (issue 14, class 6):
//! with a target, apply fetches the workflow (as `plan` does) and measures every call's
//! message as the patient would hear it. Where the workflow cannot be fetched (the live
//! service documents no way to read one), the message is not known here: the server's
//! answer decides, and an entry it refuses is rejected alone (`send.rs`).

use anyhow::bail;
use voicebot_api::wire::MAX_MESSAGE_CHARS;

use super::Api;
use super::input::Loaded;
use crate::plan::workflow_check::heard_length;

/// How many of the calls over the limit the refusal names.
const EXAMPLES: usize = 5;

/// Refuses the run when the workflow's message, filled with any call's values, is over
/// [`MAX_MESSAGE_CHARS`]; a workflow that cannot be read leaves the check to the server.
pub(super) async fn refuse_over_the_limit(api: &Api, loaded: &Loaded) -> anyhow::Result<()> {
    let campaign = &loaded.campaign;
    // Each language's message against its own calls.
    for speaker in campaign.speakers() {
        refuse_for(api, loaded, speaker).await?;
    }
    Ok(())
}

async fn refuse_for(
    api: &Api,
    loaded: &Loaded,
    speaker: crate::campaign::languages::Speaker<'_>,
) -> anyhow::Result<()> {
    let campaign = &loaded.campaign;
    // A declared workflow's message is the file's: nothing to fetch.
    let declared = speaker.workflow.map(|w| w.message.clone());
    let fetched = match (&declared, speaker.workflow_id) {
        (Some(_), _) | (None, None) => None,
        (None, Some(id)) => Some(api.client.workflow(id).await),
    };
    let message = match (declared, fetched) {
        (Some(m), _) => m,
        (None, Some(Ok(Some(w)))) => w.message,
        (None, None | Some(Ok(None))) => return Ok(()),
        (None, Some(Err(e))) => {
            tracing::debug!(
                "the workflow's message could not be read ({e}); the server checks its length"
            );
            return Ok(());
        }
    };
    let over: Vec<(String, u64, usize)> = loaded
        .calls
        .iter()
        .filter(|p| p.call.language.as_deref() == speaker.language)
        .filter_map(|p| {
            let n = heard_length(campaign.kind, &message, &p.call.rendered.variables);
            (n > MAX_MESSAGE_CHARS).then(|| (p.source_label.clone(), p.call.row, n))
        })
        .collect();
    if over.is_empty() {
        return Ok(());
    }
    let examples: Vec<String> = over
        .iter()
        .take(EXAMPLES)
        .map(|(source, row, n)| format!("{source} row {row} ({n} characters)"))
        .collect();
    let calls = if over.len() == 1 { "call" } else { "calls" };
    bail!(
        "{} {calls} would exceed the {MAX_MESSAGE_CHARS}-character message limit of workflow {}: {}; nothing was sent. Shorten those values (or the workflow's message), then run again",
        over.len(),
        speaker
            .workflow_id
            .or(speaker.workflow.map(|w| w.name.as_str()))
            .unwrap_or_default(),
        examples.join(", ")
    )
}
