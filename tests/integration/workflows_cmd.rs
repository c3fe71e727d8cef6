//! `outreach workflows list|show|pull` against the real mock over loopback HTTP, and against
//! hostile servers (httpmock): no output holds a callback token, server text is inert, a pulled
//! block is the service's workflow as a campaign declares it.

use std::process::Output;

use httpmock::prelude::*;
use mock_server::MockConfig;
use mock_server::config::{SEED_CONVERSATION_WORKFLOW, SEED_ROBOCALL_WORKFLOW};
use outreach::campaign::Kind;
use outreach::campaign::workflow::{Comparable, DeclaredWorkflow};
use serde_json::{Value, json};
use voicebot_api::wire::{Envelope, Workflow};

use crate::apply::Mock;
use crate::outreach;

const KEY: &str = "test-key-wf-31a7";
const TOKEN: &str = "3f1c9a7e5b2d4f60818a9c0b1d2e3f40";

fn run(args: &[&str]) -> Output {
    outreach()
        .env("INTRON_API_KEY", KEY)
        .arg("workflows")
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A workflow created on `mock` with the documented POST; its id.
fn create(mock: &Mock, body: &Value) -> String {
    let url = format!("{}/voicebot/v1/workflows", mock.url);
    let answer: Value = mock.rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(KEY)
            .json(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    answer["data"]["id"].as_str().unwrap().to_owned()
}

fn service_workflow(mock: &Mock, id: &str) -> Workflow {
    let url = format!("{}/voicebot/v1/workflows/{id}", mock.url);
    let body: Value = mock.rt.block_on(async {
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
    serde_json::from_value::<Envelope<Workflow>>(body)
        .unwrap()
        .data
}

/// A workflow whose callback URL ends in the receiver's token, and names with a terminal's
/// escape sequence and YAML's traps in them.
fn tokened(mock: &Mock) -> String {
    create(
        mock,
        &json!({
            "name": "measles: \"second\" dose # yes",
            "description": "no\u{1b}[2J",
            "workflow_type": "ROBOCALL",
            "message": "Hello [name],\n[child]'s dose is due on [date]: 'come' \\ \u{7f} #1",
            "include_reply": true,
            "response_options": {"1": "yes", "2": "null"},
            "call_back_url": format!("https://outreach.example.org/callbacks/{TOKEN}"),
        }),
    )
}

#[test]
fn list_show_and_pull_never_print_the_token() {
    let mock = Mock::start(MockConfig::default());
    let id = tokened(&mock);
    let url = mock.url.clone();
    let outputs = [
        run(&["list", "--api-url", &url]),
        run(&["list", "--api-url", &url, "--format", "json"]),
        run(&["show", &id, "--api-url", &url]),
        run(&["show", &id, "--api-url", &url, "-f", "json"]),
        run(&["pull", &id, "--api-url", &url]),
    ];
    for out in &outputs {
        let all = text(out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(!all.contains(TOKEN), "{all}");
        assert!(!all.contains('\u{1b}'), "{all}");
        assert!(!all.contains(KEY), "{all}");
    }
    let table = String::from_utf8_lossy(&outputs[0].stdout).into_owned();
    assert!(table.contains(SEED_ROBOCALL_WORKFLOW), "{table}");
    assert!(table.contains(&id), "{table}");
    assert!(
        table.contains("https://outreach.example.org/callbacks/<token>"),
        "{table}"
    );
    assert!(table.contains("3 workflows on"), "{table}");
    let listed: Value = serde_json::from_slice(&outputs[1].stdout).unwrap();
    assert_eq!(listed["format"], "outreach-workflows");
    assert_eq!(listed["version"], 1);
    assert_eq!(listed["complete"], true);
    let ours = &listed["workflows"][2];
    assert_eq!(ours["id"], id.as_str());
    assert_eq!(
        ours["call_back_url"],
        "https://outreach.example.org/callbacks/<token>"
    );
    assert_eq!(ours["response_options"]["2"], "null");
    let shown = String::from_utf8_lossy(&outputs[2].stdout).into_owned();
    assert!(
        shown.contains("  Hello [name],\n  [child]'s dose is due"),
        "{shown}"
    );
    assert!(
        shown.contains("callback URL:  https://outreach.example.org/callbacks/<token>"),
        "{shown}"
    );
    let one: Value = serde_json::from_slice(&outputs[3].stdout).unwrap();
    assert_eq!(one["format"], "outreach-workflow");
    assert_eq!(one["workflow"]["name"], "measles: \"second\" dose # yes");
    let pulled = String::from_utf8_lossy(&outputs[4].stdout).into_owned();
    assert!(pulled.contains("OUTREACH_CALLBACK_TOKEN"), "{pulled}");
}

/// The `workflow:` block `pull` printed, read as the campaign loader reads a file.
fn declared(pulled: &str) -> DeclaredWorkflow {
    let (doc, diags) = outreach::load::document::load(pulled);
    assert!(diags.is_empty(), "{diags:?}\n{pulled}");
    serde_json::from_value(doc.unwrap().value["workflow"].clone())
        .unwrap_or_else(|e| panic!("{e}\n{pulled}"))
}

// The pulled block, read back, is the service's workflow as `plan` compares it: for the
// seeded workflows and for one whose callback URL ends in a token.
#[test]
fn a_pulled_block_declares_the_services_workflow() {
    let mock = Mock::start(MockConfig::default());
    let id = tokened(&mock);
    for (id, kind) in [
        (SEED_ROBOCALL_WORKFLOW, Kind::Robocall),
        (SEED_CONVERSATION_WORKFLOW, Kind::Conversation),
        (id.as_str(), Kind::Robocall),
    ] {
        let out = run(&["pull", id, "--api-url", &mock.url]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let pulled = String::from_utf8(out.stdout).unwrap();
        let decl = declared(&pulled);
        let service = service_workflow(&mock, id);
        assert_eq!(
            Comparable::declared(&decl, kind),
            Comparable::service(&service, None),
            "{pulled}"
        );
        // And as `apply` compares it once it pushed the declared base URL.
        let declared = Comparable::declared(&decl, kind);
        assert_eq!(
            Comparable::service(&service, declared.call_back_url.as_deref()),
            declared
        );
    }
}

// Pasted into a campaign in place of `workflow_id:`, the block validates.
#[test]
fn a_pulled_block_pasted_into_a_campaign_validates() {
    let mock = Mock::start(MockConfig::default());
    let id = tokened(&mock);
    let out = run(&["pull", &id, "--api-url", &mock.url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pulled = String::from_utf8(out.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("patients.csv"),
        "id,name,child,due,phone\nP1,Ada,Tobi,1 May,08031234567\n",
    )
    .unwrap();
    let campaign = format!(
        r#"version: 1
name: pulled
kind: robocall
{pulled}variables:
  name: "{{{{name}}}}"
  child: "{{{{child}}}}"
  date: "{{{{due}}}}"
voice: {{accent: igbo, gender: female}}
round: "r1"
patients:
  - file: patients.csv
    default_country: NG
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "00:00", until: "24:00"}}]
delivery: {{batch_size: 10}}
"#
    );
    let path = dir.path().join("campaign.yaml");
    // The service's message holds a control character (DEL): pulled as written, it is
    // refused in a campaign, since a reviewer cannot see it.
    std::fs::write(&path, &campaign).unwrap();
    let checked = outreach().arg("validate").arg(&path).output().unwrap();
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("bad-text"), "{}", text(&checked));
    // Without it, the pulled block validates.
    assert!(campaign.contains("\\u007F"), "{campaign}");
    let campaign = campaign.replace(" \\u007F", "");
    std::fs::write(&path, &campaign).unwrap();
    let checked = outreach().arg("validate").arg(&path).output().unwrap();
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}\n{campaign}",
        text(&checked)
    );
}

// With only the documented endpoints the list and the GET are not there: said in words, exit 2.
#[test]
fn a_server_without_the_list_says_so_and_exits_2() {
    let mock = Mock::start(MockConfig {
        documented_only: true,
        ..MockConfig::default()
    });
    let out = run(&["list", "--api-url", &mock.url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("does not list workflows"),
        "{}",
        text(&out)
    );
    let out = run(&["list", "--api-url", &mock.url, "-f", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "outreach-workflows-unavailable");
    assert_eq!(doc["reason"], "no-list-endpoint");
    let out = run(&["show", SEED_ROBOCALL_WORKFLOW, "--api-url", &mock.url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("answered 404"), "{}", text(&out));
}

// `--mock` needs no key: the bundled mock's seeded workflows.
#[test]
fn the_bundled_mock_lists_its_seeded_workflows() {
    let out = outreach()
        .args(["workflows", "list", "--mock"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains(SEED_CONVERSATION_WORKFLOW), "{table}");
}

// Ids that could reach another path are refused before any request is sent.
#[test]
fn ids_that_are_not_ids_are_refused_before_a_request() {
    let server = MockServer::start();
    let any = server.mock(|_, then| {
        then.status(200);
    });
    for id in [
        "../status/x",
        "a/b",
        "..",
        "a%2Fb",
        "a?b=c",
        &"a".repeat(129),
        "",
    ] {
        let out = run(&["show", id, "--api-url", &server.base_url()]);
        assert_eq!(out.status.code(), Some(2), "{id}: {}", text(&out));
        assert!(text(&out).contains("is not one"), "{}", text(&out));
        let out = run(&["pull", id, "--api-url", &server.base_url()]);
        assert_eq!(out.status.code(), Some(2), "{id}: {}", text(&out));
    }
    any.assert_calls(0);
}

// Hostile servers: an answer far larger than any list, an HTML error page, a 401, control
// characters in what they send. Exit 2 with a line that says why; nothing raw reaches the
// terminal.
#[test]
fn hostile_answers_are_refused_in_words() {
    let server = MockServer::start();
    let huge = format!(
        r#"{{"data": {{"workflows": [], "pad": "{}"}}}}"#,
        "x".repeat(5 * 1024 * 1024)
    );
    let mut big = server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/workflows");
        then.status(200).body(huge.clone());
    });
    let out = run(&["list", "--api-url", &server.base_url()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("larger than"), "{}", text(&out));
    big.delete();

    let mut html = server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/workflows");
        then.status(502)
            .body("<html><body>\u{1b}]0;pwned\u{7}Bad gateway</body></html>");
    });
    let out = run(&["list", "--api-url", &server.base_url()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("502"), "{}", text(&out));
    assert!(!text(&out).contains('\u{1b}'), "{}", text(&out));
    html.delete();

    let mut refused = server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/workflows");
        then.status(401).body("{}");
    });
    let out = run(&["list", "--api-url", &server.base_url()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("refused the API key (401)"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(KEY), "{}", text(&out));
    refused.delete();

    server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/workflows/w1");
        then.status(200).json_body(json!({"data": {
            "id": "w1\u{1b}[31m", "name": "evil\u{1b}[2J\u{9b}name", "workflow_type": "ROBOCALL",
            "message": "hi\u{1b}]52;c;aGk=\u{7}", "call_back_url": "https://u:hunter2pass@h.example.org/cb?k=hunter2key"
        }}));
    });
    for args in [
        vec!["show", "w1"],
        vec!["show", "w1", "-f", "json"],
        vec!["pull", "w1"],
    ] {
        let mut args = args.clone();
        let base = server.base_url();
        args.extend(["--api-url", &base]);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let all = text(&out);
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{9b}'),
            "{all:?}"
        );
        assert!(!all.contains("hunter2"), "{all}");
    }
}
