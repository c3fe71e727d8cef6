//! Skips a default was meant to prevent (issue 15, case 9): `defaults` are keyed by the
//! column a template reads (`Clinic`), not by the variable (`clinic`). A default under the
//! wrong key leaves patients skipped; plan says so, `--strict` fails on it, and `init` writes
//! defaults under the exact column key.

use std::path::Path;

use serde_json::Value;

use crate::outreach;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = outreach().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the log says after its time, line by line, for the given level.
fn said(stderr: &str, level: &str) -> String {
    let mark = format!("{level}: ");
    stderr
        .lines()
        .filter_map(|l| l.split_once(mark.as_str()).map(|(_, e)| e))
        .collect::<Vec<_>>()
        .join("\n")
}

fn campaign(defaults_key: &str) -> String {
    format!(
        r#"version: 1
name: strict
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{{{name}}}}"
  clinic: "{{{{Clinic}}}}"
defaults:
  {defaults_key}: your health centre
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "08:00", until: "20:00"}}]
"#
    )
}

#[test]
fn a_skip_a_misplaced_default_was_meant_to_prevent_fails_strict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone,Clinic\nAda,08031234567,Yaba PHC\nBola,08051234567,\n",
    );
    write(d, "c.yaml", &campaign("clinic"));

    // Without --strict: Ada is called, Bola skipped, and the plan says which default missed.
    let (code, stdout, stderr) = run(d, &["plan", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let warning = said(&stderr, "warning");
    assert!(
        warning.contains("the default `clinic` was probably meant for"),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(d, &["plan", "--strict", "c.yaml", "--out", "plan.json"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(!d.join("plan.json").exists(), "no plan saved");
    insta::assert_snapshot!("strict-misplaced-default", said(&stderr, "error"));
    let (code, _, stderr) = run(d, &["plan", "--strict", "--detailed-exitcode", "c.yaml"]);
    assert_eq!(code, Some(1), "{stderr}");

    // Keyed by the column: Bola is called with the default, and --strict passes.
    write(d, "c.yaml", &campaign("Clinic"));
    let (code, stdout, stderr) = run(
        d,
        &["plan", "--strict", "--format", "json", "--unmask", "c.yaml"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 2, "{stdout}");
    assert_eq!(
        doc["sample"][1]["variables"]["clinic"], "your health centre",
        "{stdout}"
    );
    assert!(said(&stderr, "warning").is_empty(), "{stderr}");
}

/// `init` proposes defaults for columns that are sometimes empty under the exact column key
/// (`"Health Centre"`, not the variable `health_centre`): filled in, the file validates
/// without a `default-unused` warning and the default is what the patient hears.
#[test]
fn init_writes_defaults_under_the_column_the_template_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "clinic list.csv",
        "Name,Phone,Health Centre\nAda,08031234567,Yaba PHC\nBola,08051234567,\nChi,08061234567,Ikeja PHC\n",
    );
    let (code, stdout, stderr) = run(
        d,
        &[
            "init",
            ".",
            "--patients",
            "clinic list.csv",
            "--yes",
            "--name",
            "clinics",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let path = d.join("clinics.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("health_centre: \"{{[Health Centre]}}\""),
        "{text}"
    );
    let proposed = "#   \"Health Centre\": REPLACE";
    assert!(text.contains(proposed), "{text}");
    let filled = text
        .replace("# defaults:\n", "defaults:\n")
        .replace(proposed, "  \"Health Centre\": your health centre #");
    std::fs::write(&path, filled).unwrap();

    let (code, stdout, _) = run(d, &["validate", "--format", "json", "clinics.yaml"]);
    assert_eq!(code, Some(0), "{stdout}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = doc["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"default-unused"), "{stdout}");
    let (code, stdout, stderr) = run(
        d,
        &[
            "plan",
            "--strict",
            "--format",
            "json",
            "--unmask",
            "clinics.yaml",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 3, "{stdout}");
    assert_eq!(
        doc["sample"][1]["variables"]["health_centre"], "your health centre",
        "{stdout}"
    );
}
