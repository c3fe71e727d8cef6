//! The validate stage: one campaign file → a [`FileReport`] with every problem found, and, when
//! there is none, the typed [`Campaign`].
//!
//! Order: read (size, UTF-8) → YAML with traps ([`crate::load::document`]) → JSON schema
//! ([`crate::campaign::schema`]) → semantic rules that a schema cannot express (this module).

pub mod files;
mod filters;
mod languages;
mod names;
mod sources;
mod templates;
mod workflow;

pub use files::expand;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::campaign::{
    Campaign, Delivery, ExclusionSource, Kind, PROVIDER_REQUESTS_PER_SECOND, PatientSource,
    Schedule, Source, Voice,
};
use crate::load::diagnostic::{Code, Diagnostic, FileReport, quoted};
use crate::load::document::{Document, escape};
use crate::load::yaml::{MAX_FILE_BYTES, Pos, Span};
use crate::patients::source::SourceError;
use sources::{check_opt_out_entries, check_source};

/// A checked campaign file.
#[derive(Debug, Clone)]
pub struct Checked {
    pub report: FileReport,
    /// The campaign, when the file has no errors.
    pub campaign: Option<Campaign>,
}

/// Checks one campaign file from disk.
pub fn check_file(path: &Path) -> Checked {
    let mut report = FileReport::new(path);
    let text = match read_text(path) {
        Ok(text) => text,
        Err(d) => {
            report.diagnostics.push(*d);
            return Checked {
                report,
                campaign: None,
            };
        }
    };
    let base = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    check_text(path, &text, &base)
}

fn read_text(path: &Path) -> Result<String, Box<Diagnostic>> {
    use crate::load::input_file::{self, InputError};
    // A regular file only (a FIFO named `*.yaml` must not hang the walk), read no further
    // than the limit.
    let bytes = input_file::read(path, MAX_FILE_BYTES).map_err(|e| match e {
        InputError::TooLarge(_) => Box::new(
            Diagnostic::error(
                Code::FileTooLarge,
                format!("the file is larger than {} KiB, far more than a campaign needs", MAX_FILE_BYTES / 1024),
            )
            .help("list patients in a patient file (`patients: [{file: patients.csv}]`), not in the campaign"),
        ),
        e => Box::new(Diagnostic::error(
            Code::UnreadableFile,
            format!("cannot read the file: {e}"),
        )),
    })?;
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(Box::new(
            Diagnostic::error(Code::NotText, "the file is not text (it holds binary data)")
                .at("", Some(byte_span(&bytes, nul)))
                .help("campaign files are YAML text; is this the right file?"),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let span = byte_span(e.as_bytes(), at);
        Box::new(
            Diagnostic::error(
                Code::NotText,
                "the file is not UTF-8 text: a character here is in another encoding",
            )
            .at("", Some(span))
            .help("save the file as UTF-8 in your editor"),
        )
    })?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(ToOwned::to_owned)
        .unwrap_or(text))
}

/// The line and column of a byte in a file that is not (all) text.
fn byte_span(bytes: &[u8], at: usize) -> Span {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let pos = Pos {
        line,
        column: at - line_start + 1,
        offset: at,
    };
    Span {
        start: pos,
        end: pos,
    }
}

/// Checks campaign text; `base` is the directory that relative source paths start from.
pub fn check_text(path: &Path, text: &str, base: &Path) -> Checked {
    let mut report = FileReport::new(path);
    report.source = Some(text.to_owned());
    let (doc, mut diags) = crate::load::document::load(text);
    for d in &mut diags {
        if d.code == Code::YamlAmbiguousBoolean {
            boolean_help(d);
        }
    }
    let mut campaign = None;
    if let Some(doc) = doc {
        let traps: HashSet<String> = diags.iter().map(|d| d.pointer.clone()).collect();
        let mut schema_diags = crate::campaign::schema::check(&doc, &traps);
        for d in &mut schema_diags {
            if d.pointer.ends_with("/voice/accent") && d.code == Code::NotAllowedValue {
                accent_help(d, &doc.value);
            }
            let country = d.pointer.ends_with("/default_country")
                || d.pointer.contains("/allowed_countries/");
            if country
                && let Some(given) = doc.value.pointer(&d.pointer).and_then(Value::as_str)
                && let Some(code) = crate::patients::countries::code_for(given)
            {
                d.help = Some(format!(
                    "did you mean `{code}`? Countries are written as their two-letter code in capitals"
                ));
            }
        }
        // Semantic rules run on every section that has the right shape, even when the schema
        // found problems elsewhere, so every problem shows at once. Values the schema
        // rejected are removed first (defaults stand in) and not reported twice.
        let flagged: HashSet<String> = diags.iter().map(|d| d.pointer.clone()).collect();
        let mut rejected: HashSet<String> =
            schema_diags.iter().map(|d| d.pointer.clone()).collect();
        let written: Vec<Diagnostic> = check_written(&doc.value, &doc)
            .into_iter()
            .filter(|d| !rejected.contains(&d.pointer) && !flagged.contains(&d.pointer))
            .collect();
        rejected.extend(written.iter().map(|d| d.pointer.clone()));
        diags.extend(schema_diags);
        diags.extend(written);
        let partial = Partial::from(&doc.value, &rejected);
        diags.extend(
            semantic(&partial, &doc, base, text)
                .into_iter()
                .filter(|d| !flagged.contains(&d.pointer)),
        );
        if let Ok(c) = serde_json::from_value::<Campaign>(doc.value.clone()) {
            campaign = Some(c);
        }
    }
    report.diagnostics = diags;
    report.sort();
    let campaign = campaign.filter(|_| report.is_valid());
    Checked { report, campaign }
}

