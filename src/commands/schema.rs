//! `outreach schema`: the campaign file's JSON schema, for editors and CI.

use std::io::Write;

use crate::Outcome;
use crate::campaign::schema;

/// Runs `outreach schema`.
pub fn run(out: &mut dyn Write) -> anyhow::Result<Outcome> {
    out.write_all(schema::schema_text().as_bytes())?;
    Ok(Outcome::Success)
}
