//! `report --by COLUMN` (issue 19): the patients broken down by a column of the campaign's
//! `list_columns:`, as recorded with each call at write-ahead, in every format; the groups
//! sum to the totals, and a column the campaign does not keep is refused in words.

use std::fmt::Write as _;

use serde_json::Value;

use crate::apply::{Campaign, Mock, apply, text};
use crate::on_both_backends;
use crate::outreach;

/// Patients at three clinics (one row with none), their campaign keeping `clinic` and
/// `ward` with each call.
pub(crate) fn clinic_campaign() -> Campaign {
    // The test campaign's folder and ledger, its patients and campaign file written over.
    let mut c = crate::apply::campaign(0, "");
    let dir = &c.dir;
    let clinics = [
        "Gwale PHC",
        "Gwale PHC",
        "Dala PHC",
        "",
        "=HYPERLINK(\"x\")",
    ];
    let mut csv = String::from("id,name,phone,clinic,ward\n");
    let mut numbers = Vec::new();
    for i in 0..10 {
        let local = format!("0803{:07}", 3_000_000 + i);
        let clinic = clinics[i % clinics.len()].replace('"', "\"\"");
        writeln!(csv, "P{i},Patient {i},{local},\"{clinic}\",W{}", i % 2).unwrap();
        numbers.push(format!("+234{}", &local[1..]));
    }
    std::fs::write(dir.path().join("patients.csv"), csv).unwrap();
    let yaml = r#"version: 1
name: by-clinic
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice: {accent: hausa, gender: female}
round: "t1"
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{name}}"
list_columns: [clinic, ward]
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "00:00", until: "24:00"}]
delivery: {batch_size: 4, requests_per_second: 50}
"#;
    std::fs::write(&c.path, yaml).unwrap();
    c.numbers = numbers;
    c
}

fn report(c: &Campaign, flags: &[&str]) -> std::process::Output {
    outreach()
        .arg("report")
        .args(flags)
        .arg("--state")
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", text(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

on_both_backends! {
    fn the_patients_by_a_list_column_sum_to_the_totals_in_every_format() {
        let mock = Mock::with_outcomes(&serde_json::json!({"answered": 1, "no_answer": 1}));
        let c = clinic_campaign();
        let out = apply(&c, &mock.url, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));

        let doc: Value =
            serde_json::from_str(&stdout(&report(&c, &["--format", "json", "--by", "clinic", "--by", "ward"])))
                .unwrap();
        let by = doc["by_column"].as_array().unwrap();
        assert_eq!(by.len(), 2);
        assert_eq!(by[0]["column"], "clinic");
        assert_eq!(by[1]["column"], "ward");
        for breakdown in by {
            let groups = breakdown["groups"].as_array().unwrap();
            let sum = |field: &str| groups.iter().map(|g| g[field].as_u64().unwrap()).sum::<u64>();
            assert_eq!(sum("total"), 10, "{breakdown}");
            assert_eq!(Value::from(sum("answered")), doc["answered"], "{breakdown}");
            assert_eq!(Value::from(sum("no_answer")), doc["no_answer"], "{breakdown}");
        }
        let clinic: Vec<(Value, u64)> = by[0]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["value"].clone(), g["total"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            clinic,
            [
                (Value::from(""), 2),
                (Value::from("=HYPERLINK(\"x\")"), 2),
                (Value::from("Dala PHC"), 2),
                (Value::from("Gwale PHC"), 4),
            ]
        );

        // The table: a section per column, the blank value in words.
        let table = stdout(&report(&c, &["--by", "clinic"]));
        assert!(table.contains("Outcomes by clinic"), "{table}");
        assert!(table.contains("(empty)"), "{table}");
        assert!(table.contains("Gwale PHC"), "{table}");

        // CSV: a measure per group and state, keyed by the value.
        let csv = stdout(&report(&c, &["--format", "csv", "--by", "clinic"]));
        assert!(csv.contains(",by_column.clinic.Gwale PHC.total,4"), "{csv}");
        assert!(csv.contains(",by_column.clinic.Dala PHC.answered,"), "{csv}");
        // No line of the CSV starts a cell with a formula: the value sits inside the measure.
        assert!(!csv.lines().any(|l| l.split(',').any(|cell| cell.starts_with('='))), "{csv}");

        // Without --by, the document has no breakdown by column.
        let plain: Value = serde_json::from_str(&stdout(&report(&c, &["--format", "json"]))).unwrap();
        assert!(plain.get("by_column").is_none(), "{plain}");
    }
}

#[test]
fn a_column_the_campaign_does_not_keep_is_refused_in_words() {
    let c = clinic_campaign();
    for (column, says) in [
        (
            "name",
            "not one of the campaign's list_columns (clinic, ward)",
        ),
        (
            "phone",
            "not one of the campaign's list_columns (clinic, ward)",
        ),
    ] {
        let out = report(&c, &["--by", column]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
    }
}
