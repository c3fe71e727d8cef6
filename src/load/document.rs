//! The load stage: campaign text → a JSON value, an index from JSON pointers to source
//! spans, and diagnostics for the YAML traps that would otherwise be converted silently.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::load::diagnostic::{Code, Diagnostic};
use crate::load::yaml::{LoadErrorKind, Node, NodeKind, Resolved, Span, Style};

/// Where a value (and its key, for mapping entries) sits in the source.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    pub key: Option<Span>,
    pub value: Span,
    /// The value was written as an unquoted number.
    pub plain_number: bool,
}

/// A campaign document as loaded from YAML.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub index: HashMap<String, Located>,
}

impl Document {
    /// The span of the value at `pointer`, or of its nearest located ancestor.
    pub fn span(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|l| l.value)
    }

    /// The span of the key at `pointer` (for mapping entries), else the value's.
    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|l| l.key.unwrap_or(l.value))
    }

    fn find(&self, pointer: &str) -> Option<&Located> {
        let mut p = pointer;
        loop {
            if let Some(l) = self.index.get(p) {
                return Some(l);
            }
            let cut = p.rfind('/')?;
            p = &p[..cut];
        }
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Loads `text`, returning the document (when it could be built) and the diagnostics found.
pub fn load(text: &str) -> (Option<Document>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let node = match crate::load::yaml::load(text) {
        Ok(node) => node,
        Err(e) => {
            let (code, help) = match e.kind {
                LoadErrorKind::Syntax => (
                    Code::YamlSyntax,
                    "check the indentation and the `:` after each key near this line",
                ),
                LoadErrorKind::Tab => (
                    Code::YamlTab,
                    "replace the tab with spaces (most editors can show and convert tabs)",
                ),
                LoadErrorKind::TooDeep => (
                    Code::YamlTooDeep,
                    "a campaign needs only a few levels of nesting; is this the right file?",
                ),
                LoadErrorKind::TooManyNodes => (
                    Code::YamlTooManyValues,
                    "list large numbers of patients in a patient file, not in the campaign",
                ),
                LoadErrorKind::MultipleDocuments => (
                    Code::YamlMultipleDocuments,
                    "put each campaign in a file of its own",
                ),
                LoadErrorKind::NotText => (Code::NotText, "campaign files are UTF-8 text"),
                LoadErrorKind::Empty => (
                    Code::EmptyFile,
                    "start from one of the examples in campaigns/, or run `outreach schema` to see every field",
                ),
            };
            let escape = e.message.contains("hexadecimal") || e.message.contains("escape");
            let help = if e.kind == LoadErrorKind::Syntax && escape {
                "inside double quotes a backslash starts an escape (`\\n`, `\\u…`), so a Windows path such as \"C:\\Users\\…\" breaks: use single quotes ('C:\\Users\\clinic\\patients.csv') or forward slashes (C:/Users/clinic/patients.csv)"
            } else if e.kind == LoadErrorKind::Syntax && e.message.contains("quoted") {
                "a quote (\" or ') opened here is not closed; close it on the same line"
            } else if e.kind == LoadErrorKind::Syntax
                && (e.message.contains("alias") || e.message.contains("anchor"))
            {
                "an alias (`*name`) needs an anchor (`&name`) defined before it; to write a `*`, put the text in quotes"
            } else {
                help
            };
            let span = if e.kind == LoadErrorKind::Empty {
                let start = crate::load::yaml::Pos {
                    line: 1,
                    column: 1,
                    offset: 0,
                };
                Span { start, end: start }
            } else {
                e.span
            };
            diags.push(
                Diagnostic::error(code, e.message)
                    .at("", Some(span))
                    .help(help),
            );
            return (None, diags);
        }
    };
    let mut index = HashMap::new();
    let value = convert(&node, String::new(), None, &mut index, &mut diags);
    let doc = Document { value, index };
    check_phone_numbers(&doc, &mut diags);
    (Some(doc), diags)
}

/// Converts a node to JSON. Recursion is bounded by [`crate::load::yaml::MAX_DEPTH`].
fn convert(
    node: &Node,
    pointer: String,
    key: Option<Span>,
    index: &mut HashMap<String, Located>,
    diags: &mut Vec<Diagnostic>,
) -> Value {
    let mut plain_number = false;
    let value = match &node.kind {
        NodeKind::Scalar { text, style } => {
            let (value, is_number) = scalar(text, *style, &pointer, node.span, diags);
            plain_number = is_number;
            value
        }
        NodeKind::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| convert(item, format!("{pointer}/{i}"), None, index, diags))
                .collect(),
        ),
        NodeKind::Map(pairs) => {
            let mut map = Map::new();
            let mut seen: HashMap<String, Span> = HashMap::new();
            for (k, v) in pairs {
                let NodeKind::Scalar { text: name, .. } = &k.kind else {
                    diags.push(
                        Diagnostic::error(
                            Code::YamlComplexKey,
                            "a key must be a plain word, not a list or mapping",
                        )
                        .at(pointer.clone(), Some(k.span)),
                    );
                    continue;
                };
                let child = format!("{pointer}/{}", escape(name));
                if let Some(first) = seen.get(name) {
                    diags.push(
                        Diagnostic::error(
                            Code::YamlDuplicateKey,
                            format!("`{name}` is given twice in the same place"),
                        )
                        .at(child.clone(), Some(k.span))
                        .help(format!(
                            "it was first given on line {}; keep one of them (YAML tools disagree on which one wins)",
                            first.start.line
                        )),
                    );
                    continue;
                }
                seen.insert(name.clone(), k.span);
                let v = convert(v, child, Some(k.span), index, diags);
                map.insert(name.clone(), v);
            }
            Value::Object(map)
        }
    };
    index.insert(
        pointer,
        Located {
            key,
            value: node.span,
            plain_number,
        },
    );
    value
}