/// A YAML 1.1 yes/no word: the hint says what the field takes, a word of its list or
/// true/false, rather than offering both.
fn boolean_help(d: &mut Diagnostic) {
    use crate::campaign::schema::{Expected, expected_at, field_name};
    let field = field_name(&d.pointer);
    match expected_at(&d.pointer) {
        Expected::Words(words) => {
            d.help = Some(format!("{field} takes one of: {}", words.join(", ")));
        }
        Expected::Boolean => {
            d.help = Some(format!("{field} is yes or no: write true or false"));
        }
        Expected::Other => {}
    }
}

/// An unknown accent: the schema knows every accent of every kind, but the hint lists (and
/// suggests among) only those of the campaign's kind, so a robocall is never offered `english`.
fn accent_help(d: &mut Diagnostic, value: &Value) {
    let kind: Kind = section(value, "kind").unwrap_or_default();
    let given = value
        .pointer(&d.pointer)
        .and_then(Value::as_str)
        .unwrap_or_default();
    let allowed: Vec<String> = kind.accents().iter().map(|a| (*a).to_owned()).collect();
    let all = allowed.join(", ");
    let what = match kind {
        Kind::Robocall => "robocall",
        Kind::Conversation => "conversation call",
    };
    let other = match kind {
        Kind::Robocall => Kind::Conversation,
        Kind::Conversation => Kind::Robocall,
    };
    let others: Vec<String> = other.accents().iter().map(|a| (*a).to_owned()).collect();
    d.help = Some(match crate::campaign::schema::suggest(given, &allowed) {
        Some(s) => format!("did you mean `{s}`? The accents of a {what}: {all}"),
        None => match crate::campaign::schema::suggest(given, &others) {
            Some(s) => format!(
                "`{s}` is an accent of {} only. The accents of a {what}: {all}",
                match other {
                    Kind::Robocall => "robocalls",
                    Kind::Conversation => "conversation calls",
                }
            ),
            None => format!("the accents of a {what}: {all}"),
        },
    });
}

/// The sections of a campaign that have the right shape, for the semantic rules.
struct Partial {
    kind: Kind,
    voice: Voice,
    variables: BTreeMap<String, String>,
    defaults: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    allow_empty: Vec<String>,
    list_columns: Vec<String>,
    dedupe: String,
    filter: Option<String>,
    round: Option<String>,
    patients: Vec<(usize, PatientSource)>,
    exclude: Vec<(usize, ExclusionSource)>,
    schedule: Option<Schedule>,
    delivery: Option<Delivery>,
    opt_out_replies: Vec<String>,
    workflow: Option<crate::campaign::workflow::DeclaredWorkflow>,
    language: Option<crate::campaign::languages::LanguageColumn>,
    languages: BTreeMap<String, crate::campaign::languages::Language>,
}

