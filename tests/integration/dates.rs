//! Dates in patient files are read only when there is one way to read them (issue 15, case 3):
//! `15/1/27` once became "Tuesday 27 January 0015" and the call went out. A two-digit year, a
//! day and month that could be swapped, a date before 1900 or more than five years after the
//! plan's date are refused for their row, unless the campaign's `dates:` says how to read them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::{outreach, root};

/// The plan's date in these tests: 1 December 2026 (11:00 in Lagos).
const NOW: &str = "2026-12-01T10:00:00Z";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn campaign(file: &str, visit: &str, dates: &str) -> String {
    format!(
        r#"version: 1
name: dates
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: {file}
    default_country: NG
variables:
  name: "{{{{name}}}}"
  visit: "{visit}"
{dates}
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "08:00", until: "20:00"}}]
"#
    )
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = outreach()
        .current_dir(dir)
        .env("OUTREACH_FAKE_NOW", NOW)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The saved plan of `c.yaml`: each call's row and `visit`, and each skip's row and code.
fn planned(dir: &Path) -> (BTreeMap<u64, String>, BTreeMap<u64, (String, String)>) {
    let (_, stdout, stderr) = run(dir, &["plan", "c.yaml", "--out", "plan.json"]);
    let text = std::fs::read_to_string(dir.join("plan.json"))
        .unwrap_or_else(|_| panic!("no plan saved: {stdout}{stderr}"));
    let plan: Value = serde_json::from_str(&text).unwrap();
    let calls = plan["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["calls"].as_array().unwrap())
        .map(|c| {
            (
                c["row"].as_u64().unwrap(),
                c["entry"]["workflow_variables"]["visit"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let skips = plan["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["row"].as_u64().unwrap(),
                (
                    s["code"].as_str().unwrap().to_owned(),
                    s["reason"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    (calls, skips)
}

const PATIENTS: &str = "name,phone,visit
Ada,08031234567,15/1/27
Bola,08051234567,03/04/2027
Chi,08061234567,15-Jan-2027
Dayo,08071234567,15 Jan 2027
Efe,08081234567,15/01/2027 09:30
Femi,08091234567,2027-01-15T09:30:00
Gbenga,08021234567,2027-01-15T09:30:00+01:00
Halima,08101234567,0015-01-27
Ife,08111234567,2099-01-15
Jide,08121234567,46402
";

const FULL: &str = "{{date visit '%A %-d %B %Y'}}";

#[test]
fn a_date_that_could_be_read_two_ways_is_refused_for_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "patients.csv", PATIENTS);
    write(d, "c.yaml", &campaign("patients.csv", FULL, ""));

    let (calls, skips) = planned(d);
    let friday = "Friday 15 January 2027";
    assert_eq!(
        calls,
        (4..=8).map(|r| (r, friday.to_owned())).collect(),
        "the common forms are read: {skips:?}"
    );
    for row in [2, 3, 9, 10, 11] {
        assert_eq!(skips[&row].0, "template-error", "row {row}: {skips:?}");
    }
    assert!(
        skips.values().all(|(_, why)| !why.contains("0015")),
        "no year 15: {skips:?}"
    );
    let (code, text, _) = run(d, &["plan", "--color", "never", "c.yaml"]);
    assert_eq!(code, Some(0), "other rows are called: {text}");
    insta::assert_snapshot!("dates-refused-per-row", text);

    // The campaign says how to read them: day first, two-digit years in this century.
    let dates = "dates: {order: dmy, two_digit_years: 2000}";
    write(d, "c.yaml", &campaign("patients.csv", FULL, dates));
    let (code, stdout, _) = run(d, &["validate", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (calls, skips) = planned(d);
    assert_eq!(calls[&2], friday, "15/1/27 is 15 January 2027");
    assert_eq!(calls[&3], "Saturday 3 April 2027", "03/04/2027, day first");
    assert_eq!(calls.len(), 7, "{skips:?}");
    // What no setting makes a plausible date stays refused.
    let kept: Vec<u64> = skips.keys().copied().collect();
    assert_eq!(kept, [9, 10, 11], "{skips:?}");
    assert!(skips[&9].1.contains("before 1900"), "{skips:?}");
    assert!(skips[&10].1.contains("more than 5 years"), "{skips:?}");
    assert!(skips[&11].1.contains("excel_serial"), "{skips:?}");

    let dates = "dates: {order: mdy, two_digit_years: 2000}";
    write(d, "c.yaml", &campaign("patients.csv", FULL, dates));
    let (calls, skips) = planned(d);
    assert_eq!(calls[&3], "Thursday 4 March 2027", "month first");
    assert!(
        skips[&2].1.contains("no month 15"),
        "15/1/27 has no month 15 when month comes first: {skips:?}"
    );
}

/// A CSV exported from Excel writes a date cell as its number: in a column declared
/// `excel_serial` it is the date it stands for, time of day included.
#[test]
fn spreadsheet_date_numbers_in_a_declared_column_are_dates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone,Next Visit\nAda,08031234567,46402\nBola,08051234567,46403.375\nChi,08061234567,2027-01-17\n",
    );
    let visit = "{{date [Next Visit] '%A %-d %B %Y'}}";
    let dates = "dates:\n  columns:\n    Next Visit: excel_serial";
    write(d, "c.yaml", &campaign("patients.csv", visit, dates));
    let (code, stdout, _) = run(d, &["validate", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (calls, skips) = planned(d);
    assert!(skips.is_empty(), "{skips:?}");
    assert_eq!(calls[&2], "Friday 15 January 2027");
    assert_eq!(calls[&3], "Saturday 16 January 2027");
    assert_eq!(calls[&4], "Sunday 17 January 2027", "text dates too");

    let visit = "{{date [Next Visit] '%-d %B at %H:%M'}}";
    write(d, "c.yaml", &campaign("patients.csv", visit, dates));
    let (calls, skips) = planned(d);
    assert_eq!(calls[&3], "16 January at 09:00");
    // A time of day is never made up: a date without one is refused for that format.
    assert_eq!(skips[&2].0, "template-error", "{skips:?}");
    assert!(skips[&2].1.contains("has none"), "{skips:?}");
}

/// Spreadsheet date cells (a date, a date with a time) are read as the dates they show.
#[test]
fn spreadsheet_date_cells_are_dates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        root().join("tests/fixtures/dates/visits.xlsx"),
        d.join("visits.xlsx"),
    )
    .unwrap();
    write(d, "c.yaml", &campaign("visits.xlsx", FULL, ""));
    let (calls, skips) = planned(d);
    assert!(skips.is_empty(), "{skips:?}");
    assert_eq!(calls[&2], "Friday 15 January 2027");
    assert_eq!(calls[&3], "Saturday 16 January 2027");
}

/// `dates:` is checked like every other field, with its line and column.
#[test]
fn the_dates_setting_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "patients.csv", PATIENTS);
    let dates = "dates:\n  order: ydm\n  two_digit_years: 27\n  columns:\n    visit: serial";
    write(d, "c.yaml", &campaign("patients.csv", FULL, dates));
    let (code, stdout, _) = run(d, &["validate", "--color", "never", "c.yaml"]);
    assert_eq!(code, Some(1), "{stdout}");
    insta::assert_snapshot!("dates-setting-invalid", stdout);
}

/// Issue 15, case 4: `{{date d '%A %Q'}}` validated, then plan skipped every row and exited 0.
/// validate checks what it can without a row (each helper's arguments, a date format with the
/// formatter that writes it), with the line and column of the expression.
#[test]
fn helper_arguments_are_checked_by_validate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "patients.csv", PATIENTS);
    let variables = "{{date visit '%A %Q'}}\"\n  shout: \"{{upper}}\"\n  full: \"{{title name visit}}\"\n  clinic: \"{{default name}}";
    write(d, "c.yaml", &campaign("patients.csv", variables, ""));
    let (code, stdout, _) = run(d, &["validate", "--color", "never", "c.yaml"]);
    assert_eq!(code, Some(1), "{stdout}");
    insta::assert_snapshot!("helper-arguments-validate", stdout);
    let (_, json, _) = run(d, &["validate", "--format", "json", "c.yaml"]);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let found: Vec<(String, u64, u64)> = doc["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&("template-date-format".to_owned(), 9, 11)),
        "the expression itself: {found:?}"
    );
    let arity = found
        .iter()
        .filter(|(c, ..)| c == "template-helper-arguments")
        .count();
    assert_eq!(arity, 3, "{found:?}");
    // The same format checked the same way, never from a list of its own: a format that
    // renders passes.
    write(
        d,
        "c.yaml",
        &campaign("patients.csv", "{{date visit '%A %-d %B, %H:%M'}}", ""),
    );
    let (code, stdout, _) = run(d, &["validate", "c.yaml"]);
    assert_eq!(code, Some(0), "{stdout}");
}

/// The lines of a run's log that say why it failed.
fn errors(stderr: &str) -> String {
    stderr
        .lines()
        .filter_map(|l| l.split_once("error: ").map(|(_, e)| e))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A source none of whose rows a template can fill is a broken template, not "nothing to
/// call": plan exits 1 (with --detailed-exitcode too) and says why in one line. Rows left out
/// for their number (or an opt-out, a duplicate) are not the template's fault: exit 0.
#[test]
fn plan_fails_when_a_template_fills_no_row_of_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "patients.csv",
        "name,phone,visit\nAda,08031234567,15/1/27\nBola,08051234567,16/1/27\nChi,12345,2027-01-15\n",
    );
    write(d, "c.yaml", &campaign("patients.csv", FULL, ""));
    let (code, stdout, _) = run(d, &["validate", "c.yaml"]);
    assert_eq!(
        code,
        Some(0),
        "the template is fine, the dates are not: {stdout}"
    );
    let (code, stdout, stderr) = run(d, &["plan", "c.yaml", "--out", "plan.json"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(!d.join("plan.json").exists(), "no plan saved");
    insta::assert_snapshot!("every-row-unrendered", errors(&stderr));
    let (code, _, stderr) = run(d, &["plan", "c.yaml", "--detailed-exitcode"]);
    assert_eq!(code, Some(1), "{stderr}");

    // Every row lacks a value its template needs: the same.
    write(
        d,
        "patients.csv",
        "name,phone,visit\n,08031234567,2027-01-15\n,08051234567,2027-01-16\n",
    );
    let (code, _, stderr) = run(d, &["plan", "c.yaml"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        errors(&stderr).contains("every row of patients.csv was skipped"),
        "{stderr}"
    );

    // One row filled: the others are skipped with their reasons, and the plan stands.
    write(
        d,
        "patients.csv",
        "name,phone,visit\nAda,08031234567,15/1/27\nBola,08051234567,2027-01-16\n",
    );
    let (code, _, stderr) = run(d, &["plan", "c.yaml", "--detailed-exitcode"]);
    assert_eq!(code, Some(2), "a call pending: {stderr}");

    // No row has a number to call: nothing to call, not a template's fault.
    write(
        d,
        "patients.csv",
        "name,phone,visit\nAda,12345,15/1/27\nBola,,2027-01-16\n",
    );
    let (code, _, stderr) = run(d, &["plan", "c.yaml", "--detailed-exitcode"]);
    assert_eq!(code, Some(0), "{stderr}");
}
