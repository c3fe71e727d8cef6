//! Contract tests of the voicebot client against `httpmock` (issue 17, part 4).
//!
//! The client and the bundled mock share their wire types (`voicebot-api`), so a mistake in
//! those types passes every test that runs the one against the other. Here each expectation is
//! written from the [doc] lines of the contract (`docs/voicebot-api.md`), literally: the
//! method, the path, `Authorization: Bearer …`, `Content-Type`, and the JSON bodies, never
//! built from our types. httpmock serves on a free loopback port; nothing reaches the internet.
//!
//! The request bodies are checked on what the `outreach` binary really sends (`apply` builds
//! them); the answers' handling on the client itself.

use std::time::Duration;

use httpmock::prelude::*;
use outreach::client::{Client, CreateError, LookupError, MAX_RETRY_AFTER, SendError};
use secrecy::SecretString;
use serde_json::{Value, json};
use voicebot_api::wire::{CreateWorkflow, ProcessingStatus, WorkflowType};

const KEY: &str = "contract-key-5d1e";
const ROBOCALL_WORKFLOW: &str = "9b643eb4-0799-4761-bd34-9580eb315aaf";
const CONVERSATION_WORKFLOW: &str = "550e8400-e29b-41d4-a716-446655440000";

/// The documented answer to a call request (the seed's sample, its key order kept).
fn batch_created(batch_id: &str) -> Value {
    json!({"data": {"batch_id": batch_id}, "message": "batch request created successfully", "status": "Ok"})
}

