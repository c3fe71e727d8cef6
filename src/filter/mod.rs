//! Row filters: the `where:` expressions of a campaign and of its patient sources, which keep
//! the rows a campaign is for (`next_visit between today and today + 3d`) and leave out the
//! rest, before a number is read or a word rendered.
//!
//! A small language, written here rather than taken from a crate: `evalexpr` is a scripting
//! language (assignment, chained statements, string functions, an optional regex engine) with
//! no date type and no spans in its errors, and `cel-interpreter` has timestamps and
//! durations of chrono (instants and hours, not calendar days in a zone) and list macros, and
//! no static check of a column's type. Neither knows how a clinic writes dates. This language
//! can name columns, write literals and compare; it cannot read a file, the environment or the
//! network, it has no loops, and an expression is at most [`MAX_LENGTH`] bytes and
//! [`MAX_DEPTH`] levels deep, so a row is tested in time proportional to the expression.
//!
//! ```text
//! filter     = or
//! or         = and { "or" and }
//! and        = not { "and" not }
//! not        = "not" not | condition
//! condition  = "(" or ")"
//!            | value ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) value
//!            | value "between" value "and" value          (both bounds included)
//!            | value [ "not" ] "in" "[" literal { "," literal } "]"
//!            | column "is" [ "not" ] "empty"
//! value      = date { ( "+" | "-" ) length } | column | literal
//! date       = "today" | column
//! length     = digits ( "d" | "w" )                      (days or weeks: `3d`, `2w`)
//! literal    = number | text | "today"
//! number     = [ "-" ] digits [ "." digits ]
//! text       = '"' { any character but '"' } '"' | "'" { any character but "'" } "'"
//! column     = letter { letter | digit | "_" } | "`" { any character but "`" } "`"
//! ```
//!
//! Keywords (`and`, `or`, `not`, `between`, `in`, `is`, `empty`, `today`) are read in any case;
//! a column with such a name, or with spaces, is written in backticks: `` `Next Visit` ``.
//!
//! Types are checked before any row is read ([`Filter::parse`]): a column compared with a
//! number is read as a number, with a date (`today`, `today + 3d`) as a date, with text as
//! text; two columns compared with each other are text. Comparing a date with a number, or
//! ordering text (`status < "b"`, `age >= "18"`), is an error with the span of the expression.
//! On a row ([`Bound::test`]) a cell read as a date is read by the campaign's `dates:` rules
//! ([`crate::render::dates::DateRules`]), and `today` is the plan's date in the campaign's time
//! zone, so `today + 1d` is the next calendar day whatever the clock does that night. A cell
//! that cannot be read as its type (an empty or unreadable date, a number with a comma) is
//! never guessed: the row is left out with the reason ([`RowProblem`]), unless the part of the
//! expression that reads it is not needed (`next_visit is empty or next_visit >= today`).

mod eval;
mod syntax;
mod types;

use std::ops::Range;

pub use eval::{Bound, RowProblem};

/// The longest expression, in bytes.
pub const MAX_LENGTH: usize = 1000;

/// The deepest nesting of parentheses and `not`s.
pub const MAX_DEPTH: usize = 32;

/// The most entries of an `in [...]` list.
pub const MAX_LIST: usize = 100;

/// Why an expression is refused, with the byte range of the expression at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// It does not parse (or is longer or deeper than the limits).
    #[error("{message}")]
    Syntax { message: String, span: Range<usize> },
    /// It parses, but compares what cannot be compared.
    #[error("{message}")]
    Type { message: String, span: Range<usize> },
}

impl FilterError {
    /// The byte range of the expression the error is about.
    pub fn span(&self) -> Range<usize> {
        match self {
            FilterError::Syntax { span, .. } | FilterError::Type { span, .. } => span.clone(),
        }
    }

    /// Whether the error is one of types (the expression parses).
    pub fn is_type(&self) -> bool {
        matches!(self, FilterError::Type { .. })
    }
}

/// A checked filter: its columns known, each with the type it is read as.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: syntax::Expr,
    columns: Vec<String>,
}

impl Filter {
    /// Parses and type-checks `text`.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.len() > MAX_LENGTH {
            return Err(FilterError::Syntax {
                message: format!(
                    "the filter is {} bytes long, more than the {MAX_LENGTH} allowed",
                    text.len()
                ),
                span: 0..text.len(),
            });
        }
        let (mut expr, columns) = syntax::parse(text)?;
        types::check(&mut expr)?;
        Ok(Filter { expr, columns })
    }

    /// The columns the filter reads, each once, in the order they first appear.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Binds the filter to a source's header.
    pub fn bind(&self, header: &[String]) -> Bound<'_> {
        Bound::new(self, header)
    }
}

#[cfg(test)]
mod tests;
