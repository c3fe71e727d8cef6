//! One file per subcommand: each turns its settings into the stages' work and hands the
//! results to one reporter. [`crate::run`] picks the command.

pub mod apply;
pub mod callbacks;
pub mod init;
pub mod ledger;
pub mod mock_server;
pub mod plan;
pub mod report;
pub mod schema;
pub mod status;
pub mod sync;
pub mod validate;
pub mod watch;
pub mod workflows;

use anyhow::Context as _;

use crate::ledger::Ledger;

/// The `name` of a campaign file (which need not be otherwise valid).
pub(crate) fn campaign_name(path: &std::path::Path) -> anyhow::Result<String> {
    let checked = crate::validate::check_file(path);
    if let Some(c) = checked.campaign {
        return Ok(c.name);
    }
    let text = crate::load::input_file::read_text(path, crate::load::yaml::MAX_FILE_BYTES)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let (doc, _) = crate::load::document::load(&text);
    doc.and_then(|d| {
        d.value
            .get("name")
            .and_then(|n| n.as_str())
            .map(ToOwned::to_owned)
    })
    .with_context(|| format!("{} has no campaign name", path.display()))
}

/// Opens a ledger that must already exist: reading commands never create one.
pub(crate) fn open_existing(state: &std::path::Path) -> anyhow::Result<Ledger> {
    // A file that is not there is not created; a location that is neither is refused (and
    // never printed).
    if let crate::ledger::Location::File(path) = crate::ledger::Location::of(state)?
        && !path.exists()
    {
        anyhow::bail!(
            "no ledger at {}: nothing has been applied with it yet",
            path.display()
        );
    }
    Ok(Ledger::open(state)?)
}
