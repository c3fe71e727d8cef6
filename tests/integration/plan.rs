//! `outreach plan` on fixtures covering each source kind, phone case and skip reason, and on
//! every example campaign (snapshot-tested).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{fixture, outreach};

/// A ledger path that does not exist: the example plans must not depend on what a local
/// `apply --mock` left in campaigns/.outreach/.
const NO_LEDGER: &str = "/nonexistent/outreach-test/state.db";

/// Runs `plan --format json` and returns (exit code, summary document).
fn summary(campaign: &str, extra: &[&str]) -> (i32, Value) {
    let out = outreach()
        .args(["plan", "--format", "json"])
        .arg(fixture(campaign))
        .args(extra)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{campaign}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), doc)
}

fn skipped_rows(doc: &Value) -> BTreeMap<String, Vec<u64>> {
    doc["skipped"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["examples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["row"].as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// Plans to a file and returns the saved plan.
fn saved(campaign: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    outreach()
        .args(["plan"])
        .arg(fixture(campaign))
        .arg("--out")
        .arg(&path)
        .assert()
        .success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the plan holds patient data");
    }
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn calls(plan: &Value) -> Vec<&Value> {
    plan["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["calls"].as_array().unwrap())
        .collect()
}

#[test]
fn csv_phone_cases_and_every_skip_reason() {
    let (code, doc) = summary("plan/csv-robocall.yaml", &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["rows"], 12);
    assert_eq!(doc["summary"]["calls"], 3);
    assert_eq!(doc["summary"]["batches"], 2, "batch_size 2");
    let rows = skipped_rows(&doc);
    let expect: BTreeMap<String, Vec<u64>> = [
        ("invalid-phone", vec![5, 13]),   // 12345; letters in the number
        ("country-not-allowed", vec![6]), // Ghana, not allowed
        ("duplicate", vec![7]),           // same number as line 2, written differently
        ("opted-out", vec![8]),           // on the opt-out list, written with dashes
        ("missing-phone", vec![9]),       // empty cell
        ("missing-value", vec![10]),      // no first name, no default
        ("template-error", vec![11]),     // "next week" is not a date
        ("not-a-phone-line", vec![12]),   // a US toll-free number
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(rows, expect);
    assert_eq!(doc["summary"]["opt_outs"], 1);
    assert_eq!(doc["summary"]["opt_outs_unusable"], 1);
}

#[test]
fn robocall_payload_nests_variables_and_tags_with_the_key() {
    let plan = saved("plan/csv-robocall.yaml");
    assert_eq!(plan["format"], "outreach-plan");
    assert_eq!(plan["version"], 2);
    assert!(
        plan["campaign"]["sha256"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(plan["sources"][0]["label"], "patients.csv");
    assert_eq!(plan["sources"][1]["role"], "exclude");
    let calls = calls(&plan);
    let numbers: Vec<&str> = calls
        .iter()
        .map(|c| c["entry"]["phone_number"].as_str().unwrap())
        .collect();
    // Valid local, valid international with spaces, brackets and dashes: all E.164.
    assert_eq!(
        numbers,
        ["+2348031234567", "+2348051234567", "+2347065550192"]
    );
    let first = calls[0];
    assert_eq!(first["entry"]["workflow_variables"]["name"], "Ada");
    assert_eq!(first["entry"]["workflow_variables"]["date"], "3 December");
    assert_eq!(first["entry"]["user_tag_identifiers"]["patient_id"], "P01");
    assert_eq!(
        first["entry"]["user_tag_identifiers"]["outreach_key"],
        first["key"]
    );
    assert_eq!(first["row"], 2);
    // An empty clinic takes the declared default; a day-first date is understood.
    assert_eq!(
        calls[1]["entry"]["workflow_variables"]["clinic"],
        "your clinic"
    );
    assert_eq!(
        calls[2]["entry"]["workflow_variables"]["date"],
        "3 December"
    );
    assert_eq!(plan["summary"]["calls"], 3);
    assert_eq!(plan["skipped"].as_array().unwrap().len(), 9);
}

#[test]
fn conversation_payload_is_flat_and_json_sources_stream() {
    let plan = saved("plan/json-conversation.yaml");
    let calls = calls(&plan);
    // J2 lacks its medicine and is skipped; J3 has the same number and can be called, so it
    // is (a skipped row never stands in for a callable one as the number's "first row").
    assert_eq!(calls.len(), 4);
    let entry = calls[0]["entry"].as_object().unwrap();
    let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["phone_number", "medicine", "name"],
        "flat: variables beside the number, no tags"
    );
    assert_eq!(entry["name"], "Musa Danjuma");
    let reasons: Vec<&str> = plan["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["missing-value", "unreadable-row"]);
    // Batches never mix sources.
    assert_eq!(plan["batches"].as_array().unwrap().len(), 2);
}

#[test]
fn spreadsheets_by_sheet_name_and_numeric_phone_cells() {
    let (_, doc) = summary("plan/sheets.yaml", &["--unmask"]);
    assert_eq!(doc["summary"]["calls"], 2);
    let rows = skipped_rows(&doc);
    assert_eq!(rows["phone-stored-as-number"], [4]);
    assert_eq!(
        rows["duplicate"],
        [2, 3],
        "the ODS rows repeat the XLSX numbers"
    );
    assert_eq!(doc["sample"][0]["phone_number"], "+2348037778888");
    assert_eq!(doc["sample"][0]["source"], "patients.xlsx");
}

#[test]
fn csv_with_bom_crlf_quotes_and_another_delimiter() {
    let plan = saved("plan/semicolon.yaml");
    let calls = calls(&plan);
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls[0]["entry"]["workflow_variables"]["name"],
        "Okafor; Ada"
    );
    assert_eq!(
        calls[0]["entry"]["workflow_variables"]["note"],
        "line one\r\nline two"
    );
    assert_eq!(
        calls[2]["entry"]["workflow_variables"]["note"],
        "has \"quotes\""
    );
    assert_eq!(
        calls[2]["row"], 6,
        "rows are the file's lines, counting the multi-line field"
    );
}

#[test]
fn dedupe_on_a_column_never_calls_a_number_twice() {
    let (_, doc) = summary("plan/inline-dedupe-column.yaml", &[]);
    assert_eq!(doc["summary"]["calls"], 2);
    assert_eq!(skipped_rows(&doc)["duplicate"], [2, 3]);
}

#[test]
fn an_unreadable_opt_out_list_stops_the_plan() {
    let (code, doc) = summary("plan/broken-opt-out.yaml", &[]);
    assert_eq!(code, 1);
    assert_eq!(
        doc["files"][0]["diagnostics"][0]["code"],
        "source-unreadable"
    );
    // And a missing one.
    let out = outreach()
        .args(["plan"])
        .arg(fixture("invalid/missing-exclusion-file.yaml"))
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("without it nobody is called"), "{text}");
}

#[test]
fn strict_refuses_template_skips_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    outreach()
        .args(["plan", "--strict"])
        .arg(fixture("plan/csv-robocall.yaml"))
        .arg("--out")
        .arg(&path)
        .assert()
        .code(1);
    assert!(!path.exists());
    // Without template skips, --strict passes.
    outreach()
        .args(["plan", "--strict"])
        .arg(fixture("plan/csv-only-ng.yaml"))
        .assert()
        .success();
}

#[test]
fn detailed_exitcode_follows_terraform() {
    outreach()
        .args(["plan", "--detailed-exitcode"])
        .arg(fixture("plan/csv-only-ng.yaml"))
        .assert()
        .code(2);
    outreach()
        .args(["plan", "--detailed-exitcode", "--bogus"])
        .assert()
        .code(1);
    outreach()
        .args(["plan", "--detailed-exitcode", "no/such.yaml"])
        .assert()
        .code(1);
    outreach()
        .args(["plan", "--detailed-exitcode"])
        .arg(fixture("invalid/bad-accent.yaml"))
        .assert()
        .code(1);
    outreach().args(["plan", "no/such.yaml"]).assert().code(2);
}

#[test]
fn printed_plans_mask_patient_data() {
    let out = outreach()
        .args([
            "plan",
            "campaigns/measles-reminder.yaml",
            "--state",
            NO_LEDGER,
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!text.contains("8031234567"), "{text}");
    assert!(!text.contains("Adaeze"), "{text}");
    assert!(text.contains("+234******4567"));
    let out = outreach()
        .args([
            "plan",
            "campaigns/measles-reminder.yaml",
            "--unmask",
            "--state",
            NO_LEDGER,
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("+2348031234567") && text.contains("Adaeze"),
        "{text}"
    );
}

#[test]
fn example_plans() {
    for name in ["measles-reminder", "refill-followup", "smoke-test"] {
        for (format, ext) in [("human", "txt"), ("markdown", "md")] {
            let out = outreach()
                // When the calls go depends on the clock: a Tuesday morning in Lagos.
                .env("OUTREACH_FAKE_NOW", "2026-12-01T07:00:00Z")
                .args(["plan", "--format", format])
                .arg(format!("campaigns/{name}.yaml"))
                .args(["--state", NO_LEDGER])
                .assert()
                .success();
            let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
            insta::with_settings!({
                snapshot_path => "snapshots",
                prepend_module_to_snapshot => false,
                description => format!("outreach plan --format {format} campaigns/{name}.yaml"),
            }, {
                insta::assert_snapshot!(format!("plan-{name}-{ext}"), text);
            });
        }
    }
}

#[test]
fn with_a_target_the_workflow_and_message_are_checked() {
    // The bundled mock: the example's workflow fits, and the sample shows what is heard.
    let out = outreach()
        .args([
            "plan",
            "--mock",
            "--format",
            "json",
            "campaigns/measles-reminder.yaml",
            "--state",
            NO_LEDGER,
        ])
        .assert()
        .success();
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(doc["message_checked"], true);
    assert_eq!(doc["workflow"]["problems"], serde_json::json!([]));
    assert_eq!(
        doc["sample"][0]["heard"],
        "Hello A***, this is a reminder from your clinic."
    );

    // Against a server by URL: each problem a reviewer must see, exit 1.
    let mock = crate::apply::Mock::fast();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let base = |kind: &str, workflow: &str, variables: &str| {
        format!(
            "version: 1\nname: checks\nkind: {kind}\nworkflow_id: {workflow}\npatients:\n  - inline:\n      - {{phone: \"08031234567\", first: Ada, long: \"{}\"}}\n    default_country: NG\nvariables:\n{variables}schedule:\n  timezone: Africa/Lagos\n  windows: [{{days: [every_day], from: \"08:00\", until: \"20:00\"}}]\n",
            "x".repeat(4100)
        )
    };
    let cases = [
        (
            base(
                "robocall",
                "9b643eb4-0799-4761-bd34-9580eb315aaf",
                "  first: \"{{first}}\"\n",
            ),
            "with no value in `variables`: name",
        ),
        (
            base(
                "conversation",
                "9b643eb4-0799-4761-bd34-9580eb315aaf",
                "  name: \"{{first}}\"\n",
            ),
            "of type ROBOCALL, but the campaign places conversation calls",
        ),
        (
            base(
                "robocall",
                "9b643eb4-0799-4761-bd34-9580eb315aaf",
                "  name: \"{{long}}\"\n",
            ),
            "exceed the 4000-character message limit",
        ),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let path = write(&format!("c{i}.yaml"), yaml);
        let out = outreach()
            .env("INTRON_API_KEY", "k")
            .args(["plan", "--api-url", &mock.url])
            .arg(&path)
            .assert()
            .code(1);
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains(expected), "case {i}: {text}");
    }
    // On the bundled mock, whose workflow lookup is this project's own, a workflow it does
    // not have does not exist; on a server given by URL, a 404 there only means the lookup
    // is not offered (see documented.rs).
    let missing = write(
        "missing.yaml",
        &base("robocall", "no-such-workflow", "  name: \"{{first}}\"\n"),
    );
    let out = outreach()
        .args(["plan", "--mock"])
        .arg(&missing)
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("does not exist"), "{text}");
}

#[test]
fn planning_after_an_apply_shows_nothing_new_to_call() {
    let mock = crate::apply::Mock::fast();
    let c = crate::apply::campaign(5, "");
    let plan = |extra: &[&str]| {
        outreach()
            .args([
                "plan",
                "--detailed-exitcode",
                "--format",
                "json",
                "--api-url",
                &mock.url,
                "--state",
            ])
            .arg(c.state())
            .arg(&c.path)
            .args(extra)
            .env("INTRON_API_KEY", crate::apply::KEY)
            .output()
            .unwrap()
    };
    let before = plan(&[]);
    assert_eq!(before.status.code(), Some(2), "calls pending");
    let out = crate::apply::apply(&c, &mock.url, &["--no-follow"]);
    assert_eq!(out.status.code(), Some(0));
    let after = plan(&[]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "nothing to call: {}",
        String::from_utf8_lossy(&after.stdout)
    );
    let doc: Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(doc["summary"]["calls"], 0);
    assert_eq!(doc["summary"]["skipped_by_reason"]["already-called"], 5);
    // Another target's ledger is separate: against the mock target nothing was called yet.
    let other = outreach()
        .args(["plan", "--detailed-exitcode", "--mock", "--state"])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(2));
}

/// Regression: `already-called` was a skip code that `plan --compare` did not know, so a plan
/// saved after an apply read its already-called rows back as `other`, and comparing it with
/// the same plan made again reported every one of them as newly skipped.
#[test]
fn compare_after_an_apply_knows_already_called_rows() {
    let mock = crate::apply::Mock::fast();
    let c = crate::apply::campaign(5, "");
    let out = crate::apply::apply(&c, &mock.url, &["--no-follow"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let saved = c.path.with_file_name("after-apply.json");
    let plan = |extra: &[&str]| {
        outreach()
            .args(["plan", "--api-url", &mock.url, "--state"])
            .arg(c.state())
            .arg(&c.path)
            .args(extra)
            .env("INTRON_API_KEY", crate::apply::KEY)
            .output()
            .unwrap()
    };
    let first = plan(&["--out", saved.to_str().unwrap()]);
    assert!(first.status.success(), "{first:?}");
    let again = plan(&["--format", "json", "--compare", saved.to_str().unwrap()]);
    assert!(again.status.success(), "{again:?}");
    let doc: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        doc["summary"]["skipped_by_reason"]["already-called"], 5,
        "{doc}"
    );
    assert_eq!(doc["changes"]["new_skips"], 0, "{doc}");
    assert_eq!(doc["changes"]["resolved_skips"], 0, "{doc}");
    let md = plan(&["--format", "markdown", "--compare", saved.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.contains("No change from the plan"), "{text}");
}

/// `plan --compare`: a plan saved before an edit, compared with the plan after it.
#[test]
fn compare_says_what_changed_since_a_saved_plan() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["csv-robocall.yaml", "patients.csv", "opt-outs.csv"] {
        std::fs::copy(
            crate::root().join(fixture("plan")).join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    let campaign = dir.path().join("csv-robocall.yaml");
    let base = dir.path().join("base.json");
    let out = outreach()
        .arg("plan")
        .arg(&campaign)
        .arg("--out")
        .arg(&base)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Unchanged: the section says so.
    let md = outreach()
        .args(["plan", "--format", "markdown"])
        .arg(&campaign)
        .arg("--compare")
        .arg(&base)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(md.status.success(), "{md:?}");
    assert!(text.contains("#### What changed"), "{text}");
    assert!(text.contains("No change from the plan"), "{text}");

    // New words for every call, one more patient, one more unusable row.
    let yaml = std::fs::read_to_string(&campaign).unwrap();
    std::fs::write(
        &campaign,
        yaml.replace("{{title first_name}}", "{{upper first_name}}"),
    )
    .unwrap();
    let csv = dir.path().join("patients.csv");
    let mut rows = std::fs::read_to_string(&csv).unwrap();
    rows.push_str(
        "P90,Zainab,08039990001,2026-12-04,Ikeja GH\nP91,Funke,99999,2026-12-04,Ikeja GH\n",
    );
    std::fs::write(&csv, rows).unwrap();

    let md = outreach()
        .args(["plan", "--format", "markdown"])
        .arg(&campaign)
        .arg("--compare")
        .arg(&base)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    assert!(md.status.success(), "{md:?}");
    assert!(text.contains("| calls added | 1 |"), "{text}");
    assert!(text.contains("| calls removed | 0 |"), "{text}");
    assert!(text.contains("| rows newly skipped | 1 |"), "{text}");
    assert!(text.contains("Changed values: `name` ("), "{text}");
    assert!(
        text.contains("<summary>Examples (masked)</summary>"),
        "{text}"
    );
    assert!(text.contains("`+234******0001`"), "masked number: {text}");
    assert!(
        !text.contains("08039990001") && !text.contains("Zainab"),
        "{text}"
    );
    assert!(text.contains("name=Z***"), "masked value: {text}");

    // Unmasked on request, and in the human output too.
    let human = outreach()
        .arg("plan")
        .arg(&campaign)
        .arg("--compare")
        .arg(&base)
        .args(["--unmask", "--sample", "100"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(text.contains("What changed since"), "{text}");
    assert!(text.contains("+2348039990001"), "{text}");
    assert!(text.contains("name: Ada → ADA"), "{text}");

    // JSON: the counts only.
    let (_, doc) = summary_of(&campaign, &["--compare", base.to_str().unwrap()]);
    assert_eq!(doc["changes"]["added"], 1, "{doc}");
    assert_eq!(doc["changes"]["new_skips"], 1, "{doc}");
    assert_eq!(
        doc["changes"]["changed_fields"]["name"]
            .as_u64()
            .map(|n| n > 0),
        Some(true)
    );

    // Not a plan: the tool cannot do its job.
    let bad = outreach()
        .arg("plan")
        .arg(&campaign)
        .arg("--compare")
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
}

fn summary_of(campaign: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let out = outreach()
        .args(["plan", "--format", "json"])
        .arg(campaign)
        .args(extra)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), doc)
}