fn client(server: &MockServer) -> Client {
    Client::new(
        &server.base_url(),
        SecretString::from(KEY.to_owned()),
        Duration::from_secs(10),
    )
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A campaign of two patients in a folder of its own; `head` holds its kind, workflow, voice
/// and variables.
fn campaign(head: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("patients.csv"),
        "id,name,phone\nP1,Ada Obi,08031234567\nP2,Bola Ade,08031234568\n",
    )
    .unwrap();
    let yaml = format!(
        r#"version: 1
name: contract
{head}
round: "c1"
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
    std::fs::write(&path, yaml).unwrap();
    (dir, path)
}

/// `outreach apply` of the campaign against `url`, confirmed, without following.
fn apply(dir: &tempfile::TempDir, path: &std::path::Path, url: &str) -> std::process::Output {
    assert_cmd::Command::cargo_bin("outreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("INTRON_API_KEY", KEY)
        .env_remove("OUTREACH_DATABASE_URL")
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--json",
            "--api-url",
            url,
        ])
        .arg(path)
        .arg("--state")
        .arg(dir.path().join("state.db"))
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The request's JSON body, with each robocall entry's `outreach_key` tag (the call's
/// idempotency key, outreach's own) checked for presence and taken out, so the rest can be
/// compared with the contract's literal shape.
fn body_without_keys(request: &HttpMockRequest) -> Option<Value> {
    let mut body: Value = serde_json::from_slice(request.body_ref()).ok()?;
    for entry in body.get_mut("workflow_params")?.as_array_mut()? {
        if let Some(tags) = entry
            .get_mut("user_tag_identifiers")
            .and_then(Value::as_object_mut)
        {
            let key = tags.remove("outreach_key")?;
            if key.as_str().is_none_or(str::is_empty) {
                return None;
            }
        }
    }
    Some(body)
}

// [doc] `POST /voicebot/v1/call`, `Authorization: Bearer <api-key>`, a JSON body of
// `workflow_id`, `workflow_params[]` (`phone_number` in E.164, `workflow_variables`,
// `user_tag_identifiers`), `tts_voice_accent` and `tts_voice_gender`.
#[test]
fn a_robocall_is_the_documented_request() {
    let server = MockServer::start();
    let expected = json!({
        "workflow_id": ROBOCALL_WORKFLOW,
        "tts_voice_accent": "yoruba",
        "tts_voice_gender": "female",
        "workflow_params": [
            {"phone_number": "+2348031234567", "workflow_variables": {"name": "Ada Obi"},
             "user_tag_identifiers": {"patient_id": "P1"}},
            {"phone_number": "+2348031234568", "workflow_variables": {"name": "Bola Ade"},
             "user_tag_identifiers": {"patient_id": "P2"}}
        ]
    });
    let call = server.mock(|when, then| {
        when.method(POST)
            .path("/voicebot/v1/call")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .is_true(move |request: &HttpMockRequest| {
                body_without_keys(request).as_ref() == Some(&expected)
            });
        then.status(200)
            .header("content-type", "application/json")
            .json_body(batch_created("b-robocall-1"));
    });
    let (dir, path) = campaign(&format!(
        "workflow_id: {ROBOCALL_WORKFLOW}\nvoice: {{accent: yoruba, gender: female}}\n\
         variables:\n  name: \"{{{{name}}}}\"\ntags:\n  patient_id: \"{{{{id}}}}\""
    ));
    let out = apply(&dir, &path, &server.base_url());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    call.assert_calls(1);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["counts"]["accepted"], 2, "{summary}");
}

// [doc] `POST /voicebot/v1/convobot/call` with flat entries (`{"name": "John Doe",
// "phone_number": "+1234567890"}`), accent `pidgin` or `english`, gender `male` or `female`.
#[test]
fn a_conversation_call_is_the_documented_request() {
    let server = MockServer::start();
    let call = server.mock(|when, then| {
        when.method(POST)
            .path("/voicebot/v1/convobot/call")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .json_body(json!({
                "workflow_id": CONVERSATION_WORKFLOW,
                "tts_voice_accent": "english",
                "tts_voice_gender": "male",
                "workflow_params": [
                    {"name": "Ada Obi", "phone_number": "+2348031234567"},
                    {"name": "Bola Ade", "phone_number": "+2348031234568"}
                ]
            }));
        then.status(200).json_body(batch_created("b-convo-1"));
    });
    let (dir, path) = campaign(&format!(
        "kind: conversation\nworkflow_id: {CONVERSATION_WORKFLOW}\n\
         voice: {{accent: english, gender: male}}\nvariables:\n  name: \"{{{{name}}}}\""
    ));
    let out = apply(&dir, &path, &server.base_url());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    call.assert_calls(1);
}

// [doc] `GET /voicebot/v1/status/{call_id}` with the bearer key, and the documented answer.
#[test]
fn a_status_lookup_is_the_documented_request_and_reads_the_documented_answer() {
    let server = MockServer::start();
    // The documented sample call id is not valid hex: any non-empty id is taken as it is.
    let lookup = server.mock(|when, then| {
        when.method(GET)
            .path("/voicebot/v1/status/12a9767f-b865-4404-91d0-a65d4cdt78fs")
            .header("authorization", format!("Bearer {KEY}"))
            .is_true(|request: &HttpMockRequest| request.body_ref().is_empty());
        then.status(200).body(
            r#"{"data": {"call_id": "12a9767f-b865-4404-91d0-a65d4cdt78fs", "call_duration_in_seconds": 3, "processing_status": "VOICE_CALL_PROCESSED"}, "message": "call status found", "status": "Ok"}"#,
        );
    });
    let status = runtime()
        .block_on(client(&server).status("12a9767f-b865-4404-91d0-a65d4cdt78fs"))
        .unwrap()
        .expect("found");
    lookup.assert_calls(1);
    assert_eq!(status.call_id, "12a9767f-b865-4404-91d0-a65d4cdt78fs");
    assert_eq!(status.call_duration_in_seconds, Some(3));
    assert_eq!(status.processing_status, ProcessingStatus::Processed);
    assert!(status.processing_status.is_final());
    // The extra fields the contract assumes are absent here: none is required.
    assert_eq!(status.batch_id, None);
    assert_eq!(status.reply, None);
}

// [doc] The seed's own sample of a processed call has no `call_duration_in_seconds`.
#[test]
fn a_status_without_a_duration_is_read() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/status/c-1");
        then.status(200).body(
            r#"{"status": "Ok", "data": {"processing_status": "VOICE_CALL_PROCESSED", "call_id": "c-1"}, "message": "call status found"}"#,
        );
    });
    let status = runtime()
        .block_on(client(&server).status("c-1"))
        .unwrap()
        .expect("found");
    assert_eq!(status.call_duration_in_seconds, None);
    assert!(status.processing_status.is_final());
}

