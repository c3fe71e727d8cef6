//! `outreach sync` and the sync step in `apply` (issue 17, part 3), over real HTTP against the
//! real mock, on both ledger backends: outcomes collected after `apply --no-follow`, through
//! the batch endpoint or, on a server with only the documented endpoints, through the status
//! endpoint for calls whose id is known; the clear message when none is; retries placed
//! once they are due; and the outcome deadline.

use std::process::Output;
use std::time::Duration;

use mock_server::MockConfig;
use serde_json::{Value, json};

use crate::apply::{KEY, Mock, apply, campaign, report_json, text, wait_until};
use crate::{on_both_backends, outreach};

/// A mock whose clock stands still until the test advances it.
fn frozen(documented_only: bool) -> Mock {
    Mock::start(MockConfig {
        time_scale: 0.0,
        documented_only,
        ..MockConfig::default()
    })
}

/// Moves the mock's clock on by an hour: every call placed is final.
fn advance(mock: &Mock) {
    mock.send(
        reqwest::Method::POST,
        "/__mock/clock/advance",
        &json!({"seconds": 3600}),
    );
}

/// `outreach sync` of the campaign on `url`, as JSON.
fn sync(c: &crate::apply::Campaign, url: &str) -> (Output, Value) {
    let out = sync_as(c, url, &["--format", "json"]);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out, doc)
}

fn sync_as(c: &crate::apply::Campaign, url: &str, extra: &[&str]) -> Output {
    outreach()
        .env("INTRON_API_KEY", KEY)
        .args(["sync", "--api-url", url, "--state"])
        .arg(c.state())
        .arg(&c.path)
        .args(extra)
        .output()
        .unwrap()
}

/// The mock's outcomes, as the ledger names them: (answered, failed, no_answer).
fn mock_outcomes(mock: &Mock) -> (u64, u64, u64) {
    let calls = mock.get("/__mock/calls?limit=1000");
    let mut n = (0, 0, 0);
    for c in calls["data"]["calls"].as_array().unwrap() {
        match c["processing_status"].as_str().unwrap() {
            "VOICE_CALL_PROCESSED" => n.0 += 1,
            "VOICE_CALL_FAILED" => n.1 += 1,
            "VOICE_CALL_TIMEOUT" => n.2 += 1,
            other => panic!("a call not final: {other}"),
        }
    }
    n
}

fn learnt(doc: &Value) -> (u64, u64, u64) {
    (
        doc["answered"].as_u64().unwrap(),
        doc["failed"].as_u64().unwrap(),
        doc["no_answer"].as_u64().unwrap(),
    )
}

/// Requests the mock received for a path starting with `prefix`.
fn requests_to(mock: &Mock, method: &str, prefix: &str) -> usize {
    let journal = mock.get("/__mock/journal?limit=100000");
    journal["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == method && e["path"].as_str().unwrap().starts_with(prefix))
        .count()
}

/// The ledger's name for the mock's target (its URL in its normal form).
fn target_of(url: &str) -> String {
    outreach::settings::target::TargetId::url(url)
        .unwrap()
        .to_string()
}

// Class: outcomes that nobody collects once apply stops following (`--no-follow`, a crash):
// the calls stayed accepted for ever.
on_both_backends! {
    fn sync_settles_every_call_through_the_batch_endpoint() {
        let mock = frozen(false);
        let c = campaign(6, "delivery: {batch_size: 2}\n");
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));

        // Nothing final yet: looked up, nothing learnt, nothing that cannot be learnt.
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(doc["format"], "outreach-sync", "{doc}");
        assert_eq!(doc["version"], 1, "{doc}");
        assert_eq!(doc["looked_at"], 6, "{doc}");
        assert_eq!(doc["not_final"], 6, "{doc}");
        assert_eq!(doc["batch_endpoint"], "offered", "{doc}");
        assert_eq!(doc["lookups"], 3, "one request per batch: {doc}");

        advance(&mock);
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(learnt(&doc), mock_outcomes(&mock), "{doc}");
        assert_eq!(doc["not_final"], 0, "{doc}");
        assert_eq!(doc["not_learnt"], json!([]), "{doc}");

        let report = report_json(&c, &mock.url);
        let (answered, failed, no_answer) = mock_outcomes(&mock);
        assert_eq!(report["answered"], answered, "{report}");
        assert_eq!(report["failed"], failed, "{report}");
        assert_eq!(report["no_answer"], no_answer, "{report}");
        assert_eq!(report["pending"], 0, "{report}");

        // Settled calls are not looked up again.
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(doc["looked_at"], 0, "{doc}");
        let human = sync_as(&c, &mock.url, &[]);
        assert!(String::from_utf8_lossy(&human.stdout).contains("nothing to look up"), "{}", text(&human));
    }
}

