//! The rules of a campaign's workflow that need no service: either a `workflow_id` or a
//! declared `workflow:`, never both; and for a declared one, its message against the
//! campaign's variables, its reply options, and its callback URL (which never holds the
//! receiver's token).

use std::collections::BTreeMap;

use crate::campaign::Kind;
use crate::campaign::workflow::{DeclaredWorkflow, placeholders};
use crate::load::diagnostic::{Code, Diagnostic};
use crate::load::document::Document;

/// The environment variable holding the receiver's token (read to refuse a file that
/// writes it, never shown).
pub(super) const TOKEN_VAR: &str = "OUTREACH_CALLBACK_TOKEN";

/// Checks the campaign's workflow: `declared` is its `workflow:` block when that parsed.
///
/// `base` is where the workflow is given: `""` for the campaign's own, `/languages/ha` for a
/// language's. Returns the placeholders of a declared message (for the unused-variable
/// warning, which the caller gives once over every message).
pub(super) fn check(
    doc: &Document,
    (base, kind): (&str, Kind),
    declared: Option<&DeclaredWorkflow>,
    variables: &BTreeMap<String, String>,
    opt_out_replies: &[String],
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<String>> {
    let Some(holder) = doc.value.pointer(base).filter(|v| v.is_object()) else {
        return None; // the schema says what the file is instead
    };
    let has_id = holder.get("workflow_id").is_some();
    let has_decl = holder.get("workflow").is_some();
    let whose = if base.is_empty() {
        "the campaign".to_owned()
    } else {
        format!("`{}`", base.trim_start_matches('/').replace('/', "."))
    };
    let workflow_at = format!("{base}/workflow");
    match (has_id, has_decl) {
        (true, true) => out.push(
            Diagnostic::error(
                Code::WorkflowTwice,
                format!("{whose} gives both `workflow_id` and `workflow`: its calls would go to one and its review show the other"),
            )
            .at(workflow_at.clone(), doc.key_span(&workflow_at))
            .help("keep `workflow:` to have the message in the file (apply creates it on the service), or `workflow_id` to call a workflow written on the service; `outreach workflows pull ID` writes the `workflow:` block of an existing one"),
        ),
        (false, false) => out.push(
            Diagnostic::error(
                Code::WorkflowMissing,
                format!("{whose} names no workflow: give `workflow_id` (a workflow on the service) or `workflow:` (its message, written here)"),
            )
            .at(base, doc.span(base))
            .help("`outreach workflows list --mock` lists the demo workflows; `outreach workflows pull ID` writes a `workflow:` block from one"),
        ),
        _ => {}
    }
    let w = declared?;
    let used = check_message(doc, (&workflow_at, kind), w, variables, out);
    check_options(doc, &workflow_at, w, opt_out_replies, out);
    if let Some(url) = &w.call_back_url {
        check_callback_url(doc, &workflow_at, url, out);
    }
    Some(used)
}

/// Warns of each variable no declared message uses (`used`: the placeholders of every
/// message, when all are declared).
pub(super) fn check_unused(
    doc: &Document,
    kind: Kind,
    variables: &BTreeMap<String, String>,
    used: &[String],
    out: &mut Vec<Diagnostic>,
) {
    for name in variables.keys() {
        if !used.contains(name) {
            let pointer = format!("/variables/{}", crate::load::document::escape(name));
            out.push(
                Diagnostic::warning(
                    Code::VariableUnused,
                    format!("the variable `{name}` is not used by the workflow's message"),
                )
                .at(pointer.clone(), doc.key_span(&pointer))
                .help(match kind {
                    Kind::Robocall => format!("write [{name}] where the message should say it, or remove the variable"),
                    Kind::Conversation => format!("write {{{{{name}}}}} where the message should say it, or remove the variable"),
                }),
            );
        }
    }
}

fn check_message(
    doc: &Document,
    (workflow_at, kind): (&str, Kind),
    w: &DeclaredWorkflow,
    variables: &BTreeMap<String, String>,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let at = &format!("{workflow_at}/message");
    let (wrong, right) = match kind {
        Kind::Robocall => ("{{", "[name]"),
        Kind::Conversation => ("[", "{{name}}"),
    };
    let other = match kind {
        Kind::Robocall => Kind::Conversation,
        Kind::Conversation => Kind::Robocall,
    };
    let foreign = placeholders(other, &w.message);
    if w.message.contains(wrong) && !foreign.is_empty() {
        let names: Vec<String> = foreign
            .iter()
            .take(5)
            .map(|n| match other {
                Kind::Robocall => format!("`[{n}]`"),
                Kind::Conversation => format!("`{{{{{n}}}}}`"),
            })
            .collect();
        out.push(
            Diagnostic::error(
                Code::MessagePlaceholderKind,
                format!(
                    "the message writes {} the way {} calls do, so a {} would read it out as written",
                    names.join(", "),
                    other.as_str(),
                    kind.as_str()
                ),
            )
            .at(at, doc.span(at))
            .help(format!("{} calls fill placeholders written {right}", kind.as_str())),
        );
    }
    let spaced = crate::campaign::workflow::spaced_placeholders(kind, &w.message);
    if !spaced.is_empty() {
        let names: Vec<String> = spaced
            .iter()
            .take(5)
            .map(|n| format!("`[ {n} ]`"))
            .collect();
        out.push(
            Diagnostic::error(
                Code::MessagePlaceholderKind,
                format!(
                    "the message writes {} with spaces inside the brackets: the service fills `[name]` only, so a patient would hear it as written",
                    names.join(", ")
                ),
            )
            .at(at, doc.span(at))
            .help("write placeholders without spaces: [name]"),
        );
    }
    for (field, text) in std::iter::once(("name", w.name.as_str()))
        .chain(std::iter::once(("message", w.message.as_str())))
        .chain(
            w.response_options
                .values()
                .map(|v| ("response_options", v.as_str())),
        )
    {
        if text.chars().any(crate::load::diagnostic::is_hidden) {
            let pointer = format!("{workflow_at}/{field}");
            out.push(
                Diagnostic::error(
                    Code::BadText,
                    format!(
                        "`workflow.{field}` holds a control character or a mark that reorders or hides text on screen, so what a reviewer reads is not what a patient hears"
                    ),
                )
                .at(pointer.clone(), doc.span(&pointer).or_else(|| doc.key_span(&pointer)))
                .help("retype the text without it (it may have come from a copy and paste)"),
            );
        }
    }
    let used = placeholders(kind, &w.message);
    let missing: Vec<&str> = used
        .iter()
        .filter(|p| !variables.contains_key(p.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(
            Diagnostic::error(
                Code::MessagePlaceholderUnknown,
                format!(
                    "the message uses {} with no value in `variables`: {}",
                    if missing.len() == 1 {
                        "a placeholder"
                    } else {
                        "placeholders"
                    },
                    missing.join(", ")
                ),
            )
            .at(at, doc.span(at))
            .help("give each a template under `variables:`, or take it out of the message: a patient would hear the placeholder as written"),
        );
    }
    used.into_iter().collect()
}

fn check_options(
    doc: &Document,
    workflow_at: &str,
    w: &DeclaredWorkflow,
    opt_out_replies: &[String],
    out: &mut Vec<Diagnostic>,
) {
    for key in w.response_options.keys() {
        let fine = key.len() == 1 && matches!(key.as_bytes()[0], b'1'..=b'9');
        if !fine {
            let pointer = format!(
                "{workflow_at}/response_options/{}",
                crate::load::document::escape(key)
            );
            out.push(
                Diagnostic::error(
                    Code::ResponseOptionKey,
                    format!(
                        "the reply option {} is not a key the patient can press",
                        crate::load::diagnostic::quoted(key)
                    ),
                )
                .at(pointer.clone(), doc.key_span(&pointer))
                .help("key each option by the digit pressed: \"1\" to \"9\""),
            );
        }
    }
    if w.include_reply && w.response_options.is_empty() {
        out.push(
            Diagnostic::error(
                Code::ReplyOptionsMismatch,
                "`include_reply` is true but the workflow offers no `response_options`: the patient would be asked to press a key for nothing",
            )
            .at(format!("{workflow_at}/include_reply"), doc.span(&format!("{workflow_at}/include_reply")))
            .help("list the answers under `response_options` (`\"1\": I will come`), or set `include_reply: false`"),
        );
    } else if !w.include_reply && !w.response_options.is_empty() {
        out.push(
            Diagnostic::error(
                Code::ReplyOptionsMismatch,
                "the workflow lists `response_options` but `include_reply` is false, so they would never be read out",
            )
            .at(format!("{workflow_at}/response_options"), doc.key_span(&format!("{workflow_at}/response_options")))
            .help("set `include_reply: true` to let patients answer, or remove the options"),
        );
    }
    let unknown: Vec<&str> = opt_out_replies
        .iter()
        .filter(|r| !w.response_options.contains_key(r.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        out.push(
            Diagnostic::error(
                Code::OptOutReplyUnknown,
                format!(
                    "`opt_out_replies` names {} the workflow does not offer: {}",
                    if unknown.len() == 1 {
                        "a reply option"
                    } else {
                        "reply options"
                    },
                    unknown.join(", ")
                ),
            )
            .at("/opt_out_replies", doc.key_span("/opt_out_replies"))
            .help("name keys of `workflow.response_options`"),
        );
    }
}

fn check_callback_url(doc: &Document, workflow_at: &str, url: &str, out: &mut Vec<Diagnostic>) {
    let at = &format!("{workflow_at}/call_back_url");
    let span = doc.span(at);
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| t.len() >= 8);
    if let Some(token) = token
        && url.contains(token.as_str())
    {
        out.push(
            Diagnostic::error(
                Code::CallbackUrlSecret,
                format!("`call_back_url` holds the receiver's token (the value of {TOKEN_VAR}); a reviewed file must not"),
            )
            .at(at, span)
            .help(format!("write the receiver's URL without it: apply appends the token from {TOKEN_VAR}; then change the token, since it was written in a file")),
        );
        return;
    }
    let parsed = match reqwest::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => u,
        _ => {
            out.push(
                Diagnostic::error(
                    Code::CallbackUrlInvalid,
                    "`call_back_url` is not an http(s) URL",
                )
                .at(at, span)
                .help("give the receiver's URL, such as https://outreach.example.org/callbacks"),
            );
            return;
        }
    };
    if !parsed.username().is_empty()
        || parsed.password().is_some()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
    {
        out.push(
            Diagnostic::error(
                Code::CallbackUrlSecret,
                "`call_back_url` has a user, password, query or fragment: a secret there would be in the reviewed file",
            )
            .at(at, span)
            .help(format!("write only the receiver's URL: apply appends its token from {TOKEN_VAR}")),
        );
        return;
    }
    if parsed.scheme() == "http" {
        let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if !local {
            out.push(
                Diagnostic::warning(
                    Code::CallbackUrlInvalid,
                    "`call_back_url` is plain http: the receiver's token, in its URL, would cross the network unencrypted",
                )
                .at(at, span)
                .help("serve the receiver behind TLS (docs/deployment.md) and give its https URL"),
            );
        }
    }
    let last = parsed
        .path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(ToOwned::to_owned));
    if let Some(last) = last
        && last.len() >= 16
        && last
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        && last.chars().any(|c| c.is_ascii_digit())
    {
        out.push(
            Diagnostic::error(
                Code::CallbackUrlSecret,
                "`call_back_url` ends in what looks like a token: a reviewed file must not hold the receiver's secret",
            )
            .at(at, span)
            .help(format!("write the URL up to `/callbacks`: apply appends the token from {TOKEN_VAR}")),
        );
    }
}