// The contract: an unknown `processing_status` is "not final yet", never an error.
#[test]
fn an_unknown_processing_status_is_kept_and_not_final() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/status/c-2");
        then.status(200).body(
            r#"{"data": {"call_id": "c-2", "processing_status": "VOICE_CALL_RINGING", "call_duration_in_seconds": null}, "message": "call status found", "status": "Ok"}"#,
        );
    });
    let status = runtime()
        .block_on(client(&server).status("c-2"))
        .unwrap()
        .expect("found");
    assert_eq!(
        status.processing_status,
        ProcessingStatus::Unknown("VOICE_CALL_RINGING".to_owned())
    );
    assert!(!status.processing_status.is_final());
}

// The contract: key order varies between samples, and the live service may add fields.
#[test]
fn answers_with_unknown_fields_and_reordered_keys_are_read() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/call");
        then.status(201).body(
            r#"{"request_ref": 7, "status": "Ok", "data": {"queued": true, "batch_id": "b-2", "eta": {"seconds": 4}}, "trace": [1, 2], "message": "batch request created successfully"}"#,
        );
    });
    server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/status/c-3");
        then.status(200).body(
            r#"{"message": "call status found", "meta": {"v": 2}, "data": {"processing_status": "VOICE_CALL_TIMEOUT", "carrier": "x", "call_id": "c-3", "call_duration_in_seconds": 0}, "status": "Ok"}"#,
        );
    });
    let client = client(&server);
    let rt = runtime();
    let created = rt
        .block_on(client.place(
            "/voicebot/v1/call",
            &json!({"workflow_id": ROBOCALL_WORKFLOW}),
        ))
        .unwrap();
    assert_eq!(created.batch_id, "b-2", "any 2xx is success");
    let status = rt.block_on(client.status("c-3")).unwrap().expect("found");
    assert_eq!(status.processing_status, ProcessingStatus::Timeout);
    assert_eq!(status.call_duration_in_seconds, Some(0));
}

// [ours] 429 with `Retry-After: <seconds>`: nothing was placed; retry after that delay.
#[test]
fn a_429_is_rate_limited_with_its_retry_after() {
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    for (header, expected) in [
        ("7", Some(Duration::from_secs(7))),
        ("0.5", Some(Duration::from_millis(500))),
        // Bounded: a hostile or broken server cannot park the run for ever (this panicked).
        ("1e300", Some(MAX_RETRY_AFTER)),
        ("86400", Some(MAX_RETRY_AFTER)),
        ("inf", Some(MAX_RETRY_AFTER)),
        // An HTTP date or garbage: no delay from the server, the caller's backoff applies.
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
        ("-3", None),
        ("NaN", None),
    ] {
        let mut limited = server.mock(|when, then| {
            when.method(POST).path("/voicebot/v1/call");
            then.status(429)
                .header("Retry-After", header)
                .body(r#"{"status": "Error", "message": "rate limit exceeded", "data": {}}"#);
        });
        let answer = rt.block_on(client.place("/voicebot/v1/call", &json!({})));
        assert_eq!(
            answer,
            Err(SendError::RateLimited {
                retry_after: expected
            }),
            "Retry-After: {header}"
        );
        limited.assert_calls(1);
        limited.delete();
    }
}

// A 5xx proves nothing about the calls: they are in doubt, never "not sent".
#[test]
fn a_5xx_leaves_the_calls_in_doubt() {
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    for status in [500, 502, 503, 504] {
        let mut failing = server.mock(|when, then| {
            when.method(POST).path("/voicebot/v1/call");
            then.status(status).body("<html>Bad gateway</html>");
        });
        let answer = rt.block_on(client.place("/voicebot/v1/call", &json!({})));
        assert!(
            matches!(&answer, Err(SendError::InDoubt(m)) if m.contains(&status.to_string())),
            "{status}: {answer:?}"
        );
        failing.delete();
    }
}

// 401: the key is refused; nothing was placed and the run must stop (placing and lookups).
#[test]
fn a_401_is_the_key_refused() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/call");
        then.status(401)
            .body(r#"{"status": "Error", "message": "unknown API key", "data": {}}"#);
    });
    server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/status/c-4");
        then.status(401).body("");
    });
    let client = client(&server);
    let rt = runtime();
    assert_eq!(
        rt.block_on(client.place("/voicebot/v1/call", &json!({}))),
        Err(SendError::Unauthorized("unknown API key".to_owned()))
    );
    assert!(matches!(
        rt.block_on(client.status("c-4")),
        Err(LookupError::Unauthorized)
    ));
}

