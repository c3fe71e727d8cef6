//! Which campaign file a campaign name belongs to, as the ledger records it: the file's path
//! relative to its repository (the nearest folder above it with `.git`, else its own
//! folder), with `/` between names. Absolute paths differ between CI checkouts and runners;
//! the path inside the repository does not.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The repository of the (existing) file at `canonical`: the nearest folder above it holding
/// `.git` (a folder, or a worktree's file), else the file's own folder.
fn repository_root(canonical: &Path) -> PathBuf {
    let folder = canonical.parent().unwrap_or(canonical);
    folder
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(folder)
        .to_path_buf()
}

/// `path` under `root`, as `a/b.yaml`; `None` outside it.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The campaign file at `file`: its repository, and its path in it.
pub(super) fn campaign_path(file: &Path) -> io::Result<(PathBuf, String)> {
    let canonical = file.canonicalize()?;
    let root = repository_root(&canonical);
    let rel = relative(&root, &canonical).ok_or_else(|| {
        io::Error::other(format!(
            "{} is not inside its repository {}",
            file.display(),
            root.display()
        ))
    })?;
    Ok((root, rel))
}

/// `path` made absolute and its `.` and `..` resolved, following the links of the part of it
/// that exists (a moved file usually does not any more).
fn resolved(path: &Path) -> io::Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    // The longest part that exists, with its links followed, then the rest as written.
    let mut existing = out.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        let (Some(name), Some(parent)) = (existing.file_name(), existing.parent()) else {
            return Ok(out);
        };
        rest.push(name.to_owned());
        existing = parent;
    }
    let mut full = existing.canonicalize()?;
    full.extend(rest.iter().rev());
    Ok(full)
}

/// The paths in `root` that `--moved-from OLD` may name: OLD as resolved from here, and OLD
/// as written when it is a path relative to the repository (`campaigns/old.yaml`).
pub(super) fn moved_from(old: &[PathBuf], root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for path in old {
        if let Some(rel) = resolved(path).ok().and_then(|p| relative(root, &p)) {
            out.push(rel);
        }
        if path.is_relative() {
            let written: Vec<String> = path
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if !written.is_empty() {
                out.push(written.join("/"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_path_is_relative_to_the_nearest_repository() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().canonicalize().unwrap().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("campaigns/sub")).unwrap();
        let file = repo.join("campaigns/sub/c.yaml");
        std::fs::write(&file, "").unwrap();
        let (root, rel) = campaign_path(&file).unwrap();
        assert_eq!(root, repo);
        assert_eq!(rel, "campaigns/sub/c.yaml");
        // Outside any repository: the campaign's own folder.
        let loose = dir.path().join("loose.yaml");
        std::fs::write(&loose, "").unwrap();
        assert_eq!(campaign_path(&loose).unwrap().1, "loose.yaml");
        // A moved file that is gone, named from anywhere, or as the repository has it.
        let gone = [
            repo.join("campaigns/old/../old.yaml"),
            PathBuf::from("campaigns/old.yaml"),
        ];
        let names = moved_from(&gone, &repo);
        assert_eq!(names[0], "campaigns/old.yaml");
        assert!(names.contains(&"campaigns/old.yaml".to_owned()));
    }
}
