//! `--documented-only` (`documented_only: true`): the mock without the endpoints this project
//! assumed, over real HTTP on random loopback ports, time frozen.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mock_server::config::{
    ASSUMED_ENDPOINTS, CallTiming, CallbackConfig, SEED_CONVERSATION_WORKFLOW,
    SEED_ROBOCALL_WORKFLOW,
};
use mock_server::{MockConfig, RunningMock};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Frozen time; every call is final 60 s (simulated) after it is placed.
fn config(documented_only: bool) -> MockConfig {
    MockConfig {
        time_scale: 0.0,
        documented_only,
        timing: CallTiming {
            queued_secs: [10, 10],
            ringing_secs: [20, 20],
            talk_secs: [30, 30],
            no_answer_after_secs: 30,
        },
        callback: CallbackConfig {
            retries: 3,
            backoff_ms: 10,
            timeout_ms: 2_000,
        },
        ..MockConfig::default()
    }
}

/// Sends `method path` with `body` (JSON) over a fresh connection that asks to be closed, and
/// returns every byte of the answer.
async fn raw(mock: &RunningMock, method: &str, path: &str, auth: bool, body: &str) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        mock.addr()
    );
    if auth {
        request.push_str("Authorization: Bearer test-key\r\n");
    }
    if !body.is_empty() {
        write!(
            request,
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        )
        .unwrap();
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    answer
}

/// The answer's bytes without its `date` header (the one line that depends on when it was
/// sent), and its status code.
fn without_date(answer: &[u8]) -> (u16, Vec<u8>) {
    let text = String::from_utf8(answer.to_vec()).expect("the mock answers in UTF-8");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let lines: Vec<&str> = head.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.to_ascii_lowercase().starts_with("date:")),
        "{head}"
    );
    let kept: Vec<&str> = lines
        .into_iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .collect();
    (
        status,
        format!("{}\r\n\r\n{body}", kept.join("\r\n")).into_bytes(),
    )
}

