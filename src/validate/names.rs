//! Names a campaign gives its variables and tags, checked against the names outreach uses
//! itself in a request entry, and the names `allow_empty` lists.

use std::collections::BTreeMap;

use crate::campaign::Kind;
use crate::load::diagnostic::{Code, Diagnostic};
use crate::load::document::{Document, escape};

/// Refuses a variable or tag under a name the request entry uses itself (`reserved-name`).
pub(super) fn check_reserved(
    kind: Kind,
    variables: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    // A variable or tag under one of these names would replace the number called or the
    // call's idempotency key in the entry.
    let (section, map, names, why): (&str, _, &[&str], &str) = match kind {
        Kind::Conversation => (
            "variables",
            variables,
            &["phone_number", "user_tag_identifiers"],
            "a conversation call's variables sit beside the number in its entry, so this one would replace the number called",
        ),
        Kind::Robocall => (
            "tags",
            tags,
            &[crate::plan::KEY_TAG],
            "outreach puts each call's idempotency key under this tag, so this one would replace the key that keeps a patient from being called twice",
        ),
    };
    for name in names.iter().filter(|n| map.contains_key(**n)) {
        let pointer = format!("/{section}/{}", escape(name));
        out.push(
            Diagnostic::error(
                Code::ReservedName,
                format!("`{section}.{name}` is a name outreach uses itself: {why}"),
            )
            .at(pointer.clone(), doc.key_span(&pointer))
            .help(format!(
                "rename it (and the placeholder that reads it), for example `{name}_1`"
            )),
        );
    }
}

/// Refuses an `allow_empty` name that is neither a variable nor a tag (`allow-empty-unknown`).
pub(super) fn check_allow_empty(
    allow_empty: &[String],
    variables: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    // `allow_empty` names variables and tags: a name that is neither lets nothing be empty.
    for (i, name) in allow_empty.iter().enumerate() {
        if variables.contains_key(name) || tags.contains_key(name) {
            continue;
        }
        let pointer = format!("/allow_empty/{i}");
        let names: Vec<String> = variables.keys().chain(tags.keys()).cloned().collect();
        let help = match crate::campaign::schema::suggest(name, &names) {
            Some(s) => {
                format!("did you mean `{s}`? `allow_empty` lists variables and tags by name")
            }
            None => "`allow_empty` lists variables and tags by name (not columns)".to_owned(),
        };
        out.push(
            Diagnostic::error(
                Code::AllowEmptyUnknown,
                format!(
                    "`allow_empty` names `{name}`, which is not a variable or tag of this campaign"
                ),
            )
            .at(pointer.clone(), doc.span(&pointer))
            .help(help),
        );
    }
}