// Class: a client that needs the batch endpoint this project assumed: against a server with
// only the documented endpoints it must say what it cannot know, and use the status endpoint
// for the calls whose id it knows.
on_both_backends! {
    fn without_batches_sync_says_why_then_settles_by_call_id() {
        let mock = frozen(true);
        let c = campaign(5, "delivery: {batch_size: 5}\n");
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&mock);

        // No call id is known: nobody but the callback can give these outcomes.
        let out = sync_as(&c, &mock.url, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("5 calls have no call id yet: the service gives call ids only in its completion callback; run `outreach callbacks` where the service can reach it"),
            "{said}"
        );
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert_eq!(doc["batch_endpoint"], "not_offered", "{doc}");
        assert_eq!(doc["not_learnt"][0]["reason"], "no_call_id", "{doc}");
        assert_eq!(doc["not_learnt"][0]["calls"], 5, "{doc}");
        assert_eq!(requests_to(&mock, "GET", "/voicebot/v1/status/"), 0);

        // The call ids, as a completion callback gives them, written through the ledger's
        // outcome-less path (the state stays `accepted`; the receiver's API records the
        // same): taken from the mock's own list of the calls it placed.
        {
            let mut ledger = outreach::ledger::Ledger::open(&c.state()).unwrap();
            let target = target_of(&mock.url);
            let calls = mock.get("/__mock/calls?limit=1000");
            for call in calls["data"]["calls"].as_array().unwrap() {
                let key = call["user_tag_identifiers"]["outreach_key"].as_str().unwrap();
                ledger
                    .outcome(
                        &target,
                        key,
                        1,
                        outreach::ledger::CallState::Accepted,
                        Some(call["call_id"].as_str().unwrap()),
                        None,
                        None,
                        None,
                    )
                    .unwrap();
            }
        }
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(learnt(&doc), mock_outcomes(&mock), "{doc}");
        assert_eq!(doc["not_learnt"], json!([]), "{doc}");
        assert_eq!(requests_to(&mock, "GET", "/voicebot/v1/status/"), 5, "one lookup per call");
        let report = report_json(&c, &mock.url);
        assert_eq!(report["pending"], 0, "{report}");
    }
}

