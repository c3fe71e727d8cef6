//! The `where:` filters of a campaign and of its patient sources: each parses and compares
//! what can be compared ([`crate::filter::Filter::parse`]), its problems pointed at inside the
//! YAML string when it is written there as is; the columns it reads are checked against each
//! source like the templates' (in `sources.rs`).

use crate::filter::{Filter, FilterError};
use crate::load::diagnostic::{Code, Diagnostic};
use crate::load::document::Document;
use crate::load::yaml::Span;

use super::templates::position;

/// The columns of the filter at `pointer` (written `filter`), or its problem reported.
pub(super) fn check(
    filter: &str,
    pointer: &str,
    doc: &Document,
    text: &str,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    match Filter::parse(filter) {
        Ok(f) => f.columns().to_vec(),
        Err(e) => {
            let value = doc.span(pointer);
            let at = value
                .and_then(|v| inner_span(text, v, filter, &e))
                .or(value);
            let (code, help) = if e.is_type() {
                (
                    Code::FilterType,
                    "numbers are written in digits (`age >= 18`), text in quotes (`status == \"active\"`), dates relative to `today` (`next_visit between today and today + 3d`)",
                )
            } else {
                (
                    Code::FilterSyntax,
                    "a filter looks like `next_visit between today and today + 3d and status == \"active\"`; see the README's section on `where`",
                )
            };
            out.push(
                Diagnostic::error(code, format!("the `where` filter: {e}"))
                    .at(pointer, at)
                    .help(help),
            );
            Vec::new()
        }
    }
}

/// The span of the error's part of `filter` in the file, when the YAML value holds the
/// filter as written (plain, or quoted without escapes); `None` otherwise.
fn inner_span(text: &str, value: Span, filter: &str, e: &FilterError) -> Option<Span> {
    let scalar = text.get(value.start.offset..value.end.offset)?;
    let found = value.start.offset + scalar.find(filter)?;
    let range = e.span();
    // An empty range (the end of the filter) still points at one place.
    let (from, to) = (found + range.start, found + range.end.max(range.start));
    Some(Span {
        start: position(text, from),
        end: position(text, to),
    })
}
