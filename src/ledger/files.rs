//! The SQLite ledger's files on disk: the database and the files SQLite keeps beside it
//! (`-wal`, `-shm`). None of them is ever reached through a symbolic link at its own name (a
//! link planted there would make a run, perhaps as root, write the file it points to);
//! directories on the way may be links.
//!
//! (A small no-follow, owner-only opener of the ledger's own: `crate::private` is where such
//! a helper belongs for every file the tool writes, and may grow one.)

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::LedgerError;

/// The files SQLite keeps beside the database, named as SQLite names them.
pub(super) const COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// `path` with `suffix` appended to its file name (`state.db` → `state.db-wal`).
pub(super) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Options that never follow a symbolic link at the file's own name, and create it readable
/// and writable by its owner only.
fn no_follow() -> OpenOptions {
    let mut options = crate::private::owner_only();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// The error for `path` that turned out to be a symbolic link (or, from `open`, any other
/// failure).
fn io_error(path: &Path, error: io::Error) -> LedgerError {
    #[cfg(unix)]
    if error.raw_os_error() == Some(libc::ELOOP) {
        return LedgerError::Symlink {
            path: path.to_path_buf(),
        };
    }
    LedgerError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Opens (creating it owner-only if needed) the database file at `path`, refusing a symbolic
/// link at its name. The descriptor is the ledger's run lock (see `Sqlite::lock`).
pub(super) fn open_database(path: &Path) -> Result<File, LedgerError> {
    let file = no_follow()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let meta = file.metadata().map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(LedgerError::Io {
            path: path.to_path_buf(),
            error: io::Error::other("it is not a regular file"),
        });
    }
    Ok(file)
}

/// Refuses when a file SQLite would open beside the database (`-wal`, `-shm`) is a
/// symbolic link. SQLite opens them without following links too (`O_NOFOLLOW`); this says
/// which file and why, before SQLite's "unable to open database file".
pub(super) fn refuse_linked_companions(path: &Path) -> Result<(), LedgerError> {
    for suffix in COMPANIONS {
        refuse_link(&beside(path, suffix))?;
    }
    Ok(())
}

/// Refuses `path` when it is a symbolic link; a missing file is fine.
pub(super) fn refuse_link(path: &Path) -> Result<(), LedgerError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(LedgerError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Whether `a` and `b` are the same file (device and inode): the database SQLite opened is
/// the one whose descriptor holds the lock, whatever path reached it.
#[cfg(unix)]
pub(super) fn same_file(a: &File, b: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt as _;
    let (a, b) = (a.metadata()?, std::fs::metadata(b)?);
    Ok(a.dev() == b.dev() && a.ino() == b.ino())
}

#[cfg(not(unix))]
pub(super) fn same_file(_: &File, _: &Path) -> io::Result<bool> {
    Ok(true)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_link_at_the_database_name_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("state.db");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            open_database(&link),
            Err(LedgerError::Symlink { .. })
        ));
        // A dangling link is not followed to create its target either.
        let dangling = dir.path().join("other.db");
        std::os::unix::fs::symlink(dir.path().join("created"), &dangling).unwrap();
        assert!(matches!(
            open_database(&dangling),
            Err(LedgerError::Symlink { .. })
        ));
        assert!(!dir.path().join("created").exists());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn a_linked_directory_on_the_way_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("via")).unwrap();
        let file = open_database(&dir.path().join("via/state.db")).unwrap();
        assert!(same_file(&file, &dir.path().join("real/state.db")).unwrap());
        assert_eq!(
            beside(Path::new("a/x.lock"), "-wal"),
            PathBuf::from("a/x.lock-wal")
        );
    }
}
