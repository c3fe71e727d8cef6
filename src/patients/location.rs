//! Where a patient or opt-out file may be: inside the campaign's repository (the nearest
//! folder above the campaign with a `.git`, else the campaign's own folder), symlinks
//! resolved, and never inside `.git` itself, unless the run allows a folder outside it
//! (`--allow-source-outside DIR`).
//!
//! A campaign repository takes pull requests and CI runs `validate` and `plan` on them: a
//! campaign naming `/proc/self/environ`, `/etc/shadow`, `../../other-repo/patients.csv` or a
//! symlink to any of them must not make the tool read that file, let alone print from it.

use std::path::{Component, Path, PathBuf};
use std::sync::{PoisonError, RwLock};

/// The folders outside a campaign's repository that this run may read sources from, each
/// canonical. Set once per run by the command line (see [`allow_outside`]).
static ALLOWED_OUTSIDE: RwLock<Vec<PathBuf>> = RwLock::new(Vec::new());

/// Allows sources inside `dirs` (canonical folders) for the rest of the run.
pub fn allow_outside(dirs: Vec<PathBuf>) {
    *ALLOWED_OUTSIDE
        .write()
        .unwrap_or_else(PoisonError::into_inner) = dirs;
}

/// Why a source file may not be read where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It resolves outside `root`, the campaign's repository.
    Outside { root: PathBuf },
    /// It resolves inside a `.git` folder.
    InGit,
}

/// The campaign's repository: the nearest folder at or above `base` (the campaign's folder)
/// that has a `.git` (a folder, or a worktree's file), else `base` itself; canonical.
pub fn repository(base: &Path) -> PathBuf {
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    base.ancestors()
        .find(|dir| dir.join(".git").symlink_metadata().is_ok())
        .map_or_else(|| base.clone(), Path::to_path_buf)
}

/// Whether the existing file at `path` may be read as a source of the campaign in `base`:
/// inside its repository, or inside a folder this run allows.
pub fn check(base: &Path, path: &Path) -> Result<(), Refusal> {
    let Ok(real) = path.canonicalize() else {
        // Not there (or a broken link): the reader says it is missing.
        return Ok(());
    };
    let allowed = ALLOWED_OUTSIDE
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    if allowed.iter().any(|dir| real.starts_with(dir)) {
        return Ok(());
    }
    drop(allowed);
    inside_repository(base, &real)
}

/// Whether the existing file at `path` is inside the repository of the campaign in `base`,
/// and not in `.git` (whatever the run allows).
pub fn inside_repository(base: &Path, path: &Path) -> Result<(), Refusal> {
    let Ok(real) = path.canonicalize() else {
        return Ok(());
    };
    let root = repository(base);
    let Ok(inside) = real.strip_prefix(&root) else {
        return Err(Refusal::Outside { root });
    };
    if inside
        .components()
        .any(|c| c == Component::Normal(".git".as_ref()))
    {
        return Err(Refusal::InGit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_stay_inside_the_repository_and_out_of_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let campaigns = repo.join("campaigns");
        std::fs::create_dir_all(campaigns.join("patients")).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        for f in ["campaigns/patients/p.csv", "shared.csv", ".git/config"] {
            std::fs::write(repo.join(f), "phone\n").unwrap();
        }
        std::fs::write(dir.path().join("outside.csv"), "phone\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.csv"), campaigns.join("link.csv"))
            .unwrap();
        let root = repo.canonicalize().unwrap();
        assert_eq!(repository(&campaigns), root);
        assert_eq!(check(&campaigns, &campaigns.join("patients/p.csv")), Ok(()));
        assert_eq!(check(&campaigns, &campaigns.join("../shared.csv")), Ok(()));
        assert_eq!(
            check(&campaigns, &repo.join(".git/config")),
            Err(Refusal::InGit)
        );
        let outside = Err(Refusal::Outside { root });
        assert_eq!(check(&campaigns, &campaigns.join("link.csv")), outside);
        assert_eq!(
            check(&campaigns, &campaigns.join("../../outside.csv")),
            outside
        );
        assert_eq!(check(&campaigns, Path::new("/etc/passwd")), outside);
        // Without a `.git` above it, the campaign's folder is the repository.
        assert_eq!(repository(dir.path()), dir.path().canonicalize().unwrap());
    }
}