// Another 4xx is a rejection with the server's message: bounded and inert, as it is logged.
#[test]
fn a_rejection_carries_the_servers_message_cut_and_inert() {
    let server = MockServer::start();
    let long = format!(
        "workflow_params[3].phone_number \u{1b}[31mis required{}",
        "x".repeat(10_000)
    );
    let body = json!({"status": "Error", "message": long, "data": {}}).to_string();
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/call");
        then.status(422).body(body.clone());
    });
    let answer = runtime().block_on(client(&server).place("/voicebot/v1/call", &json!({})));
    let Err(SendError::Rejected { status, message }) = answer else {
        panic!("{answer:?}");
    };
    assert_eq!(status, 422);
    assert!(
        message.starts_with("workflow_params[3].phone_number ?[31mis required"),
        "{message}"
    );
    assert!(message.chars().count() <= 200, "{}", message.len());
    assert!(!message.chars().any(char::is_control));
}

// A redirect is never followed: a batch of patients' numbers re-sent to the address a proxy
// or a hostile server names would leave for a host nobody configured. The calls are in doubt,
// never "not sent": a 303 after a POST is how a server says it did the work, and a batch
// retried as not sent was placed again on every retry (found by a second reader).
#[test]
fn a_redirect_is_not_followed_and_nothing_is_sent_there() {
    let elsewhere = MockServer::start();
    let caught = elsewhere.mock(|when, then| {
        when.any_request();
        then.status(200).json_body(batch_created("b-elsewhere"));
    });
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    for status in [301, 302, 303, 307, 308] {
        let mut redirect = server.mock(|when, then| {
            when.any_request();
            then.status(status).header(
                "Location",
                format!("{}/voicebot/v1/call?secret=s3cr3t", elsewhere.base_url()),
            );
        });
        let answer =
            rt.block_on(client.place("/voicebot/v1/call", &json!({"phone": "+2348031234567"})));
        let Err(SendError::InDoubt(m)) = &answer else {
            panic!("{status}: {answer:?}");
        };
        assert!(
            m.contains(&format!("redirect to {}", elsewhere.base_url())),
            "{m}"
        );
        assert!(
            !m.contains("s3cr3t"),
            "the location's query is not repeated: {m}"
        );
        assert!(matches!(
            rt.block_on(client.status("c-1")),
            Err(LookupError::Other(m)) if m.contains("does not follow redirects")
        ));
        let created = rt.block_on(client.create_workflow(&CreateWorkflow {
            name: "n".into(),
            message: "m".into(),
            workflow_type: WorkflowType::Robocall,
            include_reply: None,
            response_options: None,
            call_back_url: None,
            description: None,
        }));
        assert!(
            matches!(created, Err(CreateError::InDoubt(_))),
            "{created:?}"
        );
        redirect.delete();
    }
    assert_eq!(
        caught.calls(),
        0,
        "nothing reached the address redirected to"
    );
}

// A 404 on a lookup means "not supported" (the assumed endpoints) or "unknown id": `None`.
#[test]
fn a_404_on_a_lookup_is_none() {
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    assert!(rt.block_on(client.status("c-5")).unwrap().is_none());
    assert!(rt.block_on(client.batch("b-5")).unwrap().is_none());
    assert!(
        rt.block_on(client.workflow_batches(ROBOCALL_WORKFLOW))
            .unwrap()
            .is_none()
    );
}

// Bounded memory: an answer far larger than any batch id is not read whole, and the calls it
// answers for are in doubt (the server said 2xx).
#[test]
fn an_oversized_answer_is_not_read_into_memory() {
    let server = MockServer::start();
    let huge = format!(
        r#"{{"data": {{"batch_id": "b-6"}}, "padding": "{}", "status": "Ok"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/call");
        then.status(200).body(huge.clone());
    });
    let answer = runtime().block_on(client(&server).place("/voicebot/v1/call", &json!({})));
    assert!(
        matches!(&answer, Err(SendError::InDoubt(m)) if m.contains("larger than")),
        "{answer:?}"
    );
}

