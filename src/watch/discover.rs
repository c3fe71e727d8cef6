//! Which campaign files to watch, the directories they live in, and the files they read.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;

use crate::validate::files::{self, Unreadable};

/// A path given on the command line, made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// A campaign file (it may be deleted and created again while watching).
    File(PathBuf),
    /// A directory searched recursively for `*.yaml` / `*.yml`, as `validate` does.
    Dir(PathBuf),
}

impl Root {
    /// Resolves a command-line path; it must exist when the watch starts.
    pub fn resolve(path: &Path) -> anyhow::Result<Root> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot watch {}", path.display()))?;
        let abs = std::fs::canonicalize(path)
            .with_context(|| format!("cannot watch {}", path.display()))?;
        Ok(if meta.is_dir() {
            Root::Dir(abs)
        } else {
            Root::File(abs)
        })
    }
}

/// Campaign files found, and the directories to watch for them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Discovered {
    pub campaigns: BTreeSet<PathBuf>,
    pub dirs: BTreeSet<PathBuf>,
}

fn walk(dir: &Path, found: &mut Discovered) {
    // A directory that vanished mid-walk is simply not there any more.
    if let Ok(walked) = files::walk(dir, Unreadable::Skip) {
        found.dirs.extend(walked.dirs);
        found.campaigns.extend(walked.campaigns);
    }
}

/// Finds the campaign files under `roots` as they are now, and the directories to watch:
/// every directory searched (so new campaigns are seen) and the parent of each file root (so
/// a file replaced by rename is seen).
pub fn discover(roots: &[Root]) -> Discovered {
    let mut found = Discovered::default();
    for root in roots {
        match root {
            Root::Dir(d) => walk(d, &mut found),
            Root::File(f) => {
                if let Some(parent) = f.parent() {
                    found.dirs.insert(parent.to_path_buf());
                }
                if f.is_file() {
                    found.campaigns.insert(f.clone());
                }
            }
        }
    }
    found
}

/// Removes `.` and `..` without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The form of a path that file events report: its directory resolved (symbolic links too)
/// when it exists.
fn event_form(path: &Path) -> PathBuf {
    let path = lexical(path);
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            std::fs::canonicalize(dir).map_or(path.clone(), |d| d.join(name))
        }
        _ => path,
    }
}

/// The patient and opt-out files a campaign names, read from its YAML even when the campaign
/// is invalid (a missing patient file is a reason to watch for it). `None` when the YAML
/// itself cannot be read.
pub fn references(campaign: &Path) -> Option<Vec<PathBuf>> {
    let text =
        crate::load::input_file::read_text(campaign, crate::load::yaml::MAX_FILE_BYTES).ok()?;
    let (doc, _) = crate::load::document::load(&text);
    let doc = doc?;
    let base = campaign.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for section in ["patients", "exclude"] {
        for item in doc
            .value
            .get(section)
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(file) = item.get("file").and_then(serde_json::Value::as_str) {
                out.push(event_form(&crate::patients::source::resolve_path(
                    base, file,
                )));
            }
        }
    }
    Some(out)
}