impl Partial {
    fn from(value: &Value, flagged: &HashSet<String>) -> Self {
        let mut pruned = value.clone();
        for pointer in flagged {
            remove(&mut pruned, pointer);
        }
        Partial {
            kind: section(&pruned, "kind").unwrap_or_default(),
            voice: section(&pruned, "voice").unwrap_or_default(),
            variables: section(&pruned, "variables").unwrap_or_default(),
            defaults: section(&pruned, "defaults").unwrap_or_default(),
            tags: section(&pruned, "tags").unwrap_or_default(),
            allow_empty: section(&pruned, "allow_empty").unwrap_or_default(),
            list_columns: section(&pruned, "list_columns").unwrap_or_default(),
            dedupe: section(&pruned, "dedupe").unwrap_or_else(|| "phone".to_owned()),
            filter: section(&pruned, "where"),
            round: section(&pruned, "round"),
            patients: items(&pruned, "patients"),
            exclude: items(&pruned, "exclude"),
            schedule: section(&pruned, "schedule"),
            delivery: section(&pruned, "delivery"),
            opt_out_replies: section(&pruned, "opt_out_replies").unwrap_or_default(),
            workflow: section(&pruned, "workflow"),
            language: section(&pruned, "language"),
            languages: languages::entries(&pruned),
        }
    }
}

fn section<T: DeserializeOwned>(v: &Value, key: &str) -> Option<T> {
    v.get(key)
        .and_then(|s| serde_json::from_value(s.clone()).ok())
}
fn items<T: DeserializeOwned>(v: &Value, key: &str) -> Vec<(usize, T)> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(i, s)| serde_json::from_value(s.clone()).ok().map(|s| (i, s)))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the value at a JSON pointer, if its parent is an object.
fn remove(value: &mut Value, pointer: &str) {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(map)) = value.pointer_mut(parent) {
        map.remove(&key.replace("~1", "/").replace("~0", "~"));
    }
}

