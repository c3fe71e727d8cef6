//! `outreach callbacks`, the binary (issue 17, part 2): it refuses to start without a good
//! token and never prints one; started, it prints where it listens, answers `/healthz`, and
//! exits 0 on SIGTERM. The HTTP behaviour itself is tested in-process (`src/callbacks/`).

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::signals::{Signal, send, wait_for_exit};
use crate::{outreach, root};

const TOKEN: &str = "tok3n-never-printed-0123456789abcdef";
const WATCHDOG: Duration = Duration::from_secs(60);

fn callbacks(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = outreach();
    // A receiver that starts runs until stopped: never wait for it for ever.
    cmd.timeout(WATCHDOG)
        .env_remove("OUTREACH_CALLBACK_TOKEN")
        .env_remove("OUTREACH_CALLBACK_TOKEN_PREVIOUS")
        .args(["callbacks", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.join("state.db"));
    cmd
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn callbacks_refuse_to_start_without_a_good_token_and_never_print_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = callbacks(dir.path()).output().unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(
        text(&missing).contains("needs a token")
            && text(&missing).contains("OUTREACH_CALLBACK_TOKEN"),
        "{}",
        text(&missing)
    );

    let short = "short-secret-15";
    let refused = callbacks(dir.path())
        .env("OUTREACH_CALLBACK_TOKEN", short)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(
        text(&refused).contains("shorter than 16 characters"),
        "{}",
        text(&refused)
    );
    assert!(!text(&refused).contains(short), "{}", text(&refused));

    let previous_short = callbacks(dir.path())
        .env("OUTREACH_CALLBACK_TOKEN", TOKEN)
        .env("OUTREACH_CALLBACK_TOKEN_PREVIOUS", short)
        .output()
        .unwrap();
    assert_eq!(previous_short.status.code(), Some(2));
    assert!(text(&previous_short).contains("OUTREACH_CALLBACK_TOKEN_PREVIOUS"));
    assert!(!text(&previous_short).contains(short) && !text(&previous_short).contains(TOKEN));

    let escaped = "a/b?c#d-0123456789abcdef";
    let refused = callbacks(dir.path())
        .env("OUTREACH_CALLBACK_TOKEN", escaped)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused).contains("a URL would have to escape"),
        "{}",
        text(&refused)
    );
    assert!(!text(&refused).contains(escaped));

    // A token file others can read is refused, before it is read.
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = callbacks(dir.path())
        .arg("--token-file")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(open.status.code(), Some(2));
    assert!(text(&open).contains("chmod 600"), "{}", text(&open));
    assert!(!text(&open).contains(TOKEN));
}

#[test]
fn callbacks_start_print_their_address_and_exit_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("callbacks.log");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("outreach"))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("OUTREACH_DATABASE_URL")
        .env_remove("OUTREACH_CALLBACK_TOKEN_PREVIOUS")
        .env("OUTREACH_CALLBACK_TOKEN", TOKEN)
        .args(["callbacks", "--listen", "127.0.0.1:0", "--state"])
        .arg(dir.path().join("state.db"))
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
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(WATCHDOG)).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");

    send(child.id(), Signal::Term);
    let code = wait_for_exit(&mut child);
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(0), "{said}");
    assert!(!said.contains(TOKEN), "{said}");
}
