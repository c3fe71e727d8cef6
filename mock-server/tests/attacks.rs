//! Hostile clients (issue 14): connections that send nothing or half a request, and clock
//! controls that would overflow. Over real loopback TCP; no test asserts a timing (the short
//! timeouts only make the tests quick, and every wait is bounded by a watchdog).

use std::net::SocketAddr;
use std::time::Duration;

use mock_server::MockConfig;
use mock_server::config::ConnectionLimits;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const KEY: &str = "Bearer test-key";
/// A bound on every wait, so a regression hangs no CI job.
const WATCHDOG: Duration = Duration::from_secs(60);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn robocall() -> Value {
    json!({
        "workflow_id": mock_server::config::SEED_ROBOCALL_WORKFLOW,
        "workflow_params": [{"phone_number": "+2348076960623", "workflow_variables": {"name": "James"}}],
    })
}

/// Reads until the mock closes the connection; what it sent before closing.
async fn until_closed(mut stream: TcpStream) -> String {
    let mut text = Vec::new();
    tokio::time::timeout(WATCHDOG, stream.read_to_end(&mut text))
        .await
        .expect("the mock never closed the connection")
        .ok();
    String::from_utf8_lossy(&text).into_owned()
}

// Class 20: connections that send nothing, half a request head or half a body are closed
// (a half-sent body is answered 408), and however many there are, a normal request still
// gets its answer: at the cap, the connection idle the longest makes room.
#[tokio::test]
async fn class_20_idle_and_half_open_connections_are_closed_and_never_stall_the_mock() {
    let config = MockConfig {
        connections: ConnectionLimits {
            max_connections: 64,
            idle_timeout_ms: 500,
            header_read_timeout_ms: 500,
            body_read_timeout_ms: 500,
        },
        ..MockConfig::default()
    };
    let mock = mock_server::start(config, loopback()).await.unwrap();
    let addr = mock.addr();
    let mut idle = Vec::new();
    let mut half_heads = Vec::new();
    let mut half_bodies = Vec::new();
    for _ in 0..150 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    for _ in 0..100 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /voicebot/v1/call HTTP/1.1\r\nHost: mock\r\nContent-Ty")
            .await
            .unwrap();
        half_heads.push(stream);
    }
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /voicebot/v1/call HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer k\r\nContent-Length: 1000\r\n\r\n{\"workflow_id\":",
            )
            .await
            .unwrap();
        half_bodies.push(stream);
    }

    // A normal client is answered while all of them are open (or being closed).
    let response = tokio::time::timeout(
        WATCHDOG,
        reqwest::Client::new()
            .post(format!("{}/voicebot/v1/call", mock.url()))
            .header("Authorization", KEY)
            .json(&robocall())
            .send(),
    )
    .await
    .expect("the mock stalled")
    .unwrap();
    assert_eq!(response.status(), 200);

    // Every hostile connection is closed by the mock; the half-sent bodies get a 408 first.
    for stream in idle.into_iter().chain(half_heads) {
        let said = until_closed(stream).await;
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 "),
            "unexpected bytes: {said:?}"
        );
    }
    for stream in half_bodies {
        let said = until_closed(stream).await;
        assert!(said.starts_with("HTTP/1.1 408"), "{said:?}");
        assert!(said.contains("\"status\":\"Error\""), "{said:?}");
    }

    // And the mock still serves.
    let health = reqwest::get(format!("{}/__mock/health", mock.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    mock.shutdown().await;
}

// Class 20: a keep-alive connection that falls silent after its answer is closed too.
#[tokio::test]
async fn class_20_a_silent_keep_alive_connection_is_closed_after_its_answer() {
    let config = MockConfig {
        connections: ConnectionLimits {
            idle_timeout_ms: 300,
            ..ConnectionLimits::default()
        },
        ..MockConfig::default()
    };
    let mock = mock_server::start(config, loopback()).await.unwrap();
    let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
    stream
        .write_all(b"GET /__mock/health HTTP/1.1\r\nHost: mock\r\n\r\n")
        .await
        .unwrap();
    let said = until_closed(stream).await;
    assert!(said.starts_with("HTTP/1.1 200"), "{said:?}");
    mock.shutdown().await;
}

async fn advance(http: &reqwest::Client, url: &str, body: &str) -> (u16, Value) {
    let response = http
        .post(format!("{url}/__mock/clock/advance"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

// Class 20: an advance that would overflow the clock (or is not a length of time) is refused
// with 400 and an error envelope, and the clock stays where it was; calls placed afterwards
// still reach their end.
#[tokio::test]
async fn class_20_a_huge_clock_advance_is_refused_and_the_clock_is_unchanged() {
    let config = MockConfig {
        time_scale: 0.0,
        ..MockConfig::default()
    };
    let mock = mock_server::start(config, loopback()).await.unwrap();
    let url = mock.url();
    let http = reqwest::Client::new();
    let clock = |http: reqwest::Client, url: String| async move {
        let v: Value = http
            .get(format!("{url}/__mock/clock"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["data"]["now_ms"].as_u64().unwrap()
    };
    let before = clock(http.clone(), url.clone()).await;
    for body in [
        format!(r#"{{"seconds": {}}}"#, u64::MAX),
        format!(r#"{{"ms": {}}}"#, u64::MAX),
        format!(r#"{{"ms": {}}}"#, u64::MAX / 2),
        r#"{"ms": 18446744073709551616}"#.to_owned(),
        r#"{"seconds": 1e308}"#.to_owned(),
        r#"{"seconds": 1e400}"#.to_owned(),
        r#"{"seconds": -1}"#.to_owned(),
        r#"{"ms": -1}"#.to_owned(),
        r#"{"ms": 1.5}"#.to_owned(),
        r#"{"seconds": 1, "ms": 1}"#.to_owned(),
        format!(r#"{{"ms": {}}}"#, mock_server::clock::MAX_MS),
    ] {
        let (status, answer) = advance(&http, &url, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["status"], "Error", "{body}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
        assert_eq!(clock(http.clone(), url.clone()).await, before, "{body}");
    }

    // The clock still works, and a call placed now ends.
    let placed: Value = http
        .post(format!("{url}/voicebot/v1/call"))
        .header("Authorization", KEY)
        .json(&robocall())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(placed["status"], "Ok", "{placed}");
    let (status, answer) = advance(&http, &url, r#"{"seconds": 86400}"#).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["now_ms"], before + 86_400_000);
    let calls: Value = http
        .get(format!("{url}/__mock/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let state = calls["data"]["calls"][0]["processing_status"].as_str();
    assert!(
        state.is_some_and(|s| s != "VOICE_CALL_QUEUED" && s != "VOICE_CALL_PROCESSING"),
        "{calls}"
    );
    mock.shutdown().await;
}
