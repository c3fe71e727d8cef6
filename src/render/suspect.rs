//! What a template may print that is not words for a patient, found before anyone is called:
//! the whole row (`{{this}}`, `{{.}}`, `{{@root}}` print `[object]`), and comparisons
//! (`gt`, `lt`, …), which compare numbers while every patient value is text, so that
//! `{{#if (gt age "10")}}` takes a branch by accident.

use handlebars::Template;
use handlebars::template::{HelperTemplate, Parameter, TemplateElement};

/// Helpers that compare as numbers.
const COMPARISONS: [&str; 4] = ["gt", "gte", "lt", "lte"];

/// A part of a template that prints garbage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suspect {
    /// The whole row used as a value, as written (`this`, `.`, `@root`).
    WholeRow(String),
    /// A comparison helper, by name.
    Comparison(String),
}

/// The suspect parts of a template that is within [`crate::render::limits`] and parses;
/// nothing for one that is not (those are reported as such).
pub fn suspects(source: &str) -> Vec<Suspect> {
    if crate::render::limits::check(source).is_err() {
        return Vec::new();
    }
    let Ok(template) = Template::compile(source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&template.elements, &mut out);
    out.dedup();
    out
}

fn walk(elements: &[TemplateElement], out: &mut Vec<Suspect>) {
    for element in elements {
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                expression(h, true, out);
            }
            TemplateElement::HelperBlock(h) => {
                expression(h, false, out);
                for t in [&h.template, &h.inverse].into_iter().flatten() {
                    walk(&t.elements, out);
                }
            }
            _ => {}
        }
    }
}

/// `printed`: whether the expression's value is printed (not a block's condition).
fn expression(h: &HelperTemplate, printed: bool, out: &mut Vec<Suspect>) {
    let name = match &h.name {
        Parameter::Name(n) => Some(n.as_str()),
        Parameter::Path(p) => Some(raw(p)),
        Parameter::Subexpression(s) => {
            subexpression(s, out);
            None
        }
        _ => None,
    };
    if let Some(name) = name {
        if COMPARISONS.contains(&name) {
            out.push(Suspect::Comparison(name.to_owned()));
        }
        let plain = h.params.is_empty() && h.hash.is_empty();
        if printed && plain && whole_row(name) {
            out.push(Suspect::WholeRow(name.to_owned()));
        }
    }
    for p in h.params.iter().chain(h.hash.values()) {
        match p {
            Parameter::Subexpression(s) => subexpression(s, out),
            // An argument of a helper whose result is printed: `{{upper this}}`.
            Parameter::Path(path) if printed && whole_row(raw(path)) => {
                out.push(Suspect::WholeRow(raw(path).to_owned()));
            }
            _ => {}
        }
    }
}

fn subexpression(s: &handlebars::template::Subexpression, out: &mut Vec<Suspect>) {
    if let TemplateElement::Expression(h) = s.element.as_ref() {
        expression(h, true, out);
    }
}

/// A path as it was written.
fn raw(path: &handlebars::Path) -> &str {
    match path {
        handlebars::Path::Relative((_, raw)) | handlebars::Path::Local((_, _, raw)) => raw,
    }
}

/// Whether a path names the whole row rather than a column.
fn whole_row(raw: &str) -> bool {
    let raw = raw.trim();
    let trimmed = raw.trim_end_matches('/').trim_end_matches('.');
    matches!(trimmed, "" | "this" | "@root" | "..") || raw == "."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_row_and_comparisons_are_suspect() {
        for (t, found) in [
            ("Hello {{this}}", vec![Suspect::WholeRow("this".to_owned())]),
            (
                "Hello {{@root}}",
                vec![Suspect::WholeRow("@root".to_owned())],
            ),
            (
                "Hello {{upper this}}",
                vec![Suspect::WholeRow("this".to_owned())],
            ),
            (
                "{{#if (gt age \"10\")}}old{{/if}}",
                vec![Suspect::Comparison("gt".to_owned())],
            ),
        ] {
            assert_eq!(suspects(t), found, "{t}");
        }
        // `{{.}}` does not parse: validate refuses it as a syntax error.
        assert!(crate::render::template::references("Hello {{.}}").is_err());
        for t in [
            "Hello {{first_name}}",
            "{{this.first_name}} {{@root.clinic}}",
            "{{#if this}}x{{/if}}",
            "{{#if (eq ward \"4\")}}x{{/if}}",
        ] {
            assert_eq!(suspects(t), Vec::new(), "{t}");
        }
    }
}
