//! Files that hold patient data (saved plans, ledgers, temporary plans) are created
//! owner-only, before anything is written to them.

use std::fs::OpenOptions;

/// Options that create a file readable and writable by its owner only (on Unix; elsewhere
/// the platform's defaults).
pub fn owner_only() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_new_file_is_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        super::owner_only()
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
