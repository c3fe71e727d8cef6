//! Issue 19: `plan --list skipped` writes every skipped row (no cap of five per reason), in
//! row order, with its reason and the value at fault, for the clinic to fix; as CSV, XLSX
//! and JSON, owner-only, phone numbers masked unless `--unmask`.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader as _};
use rust_xlsxwriter::Workbook;
use serde_json::Value;

use crate::apply::text;
use crate::outreach;

const INJECTION: &str = "=HYPERLINK(\"http://evil.example\",\"call\")";

/// A campaign with a CSV and a spreadsheet source, an opt-out list and a filter, whose rows
/// are each skipped for another reason (and one called).
fn campaign(dir: &Path) -> PathBuf {
    let csv = format!(
        "name,phone,keep\n\
         Ada,08031234567,yes\n\
         Bayo,not-a-number,yes\n\
         Chi,08031234567,yes\n\
         Dayo,08059999999,yes\n\
         Ebi,08031111111,no\n\
         ,08032222222,yes\n\
         Femi,\"{}\",yes\n",
        INJECTION.replace('"', "\"\"")
    );
    std::fs::write(dir.join("patients.csv"), csv).unwrap();
    std::fs::write(dir.join("opt-outs.csv"), "phone\n08059999999\n").unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "name").unwrap();
    sheet.write_string(0, 1, "phone").unwrap();
    sheet.write_string(1, 0, "Gbenga").unwrap();
    sheet.write_number(1, 1, 8_031_234_568.0).unwrap();
    sheet.write_string(2, 0, "Hauwa").unwrap();
    sheet.write_string(2, 1, "08033333333").unwrap();
    book.save(dir.join("register.xlsx")).unwrap();
    let yaml = r#"version: 1
name: skipped-list
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
    where: keep == "yes"
  - file: register.xlsx
    default_country: NG
exclude:
  - file: opt-outs.csv
    phone_column: phone
    default_country: NG
variables:
  name: "{{name}}"
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "00:00", until: "24:00"}]
"#;
    let path = dir.join("campaign.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Every skipped row: source, row, reason, column, the phone cell as written (unmasked).
fn expected() -> Vec<(&'static str, i64, &'static str, &'static str, &'static str)> {
    vec![
        ("patients.csv", 3, "invalid-phone", "phone", "not-a-number"),
        ("patients.csv", 4, "duplicate", "phone", "08031234567"),
        ("patients.csv", 5, "opted-out", "phone", "08059999999"),
        ("patients.csv", 6, "filtered-out", "", ""),
        ("patients.csv", 7, "missing-value", "name", ""),
        ("patients.csv", 8, "invalid-phone", "phone", INJECTION),
        (
            "register.xlsx",
            2,
            "phone-stored-as-number",
            "phone",
            "8031234568",
        ),
    ]
}

/// The value as the list shows it: masked unless `unmask`.
fn shown(value: &str, unmask: bool) -> String {
    if value.is_empty() {
        String::new()
    } else {
        outreach::report::mask::phone(unmask, value)
    }
}

fn plan_list(path: &Path, args: &[&str]) -> std::process::Output {
    outreach()
        .args(["plan", "--list", "skipped"])
        .args(args)
        .arg(path)
        .output()
        .unwrap()
}

/// The CSV's cell as a spreadsheet would hold it after our inert prefix.
fn inert(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[test]
fn the_csv_lists_every_skipped_row_in_row_order_masked_and_unmasked() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path());
    for unmask in [false, true] {
        let args: &[&str] = if unmask { &["--unmask"] } else { &[] };
        let out = plan_list(&path, args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        assert_eq!(
            reader.headers().unwrap(),
            vec![
                "source",
                "row",
                "reason",
                "reason_words",
                "column",
                "value",
                "detail"
            ]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r[0].to_owned(),
                    r[1].parse::<i64>().unwrap(),
                    r[2].to_owned(),
                    r[4].to_owned(),
                    r[5].to_owned(),
                )
            })
            .collect();
        let want: Vec<_> = expected()
            .into_iter()
            .map(|(s, row, reason, column, value)| {
                (
                    s.to_owned(),
                    row,
                    reason.to_owned(),
                    column.to_owned(),
                    inert(&shown(value, unmask)),
                )
            })
            .collect();
        assert_eq!(got, want, "unmask: {unmask}");
        // The words of each reason, and the row a duplicate or an opt-out matched.
        assert_eq!(&rows[1][3], "repeats of an earlier row");
        assert!(rows[1][6].contains("row 2"), "{:?}", &rows[1][6]);
        assert!(
            rows[2][6].contains("opt-out list opt-outs.csv"),
            "{:?}",
            &rows[2][6]
        );
        assert!(rows[3][6].contains("`where`"), "{:?}", &rows[3][6]);
        // Names are not listed: the row number and the phone find the row.
        let all = String::from_utf8(out.stdout.clone()).unwrap();
        for name in ["Bayo", "Chi", "Dayo", "Ebi", "Gbenga"] {
            assert!(!all.contains(name), "{name} in {all}");
        }
        if !unmask {
            assert!(!all.contains("08059999999"), "{all}");
        }
    }
}

