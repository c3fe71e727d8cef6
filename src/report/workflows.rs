//! `outreach workflows`: the server's workflows as a table, one in full, or as a campaign's
//! `workflow:` block. Every callback URL is written through `campaign::workflow` (never as the
//! service holds it: it ends in the receiver's token), and every text the server sent is made
//! inert for a terminal in human output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;
use voicebot_api::wire::Workflow;

use crate::campaign::workflow::{MAX_MESSAGE_CHARS, shown_url, without_token};
use crate::load::diagnostic::inert;
use crate::report::document::{Document, write_pretty};

/// A workflow as the tool shows it: the service's fields, the callback URL without its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub workflow_type: String,
    pub status: String,
    pub message: String,
    pub include_reply: bool,
    pub response_options: BTreeMap<String, String>,
    /// `…/callbacks/<token>` where the service's URL ends in a token.
    pub call_back_url: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl From<&Workflow> for WorkflowView {
    fn from(w: &Workflow) -> Self {
        WorkflowView {
            id: w.id.clone(),
            name: w.name.clone(),
            description: w.description.clone(),
            workflow_type: w.workflow_type.as_str().to_owned(),
            status: w.status.as_str().to_owned(),
            message: w.message.clone(),
            include_reply: w.include_reply,
            response_options: w.response_options.clone(),
            call_back_url: callback_shown(w),
            created_at: w.created_at.clone(),
            updated_at: w.updated_at.clone(),
        }
    }
}

/// The service's callback URL as it may be shown (none when absent or blank).
fn callback_shown(w: &Workflow) -> Option<String> {
    w.call_back_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| shown_url(u, None))
}

/// `workflows list --format json`.
#[derive(Debug, Serialize)]
pub struct WorkflowListDocument {
    /// The server, as messages name it.
    pub server: String,
    /// False when the list was cut at the most pages read.
    pub complete: bool,
    pub workflows: Vec<WorkflowView>,
}

impl Document for WorkflowListDocument {
    const FORMAT: &'static str = "outreach-workflows";
    const VERSION: u32 = 1;
}

/// `workflows show --format json`.
#[derive(Debug, Serialize)]
pub struct WorkflowDocument {
    pub server: String,
    pub workflow: WorkflowView,
}

impl Document for WorkflowDocument {
    const FORMAT: &'static str = "outreach-workflow";
    const VERSION: u32 = 1;
}

/// What the server could not give (`--format json`): `reason` is one of the codes of
/// [`Unavailable`].
#[derive(Debug, Serialize)]
pub struct UnavailableDocument {
    pub server: String,
    pub reason: &'static str,
    pub message: String,
}

impl Document for UnavailableDocument {
    const FORMAT: &'static str = "outreach-workflows-unavailable";
    const VERSION: u32 = 1;
}

/// Why nothing could be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The list answered 404: the server does not offer it.
    NoList,
    /// The workflow answered 404: no such workflow, or no such endpoint.
    NoWorkflow { id: String },
}

impl Unavailable {
    fn code(&self) -> &'static str {
        match self {
            Unavailable::NoList => "no-list-endpoint",
            Unavailable::NoWorkflow { .. } => "no-workflow",
        }
    }

    fn words(&self, server: &str) -> String {
        match self {
            Unavailable::NoList => format!(
                "{server} does not list workflows: GET /voicebot/v1/workflows answered 404. That endpoint is this project's guess ([ours] in docs/voicebot-api.md), not documented; `outreach workflows show ID` reads one workflow where the server offers it"
            ),
            // The id was checked to be letters, digits, `_` and `-` before it was sent.
            Unavailable::NoWorkflow { id } => format!(
                "{server} has no workflow {id}, or does not offer GET /voicebot/v1/workflows/{{id}} (this project's guess, [ours] in docs/voicebot-api.md): it answered 404"
            ),
        }
    }
}

/// A document as [`write_pretty`] writes it, through [`escaped`].
fn write_document<D: Document>(document: &D, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = Vec::new();
    write_pretty(document, &mut buf)?;
    out.write_all(escaped(&String::from_utf8_lossy(&buf)).as_bytes())
}

/// Says what could not be shown, in words or as a document.
pub fn unavailable(
    why: &Unavailable,
    server: &str,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let message = why.words(&line(server));
    if json {
        write_document(
            &UnavailableDocument {
                server: server.to_owned(),
                reason: why.code(),
                message,
            },
            out,
        )
    } else {
        writeln!(out, "{message}.")
    }
}

