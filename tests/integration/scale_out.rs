//! Several runners, one Postgres ledger, one mock server: every patient called exactly once,
//! the campaign's request rate held by all runners together, and a killed runner's work
//! taken over by the others. Postgres only (see `backend`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mock_server::MockConfig;
use serde_json::Value;

use crate::apply::{Campaign, KEY, Mock, campaign};
use crate::backend::{Backend, with};

fn spawn_runner(c: &Campaign, url: &str, extra: &[&str]) -> Child {
    spawn_runner_at(&c.path, &c.state(), url, extra)
}

fn spawn_runner_at(
    campaign: &std::path::Path,
    state: &std::path::Path,
    url: &str,
    extra: &[&str],
) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("outreach"))
        .env("INTRON_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--json",
            "--in-doubt-grace",
            "0",
            "--api-url",
            url,
            "--state",
        ])
        .arg(state)
        .arg(campaign)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (Option<i32>, Value, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), summary, stderr)
}

/// Every eligible patient placed exactly once on the mock.
fn assert_exactly_once(mock: &Mock, c: &Campaign) {
    let calls = mock.calls();
    let mut phones: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
    phones.sort_unstable();
    let dupes = phones.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(dupes, 0, "nobody called twice");
    let mut expected: Vec<&str> = c.numbers.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(phones.len(), expected.len(), "every patient called");
    assert!(phones == expected, "exactly the campaign's patients");
}

/// Arrival times (ms) of the call requests in the mock's journal (status polls and lookups
/// are other routes).
fn call_request_times(mock: &Mock) -> Vec<u64> {
    let mut t: Vec<u64> = mock
        .call_requests()
        .iter()
        .map(|e| {
            let t: jiff::Timestamp = e["time"].as_str().unwrap().parse().unwrap();
            u64::try_from(t.as_millisecond()).unwrap()
        })
        .collect();
    t.sort_unstable();
    t
}

