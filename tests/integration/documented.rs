//! `outreach apply` against `outreach mock-server --documented-only`: a server with only the
//! endpoints the service documents, as the live one may be (issue 17, part 1).

use serde_json::Value;

use crate::apply::{apply, campaign, text};
use crate::on_both_backends;
use crate::signals::Server;

/// The calls the mock placed, from `GET /__mock/calls` (which documented-only keeps).
fn placed(server: &Server) -> Vec<Value> {
    let answer = server
        .raw("GET /__mock/calls?limit=1000 HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str::<Value>(body).unwrap()["data"]["calls"]
        .as_array()
        .unwrap()
        .clone()
}

// Class: a client that needs the endpoints this project assumed would fail (or wait for ever)
// against a service that has only the documented ones.
on_both_backends! {
    fn apply_places_its_calls_once_on_a_server_without_the_assumed_endpoints() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "3600"]);
        let url = server.url();

        // Not following: the calls are placed once and stay accepted, outcomes not known.
        let c = campaign(5, "delivery: {batch_size: 2}\n");
        let out = apply(&c, &url, &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 5, "{summary}");
        assert_eq!(summary["counts"]["accepted"], 5, "{summary}");
        assert_eq!(summary["counts"]["in_doubt"], 0, "{summary}");
        let mut phones: Vec<String> = placed(&server)
            .iter()
            .map(|call| call["phone_number"].as_str().unwrap().to_owned())
            .collect();
        phones.sort_unstable();
        let mut expected = c.numbers.clone();
        expected.sort_unstable();
        assert_eq!(phones, expected, "every patient called exactly once");

        // Following: the batch endpoint answers 404, so apply says outcomes cannot be followed
        // and stops following at once (not at its follow timeout, which says other words),
        // exit 0. A watchdog ends a hang.
        let followed = campaign(3, "delivery: {batch_size: 3}\n");
        let out = crate::apply::apply_command(&followed.path, &followed, &url, &["--json"])
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            log.contains("the server does not report batches, so outcomes cannot be followed; the calls stay accepted"),
            "{log}"
        );
        assert!(!log.contains("stopped following"), "{log}");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["accepted"], 3, "{summary}");
        assert_eq!(summary["counts"]["unfollowed"], 3, "{summary}");
        assert_eq!(summary["counts"]["answered"], 0, "{summary}");
        assert_eq!(placed(&server).len(), 8);

        // Run again: nothing is sent twice, whatever the server could not say.
        let again = apply(&followed, &url, &["--json"]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again));
        let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 0, "{summary}");
        assert_eq!(placed(&server).len(), 8);
    }
}

// Class: a lookup this project assumed ([ours]) read as a fact about the service. The
// workflow GET is not in the public docs: its 404 says nothing of the workflow.
#[test]
fn plan_says_the_workflow_was_not_checked_when_the_server_has_no_workflow_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::outreach_mock(dir.path(), &["--documented-only"]);
    let c = campaign(2, "");
    let out = crate::outreach()
        .env("INTRON_API_KEY", crate::apply::KEY)
        .args(["plan", "--api-url", &server.url(), "--state"])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    let all = text(&out);
    assert!(!all.contains("does not exist"), "{all}");
    assert!(!all.contains("PROBLEM"), "{all}");
    assert!(all.contains("were not checked"), "{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");

    let json = crate::outreach()
        .env("INTRON_API_KEY", crate::apply::KEY)
        .args([
            "plan",
            "--format",
            "json",
            "--api-url",
            &server.url(),
            "--state",
        ])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["message_checked"], false, "{doc}");
    assert!(doc["workflow"].is_null(), "{doc}");
}

// Class: outcomes sent where no receiver listens. A workflow whose callback URL is not the
// receiver's loses every outcome; plan says so, without printing either URL (the token).
#[test]
fn plan_reports_a_workflow_whose_callback_url_is_not_the_receivers() {
    let c = campaign(2, "");
    let out = crate::outreach()
        .args(["plan", "--mock", "--callback-url"])
        .arg("https://outcomes.example.org/callbacks/s3cret-token-123")
        .arg("--state")
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    let all = text(&out);
    assert!(
        all.contains("PROBLEM: the workflow has no call_back_url"),
        "{all}"
    );
    assert!(!all.contains("s3cret-token-123"), "{all}");
    assert_eq!(out.status.code(), Some(1), "{all}");
}