/// A create as `apply` sends it for a declared workflow (every field the docs list).
fn create_body() -> CreateWorkflow {
    CreateWorkflow {
        name: "measles-second-dose".into(),
        description: Some("Second dose reminders".into()),
        workflow_type: WorkflowType::Robocall,
        message: "Hello [name], [child]'s second measles dose is due on [date] at [clinic].".into(),
        include_reply: Some(true),
        response_options: Some(
            [("1", "I will come"), ("2", "Please call me back")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        call_back_url: Some(
            "https://outreach.example.org/callbacks/3f1c9a7e5b2d4f60818a9c0b1d2e3f40".into(),
        ),
    }
}

// [doc] `POST /voicebot/v1/workflows` with `name`, `description`, `workflow_type`, `message`,
// `include_reply`, `response_options` (`{"1": "text"}`) and `call_back_url` (spelt so), the
// bearer key and a JSON body; "the answer's `data` has the new workflow's `id`".
#[test]
fn a_workflow_create_is_the_documented_request_and_its_id_is_read() {
    let server = MockServer::start();
    let created = server.mock(|when, then| {
        when.method(POST)
            .path("/voicebot/v1/workflows")
            .header("authorization", format!("Bearer {KEY}"))
            .header("content-type", "application/json")
            .json_body(json!({
                "name": "measles-second-dose",
                "description": "Second dose reminders",
                "workflow_type": "ROBOCALL",
                "message": "Hello [name], [child]'s second measles dose is due on [date] at [clinic].",
                "include_reply": true,
                "response_options": {"1": "I will come", "2": "Please call me back"},
                "call_back_url": "https://outreach.example.org/callbacks/3f1c9a7e5b2d4f60818a9c0b1d2e3f40"
            }));
        then.status(200).body(
            r#"{"status": "Ok", "message": "workflow created successfully", "data": {"id": "wf-7f3a"}}"#,
        );
    });
    let answer = runtime().block_on(client(&server).create_workflow(&create_body()));
    created.assert();
    assert_eq!(answer.unwrap().id, "wf-7f3a");
}

// Lenient: the whole workflow in `data` (as the mock answers), another 2xx, keys reordered.
#[test]
fn a_workflow_create_answered_with_the_whole_workflow_is_read() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/workflows");
        then.status(201).body(
            r#"{"data": {"name": "measles-second-dose", "status": "ACTIVE", "id": "9b643eb4-0799-4761-bd34-9580eb315aaf", "workflow_type": "ROBOCALL", "message": "m", "extra": [1]}, "status": "Ok"}"#,
        );
    });
    let answer = runtime().block_on(client(&server).create_workflow(&create_body()));
    assert_eq!(answer.unwrap().id, "9b643eb4-0799-4761-bd34-9580eb315aaf");
}

// A 4xx creates nothing: a rejection with the server's message, cut and inert; 401 is the key.
#[test]
fn a_workflow_create_rejected_carries_the_message() {
    let server = MockServer::start();
    let mut rejected = server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/workflows");
        then.status(422)
            .body(r#"{"status": "Error", "message": "name is required\u001b[2J", "data": {}}"#);
    });
    let client = client(&server);
    let rt = runtime();
    assert_eq!(
        rt.block_on(client.create_workflow(&create_body())),
        Err(CreateError::Rejected {
            status: 422,
            message: "name is required?[2J".to_owned()
        })
    );
    rejected.delete();
    let mut refused = server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/workflows");
        then.status(401)
            .body(r#"{"status": "Error", "message": "unknown API key", "data": {}}"#);
    });
    assert_eq!(
        rt.block_on(client.create_workflow(&create_body())),
        Err(CreateError::Unauthorized("unknown API key".to_owned()))
    );
    refused.delete();
    server.mock(|when, then| {
        when.method(POST).path("/voicebot/v1/workflows");
        then.status(429).header("retry-after", "2").body("{}");
    });
    assert!(matches!(
        rt.block_on(client.create_workflow(&create_body())),
        Err(CreateError::Rejected { status: 429, .. })
    ));
}