/// The most requests in any sliding one-second window.
fn busiest(times: &[u64], window_ms: u64) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window_ms {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// Whether requests that arrived at `times` (ms) keep to `rps`: over any 5 seconds the
/// limit's worth and at most three more, and over any one second at most a quarter more. The pacer
/// spaces its slots; a request's trip from a slot to the mock's clock (a thread hop, the
/// loopback) can bunch two or three at a second's edge on a busy machine, which is not a
/// pacer that lets runners exceed the limit (that shows as a multiple of it).
fn keeps_to(times: &[u64], rps: usize) -> Result<(), String> {
    let second = busiest(times, 1000);
    let five = busiest(times, 5000);
    if second > rps + rps / 4 || five > 5 * rps + 3 {
        return Err(format!(
            "{second} call requests in one second, {five} in five; the limit is {rps} a second"
        ));
    }
    Ok(())
}

/// Keeps re-running one runner until nothing is left in doubt (exit 0).
fn settle(mock: &Mock, c: &Campaign) {
    for _ in 0..10 {
        let (code, summary, stderr) = finish(spawn_runner(c, &mock.url, &[]));
        match code {
            Some(0) => return,
            Some(1) => {}
            other => panic!("apply exited {other:?}: {summary} {stderr}"),
        }
    }
    panic!("calls still in doubt after 10 runs");
}

fn status_runners(c: &Campaign) -> Vec<Value> {
    let out = crate::outreach()
        .args(["status", "--json", "--state"])
        .arg(c.state())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["runners"].as_array().cloned().unwrap_or_default()
}

/// Acceptance 1: four runners, 20,000 patients, a 5% fault mix.
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
)]
fn four_runners_share_the_work_and_the_rate() {
    with(Backend::Postgres, || {
        let patients: usize = std::env::var("OUTREACH_SCALE_PATIENTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let rps = 20;
        let mock = Mock::start(MockConfig {
            time_scale: 3600.0,
            journal_capacity: 100_000,
            ..MockConfig::default()
        });
        mock.set_faults(&serde_json::json!([{
            "route": "robocall",
            "error_rate": 0.02,
            "drop_connection_rate": 0.015,
            "drop_response_rate": 0.015,
        }]));
        let c = campaign(
            patients,
            &format!("delivery: {{batch_size: 25, requests_per_second: {rps}, concurrency: 2}}\n"),
        );
        // The tables exist before the runners start (they would also create them).
        crate::outreach()
            .args(["migrate", "--state"])
            .arg(c.state())
            .assert()
            .success();
        let runners: Vec<Child> = (0..4).map(|_| spawn_runner(&c, &mock.url, &[])).collect();
        // `status` shows the four live runners while they work.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let live: Vec<Value> = status_runners(&c)
                .into_iter()
                .filter(|r| r["alive"] == true)
                .collect();
            if live.len() == 4 {
                assert!(
                    live.iter()
                        .all(|r| r["host"].as_str().is_some_and(|h| !h.is_empty())
                            && r["pid"].as_u64().is_some_and(|p| p > 0))
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "four runners never showed in status"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut sent_by_each = Vec::new();
        for r in runners {
            let (code, summary, stderr) = finish(r);
            assert!(matches!(code, Some(0 | 1)), "{code:?}: {summary} {stderr}");
            sent_by_each.push(summary["counts"]["sent"].as_u64().unwrap_or(0));
        }
        // The work is shared: every runner placed calls, not one runner all of them.
        assert!(
            sent_by_each.iter().all(|&n| n > 0),
            "calls sent by each runner: {sent_by_each:?}"
        );
        // The runners' own phase, before any clean-up run.
        let times = call_request_times(&mock);
        settle(&mock, &c);
        assert_exactly_once(&mock, &c);
        // Together they keep to the one limit (a property of the pacer, not a speed: how
        // fast they get there is for the benchmarks, bench/RESULTS.md).
        if let Err(e) = keeps_to(&times, rps) {
            panic!("{e}");
        }
        let busiest = busiest(&times, 1000);
        #[expect(clippy::cast_precision_loss, reason = "rates")]
        let rate =
            (times.len() - 1) as f64 * 1000.0 / (times[times.len() - 1] - times[0]).max(1) as f64;
        #[expect(
            clippy::print_stderr,
            reason = "figures for bench/RESULTS.md, seen with --nocapture"
        )]
        {
            eprintln!(
                "four runners: {patients} patients, {} call requests, busiest second {busiest}, overall {rate:.2} requests/s (limit {rps})",
                times.len()
            );
        }
    });
}

/// Acceptance 2: a runner killed in the middle; the others take over its work after its
/// lease runs out.
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
)]
fn a_killed_runners_work_is_taken_over_after_its_lease() {
    with(Backend::Postgres, || {
        let mock = Mock::fast();
        let c = campaign(
            3_000,
            "delivery: {batch_size: 10, requests_per_second: 30, concurrency: 2}\n",
        );
        let lease = ["--lease", "2"];
        let mut victim = spawn_runner(&c, &mock.url, &lease);
        let others: Vec<Child> = (0..3)
            .map(|_| spawn_runner(&c, &mock.url, &lease))
            .collect();
        // Mid-run: a third of the patients called.
        let deadline = Instant::now() + Duration::from_secs(60);
        while mock.calls().len() < 1_000 {
            assert!(Instant::now() < deadline, "the runners did not get going");
            std::thread::sleep(Duration::from_millis(50));
        }
        victim.kill().unwrap(); // SIGKILL
        let _ = victim.wait();
        for r in others {
            let (code, summary, stderr) = finish(r);
            assert_eq!(code, Some(0), "{summary} {stderr}");
        }
        assert_exactly_once(&mock, &c);
        // The killed runner shows as stopped, not alive.
        let runners = status_runners(&c);
        assert_eq!(runners.len(), 1, "{runners:?}");
        assert_eq!(runners[0]["alive"], false);
    });
}

