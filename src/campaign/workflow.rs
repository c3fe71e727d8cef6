//! A workflow declared in the campaign file (`workflow:`), instead of a `workflow_id` naming
//! one edited on the service: the words a patient hears, reviewed with the file.
//!
//! What is pushed to the service, what is compared with the service's copy, and what is
//! shown are written here once, so that the receiver's token (appended to `call_back_url`
//! when the workflow is created, from `OUTREACH_CALLBACK_TOKEN`) is never part of a digest, a
//! comparison, a plan or a line of output.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use voicebot_api::wire::{CreateWorkflow, Workflow, WorkflowType};

use super::Kind;

/// A workflow written in the campaign. Field names follow the voicebot API's
/// `POST /voicebot/v1/workflows`; its `workflow_type` is the campaign's `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredWorkflow {
    /// The workflow's name on the service. `apply` creates a workflow of this name when the
    /// campaign has none yet, and a new one whenever the message, options or callback change,
    /// so that calls already queued keep the words they were placed with.
    #[schemars(length(min = 1, max = 128), example = &"measles-second-dose")]
    pub name: String,

    /// A description shown in the service's dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,

    /// The words the patient hears. Robocalls fill `[name]` placeholders, conversation calls
    /// `{{name}}` ones, each from the campaign's `variables`. At most 4000 characters once
    /// filled, for every patient.
    #[schemars(
        length(min = 1, max = 4000),
        example = &"Hello [name], [child]'s second measles dose is due on [date] at [clinic]."
    )]
    pub message: String,

    /// Whether the patient may answer on the keypad, choosing one of `response_options`.
    #[serde(default)]
    pub include_reply: bool,

    /// The answers the patient may give, keyed by the key they press: `"1"` to `"9"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = example_options())]
    pub response_options: BTreeMap<String, String>,

    /// Where the service sends each batch's outcomes: the URL of `outreach callbacks`, such
    /// as `https://outreach.example.org/callbacks`. The receiver's token is appended from
    /// `OUTREACH_CALLBACK_TOKEN` when the workflow is created; never write it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2000), example = &"https://outreach.example.org/callbacks")]
    pub call_back_url: Option<String>,
}

fn example_options() -> serde_json::Value {
    serde_json::json!({"1": "I will come", "2": "Please call me back"})
}

/// The most characters of a message the service accepts, once filled.
pub const MAX_MESSAGE_CHARS: usize = voicebot_api::wire::MAX_MESSAGE_CHARS;

/// What is compared between the file, the service and the last push: the fields the service
/// keeps, with the callback URL's token removed (`call_back_url` is the receiver's URL as the
/// file writes it). Serialised in this field order for the digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparable {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub workflow_type: String,
    pub message: String,
    #[serde(default)]
    pub include_reply: bool,
    #[serde(default)]
    pub response_options: BTreeMap<String, String>,
    #[serde(default)]
    pub call_back_url: Option<String>,
}

/// The largest `Comparable` read back from a ledger, in bytes of JSON.
pub const MAX_COMPARABLE_JSON: usize = 64 * 1024;

impl Comparable {
    /// The file's declaration, as the campaign's kind pushes it.
    pub fn declared(decl: &DeclaredWorkflow, kind: Kind) -> Comparable {
        Comparable {
            name: decl.name.clone(),
            description: decl.description.clone().filter(|d| !d.is_empty()),
            workflow_type: workflow_type(kind).as_str().to_owned(),
            message: decl.message.clone(),
            include_reply: decl.include_reply,
            response_options: decl.response_options.clone(),
            call_back_url: decl.call_back_url.as_deref().map(normal_url),
        }
    }

    /// The service's workflow, its callback URL's token removed: a token segment after the
    /// declared base URL (`base`), or a last path segment that looks like a token.
    pub fn service(w: &Workflow, base: Option<&str>) -> Comparable {
        Comparable {
            name: w.name.clone(),
            description: w.description.clone().filter(|d| !d.is_empty()),
            workflow_type: w.workflow_type.as_str().to_owned(),
            message: w.message.clone(),
            include_reply: w.include_reply,
            response_options: w.response_options.clone(),
            call_back_url: w
                .call_back_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .map(|u| without_token(u, base)),
        }
    }

