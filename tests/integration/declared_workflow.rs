//! Workflows as code (issue 18): a campaign that declares its workflow, against the mock
//! over real HTTP. The first apply creates it and calls with it; a changed message is a word
//! diff in plan and a new workflow at apply; a hand edit on the service is refused with the
//! three versions unless `--overwrite-workflow`; a server with only the documented endpoints
//! still works (hand edits not checked); a failed create places no call; a pulled workflow
//! plans as unchanged; and the receiver's token is in no output.

use std::process::Output;

use serde_json::{Value, json};

use crate::apply::{Campaign, KEY, Mock, apply, campaign, text};
use crate::on_both_backends;
use crate::outreach;
use crate::signals::Server;

/// The receiver's token the tests give apply (never to be printed).
const TOKEN: &str = "wf7a1c9e5b2d4f60818a9c0b1d2e3f4055";

const FIRST: &str = "Hello [name], your child's measles dose is due at the clinic.";
const SECOND: &str =
    "Hello [name], your child's second measles dose is due at the clinic on Monday.";

/// A campaign of `n` patients declaring a workflow of `message`, in round `round`.
fn declared(n: usize, message: &str, round: &str, callback: Option<&str>) -> Campaign {
    let c = campaign(n, "delivery: {batch_size: 10}\n");
    rewrite(&c, message, round, callback);
    c
}

