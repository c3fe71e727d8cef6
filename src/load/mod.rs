//! Load: bytes → YAML nodes with spans ([`yaml`]) → a document with YAML's traps caught and
//! JSON pointers to every node ([`document`]). Problems are [`diagnostic::Diagnostic`]s.
//! Every input file is opened through [`input_file`].

pub mod code;
pub mod diagnostic;
pub mod document;
pub mod input_file;
pub mod yaml;
