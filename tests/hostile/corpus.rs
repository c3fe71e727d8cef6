//! The committed corpus: every file of `corpus/<reader>/`, each through its reader.

use std::path::PathBuf;

use crate::cases;
use crate::memory::measured;

/// The files of `corpus/<folder>`, sorted.
pub(crate) fn files(folder: &str) -> Vec<PathBuf> {
    let dir = crate::root().join("tests/hostile/corpus").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

fn name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn corpus_campaign_files_are_refused_or_read_without_panic_abort_or_1_gib() {
    for path in files("yaml") {
        let bytes = std::fs::read(&path).unwrap();
        measured(&name(&path), || cases::campaign_bytes(&name(&path), &bytes));
    }
}

#[test]
fn corpus_patient_files_are_refused_or_read_without_panic_abort_or_1_gib() {
    for folder in ["csv", "json", "xlsx"] {
        for path in files(folder) {
            let bytes = std::fs::read(&path).unwrap();
            measured(&name(&path), || cases::patient_file(&name(&path), &bytes));
        }
    }
}

#[test]
fn corpus_templates_are_refused_or_compiled_without_panic_abort_or_1_gib() {
    for path in files("templates") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        measured(&name(&path), || cases::template(&name(&path), &text));
    }
}

#[test]
fn corpus_has_the_traps_the_issue_names() {
    // The corpus is what makes these tests mean something: its named traps must be there.
    let all: Vec<String> = ["yaml", "csv", "json", "xlsx", "templates"]
        .iter()
        .flat_map(|f| files(f))
        .map(|p| name(&p))
        .collect();
    for trap in [
        "alias-bomb.yaml",
        "deep-block-sequence.yaml",
        "huge-scalar.yaml",
        "invalid-utf8.yaml",
        "nul.yaml",
        "bom.yaml",
        "long-line.yaml",
        "ragged.csv",
        "unclosed-quote.csv",
        "long-runs-of-commas.csv",
        "deep-array.json",
        "far-corner.xlsx",
        "bomb.xlsx",
        "nested-blocks-2000.hbs",
        "nested-subexpressions-3000.hbs",
    ] {
        assert!(all.iter().any(|n| n == trap), "the corpus has no {trap}");
    }
    let corner = crate::root().join("tests/hostile/corpus/xlsx/far-corner.xlsx");
    assert!(std::fs::metadata(corner).unwrap().len() < 2048);
    let deep = std::fs::read(crate::root().join("tests/hostile/corpus/json/deep-array.json"));
    assert!(deep.unwrap().iter().take_while(|&&b| b == b'[').count() >= 100_000);
}
