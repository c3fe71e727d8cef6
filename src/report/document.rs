//! The JSON documents the reporters write (the plan summary, status, the report, validation,
//! watch events) each lead with `"format": "outreach-…"` and `"version": N`, then their own
//! fields. A document type says its format and version once, by implementing [`Document`].

use std::io::{self, Write};

use serde::Serialize;

/// A JSON document of the tool's.
pub trait Document: Serialize {
    /// The `format` field: `outreach-` and what the document is.
    const FORMAT: &'static str;
    /// The `version` field: raised only when the shape changes incompatibly.
    const VERSION: u32;
}

/// A document with its `format` and `version` first.
#[derive(Debug, Serialize)]
pub struct Versioned<'a, D: Document> {
    format: &'static str,
    version: u32,
    #[serde(flatten)]
    document: &'a D,
}

impl<'a, D: Document> Versioned<'a, D> {
    pub fn new(document: &'a D) -> Self {
        Versioned {
            format: D::FORMAT,
            version: D::VERSION,
            document,
        }
    }
}

/// Writes a document, indented, and a newline.
pub fn write_pretty<D: Document>(document: &D, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Versioned::new(document))?;
    writeln!(out)
}

/// Writes a document on one line (a line of a stream).
pub fn write_line<D: Document>(document: &D, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Versioned::new(document))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Example {
        name: &'static str,
    }

    impl Document for Example {
        const FORMAT: &'static str = "outreach-example";
        const VERSION: u32 = 3;
    }

    #[test]
    fn format_and_version_come_first() {
        let mut out = Vec::new();
        write_line(&Example { name: "x" }, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"format\":\"outreach-example\",\"version\":3,\"name\":\"x\"}\n"
        );
    }
}
