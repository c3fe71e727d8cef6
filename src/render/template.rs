//! Per-patient templates: the handlebars registry with the helpers a programme manager
//! needs, and a static pass that lists the columns and helpers a template uses, so that
//! mistakes are found before anyone is called.
//!
//! Helpers (documented in the README):
//! - `{{upper x}}`, `{{lower x}}`, `{{title x}}` (Title Case), `{{trim x}}`
//! - `{{default x "fallback"}}`: `x`, or the fallback when `x` is empty or missing
//! - `{{date x "%d %B %Y"}}`: reformat a date column (`2026-12-03`, `15 Jan 2027`, …) with a
//!   strftime format; how dates are read, and which are refused, is [`crate::render::dates`]
//! - `{{mask x}}`: keep the last 4 characters, mask the rest (`*******4567`)
//! - `{{number x}}`: an amount or count with grouping (`1,234,567.5`)
//!
//! `date` and `number` take `locale="ha"` (a language tag): names and separators in that
//! language, from CLDR ([`crate::render::names`]). Without it, `date` writes English as jiff
//! does and `number` writes English separators.

use std::collections::BTreeSet;
use std::sync::Arc;

use handlebars::template::{HelperTemplate, Parameter, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason,
    Template,
};

use crate::render::dates::{self, DateRules};
use crate::render::names::{self, Names};

/// Helpers this tool registers.
pub const HELPERS: [&str; 8] = [
    "upper", "lower", "title", "trim", "default", "date", "mask", "number",
];

/// The one named argument a helper takes: `locale=` on `date` and `number`.
pub const LOCALE: &str = "locale";

/// Whether `helper` takes `locale=`.
pub fn takes_locale(helper: &str) -> bool {
    matches!(helper, "date" | "number")
}

/// Helpers and block helpers handlebars provides that make sense in a message.
const BUILTINS: [&str; 12] = [
    "if", "unless", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or", "not", "len",
];

/// What a template refers to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct References {
    /// Columns read, by their first path segment (`appt.date` reads column `appt`).
    pub columns: BTreeSet<String>,
    /// Helper names that are not known.
    pub unknown_helpers: BTreeSet<String>,
    /// Features that are not allowed in campaign templates (partials, decorators).
    pub unsupported: BTreeSet<String>,
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// 1-based line and column inside the template, when known.
    pub position: Option<(usize, usize)>,
}

/// Parses a template and lists what it refers to.
pub fn references(source: &str) -> Result<References, SyntaxError> {
    // handlebars' parser recurses: measure the text before it sees it.
    crate::render::limits::check(source).map_err(|p| SyntaxError {
        message: format!("the template {}", p.describe()),
        position: None,
    })?;
    let template = Template::compile(source).map_err(|e| SyntaxError {
        message: e.reason().to_string(),
        position: e.pos(),
    })?;
    let mut refs = References::default();
    walk(&template.elements, &mut refs);
    Ok(refs)
}

/// Which kind of argument problem: each has its own `Code` in validate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentKind {
    /// The wrong number of arguments, or a named argument the helper does not take.
    Count,
    /// A date format that does not render (in its language, when `locale=` is given).
    DateFormat,
    /// A `locale=` that is not a literal tag CLDR has.
    Locale,
}

/// What is wrong with a helper's arguments, found without a patient row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentProblem {
    pub kind: ArgumentKind,
    pub message: String,
    pub help: String,
    /// 1-based line and column of the expression inside the template, when known.
    pub position: Option<(usize, usize)>,
}

/// Checks the arguments of this tool's helpers in a template that parses: how many each
/// takes ([`arity`]), no named arguments, and a `date` format given as text renders with the
/// formatter the helper uses ([`dates::check_format`]), so that "valid" means "renders".
pub fn check_arguments(source: &str) -> Vec<ArgumentProblem> {
    check_arguments_in(source, &[])
}