/// The rules a JSON schema cannot express.
#[expect(
    clippy::too_many_lines,
    reason = "a list of independent rules, each a few lines, in the order they are reported"
)]
fn semantic(c: &Partial, doc: &Document, base: &Path, source: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let at = |p: &str| doc.span(p);
    let in_languages = doc.value.get("languages").is_some() || doc.value.get("language").is_some();
    let used = if in_languages {
        for key in c.languages.keys() {
            check_workflow_id(doc, &format!("/languages/{}", escape(key)), &mut out);
        }
        let languages = languages::Languages {
            kind: c.kind,
            column: c.language.as_ref(),
            each: &c.languages,
            variables: &c.variables,
            opt_out_replies: &c.opt_out_replies,
        };
        languages::check(&languages, doc, &mut out)
    } else {
        check_workflow_id(doc, "", &mut out);
        workflow::check(
            doc,
            ("", c.kind),
            c.workflow.as_ref(),
            &c.variables,
            &c.opt_out_replies,
            &mut out,
        )
    };
    if let Some(used) = used {
        workflow::check_unused(doc, c.kind, &c.variables, &used, &mut out);
    }

    // The voice must suit the kind of call.
    if !in_languages && !c.kind.accents().contains(&c.voice.accent.as_str()) {
        let allowed = c.kind.accents();
        let mut d = Diagnostic::error(
            Code::AccentNotForKind,
            format!(
                "{} calls cannot use the `{}` accent",
                c.kind.as_str(),
                c.voice.accent
            ),
        )
        .at(
            "/voice/accent",
            at("/voice/accent").or_else(|| doc.key_span("/kind")),
        );
        d = if allowed.len() <= 5 {
            d.help(format!(
                "for {} calls use one of: {}",
                c.kind.as_str(),
                allowed.join(", ")
            ))
        } else {
            let names: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
            match crate::campaign::schema::suggest(&c.voice.accent, &names) {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? See the README for all {} accents",
                    allowed.len()
                )),
                None => d.help(format!(
                    "see the README for the {} {} accents",
                    allowed.len(),
                    c.kind.as_str()
                )),
            }
        };
        out.push(d);
    }

    if c.kind == Kind::Conversation && !c.tags.is_empty() {
        out.push(
            Diagnostic::error(
                Code::TagsOnConversation,
                "conversation calls cannot carry tags",
            )
            .at("/tags", doc.key_span("/tags"))
            .help("remove `tags`; conversation entries only carry the message variables"),
        );
    }

    names::check_reserved(c.kind, &c.variables, &c.tags, doc, &mut out);

    // The languages a helper without `locale=` writes in (English as always, left out).
    let spoken: Vec<std::sync::Arc<crate::render::names::Names>> = c
        .languages
        .iter()
        .filter_map(|(k, l)| crate::render::names::for_tag(l.names.as_deref().unwrap_or(k)).ok())
        .filter(|n| !n.is_english())
        .collect();
    // Templates: parse, and collect the columns they read.
    let mut used: Vec<(String, String)> = Vec::new(); // (pointer, column)
    for (section, templates) in [("variables", &c.variables), ("tags", &c.tags)] {
        for (name, text) in templates {
            let pointer = format!("/{section}/{}", escape(name));
            let over = crate::render::limits::problems(text);
            if !over.is_empty() {
                for problem in over {
                    out.push(template_limit(name, &pointer, problem, at(&pointer)));
                }
                continue;
            }
            match crate::render::template::references(text) {
                Err(e) => out.push(
                    Diagnostic::error(
                        Code::TemplateSyntax,
                        format!("the template for `{name}` does not parse: {}", explain_syntax(text, &e.message)),
                    )
                    .at(pointer.clone(), at(&pointer))
                    .help("templates look like `{{first_name}}` or `{{title first_name}}`; check the braces"),
                ),
                Ok(refs) => {
                    for helper in &refs.unknown_helpers {
                        let known: Vec<String> = crate::render::template::HELPERS.iter().map(|s| (*s).to_owned()).collect();
                        let mut d = Diagnostic::error(
                            Code::TemplateUnknownHelper,
                            format!("the template for `{name}` uses `{helper}`, which is not a known helper"),
                        )
                        .at(pointer.clone(), at(&pointer));
                        d = match crate::campaign::schema::suggest(helper, &known) {
                            Some(s) => d.help(format!("did you mean `{s}`? Helpers: {}", crate::render::template::HELPERS.join(", "))),
                            None => d.help(format!("the helpers are: {}", crate::render::template::HELPERS.join(", "))),
                        };
                        out.push(d);
                    }
                    for feature in &refs.unsupported {
                        out.push(
                            Diagnostic::error(
                                Code::TemplateUnsupported,
                                format!("the template for `{name}` uses {feature}, which campaigns do not support"),
                            )
                            .at(pointer.clone(), at(&pointer)),
                        );
                    }
                    templates::check_helper_arguments(name, text, &pointer, doc, (source, &spoken), &mut out);
                    for col in refs.columns {
                        used.push((pointer.clone(), col));
                    }
                    for suspect in crate::render::suspect::suspects(text) {
                        out.push(suspect_diagnostic(name, &pointer, &suspect, at(&pointer)));
                    }
                }
            }
        }
    }

    // Filters: the campaign's reads every source's columns, a source's its own.
    let mut everywhere: Vec<(String, String)> = c
        .filter
        .as_deref()
        .map_or_else(Vec::new, |f| {
            filters::check(f, "/where", doc, source, &mut out)
        })
        .into_iter()
        .map(|col| ("/where".to_owned(), col))
        .collect();
    // A `round` template reads every source's columns too (or their defaults).
    if let Some(round) = c.round.as_deref() {
        everywhere.extend(templates::check_round(round, &c.defaults, doc, &mut out));
    }

    check_list_columns(c, doc, &mut out);

    // Sources: exactly one of file/inline, the file exists, its columns cover what is used.
    for (i, s) in &c.patients {
        let pointer = format!("/patients/{i}");
        let mut needed: Vec<(String, String)> =
            vec![(format!("{pointer}/phone_column"), s.phone_column.clone())];
        if c.dedupe != "phone" {
            needed.push(("/dedupe".to_owned(), c.dedupe.clone()));
        }
        needed.extend(
            used.iter()
                .filter(|(_, col)| !c.defaults.contains_key(col))
                .cloned(),
        );
        // A filter reads cells, never `defaults`.
        needed.extend(everywhere.iter().cloned());
        if let Some(language) = &c.language {
            needed.push(("/language/column".to_owned(), language.column.clone()));
        }
        needed.extend(
            c.list_columns
                .iter()
                .enumerate()
                .map(|(j, col)| (format!("/list_columns/{j}"), col.clone())),
        );
        if let Some(f) = &s.filter {
            let at = format!("{pointer}/where");
            let own = filters::check(f, &at, doc, source, &mut out);
            needed.extend(own.into_iter().map(|col| (at.clone(), col)));
        }
        check_source(s, &pointer, base, doc, &needed, "patient", &mut out);
        if let Some(tz) = &s.timezone {
            check_timezone(tz, &format!("{pointer}/timezone"), doc, &mut out);
        }
        for (j, country) in s.allowed_countries.iter().enumerate() {
            check_country(
                &country.0,
                &format!("{pointer}/allowed_countries/{j}"),
                doc,
                &mut out,
            );
        }
    }
    for (i, s) in &c.exclude {
        let pointer = format!("/exclude/{i}");
        let needed = vec![(format!("{pointer}/phone_column"), s.phone_column.clone())];
        check_source(s, &pointer, base, doc, &needed, "opt-out", &mut out);
        check_opt_out_entries(s, &pointer, base, doc, &mut out);
    }

    check_empty_values(c, &used, doc, &mut out);

    // Defaults that nothing uses are probably a typo of a column name: they are keyed by the
    // column a template reads (`Clinic`), not by the variable (`clinic`).
    let used_cols: BTreeSet<&str> = used.iter().map(|(_, c)| c.as_str()).collect();
    let columns: Vec<String> = used_cols.iter().map(|c| (*c).to_owned()).collect();
    for name in c.defaults.keys() {
        if !used_cols.contains(name.as_str()) {
            let pointer = format!("/defaults/{}", escape(name));
            let meant = probable_column(name, &columns);
            let help = match &meant {
                Some(col) => format!(
                    "defaults are keyed by the column a template reads: did you mean `{col}`? Without it, a patient whose `{col}` is empty is skipped"
                ),
                None => "defaults are keyed by column names (the `{{column}}` a template reads), not by variable names".to_owned(),
            };
            out.push(
                Diagnostic::warning(
                    Code::DefaultUnused,
                    format!("the default for `{name}` is not used by any template"),
                )
                .at(pointer.clone(), doc.key_span(&pointer))
                .help(help),
            );
        }
    }

    names::check_allow_empty(&c.allow_empty, &c.variables, &c.tags, doc, &mut out);

    if let Some(schedule) = &c.schedule {
        check_schedule(schedule, doc, &mut out);
    }
    if let Some(delivery) = &c.delivery {
        check_delivery(c.kind, delivery, doc, &mut out);
    }
    check_opt_out_replies(&c.opt_out_replies, doc, &mut out);
    out
}

