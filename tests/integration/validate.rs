//! `outreach validate` on the examples, on every invalid fixture, and in every format.

use std::path::PathBuf;

use crate::{fixture, outreach, root};

/// Writes the 50 MB fixture on first use (too large to commit; see .gitignore).
fn too_large_fixture() -> PathBuf {
    let path = root().join(fixture("invalid/too-large.yaml"));
    let size: usize = 50 * 1024 * 1024;
    if std::fs::metadata(&path).map_or(0, |m| m.len()) != size as u64 {
        let line = "description: a campaign file grown far past any sensible size\n";
        let mut text = String::with_capacity(size);
        while text.len() + line.len() <= size {
            text.push_str(line);
        }
        text.push_str(&"#".repeat(size - text.len()));
        std::fs::write(&path, text).unwrap();
    }
    path
}

fn invalid_fixtures() -> Vec<PathBuf> {
    too_large_fixture();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(fixture("invalid")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn examples_are_valid() {
    // No path means campaigns/.
    let out = outreach().arg("validate").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("5 files checked: 5 valid, 0 invalid (0 errors, 0 warnings)"),
        "{text}"
    );
}

#[test]
fn there_are_at_least_forty_invalid_fixtures() {
    assert!(invalid_fixtures().len() >= 40);
}

#[test]
fn every_invalid_fixture_fails_with_a_located_diagnostic() {
    for path in invalid_fixtures() {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = path.strip_prefix(root()).unwrap().to_path_buf();

        let out = outreach()
            .args(["validate", "--format", "json"])
            .arg(&rel)
            .output()
            .unwrap();
        let code = out.status.code();
        assert!(matches!(code, Some(1 | 2)), "{name}: exit {code:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: JSON output does not parse: {e}"));
        let diags = json["files"][0]["diagnostics"].as_array().unwrap();
        let errors: Vec<_> = diags.iter().filter(|d| d["severity"] == "error").collect();
        assert!(!errors.is_empty(), "{name}: no error reported");
        // Every error names a place, except a file too large to read at all.
        for e in &errors {
            if e["code"] != "file-too-large" {
                assert!(e["line"].as_u64().is_some(), "{name}: {e} has no line");
                assert!(e["column"].as_u64().is_some(), "{name}: {e} has no column");
            }
            assert!(!e["message"].as_str().unwrap().is_empty());
        }

        let human = outreach()
            .args(["validate", "--color", "never"])
            .arg(&rel)
            .output()
            .unwrap();
        assert_eq!(human.status.code(), code, "{name}: human and json disagree");
        let text = String::from_utf8_lossy(&human.stdout).into_owned();
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            description => format!("outreach validate {}", rel.display()),
        }, {
            insta::assert_snapshot!(format!("invalid-{name}"), text);
        });
    }
}

#[test]
fn the_too_large_file_is_refused_without_reading_it_whole() {
    let path = too_large_fixture();
    let rel = path.strip_prefix(root()).unwrap().to_path_buf();
    let out = outreach().arg("validate").arg(&rel).assert().code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("file-too-large"), "{text}");
}

#[test]
fn all_problems_in_a_file_are_reported_at_once() {
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(fixture("many-problems.yaml"))
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let codes: Vec<&str> = json["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for expected in [
        "not-allowed-value",
        "unknown-key",
        "source-missing",
        "phone-not-text",
        "template-unknown-helper",
        "unknown-timezone",
        "window-order",
        "dates-order",
        "out-of-range",
        "bad-duration",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
}

#[test]
fn json_output_is_documented_shape() {
    let out = outreach()
        .args([
            "validate",
            "--format",
            "json",
            "campaigns",
            "tests/fixtures/invalid/bad-accent.yaml",
        ])
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["format"], "outreach-validate");
    assert_eq!(json["version"], 1);
    assert_eq!(json["valid"], false);
    assert_eq!(json["summary"]["files"], 6);
    assert_eq!(json["summary"]["invalid"], 1);
    let bad = &json["files"][5];
    assert_eq!(bad["path"], "tests/fixtures/invalid/bad-accent.yaml");
    let d = &bad["diagnostics"][0];
    assert_eq!(d["code"], "not-allowed-value");
    assert_eq!(d["pointer"], "/voice/accent");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(16), Some(11))
    );
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `yoruba`?")
    );
}