/// [`check_arguments`] in a campaign whose patients speak `languages` (the names of each,
/// English left out): a `date` without `locale=` is written in each, so its format must be
/// one each can write.
pub fn check_arguments_in(source: &str, languages: &[Arc<Names>]) -> Vec<ArgumentProblem> {
    let mut out = Vec::new();
    if let Ok(t) = Template::compile(source) {
        arguments_in(&t, languages, &mut out);
    }
    out
}

fn arguments_in(t: &Template, rows: &[Arc<Names>], out: &mut Vec<ArgumentProblem>) {
    for (i, element) in t.elements.iter().enumerate() {
        let position = t.mapping.get(i).map(|m| (m.0, m.1));
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                helper_arguments(h, position, rows, out);
            }
            TemplateElement::HelperBlock(h) => {
                for p in &h.params {
                    param_arguments(p, position, rows, out);
                }
                for inner in [&h.template, &h.inverse].into_iter().flatten() {
                    arguments_in(inner, rows, out);
                }
            }
            _ => {}
        }
    }
}

fn param_arguments(
    p: &Parameter,
    position: Option<(usize, usize)>,
    rows: &[Arc<Names>],
    out: &mut Vec<ArgumentProblem>,
) {
    if let Parameter::Subexpression(s) = p
        && let TemplateElement::Expression(h) = s.element.as_ref()
    {
        helper_arguments(h, position, rows, out);
    }
}

fn helper_arguments(
    h: &HelperTemplate,
    position: Option<(usize, usize)>,
    rows: &[Arc<Names>],
    out: &mut Vec<ArgumentProblem>,
) {
    for p in &h.params {
        param_arguments(p, position, rows, out);
    }
    let name = match &h.name {
        Parameter::Name(n) => n.as_str(),
        Parameter::Path(handlebars::Path::Relative((_, raw))) => raw.as_str(),
        _ => return,
    };
    let Some((least, most)) = arity(name) else {
        return;
    };
    let usage = match name {
        "default" => "`{{default column \"text\"}}`: the column, or the text when it is empty",
        "date" => {
            "`{{date column}}` or `{{date column \"%A %-d %B\"}}` (a strftime format), with `locale=\"ha\"` for another language's names"
        }
        "number" => "`{{number column}}` or `{{number column locale=\"rw\"}}`",
        "upper" => "`{{upper column}}`",
        "lower" => "`{{lower column}}`",
        "title" => "`{{title column}}`",
        "trim" => "`{{trim column}}`",
        _ => "`{{mask column}}`",
    };
    let n = h.params.len();
    if n < least || n > most {
        let takes = match (least, most) {
            (1, 1) => "one argument".to_owned(),
            (2, 2) => "two arguments".to_owned(),
            (l, m) => format!("{l} or {m} arguments"),
        };
        out.push(ArgumentProblem {
            kind: ArgumentKind::Count,
            message: format!(
                "`{name}` takes {takes}, and is given {n}{}",
                if n > most && n > 1 && name != "default" {
                    " (a column whose name has a space is written `[Next Visit]`)"
                } else {
                    ""
                }
            ),
            help: format!("write it as {usage}"),
            position,
        });
    }
    let unknown_names = h.hash.keys().any(|k| !(takes_locale(name) && k == LOCALE));
    if unknown_names {
        out.push(ArgumentProblem {
            kind: ArgumentKind::Count,
            message: if takes_locale(name) {
                format!("`{name}` takes one named argument, `locale=`")
            } else {
                format!("`{name}` takes no named arguments (`name=value`)")
            },
            help: format!("write it as {usage}"),
            position,
        });
    }
    let language = match h.hash.get(LOCALE) {
        Some(value) if takes_locale(name) => match locale_argument(value) {
            Ok(names) => Some(names),
            Err((message, help)) => {
                out.push(ArgumentProblem {
                    kind: ArgumentKind::Locale,
                    message: format!("`{name}`: {message}"),
                    help,
                    position,
                });
                None
            }
        },
        _ => None,
    };
    let format = match h.params.get(1) {
        Some(Parameter::Literal(serde_json::Value::String(format))) => Some(format.as_str()),
        None => Some(DEFAULT_DATE_FORMAT),
        Some(_) => None,
    };
    // With `locale=`, its language; without, each language the campaign's patients speak.
    let languages: Vec<&Names> = match (&language, h.hash.contains_key(LOCALE)) {
        (Some(names), _) => vec![&**names],
        (None, false) => rows.iter().map(|n| &**n).collect(),
        (None, true) => Vec::new(),
    };
    if name == "date"
        && let Some(format) = format
        && let Some((names, why)) = languages
            .iter()
            .find_map(|n| n.format_problem(format).map(|why| (n, why)))
    {
        let whose = if language.is_some() {
            String::new()
        } else {
            format!(
                " in `{}`, a language of the campaign's patients",
                names.tag()
            )
        };
        out.push(ArgumentProblem {
            kind: ArgumentKind::DateFormat,
            message: format!("the date format `{format}` cannot be written{whose}: {why}"),
            help: "write the date's parts: `%A %-d %B %Y` for the names, `%H:%M` for a time"
                .to_owned(),
            position,
        });
    }
    if name == "date"
        && let Some(Parameter::Literal(serde_json::Value::String(format))) = h.params.get(1)
        && let Err(why) = dates::check_format(format)
    {
        out.push(ArgumentProblem {
            kind: ArgumentKind::DateFormat,
            message: format!("the date format `{format}` cannot be written: {why}"),
            help: "a strftime format, such as `%A %-d %B` (Thursday 3 December) or `%d/%m/%Y`; `%Q`, `%Z` and `%z` (a time zone) cannot be written, as the dates of a patient file have none".to_owned(),
            position,
        });
    }
}

