//! The SQLite ledger's high-water mark: a small file beside the database (`state.db-mark`)
//! that says how many write-aheads the ledger has committed, kept outside the database and
//! its `-wal`.
//!
//! Why: a commit lives in the `-wal` until a checkpoint copies it into the database file.
//! After a crash, a `-wal` that is deleted or damaged (or an older copy of the database put
//! back) makes the ledger forget calls it recorded as sent, and the next apply would place
//! them again. The database counts its write-aheads (`ledger_mark.writes`, in the same
//! transaction as the calls); after each commit the lock holder writes the count here (a new
//! file, synced, renamed over the old one). A database that holds fewer write-aheads than
//! its mark has lost committed records, and every command refuses it before anything is
//! sent, until the `-wal` is restored or the loss is accepted
//! (`outreach migrate --accept-lost-records`).
//!
//! The mark is written after the commit and before the calls' requests leave: a crash in
//! between leaves the mark one behind, never ahead (no false alarm), and nothing was sent.
//! A reader reads the mark before the count, so a run committing meanwhile never makes it
//! look ahead either.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::LedgerError;
use super::files::beside;

/// The mark's first line: what the file is.
const HEADER: &str = "outreach ledger mark";

/// The mark file of the database at `db`.
pub(super) fn path(db: &Path) -> PathBuf {
    beside(db, "-mark")
}

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

fn text(writes: u64) -> String {
    format!("{HEADER}\nwrite-aheads {writes}\n")
}

/// The write-aheads the mark of `db` records, or `None` when there is no mark.
pub(super) fn read(db: &Path) -> Result<Option<u64>, LedgerError> {
    let mark = path(db);
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(&mark) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(&mark, e)),
    };
    let damaged = || LedgerError::DamagedMark { mark: mark.clone() };
    if !file.metadata().map_err(|e| io_error(&mark, e))?.is_file() {
        return Err(damaged());
    }
    let mut content = String::new();
    // A mark is a few dozen bytes: more is not one outreach wrote.
    file.take(256)
        .read_to_string(&mut content)
        .map_err(|_| damaged())?;
    let mut lines = content.lines();
    if lines.next() != Some(HEADER) {
        return Err(damaged());
    }
    let writes = lines
        .next()
        .and_then(|l| l.strip_prefix("write-aheads "))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(damaged)?;
    if lines.next().is_some() || !content.ends_with('\n') {
        return Err(damaged());
    }
    Ok(Some(writes))
}

/// Writes a new file `tmp` (no link followed, owner-only) holding the mark, synced.
fn write_new(tmp: &Path, writes: u64) -> io::Result<()> {
    match std::fs::remove_file(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file: File = crate::private::owner_only()
        .write(true)
        .create_new(true)
        .open(tmp)?;
    file.write_all(text(writes).as_bytes())?;
    file.sync_all()
}

/// Records that the ledger at `db` has committed `writes` write-aheads: a new file renamed
/// over the old mark (a rename replaces a link at the name, never follows it), so a reader
/// sees the old mark or the new one, whole.
pub(super) fn write(db: &Path, writes: u64) -> Result<(), LedgerError> {
    let mark = path(db);
    let tmp = beside(db, "-mark.tmp");
    write_new(&tmp, writes).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, &mark).map_err(|e| io_error(&mark, e))
}

/// Writes the mark of a ledger that has none yet (a new ledger, or one from a build before
/// marks), unless another process wrote one meanwhile: that one stands.
pub(super) fn create(db: &Path, writes: u64) -> Result<(), LedgerError> {
    let mark = path(db);
    let tmp = beside(db, &format!("-mark.{}.tmp", std::process::id()));
    write_new(&tmp, writes).map_err(|e| io_error(&tmp, e))?;
    let linked = std::fs::hard_link(&tmp, &mark);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(&mark, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_as_written_and_nothing_else_reads_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        assert_eq!(read(&db).unwrap(), None);
        create(&db, 0).unwrap();
        assert_eq!(read(&db).unwrap(), Some(0));
        write(&db, 41).unwrap();
        create(&db, 0).unwrap();
        assert_eq!(read(&db).unwrap(), Some(41), "create leaves a mark alone");
        for bad in [
            "",
            "write-aheads 3\n",
            "outreach ledger mark\nwrite-aheads -1\n",
            "outreach ledger mark\nwrite-aheads 3",
            "outreach ledger mark\nwrite-aheads 3\nmore\n",
        ] {
            std::fs::write(path(&db), bad).unwrap();
            assert!(
                matches!(read(&db), Err(LedgerError::DamagedMark { .. })),
                "{bad:?}"
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_mark_is_refused_and_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let target = dir.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, path(&db)).unwrap();
        assert!(matches!(read(&db), Err(LedgerError::Symlink { .. })));
        write(&db, 2).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert_eq!(read(&db).unwrap(), Some(2));
    }
}
