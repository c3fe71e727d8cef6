//! The receiver over real HTTP on loopback, against an in-memory store: what each kind of
//! request is answered, and what reaches the store. Every wait has a watchdog.

use std::io::{Read as _, Write as _};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::callbacks::store::{BoxFuture, CallbackStore, Received, Recorded, Rejected, StoreError};
use crate::callbacks::{Running, start};
use crate::settings::callbacks::{CallbackTokens, ReceiverLimits, ReceiverSettings};

const CURRENT: &str = "current-token-0123456789abcdef";
const PREVIOUS: &str = "previous-token-0123456789abcdef";
/// A patient's number, whose digits must never be kept from a refused body.
const PHONE: &str = "+2348031234567";
/// Longer than anything here takes on a slow, busy machine; only reached when it is wrong.
const WATCHDOG: Duration = Duration::from_secs(60);

/// What reached the store.
#[derive(Debug, Default)]
struct Kept {
    recorded: Vec<Received>,
    rejected: Vec<Rejected>,
}

/// The in-memory store: commits at once, or when released (`gated`), or fails (`failing`).
#[derive(Default)]
struct Memory {
    kept: Mutex<Kept>,
    /// `record` calls begun.
    entered: AtomicUsize,
    /// With a gate, `record` waits for a permit.
    gate: Option<Semaphore>,
    failing: AtomicBool,
}

impl Memory {
    fn gated() -> Self {
        Self {
            gate: Some(Semaphore::new(0)),
            ..Self::default()
        }
    }

    fn release(&self) {
        if let Some(gate) = &self.gate {
            gate.add_permits(Semaphore::MAX_PERMITS / 2);
        }
    }

    fn recorded(&self) -> usize {
        self.kept.lock().unwrap().recorded.len()
    }

    fn rejected(&self) -> Vec<Rejected> {
        self.kept.lock().unwrap().rejected.clone()
    }

    fn untouched(&self) -> bool {
        let kept = self.kept.lock().unwrap();
        kept.recorded.is_empty()
            && kept.rejected.is_empty()
            && self.entered.load(Ordering::SeqCst) == 0
    }
}

impl CallbackStore for Memory {
    fn record(&self, callbacks: Vec<Received>) -> BoxFuture<'_, Result<Vec<Recorded>, StoreError>> {
        Box::pin(async move {
            self.entered.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError::message("the disk is full"));
            }
            let answers = callbacks
                .iter()
                .map(|c| {
                    let calls = c.calls.as_ref().map_or(0, Vec::len) as u64;
                    Recorded {
                        calls,
                        settled: calls,
                        batch_known: true,
                        ..Recorded::default()
                    }
                })
                .collect();
            self.kept.lock().unwrap().recorded.extend(callbacks);
            Ok(answers)
        })
    }

    fn keep_rejected(&self, rejected: Rejected) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.kept.lock().unwrap().rejected.push(rejected);
            Ok(())
        })
    }

    fn rematch(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
}

fn settings(limits: ReceiverLimits) -> ReceiverSettings {
    ReceiverSettings {
        tokens: CallbackTokens {
            current: SecretString::from(CURRENT),
            previous: Some(SecretString::from(PREVIOUS)),
        },
        limits,
        rematch_every: Duration::from_secs(3600),
        unmask: false,
    }
}

async fn receiver(limits: ReceiverLimits, store: Arc<Memory>) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(listener, &settings(limits), store).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn url(running: &Running, path: &str) -> String {
    format!("http://{}{path}", running.addr())
}

fn callback(batch: &str) -> Value {
    json!({
        "request_id": batch,
        "status": "COMPLETED",
        "integrator_id": "integrator",
        "stats": {"total_calls": 1, "completed_calls": 1, "timeout_calls": 0, "replied_calls": 0,
                  "response_options_counts": 0, "avg_duration": 12.0, "success_rate": 100.0},
        "request_calls": [{"call_id": "c-1", "phone_number": PHONE,
                           "processing_status": "VOICE_CALL_PROCESSED", "call_duration_in_seconds": 12,
                           "reply": null, "user_tag_identifiers": {"outreach_key": "k-1"}}]
    })
}