/// A `locale=` value read without a row: a literal tag whose language CLDR has. `Err` holds
/// the message and the help.
fn locale_argument(value: &Parameter) -> Result<std::sync::Arc<Names>, (String, String)> {
    let Parameter::Literal(serde_json::Value::String(tag)) = value else {
        return Err((
            "`locale=` must be a language tag written in quotes, such as `locale=\"ha\"`, not a column".to_owned(),
            "write the tag, such as `locale=\"yo\"`; to write each patient's dates in their own language, give the campaign `language:` and `languages:` and leave `locale=` out".to_owned(),
        ));
    };
    names::for_tag(tag).map_err(|e| {
        let near = names::suggestions(tag);
        let help = if near.is_empty() {
            "a language tag CLDR has, such as `ha`, `yo`, `ig`, `sw`, `am`, `zu`, `rw`, `pcm` or `en`; for a language of `languages:` that CLDR lacks, say the one its names are written in with `names:`".to_owned()
        } else {
            format!(
                "did you mean {}? For a language of `languages:` that CLDR lacks, say the one its names are written in with `names:`",
                near.iter()
                    .map(|t| format!("`locale=\"{t}\"`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        (e.to_string(), help)
    })
}

fn is_helper(name: &str) -> bool {
    HELPERS.contains(&name) || BUILTINS.contains(&name)
}

fn walk(elements: &[TemplateElement], refs: &mut References) {
    for element in elements {
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                expression(h, refs);
            }
            TemplateElement::HelperBlock(h) => {
                expression(h, refs);
                if let Some(t) = &h.template {
                    walk(&t.elements, refs);
                }
                if let Some(t) = &h.inverse {
                    walk(&t.elements, refs);
                }
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                refs.unsupported.insert("decorators ({{* …}})".to_owned());
            }
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                refs.unsupported.insert("partials ({{> …}})".to_owned());
            }
            // Raw text, comments, and element kinds added by future handlebars versions.
            _ => {}
        }
    }
}

fn expression(h: &HelperTemplate, refs: &mut References) {
    let plain = h.params.is_empty() && h.hash.is_empty() && !h.block;
    match &h.name {
        Parameter::Name(name) => {
            if plain && !is_helper(name) {
                column(name, refs);
            } else if !is_helper(name) {
                refs.unknown_helpers.insert(name.clone());
            }
        }
        Parameter::Path(handlebars::Path::Relative((_, raw))) => {
            // `{{upper}}` alone calls the helper (with no argument), not a column.
            if plain && !is_helper(raw) {
                column(raw, refs);
            } else if !is_helper(raw) {
                refs.unknown_helpers.insert(raw.clone());
            }
        }
        Parameter::Subexpression(s) => sub(s, refs),
        _ => {}
    }
    for p in h.params.iter().chain(h.hash.values()) {
        param(p, refs);
    }
}

fn sub(s: &handlebars::template::Subexpression, refs: &mut References) {
    if let TemplateElement::Expression(h) = s.element.as_ref() {
        expression(h, refs);
    }
}

fn param(p: &Parameter, refs: &mut References) {
    match p {
        Parameter::Path(handlebars::Path::Relative((_, raw))) => column(raw, refs),
        Parameter::Name(name) => column(name, refs),
        Parameter::Subexpression(s) => sub(s, refs),
        _ => {}
    }
}

fn column(raw: &str, refs: &mut References) {
    let first = raw
        .trim_start_matches("this.")
        .trim_start_matches("./")
        .split(['.', '/'])
        .next()
        .unwrap_or(raw);
    let first = first.trim_start_matches('[').trim_end_matches(']');
    if !first.is_empty() && first != "this" && !first.starts_with('@') {
        refs.columns.insert(first.to_owned());
    }
}

/// A registry configured for patient messages: strict (a missing value is an error, never
/// an empty string), no HTML escaping (`O'Brien` stays `O'Brien`), and the helpers above,
/// reading dates by the campaign's `rules`.
pub fn registry(rules: &Arc<DateRules>) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    for name in HELPERS {
        hb.register_helper(
            name,
            Box::new(Shared {
                name,
                rules: Arc::clone(rules),
            }),
        );
    }
    hb
}

