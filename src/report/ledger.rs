//! What the ledger's own commands (`pause`, `resume`, `purge`, `migrate`) say they did.

use std::io::{self, Write};
use std::path::Path;

/// What a ledger command did.
#[derive(Debug)]
pub enum Done<'a> {
    /// `outreach pause`.
    Paused {
        campaign: &'a str,
        ledger: &'a Path,
        campaign_file: &'a Path,
    },
    /// `outreach resume`: `was_paused` false when there was nothing to resume.
    Resumed { campaign: &'a str, was_paused: bool },
    /// `outreach purge`.
    Purged {
        records: u64,
        before: jiff::Timestamp,
    },
    /// `outreach migrate`.
    Migrated {
        ledger: &'a Path,
        version: i64,
        /// `--accept-lost-records` on a SQLite ledger: what it holds is now taken as whole.
        accepted_loss: bool,
        /// What this migration made of the stored targets, when it ran the one that puts
        /// them in their normal form.
        targets: Option<&'a crate::ledger::TargetsRewritten>,
    },
}

/// Writes what a ledger command did, in a sentence.
pub fn write(done: &Done<'_>, out: &mut dyn Write) -> io::Result<()> {
    match done {
        Done::Paused {
            campaign,
            ledger,
            campaign_file,
        } => writeln!(
            out,
            "Paused {campaign}: runs using {} stop sending before their next batch. `outreach resume {}` restarts them.",
            ledger.display(),
            campaign_file.display()
        ),
        Done::Resumed {
            campaign,
            was_paused: true,
        } => writeln!(out, "Resumed {campaign}."),
        Done::Resumed {
            campaign,
            was_paused: false,
        } => writeln!(out, "{campaign} was not paused."),
        Done::Purged { records, before } => writeln!(
            out,
            "Purged patient data from {records} call records last updated before {}; counts and outcomes are kept.",
            // The whole ledger's, whose campaigns record no zone: the machine's.
            crate::clock::human_local(*before)
        ),
        Done::Migrated {
            ledger,
            version,
            accepted_loss,
            targets,
        } => {
            writeln!(
                out,
                "The ledger {} is at schema version {version}.",
                ledger.display()
            )?;
            if let Some(t) = targets {
                write_targets(t, out)?;
            }
            if *accepted_loss {
                writeln!(
                    out,
                    "Accepted what it holds as complete: calls it lost will be placed again by the next apply."
                )?;
            }
            Ok(())
        }
    }
}

/// What the migration made of the stored targets: each spelling renamed to its normal form,
/// the calls merged, the targets kept as written.
fn write_targets(t: &crate::ledger::TargetsRewritten, out: &mut dyn Write) -> io::Result<()> {
    if t.is_empty() {
        return writeln!(
            out,
            "Every target it records was in its normal form already."
        );
    }
    for (from, to, calls) in &t.renamed {
        writeln!(
            out,
            "Target {from} is now recorded as {to} ({calls} call {}): one server is one target however its URL is spelt.",
            if *calls == 1 { "record" } else { "records" }
        )?;
    }
    if t.merged_keys > 0 {
        writeln!(
            out,
            "{} {} recorded under two spellings of one server: their attempts are kept, one after the other, and the one furthest along counts (the patient may have been called under each).",
            t.merged_keys,
            if t.merged_keys == 1 {
                "patient was"
            } else {
                "patients were"
            }
        )?;
    }
    for kept in &t.kept {
        writeln!(
            out,
            "Target {kept} is kept as written: it is not a base URL this build accepts (an http:// or https:// URL without a query), so no run of this build adds to its calls."
        )?;
    }
    Ok(())
}