/// Text from the server on one line of a table: inert, tabs and newlines as spaces, cut.
fn cell(text: &str, max_chars: usize) -> String {
    let one_line: String = inert(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    if one_line.chars().count() > max_chars {
        let mut cut: String = one_line.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        one_line
    }
}

/// A time the service gave, for people: in the one format, in the machine's zone (a
/// workflow belongs to no campaign); text that is not an RFC 3339 time is shown as it is.
fn when(text: &str) -> String {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map_or_else(|_| line(text), crate::clock::human_local)
}

/// Text from the server on one line, never cut.
fn line(text: &str) -> String {
    cell(text, usize::MAX)
}

/// `workflows list`: a table, or the document.
pub fn list(
    server: &str,
    workflows: &[Workflow],
    complete: bool,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if json {
        return write_document(
            &WorkflowListDocument {
                server: server.to_owned(),
                complete,
                workflows: workflows.iter().map(WorkflowView::from).collect(),
            },
            out,
        );
    }
    if workflows.is_empty() {
        return writeln!(out, "{} lists no workflows.", line(server));
    }
    let rows: Vec<[String; 6]> = workflows
        .iter()
        .map(|w| {
            let view = WorkflowView::from(w);
            [
                cell(&view.id, 64),
                cell(&view.name, 40),
                cell(&view.workflow_type, 14),
                cell(&view.status, 10),
                view.response_options.len().to_string(),
                view.call_back_url
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |u| cell(u, 80)),
            ]
        })
        .collect();
    let head = ["ID", "NAME", "TYPE", "STATUS", "REPLIES", "CALLBACK"];
    let mut widths = head.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    write_row(&head.map(str::to_owned), &widths, out)?;
    for row in &rows {
        write_row(row, &widths, out)?;
    }
    let n = workflows.len();
    writeln!(
        out,
        "\n{n} workflow{} on {}.",
        if n == 1 { "" } else { "s" },
        line(server)
    )?;
    if !complete {
        writeln!(
            out,
            "The server has more: the list stops after {} pages of {}.",
            crate::client::MAX_PAGES,
            crate::client::PAGE_LIMIT
        )?;
    }
    Ok(())
}

fn write_row(row: &[String; 6], widths: &[usize; 6], out: &mut dyn Write) -> io::Result<()> {
    let mut text = String::new();
    for (i, (c, w)) in row.iter().zip(widths).enumerate() {
        if i + 1 == row.len() {
            text.push_str(c);
        } else {
            let pad = w.saturating_sub(c.chars().count());
            text.push_str(c);
            text.push_str(&" ".repeat(pad + 2));
        }
    }
    writeln!(out, "{}", text.trim_end())
}

/// `workflows show`: every field, the message in full, or the document.
pub fn show(server: &str, w: &Workflow, json: bool, out: &mut dyn Write) -> io::Result<()> {
    let view = WorkflowView::from(w);
    if json {
        return write_document(
            &WorkflowDocument {
                server: server.to_owned(),
                workflow: view,
            },
            out,
        );
    }
    let none = || "-".to_owned();
    writeln!(out, "id:            {}", line(&view.id))?;
    writeln!(out, "name:          {}", line(&view.name))?;
    writeln!(
        out,
        "description:   {}",
        view.description.as_deref().map_or_else(none, line)
    )?;
    writeln!(out, "type:          {}", line(&view.workflow_type))?;
    writeln!(out, "status:        {}", line(&view.status))?;
    writeln!(
        out,
        "include_reply: {}",
        if view.include_reply { "yes" } else { "no" }
    )?;
    if view.response_options.is_empty() {
        writeln!(out, "replies:       -")?;
    } else {
        writeln!(out, "replies:")?;
        for (key, text) in &view.response_options {
            writeln!(out, "  {}: {}", line(key), line(text))?;
        }
    }
    writeln!(
        out,
        "callback URL:  {}",
        view.call_back_url.as_deref().map_or_else(none, line)
    )?;
    writeln!(
        out,
        "created:       {}",
        view.created_at.as_deref().map_or_else(none, when)
    )?;
    writeln!(
        out,
        "updated:       {}",
        view.updated_at.as_deref().map_or_else(none, when)
    )?;
    let chars = view.message.chars().count();
    writeln!(out, "message ({chars} characters):")?;
    // In full, its lines indented; inert, so that it reads as it is stored.
    for l in inert(&view.message).split('\n') {
        writeln!(out, "  {l}")?;
    }
    Ok(())
}

