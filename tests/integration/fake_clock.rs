//! Issue 14, class 8: `OUTREACH_FAKE_NOW` moved the clock on live runs (calls placed outside
//! the window, the ledger stamped with a false time). It is honoured only on the bundled mock
//! (`--mock`); against a server (`--api-url`) it is ignored, with a warning.

use serde_json::Value;

use crate::apply::{KEY, Mock, apply_command, apply_command_on, campaign, text};
use crate::outreach;

/// The campaign's schedule ended in January 2020: under a clock set inside it, every call
/// is due; under the real clock, none is.
const OVER: &str = "  not_before: 2020-01-01\n  not_after: 2020-01-31\n";
const INSIDE: &str = "2020-01-15T10:00:00Z";

fn over_campaign() -> crate::apply::Campaign {
    let c = campaign(2, "");
    let yaml = std::fs::read_to_string(&c.path).unwrap();
    let windows = "  windows: [{days: [every_day], from: \"00:00\", until: \"24:00\"}]\n";
    assert!(yaml.contains(windows), "{yaml}");
    std::fs::write(&c.path, yaml.replace(windows, &format!("{windows}{OVER}"))).unwrap();
    c
}

#[test]
fn class_8_fake_now_is_ignored_with_a_warning_against_a_server() {
    let mock = Mock::fast();
    let c = over_campaign();
    let mut cmd = apply_command(&c.path, &c, &mock.url, &["--json"]);
    let out = cmd.env("OUTREACH_FAKE_NOW", INSIDE).output().unwrap();
    // A schedule already over is an error on a live target (issue 15, case 6).
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OUTREACH_FAKE_NOW is ignored: it moves the clock only against the bundled mock (--mock)"),
        "{stderr}"
    );
    assert!(!stderr.contains("OUTREACH_FAKE_NOW is set"), "{stderr}");
    assert!(
        mock.calls().is_empty(),
        "the real clock: the schedule is over"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The real clock decided (and stamps the ledger: the same clock).
    assert_eq!(summary["stopped"]["reason"], "schedule_over", "{summary}");

    // plan against a server is the same.
    let plan = outreach()
        .env("INTRON_API_KEY", KEY)
        .env("OUTREACH_FAKE_NOW", INSIDE)
        .args(["plan", "--api-url", &mock.url])
        .arg(&c.path)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&plan.stderr).contains("OUTREACH_FAKE_NOW is ignored"),
        "{}",
        text(&plan)
    );
}

#[test]
fn class_8_fake_now_still_moves_the_clock_on_the_bundled_mock() {
    let c = over_campaign();
    let out = apply_command_on(&c.path, &c, &["--mock", "--enforce-schedule"], &["--json"])
        .env("OUTREACH_FAKE_NOW", INSIDE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OUTREACH_FAKE_NOW is set"), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["accepted"], 2, "{summary}");
}
