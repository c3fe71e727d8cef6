//! The integration test binary: drives the real `outreach` binary (and, from the mock-server
//! issue on, the real mock server over loopback HTTP).

mod apply;
mod apply_ends;
mod backend;
mod callbacks;
mod ci_workflow;
mod clinic_exports;
mod compare;
mod dates;
mod declared_workflow;
mod documented;
mod fake_clock;
mod filters;
mod hints;
mod hostile_sources;
mod hostile_text;
mod human_times;
mod init;
mod languages;
mod ledger_safety;
mod links;
mod loader_props;
mod locations;
mod logs;
mod lookups;
mod many_languages;
mod outcomes;
mod owner_only;
mod patient_lists;
mod plan;
mod plan_props;
mod postgres_tls;
mod refused;
mod report_by;
mod report_html;
mod report_languages;
mod report_targets;
mod same_name;
mod scale_out;
mod schema;
mod signals;
mod skipped_list;
mod status;
mod strict;
mod sync;
mod tampered;
mod targets;
mod validate;
mod watch;
mod when;
mod who;
mod words;
mod workflows_cmd;

use std::path::{Path, PathBuf};

/// The repository root (tests run with it as the working directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command for the `outreach` binary, run from the repository root, without colour.
pub fn outreach() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("outreach").expect("the outreach binary is built");
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("INTRON_API_KEY")
        .env_remove("OUTREACH_DATABASE_URL");
    cmd
}

pub fn fixture(path: &str) -> PathBuf {
    Path::new("tests/fixtures").join(path)
}
