//! The schema the starter campaign's modeline names, so that editors complete and explain
//! each field: always a file that exists, never an address that may not.
//!
//! With `--schema PATH`, that file; inside a checkout, its `schemas/campaign.schema.json`;
//! otherwise `campaign.schema.json` beside the campaign. A schema file that is missing is
//! written there (the text of `outreach schema`); one that is present is kept as it is, and
//! `init` says so when it is not this version's schema.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::campaign::schema::schema_text;

/// The schema, relative to a checkout's root.
const CHECKOUT_SCHEMA: &str = "schemas/campaign.schema.json";

/// The schema's file name beside a campaign written outside a checkout.
pub const BESIDE: &str = "campaign.schema.json";

/// The schema a campaign's modeline names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// Its resolved path (the modeline holds it relative to the campaign).
    pub path: PathBuf,
    /// The path as the user would write it, for messages.
    pub shown: PathBuf,
    /// The checkout's own schema (kept current by the checkout's tests).
    in_checkout: bool,
}

/// What [`SchemaFile::ensure`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// Written now.
    Written,
    /// There already, with this version's text (or the checkout's own).
    Current,
    /// There already, with other text: kept.
    Differs,
}

impl SchemaFile {
    /// Where the schema of a campaign written in `dir` (`dir_abs` resolved) goes: `given`
    /// (`--schema`, relative to the current directory), the checkout's, or beside it.
    pub fn locate(given: Option<&Path>, dir: &Path, dir_abs: &Path) -> anyhow::Result<Self> {
        if let Some(given) = given {
            return Self::given(given);
        }
        if let Some(path) = dir_abs
            .ancestors()
            .map(|a| a.join(CHECKOUT_SCHEMA))
            .find(|p| p.is_file())
        {
            return Ok(SchemaFile {
                shown: path.clone(),
                path,
                in_checkout: true,
            });
        }
        Ok(SchemaFile {
            path: dir_abs.join(BESIDE),
            shown: if dir == Path::new(".") {
                PathBuf::from(BESIDE)
            } else {
                dir.join(BESIDE)
            },
            in_checkout: false,
        })
    }

    fn given(given: &Path) -> anyhow::Result<Self> {
        if given.is_dir() {
            bail!(
                "--schema {}: a folder; give the schema file's path, such as {}",
                given.display(),
                given.join(BESIDE).display()
            );
        }
        let Some(name) = given.file_name() else {
            bail!("--schema {}: not a file's path", given.display());
        };
        let parent = given
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let parent = parent
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", parent.display()))?;
        Ok(SchemaFile {
            path: parent.join(name),
            shown: given.to_path_buf(),
            in_checkout: false,
        })
    }

    /// Writes the schema when it is missing; never replaces one that is there.
    pub fn ensure(&self) -> anyhow::Result<Ensured> {
        let text = schema_text();
        match std::fs::read_to_string(&self.path) {
            Ok(_) if self.in_checkout => Ok(Ensured::Current),
            Ok(found) if found == text => Ok(Ensured::Current),
            Ok(_) => Ok(Ensured::Differs),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::write(&self.path, text)
                    .with_context(|| format!("cannot write {}", self.shown.display()))?;
                Ok(Ensured::Written)
            }
            Err(e) => {
                Err(anyhow::Error::new(e).context(format!("cannot read {}", self.shown.display())))
            }
        }
    }

    /// What `init` says of the schema, if anything.
    pub fn said(&self, ensured: Ensured) -> Option<String> {
        let shown = self.shown.display();
        match ensured {
            Ensured::Written => Some(format!(
                "Wrote {shown} (the schema your editor reads to complete and explain each field)"
            )),
            Ensured::Current => None,
            Ensured::Differs => Some(format!(
                "Kept {shown}, which is not this version's schema: `outreach schema > {shown}` updates it"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_checkout_the_schema_is_written_beside_the_campaign_once() {
        let dir = tempfile::tempdir().unwrap();
        let abs = dir.path().canonicalize().unwrap();
        let schema = SchemaFile::locate(None, dir.path(), &abs).unwrap();
        assert_eq!(schema.path, abs.join(BESIDE));
        assert_eq!(schema.ensure().unwrap(), Ensured::Written);
        assert_eq!(
            std::fs::read_to_string(&schema.path).unwrap(),
            schema_text()
        );
        assert_eq!(schema.ensure().unwrap(), Ensured::Current);
        assert_eq!(schema.said(Ensured::Current), None);
        std::fs::write(&schema.path, "{}").unwrap();
        assert_eq!(schema.ensure().unwrap(), Ensured::Differs, "kept as it is");
        assert_eq!(std::fs::read_to_string(&schema.path).unwrap(), "{}");
    }

    #[test]
    fn a_folder_given_as_the_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = SchemaFile::locate(Some(dir.path()), dir.path(), dir.path()).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
    }
}