    /// The lower-case hex SHA-256 of this form's JSON: what the ledger records as pushed.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut hex = String::with_capacity(64);
        for b in Sha256::digest(&json) {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }

    /// This form as the ledger keeps it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A form the ledger kept, or `None` when it is not one (too large, or not this shape).
    pub fn from_json(text: &str) -> Option<Comparable> {
        if text.len() > MAX_COMPARABLE_JSON {
            return None;
        }
        serde_json::from_str(text).ok()
    }

    /// The body that creates this workflow, its callback URL ending in the receiver's token.
    /// `None` when the workflow has a callback URL and no token was given: a workflow created
    /// without it would send its outcomes to a URL that answers 404.
    pub fn create_body(&self, token: Option<&str>) -> Result<CreateWorkflow, MissingToken> {
        let call_back_url = match (&self.call_back_url, token) {
            (None, _) => None,
            (Some(base), Some(token)) if !token.is_empty() => {
                Some(format!("{}/{token}", base.trim_end_matches('/')))
            }
            (Some(_), _) => return Err(MissingToken),
        };
        let workflow_type = if self.workflow_type == WorkflowType::Conversation.as_str() {
            WorkflowType::Conversation
        } else {
            WorkflowType::Robocall
        };
        Ok(CreateWorkflow {
            name: self.name.clone(),
            description: self.description.clone(),
            workflow_type,
            message: self.message.clone(),
            include_reply: Some(self.include_reply),
            response_options: (!self.response_options.is_empty())
                .then(|| self.response_options.clone()),
            call_back_url,
        })
    }
}

/// A declared callback URL with no token to end it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the workflow has a call_back_url, but no receiver token was given: set OUTREACH_CALLBACK_TOKEN (the token `outreach callbacks` was started with), so that the URL pushed ends in it"
)]
pub struct MissingToken;

/// The service's workflow type for a campaign's kind.
pub fn workflow_type(kind: Kind) -> WorkflowType {
    match kind {
        Kind::Robocall => WorkflowType::Robocall,
        Kind::Conversation => WorkflowType::Conversation,
    }
}

/// A URL trimmed, with no trailing slash on its path.
fn normal_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

/// Whether a path segment looks like a secret: long, and made of a token's characters.
fn looks_like_token(segment: &str) -> bool {
    segment.len() >= 16
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%'))
}

/// `url` without what may be a secret: its user and password, query and fragment, and its
/// token (the segment after the declared `base`, or a last segment that looks like one).
/// What remains is the receiver's base URL, as a campaign file writes it.
pub fn without_token(url: &str, base: Option<&str>) -> String {
    let url = url.trim();
    if let Some(base) = base.map(normal_url).filter(|b| !b.is_empty())
        && let Some(rest) = url.strip_prefix(&base)
        && (rest.is_empty() || rest.starts_with('/'))
        && !rest.trim_matches('/').contains(['/', '?', '#'])
    {
        return base;
    }
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        // Not a URL: nothing of it is shown or compared but that it is not one.
        return "(not a URL)".to_owned();
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    parsed.set_fragment(None);
    let path = parsed.path().trim_end_matches('/').to_owned();
    let kept = match path.rsplit_once('/') {
        Some((head, last)) if looks_like_token(last) => head.to_owned(),
        _ => path,
    };
    parsed.set_path(&kept);
    normal_url(parsed.as_str())
}

/// A callback URL as it may be shown: [`without_token`], then `/<token>` where a token was.
pub fn shown_url(url: &str, base: Option<&str>) -> String {
    let kept = without_token(url, base);
    let trimmed = normal_url(url);
    if kept == trimmed || kept == "(not a URL)" {
        kept
    } else {
        format!("{kept}/<token>")
    }
}

