//! Issue 19: times in human output are in the campaign's zone, to the minute, in the one
//! format for people (`clock::human`), whatever the machine's zone; JSON keeps RFC 3339.

use std::process::Output;

use crate::apply::{Mock, apply_command, campaign, text};
use crate::outreach;

/// A command of the campaign's, run on a machine whose zone is UTC.
fn run(args: &[&str], c: &crate::apply::Campaign) -> Output {
    outreach()
        .env("TZ", "UTC")
        .args(args)
        .arg(&c.path)
        .arg("--state")
        .arg(c.state())
        .output()
        .unwrap()
}

#[test]
fn human_output_shows_times_in_the_campaigns_zone_never_rfc_3339() {
    let mock = Mock::fast();
    let c = campaign(3, "");
    let applied = apply_command(&c.path, &c, &mock.url, &[])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    let paused = run(&["pause"], &c);
    assert_eq!(paused.status.code(), Some(0), "{}", text(&paused));

    let rfc_3339 = regex::Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}").unwrap();
    let a_time = regex::Regex::new(r"\b\d{1,2}:\d{2}\b").unwrap();
    let in_utc = regex::Regex::new(r"\d{2}:\d{2}(:\d{2})? (UTC|GMT|Z)\b").unwrap();
    let mut outputs = vec![("apply", applied)];
    for args in [
        &["plan"][..],
        &["status"],
        &["report", "--api-url", &mock.url],
        &["plan", "--format", "markdown"],
    ] {
        let out = run(args, &c);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            text(&out)
        );
        outputs.push((args[0], out));
    }
    for (command, out) in &outputs {
        let stdout = String::from_utf8_lossy(&out.stdout);
        for line in stdout.lines() {
            assert!(!rfc_3339.is_match(line), "{command}: {line}");
            assert!(!in_utc.is_match(line), "{command}: {line}");
        }
        // Every line with a time of day says it in WAT (the campaign's zone, UTC+1).
        let timed: Vec<&str> = stdout.lines().filter(|l| a_time.is_match(l)).collect();
        assert!(
            !timed.is_empty() || *command == "apply",
            "{command}: {stdout}"
        );
        for line in timed {
            let windows = line.contains("–") || line.contains("00:00") || line.contains("24:00");
            assert!(line.contains("WAT") || windows, "{command}: {line}");
        }
    }
    let status = String::from_utf8_lossy(&outputs[2].1.stdout);
    assert!(
        status.contains("PAUSED since") && status.contains("WAT"),
        "{status}"
    );
}
