//! The `voicebot-mock` binary: flags, start-up on a random port, bad configuration.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

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

#[tokio::test]
async fn serves_on_a_random_port_and_logs_without_the_key() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--api-key", "secret-bench-key"])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let url = rx
        .iter()
        .find_map(|line| line.split("url=").nth(1).map(|u| u.trim().to_owned()))
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{url}/voicebot/v1/call"))
        .bearer_auth("secret-bench-key")
        .body(r#"{"workflow_id":"9b643eb4-0799-4761-bd34-9580eb315aaf","workflow_params":[{"phone_number":"+2348076960623","workflow_variables":{"name":"James"}}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_line = rx
        .iter()
        .find(|line| line.contains("/voicebot/v1/call"))
        .unwrap();
    assert!(request_line.contains("status=200"), "{request_line}");
    assert!(!request_line.contains("secret-bench-key"));
    child.kill().unwrap();
    child.wait().unwrap();
}