/// How many arguments each helper takes: the least and the most.
pub fn arity(helper: &str) -> Option<(usize, usize)> {
    match helper {
        "upper" | "lower" | "title" | "trim" | "mask" | "number" => Some((1, 1)),
        "default" => Some((2, 2)),
        "date" => Some((1, 2)),
        _ => None,
    }
}

/// Applies one of this tool's helpers to text arguments. Shared by the handlebars helpers and
/// the fast renderer ([`crate::render`]), so both give the same result. `column` is the
/// column of the first argument, when it is one (a date column may be declared
/// `excel_serial`, and the reasons name it). `language` is the `locale=` given, if any.
pub fn apply(
    helper: &str,
    args: &[&str],
    rules: &DateRules,
    column: Option<&str>,
    language: Option<&Names>,
) -> Result<String, String> {
    let arg = |i: usize| {
        args.get(i).copied().ok_or_else(|| {
            format!(
                "`{helper}` needs {} argument{}",
                i + 1,
                if i == 0 { "" } else { "s" }
            )
        })
    };
    Ok(match helper {
        "upper" => arg(0)?.to_uppercase(),
        "lower" => arg(0)?.to_lowercase(),
        "title" => title_case(arg(0)?),
        "trim" => arg(0)?.trim().to_owned(),
        "mask" => mask_text(arg(0)?),
        "default" => {
            let v = arg(0)?;
            if v.trim().is_empty() {
                arg(1)?.to_owned()
            } else {
                v.to_owned()
            }
        }
        "date" => {
            let raw = arg(0)?;
            let format = args.get(1).copied().unwrap_or(DEFAULT_DATE_FORMAT);
            let moment = rules.read(raw, column)?;
            let what = column.map_or_else(|| "the date".to_owned(), |c| format!("`{c}`"));
            match language {
                Some(names) => dates::format(&names.localise(format, moment.date)?, moment, &what)?,
                None => dates::format(format, moment, &what)?,
            }
        }
        "number" => {
            let raw = arg(0)?;
            let what = column.map_or_else(|| "the number".to_owned(), |c| format!("`{c}`"));
            let written = if let Some(names) = language {
                names.number(raw)
            } else {
                names::for_tag("en").map_err(|e| e.to_string())?.number(raw)
            };
            written.map_err(|why| format!("{what} {why}"))?
        }
        other => return Err(format!("`{other}` is not a helper")),
    })
}