/// Posts `body` to `path`; the status and the body.
async fn post(running: &Running, path: &str, body: &Value) -> (u16, String) {
    let response = client()
        .post(url(running, path))
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < WATCHDOG,
            "{what}: not within {WATCHDOG:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_token_is_answered_as_an_unknown_path_and_changes_nothing() {
    let store = Arc::new(Memory::default());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let unknown = client()
        .post(url(&running, "/no/such/path"))
        .json(&callback("b-1"))
        .send()
        .await
        .unwrap();
    let unknown_headers = unknown.headers().clone();
    let unknown = (unknown.status().as_u16(), unknown.text().await.unwrap());
    assert_eq!(unknown.0, 404);
    for path in [
        "/callbacks/wrong-token-0123456789abcdef",
        "/callbacks/",
        "/callbacks",
        &format!("/callbacks/{CURRENT}x"),
        &format!("/callbacks/{}", &CURRENT[..CURRENT.len() - 1]),
        &format!("/callbacks/{CURRENT}/"),
    ] {
        let response = client()
            .post(url(&running, path))
            .json(&callback("b-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers().get("content-type"),
            unknown_headers.get("content-type")
        );
        let got = (response.status().as_u16(), response.text().await.unwrap());
        assert_eq!(got, unknown, "{path}");
    }
    // The right token with another method: the same.
    let got = client()
        .get(url(&running, &format!("/callbacks/{CURRENT}")))
        .send()
        .await
        .unwrap();
    assert_eq!((got.status().as_u16(), got.text().await.unwrap()), unknown);
    assert!(store.untouched());
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_token_is_accepted_during_a_rotation() {
    let store = Arc::new(Memory::default());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    for token in [CURRENT, PREVIOUS] {
        let (status, body) = post(&running, &format!("/callbacks/{token}"), &callback("b")).await;
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    }
    assert_eq!(store.recorded(), 2);
    let kept = store.kept.lock().unwrap().recorded[0].clone();
    assert_eq!(kept.batch_id, "b");
    assert_eq!(kept.calls.unwrap()[0].key.as_deref(), Some("k-1"));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_unread_and_changes_nothing() {
    let store = Arc::new(Memory::default());
    let limits = ReceiverLimits {
        max_body: 1024,
        ..ReceiverLimits::default()
    };
    let running = receiver(limits, Arc::clone(&store)).await;
    let mut big = callback("b");
    big["integrator_id"] = Value::String("x".repeat(2048));
    let (status, _) = post(&running, &format!("/callbacks/{CURRENT}"), &big).await;
    assert_eq!(status, 413);
    // Chunked, so no Content-Length says it is too large before it is read.
    let addr = running.addr();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(WATCHDOG)).unwrap();
        let chunk = "x".repeat(2048);
        let request = format!(
            "POST /callbacks/{CURRENT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
            chunk.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(store.untouched());
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_refused_and_kept_redacted() {
    let store = Arc::new(Memory::default());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let body = format!(
        r#"{{"request_id": "b", "request_calls": [{{"phone_number": "{PHONE}", "note": "or 0803 123 4567", "#
    );
    let response = client()
        .post(url(&running, &format!("/callbacks/{CURRENT}")))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    let said = answer["error"].as_str().unwrap();
    assert!(said.starts_with("the body is not JSON"), "{said}");
    let digits = PHONE.trim_start_matches('+');
    assert!(!said.contains(&digits[3..]), "{said}");
    wait_until("the body is kept", || store.rejected().len() == 1).await;
    let kept = &store.rejected()[0];
    assert_eq!(kept.bytes, body.len() as u64);
    assert!(kept.reason.starts_with("the body is not JSON"));
    for number in [&digits[3..], "803 123 4567"] {
        assert!(
            !kept.redacted_body.contains(number),
            "{}",
            kept.redacted_body
        );
    }
    assert!(kept.redacted_body.contains("request_id"));
    assert_eq!(store.recorded(), 0);

    // JSON of another shape: refused, kept, naming the field and nothing of its value.
    let (status, said) = post(
        &running,
        &format!("/callbacks/{CURRENT}"),
        &json!({"request_id": PHONE, "status": ["+2348031234567"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(said.contains("`status` has the wrong type"), "{said}");
    assert!(!said.contains(&digits[3..]), "{said}");
    wait_until("the body is kept", || store.rejected().len() == 2).await;
    assert!(!store.rejected()[1].redacted_body.contains(&digits[3..]));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_nested_too_deeply_is_refused_before_it_is_parsed() {
    let store = Arc::new(Memory::default());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let deep = format!(
        r#"{{"request_id":"b","status":"COMPLETED","integrator_id":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let response = client()
        .post(url(&running, &format!("/callbacks/{CURRENT}")))
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("deeper than 64"),
        "{answer}"
    );
    assert_eq!(store.recorded(), 0);
    // A callback of ordinary depth is recorded.
    let (status, _) = post(&running, &format!("/callbacks/{CURRENT}"), &callback("b")).await;
    assert_eq!(status, 200);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_ok_and_anything_else_is_not_found() {
    let running = receiver(ReceiverLimits::default(), Arc::new(Memory::default())).await;
    let health = client()
        .get(url(&running, "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    for path in ["/", "/healthz/", "/callbacks", "/metrics"] {
        let response = client().get(url(&running, path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"error": "not found"})
        );
    }
    running.shutdown().await;
}

/// Slow-loris: 2,000 connections that each send half a request head and wait. The guard
/// holds at most `max_connections` of them, closing the one that waited the longest for
/// each new one, so a good callback still gets its 200 and `/healthz` answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_loris_connections_are_evicted_and_a_good_callback_still_gets_through() {
    const LORIS: usize = 2_000;
    let store = Arc::new(Memory::default());
    let limits = ReceiverLimits {
        // Long, so that what closes them is the cap, not the timeout.
        header_read_timeout: Duration::from_secs(600),
        ..ReceiverLimits::default()
    };
    let max = limits.max_connections;
    let running = receiver(limits, Arc::clone(&store)).await;
    let addr = running.addr();
    let loris = tokio::task::spawn_blocking(move || {
        (0..LORIS)
            .map(|_| {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                // Half a head: the request line and one header, no blank line.
                let _ = stream.write_all(
                    format!("POST /callbacks/{CURRENT} HTTP/1.1\r\nHost: x\r\n").as_bytes(),
                );
                stream
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let (status, _) = post(&running, &format!("/callbacks/{CURRENT}"), &callback("b")).await;
    assert_eq!(status, 200);
    let health = client()
        .get(url(&running, "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(store.recorded(), 1);
    // Bounded: all but at most `max` of them were closed by the server.
    let closed = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut closed = vec![false; loris.len()];
        loop {
            for (stream, closed) in loris.iter().zip(closed.iter_mut()) {
                if *closed {
                    continue;
                }
                stream.set_nonblocking(true).unwrap();
                let mut byte = [0u8; 64];
                match (&*stream).read(&mut byte) {
                    Ok(0) => *closed = true,
                    Ok(_) => panic!("a half-sent request was answered"),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => *closed = true,
                }
            }
            let count = closed.iter().filter(|c| **c).count();
            if count >= LORIS - max || started.elapsed() > WATCHDOG {
                return count;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    assert!(
        closed >= LORIS - max,
        "only {closed} of {LORIS} half-open connections were closed with a cap of {max}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_is_answered_only_after_its_commit() {
    let store = Arc::new(Memory::gated());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let path = format!("/callbacks/{CURRENT}");
    let target = url(&running, &path);
    let mut request = tokio::spawn(async move {
        client()
            .post(target)
            .json(&callback("b"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    wait_until("the commit begins", || {
        store.entered.load(Ordering::SeqCst) == 1
    })
    .await;
    tokio::select! {
        answered = &mut request => panic!("answered {answered:?} before the commit"),
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
    }
    assert_eq!(store.recorded(), 0);
    store.release();
    assert_eq!(request.await.unwrap(), 200);
    assert_eq!(store.recorded(), 1);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_error_is_answered_503_so_the_service_sends_it_again() {
    let store = Arc::new(Memory::default());
    store.failing.store(true, Ordering::SeqCst);
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let response = client()
        .post(url(&running, &format!("/callbacks/{CURRENT}")))
        .json(&callback("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap(),
        "5"
    );
    let said = response.text().await.unwrap();
    assert!(
        !said.contains("disk"),
        "the store's words stay in the log: {said}"
    );
    assert_eq!(store.recorded(), 0);
    store.failing.store(false, Ordering::SeqCst);
    let (status, _) = post(&running, &format!("/callbacks/{CURRENT}"), &callback("b")).await;
    assert_eq!(status, 200);
    assert_eq!(store.recorded(), 1);
    running.shutdown().await;
}

/// Callbacks that arrive while a commit is under way wait, and are committed together in
/// the next one: fewer commits than callbacks, each answered 200 once its commit is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_waiting_for_a_commit_are_committed_together() {
    const MORE: usize = 50;
    let store = Arc::new(Memory::gated());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let target = url(&running, &format!("/callbacks/{CURRENT}"));
    let send = |batch: String| {
        let target = target.clone();
        tokio::spawn(async move {
            client()
                .post(target)
                .json(&callback(&batch))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let first = send("b-0".to_owned());
    wait_until("the first commit begins", || {
        store.entered.load(Ordering::SeqCst) == 1
    })
    .await;
    let more: Vec<_> = (1..=MORE).map(|i| send(format!("b-{i}"))).collect();
    wait_until("the others wait for the writer", || {
        running.waiting() == MORE
    })
    .await;
    store.release();
    assert_eq!(first.await.unwrap(), 200);
    for request in more {
        assert_eq!(request.await.unwrap(), 200);
    }
    assert_eq!(store.recorded(), MORE + 1);
    assert_eq!(
        store.entered.load(Ordering::SeqCst),
        2,
        "one commit for the 50"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_is_answered_408() {
    let store = Arc::new(Memory::default());
    let limits = ReceiverLimits {
        request_timeout: Duration::from_millis(300),
        ..ReceiverLimits::default()
    };
    let running = receiver(limits, Arc::clone(&store)).await;
    let addr = running.addr();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(WATCHDOG)).unwrap();
        let head = format!(
            "POST /callbacks/{CURRENT} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{\"request"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(store.untouched());
    running.shutdown().await;
}

/// Told to stop, the receiver finishes the callback in progress (its commit included)
/// before it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_drains_the_callback_in_progress() {
    let store = Arc::new(Memory::gated());
    let running = receiver(ReceiverLimits::default(), Arc::clone(&store)).await;
    let target = url(&running, &format!("/callbacks/{CURRENT}"));
    let request = tokio::spawn(async move {
        client()
            .post(target)
            .json(&callback("b"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    wait_until("the commit begins", || {
        store.entered.load(Ordering::SeqCst) == 1
    })
    .await;
    let stopping = tokio::spawn(running.shutdown());
    store.release();
    assert_eq!(request.await.unwrap(), 200);
    tokio::time::timeout(WATCHDOG, stopping)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.recorded(), 1);
}
