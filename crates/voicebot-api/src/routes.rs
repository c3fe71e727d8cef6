//! The API's paths, spelt once: the mock's router takes the patterns, the client the filled-in
//! paths. `docs/voicebot-api.md` marks which the service documents and which this project assumes.

/// Every route of the API starts with this.
pub const PREFIX: &str = "/voicebot/v1/";

/// Places ROBOCALL calls [doc].
pub const ROBOCALL: &str = "/voicebot/v1/call";
/// The same, as the overview spells it [doc].
pub const ROBOCALL_ALIAS: &str = "/voicebot/v1/robocall/call";
/// Places CONVERSATION calls [ours].
pub const CONVERSATION: &str = "/voicebot/v1/convobot/call";
/// One call's status [doc], as an axum pattern.
pub const STATUS: &str = "/voicebot/v1/status/{call_id}";
/// Creates (POST) and lists (GET) workflows.
pub const WORKFLOWS: &str = "/voicebot/v1/workflows";
/// One workflow [ours], as an axum pattern.
pub const WORKFLOW: &str = "/voicebot/v1/workflows/{id}";
/// A workflow's requests (batches) [ours], as an axum pattern.
pub const WORKFLOW_REQUESTS: &str = "/voicebot/v1/workflows/{id}/requests";
/// One request (batch) and its calls [ours], as an axum pattern.
pub const BATCH: &str = "/voicebot/v1/requests/{batch_id}";

/// The longest id put in a path.
pub const MAX_ID_CHARS: usize = 128;

/// Whether `id` may be put in a URL's path as it is: 1 to [`MAX_ID_CHARS`] ASCII letters,
/// digits, `_` and `-` (every id the service and the mock hand out). Anything else (`/`, `..`,
/// `%`, a query) could reach another path.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The path of one call's status.
pub fn status(call_id: &str) -> String {
    format!("/voicebot/v1/status/{call_id}")
}

/// The path of one workflow.
pub fn workflow(id: &str) -> String {
    format!("/voicebot/v1/workflows/{id}")
}

/// The path of one page of the workflow list [ours] (pages start at 1).
pub fn workflows_page(page: u64, limit: u64) -> String {
    format!("/voicebot/v1/workflows?page={page}&limit={limit}")
}

/// The path of a workflow's requests.
pub fn workflow_requests(id: &str) -> String {
    format!("/voicebot/v1/workflows/{id}/requests")
}

/// The path of one request (batch).
pub fn batch(batch_id: &str) -> String {
    format!("/voicebot/v1/requests/{batch_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_paths_match_their_patterns() {
        assert_eq!(status("c1"), STATUS.replace("{call_id}", "c1"));
        assert_eq!(workflow("w1"), WORKFLOW.replace("{id}", "w1"));
        assert_eq!(
            workflow_requests("w1"),
            WORKFLOW_REQUESTS.replace("{id}", "w1")
        );
        assert_eq!(batch("b1"), BATCH.replace("{batch_id}", "b1"));
        assert_eq!(
            workflows_page(2, 50),
            format!("{WORKFLOWS}?page=2&limit=50")
        );
        for route in [ROBOCALL, ROBOCALL_ALIAS, CONVERSATION, WORKFLOWS] {
            assert!(route.starts_with(PREFIX), "{route}");
        }
    }
}
