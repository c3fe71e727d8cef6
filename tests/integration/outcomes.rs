//! Outcomes from the service's completion callbacks (issue 17, acceptance 1): the mock (with
//! only the documented endpoints where it matters) posts its callbacks to `outreach
//! callbacks` over real HTTP, and the ledger ends with the outcomes the mock gave its calls.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::apply::{Campaign, KEY, apply, campaign, text};
use crate::signals::{Server, Signal, send, wait_for_exit};
use crate::{on_both_backends, root};

pub(crate) const TOKEN: &str = "test-callback-token-0123456789abcdef";
const WATCHDOG: Duration = Duration::from_secs(90);

/// `outreach callbacks` on a ledger, listening on a free loopback port.
pub(crate) struct Receiver {
    child: Child,
    pub(crate) addr: String,
    log: PathBuf,
}

impl Receiver {
    pub(crate) fn start(dir: &Path, state: &Path) -> Receiver {
        let log = dir.join(format!(
            "callbacks-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("outreach"))
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .env_remove("OUTREACH_DATABASE_URL")
            .env_remove("OUTREACH_CALLBACK_TOKEN_PREVIOUS")
            .env("OUTREACH_CALLBACK_TOKEN", TOKEN)
            .args([
                "callbacks",
                "--listen",
                "127.0.0.1:0",
                "--rematch-every",
                "1s",
                "--state",
            ])
            .arg(state)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let addr = loop {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = said.split("listening on http://").nth(1) {
                break rest.split([' ', '\n']).next().unwrap().to_owned();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the receiver ended ({status}): {said}");
            }
            assert!(
                started.elapsed() < WATCHDOG,
                "the receiver did not start: {said}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Receiver { child, addr, log }
    }

    /// The URL the workflow's `call_back_url` names.
    pub(crate) fn callback_url(&self) -> String {
        format!("http://{}/callbacks/{TOKEN}", self.addr)
    }

    /// One raw HTTP/1.1 exchange with the receiver (the request says `Connection: close`).
    pub(crate) fn raw(&self, request: &[u8]) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(WATCHDOG)).unwrap();
        stream.write_all(request).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    /// POSTs `body` to `path`; the answer's status code.
    pub(crate) fn post(&self, path: &str, body: &[u8]) -> u16 {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        status(&self.raw(&request))
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, as a crash.
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM: it drains and exits; its exit code.
    pub(crate) fn stop(mut self) -> Option<i32> {
        send(self.child.id(), Signal::Term);
        wait_for_exit(&mut self.child)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// One request to the mock; the answer's JSON body.
fn mock_json(server: &Server, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string).unwrap_or_default();
    let answer = server.raw(&format!(
        "{method} {path} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// A robocall workflow on the mock (`POST /voicebot/v1/workflows`, [doc]) whose callbacks go
/// to `callback_url`; its id.
pub(crate) fn workflow_calling_back(server: &Server, callback_url: &str) -> String {
    let created = mock_json(
        server,
        "POST",
        "/voicebot/v1/workflows",
        Some(&json!({
            "name": "reminder",
            "workflow_type": "ROBOCALL",
            "message": "Hello [name], this is a reminder.",
            "call_back_url": callback_url,
        })),
    );
    created["data"]["id"].as_str().unwrap().to_owned()
}

/// Campaign `c` on workflow `workflow` instead of the mock's demo one.
pub(crate) fn use_workflow(c: &Campaign, workflow: &str) {
    let yaml = std::fs::read_to_string(&c.path).unwrap();
    std::fs::write(
        &c.path,
        yaml.replace("9b643eb4-0799-4761-bd34-9580eb315aaf", workflow),
    )
    .unwrap();
}

/// The outcomes the mock gave its calls: (answered, failed, no_answer, not final).
fn mock_outcomes(server: &Server) -> (u64, u64, u64, u64) {
    let calls = mock_json(server, "GET", "/__mock/calls?limit=100000", None);
    let mut counts = (0, 0, 0, 0);
    for call in calls["data"]["calls"].as_array().unwrap() {
        match call["processing_status"].as_str().unwrap() {
            "VOICE_CALL_PROCESSED" => counts.0 += 1,
            "VOICE_CALL_FAILED" => counts.1 += 1,
            "VOICE_CALL_TIMEOUT" => counts.2 += 1,
            _ => counts.3 += 1,
        }
    }
    counts
}

/// Waits until the mock has delivered `batches` callbacks (distinct requests).
fn wait_delivered(server: &Server, batches: usize) {
    let started = Instant::now();
    loop {
        let d = mock_json(server, "GET", "/__mock/callbacks", None);
        let mut delivered: Vec<&str> = d["data"]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["delivered"] == true)
            .map(|d| d["request_id"].as_str().unwrap())
            .collect();
        delivered.sort_unstable();
        delivered.dedup();
        if delivered.len() >= batches {
            return;
        }
        assert!(
            started.elapsed() < WATCHDOG,
            "{} of {batches} callbacks delivered: {d}",
            delivered.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Moves the mock's virtual clock `seconds` on.
fn advance(server: &Server, seconds: u64) {
    let moved = mock_json(
        server,
        "POST",
        "/__mock/clock/advance",
        Some(&json!({ "seconds": seconds })),
    );
    assert_eq!(moved["status"], "Ok", "{moved}");
}

/// `report --format json` of campaign `c` on the mock at `url`.
fn report(c: &Campaign, url: &str) -> Value {
    crate::apply::report_json(c, url)
}

/// The report's (answered, failed, no_answer, pending).
fn reported(r: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| {
        r["latest"][k]
            .as_u64()
            .or_else(|| r[k].as_u64())
            .unwrap_or(0)
    };
    (n("answered"), n("failed"), n("no_answer"), n("pending"))
}

// Class: outcomes that never reach the ledger on a service with only the documented
// endpoints (no batch lookup): the calls stayed pending for ever.
on_both_backends! {
    fn callbacks_after_a_no_follow_apply_settle_every_call_as_the_mock_gave_it() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        let c = campaign(12, "delivery: {batch_size: 5}\n");
        let receiver = Receiver::start(dir.path(), &c.state());
        use_workflow(&c, &workflow_calling_back(&server, &receiver.callback_url()));
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let before = report(&c, &server.url());
        assert_eq!(reported(&before).3, 12, "all pending: {before}");

        advance(&server, 3600);
        wait_delivered(&server, 3);
        let mock = mock_outcomes(&server);
        assert_eq!(mock.3, 0, "every call final on the mock");
        let after = report(&c, &server.url());
        assert_eq!(reported(&after), (mock.0, mock.1, mock.2, 0), "{after}");
        let log = receiver.log();
        assert!(!log.contains("+234"), "no number in the log: {log}");
        assert!(!log.contains(TOKEN), "{log}");
        assert_eq!(receiver.stop(), Some(0));
    }
}

// Class: outcomes lost or counted twice when callbacks race the run that placed the calls
// (a callback before apply recorded its batch id is kept, then matched).
on_both_backends! {
    fn callbacks_arriving_while_calls_are_still_sent_settle_every_call() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "3600"]);
        let c = campaign(
            10,
            "delivery: {batch_size: 2, requests_per_second: 4, concurrency: 1}\n",
        );
        let receiver = Receiver::start(dir.path(), &c.state());
        use_workflow(&c, &workflow_calling_back(&server, &receiver.callback_url()));
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        wait_delivered(&server, 5);
        let mock = mock_outcomes(&server);
        assert_eq!(mock.3, 0, "every call final on the mock");
        // Kept callbacks are matched again every second: wait for the last of them.
        let started = Instant::now();
        let after = loop {
            let r = report(&c, &server.url());
            if reported(&r).3 == 0 || started.elapsed() > WATCHDOG {
                break r;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(reported(&after), (mock.0, mock.1, mock.2, 0), "{after}\n{}", receiver.log());
    }
}

/// The completion callback of each of the mock's batches, built from `/__mock/calls` as the
/// service sends it; `stale` makes each call still processing (an older delivery).
fn callbacks_of(server: &Server, stale: bool) -> Vec<Value> {
    let calls = mock_json(server, "GET", "/__mock/calls?limit=100000", None);
    let mut by_batch = std::collections::BTreeMap::<String, Vec<Value>>::new();
    for call in calls["data"]["calls"].as_array().unwrap() {
        let mut item = json!({
            "call_id": call["call_id"],
            "call_duration_in_seconds": call["call_duration_in_seconds"],
            "processing_status": call["processing_status"],
            "batch_id": call["batch_id"],
            "phone_number": call["phone_number"],
            "user_tag_identifiers": call["user_tag_identifiers"],
            "reply": call["reply"],
        });
        if stale {
            item["processing_status"] = json!("VOICE_CALL_PROCESSING");
            item["reply"] = Value::Null;
        }
        by_batch
            .entry(call["batch_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(item);
    }
    by_batch
        .into_iter()
        .map(|(batch, calls)| {
            json!({
                "request_id": batch,
                "status": "COMPLETED",
                "integrator_id": "test",
                "stats": {"total_calls": calls.len()},
                "request_calls": calls,
            })
        })
        .collect()
}

// Class: a ledger that depends on how often, in which order, or how completely the service
// delivered: twice, out of order, and one delivery cut by a crash of the receiver.
on_both_backends! {
    fn callbacks_twice_out_of_order_and_across_a_crash_leave_what_one_delivery_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        let c = campaign(9, "delivery: {batch_size: 3}\n");
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&server, 3600);
        let mock = mock_outcomes(&server);
        assert_eq!(mock.3, 0);
        let finals = callbacks_of(&server, false);
        let stale = callbacks_of(&server, true);
        assert_eq!(finals.len(), 3);
        let path = format!("/callbacks/{TOKEN}");

        // A crash in the middle of a delivery: half a body, then SIGKILL.
        let receiver = Receiver::start(dir.path(), &c.state());
        let body = finals[0].to_string();
        let mut cut = std::net::TcpStream::connect(&receiver.addr).unwrap();
        write!(
            cut,
            "POST {path} HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            &body[..body.len() / 2]
        )
        .unwrap();
        cut.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        receiver.kill();
        drop(cut);
        assert_eq!(reported(&report(&c, &server.url())).3, 9, "nothing recorded yet");

        // Restarted: every callback, the last first, a stale one after the final, and
        // each one again.
        let receiver = Receiver::start(dir.path(), &c.state());
        for cb in finals.iter().rev() {
            assert_eq!(receiver.post(&path, cb.to_string().as_bytes()), 200);
        }
        let once = report(&c, &server.url());
        assert_eq!(reported(&once), (mock.0, mock.1, mock.2, 0), "{once}");
        for cb in stale.iter().chain(&finals) {
            assert_eq!(receiver.post(&path, cb.to_string().as_bytes()), 200);
        }
        let again = report(&c, &server.url());
        assert_eq!(again, once, "a second delivery changes nothing");

        // Two receivers on one ledger (behind one load balancer), each given every callback
        // at the same time.
        let second = Receiver::start(dir.path(), &c.state());
        std::thread::scope(|s| {
            for r in [&receiver, &second] {
                let (finals, path) = (&finals, &path);
                s.spawn(move || {
                    for cb in finals {
                        assert_eq!(r.post(path, cb.to_string().as_bytes()), 200);
                    }
                });
            }
        });
        assert_eq!(report(&c, &server.url()), once, "two receivers at once change nothing");
        assert_eq!(second.stop(), Some(0));
        assert_eq!(receiver.stop(), Some(0));
    }
}

// Class: a receiver that an attacker on the internet can stop, fill or write to without the
// token. Each hostile request is answered as specified; the ledger is unchanged; the
// receiver stays up.
on_both_backends! {
    fn hostile_requests_leave_the_ledger_unchanged_and_the_receiver_up() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        let c = campaign(3, "");
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&server, 3600);
        let finals = callbacks_of(&server, false);
        let before = report(&c, &server.url());
        let receiver = Receiver::start(dir.path(), &c.state());
        let good = finals[0].to_string();

        // Without the token, or with a wrong one: 404, as an unknown path.
        let unknown = receiver.post("/nothing-here", good.as_bytes());
        assert_eq!(unknown, 404);
        assert_eq!(receiver.post("/callbacks/not-the-token-0123456789", good.as_bytes()), 404);
        assert_eq!(receiver.post("/callbacks/", good.as_bytes()), 404);
        // Over the body limit (1 MiB by default), malformed, too deep: refused.
        // (Refused on its Content-Length, before a byte of it is read: only the head is sent.)
        let big = receiver.raw(
            format!(
                "POST /callbacks/{TOKEN} HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                2 << 20
            )
            .as_bytes(),
        );
        assert_eq!(status(&big), 413, "{big}");
        assert_eq!(receiver.post(&format!("/callbacks/{TOKEN}"), b"{\"request_id\": +2348031234567"), 400);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(receiver.post(&format!("/callbacks/{TOKEN}"), deep.as_bytes()), 400);

        // 2,000 connections that send half a request head and wait.
        let slow: Vec<std::net::TcpStream> = (0..2_000)
            .filter_map(|_| {
                let mut s = std::net::TcpStream::connect(&receiver.addr).ok()?;
                s.write_all(b"POST /callbacks/").ok()?;
                Some(s)
            })
            .collect();
        assert!(slow.len() > 1_000, "{} connections opened", slow.len());
        let health = receiver.raw(b"GET /healthz HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n");
        assert_eq!(status(&health), 200, "{health}");
        drop(slow);

        let after = report(&c, &server.url());
        assert_eq!(after, before, "nothing written by any of them");
        let log = receiver.log();
        assert!(!log.contains(TOKEN) && !log.contains("+234"), "{log}");
        // And the token still works.
        assert_eq!(receiver.post(&format!("/callbacks/{TOKEN}"), good.as_bytes()), 200);
        assert_eq!(receiver.stop(), Some(0));
    }
}

/// A robocall workflow on the mock whose only reply option is `3` ("do not call me again"),
/// calling back to `callback_url`; its id.
fn workflow_with_stop_reply(server: &Server, callback_url: &str) -> String {
    let created = mock_json(
        server,
        "POST",
        "/voicebot/v1/workflows",
        Some(&json!({
            "name": "reminder with a reply",
            "workflow_type": "ROBOCALL",
            "message": "Hello [name]. Press 3 if you do not want these calls.",
            "include_reply": true,
            "response_options": {"3": "Do not call me again"},
            "call_back_url": callback_url,
        })),
    );
    created["data"]["id"].as_str().unwrap().to_owned()
}

/// Waits until the report of `c` shows no call pending.
fn settled(c: &Campaign, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let r = report(c, url);
        if reported(&r).3 == 0 {
            return r;
        }
        assert!(started.elapsed() < WATCHDOG, "calls still pending: {r}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// Class: a patient who said "do not call me again" called again. The reply reaches the
// ledger's own opt-out list through the receiver, and another campaign on the same ledger
// plans and places no call to that number.
on_both_backends! {
    fn a_reply_named_in_opt_out_replies_stops_every_later_call_to_that_number() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        mock_json(&server, "PUT", "/__mock/outcomes", Some(&json!({"replied": 1})));
        let c = campaign(3, "opt_out_replies: [\"3\"]\n");
        let receiver = Receiver::start(dir.path(), &c.state());
        use_workflow(&c, &workflow_with_stop_reply(&server, &receiver.callback_url()));
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&server, 3600);
        wait_delivered(&server, 1);
        let after = settled(&c, &server.url());
        assert_eq!(after["replies"]["3"], 3, "{after}");

        // A follow-up campaign of the same patients, on the same ledger.
        let follow_up = campaign(3, "");
        let yaml = std::fs::read_to_string(&follow_up.path).unwrap();
        std::fs::write(&follow_up.path, yaml.replace("name: apply-test", "name: follow-up")).unwrap();
        let plan = crate::outreach()
            .args(["plan", "--format", "json", "--api-url", &server.url(), "--state"])
            .arg(c.state())
            .arg(&follow_up.path)
            .env("INTRON_API_KEY", KEY)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&plan.stdout).unwrap_or_else(|_| panic!("{}", text(&plan)));
        assert_eq!(doc["summary"]["calls"], 0, "{doc}");
        assert_eq!(doc["summary"]["skipped_by_reason"]["opted-out"], 3, "{doc}");
        // (On the first campaign's ledger: `apply_command` takes its --state from `c`.)
        let out = crate::apply::apply_command(&follow_up.path, &c, &server.url(), &["--json"])
            .output()
            .unwrap();
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        assert_eq!(summary["counts"]["sent"], 0, "{summary}");
        assert_eq!(mock_outcomes(&server).0 + mock_outcomes(&server).1 + mock_outcomes(&server).2, 3, "no fourth call");
    }
}

// Class: outcomes that arrive without apply (through the receiver) never feeding the retry
// policy. After the callbacks, the next apply places exactly the retries that are due, once.
on_both_backends! {
    fn after_the_callbacks_apply_places_exactly_the_due_retries_once() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        mock_json(&server, "PUT", "/__mock/outcomes", Some(&json!({"answered": 1, "failed": 1, "no_answer": 1})));
        let c = campaign(
            9,
            "delivery: {batch_size: 3, retry: {attempts: 2, outcomes: [failed, no_answer], delay: 1s}}\n",
        );
        let receiver = Receiver::start(dir.path(), &c.state());
        use_workflow(&c, &workflow_calling_back(&server, &receiver.callback_url()));
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        advance(&server, 3600);
        wait_delivered(&server, 3);
        settled(&c, &server.url());
        let (answered, failed, no_answer, _) = mock_outcomes(&server);
        assert!(failed + no_answer > 0, "the mix gives some to retry");
        // The retry delay (1 s) passes.
        std::thread::sleep(Duration::from_millis(1500));
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], failed + no_answer, "{summary}");
        let again = apply(&c, &server.url(), &["--json", "--no-follow"]);
        let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(summary["counts"]["sent"], 0, "{summary}");
        let placed = mock_json(&server, "GET", "/__mock/calls?limit=1000", None);
        assert_eq!(
            placed["data"]["calls"].as_array().unwrap().len() as u64,
            9 + failed + no_answer,
            "answered {answered}: each retried patient called twice, the rest once"
        );
    }
}

// Class: a callback that reports calls not final yet thrown away whole, so nothing could ask
// about them later. Their call ids are kept, and `sync` on a server with only the documented
// endpoints settles them through the status endpoint.
on_both_backends! {
    fn sync_settles_through_the_status_endpoint_calls_whose_ids_came_in_callbacks() {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::outreach_mock(dir.path(), &["--documented-only", "--time-scale", "0"]);
        let c = campaign(4, "delivery: {batch_size: 2}\n");
        let out = apply(&c, &server.url(), &["--json", "--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let receiver = Receiver::start(dir.path(), &c.state());
        let path = format!("/callbacks/{TOKEN}");
        for cb in callbacks_of(&server, true) {
            assert_eq!(receiver.post(&path, cb.to_string().as_bytes()), 200);
        }
        assert_eq!(reported(&report(&c, &server.url())).3, 4, "still pending");
        advance(&server, 3600);
        let sync = |extra: &[&str]| {
            crate::outreach()
                .env("INTRON_API_KEY", KEY)
                .args(["sync", "--api-url", &server.url(), "--state"])
                .arg(c.state())
                .arg(&c.path)
                .args(extra)
                .output()
                .unwrap()
        };
        let out = sync(&["--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["batch_endpoint"], "not_offered", "{doc}");
        assert_eq!(doc["not_learnt"], json!([]), "{doc}");
        let mock = mock_outcomes(&server);
        assert_eq!(reported(&report(&c, &server.url())), (mock.0, mock.1, mock.2, 0));
        assert_eq!(receiver.stop(), Some(0));
    }
}
