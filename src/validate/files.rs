//! Which files are campaign files: `*.yaml` and `*.yml` under the given paths, hidden
//! directories skipped. `validate` and `watch` walk the same way.

use std::io;
use std::path::{Path, PathBuf};

/// Whether a file's name says it is a campaign file.
pub fn is_campaign_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Whether a directory is hidden (`.git`, `.outreach`, …) and so not walked.
pub fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// The campaign files, in the order found.
    pub campaigns: Vec<PathBuf>,
    /// Every directory walked, the first included.
    pub dirs: Vec<PathBuf>,
}

/// How a walk treats a directory or an entry it cannot read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    /// Stop with the error (`validate`: a file not checked must not pass).
    Fail,
    /// Leave it out (`watch`: a directory may vanish mid-walk).
    Skip,
}

/// Walks `dir` for campaign files.
pub fn walk(dir: &Path, unreadable: Unreadable) -> io::Result<Walked> {
    let mut out = Walked::default();
    walk_into(dir, unreadable, &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, unreadable: Unreadable, out: &mut Walked) -> io::Result<()> {
    out.dirs.push(dir.to_path_buf());
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) if unreadable == Unreadable::Skip => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let (path, ty) = match entry.and_then(|e| Ok((e.path(), e.file_type()?))) {
            Ok(x) => x,
            Err(_) if unreadable == Unreadable::Skip => continue,
            Err(e) => return Err(e),
        };
        if ty.is_dir() {
            if !is_hidden(&path) {
                walk_into(&path, unreadable, out)?;
            }
        } else if is_campaign_name(&path) {
            out.campaigns.push(path);
        }
    }
    Ok(())
}

/// The campaign files named by `paths`: files as given, directories walked (sorted).
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, io::Error> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?;
        if meta.is_dir() {
            let mut found = walk(p, Unreadable::Fail)?.campaigns;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_files_are_found_and_hidden_directories_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::create_dir_all(d.join(".outreach")).unwrap();
        for f in ["a.yaml", "sub/b.YML", ".outreach/c.yaml", "notes.txt"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let found = expand(&[d.to_path_buf()]).unwrap();
        assert_eq!(found, [d.join("a.yaml"), d.join("sub/b.YML")]);
        let walked = walk(d, Unreadable::Skip).unwrap();
        assert_eq!(walked.dirs.len(), 2, "{:?}", walked.dirs);
    }

    #[test]
    fn a_missing_directory_fails_validate_and_is_skipped_by_watch() {
        let missing = Path::new("/nonexistent/outreach-test");
        assert!(walk(missing, Unreadable::Fail).is_err());
        let walked = walk(missing, Unreadable::Skip).unwrap();
        assert!(walked.campaigns.is_empty());
    }
}