/// Where each placeholder of a message is, and its name: the one definition that validate,
/// the length check and the message a plan shows all use. Robocalls fill `[name]` exactly
/// (no space inside: `[ name ]` is read out as written); conversations `{{name}}`, spaces
/// inside the braces allowed.
fn spans(kind: Kind, message: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let (open, close) = match kind {
        Kind::Robocall => ("[", "]"),
        Kind::Conversation => ("{{", "}}"),
    };
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = message[at..].find(open).map(|i| at + i) {
        let inner_start = start + open.len();
        let Some(end) = message[inner_start..].find(close).map(|i| inner_start + i) else {
            break;
        };
        let inner = &message[inner_start..end];
        let name = match kind {
            Kind::Robocall => inner,
            Kind::Conversation => inner.trim(),
        };
        if !name.is_empty() && !name.contains(char::is_whitespace) {
            out.push((start..end + close.len(), name.to_owned()));
        }
        at = end + close.len();
    }
    out
}

/// The placeholders of a message: `[name]` for robocalls, `{{name}}` for conversations.
pub fn placeholders(kind: Kind, message: &str) -> BTreeSet<String> {
    spans(kind, message).into_iter().map(|(_, n)| n).collect()
}

/// A robocall message's `[ name ]`s: a name with spaces inside its brackets, which the
/// service does not fill (a patient would hear the brackets and the word).
pub fn spaced_placeholders(kind: Kind, message: &str) -> BTreeSet<String> {
    if kind != Kind::Robocall {
        return BTreeSet::new();
    }
    let mut out = BTreeSet::new();
    let mut rest = message;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        let name = inner.trim();
        if name != inner && !name.is_empty() && !name.contains(char::is_whitespace) {
            out.insert(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

/// How many characters of `message` a patient hears, filled with `values`: what the
/// service's [`MAX_MESSAGE_CHARS`] limits.
pub fn heard_length(kind: Kind, message: &str, values: &BTreeMap<String, String>) -> usize {
    substitute(kind, message, values).chars().count()
}

/// The message as a patient would hear it: each placeholder with a value filled, the
/// others as written.
pub fn substitute(kind: Kind, message: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut from = 0;
    for (range, name) in spans(kind, message) {
        out.push_str(&message[from..range.start]);
        match values.get(&name) {
            Some(v) => out.push_str(v),
            None => out.push_str(&message[range.clone()]),
        }
        from = range.end;
    }
    out.push_str(&message[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "3f1c9a7e5b2d4f60818a9c0b1d2e3f40";

    fn decl() -> DeclaredWorkflow {
        DeclaredWorkflow {
            name: "measles-second-dose".into(),
            description: None,
            message: "Hello [name]".into(),
            include_reply: true,
            response_options: BTreeMap::from([("1".into(), "Yes".into())]),
            call_back_url: Some("https://outreach.example.org/callbacks/".into()),
        }
    }

    fn service(url: Option<&str>) -> Workflow {
        Workflow {
            id: "w1".into(),
            name: "measles-second-dose".into(),
            description: None,
            workflow_type: WorkflowType::Robocall,
            message: "Hello [name]".into(),
            include_reply: true,
            response_options: BTreeMap::from([("1".into(), "Yes".into())]),
            call_back_url: url.map(str::to_owned),
            status: voicebot_api::wire::WorkflowStatus::Active,
            created_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn the_pushed_url_ends_in_the_token_and_compares_equal_without_it() {
        let declared = Comparable::declared(&decl(), Kind::Robocall);
        let body = declared.create_body(Some(TOKEN)).unwrap();
        assert_eq!(
            body.call_back_url.as_deref(),
            Some(format!("https://outreach.example.org/callbacks/{TOKEN}").as_str())
        );
        let base = declared.call_back_url.as_deref();
        let back = Comparable::service(&service(body.call_back_url.as_deref()), base);
        assert_eq!(back, declared);
        assert_eq!(back.digest(), declared.digest());
        assert!(!declared.to_json().contains(TOKEN));
        // Without the base (a hand-made workflow), a token-like last segment is removed too.
        let alone = Comparable::service(&service(body.call_back_url.as_deref()), None);
        assert_eq!(alone.call_back_url, declared.call_back_url);
    }

    #[test]
    fn no_token_no_create() {
        let declared = Comparable::declared(&decl(), Kind::Robocall);
        assert_eq!(declared.create_body(None), Err(MissingToken));
        assert_eq!(declared.create_body(Some("")), Err(MissingToken));
        let mut no_url = decl();
        no_url.call_back_url = None;
        let body = Comparable::declared(&no_url, Kind::Robocall)
            .create_body(None)
            .unwrap();
        assert_eq!(body.call_back_url, None);
    }

    #[test]
    fn shown_urls_hold_no_secret() {
        let base = Some("https://outreach.example.org/callbacks");
        let pushed = format!("https://outreach.example.org/callbacks/{TOKEN}");
        assert_eq!(
            shown_url(&pushed, base),
            "https://outreach.example.org/callbacks/<token>"
        );
        assert_eq!(
            shown_url(&pushed, None),
            "https://outreach.example.org/callbacks/<token>"
        );
        // A short token after the declared base is still a token.
        assert_eq!(
            shown_url("https://outreach.example.org/callbacks/abc", base),
            "https://outreach.example.org/callbacks/<token>"
        );
        for url in [
            "https://user:hunter2secret@hooks.example.org/in?key=hunter2secret#hunter2secret",
            "https://hooks.example.org/in?key=hunter2secret",
        ] {
            let shown = shown_url(url, None);
            assert!(!shown.contains("hunter2secret"), "{shown}");
            assert!(shown.starts_with("https://hooks.example.org/in"), "{shown}");
        }
        assert_eq!(shown_url("not a url hunter2", None), "(not a URL)");
        assert_eq!(
            shown_url("https://outreach.example.org/callbacks", base),
            "https://outreach.example.org/callbacks"
        );
    }

    #[test]
    fn a_change_of_any_pushed_field_changes_the_digest() {
        let base = Comparable::declared(&decl(), Kind::Robocall);
        let mut changed = base.clone();
        changed.message.push('!');
        assert_ne!(base.digest(), changed.digest());
        let mut changed = base.clone();
        changed.response_options.insert("2".into(), "No".into());
        assert_ne!(base.digest(), changed.digest());
        let conversation = Comparable::declared(&decl(), Kind::Conversation);
        assert_ne!(base.digest(), conversation.digest());
        assert_eq!(base.digest().len(), 64);
        assert_eq!(Comparable::from_json(&base.to_json()), Some(base));
        assert_eq!(Comparable::from_json("{"), None);
    }

    #[test]
    fn finds_placeholders_of_each_kind() {
        let p = placeholders(
            Kind::Robocall,
            "Hello [name], see you on [date] at [ clinic ]. [ ]",
        );
        assert_eq!(p.into_iter().collect::<Vec<_>>(), ["date", "name"]);
        assert_eq!(
            spaced_placeholders(Kind::Robocall, "at [ clinic ] on [date]")
                .into_iter()
                .collect::<Vec<_>>(),
            ["clinic"]
        );
        let p = placeholders(
            Kind::Conversation,
            "Hi {{name}}, your {{ medicine }} is ready",
        );
        assert_eq!(p.into_iter().collect::<Vec<_>>(), ["medicine", "name"]);
    }

    #[test]
    fn substitutes_values() {
        let vars = [("name".to_owned(), "Ada".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(
            substitute(Kind::Robocall, "Hello [name]!", &vars),
            "Hello Ada!"
        );
        assert_eq!(
            substitute(Kind::Conversation, "Hi {{name}} and {{  name }}", &vars),
            "Hi Ada and Ada"
        );
        // What is not filled is heard as written; what is checked is what is filled.
        assert_eq!(
            substitute(Kind::Robocall, "Hello [ name ] [name] [other]", &vars),
            "Hello [ name ] Ada [other]"
        );
    }
}
