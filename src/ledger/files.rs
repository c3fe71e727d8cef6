//! The SQLite ledger's files on disk: the database and the files SQLite keeps beside it
//! (`-wal`, `-shm`). None of them is ever reached through a symbolic link at its own name (a
//! link planted there would make a run, perhaps as root, write the file it points to);
//! directories on the way may be links.
//!
//! (A small no-follow, owner-only opener of the ledger's own: `crate::private` is where such
//! a helper belongs for every file the tool writes, and may grow one.)

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

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

/// A file, by device and inode.
type Key = (u64, u64);

#[cfg(unix)]
fn key(meta: &std::fs::Metadata) -> Key {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn key(_: &std::fs::Metadata) -> Key {
    (0, 0)
}

/// One descriptor per database file for the whole process, never closed: closing any
/// descriptor of a file drops every `fcntl` lock the process holds on it, SQLite's
/// included (in WAL mode a connection keeps a shared lock between transactions; without
/// it, another process closing its last connection would checkpoint and delete the `-wal`
/// under a running apply). `locked`: a ledger of this process holds the run lock.
struct Registered {
    file: Arc<File>,
    locked: bool,
}

static OPEN: LazyLock<Mutex<HashMap<Key, Registered>>> = LazyLock::new(Mutex::default);

fn registry() -> std::sync::MutexGuard<'static, HashMap<Key, Registered>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The database file of one ledger: the process's one descriptor of it, on which the run
/// lock is taken (`flock(2)`, so it holds whatever path reached the file), and whether this
/// ledger holds that lock. Dropping it lets go of the lock, never of the descriptor.
pub(super) struct Database {
    file: Arc<File>,
    key: Key,
    locked: bool,
}

impl Database {
    /// Takes the run lock: `false` when another ledger holds it, in this process or another.
    pub(super) fn try_lock(&mut self) -> io::Result<bool> {
        if self.locked {
            return Ok(true);
        }
        let mut open = registry();
        // This file's entry (not that of a new file reusing its inode since it was deleted).
        let mut entry = open
            .get_mut(&self.key)
            .filter(|e| Arc::ptr_eq(&e.file, &self.file));
        if entry.as_ref().is_some_and(|e| e.locked) {
            return Ok(false);
        }
        match self.file.try_lock() {
            Ok(()) => {
                if let Some(entry) = entry.as_mut() {
                    entry.locked = true;
                }
                self.locked = true;
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if self.locked {
            let _ = self.file.unlock();
            if let Some(entry) = registry()
                .get_mut(&self.key)
                .filter(|e| Arc::ptr_eq(&e.file, &self.file))
            {
                entry.locked = false;
            }
        }
    }
}

/// Opens (creating it owner-only if needed) the database file at `path`, refusing a symbolic
/// link at its name; its descriptor is the process's one for that file (see [`Registered`]).
pub(super) fn open_database(path: &Path) -> Result<Database, LedgerError> {
    refuse_link(path)?;
    let mut open = registry();
    // Already open in this process: that descriptor, without opening (and one day closing)
    // another.
    if let Ok(meta) = std::fs::metadata(path)
        && let Some(entry) = open.get(&key(&meta))
        && !deleted(&entry.file)
    {
        return Ok(Database {
            file: Arc::clone(&entry.file),
            key: key(&meta),
            locked: false,
        });
    }
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
    let k = key(&meta);
    let file = match open.entry(k) {
        // Opened by another path meanwhile: this descriptor is kept open too (never closed).
        Entry::Occupied(entry) if !deleted(&entry.get().file) => {
            std::mem::forget(file);
            Arc::clone(&entry.get().file)
        }
        // A file deleted since, whose inode the new one reuses: its descriptor is kept
        // open (never closed), and the new file's takes its place.
        Entry::Occupied(mut entry) => {
            let stale = std::mem::replace(
                entry.get_mut(),
                Registered {
                    file: Arc::new(file),
                    locked: false,
                },
            );
            std::mem::forget(stale.file);
            Arc::clone(&entry.get().file)
        }
        Entry::Vacant(entry) => Arc::clone(
            &entry
                .insert(Registered {
                    file: Arc::new(file),
                    locked: false,
                })
                .file,
        ),
    };
    Ok(Database {
        file,
        key: k,
        locked: false,
    })
}

/// Whether the file open at `file` has been deleted (no name reaches it any more).
#[cfg(unix)]
fn deleted(file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    file.metadata().map_or(true, |m| m.nlink() == 0)
}

#[cfg(not(unix))]
fn deleted(_: &File) -> bool {
    false
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
        assert!(same_file(file.file(), &dir.path().join("real/state.db")).unwrap());
        assert_eq!(
            beside(Path::new("a/x.lock"), "-wal"),
            PathBuf::from("a/x.lock-wal")
        );
    }
}
