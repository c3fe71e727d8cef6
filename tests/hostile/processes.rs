//! The real binary on every corpus file: `validate` (and `plan`, for patient files and for
//! whatever validates) ends by itself inside a 60 s watchdog, never by a panic or a signal,
//! with a peak resident memory under 500 MB (the kernel's own high-water mark of the
//! process, `ru_maxrss` from `wait4`, not a sample), and a refusal says where.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cases::campaign_text;
use crate::corpus::files;

const WATCHDOG: Duration = Duration::from_secs(60);
const MAX_RSS: u64 = 500 * 1000 * 1000;

/// Runs `outreach args…` in `dir`; returns its exit code and output, having checked the
/// watchdog, the signal and the memory.
fn outreach(what: &str, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("INTRON_API_KEY")
        .env_remove("OUTREACH_DATABASE_URL")
        .args(args);
    let start = std::time::Instant::now();
    let ran = memory_meter::run(&mut cmd, WATCHDOG).unwrap();
    // For whoever reads the log of a slow run; never asserted.
    eprintln!(
        "{what}: {} {:?}, {} MB",
        args[0],
        start.elapsed(),
        ran.max_rss / 1_000_000
    );
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ran.stderr).into_owned();
    let status = ran
        .status
        .unwrap_or_else(|| panic!("{what}: {args:?} was still running after {WATCHDOG:?}"));
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{what}: {args:?} ended by a signal: {status:?}\n{stderr}"));
    assert!(
        !stderr.contains("panicked"),
        "{what}: {args:?} panicked:\n{stderr}"
    );
    assert!(
        matches!(code, 0..=2),
        "{what}: {args:?} exited {code}:\n{stderr}"
    );
    assert!(
        ran.max_rss < MAX_RSS,
        "{what}: {args:?} peaked at {} MB",
        ran.max_rss / 1_000_000
    );
    (code, stdout, stderr)
}

/// `validate --format json`: exit 1 comes with diagnostics, each error with its line or
/// about the file as a whole.
fn validate(what: &str, dir: &Path, file: &str) -> i32 {
    let (code, stdout, stderr) = outreach(what, dir, &["validate", "--format", "json", file]);
    if code == 1 {
        let doc: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{what}: validate's JSON: {e}\n{stdout}{stderr}"));
        let diags = doc["files"][0]["diagnostics"].as_array().unwrap();
        assert!(!diags.is_empty(), "{what}: refused with no diagnostic");
        for d in diags.iter().filter(|d| d["severity"] == "error") {
            let whole = [
                "file-too-large",
                "unreadable-file",
                "empty-file",
                "not-text",
            ];
            assert!(
                d["line"].is_u64() || whole.iter().any(|c| d["code"] == *c),
                "{what}: an error with no line: {d}"
            );
        }
    }
    code
}

/// `plan`: a refusal says which file.
fn plan(what: &str, dir: &Path, named: &str) {
    let (code, stdout, stderr) = outreach(what, dir, &["plan", "c.yaml"]);
    if code != 0 {
        let all = format!("{stdout}{stderr}");
        assert!(
            all.contains(named) || all.contains("c.yaml"),
            "{what}: plan's refusal names no file:\n{all}"
        );
    }
}

#[test]
fn corpus_campaign_files_end_in_the_real_binary_inside_60_s_and_500_mb() {
    for path in files("yaml") {
        let what = path.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&path, dir.path().join("c.yaml")).unwrap();
        if validate(&what, dir.path(), "c.yaml") == 0 {
            plan(&what, dir.path(), "c.yaml");
        }
    }
}

#[test]
fn corpus_patient_files_end_in_the_real_binary_inside_60_s_and_500_mb() {
    for folder in ["csv", "json", "xlsx"] {
        for path in files(folder) {
            let what = path.file_name().unwrap().to_string_lossy().into_owned();
            let ext = path.extension().unwrap().to_string_lossy();
            let file = format!("patients.{ext}");
            let dir = tempfile::tempdir().unwrap();
            std::fs::copy(&path, dir.path().join(&file)).unwrap();
            std::fs::write(
                dir.path().join("c.yaml"),
                campaign_text(&file, None, "{{name}}"),
            )
            .unwrap();
            validate(&what, dir.path(), "c.yaml");
            plan(&what, dir.path(), &file);
        }
    }
}

#[test]
fn corpus_templates_end_in_the_real_binary_inside_60_s_and_500_mb() {
    for path in files("templates") {
        let what = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.csv"), "phone,name\n+2348031110000,Ada\n").unwrap();
        std::fs::write(
            dir.path().join("c.yaml"),
            campaign_text("p.csv", None, &text),
        )
        .unwrap();
        if validate(&what, dir.path(), "c.yaml") == 0 {
            plan(&what, dir.path(), "p.csv");
        }
    }
}