// A 5xx, or a 2xx whose answer has no usable id, may have created a workflow: in doubt.
#[test]
fn a_workflow_create_answered_5xx_or_without_an_id_is_in_doubt() {
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    for status in [500, 502, 503] {
        let mut failing = server.mock(|when, then| {
            when.method(POST).path("/voicebot/v1/workflows");
            then.status(status)
                .body("<html><body>Bad gateway</body></html>");
        });
        let answer = rt.block_on(client.create_workflow(&create_body()));
        assert!(
            matches!(&answer, Err(CreateError::InDoubt(m)) if m.contains(&status.to_string())),
            "{status}: {answer:?}"
        );
        failing.delete();
    }
    for body in [
        r#"{"status": "Ok", "data": {}}"#.to_owned(),
        "<html>ok</html>".to_owned(),
        r#"{"status": "Ok", "data": {"id": "../status/x"}}"#.to_owned(),
        format!(
            r#"{{"data": {{"id": "w1"}}, "pad": "{}"}}"#,
            "x".repeat(2 * 1024 * 1024)
        ),
    ] {
        let mut odd = server.mock(|when, then| {
            when.method(POST).path("/voicebot/v1/workflows");
            then.status(200).body(body.clone());
        });
        let answer = rt.block_on(client.create_workflow(&create_body()));
        assert!(
            matches!(&answer, Err(CreateError::InDoubt(m)) if !m.contains("../status")),
            "{answer:?}"
        );
        odd.delete();
    }
}

// Connection refused: the request never left, so nothing was created.
#[test]
fn a_workflow_create_to_a_closed_port_was_not_sent() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::new(
        &format!("http://127.0.0.1:{port}"),
        SecretString::from(KEY.to_owned()),
        Duration::from_secs(10),
    )
    .unwrap();
    let answer = runtime().block_on(client.create_workflow(&create_body()));
    assert!(matches!(answer, Err(CreateError::NotSent(_))), "{answer:?}");
}

// [ours] the list: `?page=&limit=`, read page after page until a short page; 404 is `None`.
#[test]
fn the_workflow_list_is_paged_and_absent_on_404() {
    let workflow = |id: String| json!({"id": id, "name": "n", "workflow_type": "ROBOCALL", "message": "m", "status": "ACTIVE"});
    let server = MockServer::start();
    let client = client(&server);
    let rt = runtime();
    assert_eq!(rt.block_on(client.workflows_all()).unwrap(), None);
    let first: Vec<Value> = (0..100).map(|i| workflow(format!("w{i}"))).collect();
    let second: Vec<Value> = (100..130).map(|i| workflow(format!("w{i}"))).collect();
    let one = server.mock(|when, then| {
        when.method(GET)
            .path("/voicebot/v1/workflows")
            .query_param("page", "1")
            .query_param("limit", "100")
            .header("authorization", format!("Bearer {KEY}"));
        then.status(200)
            .json_body(json!({"status": "Ok", "data": {"workflows": first, "total": 130}}));
    });
    let two = server.mock(|when, then| {
        when.method(GET)
            .path("/voicebot/v1/workflows")
            .query_param("page", "2");
        then.status(200)
            .json_body(json!({"status": "Ok", "data": {"workflows": second, "total": 130}}));
    });
    let all = rt.block_on(client.workflows_all()).unwrap().unwrap();
    one.assert();
    two.assert();
    assert!(all.complete);
    assert_eq!(all.workflows.len(), 130);
    assert_eq!(all.workflows[129].id, "w129");
}

// A server that ignores `page` answers the same page forever: the list stops at the first
// page that adds nothing.
#[test]
fn a_list_that_ignores_its_page_is_read_once() {
    let server = MockServer::start();
    let same: Vec<Value> = (0..100)
        .map(|i| json!({"id": format!("w{i}"), "name": "n", "workflow_type": "ROBOCALL", "message": "m"}))
        .collect();
    let list = server.mock(|when, then| {
        when.method(GET).path("/voicebot/v1/workflows");
        then.status(200)
            .json_body(json!({"status": "Ok", "data": {"workflows": same}}));
    });
    let all = runtime()
        .block_on(client(&server).workflows_all())
        .unwrap()
        .unwrap();
    assert_eq!(all.workflows.len(), 100);
    list.assert_calls(2);
}
