//! The rules of a campaign in several languages (`language:` and `languages:`): the two come
//! together and replace the campaign's own voice and workflow; each key is a language tag
//! whose month and day names CLDR has (or whose `names:` declares one that it has); the
//! mapping and the default name languages of the campaign; each language's voice suits the
//! kind of call and its workflow is checked as a campaign's is.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::campaign::Kind;
use crate::campaign::languages::{Language, LanguageColumn, fold, is_tag};
use crate::load::diagnostic::{Code, Diagnostic, quoted};
use crate::load::document::{Document, escape};

/// What the rules read of the campaign: its sections that parsed.
pub(super) struct Languages<'a> {
    pub(super) kind: Kind,
    pub(super) column: Option<&'a LanguageColumn>,
    /// Each language that parsed, by key.
    pub(super) each: &'a BTreeMap<String, Language>,
    pub(super) variables: &'a BTreeMap<String, String>,
    pub(super) opt_out_replies: &'a [String],
}

/// Each language of `languages:` that has the right shape (one that does not is reported by
/// the schema).
pub(super) fn entries(value: &Value) -> BTreeMap<String, Language> {
    value
        .get("languages")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    serde_json::from_value(v.clone())
                        .ok()
                        .map(|l| (k.clone(), l))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the languages; returns the placeholders every declared message uses, when every
/// language declares its message (`None`: a message is on the service, unknown here).
pub(super) fn check(
    c: &Languages<'_>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<String>> {
    let has_column = doc.value.get("language").is_some();
    let has_languages = doc.value.get("languages").is_some();
    if has_column && !has_languages {
        out.push(invalid(
            doc,
            "/language",
            "`language:` says which column holds each patient's language, but the campaign has no `languages:` to call them in".to_owned(),
            "give each language its voice and workflow under `languages:` (`ha: {voice: {accent: hausa}, workflow_id: ...}`)",
        ));
    }
    if has_languages && !has_column {
        out.push(invalid(
            doc,
            "/languages",
            "`languages:` gives voices and messages per language, but no `language:` says which column holds each patient's language".to_owned(),
            "add `language: {column: language, values: {Hausa: ha}}`, naming the column of the patient sources",
        ));
    }
    if !has_languages {
        return None;
    }
    for field in ["voice", "workflow", "workflow_id"] {
        let pointer = format!("/{field}");
        if doc.value.get(field).is_some() {
            out.push(invalid(
                doc,
                &pointer,
                format!("the campaign gives its own `{field}` and `languages:`: each language's calls use that language's"),
                "move it into each language of `languages:`",
            ));
        }
    }
    let keys: Vec<String> = doc
        .value
        .get("languages")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if keys.is_empty() {
        out.push(invalid(
            doc,
            "/languages",
            "`languages:` is empty: its patients would be called in no language".to_owned(),
            "give each language its voice and workflow: `ha: {voice: {accent: hausa}, workflow_id: ...}`",
        ));
        return None;
    }
    check_keys(c, doc, out);
    if let Some(column) = c.column {
        check_mapping(&keys, column, doc, out);
    }
    check_workflows(c, doc, out)
}

/// Each key is a language tag, its names known to CLDR or declared by `names:`.
fn check_keys(c: &Languages<'_>, doc: &Document, out: &mut Vec<Diagnostic>) {
    let keys: Vec<&String> = doc
        .value
        .get("languages")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let mut folded: BTreeMap<String, &str> = BTreeMap::new();
    for key in keys {
        let pointer = format!("/languages/{}", escape(key));
        if let Some(other) = folded.insert(fold(key), key) {
            out.push(invalid(
                doc,
                &pointer,
                format!(
                    "languages `{}` and `{}` differ only in case: a patient's cell matches both",
                    crate::load::diagnostic::inert(other),
                    crate::load::diagnostic::inert(key)
                ),
                "keep one of them",
            ));
        }
        if !is_tag(key) {
            out.push(
                Diagnostic::error(
                    Code::LanguagesInvalid,
                    format!(
                        "{} is not a language tag",
                        quoted(&crate::load::diagnostic::inert(key))
                    ),
                )
                .at(pointer.clone(), doc.key_span(&pointer))
                .help("key each language by its tag in lower case, such as `ha`, `yo`, `ig`, `en` or `pcm`; what the patient file writes (`Hausa`) goes under `language.values`"),
            );
            continue;
        }
        let Some(language) = c.each.get(key) else {
            continue;
        };
        match &language.names {
            None => {
                if let Err(e) = crate::render::names::for_tag(key) {
                    out.push(
                        Diagnostic::error(
                            Code::UnknownLocale,
                            format!("`{key}`: {e}, so the `date` and `number` helpers cannot write its names"),
                        )
                        .at(pointer.clone(), doc.key_span(&pointer))
                        .help(format!("say which language's names its dates and numbers are written in: `names: en` under `languages.{key}`")),
                    );
                }
            }
            Some(names) => {
                let at = format!("{pointer}/names");
                if let Err(e) = crate::render::names::for_tag(names) {
                    out.push(
                        Diagnostic::error(
                            Code::UnknownLocale,
                            format!("`names: {}`: {e}", crate::load::diagnostic::inert(names)),
                        )
                        .at(at.clone(), doc.span(&at))
                        .help("name a language CLDR has, such as `en`, `fr`, `ha` or `sw`"),
                    );
                }
            }
        }
        check_voice(c.kind, &pointer, language, doc, out);
    }
}

/// A language's voice suits the kind of call.
fn check_voice(
    kind: Kind,
    pointer: &str,
    language: &Language,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let accent = &language.voice.accent;
    if kind.accents().contains(&accent.as_str()) {
        return;
    }
    let at = format!("{pointer}/voice/accent");
    let names: Vec<String> = kind.accents().iter().map(|s| (*s).to_owned()).collect();
    let help = match crate::campaign::schema::suggest(accent, &names) {
        Some(s) => format!(
            "did you mean `{s}`? The accents of {} calls: {}",
            kind.as_str(),
            names.join(", ")
        ),
        None => format!(
            "the accents of {} calls: {}",
            kind.as_str(),
            names.join(", ")
        ),
    };
    out.push(
        Diagnostic::error(
            Code::AccentNotForKind,
            format!("{} calls cannot use the `{accent}` accent", kind.as_str()),
        )
        .at(at.clone(), doc.span(&at).or_else(|| doc.key_span(pointer)))
        .help(help),
    );
}

/// `values` and `default` name languages of the campaign.
/// (`keys`: every key `languages:` gives, well formed or not), and no value takes another
/// language's own tag.
fn check_mapping(
    keys: &[String],
    column: &LanguageColumn,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let known: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| is_tag(k))
        .collect();
    let offered = known.join(", ");
    let mut folded: BTreeMap<String, &str> = BTreeMap::new();
    for (written, language) in &column.values {
        let pointer = format!("/language/values/{}", escape(written));
        let folded_cell = fold(written);
        if let Some(own) = keys.iter().find(|k| fold(k) == folded_cell)
            && own != language
        {
            out.push(invalid(
                doc,
                &pointer,
                format!(
                    "`language.values` maps {} to `{}`, but `{own}` is a language of the campaign: its patients would be called in another",
                    quoted(&crate::load::diagnostic::inert(written)),
                    crate::load::diagnostic::inert(language)
                ),
                "remove the entry: a cell that is a language's tag is read as that language",
            ));
        }
        if !keys.contains(language) {
            out.push(invalid(
                doc,
                &pointer,
                format!(
                    "`language.values` maps {} to `{}`, which is not a language of `languages:`",
                    quoted(&crate::load::diagnostic::inert(written)),
                    crate::load::diagnostic::inert(language)
                ),
                &format!("map it to one of: {offered}"),
            ));
        }
        if let Some(other) = folded.insert(folded_cell, language)
            && other != language
        {
            out.push(invalid(
                doc,
                &pointer,
                format!(
                    "`language.values` maps {} to two languages (values are matched ignoring case and blanks)",
                    quoted(&crate::load::diagnostic::inert(written))
                ),
                "keep one entry for it",
            ));
        }
    }
    if let Some(default) = &column.default
        && !keys.contains(default)
    {
        out.push(invalid(
            doc,
            "/language/default",
            format!(
                "`language.default` is `{}`, which is not a language of `languages:`",
                crate::load::diagnostic::inert(default)
            ),
            &format!("name one of: {offered}; or leave it out, so that a patient whose language is not listed is skipped"),
        ));
    }
}

