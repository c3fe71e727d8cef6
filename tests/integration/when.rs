//! When the calls go (issue 15, case 6): plan shows the calling windows, the next one to
//! open in the campaign's zone, the last possible call (`not_after`) and what `max_calls`
//! leaves for later runs; a schedule that is over is an error against a live target and a
//! prominent warning offline and on the mock.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::apply::{KEY, Mock};
use crate::compare::{example_copy, plan_in};
use crate::outreach;

const CAMPAIGN: &str = "measles-reminder.yaml";

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn edit(dir: &Path, from: &str, to: &str) {
    let path = dir.join(CAMPAIGN);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// On Tuesday 1 December 2026 at 08:00 in Lagos (the clock of [`plan_in`]): the weekday
/// window opens at 09:00, the last call is on the 20th, and `max_calls` 5000 holds all 6.
#[test]
fn plan_says_when_the_calls_go() {
    let dir = example_copy();
    let d = dir.path();
    let human = plan_in(d, &[CAMPAIGN]);
    assert!(human.status.success(), "{}", said(&human));
    let text = String::from_utf8_lossy(&human.stdout).into_owned();
    let start = text.find("  patient rows read").expect(&text);
    let end = start + text[start..].find("\n\n").expect(&text);
    insta::assert_snapshot!("plan-when-human", &text[start..end]);

    let md = plan_in(d, &[CAMPAIGN, "--format", "markdown"]);
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    let start = text.find("| when | |").expect(&text);
    let end = start + text[start..].find("\n\n").expect(&text);
    insta::assert_snapshot!("plan-when-markdown", &text[start..end]);

    let json = plan_in(d, &[CAMPAIGN, "--format", "json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let s = &doc["schedule"];
    assert_eq!(s["timezone"], "Africa/Lagos", "{s}");
    assert_eq!(s["next_opens"], "2026-12-01T08:00:00Z", "{s}");
    assert_eq!(s["open_until"], Value::Null, "{s}");
    assert_eq!(s["last_call"], "2026-12-20T22:59:59.999999999Z", "{s}");
    assert_eq!(s["over"], false, "{s}");
    assert_eq!(s["max_calls"], 5000, "{s}");
    assert_eq!(s["calls_in_one_run"], 6, "{s}");

    // A cap below the plan: the rest waits for later runs, and the plan says so.
    edit(d, "max_calls: 5000", "max_calls: 4");
    let human = plan_in(d, &[CAMPAIGN]);
    let text = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(
        text.contains("4 of 6 calls fit in one run (delivery.max_calls 4)"),
        "{text}"
    );
    let json = plan_in(d, &[CAMPAIGN, "--format", "json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["schedule"]["calls_in_one_run"], 4);
}

/// Past `not_after`, offline and on the mock: the plan is made and says, first, that a live
/// run would place none of its calls.
#[test]
fn a_schedule_that_is_over_is_said_first_offline_and_on_the_mock() {
    let dir = example_copy();
    let d = dir.path();
    let after = |args: &[&str]| {
        outreach()
            .current_dir(d)
            .env("OUTREACH_FAKE_NOW", "2026-12-21T09:00:00Z")
            .arg("plan")
            .arg(CAMPAIGN)
            .args(["--state", "no-ledger/state.db"])
            .args(args)
            .output()
            .unwrap()
    };
    let human = after(&[]);
    assert_eq!(human.status.code(), Some(0), "{}", said(&human));
    let text = String::from_utf8_lossy(&human.stdout).into_owned();
    let warning = text.lines().nth(2).unwrap_or_default();
    insta::assert_snapshot!("plan-schedule-over-human", warning);
    assert!(
        text.contains("next window opens  never: the schedule is over"),
        "{text}"
    );
    let md = after(&["--format", "markdown"]);
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    assert!(
        text.contains("> **Warning:** the campaign's schedule is over: not_after 2026-12-20"),
        "{text}"
    );
    let json = after(&["--format", "json"]);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["schedule"]["over"], true);
    assert_eq!(doc["schedule"]["next_opens"], Value::Null);
    let mock = after(&["--mock"]);
    assert_eq!(mock.status.code(), Some(0), "{}", said(&mock));
    assert!(said(&mock).contains("WARNING: the campaign's schedule is over"));
}

/// Against a live target (`--api-url`), a schedule over is an error (exit 1) with one
/// sentence, for plan and apply; apply sends nothing. The mock places the calls anyway,
/// with the warning, unless `--enforce-schedule`.
#[test]
fn a_schedule_that_is_over_is_an_error_against_a_live_target() {
    let dir = example_copy();
    let d = dir.path();
    // Dates that are past whatever the clock says.
    edit(d, "not_before: 2026-12-01", "not_before: 2020-01-01");
    edit(d, "not_after: 2026-12-20", "not_after: 2020-01-31");
    let mock = Mock::fast();
    let live = |command: &str, extra: &[&str]| {
        outreach()
            .current_dir(d)
            .env("INTRON_API_KEY", KEY)
            .args([command, CAMPAIGN, "--api-url", &mock.url])
            .args(extra)
            .output()
            .unwrap()
    };
    let plan = live("plan", &["--state", "no-ledger/state.db"]);
    assert_eq!(plan.status.code(), Some(1), "{}", said(&plan));
    assert!(
        String::from_utf8_lossy(&plan.stderr).contains(
            "measles-reminder.yaml: the campaign's schedule is over: not_after 2020-01-31 ("
        ),
        "{}",
        said(&plan)
    );
    assert!(
        !String::from_utf8_lossy(&plan.stdout).contains("calls to place"),
        "no plan of calls that cannot go: {}",
        said(&plan)
    );
    let plan = live(
        "plan",
        &["--state", "no-ledger/state.db", "--detailed-exitcode"],
    );
    assert_eq!(plan.status.code(), Some(1), "{}", said(&plan));

    let state = d.join("state.db");
    let state = state.to_str().unwrap();
    let apply = live("apply", &["--yes", "--new-ledger", "--state", state]);
    assert_eq!(apply.status.code(), Some(1), "{}", said(&apply));
    assert!(
        said(&apply).contains("the campaign's schedule is over: not_after 2020-01-31"),
        "{}",
        said(&apply)
    );
    assert!(mock.call_requests().is_empty(), "nothing is sent");

    let on_mock = |extra: &[&str]| {
        outreach()
            .current_dir(d)
            .args(["apply", CAMPAIGN, "--mock", "--no-follow", "--state", state])
            .args(extra)
            .output()
            .unwrap()
    };
    let enforced = on_mock(&["--enforce-schedule"]);
    assert_eq!(enforced.status.code(), Some(1), "{}", said(&enforced));
    let anyway = on_mock(&[]);
    assert_eq!(anyway.status.code(), Some(0), "{}", said(&anyway));
    assert!(
        said(&anyway).contains("the mock places them anyway"),
        "{}",
        said(&anyway)
    );
    assert!(
        said(&anyway).contains("6 calls placed"),
        "{}",
        said(&anyway)
    );
}
