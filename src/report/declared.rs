//! A declared workflow in a plan, for people and for a pull request: its state on the target
//! (absent, unchanged, changed, edited by hand), and a changed message as a word diff, first
//! in the markdown comment since the words are what a reviewer approves. Callback URLs are
//! shown without the receiver's token.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::campaign::workflow::{Comparable, shown_url};
use crate::plan::declared::{DeclaredState, Drift, Piece, word_diff};

/// The sentence that says where the declared workflow stands on the target.
pub fn state_sentence(d: &DeclaredState) -> String {
    let target = d.target.as_deref().unwrap_or("the target");
    if d.found_by_name {
        match &d.drift {
            Drift::Same { workflow_id, .. } => {
                return format!(
                    "unchanged: the same as workflow {workflow_id} of that name on {target}, not created by outreach; apply binds the campaign to it and creates nothing"
                );
            }
            Drift::Changed { workflow_id, .. } => {
                return format!(
                    "not the same as workflow {workflow_id} of that name on {target}: apply creates a new workflow with these words and calls with it"
                );
            }
            _ => {}
        }
    }
    match &d.drift {
        Drift::NotCompared => {
            "not compared with the service (no target given: --mock or --api-url compares it)"
                .to_owned()
        }
        Drift::Absent => format!("not on {target} yet: apply creates it, then calls with it"),
        Drift::Gone { workflow_id } if target == "the bundled mock" => format!(
            "pushed as workflow {workflow_id} by an earlier run, but the bundled mock starts afresh on each run: apply creates it again, then calls with it"
        ),
        Drift::Gone { workflow_id } => format!(
            "bound to workflow {workflow_id}, which {target} no longer has: apply creates it again, then calls with it"
        ),
        Drift::Same {
            workflow_id,
            checked: true,
        } => format!("unchanged on {target} (workflow {workflow_id})"),
        Drift::Same {
            workflow_id,
            checked: false,
        } => format!(
            "unchanged since it was pushed to {target} (workflow {workflow_id}); hand edits on the service were not checked: it offers no workflow lookup"
        ),
        Drift::Changed {
            workflow_id,
            checked,
            ..
        } => format!(
            "changed since it was pushed to {target} (workflow {workflow_id}): apply creates a new workflow with these words and calls with it; calls already queued keep the words they were placed with{}",
            if *checked {
                ""
            } else {
                " (hand edits on the service were not checked: it offers no workflow lookup)"
            }
        ),
        Drift::HandEdited { workflow_id, .. } => format!(
            "edited on {target} since apply pushed it (workflow {workflow_id}): apply refuses until the file has the service's words (to keep them), or is run with --overwrite-workflow (to put the file's back)"
        ),
    }
}

/// A message's word diff for a terminal: `[-removed-]{+added+}`, as `git diff --word-diff`.
pub fn human_diff(before: &str, after: &str) -> String {
    let mut out = String::new();
    for p in word_diff(before, after) {
        match p {
            Piece::Same(s) => out.push_str(&inert(&s)),
            Piece::Removed(s) => {
                let _ = write!(out, "[-{}-]", inert(&s));
            }
            Piece::Added(s) => {
                let _ = write!(out, "{{+{}+}}", inert(&s));
            }
        }
    }
    out
}

/// Text made safe for a terminal: control characters (an escape sequence, a carriage
/// return that would overwrite the line) shown as `?`, line breaks as `⏎`.
fn inert(s: &str) -> String {
    crate::load::diagnostic::inert(s).replace('\n', "⏎")
}