/// `workflows pull`: the campaign's `workflow:` block, its field names those of
/// `DeclaredWorkflow`, each value written by [`yaml_value`].
pub fn pull(w: &Workflow, out: &mut dyn Write) -> io::Result<()> {
    let kind = match w.workflow_type {
        voicebot_api::wire::WorkflowType::Conversation => "conversation",
        _ => "robocall",
    };
    // On one line, inert: the id is the server's (the one asked for was checked, not this).
    writeln!(
        out,
        "# The service's workflow {} ({}), for a campaign of `kind: {kind}`.",
        line(&w.id),
        line(w.workflow_type.as_str())
    )?;
    writeln!(
        out,
        "# Paste this block in place of the campaign's `workflow_id:` line."
    )?;
    for note in beyond_a_campaign(w) {
        writeln!(out, "# Note: {note}; `outreach validate` will say so.")?;
    }
    writeln!(out, "workflow:")?;
    writeln!(out, "  name: {}", yaml_value(&w.name))?;
    if let Some(d) = w.description.as_deref().filter(|d| !d.is_empty()) {
        writeln!(out, "  description: {}", yaml_value(d))?;
    }
    writeln!(out, "  message: {}", yaml_value(&w.message))?;
    writeln!(out, "  include_reply: {}", w.include_reply)?;
    if !w.response_options.is_empty() {
        let pairs: Vec<String> = w
            .response_options
            .iter()
            .map(|(k, v)| format!("{}: {}", yaml_value(k), yaml_value(v)))
            .collect();
        writeln!(out, "  response_options: {{{}}}", pairs.join(", "))?;
    }
    if let Some(url) = w.call_back_url.as_deref().filter(|u| !u.trim().is_empty()) {
        let base = without_token(url, None);
        if base == "(not a URL)" {
            writeln!(
                out,
                "  # The service's call_back_url is not a URL, and is left out."
            )?;
        } else {
            writeln!(
                out,
                "  # The receiver's token is appended from OUTREACH_CALLBACK_TOKEN when apply creates the workflow; never write it here."
            )?;
            writeln!(out, "  call_back_url: {}", yaml_value(&base))?;
        }
    }
    Ok(())
}

/// What of the service's workflow a campaign file cannot declare as it is (the limits of
/// `DeclaredWorkflow`'s schema).
fn beyond_a_campaign(w: &Workflow) -> Vec<String> {
    let mut notes = Vec::new();
    let fields = [
        ("name", Some(w.name.as_str()), 128),
        ("description", w.description.as_deref(), 1000),
        ("message", Some(w.message.as_str()), MAX_MESSAGE_CHARS),
    ];
    for (field, text, max) in fields {
        if text.is_some_and(|t| t.chars().count() > max) {
            notes.push(format!(
                "the service's {field} is longer than the {max} characters a campaign allows"
            ));
        }
    }
    if w.response_options
        .keys()
        .any(|k| !matches!(k.as_bytes(), [b'1'..=b'9']))
    {
        notes.push("the service's response options are not all keyed \"1\" to \"9\"".to_owned());
    }
    notes
}

/// A string as a YAML double-quoted scalar. The crate builds no YAML serialiser
/// (serde-saphyr's `serialize` feature would add crates), so serde_json writes it: a JSON
/// string is a YAML 1.2 double-quoted scalar, with the same escapes. JSON leaves raw a few
/// characters YAML does not allow raw (DEL, C1 controls, line and paragraph separators, BOM,
/// U+FFFE/F): those become `\uXXXX`, an escape both read alike.
pub fn yaml_value(text: &str) -> String {
    escaped(&serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned()))
}

/// JSON text with the characters serde_json leaves raw that a terminal acts on (DEL, the C1
/// controls such as U+009B, which starts an escape sequence) or YAML refuses raw, as
/// `\uXXXX`: the same document, inert. They can only stand inside strings.
fn escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ) {
            let _ = write!(out, "\\u{:04X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_values_escape_what_yaml_forbids_raw() {
        assert_eq!(yaml_value("a \"b\" \\ c"), r#""a \"b\" \\ c""#);
        assert_eq!(
            yaml_value("x\u{7f}\u{85}\u{2028}y"),
            r#""x\u007F\u0085\u2028y""#
        );
        assert_eq!(yaml_value("\u{1b}[31m\n"), r#""\u001b[31m\n""#);
        assert_eq!(yaml_value("yes"), "\"yes\"");
    }

    #[test]
    fn a_pull_says_what_a_campaign_cannot_hold() {
        let mut w = voicebot_api::seed::seeded_workflows().remove(1);
        assert!(beyond_a_campaign(&w).is_empty());
        w.name = "n".repeat(129);
        w.response_options.insert("0".into(), "zero".into());
        let mut out = Vec::new();
        pull(&w, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("# Note: the service's name is longer than the 128 characters"),
            "{text}"
        );
        assert!(
            text.contains("# Note: the service's response options are not all keyed"),
            "{text}"
        );
    }

    #[test]
    fn cells_are_one_inert_line() {
        assert_eq!(cell("a\u{1b}[2Jb\nc", 80), "a\u{fffd}[2Jb c");
        assert_eq!(cell("abcdef", 4), "abc…");
    }
}
