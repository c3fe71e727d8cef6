//! Colour and logs (issue 16): `--color` and `NO_COLOR` govern every stream, a stream that
//! is not a terminal gets no escape code under `auto`, log lines carry local times in
//! `clock::human`'s form, `--log-format json` writes one object per event.
//!
//! Each run writes its output to FILES, as CI and a service's log do: the bug was escape
//! codes in a redirected standard error (CI logs, the mock server's log file).

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::root;

const ESC: u8 = 0x1b;

/// `clock::human`'s form at the start of a log line: `Tue 1 Dec 09:14 WAT  …`.
fn time_for_people() -> regex::Regex {
    regex::Regex::new(r"^[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}( \d{4})? \d{2}:\d{2} \S+  ").unwrap()
}

/// The `outreach` binary with the colour left to the flags: `NO_COLOR` removed (the helper
/// `outreach()` sets it), and nothing else that decides colour or log lines.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("outreach"));
    cmd.current_dir(root())
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_LOG")
        .env_remove("INTRON_API_KEY")
        .env_remove("OUTREACH_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
    cmd
}

/// Runs a command to completion: its exit code, standard output and standard error, each
/// read back from its file.
fn run(mut cmd: Command, dir: &Path) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let status = cmd.status().unwrap();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    (status.code(), read("stdout"), read("stderr"))
}

/// `apply` of the example on the in-process mock, with its ledger in `dir`. The fake clock
/// makes sure there is a log line whatever the time of day (it says so, as a warning).
fn apply(dir: &Path, extra: &[&str]) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let state = dir.join("state.db");
    let mut args = vec![
        "apply",
        "campaigns/measles-reminder.yaml",
        "--mock",
        "--yes",
        "--state",
        state.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut cmd = command(dir, &args);
    cmd.env("OUTREACH_FAKE_NOW", "2026-03-09T09:30:00Z");
    run(cmd, dir)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// No escape code (no ESC byte) in what a stream wrote.
fn assert_plain(bytes: &[u8]) {
    assert!(!bytes.contains(&ESC), "escape codes in {:?}", text(bytes));
}

#[test]
fn apply_writes_no_escape_code_to_a_standard_error_that_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = apply(dir.path(), &["--color", "auto"]);
    assert_eq!(code, Some(0), "{}{}", text(&stdout), text(&stderr));
    assert!(!stderr.is_empty(), "apply logged nothing");
    assert_plain(&stderr);
    assert_plain(&stdout);
    // Log lines are sentences after a local time, without levels or sources by default.
    let time = time_for_people();
    let log = text(&stderr);
    for line in log.lines() {
        assert!(time.is_match(line), "no time for people in {line:?}");
        assert!(!line.contains("outreach::"), "a source in {line:?}");
    }
    assert!(
        log.lines()
            .any(|l| l.contains("  warning: OUTREACH_FAKE_NOW is set")),
        "{log}"
    );
    assert!(
        !log.contains("2026-03-09T"),
        "an RFC 3339 time in the log: {log}"
    );
}

#[test]
fn color_always_colours_standard_error_even_in_a_file_and_never_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = apply(dir.path(), &["--no-follow", "--color", "always"]);
    assert_eq!(code, Some(0), "{}", text(&stderr));
    assert!(stderr.contains(&ESC), "no colour in {:?}", text(&stderr));

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(dir.path(), &["--color", "never", "plan", "no-such.yaml"]);
    cmd.env("CLICOLOR_FORCE", "1");
    let (code, _, stderr) = run(cmd, dir.path());
    assert_eq!(code, Some(2));
    assert!(text(&stderr).starts_with("error: there is no file no-such.yaml"));
    assert_plain(&stderr);

    // clap's own errors obey the flag too.
    let dir = tempfile::tempdir().unwrap();
    let cmd = command(dir.path(), &["--color", "always", "plan", "--no-such-flag"]);
    let (code, _, stderr) = run(cmd, dir.path());
    assert_eq!(code, Some(2));
    assert!(stderr.contains(&ESC), "{:?}", text(&stderr));
}

#[test]
fn validate_writes_no_escape_code_to_a_standard_output_that_is_a_file() {
    let invalid = "tests/fixtures/invalid/bad-accent.yaml";
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(command(dir.path(), &["validate", invalid]), dir.path());
    assert_eq!(code, Some(1), "{}", text(&stderr));
    assert!(
        text(&stdout).contains("bad-accent.yaml"),
        "{}",
        text(&stdout)
    );
    assert_plain(&stdout);
    assert_plain(&stderr);

    let cmd = command(dir.path(), &["validate", "--color", "always", invalid]);
    let (code, stdout, _) = run(cmd, dir.path());
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains(&ESC),
        "--color always did not colour the report"
    );
}

