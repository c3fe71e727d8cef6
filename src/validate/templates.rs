//! The arguments of the helpers in a campaign's templates, checked without a patient row: a
//! helper given the wrong number of arguments, or a `date` format that does not render,
//! would otherwise pass validate and skip every patient at plan time.

use std::collections::BTreeMap;

use crate::load::diagnostic::{Code, Diagnostic};
use crate::load::document::Document;
use crate::load::yaml::{Pos, Span};
use crate::render::template::ArgumentKind;

/// Reports the argument problems of the template `name` (at `pointer`, written in `text`).
pub(super) fn check_helper_arguments(
    name: &str,
    template: &str,
    pointer: &str,
    doc: &Document,
    (text, languages): (&str, &[std::sync::Arc<crate::render::names::Names>]),
    out: &mut Vec<Diagnostic>,
) {
    for p in crate::render::template::check_arguments_in(template, languages) {
        let code = match p.kind {
            ArgumentKind::DateFormat => Code::TemplateDateFormat,
            ArgumentKind::Locale => Code::UnknownLocale,
            ArgumentKind::Count => Code::TemplateHelperArguments,
        };
        let span = doc.span(pointer);
        let at = p
            .position
            .and_then(|pos| expression_span(text, span?, template, pos))
            .or(span);
        out.push(
            Diagnostic::error(code, format!("the template for `{name}`: {}", p.message))
                .at(pointer, at)
                .help(p.help),
        );
    }
}

/// The span of the expression at `pos` (line and column inside the template) in the file,
/// when the template is written there as is (a plain or quoted scalar without escapes);
/// `None` otherwise, and the whole value is pointed at instead.
fn expression_span(text: &str, value: Span, template: &str, pos: (usize, usize)) -> Option<Span> {
    let line = template.split_inclusive('\n').nth(pos.0.checked_sub(1)?)?;
    let line_start = template.len() - template[template.find(line)?..].len();
    let from = line_start + line.char_indices().nth(pos.1.checked_sub(1)?)?.0;
    let rest = &template[from..];
    let needle = &rest[..rest.find("}}").map_or(rest.len(), |i| i + 2)];
    let scalar = text.get(value.start.offset..value.end.offset)?;
    let found = value.start.offset + scalar.find(needle)?;
    Some(Span {
        start: position(text, found),
        end: position(text, found + needle.len()),
    })
}

pub(super) fn position(text: &str, offset: usize) -> Pos {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        offset,
    }
}

/// A `round` written as a template (`visit-{{next_visit}}`): its syntax and helpers, and the
/// columns it reads (pointed at `/round`) that `defaults` do not give.
pub(super) fn check_round(
    round: &str,
    defaults: &BTreeMap<String, String>,
    doc: &Document,
    out: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    if !round.contains("{{") {
        return Vec::new();
    }
    let at = doc.span("/round");
    match crate::render::template::references(round) {
        Err(e) => {
            out.push(
                Diagnostic::error(
                    Code::TemplateSyntax,
                    format!(
                        "the `round` template does not parse: {}",
                        super::explain_syntax(round, &e.message)
                    ),
                )
                .at("/round", at)
                .help("a round per row looks like `visit-{{date next_visit '%Y-%m-%d'}}`"),
            );
            Vec::new()
        }
        Ok(refs) => {
            for helper in &refs.unknown_helpers {
                out.push(
                    Diagnostic::error(
                        Code::TemplateUnknownHelper,
                        format!(
                            "the `round` template uses `{helper}`, which is not a known helper"
                        ),
                    )
                    .at("/round", at)
                    .help(format!(
                        "the helpers are: {}",
                        crate::render::template::HELPERS.join(", ")
                    )),
                );
            }
            refs.columns
                .into_iter()
                .filter(|col| !defaults.contains_key(col))
                .map(|col| ("/round".to_owned(), col))
                .collect()
        }
    }
}
