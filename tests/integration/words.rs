//! Words instead of codes in what people read (issue 16): the report's table and page, and
//! the printed plan, say what each figure is in words and units; reason codes and snake_case
//! names stay in JSON and CSV, for machines.

use std::path::Path;

use crate::outreach;

const CAMPAIGN: &str = "campaigns/measles-reminder.yaml";

/// A moment inside the example's calling window: the times the output shows are the same on
/// every run (the clock starts there and runs at the real rate).
const NOW: &str = "2026-12-01T09:00:00Z";

/// Codes and field names a human format must not print.
const CODES: [&str; 14] = [
    "country-not-allowed",
    "invalid-phone",
    "opted-out",
    "not-a-phone-line",
    "missing-value",
    "skipped_",
    "opted_out",
    "no_answer",
    "in_doubt",
    "not_sent",
    "patients_called",
    "average_duration",
    "success_rate",
    "n/a",
];

/// Runs outreach at [`NOW`] with the ledger `state`; returns standard output.
fn run(args: &[&str], state: &Path) -> String {
    let out = outreach()
        .env("OUTREACH_FAKE_NOW", NOW)
        .args(args)
        .arg("--state")
        .arg(state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn assert_no_codes(what: &str, text: &str) {
    for code in CODES {
        assert!(!text.contains(code), "{what} prints `{code}`:\n{text}");
    }
}

fn snapshot(name: &str, description: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        description => description,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// The example applied to the mock: the table says each figure in words, with units, the
/// campaign's description and times as people read them; the CSV and JSON keep the codes.
#[test]
fn the_report_table_speaks_in_words_and_units() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    run(&["apply", CAMPAIGN, "--mock"], &state);
    let table = run(&["report", CAMPAIGN, "--mock"], &state);
    assert_no_codes("report", &table);
    for words in [
        "Second-dose measles reminders for children registered in Lagos clinics",
        "from Tue 1 Dec 10:00 WAT to Tue 1 Dec 10:0",
        "    numbers from a country not allowed ",
        "    numbers on an opt-out list ",
        "  average call ",
    ] {
        assert!(table.contains(words), "no {words:?} in:\n{table}");
    }
    assert_eq!(
        table.matches("opt-out list").count(),
        1,
        "opt-outs counted once: {table}"
    );
    let rate = table
        .lines()
        .find(|l| l.trim_start().starts_with("success rate"))
        .unwrap();
    assert!(rate.ends_with(" %"), "{rate}");
    snapshot(
        "report-measles-reminder-table",
        "outreach apply campaigns/measles-reminder.yaml --mock, then outreach report campaigns/measles-reminder.yaml --mock",
        &table,
    );

    let csv = run(&["report", CAMPAIGN, "--mock", "--format", "csv"], &state);
    for code in [
        ",skipped_country-not-allowed,1",
        ",opted_out,1",
        ",average_duration_seconds,",
    ] {
        assert!(csv.contains(code), "the CSV keeps {code}: {csv}");
    }
    let json: serde_json::Value = serde_json::from_str(&run(
        &["report", CAMPAIGN, "--mock", "--format", "json"],
        &state,
    ))
    .unwrap();
    assert_eq!(json["plan"]["skipped_by_reason"]["country-not-allowed"], 1);
    assert_eq!(
        json["description"],
        "Second-dose measles reminders for children registered in Lagos clinics"
    );
}

/// Before any outcome is known, the table and the page say so in words, not `n/a`.
#[test]
fn figures_not_known_yet_are_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    run(&["apply", CAMPAIGN, "--mock", "--no-follow"], &state);
    let table = run(&["report", CAMPAIGN, "--mock"], &state);
    assert_no_codes("report", &table);
    snapshot(
        "report-measles-reminder-pending-table",
        "outreach apply campaigns/measles-reminder.yaml --mock --no-follow, then outreach report campaigns/measles-reminder.yaml --mock",
        &table,
    );
    let page = run(&["report", CAMPAIGN, "--mock", "--format", "html"], &state);
    assert!(!page.contains("n/a"), "{page}");
    assert_eq!(page.matches("no calls answered yet").count(), 2, "{page}");
    assert!(
        page.contains(">pending</td>"),
        "open calls in words: {page}"
    );
}

/// The page names the campaign's purpose, and each reason rows were skipped for in words.
#[test]
fn the_report_page_shows_the_description_and_reasons_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    run(&["apply", CAMPAIGN, "--mock"], &state);
    let page = run(&["report", CAMPAIGN, "--mock", "--format", "html"], &state);
    assert!(
        page.contains(
            "<p class=\"description\" data-measure=\"/description\">Second-dose measles reminders for children registered in Lagos clinics</p>"
        ),
        "{page}"
    );
    for words in [
        ">numbers from a country not allowed</th>",
        ">numbers that are not valid</th>",
        ">repeats of an earlier row</th>",
        ">unanswered</span>",
        "</span> s</li>",
    ] {
        assert!(page.contains(words), "no {words:?} in the page");
    }
    assert!(!page.contains("n/a"), "{page}");
}

/// The printed plan's skipped rows are grouped under words; the JSON summary keeps the codes.
#[test]
fn the_printed_plan_names_skip_reasons_in_words() {
    for format in ["human", "markdown"] {
        let out = outreach()
            .args(["plan", CAMPAIGN, "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_no_codes(format, &text);
        for words in [
            "numbers from a country not allowed",
            "repeats of an earlier row",
            "numbers that are not valid",
            "numbers on an opt-out list",
        ] {
            assert!(text.contains(words), "{format}: no {words:?} in:\n{text}");
        }
    }
    let out = outreach()
        .args(["plan", CAMPAIGN, "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["skipped"]["country-not-allowed"]["count"], 1);
}
