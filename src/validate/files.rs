//! Which files are campaign files: `*.yaml` and `*.yml` under the given paths, hidden
//! directories skipped. `validate` and `watch` walk the same way. The files are checked on
//! every core (`check_all`); among the files checked together, no two campaigns may share a
//! name (`duplicate_names`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::load::diagnostic::{Code, Diagnostic, FileReport};

/// Checks every file ([`super::check_file`]) on as many threads as the machine has cores
/// (at most one per file), and gives their reports in the order of `files`.
pub fn check_all(files: &[PathBuf]) -> Vec<FileReport> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(files.len());
    if threads <= 1 {
        return files.iter().map(|f| super::check_file(f).report).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, FileReport)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        mine.push((i, super::check_file(file).report));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            // A worker's panic is the program's: passed on as it came.
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

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

/// Campaign files checked together that share a `name` (issue 15, case 7): the ledger knows
/// a campaign by its name, so two files with one name would share one record of calls (one's
/// patients counted as called by the other). Each such file gets an error at its `name`,
/// naming the other files and where their `name` is.
pub fn duplicate_names(reports: &mut [FileReport]) {
    let named: Vec<Option<(String, crate::load::yaml::Span)>> = reports
        .iter()
        .map(|r| {
            let (doc, _) = crate::load::document::load(r.source.as_deref()?);
            let doc = doc?;
            let name = doc.value.get("name")?.as_str()?.to_owned();
            Some((name, doc.span("/name")?))
        })
        .collect();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in named.iter().enumerate() {
        if let Some((name, _)) = n {
            by_name.entry(name.as_str()).or_default().push(i);
        }
    }
    let mut found = Vec::new();
    for (name, files) in by_name.into_iter().filter(|(_, f)| f.len() > 1) {
        for &i in &files {
            let others: Vec<String> = files
                .iter()
                .filter(|&&j| j != i)
                .filter_map(|&j| {
                    let (_, span) = named[j].as_ref()?;
                    Some(format!(
                        "{}:{}:{}",
                        reports[j].path.display(),
                        span.start.line,
                        span.start.column
                    ))
                })
                .collect();
            let span = named[i].as_ref().map(|(_, s)| *s);
            found.push((
                i,
                Diagnostic::error(
                    Code::DuplicateCampaignName,
                    format!(
                        "another campaign file is named `{name}` too ({}): the ledger knows a campaign by its name, so the two would share one record of calls, and patients called by one would count as called by the other",
                        others.join(", ")
                    ),
                )
                .at("/name", span)
                .help("give each campaign a name of its own; if this file replaced the other, delete the old one (and apply with --moved-from OLD.yaml)"),
            ));
        }
    }
    for (i, d) in found {
        reports[i].diagnostics.push(d);
        reports[i].sort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_checked_on_every_core_are_reported_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = (0..40)
            .map(|i| {
                let path = dir.path().join(format!("c{i:02}.yaml"));
                // Every other file is not YAML at all: the two kinds of report interleave.
                let text = if i % 2 == 0 { "version: 1\n" } else { "[" };
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let reports = check_all(&files);
        let paths: Vec<&Path> = reports.iter().map(|r| r.path.as_path()).collect();
        assert_eq!(
            paths,
            files.iter().map(PathBuf::as_path).collect::<Vec<_>>()
        );
        let one: Vec<FileReport> = files
            .iter()
            .map(|f| super::super::check_file(f).report)
            .collect();
        for (a, b) in reports.iter().zip(&one) {
            assert_eq!(
                a.diagnostics.len(),
                b.diagnostics.len(),
                "{}",
                a.path.display()
            );
        }
    }

    #[test]
    fn files_sharing_a_name_are_each_told_where_the_others_are() {
        let report = |path: &str, text: &str| {
            let mut r = FileReport::new(Path::new(path));
            r.source = Some(text.to_owned());
            r
        };
        let mut reports = vec![
            report("a.yaml", "version: 1\nname: clinic\n"),
            report("b.yaml", "version: 1\nname: other\n"),
            report("c.yaml", "# moved\nversion: 1\nname:   clinic\n"),
            report("d.yaml", "name: [broken"),
        ];
        duplicate_names(&mut reports);
        let codes = |r: &FileReport| r.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>();
        assert_eq!(codes(&reports[0]), [Code::DuplicateCampaignName]);
        assert!(codes(&reports[1]).is_empty());
        assert!(codes(&reports[3]).is_empty());
        let d = &reports[0].diagnostics[0];
        assert!(d.message.contains("(c.yaml:3:9)"), "{}", d.message);
        assert_eq!(d.span.map(|s| (s.start.line, s.start.column)), Some((2, 7)));
        assert!(reports[2].diagnostics[0].message.contains("(a.yaml:2:7)"));
    }

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