/// Two campaigns sent with one API key share the key's budget: together they stay within
/// one campaign's `requests_per_second`.
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
)]
fn campaigns_sharing_an_api_key_share_its_budget() {
    with(Backend::Postgres, || {
        let rps = 20;
        let mock = Mock::fast();
        let delivery =
            format!("delivery: {{batch_size: 10, requests_per_second: {rps}, concurrency: 2}}\n");
        let a = campaign(600, &delivery);
        let b = campaign(600, &delivery);
        // b's patients beside a's campaign: sources are read inside the campaign's folder.
        let other = a.dir.path().join("other.yaml");
        std::fs::copy(
            b.dir.path().join("patients.csv"),
            a.dir.path().join("patients-b.csv"),
        )
        .unwrap();
        std::fs::write(
            &other,
            std::fs::read_to_string(&b.path)
                .unwrap()
                .replace("name: apply-test", "name: apply-other")
                .replace("patients.csv", "patients-b.csv"),
        )
        .unwrap();
        let runners = [
            spawn_runner(&a, &mock.url, &[]),
            spawn_runner_at(&other, &a.state(), &mock.url, &[]),
        ];
        for r in runners {
            let (code, summary, stderr) = finish(r);
            assert_eq!(code, Some(0), "{summary} {stderr}");
        }
        let times = call_request_times(&mock);
        assert_eq!(times.len(), 120, "60 requests per campaign");
        if let Err(e) = keeps_to(&times, rps) {
            panic!("from two campaigns on one key, whose budget is shared: {e}");
        }
    });
}

/// Sends `signal` (`STOP`, `CONT`) to a runner.
fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} {}", child.id());
}

/// Issue 14, class 11: a runner stalled past its lease could still send, and record. A
/// runner is stopped (SIGSTOP) in the middle of its work for longer than its lease of 2 s;
/// another takes its work over; once the stalled one shows as stopped in `status`, it is let
/// go on (SIGCONT): the ledger refuses its writes, so it sends nothing more and says its
/// lease ran out. Both runners keep a long in-doubt grace, so that a call the stalled one
/// may have been about to send when it stopped (the window no ledger can close) is not sent
/// again by the other meanwhile; the runs after (grace 0, once no request can be in flight)
/// settle what it left `sending`. Every patient is called exactly once.
#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
)]
fn class_11_a_runner_stalled_past_its_lease_sends_nothing_more_and_says_so() {
    with(Backend::Postgres, || {
        let mock = Mock::fast();
        let c = campaign(
            400,
            "delivery: {batch_size: 5, requests_per_second: 10, concurrency: 1}\n",
        );
        let spawn = || {
            Command::new(assert_cmd::cargo::cargo_bin("outreach"))
                .env("INTRON_API_KEY", KEY)
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "warn")
                .args(["apply", "--yes", "--new-ledger", "--no-follow", "--json"])
                .args(["--in-doubt-grace", "600", "--lease", "2", "--api-url"])
                .arg(&mock.url)
                .arg("--state")
                .arg(c.state())
                .arg(&c.path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let stalled = spawn();
        let deadline = Instant::now() + Duration::from_secs(60);
        while mock.calls().len() < 20 {
            assert!(Instant::now() < deadline, "the runner did not get going");
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(&stalled, "STOP");
        let other = spawn();
        // Past its lease, the stalled runner shows as stopped.
        let pid = u64::from(stalled.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let runners = status_runners(&c);
            if runners
                .iter()
                .any(|r| r["pid"].as_u64() == Some(pid) && r["alive"] == false)
            {
                break;
            }
            if Instant::now() > deadline {
                signal(&stalled, "CONT");
                panic!("the stalled runner never showed as stopped: {runners:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let placed_at_stop = mock.calls().len();
        signal(&stalled, "CONT");
        let (code, summary, stderr) = finish(stalled);
        assert_eq!(code, Some(1), "{summary} {stderr}");
        assert_eq!(
            summary["stopped"]["reason"], "lease_lost",
            "{summary} {stderr}"
        );
        assert!(stderr.contains("lease"), "{stderr}");
        let (code, summary, stderr) = finish(other);
        assert!(matches!(code, Some(0 | 1)), "{code:?}: {summary} {stderr}");
        assert!(
            summary["counts"]["sent"].as_u64().unwrap_or(0) > 0,
            "the other runner took the work over: {summary}"
        );
        // The runs after settle what the stalled runner left `sending`.
        settle(&mock, &c);
        assert_exactly_once(&mock, &c);
        assert!(placed_at_stop < c.numbers.len());
    });
}
