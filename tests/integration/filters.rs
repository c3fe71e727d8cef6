//! Issue 19: `where:` row filters on the plan's date (across midnight and a DST change, in
//! the campaign's zone), validated against each source's columns with located type errors,
//! and a `round` rendered per row so that a campaign run every day with a filter reminds each
//! patient once per visit.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::apply::text;
use crate::outreach;

/// A campaign in a temp dir: `patients` is the CSV (`id,phone,next_visit`), `extra` YAML
/// lines put at the top level.
fn campaign(dir: &Path, zone: &str, patients: &str, extra: &str) -> PathBuf {
    std::fs::write(dir.join("patients.csv"), patients).unwrap();
    let yaml = format!(
        r#"version: 1
name: filter-test
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{{{id}}}}"
schedule:
  timezone: {zone}
  windows: [{{days: [every_day], from: "00:00", until: "24:00"}}]
{extra}"#
    );
    let path = dir.join("campaign.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// `plan --format json --unmask` with the clock at `now`: the patients called (by id, from
/// the plan's sample, which holds them all here), and the summary.
fn plan_at(path: &Path, now: &str) -> (Vec<String>, Value) {
    let out = outreach()
        .env("OUTREACH_FAKE_NOW", now)
        .args(["plan", "--format", "json", "--unmask"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = plan["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["variables"]["name"].as_str().unwrap().to_owned())
        .collect();
    // Rows a filter leaves out are counted, never listed one by one.
    if let Some(out) = plan["skipped"].get("filtered-out") {
        assert_eq!(out["examples"], serde_json::json!([]), "{plan:#}");
    }
    (ids, plan["summary"].clone())
}

const VISITS: &str = "id,phone,next_visit\n\
    P0,08031000000,2027-03-30\n\
    P1,08031000001,2027-03-31\n\
    P2,08031000002,31/03/2027\n";

#[test]
fn today_is_the_plans_date_in_the_campaigns_zone_across_midnight() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(
        dir.path(),
        "America/New_York",
        VISITS,
        "where: next_visit == today\ndates: {order: dmy}\n",
    );
    // 03:59 UTC is 23:59 on the 30th in New York (EDT, UTC-4); 04:01 is a minute past its
    // midnight. UTC's date is the 31st both times.
    let (before, summary) = plan_at(&path, "2027-03-31T03:59:00Z");
    assert_eq!(before, ["P0"]);
    assert_eq!(summary["skipped_by_reason"]["filtered-out"], 2, "{summary}");
    let (after, _) = plan_at(&path, "2027-03-31T04:01:00Z");
    assert_eq!(
        after,
        ["P1", "P2"],
        "the 31st, read as the campaign's dates: say"
    );
}

#[test]
fn a_day_ahead_is_a_calendar_day_across_a_dst_change() {
    let dir = tempfile::tempdir().unwrap();
    let patients = "id,phone,next_visit\n\
        P0,08031000000,2027-03-14\n\
        P1,08031000001,2027-03-15\n";
    let path = campaign(
        dir.path(),
        "America/New_York",
        patients,
        "where: next_visit == today + 1d\n",
    );
    // 23:30 EST on Saturday 13 March 2027; New York springs forward that night at 02:00, so
    // 24 hours later it is 00:30 on the 15th. The next calendar day is the 14th.
    let (ids, _) = plan_at(&path, "2027-03-14T04:30:00Z");
    assert_eq!(ids, ["P0"]);
    // London's clocks go forward on 28 March 2027: the same holds there.
    let path = campaign(
        dir.path(),
        "Europe/London",
        "id,phone,next_visit\nP0,08031000000,2027-03-28\nP1,08031000001,2027-03-29\n",
        "where: next_visit between today and today + 1d\n",
    );
    let (ids, _) = plan_at(&path, "2027-03-27T23:30:00Z");
    assert_eq!(ids, ["P0"]);
}

#[test]
fn a_cell_that_is_not_a_date_is_left_out_with_its_reason_never_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let patients = "id,phone,next_visit\n\
        P0,08031000000,03/04/2027\n\
        P1,08031000001,\n\
        P2,08031000002,2027-04-03\n";
    // Without `dates:`, 03/04/2027 could be March or April; `not` would let a guess through.
    let path = campaign(
        dir.path(),
        "Africa/Lagos",
        patients,
        "where: not (next_visit < today)\n",
    );
    let (ids, summary) = plan_at(&path, "2027-03-01T10:00:00Z");
    assert_eq!(ids, ["P2"]);
    assert_eq!(
        summary["skipped_by_reason"]["filter-unreadable"], 2,
        "{summary}"
    );
    let out = outreach()
        .env("OUTREACH_FAKE_NOW", "2027-03-01T10:00:00Z")
        .arg("plan")
        .arg(&path)
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(shown.contains("cannot test this row"), "{shown}");
    assert!(
        !shown.contains("03/04/2027"),
        "the cell is not repeated: {shown}"
    );
}

#[test]
fn validate_reports_a_column_missing_in_one_source_and_a_type_error_with_its_span() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(dir.path(), "Africa/Lagos", VISITS, "");
    let yaml = std::fs::read_to_string(&path).unwrap().replace(
        "    default_country: NG\n",
        "    default_country: NG\n  - inline: [{phone: \"08031000009\", id: P9}]\n    default_country: NG\n    where: 'id == \"P9\" or clinic > 5'\n",
    ) + "where: next_visit >= today and status == 'active'\n";
    std::fs::write(&path, &yaml).unwrap();
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json["files"][0]["diagnostics"].as_array().unwrap();
    let missing: Vec<(String, String)> = diags
        .iter()
        .filter(|d| d["code"] == "source-missing-column")
        .map(|d| {
            (
                d["pointer"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The file lacks `status`; the inline source lacks `next_visit` and `status` (the
    // campaign's filter) and `clinic` (its own).
    let says = |ptr: &str, col: &str, source: &str| {
        missing
            .iter()
            .any(|(p, m)| p == ptr && m.contains(&format!("`{col}`")) && m.contains(source))
    };
    assert!(says("/where", "status", "patients.csv"), "{missing:?}");
    assert!(
        !missing
            .iter()
            .any(|(_, m)| m.contains("patients.csv") && m.contains("`next_visit`"))
    );
    assert!(
        says("/where", "next_visit", "patient source 2"),
        "{missing:?}"
    );
    assert!(says("/where", "status", "patient source 2"), "{missing:?}");
    assert!(
        says("/patients/1/where", "clinic", "patient source 2"),
        "{missing:?}"
    );
    assert_eq!(missing.len(), 4, "{missing:?}");

    // A `round` template's columns are checked like a variable's, in every source.
    let rounds = yaml.replace("version: 1\n", "version: 1\nround: \"visit-{{ward}}\"\n");
    std::fs::write(&path, &rounds).unwrap();
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ward = json["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["pointer"] == "/round" && d["code"] == "source-missing-column")
        .count();
    assert_eq!(ward, 2, "{json:#}");
    std::fs::write(&path, rounds.replace("{{ward}}", "{{wat ward}}")).unwrap();
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unknown = json["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["pointer"] == "/round" && d["code"] == "template-unknown-helper");
    assert!(unknown, "{json:#}");

    // `clinic > 5` reads `clinic` as a number; a date compared with a number is an error.
    let typed = yaml.replace("clinic > 5", "today > 5");
    std::fs::write(&path, &typed).unwrap();
    let out = outreach()
        .args(["validate", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json["files"][0]["diagnostics"].as_array().unwrap();
    let d = diags
        .iter()
        .find(|d| d["code"] == "filter-type")
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert_eq!(d["pointer"], "/patients/1/where");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("a date with a number"),
        "{d}"
    );
    let line = typed.lines().position(|l| l.contains("today > 5")).unwrap() + 1;
    let column = typed
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("today > 5")
        .unwrap()
        + 1;
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(line as u64), Some(column as u64)),
        "the span of `today > 5` inside the YAML string: {d}"
    );
}

#[test]
fn a_plan_saved_before_midnight_is_applied_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = campaign(
        dir.path(),
        "America/New_York",
        VISITS,
        // A round per row: apply's check of the saved plan makes its keys again from the rows.
        "round: \"visit-{{next_visit}}\"\nwhere: next_visit == today\n",
    );
    let saved = dir.path().join("plan.json");
    let out = outreach()
        .env("OUTREACH_FAKE_NOW", "2027-03-31T03:59:00Z")
        .args(["plan", "--out"])
        .arg(&saved)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(doc["today"], "2027-03-30");
    // Applied two minutes later, on the 31st in New York: verified as made on the 30th.
    let out = outreach()
        .env("OUTREACH_FAKE_NOW", "2027-03-31T04:01:00Z")
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--json",
            "--mock",
            "--state",
        ])
        .arg(dir.path().join("state.db"))
        .arg(&saved)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["accepted"], 1, "{summary:#}");
}

/// A daily reminder: `where:` picks the visits of the next two days, `round` is the visit,
/// and the campaign runs once a day on the same ledger. Each patient is called once per
/// visit: P0 on the first two days (one visit), again after its visit moves; P1 once.
#[test]
fn a_daily_campaign_calls_each_patient_once_per_visit() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "round: \"visit-{{date next_visit '%Y-%m-%d'}}\"\n\
        where: next_visit is not empty and next_visit between today and today + 2d\n";
    let patients = "id,phone,next_visit\n\
        P0,08031000000,2027-03-27\n\
        P1,08031000001,29 Mar 2027\n\
        P2,08031000002,2027-04-20\n\
        P3,08031000003,\n";
    let path = campaign(dir.path(), "Europe/London", patients, extra);
    let state = dir.path().join("state.db");
    let run = |day: &str| -> Vec<String> {
        let out = outreach()
            .env("OUTREACH_FAKE_NOW", format!("{day}T10:00:00Z"))
            .args([
                "apply",
                "--yes",
                "--no-follow",
                "--json",
                "--mock",
                "--state",
            ])
            .arg(&state)
            .arg(&path)
            .args(if state.exists() {
                vec![]
            } else {
                vec!["--new-ledger"]
            })
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{day}: {}", text(&out));
        let out = outreach()
            .env("OUTREACH_FAKE_NOW", format!("{day}T11:00:00Z"))
            .args(["plan", "--format", "json", "--mock", "--state"])
            .arg(&state)
            .arg(&path)
            .output()
            .unwrap();
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            plan["summary"]["calls"], 0,
            "{day}: everything due was placed"
        );
        let already = plan["summary"]["skipped_by_reason"]["already-called"]
            .as_u64()
            .unwrap_or(0);
        vec![day.to_owned(), already.to_string()]
    };
    // The ledger's record of every call, by number: from `report` (the mock is restarted on
    // each run; the ledger is the record).
    let attempts = || -> u64 {
        let out = outreach()
            .args(["report", "--format", "json", "--mock", "--state"])
            .arg(&state)
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["attempts"].as_u64().unwrap()
    };
    assert_eq!(run("2027-03-26"), ["2027-03-26", "1"], "P0 called");
    assert_eq!(attempts(), 1);
    assert_eq!(
        run("2027-03-27"),
        ["2027-03-27", "2"],
        "P0 not again, P1 called"
    );
    assert_eq!(attempts(), 2);
    // London's clocks go forward this night: the window is still three calendar days.
    assert_eq!(
        run("2027-03-28"),
        ["2027-03-28", "1"],
        "P1 only in the window, called already"
    );
    assert_eq!(attempts(), 2);
    // P0's next visit: a new round for P0 alone.
    let moved = patients.replace("2027-03-27", "2027-03-31");
    std::fs::write(dir.path().join("patients.csv"), moved).unwrap();
    assert_eq!(
        run("2027-03-29"),
        ["2027-03-29", "2"],
        "P0's new visit called, P1 not again"
    );
    assert_eq!(attempts(), 3);
    assert_eq!(run("2027-03-30"), ["2027-03-30", "1"]);
    assert_eq!(
        attempts(),
        3,
        "three calls in five days: one per patient and visit"
    );
}