/// The text of a JSON value as a template argument (numbers as written, `true`/`false`).
pub fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The format of `{{date x}}` without one.
pub const DEFAULT_DATE_FORMAT: &str = "%-d %B %Y";

/// The handlebars side of every helper: evaluate the params, then [`apply`]. A missing
/// argument is reported as a missing variable naming the column, like strict mode does for
/// `{{column}}`; `default` alone accepts a missing first argument.
#[derive(Clone)]
struct Shared {
    name: &'static str,
    rules: Arc<DateRules>,
}

impl HelperDef for Shared {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let mut args = Vec::with_capacity(h.params().len());
        for (i, p) in h.params().iter().enumerate() {
            match value_text(p.value()) {
                Some(t) => args.push(t),
                None if self.name == "default" && i == 0 => args.push(String::new()),
                None => {
                    return Err(RenderErrorReason::MissingVariable(
                        p.relative_path()
                            .cloned()
                            .or_else(|| Some(format!("argument {} of {}", i + 1, self.name))),
                    )
                    .into());
                }
            }
        }
        let language = match h.hash_get(LOCALE) {
            Some(v) if takes_locale(self.name) => {
                let tag = v.value().as_str().ok_or_else(|| {
                    RenderErrorReason::Other("`locale=` is not a language tag".to_owned())
                })?;
                Some(names::for_tag(tag).map_err(|e| RenderErrorReason::Other(e.to_string()))?)
            }
            _ if takes_locale(self.name) => ROW_LANGUAGE.with(|l| l.borrow().clone()),
            _ => None,
        };
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let column = h
            .params()
            .first()
            .and_then(|p| p.relative_path())
            .map(|c| c.trim_start_matches('[').trim_end_matches(']'));
        let text = apply(self.name, &refs, &self.rules, column, language.as_deref())
            .map_err(RenderErrorReason::Other)?;
        out.write(&text)?;
        Ok(())
    }
}

