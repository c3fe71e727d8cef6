//! The workflow endpoints against the contract (docs/voicebot-api.md, "Workflows"), and what
//! the calls listing says each call heard, over real HTTP on random loopback ports.

use std::net::SocketAddr;

use mock_server::config::SEED_CONVERSATION_WORKFLOW;
use mock_server::{MockConfig, RunningMock};
use serde_json::{Value, json};

fn config(documented_only: bool) -> MockConfig {
    MockConfig {
        time_scale: 0.0,
        documented_only,
        ..MockConfig::default()
    }
}

async fn start(documented_only: bool) -> RunningMock {
    mock_server::start(
        config(documented_only),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap()
}

async fn send(
    mock: &RunningMock,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", mock.url()))
        .header("Authorization", "Bearer test-key");
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn post(mock: &RunningMock, path: &str, body: &Value) -> (u16, Value) {
    send(mock, reqwest::Method::POST, path, Some(body)).await
}

async fn create(mock: &RunningMock, body: &Value) -> String {
    let (status, created) = post(mock, "/voicebot/v1/workflows", body).await;
    assert_eq!(status, 200, "{created}");
    created["data"]["id"].as_str().unwrap().to_owned()
}

async fn calls(mock: &RunningMock) -> Vec<Value> {
    let (_, body) = send(mock, reqwest::Method::GET, "/__mock/calls", None).await;
    body["data"]["calls"].as_array().unwrap().clone()
}

// The journal of calls says which workflow each call used and the words it heard, as they
// were when it was placed: a later PATCH does not rewrite what an earlier call heard.
#[tokio::test]
async fn each_call_lists_its_workflow_and_the_message_it_heard() {
    let mock = start(false).await;
    let id = create(
        &mock,
        &json!({"name": "measles", "workflow_type": "ROBOCALL",
                "message": "Hello [name], the dose is due on [date]. [name]!"}),
    )
    .await;
    let call = |phone: &str, name: &str| {
        json!({"workflow_id": id, "tts_voice_accent": "igbo", "tts_voice_gender": "female",
               "workflow_params": [{"phone_number": phone,
                                    "workflow_variables": {"name": name, "date": "1 May"}}]})
    };
    let (status, body) = post(&mock, "/voicebot/v1/call", &call("+2348000000001", "Ada")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &mock,
        reqwest::Method::PATCH,
        &format!("/voicebot/v1/workflows/{id}"),
        Some(&json!({"message": "Hi [name], see you on [date]."})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&mock, "/voicebot/v1/call", &call("+2348000000002", "Bola")).await;
    assert_eq!(status, 200, "{body}");
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "tts_voice_accent": "pidgin",
                       "tts_voice_gender": "male",
                       "workflow_params": [{"phone_number": "+2348000000003", "name": "Chi"}]});
    let (status, body) = post(&mock, "/voicebot/v1/convobot/call", &convo).await;
    assert_eq!(status, 200, "{body}");

    let calls = calls(&mock).await;
    let heard: Vec<(&str, &str, bool)> = calls
        .iter()
        .map(|c| {
            (
                c["workflow_id"].as_str().unwrap(),
                c["message"].as_str().unwrap(),
                c["message_truncated"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        heard,
        [
            (
                id.as_str(),
                "Hello Ada, the dose is due on 1 May. Ada!",
                false
            ),
            (id.as_str(), "Hi Bola, see you on 1 May.", false),
            (
                SEED_CONVERSATION_WORKFLOW,
                "Hello Chi, this is your clinic. Can you come to your appointment?",
                false
            ),
        ]
    );
}

// A conversation call's values are not held to 4000 characters by the service: what the
// listing keeps of its message is, and says so.
#[tokio::test]
async fn a_message_filled_past_4000_characters_is_listed_cut() {
    let mock = start(false).await;
    let long = "é".repeat(5000);
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "tts_voice_accent": "pidgin",
                       "tts_voice_gender": "male",
                       "workflow_params": [{"phone_number": "+2348000000003", "name": long}]});
    let (status, body) = post(&mock, "/voicebot/v1/convobot/call", &convo).await;
    assert_eq!(status, 200, "{body}");
    let calls = calls(&mock).await;
    assert_eq!(calls[0]["message"].as_str().unwrap().chars().count(), 4000);
    assert_eq!(calls[0]["message_truncated"], true);
}

// Validation errors are 422 and name the field; the callback URL (it ends in a token) is
// never echoed; a refused create makes nothing.
#[tokio::test]
async fn a_bad_workflow_is_refused_naming_the_field() {
    let mock = start(false).await;
    let base = json!({"name": "n", "workflow_type": "ROBOCALL", "message": "Hello [name]"});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let mut without_name = base.clone();
    without_name.as_object_mut().unwrap().remove("name");
    let cases = [
        (without_name, "name is required"),
        (
            with("message", json!("x".repeat(4001))),
            "message must be at most 4000 characters",
        ),
        (
            with("workflow_type", json!("SMS")),
            "workflow_type 'SMS' must be ROBOCALL or CONVERSATION",
        ),
        (
            with("response_options", json!({"0": "No"})),
            "response_options keys must be \"1\" to \"9\" (the key the patient presses)",
        ),
        (
            with("response_options", json!({"10": "No"})),
            "response_options keys must be \"1\" to \"9\" (the key the patient presses)",
        ),
        (
            with("include_reply", json!(true)),
            "include_reply is true but there are no response_options",
        ),
        (
            with(
                "call_back_url",
                json!("ftp://hooks.example.org/callbacks/s3cr3t-t0ken-abcdef"),
            ),
            "call_back_url must be an http:// or https:// URL",
        ),
    ];
    for (body, message) in cases {
        let (status, answer) = post(&mock, "/voicebot/v1/workflows", &body).await;
        assert_eq!(
            (status, answer["message"].as_str().unwrap()),
            (422, message),
            "{body}"
        );
        assert_eq!(answer["status"], "Error");
    }
    let (_, list) = send(&mock, reqwest::Method::GET, "/voicebot/v1/workflows", None).await;
    assert_eq!(
        list["data"]["total"], 2,
        "only the seeded workflows: {list}"
    );
    // A PATCH that leaves include_reply without options is refused too.
    let id = create(&mock, &base).await;
    let (status, answer) = send(
        &mock,
        reqwest::Method::PATCH,
        &format!("/voicebot/v1/workflows/{id}"),
        Some(&json!({"include_reply": true})),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str().unwrap()),
        (
            422,
            "include_reply is true but there are no response_options"
        )
    );
}

// With only the documented endpoints, the create still works and faults can be injected on
// it (the `workflows` route): a 5xx before processing creates nothing.
#[tokio::test]
async fn the_documented_create_takes_faults_on_the_workflows_route() {
    let mock = start(true).await;
    let body = json!({"name": "n", "workflow_type": "ROBOCALL", "message": "Hello [name]"});
    let (status, _) = send(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        Some(&json!({"faults": [{"route": "workflows", "error_rate": 1.0, "error_statuses": [503]}]})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = post(&mock, "/voicebot/v1/workflows", &body).await;
    assert_eq!(status, 503, "{answer}");
    let (status, _) = send(&mock, reqwest::Method::DELETE, "/__mock/faults", None).await;
    assert_eq!(status, 200);
    let id = create(&mock, &body).await;
    // The id handed out is the first created: the refused request made none.
    let fresh = start(true).await;
    assert_eq!(create(&fresh, &body).await, id);
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let (status, _) = send(
            &fresh,
            method.clone(),
            &format!("/voicebot/v1/workflows/{id}"),
            Some(&json!({})),
        )
        .await;
        assert_eq!(status, 404, "{method}");
    }
    let (status, _) = send(&fresh, reqwest::Method::GET, "/voicebot/v1/workflows", None).await;
    assert_eq!(status, 404);
}
