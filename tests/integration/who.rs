//! Who gets called: when the tool cannot be sure a row is right, it calls no one on a guess
//! (an opt-out list with entries that are not numbers), and a row that cannot be called never
//! stands in for one that can (dedupe).

use std::path::Path;

use serde_json::Value;

use crate::outreach;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn campaign(exclude: &str) -> String {
    format!(
        r#"version: 1
name: who
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{{{name}}}}"
{exclude}
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "08:00", until: "20:00"}}]
"#
    )
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = outreach()
        .current_dir(dir)
        // A printed plan says when its calls go: the clock is fixed for its snapshots.
        .env("OUTREACH_FAKE_NOW", "2026-12-01T07:00:00Z")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An opt-out list read on the wrong column: every entry is "not a number", so the list
/// would let everyone through. validate, plan and apply all refuse, naming each row.
#[test]
fn an_opt_out_list_with_entries_that_are_not_numbers_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone\nAda,08031234567\nBola,08051234567\n",
    );
    write(
        d,
        "Do Not Call.csv",
        "Name,phone\nAda Obi,08031234567\nTunde,08059990000\n",
    );
    let exclude =
        "exclude:\n  - file: \"Do Not Call.csv\"\n    phone_column: Name\n    default_country: NG";
    write(d, "c.yaml", &campaign(exclude));

    let (code, stdout, _) = run(d, &["validate", "--color", "never", "c.yaml"]);
    assert_eq!(code, Some(1), "{stdout}");
    insta::assert_snapshot!("opt-out-invalid-entries-validate", stdout);

    let (code, stdout, stderr) = run(d, &["plan", "--format", "json", "c.yaml"]);
    assert_ne!(code, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("+234"), "nobody is planned: {stdout}");

    let (code, stdout, stderr) = run(d, &["apply", "--mock", "--yes", "c.yaml"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(!stdout.contains("sent"), "nothing is sent: {stdout}");
    // The entries are named by their row, never by their text (it may be a number).
    let (_, said, _) = run(d, &["validate", "--format", "json", "c.yaml"]);
    assert!(said.contains("row 2") && said.contains("row 3"), "{said}");
    assert!(
        !said.contains("Ada Obi") && !said.contains("Tunde"),
        "{said}"
    );

    // The campaign may accept a known number of bad entries: then it is planned.
    let accepted = format!("{exclude}\n    allow_invalid: 2");
    write(d, "c.yaml", &campaign(&accepted));
    let (code, stdout, _) = run(d, &["validate", "--color", "never", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, stderr) = run(d, &["plan", "--format", "json", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 2, "{stdout}");
}

/// Rows 2 and 3 share a number and row 2 lacks a value its template needs: row 3 is called,
/// and no skip message says a skipped row is "called instead".
#[test]
fn a_duplicate_is_called_when_the_first_row_of_its_number_cannot_be() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone\n,08031234567\nAda,0803 123 4567\nBola,08031234567\n",
    );
    write(d, "c.yaml", &campaign(""));
    let (code, stdout, stderr) = run(d, &["plan", "--format", "json", "--unmask", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 1, "{stdout}");
    assert_eq!(
        doc["sample"][0]["row"], 3,
        "Ada, the first row that can be called: {stdout}"
    );
    let (_, text, _) = run(d, &["plan", "--color", "never", "c.yaml"]);
    insta::assert_snapshot!("duplicate-of-a-skipped-row", text);
}

/// Numbers pasted from other systems: digits of any script are digits and invisible marks are
/// dropped, in patient and opt-out lists alike, so the same person is one number everywhere;
/// what still cannot be read names the character at fault.
#[test]
fn pasted_numbers_are_one_number_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone\nAda,\u{200b}08031234567\nAda again,０８０３１２３４５６７\nBola,\u{200f}08051234567\u{200e}\nChi,0803☎1234567\n",
    );
    write(d, "opt-outs.csv", "phone\n٠٨٠٥١٢٣٤٥٦٧\n");
    let exclude = "exclude:\n  - file: opt-outs.csv\n    default_country: NG";
    write(d, "c.yaml", &campaign(exclude));
    let (code, stdout, stderr) = run(d, &["plan", "--format", "json", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        doc["summary"]["calls"], 1,
        "Ada once; Bola opted out: {stdout}"
    );
    let (_, text, _) = run(d, &["plan", "--color", "never", "c.yaml"]);
    insta::assert_snapshot!("pasted-numbers", text);
}