thread_local! {
    /// The language of the row being rendered on this thread, for the registry's helpers
    /// (the fast path is given it directly): set only by [`with_row_language`], for one
    /// render, so it never outlives its row.
    static ROW_LANGUAGE: std::cell::RefCell<Option<Arc<Names>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` (a render through the handlebars registry) with the row's language set for the
/// `date` and `number` helpers that give no `locale=`.
pub(super) fn with_row_language<T>(names: Option<&Arc<Names>>, f: impl FnOnce() -> T) -> T {
    let Some(names) = names else {
        return f();
    };
    ROW_LANGUAGE.with(|l| *l.borrow_mut() = Some(Arc::clone(names)));
    let out = f();
    ROW_LANGUAGE.with(|l| *l.borrow_mut() = None);
    out
}

/// Title Case: the first letter of each word upper-case, the rest lower-case.
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if c.is_alphabetic() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = false;
        } else {
            out.push(c);
            start = c.is_whitespace() || c == '-';
        }
    }
    out
}

/// Masks all but the last four characters: `+2348031234567` → `**********4567`.
pub fn mask_text(s: &str) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

/// Whether a value looks like a date, read either way (day or month first, two-digit years
/// in this century, any year): for `init`'s guesses, never for what a patient hears, which
/// [`DateRules`] reads.
pub fn parse_date(s: &str) -> Option<jiff::civil::Date> {
    use crate::campaign::dates::{DateOrder, Dates};
    let lenient = |order| {
        let dates = Dates {
            order: Some(order),
            two_digit_years: Some(2000),
            ..Dates::default()
        };
        DateRules::new(&dates, jiff::civil::Date::MAX)
    };
    [DateOrder::Dmy, DateOrder::Mdy]
        .into_iter()
        .find_map(|order| lenient(order).read(s, None).ok())
        .map(|m| m.date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_columns_and_unknown_helpers() {
        let r = references(
            "Hello {{title first_name}}, see you {{date appt '%d %B'}} {{clinic}} {{shout x}}",
        )
        .unwrap();
        assert_eq!(
            r.columns.iter().map(String::as_str).collect::<Vec<_>>(),
            ["appt", "clinic", "first_name", "x"]
        );
        assert_eq!(
            r.unknown_helpers
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["shout"]
        );
        let r = references("{{#if ward}}{{ward}}{{else}}{{default town \"here\"}}{{/if}}").unwrap();
        assert_eq!(r.columns.len(), 2);
        assert!(r.unknown_helpers.is_empty());
    }

    #[test]
    fn helper_arguments_are_checked_without_a_row() {
        let problems = |t: &str| check_arguments(t);
        assert!(problems("{{date d '%A %-d %B'}} {{upper x}} {{default c 'here'}}").is_empty());
        let p = problems("Hello\n  {{date d '%A %Q'}}");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].kind == ArgumentKind::DateFormat && p[0].message.contains("%A %Q"),
            "{p:?}"
        );
        assert_eq!(p[0].position, Some((2, 3)));
        let p = problems("{{upper}} {{default c}} {{title a b}} {{date d '%d' 'x'}}");
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p.iter().all(|p| p.kind == ArgumentKind::Count));
        let p = problems("{{#if a}}{{lower (upper a b)}}{{else}}{{mask a format='x'}}{{/if}}");
        assert_eq!(p.len(), 2, "nested and in blocks: {p:?}");
        // A format from a column cannot be checked without a row, and is left to the plan.
        assert!(problems("{{date d f}}").is_empty());
    }

    #[test]
    fn locales_are_checked_without_a_row() {
        let kinds = |t: &str| {
            check_arguments(t)
                .into_iter()
                .map(|p| p.kind)
                .collect::<Vec<_>>()
        };
        assert!(kinds("{{date d '%A %-d %B' locale=\"ha\"}} {{number n locale='rw'}}").is_empty());
        assert!(kinds("{{date d '%c' locale='en-GB'}} {{number n}}").is_empty());
        assert_eq!(kinds("{{date d locale='tw'}}"), [ArgumentKind::Locale]);
        assert_eq!(kinds("{{number n locale=lang}}"), [ArgumentKind::Locale]);
        assert_eq!(
            kinds("{{date d '%c' locale='ha'}}"),
            [ArgumentKind::DateFormat]
        );
        assert_eq!(
            kinds("{{date d '%^A' locale='yo'}}"),
            [ArgumentKind::DateFormat]
        );
        assert_eq!(kinds("{{number n lang='ha'}}"), [ArgumentKind::Count]);
        assert_eq!(kinds("{{upper n locale='ha'}}"), [ArgumentKind::Count]);
        assert_eq!(kinds("{{number n m}}"), [ArgumentKind::Count]);
        let p = check_arguments("{{date d locale='hau'}}");
        assert!(p[0].message.contains("`hau`"), "{p:?}");
        assert!(p[0].help.contains("locale=\"ha\""), "{p:?}");
    }

    #[test]
    fn reports_syntax_errors() {
        assert!(references("Hello {{name").is_err());
        assert!(references("{{#if a}}x").is_err());
    }

    #[test]
    fn helpers_render() {
        let hb = registry(&Arc::new(DateRules::strict_today()));
        let data = json!({"n": "ADA o'brien", "d": "2026-12-03", "p": "+2348031234567", "e": "", "f": "2027-01-15"});
        let r = |t: &str| hb.render_template(t, &data).unwrap();
        assert_eq!(r("{{title n}}"), "Ada O'brien");
        assert_eq!(r("{{upper n}}"), "ADA O'BRIEN");
        assert_eq!(r("{{date d '%d %B %Y'}}"), "03 December 2026");
        assert_eq!(r("{{mask p}}"), "**********4567");
        assert_eq!(r("{{default e 'your clinic'}}"), "your clinic");
        assert_eq!(
            r("{{date f '%A %-d %B' locale='ha'}}"),
            "Jummaʼa 15 Janairu"
        );
        assert_eq!(r("{{number 1234.5 locale='rw'}}"), "1.234,5");
        assert!(hb.render_template("{{number n}}", &data).is_err());
        assert!(hb.render_template("{{date d locale='tw'}}", &data).is_err());
        assert!(hb.render_template("{{missing}}", &data).is_err());
    }
}