/// Each opt-out reply names a reply option: blank words name none (whether each is one of the
/// workflow's options is checked where the workflow is known, by `plan --api-url`).
fn check_opt_out_replies(replies: &[String], doc: &Document, out: &mut Vec<Diagnostic>) {
    for (i, reply) in replies.iter().enumerate() {
        if reply.trim().is_empty() {
            let pointer = format!("/opt_out_replies/{i}");
            out.push(
                Diagnostic::error(Code::EmptyValue, "this opt-out reply is blank")
                    .at(pointer.clone(), doc.span(&pointer))
                    .help("write the reply option's key as the workflow's `response_options` name it, such as \"3\""),
            );
        }
    }
}

/// The column a default that no template uses was probably meant for: the same name in
/// another case (`clinic` for `Clinic`), or a close spelling.
fn probable_column(name: &str, columns: &[String]) -> Option<String> {
    columns
        .iter()
        .find(|col| col.eq_ignore_ascii_case(name))
        .cloned()
        .or_else(|| crate::campaign::schema::suggest(name, columns))
}

/// The defaults of a valid campaign that no template uses, each with the column it was
/// probably meant for (what `default-unused` warns of): `(key, column)`. A patient skipped for
/// an empty such column is a skip the default was meant to prevent.
pub fn misplaced_defaults(campaign: &Campaign) -> Vec<(String, String)> {
    let used: BTreeSet<String> = campaign
        .variables
        .values()
        .chain(campaign.tags.values())
        .filter_map(|t| crate::render::template::references(t).ok())
        .flat_map(|r| r.columns)
        .collect();
    let columns: Vec<String> = used.iter().cloned().collect();
    campaign
        .defaults
        .keys()
        .filter(|k| !used.contains(*k))
        .filter_map(|k| probable_column(k, &columns).map(|c| (k.clone(), c)))
        .collect()
}

fn check_delivery(kind: Kind, delivery: &Delivery, doc: &Document, out: &mut Vec<Diagnostic>) {
    let at = |p: &str| doc.span(p);
    if kind == Kind::Conversation && delivery.requests_per_second > PROVIDER_REQUESTS_PER_SECOND {
        out.push(
            Diagnostic::warning(
                Code::RateAboveProviderLimit,
                format!(
                    "{} requests per second is above the provider's documented limit of {PROVIDER_REQUESTS_PER_SECOND} for conversation calls",
                    delivery.requests_per_second
                ),
            )
            .at("/delivery/requests_per_second", at("/delivery/requests_per_second"))
            .help("requests above the limit are refused (429) and slow the campaign down"),
        );
    }
    if delivery.retry.attempts > 1 && delivery.retry.outcomes.is_empty() {
        out.push(
            Diagnostic::error(
                Code::RetryWithoutOutcomes,
                "retries are allowed but no outcome is retried",
            )
            .at("/delivery/retry/outcomes", at("/delivery/retry/outcomes"))
            .help("list `failed` and/or `no_answer`, or set `attempts: 1`"),
        );
    }
}