// Class: retries of outcomes that arrived after apply stopped following never fired.
on_both_backends! {
    fn rerunning_apply_after_no_follow_places_exactly_the_due_retries_once() {
        let mock = Mock::with_outcomes(&json!({"answered": 1, "failed": 1, "no_answer": 1}));
        let c = campaign(
            9,
            "delivery: {batch_size: 3, retry: {attempts: 2, outcomes: [failed, no_answer], delay: 1s}}\n",
        );
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let first: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(first["counts"]["sent"], 9, "{first}");
        assert_eq!(first["counts"]["answered"], 0, "not followed: {first}");
        // The mock's calls end in a fraction of a second (its clock runs at 3600x).
        wait_until(
            || {
                mock.get("/__mock/calls?limit=1000")["data"]["calls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["processing_status"] != "VOICE_CALL_QUEUED" && c["processing_status"] != "VOICE_CALL_PROCESSING")
            },
            "the mock's calls to end",
        );
        let (answered, failed, no_answer) = mock_outcomes(&mock);
        assert!(failed + no_answer > 0 && answered > 0, "the seed gives a mix");

        // The run collects the outcomes first, then places the retries they made due.
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let second: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(second["counts"]["sent"], failed + no_answer, "{second}");
        assert_eq!(mock.calls().len() as u64, 9 + failed + no_answer);

        // Once: the next run has nothing to place (every retry is the last attempt).
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let third: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(third["counts"]["sent"], 0, "{third}");
        assert_eq!(mock.calls().len() as u64, 9 + failed + no_answer);
    }
}

// Class: outcomes recorded without a campaign at hand (by the callback receiver) have no
// retry time, and were never retried.
on_both_backends! {
    fn an_outcome_recorded_without_a_retry_time_is_retried_after_the_delay() {
        let mock = Mock::fast();
        let c = campaign(3, "delivery: {retry: {attempts: 2, outcomes: [no_answer], delay: 1s}}\n");
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        {
            let mut ledger = outreach::ledger::Ledger::open(&c.state()).unwrap();
            let target = target_of(&mock.url);
            let open = ledger.attempts(&target, "apply-test", "t1", &[]).unwrap();
            assert_eq!(open.len(), 3);
            for a in &open {
                ledger
                    .outcome(
                        &target,
                        &a.key,
                        a.attempt,
                        outreach::ledger::CallState::NoAnswer,
                        Some("call-from-a-callback"),
                        None,
                        None,
                        None,
                    )
                    .unwrap();
            }
        }
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        // Recorded just now: due a second from now, later than this run (which does not wait).
        assert_eq!(summary["counts"]["sent"], 0, "{summary}");
        assert_eq!(summary["counts"]["retry_later"], 3, "{summary}");
        // A run that may wait places them once they are due.
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 3, "{summary}");
        assert_eq!(mock.calls().len(), 6);
    }
}

// Class: an accepted call whose outcome never arrives stayed pending for ever.
on_both_backends! {
    fn past_the_outcome_deadline_accepted_calls_become_outcome_unknown() {
        let mock = frozen(true);
        let c = campaign(
            4,
            "delivery: {outcome_deadline: 1s, retry: {attempts: 2, outcomes: [outcome_unknown], delay: 1s}}\n",
        );
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // Let the deadline (a second after each accept, by the ledger's clock) pass.
        std::thread::sleep(Duration::from_millis(1500));
        let (out, doc) = sync(&c, &mock.url);
        assert_eq!(out.status.code(), Some(0), "given up on, nothing left open: {}", text(&out));
        assert_eq!(doc["outcome_unknown"], 4, "{doc}");
        assert_eq!(doc["not_learnt"], json!([]), "{doc}");
        let report = report_json(&c, &mock.url);
        assert_eq!(report["outcome_unknown"], 4, "{report}");
        assert_eq!(report["pending"], 0, "{report}");
        assert_eq!(report["success_rate"], 0.0, "counted as not reached: {report}");

        // The policy lists outcome_unknown: a run that may wait places the retries once.
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 4, "{summary}");
    }
}

// Class: figures that count every call as pending because nothing collected the outcomes.
on_both_backends! {
    fn report_and_status_with_sync_collect_the_outcomes_first() {
        let mock = frozen(false);
        let c = campaign(4, "delivery: {batch_size: 4}\n");
        let out = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&mock);

        let out = outreach()
            .env("INTRON_API_KEY", KEY)
            .args(["status", "--json", "--sync", "--api-url", &mock.url, "--state"])
            .arg(c.state())
            .arg(&c.path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let states = &doc["campaigns"][0]["states"];
        assert!(states.get("accepted").is_none(), "{doc}");
        let (answered, failed, no_answer) = mock_outcomes(&mock);
        let count = |s: &str| states.get(s).and_then(Value::as_u64).unwrap_or(0);
        assert_eq!((count("answered"), count("failed"), count("no_answer")), (answered, failed, no_answer), "{doc}");

        // Nothing left to look up: report --sync says so, and its figures are the same.
        let out = outreach()
            .env("INTRON_API_KEY", KEY)
            .args(["report", "--format", "json", "--sync", "--api-url", &mock.url, "--state"])
            .arg(c.state())
            .arg(&c.path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["pending"], 0, "{report}");
        assert_eq!(report["answered"], answered, "{report}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to look up"), "{}", text(&out));
    }
}
