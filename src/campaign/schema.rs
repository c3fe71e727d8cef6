//! The published JSON schema, generated from [`crate::campaign::Campaign`], and the schema
//! check that turns `jsonschema` errors into plain-language diagnostics.

use std::collections::HashSet;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::campaign::Campaign;
use crate::load::diagnostic::{Code, Diagnostic, quoted};
use crate::load::document::{Document, escape};

/// The schema as a JSON value.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema = schemars::schema_for!(Campaign).to_value();
        // A campaign names its workflow (`workflow_id`) or writes it (`workflow`): one of them.
        if let Some(root) = schema.as_object_mut() {
            root.insert(
                "oneOf".to_owned(),
                serde_json::json!([{"required": ["workflow_id"]}, {"required": ["workflow"]}]),
            );
        }
        schema
    })
}

/// The schema as published in `schemas/campaign.schema.json` (pretty JSON, trailing newline).
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema())
            .expect("the generated schema compiles")
    })
}

/// Checks the document against the schema. Pointers in `skip` already have a diagnostic
/// (a YAML trap) and are not reported twice.
pub fn check<S: std::hash::BuildHasher>(
    doc: &Document,
    skip: &HashSet<String, S>,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for error in validator().iter_errors(&doc.value) {
        let pointer = error.instance_path().as_str().to_owned();
        if skip.contains(&pointer) {
            continue;
        }
        // Neither or both of `workflow_id` and `workflow`: the semantic rules say which, in
        // words (`workflow-missing`, `workflow-twice`).
        if pointer.is_empty()
            && matches!(
                error.kind(),
                ValidationErrorKind::OneOfNotValid { .. }
                    | ValidationErrorKind::OneOfMultipleValid { .. }
            )
        {
            continue;
        }
        let diag = describe(doc, &pointer, error.kind(), error.instance());
        out.extend(diag);
    }
    out.dedup_by(|a, b| a.pointer == b.pointer && a.code == b.code && a.message == b.message);
    out
}

