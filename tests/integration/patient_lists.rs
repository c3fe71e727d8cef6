//! `report --list KIND` (issue 19): one row per patient from the ledger. Acceptance: after an
//! apply against the mock, followed to the end, `--list unreached --unmask` holds, number for
//! number, the patients none of whose calls the mock shows as answered.

use std::collections::BTreeSet;

use calamine::Reader as _;
use serde_json::Value;

use crate::apply::{Campaign, Mock, apply, text};
use crate::on_both_backends;
use crate::outreach;
use crate::report_by::clinic_campaign;

fn list(c: &Campaign, flags: &[&str]) -> std::process::Output {
    outreach()
        .args(["report", "--state"])
        .arg(c.state())
        .arg(&c.path)
        .args(flags)
        .output()
        .unwrap()
}

fn rows(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", text(out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "outreach-list");
    doc["rows"].as_array().unwrap().clone()
}

fn phones(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["phone"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    fn the_unreached_are_the_numbers_the_mock_never_answered() {
        let mock = Mock::with_outcomes(&serde_json::json!({"answered": 1, "no_answer": 1, "failed": 1}));
        let c = clinic_campaign();
        let out = apply(&c, &mock.url, &[]);
        assert!(out.status.code().is_some_and(|code| code <= 1), "{}", text(&out));

        // What the mock says: every number, and those with an answered call.
        let calls = mock.get("/__mock/calls?limit=100000");
        let calls = calls["data"]["calls"].as_array().unwrap();
        let all: BTreeSet<String> = calls
            .iter()
            .map(|c| c["phone_number"].as_str().unwrap().to_owned())
            .collect();
        let answered: BTreeSet<String> = calls
            .iter()
            .filter(|c| c["processing_status"] == "VOICE_CALL_PROCESSED")
            .map(|c| c["phone_number"].as_str().unwrap().to_owned())
            .collect();
        assert!(!answered.is_empty() && answered.len() < all.len(), "the mock's mix: {calls:?}");
        let never: BTreeSet<String> = all.difference(&answered).cloned().collect();

        let unreached = rows(&list(&c, &["--list", "unreached", "--unmask", "--format", "json"]));
        assert_eq!(phones(&unreached), never);
        let got = rows(&list(&c, &["--list", "answered", "--unmask", "--format", "json"]));
        assert_eq!(phones(&got), answered);
        // Each row: where it came from, its list columns as recorded, its last state.
        for r in &unreached {
            assert_eq!(r["source"], "patients.csv");
            assert!(r["row"].as_u64().is_some_and(|n| n >= 2), "{r}");
            assert!(r["ward"].as_str().is_some_and(|w| w.starts_with('W')), "{r}");
            assert!(["failed", "no_answer"].contains(&r["state"].as_str().unwrap()), "{r}");
            assert_eq!(r["attempts"], 1);
            assert!(r["last_call"].as_str().unwrap().ends_with("+01:00"), "in the campaign's zone: {r}");
        }
        // Masked unless --unmask.
        let masked = rows(&list(&c, &["--list", "unreached", "--format", "json"]));
        assert_eq!(masked.len(), unreached.len());
        assert!(masked.iter().all(|r| r["phone"].as_str().unwrap().contains('*')), "{masked:?}");

        // A file: owner-only, CSV by default, XLSX by its name.
        let csv = c.dir.path().join("unreached.csv");
        let out = list(&c, &["--list", "unreached", "--out", csv.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&csv).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let written = std::fs::read_to_string(&csv).unwrap();
        assert!(written.starts_with("source,row,clinic,ward,phone,state,attempts,last_call,reply\n"), "{written}");
        assert_eq!(written.lines().count(), unreached.len() + 1);
        let xlsx = c.dir.path().join("unreached.xlsx");
        let out = list(&c, &["--list", "unreached", "--out", xlsx.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
        let range = book.worksheet_range("unreached").unwrap();
        assert_eq!(range.height(), unreached.len() + 1);
    }
}

#[test]
fn a_list_with_the_reports_formats_or_by_is_refused_in_words() {
    let c = clinic_campaign();
    for (flags, says) in [
        (
            &["--list", "failed", "--format", "html"][..],
            "not --format html",
        ),
        (
            &["--list", "failed", "--format", "xlsx"][..],
            "--out FILE.xlsx",
        ),
        (&["--format", "xlsx"][..], "add --list KIND"),
        (
            &["--list", "failed", "--by", "clinic"][..],
            "--list writes a list of patients",
        ),
    ] {
        let out = list(&c, flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{flags:?}: {}", text(&out));
    }
}

#[test]
fn the_skipped_list_of_report_is_the_plans() {
    let c = clinic_campaign();
    let csv = c.dir.path().join("patients.csv");
    let mut rows = std::fs::read_to_string(&csv).unwrap();
    rows.push_str("X1,Bad,12345,Gwale PHC,W1\n");
    std::fs::write(&csv, rows).unwrap();
    let out = list(&c, &["--list", "skipped"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan = outreach()
        .args(["plan", "--list", "skipped"])
        .arg(&c.path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&plan.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("invalid-phone"));
}

on_both_backends! {
    // A patient whose retry would come after the campaign's `not_after` is not called again:
    // the list names them unreached once the schedule is over, not while it still runs.
    fn a_retry_the_schedule_leaves_no_time_for_is_unreached() {
        let mock = Mock::with_outcomes(&serde_json::json!({"no_answer": 1}));
        let c = crate::apply::campaign(3, "delivery:\n  retry: {attempts: 2, delay: 1h, outcomes: [no_answer]}\n");
        let yaml = std::fs::read_to_string(&c.path).unwrap().replace(
            "  windows: [{days: [every_day], from: \"00:00\", until: \"24:00\"}]\n",
            "  windows: [{days: [every_day], from: \"00:00\", until: \"24:00\"}]\n  not_after: 2099-06-30\n",
        );
        assert!(yaml.contains("not_after"), "{yaml}");
        std::fs::write(&c.path, yaml).unwrap();
        let out = apply(&c, &mock.url, &[]);
        assert!(out.status.code().is_some_and(|code| code <= 1), "{}", text(&out));
        let flags = ["--list", "unreached", "--unmask", "--format", "json"];
        // The retry is still to come: nobody is unreached yet.
        assert!(rows(&list(&c, &flags)).is_empty());
        // After `not_after`, no window opens for it: all three are.
        let after = outreach()
            .env("OUTREACH_FAKE_NOW", "2099-07-15T10:00:00Z")
            .args(["report", "--state"])
            .arg(c.state())
            .arg(&c.path)
            .args(flags)
            .output()
            .unwrap();
        let listed = rows(&after);
        assert_eq!(phones(&listed), c.numbers.iter().cloned().collect());
    }
}
