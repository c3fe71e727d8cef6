//! Opening a file the tool reads, the one way every reader does (campaign files, patient and
//! opt-out files, saved plans, API key files): regular files only, so a FIFO never blocks
//! the run and a device (`/dev/zero`) or a file of the kernel's (`/proc/self/environ`) is
//! never read; and, where a file is read whole, never more than its cap.
//!
//! The type is checked before opening (a FIFO is not opened at all), the open itself does
//! not block (`O_NONBLOCK`: a FIFO swapped in between the two is not waited on), and the
//! opened descriptor is checked again (`fstat`), so what is read is what was checked.

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why an input file cannot be read. Its text names no path: callers say which file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("it does not exist")]
    Missing,
    #[error("it is {0}, not a regular file: only regular files are read")]
    NotAFile(&'static str),
    #[error("it is larger than {}, more than such a file can need", size(*.0))]
    TooLarge(u64),
    #[error("it is not UTF-8 text")]
    NotText,
    #[error("{0}")]
    Io(io::Error),
}

impl From<InputError> for io::Error {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Io(e) => e,
            InputError::Missing => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
            other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

/// A byte count for people: `4 KiB`, `10 MiB`.
pub fn size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a file that is not a regular file is, in words.
fn kind(t: FileType) -> Option<&'static str> {
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Files of the kernel's, which look regular but are not files anyone wrote (`/proc`,
/// `/sys`), and devices' folder.
fn of_the_kernel(path: &Path) -> bool {
    ["/proc", "/sys", "/dev"]
        .iter()
        .any(|k| path.starts_with(k))
}

fn io_error(e: io::Error) -> InputError {
    if e.kind() == io::ErrorKind::NotFound {
        InputError::Missing
    } else {
        InputError::Io(e)
    }
}

/// Opens a regular file for reading, never blocking (see the module's comment).
pub fn open(path: &Path) -> Result<File, InputError> {
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if let Some(k) = kind(meta.file_type()) {
        return Err(InputError::NotAFile(k));
    }
    if path.canonicalize().is_ok_and(|real| of_the_kernel(&real)) {
        return Err(InputError::NotAFile("a file of the kernel's (/proc, /sys)"));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(InputError::Io)?;
    if let Some(k) = kind(meta.file_type()) {
        return Err(InputError::NotAFile(k));
    }
    Ok(file)
}

/// Reads a regular file whole, refusing it past `limit` bytes (read one byte past the limit
/// to tell, never the whole of a file that grows while it is read).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let file = open(path)?;
    let size = file.metadata().map_err(InputError::Io)?.len();
    if size > limit {
        return Err(InputError::TooLarge(limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(InputError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge(limit));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, InputError> {
    String::from_utf8(read(path, limit)?).map_err(|_| InputError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_the_kernels_files_are_refused() {
        for (path, says) in [
            ("/dev/zero", "a device"),
            ("/dev/null", "a device"),
            ("/tmp", "a folder"),
            ("/proc/self/environ", "the kernel's"),
            ("/proc/self/status", "the kernel's"),
        ] {
            let e = open(Path::new(path)).unwrap_err();
            assert!(e.to_string().contains(says), "{path}: {e}");
        }
        assert!(matches!(
            open(Path::new("/nonexistent/outreach")),
            Err(InputError::Missing)
        ));
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("p.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = open(&fifo).unwrap_err();
        assert!(e.to_string().contains("named pipe"), "{e}");
    }

    #[test]
    fn a_file_past_its_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key");
        std::fs::write(&f, "x".repeat(5000)).unwrap();
        let e = read(&f, 4096).unwrap_err();
        assert_eq!(
            e.to_string(),
            "it is larger than 4 KiB, more than such a file can need"
        );
        assert_eq!(read(&f, 5000).unwrap().len(), 5000);
    }
}