/// Writes the campaign's file again with another message, round or callback URL.
fn rewrite(c: &Campaign, message: &str, round: &str, callback: Option<&str>) {
    let yaml = std::fs::read_to_string(&c.path).unwrap();
    let mut out = String::new();
    for line in yaml.lines() {
        if line.starts_with("workflow_id:") || line.starts_with("round:") {
            continue;
        }
        if line.starts_with("workflow:") {
            continue;
        }
        if line.starts_with("  name: wf-") || line.starts_with("  message: ") {
            continue;
        }
        if line.starts_with("  call_back_url: ")
            || line.starts_with("  include_reply")
            || line.starts_with("  response_options")
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let callback = callback
        .map(|u| format!("  call_back_url: {u}\n"))
        .unwrap_or_default();
    let head = format!(
        "workflow:\n  name: wf-reminder\n  message: \"{message}\"\n  include_reply: true\n  response_options: {{\"1\": \"Yes\", \"2\": \"Call me back\"}}\n{callback}round: \"{round}\"\n"
    );
    std::fs::write(&c.path, format!("{head}{out}")).unwrap();
}

/// `outreach plan` of the campaign against `url` with the test key and its ledger.
fn plan(c: &Campaign, url: &str, extra: &[&str]) -> Output {
    outreach()
        .env("INTRON_API_KEY", KEY)
        .env("OUTREACH_CALLBACK_TOKEN", TOKEN)
        .args(["plan", "--api-url", url])
        .arg(&c.path)
        .arg("--state")
        .arg(c.state())
        .args(extra)
        .output()
        .unwrap()
}

/// `outreach apply` with the receiver's token in the environment.
fn apply_with_token(c: &Campaign, url: &str, extra: &[&str]) -> Output {
    crate::apply::apply_command(&c.path, c, url, extra)
        .env("OUTREACH_CALLBACK_TOKEN", TOKEN)
        .output()
        .unwrap()
}

/// The mock's workflows of the test's name, oldest first.
fn workflows(mock: &Mock) -> Vec<Value> {
    let url = format!("{}/voicebot/v1/workflows?page=1&limit=100", mock.url);
    let list: Value = mock.rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    list["data"]["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["name"] == "wf-reminder")
        .cloned()
        .collect()
}

/// Every call the mock placed: (workflow id, message heard, phone).
fn heard(mock: &Mock) -> Vec<(String, String, String)> {
    let v = mock.get("/__mock/calls?limit=100000");
    v["data"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["workflow_id"].as_str().unwrap_or_default().to_owned(),
                c["message"].as_str().unwrap_or_default().to_owned(),
                c["phone_number"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn all_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

on_both_backends! {
    fn a_declared_workflow_is_created_then_rebound_when_its_words_change() {
        let mock = Mock::fast();
        let c = declared(3, FIRST, "r1", None);
        // Before the first apply: absent, a change to review (exit 2 with --detailed-exitcode).
        let before = plan(&c, &mock.url, &["--detailed-exitcode"]);
        assert_eq!(before.status.code(), Some(2), "{}", text(&before));
        assert!(text(&before).contains("not on "), "{}", text(&before));

        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let created = workflows(&mock);
        assert_eq!(created.len(), 1, "{created:?}");
        let first_id = created[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(created[0]["message"], FIRST);
        let calls = heard(&mock);
        assert_eq!(calls.len(), 3);
        for (id, message, _) in &calls {
            assert_eq!(id, &first_id);
            assert!(message.starts_with("Hello Patient "), "{message}");
            assert!(message.ends_with("your child's measles dose is due at the clinic."), "{message}");
        }

        // Planned again: unchanged, nothing to review.
        let same = plan(&c, &mock.url, &["--detailed-exitcode"]);
        assert_eq!(same.status.code(), Some(0), "{}", text(&same));
        assert!(text(&same).contains(&format!("unchanged on {} (workflow {first_id})", mock.url)), "{}", text(&same));

        // The message changes in the file, mid-round: a word diff, and the patients already
        // called are counted.
        rewrite(&c, SECOND, "r1", None);
        let changed = plan(&c, &mock.url, &["--detailed-exitcode"]);
        assert_eq!(changed.status.code(), Some(2), "{}", text(&changed));
        let shown = text(&changed);
        assert!(shown.contains("{+second +}"), "{shown}");
        assert!(shown.contains("{+on Monday.+}") || shown.contains("[-clinic.-]{+clinic on Monday.+}"), "{shown}");
        assert!(shown.contains("3 patients of this round were already called with the earlier message"), "{shown}");
        let md = plan(&c, &mock.url, &["--format", "markdown"]);
        let md = String::from_utf8_lossy(&md.stdout).into_owned();
        let message_at = md.find("#### Message of workflow `wf-reminder` changed").expect(&md);
        assert!(message_at < md.find("| patient rows read").unwrap(), "the message first:\n{md}");
        assert!(md.contains("**second**"), "{md}");
        assert!(md.contains(&format!("- {FIRST}")) && md.contains(&format!("+ {SECOND}")), "{md}");

        // A new round with the new words: apply creates a new workflow and calls with it.
        rewrite(&c, SECOND, "r2", None);
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let created = workflows(&mock);
        assert_eq!(created.len(), 2, "{created:?}");
        let second_id = created
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_owned())
            .find(|id| id != &first_id)
            .unwrap();
        let calls = heard(&mock);
        assert_eq!(calls.len(), 6);
        // The first round's calls kept the words they were placed with.
        assert_eq!(calls.iter().filter(|(id, m, _)| id == &first_id && !m.contains("second")).count(), 3);
        assert_eq!(calls.iter().filter(|(id, m, _)| id == &second_id && m.contains("second measles dose")).count(), 3);
    }
}

on_both_backends! {
    fn a_hand_edit_on_the_service_is_refused_with_three_versions_unless_overwritten() {
        let mock = Mock::fast();
        let c = declared(2, FIRST, "r1", None);
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let id = workflows(&mock)[0]["id"].as_str().unwrap().to_owned();
        let edited = "Hello [name], come today.";
        mock.send(
            reqwest::Method::PATCH,
            &format!("/voicebot/v1/workflows/{id}"),
            &json!({"message": edited}),
        );

        rewrite(&c, FIRST, "r2", None);
        let shown = text(&plan(&c, &mock.url, &[]));
        assert!(shown.contains("edited on "), "{shown}");
        let refused = apply(&c, &mock.url, &[]);
        assert_ne!(refused.status.code(), Some(0), "{}", text(&refused));
        let said = text(&refused);
        for part in [
            &format!("last pushed: \"{FIRST}\""),
            &format!("on service:  \"{edited}\""),
            &format!("in the file: \"{FIRST}\""),
            &"--overwrite-workflow".to_owned(),
        ] {
            assert!(said.contains(part.as_str()), "{part} in {said}");
        }
        assert_eq!(heard(&mock).len(), 2, "no call placed after the refusal");

        let out = apply(&c, &mock.url, &["--json", "--overwrite-workflow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let ids: Vec<String> = workflows(&mock).iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        let new_id = ids.iter().find(|i| **i != id).unwrap();
        let calls = heard(&mock);
        assert_eq!(calls.len(), 4);
        assert_eq!(calls.iter().filter(|(w, m, _)| w == new_id && m.ends_with("measles dose is due at the clinic.")).count(), 2);
    }
}

#[test]
fn against_the_documented_endpoints_alone_hand_edits_are_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "3600"]);
    let url = server.url();
    let c = declared(2, FIRST, "r1", None);
    let out = apply(&c, &url, &["--json", "--no-follow"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["sent"], 2, "{summary}");

    let shown = text(&plan(&c, &url, &[]));
    assert!(
        shown.contains("hand edits on the service were not checked"),
        "{shown}"
    );
    rewrite(&c, FIRST, "r2", None);
    let out = apply(&c, &url, &["--json", "--no-follow"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("were not checked: it offers no workflow lookup"),
        "{log}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["sent"], 2, "{summary}");

    // The changed words make a new workflow there too, with the documented POST alone.
    rewrite(&c, SECOND, "r3", None);
    let shown = text(&plan(&c, &url, &[]));
    assert!(shown.contains("{+second +}"), "{shown}");
    let out = apply(&c, &url, &["--json", "--no-follow"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("created workflow `wf-reminder`"), "{log}");
}

on_both_backends! {
    fn a_failed_create_places_no_call() {
        let mock = Mock::fast();
        mock.set_faults(&json!([{"route": "workflows", "error_rate": 1.0, "error_statuses": [503]}]));
        let c = declared(3, FIRST, "r1", None);
        let out = apply(&c, &mock.url, &[]);
        assert_ne!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("no call was placed"), "{}", text(&out));
        assert!(heard(&mock).is_empty());
        // Once the service creates it, the calls go, once.
        mock.set_faults(&json!([]));
        let out = apply(&c, &mock.url, &["--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(heard(&mock).len(), 3);
    }
}

/// Creates a workflow on the mock, as someone would in the dashboard; its id.
fn hand_made(mock: &Mock, callback: &str) -> String {
    let url = format!("{}/voicebot/v1/workflows", mock.url);
    let body = json!({
        "name": "wf-reminder",
        "workflow_type": "ROBOCALL",
        "message": FIRST,
        "include_reply": true,
        "response_options": {"1": "Yes", "2": "Call me back"},
        "call_back_url": callback,
    });
    let answer: Value = mock.rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    answer["data"]["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_pulled_workflow_pasted_into_a_campaign_plans_unchanged_and_is_bound_not_created() {
    let mock = Mock::fast();
    let base = "http://127.0.0.1:9/callbacks";
    let id = hand_made(&mock, &format!("{base}/{TOKEN}"));
    let pulled = outreach()
        .env("INTRON_API_KEY", KEY)
        .args(["workflows", "pull", &id, "--api-url", &mock.url])
        .output()
        .unwrap();
    assert_eq!(pulled.status.code(), Some(0), "{}", text(&pulled));
    let block = String::from_utf8(pulled.stdout.clone()).unwrap();
    assert!(!all_text(&pulled).contains(TOKEN));

    let c = campaign(2, "delivery: {batch_size: 10}\n");
    let yaml = std::fs::read_to_string(&c.path).unwrap();
    let yaml = yaml.replace(
        "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\n",
        &format!("{block}\n"),
    );
    std::fs::write(&c.path, &yaml).unwrap();
    let checked = outreach().arg("validate").arg(&c.path).output().unwrap();
    assert_eq!(checked.status.code(), Some(0), "{}\n{yaml}", text(&checked));

    let planned = plan(&c, &mock.url, &["--detailed-exitcode"]);
    let shown = text(&planned);
    assert!(
        shown.contains(&format!(
            "unchanged: the same as workflow {id} of that name"
        )),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN), "{shown}");

    let out = apply_with_token(&c, &mock.url, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(workflows(&mock).len(), 1, "bound, not created again");
    assert!(heard(&mock).iter().all(|(w, _, _)| w == &id));
    let again = plan(&c, &mock.url, &[]);
    assert!(
        text(&again).contains(&format!("unchanged on {} (workflow {id})", mock.url)),
        "{}",
        text(&again)
    );
}

#[test]
fn the_receivers_token_is_in_no_output_and_its_absence_creates_nothing() {
    let mock = Mock::fast();
    let base = "http://127.0.0.1:9/callbacks";
    let c = declared(2, FIRST, "r1", Some(base));

    // Without the token, a workflow with a callback URL is not created: outcomes would go
    // to a URL that answers 404.
    let out = apply(&c, &mock.url, &[]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("OUTREACH_CALLBACK_TOKEN"),
        "{}",
        text(&out)
    );
    assert!(workflows(&mock).is_empty() && heard(&mock).is_empty());

    let mut outputs = Vec::new();
    let out = apply_with_token(&c, &mock.url, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    outputs.push(out);
    let created = workflows(&mock);
    assert_eq!(
        created[0]["call_back_url"],
        format!("{base}/{TOKEN}"),
        "pushed with its token"
    );
    let id = created[0]["id"].as_str().unwrap().to_owned();

    rewrite(&c, SECOND, "r1", Some(base));
    for format in ["human", "markdown", "json"] {
        outputs.push(plan(&c, &mock.url, &["--format", format]));
    }
    let saved = c.dir.path().join("saved.json");
    outputs.push(plan(&c, &mock.url, &["--out", saved.to_str().unwrap()]));
    for args in [
        vec!["workflows", "list"],
        vec!["workflows", "show", &id],
        vec!["workflows", "pull", &id],
        vec!["workflows", "list", "--format", "json"],
    ] {
        outputs.push(
            outreach()
                .env("INTRON_API_KEY", KEY)
                .args(&args)
                .args(["--api-url", &mock.url])
                .output()
                .unwrap(),
        );
    }
    outputs.push(apply_with_token(&c, &mock.url, &[]));
    for out in &outputs {
        let all = all_text(out);
        assert!(!all.contains(TOKEN), "the token in: {all}");
    }
    let saved = std::fs::read_to_string(&saved).unwrap();
    assert!(!saved.contains(TOKEN));
    assert!(
        !c.ledger_text().contains(TOKEN),
        "the ledger holds no token"
    );
    let shown = all_text(&outputs[1]);
    assert!(shown.contains("/callbacks/<token>"), "{shown}");
}

/// A pull request's dry run has no live binding: the message diff comes from `plan --compare`
/// against the base branch's saved plan, made offline.
#[test]
fn a_pull_request_sees_the_message_diff_against_the_base_plan() {
    let c = declared(2, FIRST, "r1", None);
    let base = c.dir.path().join("base.json");
    let offline = |extra: &[&str]| {
        outreach()
            .arg("plan")
            .arg(&c.path)
            .arg("--state")
            .arg(c.dir.path().join("none.db"))
            .args(extra)
            .output()
            .unwrap()
    };
    let made = offline(&["--out", base.to_str().unwrap()]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    assert!(
        text(&made).contains("not compared with the service"),
        "{}",
        text(&made)
    );
    // The same words: no message section.
    let same = offline(&["--compare", base.to_str().unwrap(), "--format", "markdown"]);
    assert!(
        !String::from_utf8_lossy(&same.stdout).contains("#### Message changed"),
        "{}",
        text(&same)
    );
    rewrite(&c, SECOND, "r1", None);
    let md = offline(&[
        "--compare",
        base.to_str().unwrap(),
        "--format",
        "markdown",
        "--detailed-exitcode",
    ]);
    assert_eq!(md.status.code(), Some(2), "{}", text(&md));
    let md = String::from_utf8_lossy(&md.stdout).into_owned();
    let at = md
        .find("#### Message changed since `base.json`")
        .expect(&md);
    assert!(
        at < md.find("#### Settings changed").unwrap_or(usize::MAX),
        "{md}"
    );
    assert!(at < md.find("| patient rows read").unwrap(), "{md}");
    assert!(md.contains("**second**"), "{md}");
    let human = text(&offline(&["--compare", base.to_str().unwrap()]));
    assert!(
        human.contains("message changed since the plan compared with:"),
        "{human}"
    );
    assert!(human.contains("{+second +}"), "{human}");
}

// Class: calls in doubt looked up on the workflow the file's words point to, when they were
// placed on the one bound before a change of words: they would be sent twice. (Every workflow
// ever bound for the campaign is looked through.)
on_both_backends! {
    fn calls_in_doubt_are_found_on_the_bound_workflow_when_its_words_change() {
        let mock = Mock::fast();
        mock.set_faults(&json!([{"route": "robocall", "drop_response_rate": 1.0}]));
        let c = declared(3, FIRST, "r1", None);
        let first = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(first.status.code(), Some(1), "{}", text(&first));
        let summary: Value = serde_json::from_slice(&first.stdout).unwrap();
        assert_eq!(summary["counts"]["in_doubt"], 3, "{summary}");
        assert_eq!(heard(&mock).len(), 3, "placed although the client never heard");

        mock.set_faults(&json!([]));
        rewrite(&c, SECOND, "r1", None);
        let second = apply(&c, &mock.url, &["--json"]);
        assert_eq!(second.status.code(), Some(0), "{}", text(&second));
        let summary: Value = serde_json::from_slice(&second.stdout).unwrap();
        assert_eq!(summary["counts"]["resolved"], 3, "{summary}");
        assert_eq!(summary["counts"]["sent"], 0, "found on the earlier workflow: {summary}");
        // Nothing left to send: the new words are not pushed for nobody.
        assert_eq!(workflows(&mock).len(), 1);
        assert_eq!(heard(&mock).len(), 3, "nobody called twice");
    }
}

/// `--callback-url` (the receiver's URL with its token) is checked against the declared
/// `call_back_url`, offline, token ignored and never shown.
#[test]
fn the_receivers_url_is_checked_against_the_declared_one_without_its_token() {
    let base = "https://outreach.example.org/callbacks";
    let c = declared(2, FIRST, "r1", Some(base));
    let offline = |url: &str| {
        outreach()
            .args(["plan", "--callback-url", url])
            .arg(&c.path)
            .arg("--state")
            .arg(c.dir.path().join("none.db"))
            .output()
            .unwrap()
    };
    let same = offline(&format!("{base}/{TOKEN}"));
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(!text(&same).contains("PROBLEM"), "{}", text(&same));
    let other = offline(&format!("https://elsewhere.example.org/callbacks/{TOKEN}"));
    assert_eq!(other.status.code(), Some(1), "{}", text(&other));
    assert!(
        text(&other).contains("is not the --callback-url given"),
        "{}",
        text(&other)
    );
    for out in [&same, &other] {
        assert!(!all_text(out).contains(TOKEN));
    }
}

/// A run with nothing to send creates nothing; a hand edit that made the service say what
/// the file says is taken, not refused, and bound without creating another.
#[test]
fn nothing_is_created_without_calls_to_send_and_a_service_edited_to_the_file_is_taken() {
    let mock = Mock::fast();
    let c = declared(2, FIRST, "r1", None);
    let out = apply(&c, &mock.url, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let id = workflows(&mock)[0]["id"].as_str().unwrap().to_owned();

    // New words, but every patient of the round was called: nothing to send, nothing made.
    rewrite(&c, SECOND, "r1", None);
    let out = apply(&c, &mock.url, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        workflows(&mock).len(),
        1,
        "no workflow for a run that sends nothing"
    );

    // Someone puts the file's new words on the service by hand: the file and the service
    // agree, so the next round is called with that workflow, and none is created.
    mock.send(
        reqwest::Method::PATCH,
        &format!("/voicebot/v1/workflows/{id}"),
        &json!({"message": SECOND}),
    );
    rewrite(&c, SECOND, "r2", None);
    let shown = text(&plan(&c, &mock.url, &[]));
    assert!(
        shown.contains(&format!("unchanged on {} (workflow {id})", mock.url)),
        "{shown}"
    );
    let out = apply(&c, &mock.url, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(workflows(&mock).len(), 1);
    let calls = heard(&mock);
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|(w, _, _)| w == &id));
    // And the binding now holds those words: planned again, still unchanged.
    let again = text(&plan(&c, &mock.url, &[]));
    assert!(again.contains("unchanged on "), "{again}");
}

/// Marks that reorder or hide text make what a reviewer reads differ from what a patient
/// hears: refused by validate, and shown inert by plan.
#[test]
fn a_message_with_hidden_marks_is_refused() {
    let c = declared(
        1,
        "Hello [name], do \u{202e}not\u{202c} come today.",
        "r1",
        None,
    );
    let out = outreach().arg("validate").arg(&c.path).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("bad-text"), "{}", text(&out));
    assert!(!all_text(&out).contains('\u{202e}'));
}