/// How a field is named in a message: `` `accent` ``, or `` item 2 of `days` ``.
pub fn field_name(pointer: &str) -> String {
    match pointer.rsplit('/').next() {
        Some(last) if !pointer.is_empty() => {
            if last.bytes().all(|b| b.is_ascii_digit()) {
                let parent = &pointer[..pointer.len() - last.len() - 1];
                let name = quoted(parent.rsplit('/').next().unwrap_or(""));
                format!(
                    "item {} of `{name}`",
                    last.parse::<usize>().unwrap_or(0) + 1
                )
            } else {
                format!("`{}`", quoted(&last.replace("~1", "/").replace("~0", "~")))
            }
        }
        _ => "the campaign".to_owned(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a yes/no value",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a set of fields",
    }
}

fn expected_type(kind: &TypeKind) -> String {
    let one = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a set of fields",
        "null" => "nothing",
        _ => "another kind of value",
    };
    match kind {
        TypeKind::Single(t) => one(t).to_owned(),
        TypeKind::Multiple(set) => set
            .iter()
            .filter(|t| t.to_string() != "null")
            .map(|t| one(&t))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn list(values: &Value) -> String {
    match values {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), ToOwned::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "one arm per kind of schema error, each independent of the others"
)]
fn describe(
    doc: &Document,
    pointer: &str,
    kind: &ValidationErrorKind,
    instance: &Value,
) -> Vec<Diagnostic> {
    let what = field_name(pointer);
    let span = doc.span(pointer);
    let d = match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = properties_at(pointer);
            return unexpected
                .iter()
                .map(|name| {
                    let child = format!("{pointer}/{}", escape(name));
                    let mut d = Diagnostic::error(
                        Code::UnknownKey,
                        format!("`{}` is not a field {}", quoted(name), where_(pointer)),
                    )
                    .at(child.clone(), doc.key_span(&child));
                    d = match suggest(name, &known) {
                        // `opt_outs` is closest in spelling to `opt_out_replies`, but a list of
                        // numbers (`- file: opt-outs.csv`) is an `exclude` list.
                        Some(_) if pointer.is_empty() && means_opt_out_lists(name) => d.help(
                            "did you mean `exclude`? Opt-out lists (files or inline numbers) go under `exclude`; `opt_out_replies` names the reply options that opt a patient out",
                        ),
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None if !known.is_empty() => {
                            d.help(format!("the fields here are: {}", known.join(", ")))
                        }
                        None => d,
                    };
                    d
                })
                .collect();
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            Diagnostic::error(
                Code::MissingKey,
                if pointer.is_empty() {
                    format!("the campaign has no `{name}`, which is required")
                } else {
                    format!("{} has no `{name}`, which is required", field_name(pointer))
                },
            )
            .at(pointer, doc.key_span(pointer))
            .help(required_help(name))
        }
        ValidationErrorKind::Type { kind } => {
            let mut d = Diagnostic::error(
                Code::WrongType,
                format!(
                    "{what} should be {}, but it is {}",
                    expected_type(kind),
                    type_name(instance)
                ),
            )
            .at(pointer, span);
            if matches!(instance, Value::Bool(_) | Value::Number(_))
                && expected_type(kind).contains("text")
            {
                d = d.help(format!("put the value in quotes: \"{instance}\""));
            } else if instance.is_null() {
                d = d.help("give a value after the `:`, or remove the line");
            }
            d
        }
        ValidationErrorKind::Enum { options } => {
            let given = instance
                .as_str()
                .map_or_else(|| instance.to_string(), ToOwned::to_owned);
            let choices: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut d = Diagnostic::error(
                Code::NotAllowedValue,
                format!("{what} cannot be `{}`", quoted(&given)),
            )
            .at(pointer, span);
            d = match suggest(&given, &choices) {
                Some(s) => d.help(format!("did you mean `{s}`? Allowed: {}", list(options))),
                None => d.help(format!("allowed values: {}", list(options))),
            };
            d
        }
        ValidationErrorKind::Constant { expected_value } => Diagnostic::error(
            Code::NotAllowedValue,
            format!("{what} must be {expected_value}"),
        )
        .at(pointer, span)
        .help(if pointer == "/version" {
            "this tool reads version 1 campaign files: write `version: 1`".to_owned()
        } else {
            format!("write {expected_value}")
        }),
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // schemars writes documented enums as `oneOf` of `const`s, and a value that is
            // one of a list or a word of its own (a day, or `weekdays`) as a `oneOf` of an
            // `enum` and `const`s: every branch's values are allowed.
            let consts: Vec<String> = context
                .iter()
                .flatten()
                .flat_map(|e| match e.kind() {
                    ValidationErrorKind::Constant { expected_value } => expected_value
                        .as_str()
                        .map(ToOwned::to_owned)
                        .into_iter()
                        .collect(),
                    ValidationErrorKind::Enum { options } => options
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    _ => Vec::new(),
                })
                .collect();
            if consts.is_empty() {
                Diagnostic::error(
                    Code::WrongValue,
                    format!("{what} does not fit any allowed form"),
                )
                .at(pointer, span)
            } else {
                let given = instance
                    .as_str()
                    .map_or_else(|| instance.to_string(), ToOwned::to_owned);
                let mut d = Diagnostic::error(
                    Code::NotAllowedValue,
                    format!("{what} cannot be `{}`", quoted(&given)),
                )
                .at(pointer, span);
                let all = consts.join(", ");
                d = match suggest(&given, &consts) {
                    Some(s) => d.help(format!("did you mean `{s}`? Allowed: {all}")),
                    None => d.help(format!("allowed values: {all}")),
                };
                d
            }
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => Diagnostic::error(
            Code::OutOfRange,
            format!("{what} is {instance}, below the smallest allowed value, {limit}"),
        )
        .at(pointer, span),
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => Diagnostic::error(
            Code::OutOfRange,
            format!("{what} is {instance}, above the largest allowed value, {limit}"),
        )
        .at(pointer, span),
        ValidationErrorKind::MinItems { limit } => Diagnostic::error(
            Code::TooFewItems,
            format!(
                "{what} needs at least {limit} item{}",
                if *limit == 1 { "" } else { "s" }
            ),
        )
        .at(pointer, span),
        ValidationErrorKind::MaxItems { limit } => Diagnostic::error(
            Code::TooManyItems,
            format!("{what} may have at most {limit} items"),
        )
        .at(pointer, span),
        ValidationErrorKind::MinLength { limit } => {
            let msg = if *limit == 1 {
                format!("{what} is empty")
            } else {
                format!("{what} must be at least {limit} characters long")
            };
            Diagnostic::error(Code::BadText, msg).at(pointer, span)
        }
        ValidationErrorKind::MaxLength { limit } => Diagnostic::error(
            Code::BadText,
            format!(
                "{what} must be at most {limit} character{} long",
                if *limit == 1 { "" } else { "s" }
            ),
        )
        .at(pointer, span),
        ValidationErrorKind::Pattern { .. } => {
            let given = instance.as_str().unwrap_or_default();
            Diagnostic::error(
                Code::BadText,
                format!("{what} cannot be `{}`", quoted(given)),
            )
            .at(pointer, span)
            .help(pattern_help(pointer))
        }
        ValidationErrorKind::Format { format } => {
            Diagnostic::error(Code::BadText, format!("{what} is not a valid {format}"))
                .at(pointer, span)
        }
        other => Diagnostic::error(
            Code::WrongValue,
            format!("{what} is not valid ({})", other.keyword()),
        )
        .at(pointer, span),
    };
    vec![d]
}