fn explain_syntax(text: &str, reason: &str) -> String {
    let open = text.matches("{{").count();
    let close = text.matches("}}").count();
    if open > close {
        "a `{{` is not closed with `}}`".to_owned()
    } else if close > open {
        "a `}}` has no `{{` before it".to_owned()
    } else if text.contains("{{#") || text.contains("{{/") {
        format!("a block (`{{{{#if …}}}}` … `{{{{/if}}}}`) is not closed or not opened ({reason})")
    } else {
        reason.to_owned()
    }
}

/// A `workflow_id` left as a placeholder (`REPLACE`, `TODO`, `xxx`, `<your workflow>`) is an
/// error: its calls would go to no workflow, or a stranger's. An id that is not a UUID is
/// only a warning: the contract says the client accepts any non-empty id.
pub(super) fn check_workflow_id(doc: &Document, base: &str, out: &mut Vec<Diagnostic>) {
    const PLACEHOLDERS: [&str; 12] = [
        "replace",
        "todo",
        "tbd",
        "fixme",
        "changeme",
        "change",
        "placeholder",
        "your",
        "insert",
        "example",
        "dummy",
        "sample",
    ];
    let at = format!("{base}/workflow_id");
    let Some(id) = doc.value.pointer(&at).and_then(Value::as_str) else {
        return;
    };
    let id = id.trim();
    if id.is_empty() {
        return; // the schema says so
    }
    let lower = id.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let placeholder = words.iter().any(|w| PLACEHOLDERS.contains(w))
        || lower
            .chars()
            .all(|c| c == 'x' || c == '-' || c == '.' || c == '0')
        || (id.starts_with('<') && id.ends_with('>'))
        || (id.starts_with("{{") && id.ends_with("}}"))
        || lower == "id"
        || lower == "workflow_id";
    let span = doc.span(&at);
    if placeholder {
        out.push(
            Diagnostic::error(
                Code::WorkflowIdPlaceholder,
                format!("`workflow_id` is `{id}`, a placeholder, not a workflow's id"),
            )
            .at(at.clone(), span)
            .help("give the id of your workflow on the service, then check it with `outreach plan CAMPAIGN --mock` (the demo workflows) or `--api-url URL` (yours)"),
        );
    } else if !is_uuid(id) {
        out.push(
            Diagnostic::warning(
                Code::WorkflowIdNotUuid,
                format!("`workflow_id` `{id}` is not a UUID, as the service's ids are"),
            )
            .at(at, span)
            .help("check it with `outreach plan CAMPAIGN --api-url URL`: it fetches the workflow and its message"),
        );
    }
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn check_country(code: &str, pointer: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    if code.len() == 2 && code.parse::<phonenumber::country::Id>().is_err() {
        out.push(
            Diagnostic::error(
                Code::UnknownCountry,
                format!("`{code}` is not a country code"),
            )
            .at(pointer, doc.span(pointer))
            .help(match crate::patients::countries::code_for(code) {
                Some(c) => format!("did you mean `{c}`? Country codes are written in capitals"),
                None => "use a two-letter ISO 3166 code such as NG, GH, KE or ZA".to_owned(),
            }),
        );
    }
}

fn check_timezone(tz: &str, pointer: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    if jiff::tz::TimeZone::get(tz).is_err() {
        let zones: Vec<String> = jiff::tz::db().available().map(|z| z.to_string()).collect();
        let city = tz.rsplit('/').next().unwrap_or(tz).replace(' ', "_");
        let same_city = zones.iter().find(|z| {
            z.rsplit('/')
                .next()
                .is_some_and(|c| c.eq_ignore_ascii_case(&city))
        });
        let hint = if let Some(zone) = same_city {
            format!("did you mean `{zone}`?")
        } else if let Some((zone, country)) = crate::patients::countries::zone_for(tz) {
            format!(
                "did you mean `{zone}`? All of {country} is in that zone (zones are named after one city each)"
            )
        } else if tz.eq_ignore_ascii_case("wat") {
            "did you mean `Africa/Lagos`? Zones are IANA names, not abbreviations".to_owned()
        } else if let Some(s) = crate::campaign::schema::suggest(tz, &zones) {
            format!("did you mean `{s}`?")
        } else {
            "use an IANA name such as `Africa/Lagos`, `Africa/Accra` or `Africa/Nairobi`".to_owned()
        };
        out.push(
            Diagnostic::error(
                Code::UnknownTimezone,
                format!("`{tz}` is not a known time zone"),
            )
            .at(pointer, doc.span(pointer))
            .help(hint),
        );
    }
}

fn check_schedule(s: &Schedule, doc: &Document, out: &mut Vec<Diagnostic>) {
    check_timezone(&s.timezone, "/schedule/timezone", doc, out);
    for (i, w) in s.windows.iter().enumerate() {
        if w.from.value() >= w.until.value() {
            let p = format!("/schedule/windows/{i}/until");
            out.push(
                Diagnostic::error(
                    Code::WindowOrder,
                    format!(
                        "this window closes at {} but opens at {}: it must close after it opens",
                        w.until, w.from
                    ),
                )
                .at(p.clone(), doc.span(&p))
                .help("a window cannot cross midnight; split it into two windows"),
            );
        }
    }
    if let (Some(nb), Some(na)) = (&s.not_before, &s.not_after)
        && nb.value().0 > na.value().0
    {
        out.push(
            Diagnostic::error(
                Code::DatesOrder,
                format!("`not_after` ({na}) is before `not_before` ({nb})"),
            )
            .at("/schedule/not_after", doc.span("/schedule/not_after"))
            .help("swap the two dates"),
        );
    }
}

/// The values the campaign writes as text and the model reads as types (lengths of time,
/// times of day, dates): each one that does not read as its type, located. Their pointers
/// join the schema's rejected ones, so the semantic rules run on the rest.
fn check_written(value: &Value, doc: &Document) -> Vec<Diagnostic> {
    use crate::campaign::values::{Clock, End, Length, Start, Textual, Written};
    fn reads<T: Textual>(text: &str) -> bool {
        Written::<T>::new(text).is_some()
    }
    /// A value's place, whether a text reads as its type, its code and its help.
    type Check = (String, fn(&str) -> bool, Code, &'static str);
    let mut checks: Vec<Check> = vec![
        (
            "/delivery/retry/delay".to_owned(),
            reads::<Length>,
            Code::BadDuration,
            "write it like `30m`, `2h` or `1d`",
        ),
        (
            "/delivery/frequency_cap/per".to_owned(),
            reads::<Length>,
            Code::BadDuration,
            "write it like `24h` or `7d`",
        ),
        (
            "/delivery/outcome_deadline".to_owned(),
            reads::<Length>,
            Code::BadDuration,
            "write a length of time longer than zero, like `48h` or `3d`",
        ),
        (
            "/schedule/not_before".to_owned(),
            reads::<Start>,
            Code::BadDate,
            "write a date as 2026-12-01, or a date and local time as 2026-12-01T09:00",
        ),
        (
            "/schedule/not_after".to_owned(),
            reads::<End>,
            Code::BadDate,
            "write a date as 2026-12-01, or a date and local time as 2026-12-01T09:00",
        ),
    ];
    let windows = value
        .pointer("/schedule/windows")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    for i in 0..windows {
        for field in ["from", "until"] {
            checks.push((
                format!("/schedule/windows/{i}/{field}"),
                reads::<Clock>,
                Code::BadText,
                "write the time as \"HH:MM\" on a 24-hour clock, in quotes, such as \"09:00\" or \"17:30\"",
            ));
        }
    }
    let mut out = Vec::new();
    for (pointer, reads, code, help) in checks {
        let Some(text) = value.pointer(&pointer).and_then(Value::as_str) else {
            continue; // absent, or of another type: the schema says so
        };
        if !reads(text) {
            let what = match code {
                Code::BadDuration => "a length of time",
                Code::BadDate => "a date",
                _ => "a time of day",
            };
            out.push(
                Diagnostic::error(code, format!("`{text}` is not {what}"))
                    .at(pointer.clone(), doc.span(&pointer))
                    .help(help),
            );
        }
    }
    out
}

/// What a template prints that is not words for a patient ([`crate::render::suspect`]).
fn suspect_diagnostic(
    name: &str,
    pointer: &str,
    suspect: &crate::render::suspect::Suspect,
    span: Option<Span>,
) -> Diagnostic {
    use crate::render::suspect::Suspect;
    let name = quoted(name);
    match suspect {
        Suspect::WholeRow(written) => Diagnostic::error(
            Code::TemplateWholeRow,
            format!(
                "the template for `{name}` prints `{}`, the whole row, which a patient would hear as \"[object]\"",
                quoted(written)
            ),
        )
        .help("name the column to say, such as `{{first_name}}`"),
        Suspect::Comparison(helper) => Diagnostic::error(
            Code::TemplateComparison,
            format!(
                "the template for `{name}` compares with `{helper}`, but every patient value is text, so the comparison does not compare numbers"
            ),
        )
        .help("compare text with `eq`, or add a column that says which message to use"),
    }
    .at(pointer, span)
}

/// Blank values a call would carry: a default that is empty, and an inline patient's empty
/// value for a column a template reads (refused even where a default would stand in: a blank
/// written for one patient is more likely a slip than a wish for the default).
/// `list_columns`: at most [`crate::ledger::ListValues::MAX_COLUMNS`], each once, and not a
/// source's phone column. The phone column is refused: the number is listed on its own and
/// masked unless `--unmask`; a copy in the list's columns would print it in clear.
fn check_list_columns(c: &Partial, doc: &Document, out: &mut Vec<Diagnostic>) {
    let max = crate::ledger::ListValues::MAX_COLUMNS;
    if c.list_columns.len() > max {
        out.push(
            Diagnostic::error(
                Code::ListColumnInvalid,
                format!(
                    "`list_columns` names {} columns; at most {max} are kept with each call",
                    c.list_columns.len()
                ),
            )
            .at("/list_columns".to_owned(), doc.span("/list_columns"))
            .help("keep the columns a follow-up list or a breakdown needs"),
        );
    }
    for (j, col) in c.list_columns.iter().enumerate() {
        let pointer = format!("/list_columns/{j}");
        let problem = if c.list_columns[..j].contains(col) {
            Some(format!("`list_columns` names `{col}` twice"))
        } else if c.patients.iter().any(|(_, s)| &s.phone_column == col) {
            Some(format!(
                "`list_columns` names `{col}`, the phone column: the number is listed on its own, masked unless `--unmask`"
            ))
        } else if col.chars().count() > crate::ledger::ListValues::MAX_CHARS {
            Some(format!(
                "`list_columns` names a column longer than {} characters",
                crate::ledger::ListValues::MAX_CHARS
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            out.push(
                Diagnostic::error(Code::ListColumnInvalid, message)
                    .at(pointer.clone(), doc.span(&pointer))
                    .help("remove it from `list_columns`"),
            );
        }
    }
}

fn check_empty_values(
    c: &Partial,
    used: &[(String, String)],
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) {
    let blank = |v: &Value| match v {
        Value::String(s) => s.trim().is_empty(),
        Value::Null => true,
        _ => false,
    };
    for (column, value) in &c.defaults {
        if value.trim().is_empty() {
            let pointer = format!("/defaults/{}", escape(column));
            out.push(
                Diagnostic::error(
                    Code::EmptyValue,
                    format!("the default for `{}` is empty", quoted(column)),
                )
                .at(pointer.clone(), doc.span(&pointer))
                .help("a default is what a patient hears when their value is missing: give it words, or remove it so those patients are skipped"),
            );
        }
    }
    let columns: BTreeSet<&str> = used.iter().map(|(_, col)| col.as_str()).collect();
    for (i, source) in &c.patients {
        for (j, record) in source.inline.iter().flatten().enumerate() {
            for (column, value) in record {
                if columns.contains(column.as_str()) && blank(value) {
                    let pointer = format!("/patients/{i}/inline/{j}/{}", escape(column));
                    out.push(
                        Diagnostic::error(
                            Code::EmptyValue,
                            format!(
                                "patient {} of the inline list has an empty `{}`, which a template reads",
                                j + 1,
                                quoted(column)
                            ),
                        )
                        .at(pointer.clone(), doc.span(&pointer))
                        .help("write the value, or remove the key so the patient's default (or a skip) applies"),
                    );
                }
            }
        }
    }
}

/// A template over a limit of [`crate::render::limits`], refused before it is parsed.
fn template_limit(
    name: &str,
    pointer: &str,
    problem: crate::render::limits::LimitProblem,
    span: Option<Span>,
) -> Diagnostic {
    use crate::render::limits::LimitProblem;
    let (code, help) = match problem {
        LimitProblem::TooLong { .. } => (
            Code::TemplateTooLong,
            "a call's message is at most 4,000 characters: shorten the template, or split it into variables",
        ),
        LimitProblem::TooDeep { .. } => (
            Code::TemplateTooDeep,
            "no message needs this much nesting: write the choices one after another, not inside one another",
        ),
        LimitProblem::Brackets { .. } => (
            Code::TemplateUnsupported,
            "write a column whose name has spaces as `{{[first name]}}`; lists and quoted keys are not supported",
        ),
    };
    Diagnostic::error(
        code,
        format!("the template for `{}` {}", quoted(name), problem.describe()),
    )
    .at(pointer, span)
    .help(help)
}