#[test]
fn github_format_annotates_lines() {
    let out = outreach()
        .args([
            "validate",
            "--format",
            "github",
            "tests/fixtures/invalid/unknown-key-typo.yaml",
        ])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.starts_with("::error file=tests/fixtures/invalid/unknown-key-typo.yaml,line=16,col=3,endColumn=8,title=outreach unknown-key::`acent` is not a field in `voice`%0Ahelp: did you mean `accent`?\n"),
        "{text}"
    );
}

#[test]
fn junit_format_has_one_case_per_file() {
    let out = outreach()
        .args([
            "validate",
            "--format",
            "junit",
            "campaigns/smoke-test.yaml",
            "tests/fixtures/invalid/window-order.yaml",
        ])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    assert!(
        text.contains(r#"<testsuite name="outreach validate" tests="2" failures="1""#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"<testcase classname="outreach.validate" name="campaigns/smoke-test.yaml"/>"#
        )
    );
    assert!(
        text.contains("tests/fixtures/invalid/window-order.yaml:14:14: error[window-order]"),
        "{text}"
    );
    assert_eq!(text.matches("<testcase").count(), 2);
}

#[test]
fn warnings_do_not_fail_validation() {
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(fixture("warnings/fast-conversation.yaml"))
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let d = &json["files"][0]["diagnostics"];
    assert_eq!(d[0]["code"], "default-unused");
    assert_eq!(d[1]["code"], "rate-above-provider-limit");
    assert_eq!(d[1]["severity"], "warning");
}

#[test]
fn could_not_run_exits_two() {
    outreach()
        .args(["validate", "no/such/path.yaml"])
        .assert()
        .code(2);
    outreach()
        .args(["validate", "--format", "xml"])
        .assert()
        .code(2);
    outreach().args(["frobnicate"]).assert().code(2);
    let empty = tempfile::tempdir().unwrap();
    outreach()
        .arg("validate")
        .arg(empty.path())
        .assert()
        .code(2);
    outreach().arg("--help").assert().success();
}

#[test]
fn directories_are_searched_recursively() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::copy(
        root().join("campaigns/smoke-test.yaml"),
        nested.join("one.yml"),
    )
    .unwrap();
    // Another name: two files with one name are a problem of their own.
    let smoke = std::fs::read_to_string(root().join("campaigns/smoke-test.yaml")).unwrap();
    std::fs::write(
        dir.path().join("two.yaml"),
        smoke.replace("name: smoke-test", "name: smoke-test-two"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a campaign").unwrap();
    let out = outreach()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("2 files checked: 2 valid"), "{text}");
}

/// Issue 14 (bounded time): a file of 20,000 unknown keys took minutes in the human format,
/// each problem shown in full looking through the file around it. The first 50 are shown in
/// full, the rest one line each, and every one is still there.
#[test]
fn thousands_of_problems_in_one_file_are_shown_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    let mut text = std::fs::read_to_string(fixture("invalid/tags-on-conversation.yaml"))
        .unwrap()
        .replace("tags:\n  id: \"{{patient_id}}\"\n", "");
    for i in 0..20_000 {
        use std::fmt::Write as _;
        let _ = writeln!(text, "k{i}: {i}");
    }
    std::fs::write(&path, &text).unwrap();
    let out = outreach()
        .args(["validate", "--color", "never"])
        .arg(&path)
        .assert()
        .code(1);
    let said = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    // 20,000 unknown keys and the missing patient file.
    assert!(
        said.contains("19951 more problems in"),
        "{}",
        &said[..said.len().min(2000)]
    );
    assert_eq!(said.matches("unknown-key").count(), 20_000);
    assert!(
        said.contains(":k19999") || said.contains("`k19999`"),
        "the last one too"
    );
    assert_eq!(said.matches("╭─[").count(), 50, "50 shown in full");
}
