//! User mistakes as data: a [`Diagnostic`] names the file, place, rule and remedy.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use crate::load::code::Code;
use crate::load::yaml::Span;

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
