//! The `voicebot-mock` binary: flags, start-up on a random port, bad configuration.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_voicebot-mock");

#[test]
fn help_lists_the_flags() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--port",
        "--host",
        "--api-key",
        "--config",
        "--seed",
        "--time-scale",
        "--max-params",
        "--rate-limit",
        "--outcomes",
        "--fault",
        "--journal",
        "--journal-capacity",
        "--max-connections",
        "--idle-timeout",
        "--header-read-timeout",
        "--body-read-timeout",
        "--documented-only",
        "--color",
        "--verbose",
        "--log-format",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn bad_config_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mock.yaml");
    std::fs::write(&config, "time_scale: -1\n").unwrap();
    let output = Command::new(BIN)
        .args(["--port", "0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("time_scale"), "{stderr}");
}

/// Reads the log file until a line holds `what`.
async fn line_with(log: &std::path::Path, what: &str) -> String {
    for _ in 0..1200 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(what)) {
            return line.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "no line with {what:?} in {}",
        std::fs::read_to_string(log).unwrap()
    );
}

// Its log goes to a file, as a service's does: sentences with the local time, no escape
// codes (`--color auto` colours a terminal only), never the key.
#[tokio::test]
async fn serves_on_a_random_port_and_logs_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mock.log");
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--api-key", "secret-bench-key"])
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let listening = line_with(&log, "voicebot mock listening on ").await;
    let url = listening.rsplit(' ').next().unwrap().to_owned();
    let response = reqwest::Client::new()
        .post(format!("{url}/voicebot/v1/call"))
        .bearer_auth("secret-bench-key")
        .body(r#"{"workflow_id":"9b643eb4-0799-4761-bd34-9580eb315aaf","workflow_params":[{"phone_number":"+2348076960623","workflow_variables":{"name":"James"}}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_line = line_with(&log, "POST /voicebot/v1/call: 200 in ").await;
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains('\u{1b}'), "escape codes in {text:?}");
    assert!(!text.contains("secret-bench-key"), "{text}");
    // `Tue 1 Dec 09:14 WAT  POST …`: a time for people, then the words.
    let (time, words) = request_line.split_once("  ").unwrap();
    assert_eq!(time.split(' ').count(), 5, "{request_line}");
    assert!(words.starts_with("POST "), "{request_line}");
}

/// One raw HTTP/1.1 request that closes its connection; the whole answer.
fn raw(addr: &str, request: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

// Class 9 (issue 14): a service manager stops the mock with SIGTERM (a closed terminal sends
// SIGHUP): the request in flight is answered, then the mock exits 0.
#[tokio::test]
async fn class_9_sigterm_and_sighup_drain_requests_in_flight_and_exit_0() {
    for signal in ["-TERM", "-HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("mock.log");
        let mut child = Command::new(BIN)
            .args(["--port", "0", "--fault", "robocall:latency_ms=1500"])
            .env_remove("RUST_LOG")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let listening = line_with(&log, "voicebot mock listening on ").await;
        let addr = listening
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_start_matches("http://")
            .to_owned();
        let body = r#"{"workflow_id":"9b643eb4-0799-4761-bd34-9580eb315aaf","workflow_params":[{"phone_number":"+2348076960623","workflow_variables":{"name":"James"}}]}"#;
        let request = format!(
            "POST /voicebot/v1/call HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer k\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let target = addr.clone();
        let in_flight = std::thread::spawn(move || raw(&target, &request));
        let health = "GET /__mock/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n";
        for tries in 0.. {
            assert!(tries < 3000, "the request never was in flight");
            if raw(&addr, health).contains("\"in_flight\":1") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let answer = in_flight.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{signal}: {answer:?}");
        assert!(answer.contains("batch_id"), "{signal}: {answer}");
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "{signal}: {}",
            std::fs::read_to_string(&log).unwrap()
        );
    }
}
