//! SIGTERM and SIGHUP are Ctrl-C (issue 14, class 9): CI cancellations, systemd and
//! container orchestrators stop a process with SIGTERM, and a closed terminal sends SIGHUP.
//! `apply` stops sending, records what is in flight and exits 130; the mock server finishes
//! the requests in flight and exits 0. Over the real binaries; every wait has a watchdog.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::apply::{
    Mock, apply, assert_exactly_once, slow_campaign, spawn_apply, text, wait_until,
};
use crate::{on_both_backends, outreach, root};

/// Longer than anything here takes on a slow, busy machine; only reached when it is wrong.
const WATCHDOG: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
pub(crate) enum Signal {
    Int,
    Term,
    Hup,
}

impl Signal {
    fn flag(self) -> &'static str {
        match self {
            Signal::Int => "-INT",
            Signal::Term => "-TERM",
            Signal::Hup => "-HUP",
        }
    }
}

/// Sends `signal` to the process `pid`.
pub(crate) fn send(pid: u32, signal: Signal) {
    let sent = Command::new("kill")
        .args([signal.flag(), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill {} {pid}", signal.flag());
}

/// Waits for `child` to end (killing it after the watchdog); its exit code.
pub(crate) fn wait_for_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the process did not end within {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How a server ended.
pub(crate) struct Stopped {
    pub code: Option<i32>,
    pub stderr: String,
}

/// `outreach mock-server` running on a random port, its log in a file.
pub(crate) struct Server {
    child: Child,
    log: PathBuf,
    addr: String,
}

impl Server {
    /// Starts `outreach mock-server --port 0` with `extra` flags; returns once it listens.
    pub(crate) fn outreach_mock(dir: &Path, extra: &[&str]) -> Server {
        let log = dir.join("mock-server.log");
        let child = Command::new(assert_cmd::cargo::cargo_bin("outreach"))
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .args(["mock-server", "--port", "0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + WATCHDOG;
        let addr = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                break rest.split(['"', ' ', '\n']).next().unwrap().to_owned();
            }
            assert!(Instant::now() < deadline, "the mock did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, log, addr }
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends one raw HTTP/1.1 request (it should say `Connection: close`); the whole answer.
    pub(crate) fn raw(&self, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(WATCHDOG)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// `GET /__mock/health`'s data.
    fn health(&self) -> Value {
        let answer =
            self.raw("GET /__mock/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str::<Value>(body).unwrap()["data"].clone()
    }

    /// Sends `signal` and waits for the server to end.
    pub(crate) fn stop_with(mut self, signal: Signal) -> Stopped {
        send(self.child.id(), signal);
        let code = wait_for_exit(&mut self.child);
        Stopped {
            code,
            stderr: std::fs::read_to_string(&self.log).unwrap_or_default(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The campaign's calls by state, from `outreach status --json`.
fn states(c: &crate::apply::Campaign) -> Value {
    let listed = outreach()
        .args(["status", "--json", "--state"])
        .arg(c.state())
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", text(&listed));
    let s: Value = serde_json::from_slice(&listed.stdout).unwrap();
    s["campaigns"][0]["states"].clone()
}

// Class 9: SIGTERM and SIGHUP stop an apply as the first Ctrl-C does, while requests are in
// flight to a slow mock: exit 130, nothing left `sending`, and the next run calls every
// patient exactly once.
on_both_backends! {
    fn class_9_sigterm_and_sighup_stop_apply_as_ctrl_c_does() {
        for signal in [Signal::Term, Signal::Hup] {
            let mock = Mock::fast();
            mock.set_faults(&serde_json::json!([{"route": "robocall", "latency_ms": 200}]));
            let c = slow_campaign(12, 1);
            let child = spawn_apply(&c, &mock.url, &["--json", "--no-follow"]);
            wait_until(|| mock.calls().len() >= 2, "two calls");
            send(child.id(), signal);
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(130), "{signal:?}: {}", text(&out));
            let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
            // The summary names the signal, not Ctrl-C.
            let name = match signal {
                Signal::Term => "SIGTERM",
                _ => "SIGHUP",
            };
            assert_eq!(summary["stopped"]["reason"], "interrupted", "{summary}");
            assert_eq!(summary["stopped"]["signal"], name, "{summary}");
            let placed = mock.calls().len() as u64;
            assert!(placed < 12, "{signal:?}: it stopped early");
            assert_eq!(summary["counts"]["accepted"].as_u64(), Some(placed), "{summary}");
            let by_state = states(&c);
            assert!(by_state.get("sending").is_none(), "{signal:?}: {by_state}");
            assert!(by_state.get("in_doubt").is_none(), "{signal:?}: {by_state}");
            mock.set_faults(&serde_json::json!([]));
            let out = apply(&c, &mock.url, &["--no-follow"]);
            assert_eq!(out.status.code(), Some(0), "{signal:?}: {}", text(&out));
            assert_exactly_once(&mock, &c);
        }
    }
}

// Class 9: the bundled mock (`outreach mock-server`) stopped by SIGTERM or SIGHUP answers the
// request in flight, then exits 0.
#[test]
fn class_9_the_mock_server_answers_requests_in_flight_and_exits_0_on_sigterm() {
    for signal in [Signal::Term, Signal::Hup] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--fault", "robocall:latency_ms=1500"]);
        let addr = server.addr.clone();
        let body = r#"{"workflow_id":"9b643eb4-0799-4761-bd34-9580eb315aaf","workflow_params":[{"phone_number":"+2348076960623","workflow_variables":{"name":"James"}}]}"#;
        let request = format!(
            "POST /voicebot/v1/call HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer k\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let in_flight = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.set_read_timeout(Some(WATCHDOG)).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer
        });
        wait_until(
            || server.health()["in_flight"].as_u64() >= Some(1),
            "the request to be in flight",
        );
        let stopped = server.stop_with(signal);
        let answer = in_flight.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{signal:?}: {answer:?}");
        assert!(answer.contains("batch_id"), "{signal:?}: {answer}");
        assert_eq!(stopped.code, Some(0), "{signal:?}: {}", stopped.stderr);
    }
}
