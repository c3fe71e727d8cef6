//! Every relative link in the repository's Markdown resolves to a file (and, with a `#part`,
//! to a heading) inside the repository. External links are not fetched: tests never reach
//! the internet.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::root;

/// The Markdown files a user reads: the READMEs, `docs/` and `bench/`.
fn markdown_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("mock-server/README.md")];
    for dir in ["docs", "bench"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// The link targets of a Markdown text, with their line: `[text](target)`, `![alt](target)`
/// and reference definitions `[name]: target`; code spans and fenced blocks are left out.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let line = strip_code_spans(line);
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(end) = trimmed.find("]: ")
        {
            let target = trimmed[end + 3..].split_whitespace().next().unwrap_or("");
            out.push((i + 1, target.to_owned()));
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(close) = after.find(')') else { break };
            let target = after[..close].split_whitespace().next().unwrap_or("");
            out.push((i + 1, target.trim_matches(['<', '>']).to_owned()));
            rest = &after[close..];
        }
    }
    out
}

fn strip_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join("")
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes.
fn anchor(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line));
        }
    }
    out
}

/// `path` with `.` and `..` taken away, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// What is wrong with one link of `file`, if anything.
fn check(root: &Path, file: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("an empty link".to_owned());
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, fragment) = match target.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (target, None),
    };
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else if path.starts_with('/') {
        return Some("an absolute path (links must be relative to the file)".to_owned());
    } else {
        normalise(&file.parent().unwrap().join(path))
    };
    if !resolved.starts_with(root) {
        return Some("points outside the repository".to_owned());
    }
    if !resolved.exists() {
        return Some("names a file that does not exist".to_owned());
    }
    if let Some(fragment) = fragment
        && resolved.extension().is_some_and(|e| e == "md")
        && !anchors(&std::fs::read_to_string(&resolved).unwrap()).contains(fragment)
    {
        return Some(format!("names a heading (#{fragment}) that is not in it"));
    }
    None
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = normalise(&root());
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, target) in links(&text) {
            checked += 1;
            if let Some(problem) = check(&root, &file, &target) {
                let shown = file.strip_prefix(&root).unwrap_or(&file).display();
                broken.push(format!("{shown}:{line}: ({target}) {problem}"));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The checker itself finds what it must.
#[test]
fn the_link_checker_finds_broken_links() {
    let root = normalise(&root());
    let readme = root.join("README.md");
    assert_eq!(check(&root, &readme, "docs/architecture.md"), None);
    assert_eq!(check(&root, &readme, "#layout"), None);
    assert_eq!(check(&root, &readme, "https://example.org/x"), None);
    for bad in [
        "../shared/voicebot-api.md",
        "docs/nothing.md",
        "#no-such-heading",
        "docs/architecture.md#no-such-heading",
        "/etc/passwd",
        "",
    ] {
        assert!(check(&root, &readme, bad).is_some(), "{bad} passed");
    }
    let found = links(
        "see [a](x.md) and `[b](y.md)` and ![c](img.png \"t\")\n[d]: z.md\n```\n[e](w.md)\n```\n",
    );
    let targets: Vec<&str> = found.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(targets, ["x.md", "img.png", "z.md"]);
    assert_eq!(
        anchor("## Where a new feature goes"),
        "where-a-new-feature-goes"
    );
    assert_eq!(
        anchor("# `outreach` 1.0: plan/apply"),
        "outreach-10-planapply"
    );
}