/// Each language's workflow, checked as a campaign's; declared names differ between languages.
fn check_workflows(
    c: &Languages<'_>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) -> Option<Vec<String>> {
    let mut used: Option<BTreeSet<String>> = Some(BTreeSet::new());
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, language) in c.each {
        let base = format!("/languages/{}", escape(key));
        let placeholders = super::workflow::check(
            doc,
            (&base, c.kind),
            language.workflow.as_ref(),
            c.variables,
            c.opt_out_replies,
            out,
        );
        match (placeholders, used.as_mut()) {
            (Some(p), Some(all)) => all.extend(p),
            _ => used = None,
        }
        if let Some(w) = &language.workflow
            && let Some(first) = names.insert(&w.name, key)
        {
            let pointer = format!("{base}/workflow/name");
            out.push(invalid(
                doc,
                &pointer,
                format!(
                    "languages `{first}` and `{key}` declare workflows of one name, `{}`: the service would hold one message under both",
                    crate::load::diagnostic::inert(&w.name)
                ),
                "name each language's workflow apart, such as `measles-reminder-ha`",
            ));
        }
    }
    used.map(|u| u.into_iter().collect())
}

fn invalid(doc: &Document, pointer: &str, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(Code::LanguagesInvalid, message)
        .at(
            pointer.to_owned(),
            doc.key_span(pointer).or_else(|| doc.span(pointer)),
        )
        .help(help.to_owned())
}
