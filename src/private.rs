//! Files that hold patient data or secrets (saved plans, reports, ledgers and their lock,
//! temporary plans) are created owner-only, before anything is written to them, and never
//! through a symbolic link: a link planted at the path (say, to `/etc/passwd` before a root
//! run) is refused, naming the path, and what it points to is left untouched. Directories on
//! the path may be links; only the last component is checked (`O_NOFOLLOW`).
//!
//! [`create`] is the one way to write such a file, [`open_read_write`] the way to open a lock
//! file; [`owner_only`] gives the same options to callers that need others (SQLite's file,
//! created before SQLite opens it), and [`refuse_link`] checks a path that a file is renamed
//! onto.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// How [`create`] treats a file already at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse it (`AlreadyExists`): the file must be new.
    Refuse,
    /// Empty it and write from the start.
    Truncate,
    /// Keep it and write at its end.
    Append,
}

/// Options that create a file readable and writable by its owner only and never open a
/// symbolic link as the last component (on Unix; elsewhere the platform's defaults).
pub fn owner_only() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    no_link(&mut options);
    options
}

/// Makes `options` refuse a symbolic link as the last component (`O_NOFOLLOW`), for files
/// that hold no patient data but must not be written through a planted link either (a
/// campaign written by `init --force`). A refusal is best reported with [`refuse_link`].
pub fn no_link(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens `path` for writing, owner-only: created with mode 0600, or, when it exists (and
/// `existing` allows), set to 0600 before anything is written. A symbolic link at `path` is
/// refused with [`link_refused`]'s error.
pub fn create(path: &Path, existing: Existing) -> io::Result<File> {
    let mut options = owner_only();
    options.write(true);
    match existing {
        Existing::Refuse => options.create_new(true),
        Existing::Truncate => options.create(true).truncate(true),
        Existing::Append => options.create(true).append(true),
    };
    let file = options
        .open(path)
        .map_err(|e| refuse_link(path).err().unwrap_or(e))?;
    // An existing file keeps its mode on open: narrow it through the open descriptor, which
    // is the file just checked (no second lookup of the path).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Opens `path` for reading and writing, created when missing, its content kept: for a lock
/// file (the ledger's), which holds who runs. Owner-only as [`create`]: 0600, an existing
/// file narrowed, and a symbolic link at `path` refused.
pub fn open_read_write(path: &Path) -> io::Result<File> {
    let file = owner_only()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| refuse_link(path).err().unwrap_or(e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Refuses `path` when it is a symbolic link (say, before a file is renamed onto it, which
/// would replace the link, or when an open failed because of one).
pub fn refuse_link(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(link_refused()),
        _ => Ok(()),
    }
}

/// The error for a symbolic link where a file is written. Callers name the path
/// ("cannot write PATH: …").
pub fn link_refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "it is a symbolic link, and outreach never writes a file through one: remove the link or choose another path",
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        super::owner_only()
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn an_existing_readable_file_is_narrowed_before_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        for existing in [Existing::Truncate, Existing::Append] {
            let path = dir.path().join(format!("{existing:?}"));
            std::fs::write(&path, "old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            create(&path, existing).unwrap().write_all(b"new").unwrap();
            assert_eq!(mode(&path), 0o600, "{existing:?}");
        }
        assert_eq!(
            create(&dir.path().join("Truncate"), Existing::Refuse)
                .unwrap_err()
                .kind(),
            io::ErrorKind::AlreadyExists
        );
    }

    #[test]
    fn a_lock_file_is_the_owners_alone_and_keeps_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.lock");
        std::fs::write(&path, "holder\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_read_write(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "holder\n");
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(open_read_write(&link).is_err());
    }

    #[test]
    fn class_13_a_link_at_the_path_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "keep me").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for existing in [Existing::Refuse, Existing::Truncate, Existing::Append] {
            let error = create(&link, existing).unwrap_err();
            assert!(error.to_string().contains("symbolic link"), "{error}");
        }
        // A dangling link is refused too (it would create the file it names).
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(create(&dangling, Existing::Truncate).is_err());
        assert!(!dir.path().join("nowhere").exists());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(mode(&target), 0o644);
        assert!(refuse_link(&link).is_err());
        assert!(refuse_link(&target).is_ok());
    }
}
