//! `plan --compare`: every setting that changes who is called, what they hear, in which voice
//! and when is reported as a change (issue 15, case 5), and `--detailed-exitcode` says 2 when
//! anything differs from the base plan.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::outreach;

/// The example campaign and its patient files, copied to a temporary folder.
pub(crate) fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = crate::root().join("campaigns");
    std::fs::create_dir(dir.path().join("patients")).unwrap();
    for f in [
        "measles-reminder.yaml",
        "patients/lagos-measles.csv",
        "patients/opt-outs.csv",
    ] {
        std::fs::copy(from.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// `outreach plan` in `dir` (no ledger there), with the clock at a fixed moment.
pub(crate) fn plan_in(dir: &Path, args: &[&str]) -> Output {
    outreach()
        .current_dir(dir)
        .env("OUTREACH_FAKE_NOW", "2026-12-01T07:00:00Z")
        .arg("plan")
        .args(args)
        .args(["--state", "no-ledger/state.db"])
        .output()
        .unwrap()
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

const CAMPAIGN: &str = "measles-reminder.yaml";

/// One setting changed: (what, the file edited, text before, text after, the settings the
/// comparison must name, the first of them shown to people).
type Change = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

const CHANGES: &[Change] = &[
    (
        "workflow",
        CAMPAIGN,
        "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf",
        "workflow_id: 0c7e5f3a-1111-4222-8333-944455556666",
        &["workflow_id"],
    ),
    (
        "kind",
        CAMPAIGN,
        "kind: robocall\nworkflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\nvoice:\n  accent: yoruba",
        "kind: conversation\nworkflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\nvoice:\n  accent: pidgin",
        &["kind", "voice.accent", "tags.patient_id"],
    ),
    (
        "accent",
        CAMPAIGN,
        "accent: yoruba",
        "accent: hausa",
        &["voice.accent"],
    ),
    (
        "gender",
        CAMPAIGN,
        "gender: female",
        "gender: male",
        &["voice.gender"],
    ),
    (
        "round",
        CAMPAIGN,
        "round: \"2026-12\"",
        "round: \"2027-01\"",
        &["round"],
    ),
    (
        "window",
        CAMPAIGN,
        "from: \"09:00\"",
        "from: \"06:00\"",
        &["schedule.windows[0]"],
    ),
    (
        "window removed",
        CAMPAIGN,
        "    - days: [saturday]\n      from: \"10:00\"\n      until: \"13:00\"\n",
        "",
        &["schedule.windows[1]"],
    ),
    (
        "time zone",
        CAMPAIGN,
        "timezone: Africa/Lagos",
        "timezone: Africa/Accra",
        &["schedule.timezone"],
    ),
    (
        "not_before",
        CAMPAIGN,
        "not_before: 2026-12-01",
        "not_before: 2026-12-05",
        &["schedule.not_before"],
    ),
    (
        "not_after",
        CAMPAIGN,
        "not_after: 2026-12-20",
        "not_after: 2026-12-24",
        &["schedule.not_after"],
    ),
    (
        "batch size",
        CAMPAIGN,
        "batch_size: 50",
        "batch_size: 20",
        &["delivery.batch_size"],
    ),
    (
        "rate",
        CAMPAIGN,
        "requests_per_second: 5",
        "requests_per_second: 2",
        &["delivery.requests_per_second"],
    ),
    (
        "concurrency",
        CAMPAIGN,
        "concurrency: 2",
        "concurrency: 1",
        &["delivery.concurrency"],
    ),
    (
        "max_calls",
        CAMPAIGN,
        "max_calls: 5000",
        "max_calls: 3",
        &["delivery.max_calls"],
    ),
    (
        "attempts",
        CAMPAIGN,
        "attempts: 2",
        "attempts: 3",
        &["delivery.retry.attempts"],
    ),
    (
        "retry delay",
        CAMPAIGN,
        "delay: 2h",
        "delay: 4h",
        &["delivery.retry.delay"],
    ),
    (
        "retried outcomes",
        CAMPAIGN,
        "outcomes: [no_answer]",
        "outcomes: [no_answer, failed]",
        &["delivery.retry.outcomes"],
    ),
    (
        "in doubt",
        CAMPAIGN,
        "in_doubt: hold",
        "in_doubt: resend",
        &["delivery.in_doubt"],
    ),
    (
        "frequency cap",
        CAMPAIGN,
        "in_doubt: hold",
        "in_doubt: hold\n  frequency_cap: {calls: 1, per: 7d}",
        &["delivery.frequency_cap"],
    ),
    (
        "dedupe",
        CAMPAIGN,
        "\nschedule:",
        "\ndedupe: patient_id\n\nschedule:",
        &["dedupe"],
    ),
    (
        "how dates are read",
        CAMPAIGN,
        "\nschedule:",
        "\ndates: {order: dmy, two_digit_years: 2000}\n\nschedule:",
        &["dates.order", "dates.two_digit_years"],
    ),
    (
        "defaults",
        CAMPAIGN,
        "clinic: your health centre",
        "clinic: your clinic",
        &["defaults.clinic"],
    ),
    (
        "variables",
        CAMPAIGN,
        "clinic: \"{{clinic}}\"",
        "clinic: \"{{upper clinic}}\"",
        &["variables.clinic"],
    ),
    (
        "allowed countries",
        CAMPAIGN,
        "allowed_countries: [NG]",
        "allowed_countries: [NG, GH]",
        &["patients[0].allowed_countries"],
    ),
    (
        "opt-out list option",
        CAMPAIGN,
        "  - file: patients/opt-outs.csv\n",
        "  - file: patients/opt-outs.csv\n    allow_invalid: 3\n",
        &["exclude[0].allow_invalid"],
    ),
    (
        "opt-out list removed",
        CAMPAIGN,
        "exclude:\n  - file: patients/opt-outs.csv\n    phone_column: phone\n    default_country: NG\n",
        "",
        &["exclude[0]", "opt-out numbers"],
    ),
    (
        "opt-out list contents",
        "patients/opt-outs.csv",
        "0902 111 2233,asked not to be called,2026-10-14\n",
        "0902 111 2233,asked not to be called,2026-10-14\n0803 000 0001,asked,2026-11-30\n",
        &["exclude[0].contents", "opt-out numbers"],
    ),
];

/// Each setting changed one at a time: the JSON summary names it (before and after), the
/// human and markdown outputs show it, and `--detailed-exitcode` is 2.
#[test]
fn compare_reports_each_settings_change_one_at_a_time() {
    let dir = example_copy();
    let d = dir.path();
    let base = plan_in(d, &[CAMPAIGN, "--out", "base.json"]);
    assert!(base.status.success(), "{}", said(&base));
    let original = std::fs::read_to_string(d.join(CAMPAIGN)).unwrap();
    let opt_outs = std::fs::read_to_string(d.join("patients/opt-outs.csv")).unwrap();

    for change in CHANGES {
        let (what, file, from, to, _) = *change;
        edit(d, file, from, to);
        if what == "kind" {
            // Conversation calls carry no tags.
            edit(d, CAMPAIGN, "tags:\n  patient_id: \"{{patient_id}}\"\n", "");
        }
        reported(d, change);
        std::fs::write(d.join(CAMPAIGN), &original).unwrap();
        std::fs::write(d.join("patients/opt-outs.csv"), &opt_outs).unwrap();
    }
    // The description is for reviewers: not a setting.
    edit(
        d,
        CAMPAIGN,
        "description: Second-dose",
        "description: Second dose",
    );
    let out = plan_in(d, &[CAMPAIGN, "--format", "json", "--compare", "base.json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["changes"]["settings"], serde_json::json!([]), "{doc}");
}

/// The comparison with base.json in `d` names the change in every format.
fn reported(d: &Path, &(what, _, _, _, expected): &Change) {
    let out = plan_in(
        d,
        &[
            CAMPAIGN,
            "--format",
            "json",
            "--compare",
            "base.json",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{what}: {}", said(&out));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: {e}: {}", said(&out)));
    let changes = &doc["changes"];
    assert_eq!(changes["settings_recorded"], true, "{what}");
    let named: Vec<&str> = changes["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in expected {
        assert!(named.contains(name), "{what}: {name} not in {named:?}");
    }
    let first = changes["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == expected[0])
        .unwrap();
    assert_ne!(first["before"], first["after"], "{what}: {first}");

    // People see it too, near the top, before and after.
    let human = plan_in(d, &[CAMPAIGN, "--compare", "base.json"]);
    let text = said(&human);
    assert!(
        text.contains("Settings changed since base.json:") && text.contains(expected[0]),
        "{what}: {text}"
    );
    assert!(!text.contains(": nothing"), "{what}: {text}");
    let md = plan_in(
        d,
        &[CAMPAIGN, "--format", "markdown", "--compare", "base.json"],
    );
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    let table = text.find("#### Settings changed since `base.json`");
    let counts = text.find("| patient rows read |");
    assert!(
        table.is_some_and(|t| counts.is_some_and(|c| t < c)),
        "{what}: the table comes before the counts: {text}"
    );
    assert!(
        text.contains(&format!("| `{}` |", expected[0])),
        "{what}: {text}"
    );
}

/// The before/after table of a pull-request comment, several settings changed at once.
#[test]
fn compare_shows_settings_changes_as_a_markdown_table() {
    let dir = example_copy();
    let d = dir.path();
    let base = plan_in(d, &[CAMPAIGN, "--out", "base.json"]);
    assert!(base.status.success(), "{}", said(&base));
    edit(
        d,
        CAMPAIGN,
        "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf",
        "workflow_id: 0c7e5f3a-1111-4222-8333-944455556666",
    );
    edit(d, CAMPAIGN, "accent: yoruba", "accent: hausa");
    edit(d, CAMPAIGN, "from: \"09:00\"", "from: \"06:00\"");
    edit(d, CAMPAIGN, "max_calls: 5000", "max_calls: 3");
    let md = plan_in(
        d,
        &[CAMPAIGN, "--format", "markdown", "--compare", "base.json"],
    );
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    let start = text.find("#### Settings changed").expect(&text);
    let end = start + text[start..].find("\n\n| | count |").expect(&text);
    insta::assert_snapshot!("compare-settings-table", &text[start..end]);
}

/// `--detailed-exitcode` with `--compare`: 0 only when nothing differs and nothing is to be
/// called; 2 when a setting changed although no call is pending; without `--compare`, calls
/// pending decide, as before.
#[test]
fn compare_exit_status_follows_what_differs_from_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("patients.csv"), "name,phone\nAda,08031234567\n").unwrap();
    std::fs::write(d.join("opt-outs.csv"), "phone\n08031234567\n").unwrap();
    std::fs::write(
        d.join("c.yaml"),
        r#"version: 1
name: nobody
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - file: patients.csv
    default_country: NG
variables:
  name: "{{name}}"
exclude:
  - file: opt-outs.csv
    default_country: NG
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "08:00", until: "20:00"}]
"#,
    )
    .unwrap();
    let base = plan_in(d, &["c.yaml", "--out", "base.json"]);
    assert!(base.status.success(), "{}", said(&base));
    let code = |args: &[&str]| plan_in(d, args).status.code();
    let compare = ["c.yaml", "--compare", "base.json", "--detailed-exitcode"];
    assert_eq!(code(&compare), Some(0), "nothing differs, nobody to call");
    edit(
        d,
        "c.yaml",
        "name: nobody\n",
        "name: nobody\nvoice: {accent: hausa}\n",
    );
    assert_eq!(code(&compare), Some(2), "a setting changed");
    assert_eq!(
        code(&["c.yaml", "--detailed-exitcode"]),
        Some(0),
        "without --compare: nothing to call"
    );

    // A plan made by an older outreach (version 1) did not record its settings: compared
    // with a note, and counted as a difference.
    let mut old: Value =
        serde_json::from_slice(&std::fs::read(d.join("base.json")).unwrap()).unwrap();
    old["version"] = 1.into();
    old["settings"] = serde_json::json!({"voice": {"accent": "pidgin", "gender": "female"}});
    std::fs::write(d.join("old.json"), serde_json::to_vec(&old).unwrap()).unwrap();
    let old_compare = ["c.yaml", "--compare", "old.json", "--detailed-exitcode"];
    assert_eq!(
        code(&old_compare),
        Some(2),
        "settings not known to be the same"
    );
    let human = plan_in(d, &["c.yaml", "--compare", "old.json"]);
    let text = said(&human);
    assert!(
        text.contains("Settings: not compared; old.json does not record them (a version 1 plan"),
        "{text}"
    );
    let json = plan_in(d, &["c.yaml", "--format", "json", "--compare", "old.json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["changes"]["settings_recorded"], false, "{doc}");
}

/// Issue 15, case 5: a plan made against a target records the words of the workflow it
/// fetched, so a message (or reply option) changed on the service since the base plan is a
/// change the reviewer sees, with `--detailed-exitcode` 2; a plan made offline knows no
/// words, and compared with one it shows no change to them.
#[test]
fn compare_shows_a_workflow_message_changed_on_the_service() {
    let mock = crate::apply::Mock::fast();
    let dir = example_copy();
    let d = dir.path();
    let against = |extra: &[&str]| {
        outreach()
            .current_dir(d)
            .env("OUTREACH_FAKE_NOW", "2026-12-01T07:00:00Z")
            .env("INTRON_API_KEY", crate::apply::KEY)
            .args(["plan", CAMPAIGN, "--state", "no-ledger/state.db"])
            .args(["--api-url", &mock.url])
            .args(extra)
            .output()
            .unwrap()
    };
    let base = against(&["--out", "base.json"]);
    assert!(base.status.success(), "{}", said(&base));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("base.json")).unwrap()).unwrap();
    let message = saved["settings"]["workflow.message"]
        .as_str()
        .expect("the fetched message among the settings")
        .to_owned();
    // Unchanged on the service: nothing differs.
    let same = against(&["--compare", "base.json", "--detailed-exitcode"]);
    assert_eq!(
        same.status.code(),
        Some(2),
        "calls pending: {}",
        said(&same)
    );
    assert!(said(&same).contains("nothing"), "{}", said(&same));
    assert!(!said(&same).contains("workflow.message"), "{}", said(&same));
    // Someone edits the message on the service.
    let edited = format!("{message} Bring the child's card.");
    mock.send(
        reqwest::Method::PATCH,
        "/voicebot/v1/workflows/9b643eb4-0799-4761-bd34-9580eb315aaf",
        &serde_json::json!({ "message": edited }),
    );
    let md = against(&["--compare", "base.json", "--format", "markdown"]);
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    let start = text.find("#### Settings changed").expect(&text);
    let table = &text[start..];
    assert!(table.contains("workflow.message"), "{table}");
    assert!(table.contains("Bring the child"), "{table}");
    // Offline the words are unknown, not gone: compared with the fetched plan, no change.
    let offline = plan_in(d, &[CAMPAIGN, "--compare", "base.json", "--format", "json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&offline.stdout).unwrap_or_else(|_| panic!("{}", said(&offline)));
    let changed = json.to_string();
    assert!(!changed.contains("workflow.message"), "{changed}");
}
