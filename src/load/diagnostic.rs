//! User mistakes as data: a [`Diagnostic`] names the file, place, rule and remedy.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::load::code::Code;
use crate::load::yaml::Span;

/// The most characters of a file's own text (a key, a name) a message quotes.
pub const QUOTED_CHARS: usize = 64;

/// Text from a file as a message quotes it: at most [`QUOTED_CHARS`] characters (cut with
/// `…`), and characters a terminal would act on shown as `�` (see [`is_hidden`]). A campaign
/// file may be written by anyone who opens a pull request; what it says is not echoed whole.
pub fn quoted(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTED_CHARS).map(shown_char).collect();
    if text.chars().nth(QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// `text` with the characters a terminal would act on shown as `�` (see [`is_hidden`]).
pub fn inert(text: &str) -> String {
    text.chars().map(shown_char).collect()
}

fn shown_char(c: char) -> char {
    if is_hidden(c) { '\u{fffd}' } else { c }
}

/// Characters not shown as themselves: controls other than tab and newline (a terminal acts
/// on them), and the marks that reorder text on screen ("Trojan source"), so that what is
/// shown reads as it is stored.
pub fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200b}'
                | '\u{2060}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
        )
}

/// How bad a problem is. Errors make a file invalid; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a campaign file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The rule, as a stable, documented code (`unknown-key`, `yaml-leading-zero`, …).
    pub code: Code,
    /// What is wrong, in words a programme manager understands.
    pub message: String,
    /// Where in the document, as a JSON pointer (`/patients/0/file`); empty for the root.
    pub pointer: String,
    /// Where in the file; absent when the problem is the file as a whole.
    #[serde(skip)]
    pub span: Option<Span>,
    /// How to fix it, where we can tell.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            pointer: String::new(),
            span: None,
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    #[must_use]
    pub fn at(mut self, pointer: impl Into<String>, span: Option<Span>) -> Self {
        self.pointer = pointer.into();
        self.span = span;
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The result of checking one file: its diagnostics and the text they point into.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    /// The file's text, when it could be read as text (used to show the offending lines).
    pub source: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    pub fn new(path: &Path) -> Self {
        FileReport {
            path: path.to_path_buf(),
            source: None,
            diagnostics: Vec::new(),
        }
    }

    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// Sorts diagnostics by position so output reads top to bottom.
    pub fn sort(&mut self) {
        self.diagnostics
            .sort_by_key(|d| d.span.map_or((0, 0), |s| (s.start.line, s.start.column)));
    }
}