fn where_(pointer: &str) -> String {
    if pointer.is_empty() {
        "of a campaign".to_owned()
    } else {
        format!("in {}", field_name(pointer))
    }
}

fn required_help(name: &str) -> String {
    match name {
        "version" => "add `version: 1` at the top of the file".to_owned(),
        "name" => "add a stable name such as `name: measles-reminder-lagos`".to_owned(),
        "workflow_id" => "add the id of the voicebot workflow to run".to_owned(),
        "patients" => "add at least one patient source, such as `- file: patients.csv`".to_owned(),
        "schedule" => "add a schedule with a `timezone` and at least one calling window".to_owned(),
        "timezone" => "add the time zone, such as `timezone: Africa/Lagos`".to_owned(),
        "windows" => {
            "add at least one window: `- {days: [weekdays], from: \"09:00\", until: \"17:00\"}`"
                .to_owned()
        }
        "days" => "add the days, such as `days: [weekdays]`".to_owned(),
        "from" | "until" => format!("add `{name}` as a time such as \"09:00\""),
        _ => format!("add `{name}`"),
    }
}

fn pattern_help(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or("");
    if pointer == "/name" {
        "use lower-case letters, digits and dashes, starting with a letter or digit: `measles-reminder-lagos`".to_owned()
    } else if pointer == "/round" {
        "use letters, digits, dots, dashes and underscores, such as \"2026-12\"".to_owned()
    } else if last == "from" || last == "until" {
        "write the time as \"HH:MM\" on a 24-hour clock, in quotes, such as \"09:00\" or \"17:30\""
            .to_owned()
    } else if last == "default_country" || pointer.contains("/allowed_countries/") {
        "use the two-letter country code in capitals, such as \"NG\" or \"GH\"".to_owned()
    } else {
        "see the README for the expected form".to_owned()
    }
}

/// Whether a top-level key someone wrote means the campaign's opt-out lists (`opt_outs`,
/// `opt-out`, `do_not_call`).
fn means_opt_out_lists(name: &str) -> bool {
    let bare: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        bare.as_str(),
        "optout" | "optouts" | "optoutlist" | "optoutlists" | "donotcall" | "dnc"
    )
}

/// The closest name, if close enough to be a likely typo.
pub fn suggest(given: &str, known: &[String]) -> Option<String> {
    let given_l = given.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&given_l, &k.to_ascii_lowercase()), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.clone())
}

/// The schema of the value at an instance pointer (`$ref`s and `Option`s followed).
fn node_at(pointer: &str) -> Option<&'static Value> {
    let root = schema();
    let mut node = root;
    for segment in pointer.split('/').skip(1) {
        node = resolve(root, node);
        node = if segment.bytes().all(|b| b.is_ascii_digit()) {
            node.get("items")?
        } else {
            node.get("properties").and_then(|p| p.get(segment))?
        };
    }
    Some(resolve(root, node))
}

/// The property names the schema allows at an instance pointer.
fn properties_at(pointer: &str) -> Vec<String> {
    node_at(pointer)
        .and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// What the schema expects at an instance pointer, for hints: its words when it is one of a
/// list (an `enum`, or a `oneOf` of `const`s and `enum`s), or `yes/no` for a boolean.
pub enum Expected {
    Words(Vec<String>),
    Boolean,
    Other,
}

pub fn expected_at(pointer: &str) -> Expected {
    let Some(node) = node_at(pointer) else {
        return Expected::Other;
    };
    let root = schema();
    let mut words = Vec::new();
    let branches: Vec<&Value> = match node.get("oneOf").and_then(Value::as_array) {
        Some(b) => b.iter().map(|b| resolve(root, b)).collect(),
        None => vec![node],
    };
    for b in branches {
        if let Some(c) = b.get("const").and_then(Value::as_str) {
            words.push(c.to_owned());
        }
        if let Some(e) = b.get("enum").and_then(Value::as_array) {
            words.extend(e.iter().filter_map(Value::as_str).map(ToOwned::to_owned));
        }
    }
    if !words.is_empty() {
        Expected::Words(words)
    } else if node.get("type").and_then(Value::as_str) == Some("boolean") {
        Expected::Boolean
    } else {
        Expected::Other
    }
}

/// Follows `$ref` and picks the non-null branch of `anyOf` (how schemars writes `Option`).
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..8 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let path = r.trim_start_matches('#');
            match root.pointer(path) {
                Some(n) => node = n,
                None => return node,
            }
        } else if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            match branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
            {
                Some(b) => node = b,
                None => return node,
            }
        } else {
            return node;
        }
    }
    node
}
