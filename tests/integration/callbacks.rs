//! `outreach callbacks`, the binary (issue 17, part 2): it refuses to start without a good
//! token and never prints one; started, it prints where it listens, answers `/healthz`, and
//! exits 0 on SIGTERM. The HTTP behaviour itself is tested in-process (`src/callbacks/`).

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use crate::outreach;

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
    // Started as `outcomes.rs` starts it: it returns once the log says where it listens.
    let receiver = crate::outcomes::Receiver::start(dir.path(), &dir.path().join("state.db"));
    let answer = receiver.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#"{"status":"ok"}"#), "{answer}");
    let said = receiver.log();
    assert_eq!(receiver.stop(), Some(0), "{said}");
    assert!(!said.contains(crate::outcomes::TOKEN), "{said}");
}
