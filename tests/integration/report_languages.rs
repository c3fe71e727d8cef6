//! `by_language` (issue 20): the patients by the language their latest call was placed in,
//! as the ledger recorded it at write-ahead, with each group's success rate, in every report
//! format; the groups sum to the totals. The calls are recorded through the ledger's API (the
//! campaign side of languages is the plan's), on both backends.

use std::time::Duration;

use outreach::ledger::{CallState, Ledger, NO_LIST_VALUES, NewCall, RunStatus};
use serde_json::Value;

use crate::apply::{Campaign, text};
use crate::on_both_backends;
use crate::outreach;

/// The calls recorded: (key, attempt, language, outcome). `k8` was called first in `yo`
/// and again in `ha`: its latest call counts, in `ha`. `k7` has no language (a call placed
/// before languages were kept).
const CALLS: [(&str, u32, Option<&str>, CallState); 9] = [
    ("k1", 1, Some("ha"), CallState::Answered),
    ("k2", 1, Some("ha"), CallState::Answered),
    ("k3", 1, Some("ha"), CallState::NoAnswer),
    ("k4", 1, Some("yo"), CallState::Failed),
    ("k5", 1, Some("yo"), CallState::Answered),
    ("k6", 1, Some("pcm"), CallState::Sending),
    ("k7", 1, None, CallState::Answered),
    ("k8", 1, Some("yo"), CallState::NoAnswer),
    ("k8", 2, Some("ha"), CallState::Answered),
];

/// Records [`CALLS`] under the bundled mock's target, as apply would: written ahead, then
/// settled.
fn record(c: &Campaign) {
    let (campaign, round) = ("apply-test", "t1");
    let mut l = Ledger::open(&c.state()).unwrap();
    let run = l
        .start_run("mock", campaign, round, Duration::from_secs(30))
        .unwrap();
    if let Some(pg) = l.shared() {
        // A shared ledger records only the calls this run has claimed.
        let work: Vec<(&str, u32, &str)> = CALLS
            .iter()
            .map(|(k, a, _, _)| (*k, *a, "Africa/Lagos"))
            .collect();
        pg.enqueue("mock", campaign, round, &work).unwrap();
        let claimed = pg
            .claim(&run, "mock", campaign, round, "Africa/Lagos", CALLS.len())
            .unwrap();
        assert_eq!(claimed.len(), CALLS.len());
    }
    let phones: Vec<String> = (0..CALLS.len())
        .map(|i| format!("+23480330000{i:02}"))
        .collect();
    let calls: Vec<NewCall<'_>> = CALLS
        .iter()
        .zip(&phones)
        .map(|((key, attempt, language, _), phone)| NewCall {
            key,
            attempt: *attempt,
            phone,
            source: "patients.csv",
            row: 2,
            list_values: &NO_LIST_VALUES,
            language: *language,
        })
        .collect();
    assert_eq!(
        l.begin(&run, "mock", campaign, round, &calls)
            .unwrap()
            .len(),
        CALLS.len()
    );
    for (key, attempt, _, state) in CALLS {
        if state != CallState::Sending {
            l.outcome("mock", key, attempt, state, None, None, None, None)
                .unwrap();
        }
    }
    l.end_run(&run, RunStatus::Done, "").unwrap();
}

fn report(c: &Campaign, flags: &[&str]) -> String {
    let out = outreach()
        .args(["report", "--mock", "--state"])
        .arg(c.state())
        .arg(&c.path)
        .args(flags)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

on_both_backends! {
    fn the_patients_by_language_sum_to_the_totals_in_every_format() {
        let c = crate::apply::campaign(0, "");
        // Before any call has a language, no format says anything of languages.
        drop(Ledger::open(&c.state()).unwrap());
        let doc: Value = serde_json::from_str(&report(&c, &["--format", "json"])).unwrap();
        assert!(doc.get("by_language").is_none(), "{doc}");
        record(&c);

        let doc: Value = serde_json::from_str(&report(&c, &["--format", "json"])).unwrap();
        let groups = doc["by_language"].as_array().unwrap();
        let shown: Vec<(Value, u64, Value)> = groups
            .iter()
            .map(|g| (g["language"].clone(), g["total"].as_u64().unwrap(), g["success_rate"].clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (Value::from("ha"), 4, Value::from(75.0)),
                (Value::from("pcm"), 1, Value::Null),
                (Value::from("yo"), 2, Value::from(50.0)),
                (Value::Null, 1, Value::from(100.0)),
            ],
            "{doc}"
        );
        let states = ["answered", "failed", "no_answer", "outcome_unknown", "completed", "in_doubt", "pending", "rejected", "not_sent"];
        let total: u64 = states.iter().map(|s| doc[s].as_u64().unwrap()).sum();
        assert_eq!(total, 8, "one latest call per patient: {doc}");
        let sum = |field: &str| groups.iter().map(|g| g[field].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("total"), total, "{doc}");
        for state in states {
            assert_eq!(Value::from(sum(state)), doc[state], "{state}: {doc}");
        }

        // The table: a section with each language's rate.
        let table = report(&c, &[]);
        assert!(table.contains("Outcomes by language"), "{table}");
        let line = |starts: &str| {
            table
                .lines()
                .find(|l| l.starts_with(starts))
                .unwrap_or_else(|| panic!("no line for {starts} in {table}"))
                .to_owned()
        };
        assert!(line("Outcomes by language").ends_with("success rate"), "{table}");
        assert!(line("ha ").ends_with(" 75 %"), "{table}");
        assert!(line("pcm ").ends_with(" n/a"), "{table}");
        assert!(line("(not recorded)").ends_with(" 100 %"), "{table}");

        // CSV: a measure per language and state, and its rate.
        let csv = report(&c, &["--format", "csv"]);
        for measure in [
            "by_language.ha.total,4",
            "by_language.ha.answered,3",
            "by_language.ha.success_rate_percent,75.0",
            "by_language.pcm.pending,1",
            "by_language.pcm.success_rate_percent,",
            "by_language.yo.failed,1",
            "by_language.(not recorded).total,1",
        ] {
            assert!(csv.lines().any(|l| l.ends_with(&format!(",{measure}"))), "{measure} in {csv}");
        }

        // HTML: a section of its own, every figure of the JSON on the page.
        let html = report(&c, &["--format", "html"]);
        assert!(html.contains(r#"<section id="by-language">"#), "{html}");
        assert!(html.contains("Outcomes by language"));
        crate::report_html::assert_same_figures(&html, &doc);
        assert_eq!(crate::report_html::static_problems(&html), Vec::<String>::new());
    }
}