async fn json_post(mock: &RunningMock, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", mock.url()))
        .bearer_auth("test-key")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn json_get(mock: &RunningMock, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", mock.url()))
        .bearer_auth("test-key")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn robocall(phone: &str) -> Value {
    json!({"workflow_id": SEED_ROBOCALL_WORKFLOW, "tts_voice_accent": "yoruba", "tts_voice_gender": "female",
           "workflow_params": [{"phone_number": phone, "workflow_variables": {"name": "Ada"}}]})
}

/// A batch, a workflow and a call that exist, so an assumed endpoint's 404 is not an unknown id's.
async fn ids(mock: &RunningMock) -> (String, String) {
    let (status, placed) = json_post(mock, "/voicebot/v1/call", &robocall("+2348000000001")).await;
    assert_eq!(status, 200, "{placed}");
    let batch_id = placed["data"]["batch_id"].as_str().unwrap().to_owned();
    let (status, created) = json_post(
        mock,
        "/voicebot/v1/workflows",
        &json!({"name": "Reminder", "workflow_type": "ROBOCALL", "message": "Hello [name]."}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    (batch_id, created["data"]["id"].as_str().unwrap().to_owned())
}

/// Each assumed endpoint, with real ids filled in, and the body its method takes.
fn assumed_requests(
    batch_id: &str,
    workflow_id: &str,
) -> Vec<(&'static str, String, &'static str)> {
    ASSUMED_ENDPOINTS
        .iter()
        .map(|(method, pattern)| {
            let path = pattern
                .replace("{id}", workflow_id)
                .replace("{batch_id}", batch_id);
            let body = if *method == "PATCH" {
                r#"{"name": "Renamed"}"#
            } else {
                ""
            };
            (*method, path, body)
        })
        .collect()
}

// Class: an assumed endpoint that a documented-only mock still serves would let the client
// depend on it unnoticed; one that answers differently from an unknown path tells it apart.
#[tokio::test]
async fn assumed_endpoints_answer_exactly_as_an_unknown_path_does() {
    let mock = mock_server::start(config(true), loopback()).await.unwrap();
    let (batch_id, workflow_id) = ids(&mock).await;
    for (method, path, body) in assumed_requests(&batch_id, &workflow_id) {
        // A path of the same length that nothing serves: the same answer, but for its name.
        let unknown = path.replacen("/voicebot/v1/", "/voicebot/v0/", 1);
        for auth in [true, false] {
            let (status, ours) = without_date(&raw(&mock, method, &path, auth, body).await);
            let (_, theirs) = without_date(&raw(&mock, method, &unknown, auth, body).await);
            let theirs = String::from_utf8(theirs)
                .unwrap()
                .replace(&unknown, &path)
                .into_bytes();
            assert_eq!(status, if auth { 404 } else { 401 }, "{method} {path}");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{method} {path} (auth: {auth})"
            );
        }
    }
    // The journal records them as it records an unknown path: no route, so no fault and no
    // rate limit ever touches them.
    let (_, journal) = json_get(&mock, "/__mock/journal?limit=1000").await;
    let entries = journal["data"]["entries"].as_array().unwrap();
    let batch_path = format!("/voicebot/v1/requests/{batch_id}");
    assert!(
        entries.iter().any(|e| e["path"] == batch_path.as_str()
            && e["status"] == 404
            && e["fault"].is_null())
    );
    mock.shutdown().await;
}

// Guards the test above: on the full mock the same requests succeed, so their 404 above comes
// from documented-only, not from a wrong id or path.
#[tokio::test]
async fn the_same_requests_succeed_on_the_full_mock() {
    let mock = mock_server::start(config(false), loopback()).await.unwrap();
    let (batch_id, workflow_id) = ids(&mock).await;
    let requests = assumed_requests(&batch_id, &workflow_id);
    assert_eq!(requests.len(), 6);
    // DELETE last: the workflow's other endpoints need it.
    for (method, path, body) in requests
        .iter()
        .filter(|r| r.0 != "DELETE")
        .chain(requests.iter().filter(|r| r.0 == "DELETE"))
    {
        let (status, _) = without_date(&raw(&mock, method, path, true, body).await);
        assert_eq!(status, 200, "{method} {path}");
    }
    mock.shutdown().await;
}

#[tokio::test]
async fn documented_endpoints_and_the_mock_controls_stay() {
    let mock = mock_server::start(config(true), loopback()).await.unwrap();
    for path in ["/voicebot/v1/call", "/voicebot/v1/robocall/call"] {
        let (status, body) = json_post(&mock, path, &robocall("+2348000000002")).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW,
                       "workflow_params": [{"phone_number": "+2348000000003", "name": "Ada"}]});
    let (status, body) = json_post(&mock, "/voicebot/v1/convobot/call", &convo).await;
    assert_eq!(status, 200, "{body}");
    let (status, created) = json_post(
        &mock,
        "/voicebot/v1/workflows",
        &json!({"name": "Reminder", "workflow_type": "ROBOCALL", "message": "Hello [name]."}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let (_, calls) = json_get(&mock, "/__mock/calls").await;
    let calls = calls["data"]["calls"].as_array().unwrap().clone();
    assert_eq!(calls.len(), 3);
    let (status, _) = json_post(&mock, "/__mock/clock/advance", &json!({"seconds": 60})).await;
    assert_eq!(status, 200);
    let call_id = calls[0]["call_id"].as_str().unwrap();
    let (status, found) = json_get(&mock, &format!("/voicebot/v1/status/{call_id}")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["message"], "call status found");
    assert!(
        found["data"]["processing_status"]
            .as_str()
            .unwrap()
            .starts_with("VOICE_CALL_")
    );
    mock.shutdown().await;
}

type Received = Arc<Mutex<Vec<Value>>>;

/// A callback receiver on a random loopback port; each payload is also announced on the channel.
async fn receiver() -> (String, Received, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let received: Received = Arc::default();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let received = Arc::clone(&received);
            move |body: axum::body::Bytes| {
                received
                    .lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                let _ = tx.send(());
                async { axum::http::StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(loopback()).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received, rx)
}

/// The payload of a conversation batch of three calls that all end with a reply.
async fn callback_of_replied_calls(documented_only: bool) -> Value {
    let (url, received, mut arrivals) = receiver().await;
    let mut config = config(documented_only);
    config.outcomes = "replied=1".parse().unwrap();
    config.workflows[1].call_back_url = Some(url);
    let mock = mock_server::start(config, loopback()).await.unwrap();
    let params: Vec<Value> = (4..7)
        .map(|i| json!({"phone_number": format!("+234800000000{i}"), "name": "Ada"}))
        .collect();
    let convo = json!({"workflow_id": SEED_CONVERSATION_WORKFLOW, "workflow_params": params});
    let (status, body) = json_post(&mock, "/voicebot/v1/convobot/call", &convo).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = json_post(&mock, "/__mock/clock/advance", &json!({"seconds": 60})).await;
    assert_eq!(status, 200);
    arrivals.recv().await.unwrap();
    mock.shutdown().await;
    received.lock().unwrap()[0].clone()
}

// The documented sample shows `response_options_counts` as an integer; a receiver tested only
// against the mock's object would fail on the live service.
#[tokio::test]
async fn the_callback_takes_the_documented_form() {
    let payload = callback_of_replied_calls(true).await;
    let stats = payload["stats"].as_object().unwrap();
    let mut keys: Vec<&str> = stats.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "avg_duration",
            "completed_calls",
            "replied_calls",
            "response_options_counts",
            "success_rate",
            "timeout_calls",
            "total_calls"
        ],
        "the documented sample's seven keys"
    );
    assert_eq!(stats["response_options_counts"], json!(3));
    assert_eq!(stats["replied_calls"], json!(3));
    assert!(stats["avg_duration"].is_f64() && stats["success_rate"].is_f64());
    assert_eq!(payload["status"], "COMPLETED");
    assert!(payload["integrator_id"].is_string() && payload["request_id"].is_string());
    // The per-call list the contract assumes stays: it is how a receiver learns each outcome.
    let calls = payload["request_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c["reply"].is_string()));
}

#[tokio::test]
async fn the_full_mock_keeps_its_per_option_counts() {
    let payload = callback_of_replied_calls(false).await;
    let counts = payload["stats"]["response_options_counts"]
        .as_object()
        .expect("an object of per-option counts");
    assert_eq!(counts.values().filter_map(Value::as_u64).sum::<u64>(), 3);
    assert!(payload["stats"]["failed_calls"].is_u64());
}