/// The reply options on one line.
fn options_line(c: &Comparable) -> String {
    if c.response_options.is_empty() {
        return "none".to_owned();
    }
    c.response_options
        .iter()
        .map(|(k, v)| format!("{k} \"{}\"", inert(v)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn callback_line(c: &Comparable) -> String {
    match &c.call_back_url {
        Some(u) => format!(
            "{}/<token> (the token appended from OUTREACH_CALLBACK_TOKEN)",
            inert(&shown_url(u, Some(u)))
        ),
        None => "none: the service sends this workflow's outcomes nowhere".to_owned(),
    }
}

/// The declared workflow's lines in a human plan.
pub fn human(d: &DeclaredState, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  workflow `{}`, declared in the file: {}",
        inert(&d.file.name),
        state_sentence(d)
    )?;
    if let Drift::HandEdited {
        pushed, service, ..
    } = &d.drift
    {
        let pushed = pushed
            .as_ref()
            .map_or_else(|| "(not recorded)".to_owned(), |p| inert(&p.message));
        writeln!(out, "    last pushed: \"{pushed}\"")?;
        writeln!(out, "    on service:  \"{}\"", inert(&service.message))?;
        writeln!(out, "    in the file: \"{}\"", inert(&d.file.message))?;
        return Ok(());
    }
    if let Some(before) = d.drift.before() {
        writeln!(
            out,
            "    message: {}",
            human_diff(&before.message, &d.file.message)
        )?;
        let (was, now) = (options_line(before), options_line(&d.file));
        if was == now {
            writeln!(out, "    reply options: {now}")?;
        } else {
            writeln!(out, "    reply options: {was} → {now}")?;
        }
        if before.call_back_url == d.file.call_back_url {
            writeln!(out, "    callback: {}", callback_line(&d.file))?;
        } else {
            writeln!(
                out,
                "    callback: {} → {}",
                callback_line(before),
                callback_line(&d.file)
            )?;
        }
    } else {
        writeln!(out, "    message: \"{}\"", inert(&d.file.message))?;
        writeln!(out, "    reply options: {}", options_line(&d.file))?;
        writeln!(out, "    callback: {}", callback_line(&d.file))?;
    }
    if let Some(e) = d.earlier.filter(|e| e.called > 0) {
        writeln!(
            out,
            "    NOTE: {} of this round were already called with the earlier message ({} answered); they are not called again",
            crate::report::words::plural(e.called, "patient"),
            e.answered
        )?;
    }
    Ok(())
}

/// A message change for the terminal, from a `--compare` of two plans.
pub fn human_compared(before: &str, after: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  message changed since the plan compared with: {}",
        human_diff(before, after)
    )
}

/// A fence for a code block around `text`: longer than any run of backticks in it.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// A message change in markdown: the words struck and added inline, then the two messages
/// as a `diff` block (lines of a message each prefixed, so no line can close the block).
pub fn markdown_message_change(title: &str, before: &str, after: &str, md: &mut String) {
    let _ = writeln!(md, "#### {title}\n");
    let mut inline = String::new();
    let mut after_removed = false;
    for p in word_diff(before, after) {
        let (mark, text) = match &p {
            Piece::Removed(s) if !s.trim().is_empty() => ("~~", s),
            Piece::Added(s) if !s.trim().is_empty() => ("**", s),
            Piece::Same(s) | Piece::Removed(s) | Piece::Added(s) => {
                inline.push_str(&md_inline(s));
                after_removed = false;
                continue;
            }
        };
        // The marks go around the words; the spaces around them stay outside.
        let lead = &text[..text.len() - text.trim_start().len()];
        let trail = &text[text.trim_end().len()..];
        if after_removed && mark == "**" && lead.is_empty() && !inline.ends_with(' ') {
            inline.push(' ');
        }
        let _ = write!(
            inline,
            "{}{mark}{}{mark}{}",
            md_inline(lead),
            md_inline(text.trim()),
            md_inline(trail)
        );
        after_removed = mark == "~~";
    }
    let _ = writeln!(md, "> {}\n", inline.trim_end());
    let body: String = before
        .lines()
        .map(|l| format!("- {l}\n"))
        .chain(after.lines().map(|l| format!("+ {l}\n")))
        .collect();
    let f = fence(&body);
    let _ = writeln!(md, "{f}diff\n{body}{f}\n");
}

/// The declared workflow's section of a markdown plan: first in the comment.
pub fn markdown(d: &DeclaredState, md: &mut String) {
    let name = md_inline(&d.file.name);
    if let Drift::HandEdited {
        pushed, service, ..
    } = &d.drift
    {
        let _ = writeln!(
            md,
            "#### Workflow `{name}`: edited on the service\n\n> **Refused by apply:** {}\n",
            md_inline(&state_sentence(d))
        );
        let _ = writeln!(md, "| version | message |\n|---|---|");
        let pushed = pushed
            .as_ref()
            .map_or_else(|| "(not recorded)".to_owned(), |p| md_inline(&p.message));
        let _ = writeln!(md, "| last pushed | {pushed} |");
        let _ = writeln!(md, "| on the service | {} |", md_inline(&service.message));
        let _ = writeln!(md, "| in the file | {} |\n", md_inline(&d.file.message));
        return;
    }
    match d.drift.before() {
        Some(before) => {
            markdown_message_change(
                &format!("Message of workflow `{name}` changed"),
                &before.message,
                &d.file.message,
                md,
            );
        }
        None => {
            let _ = writeln!(
                md,
                "#### Message of workflow `{name}`\n\n> {}\n",
                md_inline(&d.file.message)
            );
        }
    }
    let _ = writeln!(md, "{}\n", md_inline(&state_sentence(d)));
    if let Some(e) = d.earlier.filter(|e| e.called > 0) {
        let _ = writeln!(
            md,
            "> **Note:** {} of this round were already called with the earlier message ({} answered).\n",
            crate::report::words::plural(e.called, "patient"),
            e.answered
        );
    }
}

/// Text for one line of markdown: no line breaks, and the characters that format escaped.
fn md_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if crate::load::diagnostic::is_hidden(c) => out.push('\u{fffd}'),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_diff_marks_what_changed_and_nothing_else() {
        assert_eq!(
            human_diff(
                "due on [date] at [clinic].",
                "due on [date] at 9am at [clinic]."
            ),
            "due on [date] at {+9am at +}[clinic]."
        );
        let hostile = human_diff("a \u{1b}[2J", "a");
        assert!(
            !hostile.contains('\u{1b}') && hostile.contains("[-"),
            "{hostile}"
        );
        let bidi = human_diff("do come", "do \u{202e}not\u{202c} come");
        assert!(!bidi.contains('\u{202e}'), "{bidi}");
    }

    #[test]
    fn marks_go_around_words_and_spaces_stay_single() {
        let mut md = String::new();
        markdown_message_change("t", "I will come today", "I can come today at 9", &mut md);
        let line = md.lines().find(|l| l.starts_with("> ")).unwrap();
        assert_eq!(line, "> I ~~will~~ **can** come today **at 9**", "{md}");
    }

    #[test]
    fn a_message_cannot_close_its_diff_block() {
        let mut md = String::new();
        markdown_message_change("t", "Hello", "Hello ```\n# injected", &mut md);
        assert!(md.contains("````diff\n"), "{md}");
        assert!(md.contains("+ # injected\n"), "{md}");
    }
}
