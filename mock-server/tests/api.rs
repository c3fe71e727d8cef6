//! Integration tests over real HTTP on random loopback ports. Time is frozen (`time_scale: 0`)
//! and moved with `POST /__mock/clock/advance`; no test asserts a timing.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mock_server::config::{
    CallTiming, CallbackConfig, FaultRule, Route, SEED_CONVERSATION_WORKFLOW,
    SEED_ROBOCALL_WORKFLOW,
};
use mock_server::{MockConfig, RunningMock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use voicebot_api::wire::{
    Batch, BatchCreated, BatchList, CallStatus, CallbackPayload, ConversationParam,
    ConversationRequest, CreateWorkflow, Envelope, ProcessingStatus, RobocallParam,
    RobocallRequest, Workflow, WorkflowList, WorkflowType,
};

const KEY: &str = "Bearer test-key";

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Frozen time and fixed phase durations: queued 10 s, ringing 20 s, talk 30 s, no answer 45 s.
fn test_config() -> MockConfig {
    MockConfig {
        time_scale: 0.0,
        timing: CallTiming {
            queued_secs: [10, 10],
            ringing_secs: [20, 20],
            talk_secs: [30, 30],
            no_answer_after_secs: 45,
        },
        callback: CallbackConfig {
            retries: 3,
            backoff_ms: 10,
            timeout_ms: 2_000,
        },
        ..MockConfig::default()
    }
}

struct Harness {
    mock: RunningMock,
    http: reqwest::Client,
}

impl Harness {
    async fn start(config: MockConfig) -> Self {
        let mock = mock_server::start(config, loopback()).await.unwrap();
        Self {
            mock,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.mock.url())
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Authorization", KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn advance(&self, seconds: u64) {
        let (status, _) = self
            .post("/__mock/clock/advance", json!({"seconds": seconds}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    async fn calls(&self) -> Vec<Value> {
        let (_, body) = self.get("/__mock/calls").await;
        body["data"]["calls"].as_array().unwrap().clone()
    }

    /// Places one robocall on the seeded workflow; returns the batch id.
    async fn robocall(&self, phone: &str) -> String {
        let (status, body) = self.post("/voicebot/v1/call", robocall_body(phone)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["batch_id"].as_str().unwrap().to_owned()
    }

    async fn batch(&self, batch_id: &str) -> Batch {
        let (status, body) = self.get(&format!("/voicebot/v1/requests/{batch_id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value::<Envelope<Batch>>(body)
            .unwrap()
            .data
    }
}

fn robocall_body(phone: &str) -> Value {
    serde_json::to_value(RobocallRequest {
        tts_voice_accent: Some("yoruba".into()),
        tts_voice_gender: Some("male".into()),
        workflow_id: SEED_ROBOCALL_WORKFLOW.into(),
        workflow_params: vec![RobocallParam {
            phone_number: phone.into(),
            workflow_variables: BTreeMap::from([("name".into(), "Ada".into())]),
            user_tag_identifiers: Some(
                json!({"customer_id": "CUST001"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        }],
    })
    .unwrap()
}

fn seed_body() -> Value {
    json!({
        "tts_voice_accent": "igbo",
        "tts_voice_gender": "female",
        "workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
        "workflow_params": [{"phone_number": "+2348076960623", "workflow_variables": {"name": "James"}}]
    })
}

fn assert_batch_created(body: &Value) {
    assert_eq!(body["status"], "Ok");
    assert_eq!(body["message"], "batch request created successfully");
    let id = body["data"]["batch_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "UUID v4: {id}");
}

fn tool_available(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The seed's curl sample, verbatim except scheme and host.
#[tokio::test]
async fn seed_curl_sample_verbatim() {
    let h = Harness::start(test_config()).await;
    let script = r#"curl --location 'https://voicebot.intron.health/voicebot/v1/call' \
--header 'Content-Type: application/json' \
--header 'Authorization: Bearer api-key' \
--data '{
"tts_voice_accent": "igbo",
"tts_voice_gender": "female",
"workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
"workflow_params": [
{
"phone_number": "+2348076960623",
"workflow_variables": {
"name": "James"
}
}
]
}'"#
    .replace("https://voicebot.intron.health", &h.mock.url());
    assert!(
        tool_available("curl", &["--version"]),
        "curl is required by this test (CI installs it)"
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success());
    let body: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_batch_created(&body);
    assert_eq!(h.calls().await.len(), 1);
}

/// The seed's Python sample, verbatim except scheme and host. It prints a bound method (the
/// sample's own quirk), whose text shows the status; the journal shows the response sent.
#[tokio::test]
async fn seed_python_sample_verbatim() {
    if !tool_available("python3", &["-c", "import requests"]) {
        return; // python3 with requests is optional: the curl test covers the sample in CI
    }
    let h = Harness::start(test_config()).await;
    let script = r#"import requests
url = "https://voicebot.intron.health/voicebot/v1/call"
payload = {
"tts_voice_accent": "igbo",
"tts_voice_gender": "female",
"workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
"workflow_params": [
{
"phone_number": "+2348076960623",
"workflow_variables": {
"name": "James"
}
}
]
}
headers = {
"Authorization": "Bearer api-key"
}
response = requests.request("POST", url, headers=headers, json=payload)
print(response.json)
"#
    .replace("https://voicebot.intron.health", &h.mock.url());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        "<bound method Response.json of <Response [200]>>"
    );
    let (_, journal) = h.get("/__mock/journal").await;
    let entry = &journal["data"]["entries"][0];
    assert_eq!(entry["status"], 200);
    assert!(
        entry["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(h.calls().await.len(), 1);
}

/// The seed's JavaScript sample: no Content-Type (fetch sends text/plain), key `api-Key`.
#[tokio::test]
async fn seed_javascript_sample_verbatim() {
    if !tool_available(
        "node",
        &["-e", "if (typeof fetch !== 'function') process.exit(1)"],
    ) {
        return; // node >= 18 is optional: the curl test covers the sample in CI
    }
    let h = Harness::start(test_config()).await;
    let script = r#"const requestOptions = {
method: "POST",
headers: {
'Authorization': 'Bearer api-Key'
},
body: JSON.stringify(
{
"tts_voice_accent": "igbo",
"tts_voice_gender": "female",
"workflow_id": "9b643eb4-0799-4761-bd34-9580eb315aaf",
"workflow_params": [
{
"phone_number": "+2348076960623",
"workflow_variables": {
"name": "James"
}
}
]
}
)
};
fetch("https://voicebot.intron.health/voicebot/v1/call", requestOptions)
.then((response) => response.text())
.then((result) => console.log(result))
.catch((error) => console.error(error));
"#
    .replace("https://voicebot.intron.health", &h.mock.url());
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg("-e")
            .arg(script)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_batch_created(&serde_json::from_slice(&output.stdout).unwrap());
    let (_, journal) = h.get("/__mock/journal").await;
    let headers = &journal["data"]["entries"][0]["headers"];
    assert!(
        headers["content-type"]
            .as_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(headers["authorization"], "Bearer [redacted]");
}

#[tokio::test]
async fn call_endpoints_status_and_batches() {
    let h = Harness::start(test_config()).await;
    // Both robocall paths are one endpoint.
    let (status, body) = h.post("/voicebot/v1/robocall/call", seed_body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_batch_created(&body);
    let batch_id = h.robocall("+2348000000001").await;
    let batch = h.batch(&batch_id).await;
    assert_eq!(batch.workflow_id.as_deref(), Some(SEED_ROBOCALL_WORKFLOW));
    let calls = batch.request_calls.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].processing_status, ProcessingStatus::Queued);
    assert_eq!(
        calls[0].user_tag_identifiers.as_ref().unwrap()["customer_id"],
        "CUST001"
    );

    let (status, body) = h
        .get(&format!("/voicebot/v1/status/{}", calls[0].call_id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "call status found");
    assert_eq!(body["data"]["processing_status"], "VOICE_CALL_QUEUED");
    assert_eq!(body["data"]["call_duration_in_seconds"], Value::Null);
    assert_eq!(body["data"]["reply"], Value::Null);
    let parsed: Envelope<CallStatus> = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.data.batch_id.as_deref(), Some(batch_id.as_str()));

    // Conversation calls: flat entries, `{{name}}` placeholders.
    let convo = serde_json::to_value(ConversationRequest {
        tts_voice_accent: Some("english".into()),
        tts_voice_gender: Some("female".into()),
        workflow_id: SEED_CONVERSATION_WORKFLOW.into(),
        workflow_params: vec![ConversationParam {
            phone_number: "+1234567890".into(),
            user_tag_identifiers: None,
            variables: BTreeMap::from([("name".into(), "John Doe".into())]),
        }],
    })
    .unwrap();
    let (status, body) = h.post("/voicebot/v1/convobot/call", convo).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_batch_created(&body);

    let (status, body) = h
        .get(&format!(
            "/voicebot/v1/workflows/{SEED_ROBOCALL_WORKFLOW}/requests"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let list: Envelope<BatchList> = serde_json::from_value(body).unwrap();
    assert_eq!(list.data.requests.len(), 2);
    assert!(list.data.requests.iter().all(|b| b.request_calls.is_none()));

    for path in [
        "/voicebot/v1/status/12a9767f-b865-4404-91d0-a65d4cdt78fs".to_owned(),
        format!("/voicebot/v1/status/{batch_id}"),
        "/voicebot/v1/requests/00000000-0000-4000-8000-000000000000".to_owned(),
        "/voicebot/v1/nothing-here".to_owned(),
    ] {
        let (status, body) = h.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["status"], "Error");
        assert_eq!(body["data"], json!({}));
    }
}

#[tokio::test]
async fn workflow_crud() {
    let h = Harness::start(test_config()).await;
    let create = serde_json::to_value(CreateWorkflow {
        name: "Reminder".into(),
        description: Some("d".into()),
        workflow_type: WorkflowType::Robocall,
        message: "Hi [name], your appointment is on [day].".into(),
        include_reply: Some(true),
        response_options: Some(BTreeMap::from([
            ("1".into(), "Yes".into()),
            ("2".into(), "No".into()),
        ])),
        call_back_url: Some("http://127.0.0.1:9/hook".into()),
    })
    .unwrap();
    let (status, body) = h.post("/voicebot/v1/workflows", create).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "workflow created successfully");
    let workflow: Workflow = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!(workflow.status.as_str(), "ACTIVE");
    assert_eq!(workflow.response_options["2"], "No");
    let id = workflow.id.clone();

    // Older docs' option_one/option_two.
    let (status, body) = h
        .post("/voicebot/v1/workflows", json!({"name": "Old", "message": "m", "workflow_type": "ROBOCALL", "option_one": "Yes", "option_two": "No"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["response_options"],
        json!({"1": "Yes", "2": "No"})
    );

    let (status, body) = h.get("/voicebot/v1/workflows?page=1&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let list: WorkflowList = serde_json::from_value(body["data"].clone()).unwrap();
    assert_eq!((list.workflows.len(), list.total), (2, 4));

    let (status, body) = h.get(&format!("/voicebot/v1/workflows/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Reminder");

    let (status, body) = h
        .send(
            reqwest::Method::PATCH,
            &format!("/voicebot/v1/workflows/{id}"),
            Some(json!({"name": "Renamed", "status": "INACTIVE"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(
        body["data"]["message"],
        "Hi [name], your appointment is on [day]."
    );
    assert_eq!(body["data"]["status"], "INACTIVE");

    // An INACTIVE workflow cannot place calls: 409.
    let mut call = robocall_body("+2348000000001");
    call["workflow_id"] = json!(id);
    let (status, body) = h.post("/voicebot/v1/call", call).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("INACTIVE"));

    let (status, body) = h
        .send(
            reqwest::Method::DELETE,
            &format!("/voicebot/v1/workflows/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["id"], id);
    let (status, _) = h.get(&format!("/voicebot/v1/workflows/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .send(
            reqwest::Method::DELETE,
            &format!("/voicebot/v1/workflows/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn auth_errors() {
    let h = Harness::start(MockConfig {
        api_keys: vec!["good".into()],
        ..test_config()
    })
    .await;
    let url = h.url("/voicebot/v1/call");
    let missing = h.http.post(&url).json(&seed_body()).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let wrong = h
        .http
        .post(&url)
        .bearer_auth("bad")
        .json(&seed_body())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["status"], "Error");
    assert_eq!(body["message"], "unknown API key");
    let basic = h
        .http
        .post(&url)
        .header("Authorization", "Basic Z29vZA==")
        .json(&seed_body())
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let good = h
        .http
        .post(&url)
        .bearer_auth("good")
        .json(&seed_body())
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::OK);
    assert_eq!(h.calls().await.len(), 1);
}

#[tokio::test]
#[expect(
    clippy::too_many_lines,
    reason = "one case per validation error, each a request and its expected answer"
)]
async fn validation_errors() {
    let h = Harness::start(test_config()).await;
    // 400: malformed JSON.
    let response = h
        .http
        .post(h.url("/voicebot/v1/call"))
        .header("Authorization", KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON")
    );

    let with = |edit: &dyn Fn(&mut Value)| {
        let mut body = seed_body();
        edit(&mut body);
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("workflow_id");
            }),
            422,
            "workflow_id is required",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("workflow_params");
            }),
            422,
            "workflow_params is required",
        ),
        (
            with(&|b| b["workflow_params"] = json!([])),
            422,
            "workflow_params must contain at least one entry",
        ),
        (
            with(
                &|b| b["workflow_params"] = json!([{"phone_number": "+2348000000001", "workflow_variables": {"name": "A"}}, {"workflow_variables": {"name": "B"}}]),
            ),
            422,
            "workflow_params[1].phone_number is required",
        ),
        (
            with(&|b| b["workflow_params"][0]["phone_number"] = json!("08076960623")),
            422,
            "workflow_params[0].phone_number '08076960623' is not an E.164 number",
        ),
        (
            with(&|b| b["tts_voice_accent"] = json!("english")),
            422,
            "tts_voice_accent 'english' is not a robocall accent",
        ),
        (
            with(&|b| b["tts_voice_gender"] = json!("robot")),
            422,
            "tts_voice_gender 'robot' must be male or female",
        ),
        (
            with(&|b| b["workflow_params"][0]["workflow_variables"] = json!({})),
            422,
            "workflow_params[0].workflow_variables.name is required: the workflow message uses the placeholder [name]",
        ),
        (
            with(&|b| {
                b["workflow_params"][0]["workflow_variables"]["name"] = json!("x".repeat(4000));
            }),
            422,
            "workflow_params[0].workflow_variables: the message is",
        ),
        (
            with(&|b| {
                b["workflow_params"] = Value::Array(vec![
                    json!({"phone_number": "+2348000000001", "workflow_variables": {"name": "A"}});
                    101
                ]);
            }),
            413,
            "workflow_params has 101 entries; at most 100 are allowed per request",
        ),
        (
            with(&|b| b["workflow_id"] = json!("no-such-workflow")),
            404,
            "workflow_id 'no-such-workflow' not found",
        ),
        (
            with(&|b| b["workflow_id"] = json!(SEED_CONVERSATION_WORKFLOW)),
            409,
            "is a CONVERSATION workflow",
        ),
    ];
    for (body, code, message) in cases {
        let (status, reply) = h.post("/voicebot/v1/call", body).await;
        assert_eq!(status.as_u16(), code, "{reply}");
        assert_eq!(reply["status"], "Error");
        assert!(
            reply["message"].as_str().unwrap().starts_with(message)
                || reply["message"].as_str().unwrap().contains(message),
            "{reply}"
        );
    }
    // 100 entries are fine.
    let (status, _) = h
        .post(
            "/voicebot/v1/call",
            with(&|b| {
                b["workflow_params"] = Value::Array(vec![
                    json!({"phone_number": "+2348000000001", "workflow_variables": {"name": "A"}});
                    100
                ]);
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Conversation: robocall workflow is a 409, accent limited to pidgin|english.
    let convo = json!({"workflow_id": SEED_ROBOCALL_WORKFLOW, "workflow_params": [{"phone_number": "+2348000000001", "name": "A"}]});
    assert_eq!(
        h.post("/voicebot/v1/convobot/call", convo).await.0,
        StatusCode::CONFLICT
    );
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "tts_voice_accent": "igbo", "workflow_params": [{"phone_number": "+2348000000001", "name": "A"}]});
    assert_eq!(
        h.post("/voicebot/v1/convobot/call", convo).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Workflow bodies.
    let (status, body) = h
        .post("/voicebot/v1/workflows", json!({"message": "m"}))
        .await;
    assert_eq!(
        (status.as_u16(), body["message"].as_str().unwrap()),
        (422, "name is required")
    );
    let (status, _) = h
        .post(
            "/voicebot/v1/workflows",
            json!({"name": "n", "message": "m", "workflow_type": "SMS"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Only the 100-entry request placed calls.
    assert_eq!(h.calls().await.len(), 100);
}

async fn set_outcome(h: &Harness, mix: Value) {
    let (status, body) = h
        .send(reqwest::Method::PUT, "/__mock/outcomes", Some(mix))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn status_of(h: &Harness, batch_id: &str) -> CallStatus {
    h.batch(batch_id).await.request_calls.unwrap().remove(0)
}

#[tokio::test]
async fn lifecycle_to_each_final_state() {
    let h = Harness::start(test_config()).await;
    // Queued 10 s; answered: ringing 20 + talk 30; failed: ringing 20; no answer: 45.
    let cases = [
        (
            json!({"answered": 1}),
            ProcessingStatus::Processed,
            60,
            Some(30),
        ),
        (json!({"failed": 1}), ProcessingStatus::Failed, 30, Some(0)),
        (
            json!({"no_answer": 1}),
            ProcessingStatus::Timeout,
            55,
            Some(0),
        ),
    ];
    for (index, (mix, final_status, final_after, duration)) in cases.into_iter().enumerate() {
        set_outcome(&h, mix).await;
        let batch_id = h.robocall(&format!("+23480000001{index:02}")).await;
        assert_eq!(
            status_of(&h, &batch_id).await.processing_status,
            ProcessingStatus::Queued
        );
        assert_eq!(h.batch(&batch_id).await.status.as_str(), "PENDING");
        h.advance(10).await;
        assert_eq!(
            status_of(&h, &batch_id).await.processing_status,
            ProcessingStatus::Processing
        );
        assert_eq!(h.batch(&batch_id).await.status.as_str(), "IN_PROGRESS");
        h.advance(final_after - 11).await;
        assert_eq!(
            status_of(&h, &batch_id).await.processing_status,
            ProcessingStatus::Processing
        );
        h.advance(1).await;
        let call = status_of(&h, &batch_id).await;
        assert_eq!(call.processing_status, final_status);
        assert_eq!(call.call_duration_in_seconds, duration);
        assert_eq!(h.batch(&batch_id).await.status.as_str(), "COMPLETED");
    }
    // Replied: the seeded CONVERSATION workflow has include_reply and options 1/2.
    set_outcome(&h, json!({"replied": 1})).await;
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "workflow_params": [{"phone_number": "+2348000000999", "name": "A"}]});
    let (status, body) = h.post("/voicebot/v1/convobot/call", convo).await;
    assert_eq!(status, StatusCode::OK);
    let batch_id = body["data"]["batch_id"].as_str().unwrap().to_owned();
    assert_eq!(status_of(&h, &batch_id).await.reply, None);
    h.advance(60).await;
    let call = status_of(&h, &batch_id).await;
    assert_eq!(call.processing_status, ProcessingStatus::Processed);
    assert!(matches!(call.reply.as_deref(), Some("1" | "2")));
    let batch = h.batch(&batch_id).await;
    assert_eq!(batch.stats.replied_calls, 1);
    assert_eq!(batch.stats.response_options_counts.total(), 1);
}

type Received = Arc<Mutex<Vec<Value>>>;

/// A callback receiver on a random loopback port that fails the first `failures` requests.
async fn receiver(failures: usize) -> (String, Received, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let received: Received = Arc::default();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = Arc::new(Mutex::new(0usize));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = Arc::clone(&received);
            move |body: axum::body::Bytes| {
                let received = Arc::clone(&received);
                let seen = Arc::clone(&seen);
                let tx = tx.clone();
                async move {
                    let attempt = {
                        let mut seen = seen.lock().unwrap();
                        *seen += 1;
                        *seen
                    };
                    received
                        .lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    let _ = tx.send(());
                    if attempt <= failures {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received, rx)
}

#[tokio::test]
async fn callback_is_posted_when_batch_is_final_and_retried() {
    let (url, received, mut arrivals) = receiver(2).await;
    let mut config = test_config();
    config.workflows[0].call_back_url = Some(url.clone());
    config.outcomes = "answered=1".parse().unwrap();
    let h = Harness::start(config).await;
    let mut body = robocall_body("+2348000000001");
    body["workflow_params"] = json!([
        {"phone_number": "+2348000000001", "workflow_variables": {"name": "A"}, "user_tag_identifiers": {"customer_id": "C1"}},
        {"phone_number": "+2348000000002", "workflow_variables": {"name": "B"}}
    ]);
    let (status, reply) = h.post("/voicebot/v1/call", body).await;
    assert_eq!(status, StatusCode::OK);
    let batch_id = reply["data"]["batch_id"].as_str().unwrap().to_owned();
    h.advance(59).await;
    // Not final yet: nothing may arrive. Prove it by checking the mock's own view.
    let (_, deliveries) = h.get("/__mock/callbacks").await;
    assert_eq!(deliveries["data"]["deliveries"], json!([]));
    h.advance(1).await;
    for _ in 0..3 {
        arrivals.recv().await.unwrap();
    }
    let payloads = received.lock().unwrap().clone();
    assert_eq!(payloads.len(), 3, "two failures, then success");
    assert!(
        payloads.iter().all(|p| p == &payloads[0]),
        "retries resend the same payload"
    );
    let payload: CallbackPayload = serde_json::from_value(payloads[0].clone()).unwrap();
    assert_eq!(payload.request_id, batch_id);
    assert_eq!(payload.status, "COMPLETED");
    assert!(payload.integrator_id.is_some());
    assert_eq!(payload.stats.total_calls, 2);
    assert_eq!(payload.stats.completed_calls, 2);
    assert_eq!(payload.stats.timeout_calls, 0);
    assert_eq!(payload.request_calls.len(), 2);
    assert_eq!(
        payload.request_calls[0]
            .user_tag_identifiers
            .as_ref()
            .unwrap()["customer_id"],
        "C1"
    );
    // Documented types: integer counts, float avg_duration and success_rate.
    assert!(payloads[0]["stats"]["total_calls"].is_u64());
    assert!(payloads[0]["stats"]["response_options_counts"].is_object());
    assert!(payloads[0]["stats"]["avg_duration"].is_f64());
    assert!(payloads[0]["stats"]["success_rate"].is_f64());
    assert!((payload.stats.success_rate - 100.0).abs() < f64::EPSILON);
    // The delivery record appears once the attempt loop has finished.
    let delivery = loop {
        let (_, deliveries) = h.get("/__mock/callbacks").await;
        if let Some(d) = deliveries["data"]["deliveries"].get(0) {
            break d.clone();
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["delivered"], true);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let mut config = test_config();
    config.rate_limits.insert(Route::Robocall, 2);
    let h = Harness::start(config).await;
    let mut limited = None;
    for i in 0..20 {
        let response = h
            .http
            .post(h.url("/voicebot/v1/call"))
            .header("Authorization", KEY)
            .json(&robocall_body(&format!("+23480000000{i:02}")))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("a 429 within 20 rapid requests at 2 per second");
    let retry_after: u32 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "Error");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("rate limit exceeded")
    );
    // Another key has its own bucket.
    let other = h
        .http
        .post(h.url("/voicebot/v1/call"))
        .bearer_auth("another-key")
        .json(&robocall_body("+2348000000999"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

async fn set_faults(h: &Harness, rules: Value) {
    let (status, body) = h
        .send(reqwest::Method::PUT, "/__mock/faults", Some(rules))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn fault_kinds() {
    let h = Harness::start(test_config()).await;

    // 5xx before processing: no call placed.
    set_faults(
        &h,
        json!({"faults": [{"route": "robocall", "error_rate": 1.0, "error_statuses": [502]}]}),
    )
    .await;
    let (status, body) = h.post("/voicebot/v1/call", seed_body()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["status"], "Error");
    assert_eq!(h.calls().await.len(), 0);
    // Other routes are untouched.
    assert_eq!(h.get("/voicebot/v1/workflows").await.0, StatusCode::OK);

    // Connection closed before processing: no response, no call.
    set_faults(
        &h,
        json!([{"route": "robocall", "drop_connection_rate": 1.0}]),
    )
    .await;
    let result = h
        .http
        .post(h.url("/voicebot/v1/call"))
        .header("Authorization", KEY)
        .json(&seed_body())
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(h.calls().await.len(), 0);

    // Response dropped after processing: no response, but the call was placed.
    set_faults(
        &h,
        json!([{"route": "robocall", "drop_response_rate": 1.0}]),
    )
    .await;
    let result = h
        .http
        .post(h.url("/voicebot/v1/call"))
        .header("Authorization", KEY)
        .json(&seed_body())
        .send()
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(h.calls().await.len(), 1);

    // A burst of 429s, then normal service.
    set_faults(
        &h,
        json!([{"too_many_requests_burst": 2, "retry_after_secs": 7}]),
    )
    .await;
    for _ in 0..2 {
        let response = h
            .http
            .post(h.url("/voicebot/v1/call"))
            .header("Authorization", KEY)
            .json(&seed_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
    }
    assert_eq!(
        h.post("/voicebot/v1/call", seed_body()).await.0,
        StatusCode::OK
    );
    assert_eq!(h.calls().await.len(), 2);

    // Extra latency: the request still succeeds; the journal shows at least the delay.
    set_faults(&h, json!([{"route": "status", "latency_ms": [30, 40]}])).await;
    let (status, _) = h
        .get("/voicebot/v1/status/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, journal) = h.get("/__mock/journal").await;
    let entries = journal["data"]["entries"].as_array().unwrap();
    let faults: Vec<&str> = entries.iter().filter_map(|e| e["fault"].as_str()).collect();
    assert_eq!(
        faults,
        [
            "error",
            "drop_connection",
            "drop_response",
            "too_many_requests",
            "too_many_requests"
        ]
    );
    let dropped: Vec<&Value> = entries
        .iter()
        .filter(|e| e["fault"].as_str().is_some_and(|f| f.starts_with("drop")))
        .collect();
    assert!(dropped.iter().all(|e| e["status"].is_null()));
    let slow = entries
        .iter()
        .find(|e| {
            e["path"]
                .as_str()
                .unwrap()
                .starts_with("/voicebot/v1/status/")
        })
        .unwrap();
    assert!(slow["latency_ms"].as_f64().unwrap() >= 30.0);

    // The list endpoint and DELETE.
    let (_, listed) = h.get("/__mock/faults").await;
    assert_eq!(listed["data"]["faults"][0]["route"], "status");
    let (status, listed) = h
        .send(reqwest::Method::DELETE, "/__mock/faults", None)
        .await;
    assert_eq!(
        (status, listed["data"]["faults"].clone()),
        (StatusCode::OK, json!([]))
    );
    // Invalid rules are a 422.
    let (status, _) = h
        .send(
            reqwest::Method::POST,
            "/__mock/faults",
            Some(json!({"error_rate": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn faults_from_config_flags() {
    let config = MockConfig {
        faults: vec![
            "robocall:error_rate=1,error_statuses=503"
                .parse::<FaultRule>()
                .unwrap(),
        ],
        ..test_config()
    };
    let h = Harness::start(config).await;
    assert_eq!(
        h.post("/voicebot/v1/call", seed_body()).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn journal_calls_reset_and_ndjson_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("journal.ndjson");
    let h = Harness::start(MockConfig {
        journal_file: Some(file.clone()),
        journal_capacity: 3,
        ..test_config()
    })
    .await;
    for i in 0..4 {
        h.robocall(&format!("+234800000000{i}")).await;
    }
    let (_, journal) = h.get("/__mock/journal").await;
    assert_eq!(journal["data"]["capacity"], 3);
    assert_eq!(journal["data"]["dropped"], 1);
    let entries = journal["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["seq"], 1);
    assert_eq!(entries[0]["method"], "POST");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[0]["body"]["workflow_id"], SEED_ROBOCALL_WORKFLOW);
    assert_eq!(entries[0]["headers"]["authorization"], "Bearer [redacted]");

    let calls = h.calls().await;
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[0]["phone_number"], "+2348000000000");
    assert_eq!(calls[0]["workflow_id"], SEED_ROBOCALL_WORKFLOW);
    assert_eq!(calls[0]["workflow_variables"], json!({"name": "Ada"}));
    assert_eq!(
        calls[0]["user_tag_identifiers"],
        json!({"customer_id": "CUST001"})
    );
    assert_eq!(calls[0]["attempt"], 1);
    let (_, page) = h.get("/__mock/calls?offset=3&limit=5").await;
    assert_eq!(page["data"]["calls"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"]["total"], 4);

    let (_, clock) = h.get("/__mock/clock").await;
    assert_eq!(clock["data"]["time_scale"], 0.0);
    let (status, health) = h.get("/__mock/health").await;
    assert_eq!(
        (status, health["data"]["calls"].clone()),
        (StatusCode::OK, json!(4))
    );

    let (status, _) = h.post("/__mock/reset", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.calls().await.len(), 0);
    let (_, journal) = h.get("/__mock/journal").await;
    // Only the requests since the reset (the reset itself is journaled once it is answered).
    let paths: Vec<&str> = journal["data"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/__mock/reset", "/__mock/calls"]);
    let (status, _) = h
        .get(&format!("/voicebot/v1/workflows/{SEED_ROBOCALL_WORKFLOW}"))
        .await;
    assert_eq!(status, StatusCode::OK);

    h.mock.shutdown().await;
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.len() >= 12,
        "every request, not only the ring: {}",
        lines.len()
    );
    assert!(!text.contains("test-key"));
    assert_eq!(lines[0]["path"], "/voicebot/v1/call");
}

/// Places the same requests on a fresh mock, from several concurrent clients, and returns
/// each phone number's outcomes in attempt order.
async fn outcomes_of_run(
    seed: u64,
    reverse: bool,
) -> BTreeMap<String, Vec<(String, String, Value)>> {
    let h = Arc::new(
        Harness::start(MockConfig {
            seed,
            ..test_config()
        })
        .await,
    );
    let mut phones: Vec<String> = (0..30).map(|i| format!("+2348100000{i:03}")).collect();
    if reverse {
        phones.reverse();
    }
    let mut tasks = Vec::new();
    for chunk in phones.chunks(10) {
        let h = Arc::clone(&h);
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            for round in 0..2 {
                for phone in &chunk {
                    let _ = round;
                    h.robocall(phone).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    h.advance(3600).await;
    let mut by_phone: BTreeMap<String, Vec<(String, String, Value)>> = BTreeMap::new();
    let mut calls = h.calls().await;
    calls.sort_by_key(|c| c["attempt"].as_u64());
    for call in calls {
        by_phone
            .entry(call["phone_number"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                call["processing_status"].as_str().unwrap().to_owned(),
                call["outcome"].as_str().unwrap().to_owned(),
                call["call_duration_in_seconds"].clone(),
            ));
    }
    by_phone
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_outcomes() {
    let first = outcomes_of_run(42, false).await;
    let second = outcomes_of_run(42, true).await;
    assert_eq!(first.len(), 30);
    assert_eq!(first, second);
    let other = outcomes_of_run(43, false).await;
    assert_ne!(first, other);
    // The mix is not degenerate: several final states occur.
    let states: std::collections::BTreeSet<&String> =
        first.values().flatten().map(|(s, _, _)| s).collect();
    assert!(states.len() >= 2, "{states:?}");
}

#[tokio::test]
async fn unknown_paths_and_methods_use_the_envelope() {
    let h = Harness::start(test_config()).await;
    let (status, body) = h.get("/voicebot/v2/call").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], "Error");
    let (status, body) = h.get("/voicebot/v1/call").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["status"], "Error");
    let (status, body) = h.post("/__mock/clock/advance", json!({"hours": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], "Error");
}

#[tokio::test]
async fn envelope_parses_into_wire_types() {
    let h = Harness::start(test_config()).await;
    let (_, body) = h.post("/voicebot/v1/call", seed_body()).await;
    let parsed: Envelope<BatchCreated> = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.status, "Ok");
}

#[tokio::test]
async fn conversation_route_is_limited_to_5_per_second_by_default() {
    let h = Harness::start(test_config()).await;
    let body = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "workflow_params": [{"phone_number": "+2348000000001", "name": "A"}]});
    let mut accepted = 0;
    let mut limited = None;
    for _ in 0..30 {
        let response = h
            .http
            .post(h.url("/voicebot/v1/convobot/call"))
            .header("Authorization", KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
        accepted += 1;
    }
    let response = limited.expect("a 429 within 30 rapid requests at 5 per second");
    assert!(accepted >= 5, "the bucket holds 5 tokens: {accepted}");
    assert!(response.headers().contains_key("retry-after"));
    // The robocall route is not limited by default.
    for i in 0..10 {
        h.robocall(&format!("+23480000010{i:02}")).await;
    }
}

#[tokio::test]
async fn injected_429_share_and_patch_validation() {
    let h = Harness::start(test_config()).await;
    set_faults(
        &h,
        json!([{"route": "robocall", "too_many_requests_rate": 1.0, "retry_after_secs": 2}]),
    )
    .await;
    let response = h
        .http
        .post(h.url("/voicebot/v1/call"))
        .header("Authorization", KEY)
        .json(&seed_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(h.calls().await.len(), 0);
    let path = format!("/voicebot/v1/workflows/{SEED_ROBOCALL_WORKFLOW}");
    for (body, message) in [
        (
            json!({"status": "PAUSED"}),
            "status 'PAUSED' must be ACTIVE or INACTIVE",
        ),
        (json!({"name": ""}), "name must be a non-empty string"),
        (
            json!({"include_reply": "yes"}),
            "include_reply must be true or false",
        ),
    ] {
        let (status, reply) = h.send(reqwest::Method::PATCH, &path, Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply["message"], message);
    }
}