#[test]
fn log_format_json_writes_one_object_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = apply(
        dir.path(),
        &[
            "--no-follow",
            "--log-format",
            "json",
            "--color",
            "always",
            "-v",
        ],
    );
    assert_eq!(code, Some(0), "{}{}", text(&stdout), text(&stderr));
    let log = text(&stderr);
    assert_plain(&stderr);
    let mut levels = Vec::new();
    for line in log.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        let time = event["time"].as_str().unwrap_or_else(|| panic!("{line}"));
        time.parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("time {time:?} is not RFC 3339: {e}"));
        assert!(event["message"].is_string(), "{line}");
        assert!(event["target"].is_string(), "{line}");
        levels.push(event["level"].as_str().unwrap().to_owned());
    }
    assert!(levels.iter().any(|l| l == "warn"), "{log}");
    assert!(
        levels
            .iter()
            .all(|l| ["error", "warn", "info", "debug", "trace"].contains(&l.as_str())),
        "{levels:?}"
    );

    // The error that ends a run is an event too.
    let dir = tempfile::tempdir().unwrap();
    let cmd = command(
        dir.path(),
        &["plan", "no-such.yaml", "--log-format", "json"],
    );
    let (code, _, stderr) = run(cmd, dir.path());
    assert_eq!(code, Some(2));
    let event: serde_json::Value = serde_json::from_slice(&stderr).unwrap();
    assert_eq!(event["level"], "error", "{event}");
    assert!(
        event["message"]
            .as_str()
            .unwrap()
            .starts_with("there is no file no-such.yaml"),
        "{event}"
    );
}

// Regression: under `--log-format json` a refused command line was clap's text, the one
// line of standard error a log collector could not read.
#[test]
fn log_format_json_writes_a_refused_command_line_as_one_error_event() {
    for args in [
        &["plan", "--no-such-flag", "x.yaml", "--log-format", "json"][..],
        &["--log-format=json", "mock-server", "--port", "many"][..],
        &["--log-format", "json", "frobnicate"][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = run(command(dir.path(), args), dir.path());
        assert_eq!(code, Some(2), "{args:?}: {}", text(&stderr));
        assert!(stdout.is_empty(), "{args:?}");
        let lines: Vec<&str> = std::str::from_utf8(&stderr).unwrap().lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one event: {lines:?}");
        let event: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(event["level"], "error", "{event}");
        let message = event["message"].as_str().unwrap();
        assert!(!message.starts_with("error:"), "{event}");
        assert!(message.contains("--help"), "clap's words, whole: {event}");
    }
    // Help is still help, on standard output.
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(
        command(dir.path(), &["plan", "--help", "--log-format", "json"]),
        dir.path(),
    );
    assert_eq!(code, Some(0));
    assert!(text(&stdout).contains("Usage:"));
}

// Regression: on a terminal, apply drew its progress bar among the JSON lines of
// `--log-format json`. `script` (util-linux) gives standard error a terminal; standard output
// goes to a file.
#[test]
fn log_format_json_on_a_terminal_writes_json_lines_only() {
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("outreach");
    let state = dir.path().join("state.db");
    let summary = dir.path().join("summary");
    let line = format!(
        "{} apply campaigns/measles-reminder.yaml --mock --yes --no-follow --log-format json \
         --state '{}' > '{}'",
        bin.display(),
        state.display(),
        summary.display()
    );
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(root())
        .env_remove("RUST_LOG")
        .env("OUTREACH_FAKE_NOW", "2026-03-09T09:30:00Z")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) runs apply on a terminal");
    let log = text(&out.stdout).replace('\r', "");
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        text(&std::fs::read(&summary).unwrap()).contains("calls placed"),
        "the run placed its calls"
    );
    assert!(
        !log.trim().is_empty(),
        "the run logs (the fake clock warns)"
    );
    for l in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "not a JSON line: {l:?}\n{log}"
        );
    }
}

#[test]
fn verbose_adds_the_level_the_source_and_the_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = apply(dir.path(), &["--no-follow", "-vv"]);
    assert_eq!(code, Some(0), "{}", text(&stderr));
    let log = text(&stderr);
    let time = time_for_people();
    assert!(log.lines().all(|l| time.is_match(l)), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(" WARN outreach::clock: OUTREACH_FAKE_NOW is set")),
        "{log}"
    );
    // -vv shows the in-process mock's requests, fields included.
    assert!(
        log.lines()
            .any(|l| l.contains("mock_server::request: POST ") && l.contains(" status=200")),
        "{log}"
    );
}

/// Reads a growing file until `found` says it holds what is waited for.
fn wait_for(file: &Path, found: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(file).unwrap_or_default();
        if found(&log) {
            return log;
        }
        assert!(std::time::Instant::now() < deadline, "timed out: {log}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// One HTTP request to the mock, by hand (no client to set up for a single GET).
fn get(url: &str, path: &str, key: &str) {
    let addr = url.trim_start_matches("http://").trim_end();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn the_mock_servers_log_file_has_no_escape_codes_and_no_key() {
    const KEY: &str = "mock-log-key-5f2a";
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let log_file = dir.path().join("stderr");
        let mut cmd = command(
            dir.path(),
            &[
                "mock-server",
                "--port",
                "0",
                "--api-key",
                KEY,
                "--log-format",
                format,
                "-v",
            ],
        );
        let mut child = cmd.spawn().unwrap();
        let log = wait_for(&log_file, |l| l.contains("listening on http://"));
        let url = log
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(['"', ' ', '\n']).next())
            .unwrap()
            .to_owned();
        get(&url, "/voicebot/v1/workflows", KEY);
        let log = wait_for(&log_file, |l| l.contains("GET /voicebot/v1/workflows: 200"));
        child.kill().unwrap();
        child.wait().unwrap();
        let bytes = std::fs::read(&log_file).unwrap();
        assert!(!bytes.contains(&ESC), "{format}: escape codes in {log:?}");
        assert!(!log.contains(KEY), "{format}: the key is in the log: {log}");
        for line in log.lines() {
            if format == "json" {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                assert!(event["time"].is_string() && event["message"].is_string());
            } else {
                assert!(time_for_people().is_match(line), "{line:?}");
            }
        }
    }
}
