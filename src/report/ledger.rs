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
            "Purged patient data from {records} call records last updated before {before}; counts and outcomes are kept."
        ),
        Done::Migrated {
            ledger,
            version,
            accepted_loss,
        } => {
            writeln!(
                out,
                "The ledger {} is at schema version {version}.",
                ledger.display()
            )?;
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