#[test]
fn a_formula_in_a_cell_is_inert_in_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path());
    for args in [&["--unmask"][..], &[]] {
        let out = plan_list(&path, args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        for record in reader.records() {
            for cell in &record.unwrap() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell:?} would run in a spreadsheet"
                );
            }
        }
    }
}

#[test]
fn the_xlsx_holds_every_row_and_is_the_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path());
    let file = dir.path().join("skipped.xlsx");
    // The format follows the file's name.
    let out = plan_list(&path, &["--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("Wrote 7 skipped rows"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&file).unwrap();
    let range = book.worksheet_range("skipped").unwrap();
    let rows: Vec<_> = range.rows().skip(1).collect();
    assert_eq!(rows.len(), expected().len());
    for (row, (source, n, reason, column, value)) in rows.iter().zip(expected()) {
        let cell = |i: usize| match &row[i] {
            Data::String(s) => s.clone(),
            Data::Empty => String::new(),
            other => panic!("{other:?}"),
        };
        assert_eq!(cell(0), source);
        assert_eq!(row[1], Data::Float(f64::from(i32::try_from(n).unwrap())));
        assert_eq!(cell(2), reason);
        assert_eq!(cell(4), column);
        // Masked, and a string whatever it starts with (never a formula).
        assert_eq!(cell(5), shown(value, false));
    }
    let formulas = book.worksheet_formula("skipped").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    // No temporary file is left beside the list.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_json_list_is_one_document_with_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path());
    let out = plan_list(&path, &["--format", "json", "--unmask"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "outreach-list");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["list"], "skipped");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), expected().len());
    for (row, (source, n, reason, column, value)) in rows.iter().zip(expected()) {
        assert_eq!(row["source"], source);
        assert_eq!(row["row"], n);
        assert_eq!(row["reason"], reason);
        let or_null = |s: &str| {
            if s.is_empty() {
                Value::Null
            } else {
                Value::from(s)
            }
        };
        assert_eq!(row["column"], or_null(column), "{row}");
        assert_eq!(row["value"], or_null(value), "{row}");
    }
}

#[test]
fn every_row_is_listed_past_five_of_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let csv: String = std::iter::once("name,phone\n".to_owned())
        .chain((0..12).map(|i| format!("P{i},bad-{i}\n")))
        .collect();
    std::fs::write(dir.path().join("patients.csv"), csv).unwrap();
    let yaml = "version: 1\nname: many\nworkflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\npatients:\n  - file: patients.csv\n    default_country: NG\nvariables:\n  name: \"{{name}}\"\nschedule:\n  timezone: Africa/Lagos\n  windows: [{days: [every_day], from: \"00:00\", until: \"24:00\"}]\n";
    let path = dir.path().join("campaign.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = plan_list(&path, &["--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rows: Vec<i64> = csv::Reader::from_reader(out.stdout.as_slice())
        .records()
        .map(|r| r.unwrap()[1].parse().unwrap())
        .collect();
    assert_eq!(rows, (2..14).collect::<Vec<i64>>());
}

#[test]
fn contradictory_flags_are_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path());
    let plan = dir.path().join("plan.json");
    for (args, words) in [
        (&["plan", "--format", "csv"][..], "add --list skipped"),
        (&["plan", "--format", "xlsx"], "add --list skipped"),
        (
            &["plan", "--list", "skipped", "--format", "human"],
            "not --format human",
        ),
        (
            &["plan", "--list", "skipped", "--format", "markdown"],
            "not --format markdown",
        ),
        (
            &["plan", "--list", "skipped", "--format", "xlsx"],
            "--out FILE.xlsx",
        ),
        (&["plan", "--list", "skipped", "--strict"], "--strict"),
        (
            &[
                "plan",
                "--list",
                "skipped",
                "--compare",
                plan.to_str().unwrap(),
            ],
            "--compare",
        ),
        (&["plan", "--list", "everything"], "everything"),
    ] {
        let out = outreach().args(args).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(words), "{args:?}: {said}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // With --detailed-exitcode, bad flags are 1 (Terraform's rule).
    let out = outreach()
        .args(["plan", "--list", "skipped", "--detailed-exitcode"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!plan.exists());
}