/// The YAML 1.1 words for true/false that YAML 1.2 (and this tool) read as text.
const YAML11_BOOLEANS: [&str; 18] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "yEs", "nO",
];

/// The value YAML 1.1 gives a plain `10:30` (its base-60 integers: `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`,
/// so `10:30` is 630 while `09:00` stays text), or `None` when `text` is not one.
fn base_60(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut parts = digits.split(':');
    let first = parts.next()?;
    if !first.starts_with(|c: char| matches!(c, '1'..='9'))
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let mut value: i128 = first.replace('_', "").parse().ok()?;
    let mut sixties = 0;
    for part in parts {
        let ok = (1..=2).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part.len() == 1 || part.as_bytes()[0] <= b'5');
        if !ok {
            return None;
        }
        value = value.checked_mul(60)?.checked_add(part.parse().ok()?)?;
        sixties += 1;
    }
    (sixties > 0).then_some(if negative { -value } else { value })
}

fn scalar(
    text: &str,
    style: Style,
    pointer: &str,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> (Value, bool) {
    if style != Style::Plain {
        return (Value::String(text.to_owned()), false);
    }
    if YAML11_BOOLEANS.contains(&text) {
        diags.push(
            Diagnostic::error(
                Code::YamlAmbiguousBoolean,
                format!(
                    "`{text}` without quotes means yes/no to some YAML tools and text to others"
                ),
            )
            .at(pointer, Some(span))
            .help(format!(
                "write \"{text}\" in quotes if you mean the text, or true/false for yes/no"
            )),
        );
        return (Value::String(text.to_owned()), false);
    }
    if let Some(number) = base_60(text) {
        diags.push(
            Diagnostic::error(
                Code::YamlBase60Number,
                format!(
                    "`{text}` without quotes is the number {number} to YAML 1.1 tools (read in base 60) and text to others"
                ),
            )
            .at(pointer, Some(span))
            .help(format!("write \"{text}\" in quotes")),
        );
        return (Value::String(text.to_owned()), false);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        diags.push(
            Diagnostic::error(
                Code::YamlLeadingZero,
                format!(
                    "`{text}` is read as the number {}, dropping its leading zero",
                    digits.trim_start_matches('0')
                ),
            )
            .at(pointer, Some(span))
            .help(format!("write \"{text}\" in quotes to keep it as written")),
        );
        return (Value::String(text.to_owned()), false);
    }
    match crate::load::yaml::resolve_plain(text) {
        Resolved::Null => (Value::Null, false),
        Resolved::Bool(b) => (Value::Bool(b), false),
        Resolved::Int(i) => (Value::Number(i.into()), true),
        Resolved::Float(f) => (
            Number::from_f64(f).map_or_else(|| Value::String(text.to_owned()), Value::Number),
            true,
        ),
        Resolved::Str => (Value::String(text.to_owned()), false),
    }
}

/// Phone numbers written as bare numbers lose their `+` or leading `0` and may be rounded:
/// flag every inline phone value that YAML read as a number.
fn check_phone_numbers(doc: &Document, diags: &mut Vec<Diagnostic>) {
    for section in ["patients", "exclude"] {
        let Some(sources) = doc.value.get(section).and_then(Value::as_array) else {
            continue;
        };
        for (i, source) in sources.iter().enumerate() {
            let column = source
                .get("phone_column")
                .and_then(Value::as_str)
                .unwrap_or("phone");
            let Some(records) = source.get("inline").and_then(Value::as_array) else {
                continue;
            };
            for (j, record) in records.iter().enumerate() {
                let pointer = format!("/{section}/{i}/inline/{j}/{}", escape(column));
                let Some(located) = doc.index.get(&pointer) else {
                    continue;
                };
                if located.plain_number {
                    let written = record.get(column).map(Value::to_string).unwrap_or_default();
                    diags.push(
                        Diagnostic::error(
                            Code::PhoneNotText,
                            format!("the phone number {written} is written as a bare number, so a leading `+` or `0` is lost"),
                        )
                        .at(pointer, Some(located.value))
                        .help("put phone numbers in quotes: phone: \"+2348031234567\""),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<Code> {
        load(text).1.iter().map(|d| d.code).collect()
    }

    #[test]
    fn flags_yaml_traps() {
        assert_eq!(codes("a: no\n"), ["yaml-ambiguous-boolean"]);
        assert_eq!(codes("a: 0803\n"), ["yaml-leading-zero"]);
        assert_eq!(codes("a: 1\na: 2\n"), ["yaml-duplicate-key"]);
        assert_eq!(
            codes("patients:\n  - inline:\n      - phone: +2348031234567\n"),
            ["phone-not-text"]
        );
        assert!(codes("a: \"no\"\nb: '0803'\n").is_empty());
        assert_eq!(codes("from: 10:30\n"), ["yaml-base-60-number"]);
    }

    #[test]
    fn a_windows_path_in_double_quotes_gets_a_way_out() {
        for text in [
            "file: \"C:\\Users\\clinic\\p.csv\"\n",
            "file: \"D:\\data\\q.csv\"\n",
        ] {
            let (_, diags) = load(text);
            assert_eq!(diags[0].code, Code::YamlSyntax, "{text}");
            let help = diags[0].help.as_deref().unwrap_or_default();
            assert!(
                help.contains("single quotes") && help.contains("forward slashes"),
                "{text}: {help}"
            );
        }
    }

    #[test]
    fn knows_yaml_1_1_base_60_numbers() {
        assert_eq!(base_60("10:30"), Some(630));
        assert_eq!(base_60("9:00"), Some(540));
        assert_eq!(base_60("1:2:3"), Some(3723));
        assert_eq!(base_60("-1:30"), Some(-90));
        assert_eq!(base_60("1_0:30"), Some(630));
        for text in [
            "09:00",
            "10:60",
            "10:",
            ":30",
            "10:300",
            "10",
            "a:30",
            "10:3a",
            "17:00:00.5",
        ] {
            assert_eq!(base_60(text), None, "{text}");
        }
        let (_, diags) = load("from: 10:30\n");
        assert!(diags[0].message.contains("630"), "{}", diags[0].message);
        assert!(
            load("from: \"10:30\"\nuntil: '17:00'\nat: 09:00\n")
                .1
                .is_empty()
        );
    }

    #[test]
    fn indexes_pointers() {
        let (doc, _) = load("voice:\n  accent: igbo\n");
        let doc = doc.unwrap();
        let span = doc.span("/voice/accent").unwrap();
        assert_eq!((span.start.line, span.start.column), (2, 11));
        let key = doc.key_span("/voice/accent").unwrap();
        assert_eq!((key.start.line, key.start.column), (2, 3));
    }
}
