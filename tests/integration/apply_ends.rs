//! What `outreach apply` says at the end, for each way a run ends: the headline says in
//! words what happened and every count under it is true (issue 16: "Applied …: done" with
//! `sent 0` outside the window, "failed" for a declined confirmation, `sent 9` beside `could
//! not be sent 9` after a 401, "0 retries are scheduled; the next is due at
//! 2026-12-01T06:23:46.683237984Z"). The exit codes are the README's.

use std::process::Output;

use crate::apply::{
    Campaign, KEY, Mock, apply_command, apply_command_on, campaign, interrupted_after_two_calls,
    slow_campaign, spawn_apply, text,
};
use crate::on_both_backends;

/// A Tuesday, 07:00 in Lagos: before a weekday window from 09:00.
const TUESDAY_7AM: &str = "2026-12-01T06:00:00Z";

/// The summary on standard output, without what depends on the machine (the mock's port,
/// the ledger's place).
pub(crate) fn summary(out: &Output, url: &str) -> String {
    String::from_utf8_lossy(&out.stdout)
        .replace(url, "[URL]")
        .lines()
        .map(|l| {
            if l.starts_with("Ledger: ") {
                "Ledger: [LEDGER]"
            } else {
                l
            }
        })
        .fold(String::new(), |all, l| all + l + "\n")
}

/// The words of one ending, reviewed once (`tests/integration/snapshots/apply-ends-*.snap`).
pub(crate) fn assert_words(ending: &str, said: &str) {
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(format!("apply-ends-{ending}"), said);
    });
}

/// The campaign file with `from` replaced by `to`.
fn edit(c: &Campaign, from: &str, to: &str) {
    let yaml = std::fs::read_to_string(&c.path).unwrap();
    assert!(yaml.contains(from), "{yaml}");
    std::fs::write(&c.path, yaml.replace(from, to)).unwrap();
}

/// A campaign of `n` patients with `from` replaced by `to` in its file.
fn edited(n: usize, from: &str, to: &str) -> Campaign {
    let c = campaign(n, "");
    edit(&c, from, to);
    c
}

const EVERY_HOUR: &str = "  windows: [{days: [every_day], from: \"00:00\", until: \"24:00\"}]\n";

/// Applies `campaign` (the one of `c`, or another on its ledger) with `extra`; checks that
/// it exits `code` and says the words of `ending`. With a clock (`now`) the run is on the
/// bundled mock keeping the calling windows (`--mock --enforce-schedule`): the clock moves
/// only there (issue 14, class 8), never against `--api-url`.
fn ends(ending: &str, code: i32, mock: &Mock, run: Run<'_>) -> Output {
    let input = run.campaign.unwrap_or(&run.c.path);
    let mut cmd = match run.now {
        None => apply_command(input, run.c, &mock.url, run.extra),
        Some(now) => {
            let mut cmd =
                apply_command_on(input, run.c, &["--mock", "--enforce-schedule"], run.extra);
            cmd.env("OUTREACH_FAKE_NOW", now);
            cmd
        }
    };
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    assert_words(ending, &summary(&out, &mock.url));
    out
}

/// One apply of [`ends`].
#[derive(Clone, Copy)]
struct Run<'a> {
    c: &'a Campaign,
    campaign: Option<&'a std::path::Path>,
    extra: &'a [&'a str],
    now: Option<&'a str>,
}

impl<'a> Run<'a> {
    fn of(c: &'a Campaign, extra: &'a [&'a str]) -> Self {
        Run {
            c,
            campaign: None,
            extra,
            now: None,
        }
    }

    fn at(self, now: &'a str) -> Self {
        Run {
            now: Some(now),
            ..self
        }
    }
}

on_both_backends! {
    fn a_run_that_placed_its_calls_says_done_and_what_became_of_them() {
        let mock = Mock::with_outcomes(&serde_json::json!({"answered": 1}));
        let c = campaign(3, "");
        ends("done", 0, &mock, Run::of(&c, &[]));
        // Again: nothing is due, and it says why.
        ends("nothing-to-send", 0, &mock, Run::of(&c, &[]));
    }
}

on_both_backends! {
    fn no_wait_outside_the_window_says_nothing_was_sent_and_until_when() {
        let mock = Mock::fast();
        let weekdays = "  windows: [{days: [weekdays], from: \"09:00\", until: \"17:00\"}]\n";
        let c = edited(2, EVERY_HOUR, weekdays);
        // It did its job: nothing is due before the window opens (exit 0), and it says so.
        ends(
            "outside-the-window",
            0,
            &mock,
            Run::of(&c, &["--no-wait"]).at(TUESDAY_7AM),
        );
        // A schedule that is over.
        edit(
            &c,
            "until: \"17:00\"}]\n",
            "until: \"17:00\"}]\n  not_before: 2020-01-01\n  not_after: 2020-01-31\n",
        );
        ends("schedule-over", 1, &mock, Run::of(&c, &[]));
        assert!(mock.calls().is_empty());
    }
}

on_both_backends! {
    fn a_paused_campaign_says_since_when_and_how_to_go_on() {
        let mock = Mock::fast();
        let c = campaign(2, "");
        crate::apply::pause_or_resume(&c, "pause", Some(TUESDAY_7AM));
        ends("paused", 0, &mock, Run::of(&c, &["--no-wait"]).at(TUESDAY_7AM));
    }
}

// Regression: a paused apply repeated "campaign … is paused" at every look (every 2 s).
on_both_backends! {
    fn a_paused_apply_says_so_once_then_that_it_was_resumed() {
        let mock = Mock::fast();
        let c = campaign(2, "");
        crate::apply::pause_or_resume(&c, "pause", None);
        let child = spawn_apply(&c, &mock.url, &["--no-follow"]);
        // Long enough for the run to look at the pause several times.
        std::thread::sleep(std::time::Duration::from_secs(5));
        crate::apply::pause_or_resume(&c, "resume", None);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("is paused").count(), 1, "{stderr}");
        assert_eq!(stderr.matches("was resumed").count(), 1, "{stderr}");
        assert_eq!(mock.calls().len(), 2);
    }
}

/// A shell word: `word` in single quotes.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

// A declined confirmation said "Applied …: failed" and then "error: not confirmed; nothing
// was sent". The question needs a terminal: `script` (util-linux) gives the run one.
on_both_backends! {
    fn a_declined_confirmation_says_not_confirmed_and_nothing_else() {
        use std::io::Write as _;
        let mock = Mock::fast();
        let c = campaign(2, "");
        let bin = assert_cmd::cargo::cargo_bin("outreach");
        let state = c.state();
        let args = [
            bin.to_str().unwrap(),
            "apply",
            "--new-ledger",
            "--api-url",
            &mock.url,
            "--state",
            state.to_str().unwrap(),
            c.path.to_str().unwrap(),
        ];
        let line = args.map(quoted).join(" ");
        let mut child = std::process::Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("INTRON_API_KEY", KEY)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("`script` (util-linux) runs the apply on a terminal");
        child.stdin.take().unwrap().write_all(b"no\n").unwrap();
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("About to place 2 calls"), "{said}");
        assert!(
            said.contains(&format!(
                "apply-test on {}: not confirmed: nothing was sent\n",
                mock.url
            )),
            "{said}"
        );
        assert!(!said.contains("error"), "said once, as the headline: {said}");
        assert!(mock.calls().is_empty());
    }
}

on_both_backends! {
    fn rejected_and_in_doubt_calls_say_done_with_problems() {
        let mock = Mock::fast();
        // A workflow the server does not know: every batch is refused (4xx).
        let c = edited(
            3,
            "workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf",
            "workflow_id: 00000000-0000-4000-8000-000000000000",
        );
        ends("rejected", 1, &mock, Run::of(&c, &["--no-follow"]));
        mock.set_faults(&serde_json::json!([{"route": "robocall", "drop_response_rate": 1.0}]));
        let c = campaign(3, "");
        ends("in-doubt", 1, &mock, Run::of(&c, &["--no-follow"]));
    }
}

on_both_backends! {
    fn a_dry_run_says_what_it_would_place_and_that_nothing_was_sent() {
        let mock = Mock::fast();
        let c = campaign(3, "");
        ends("dry-run", 0, &mock, Run::of(&c, &["--dry-run"]));
        assert!(mock.calls().is_empty());
    }
}

on_both_backends! {
    fn calls_held_back_are_counted_and_said() {
        let mock = Mock::fast();
        let c = campaign(3, "delivery: {frequency_cap: {calls: 1, per: 7d}}\n");
        ends("max-calls", 0, &mock, Run::of(&c, &["--no-follow", "--max-calls", "2"]));
        // The same patients in another campaign on the same ledger: held by the cap.
        let other = crate::apply::other_campaign(&c);
        let run = Run {
            campaign: Some(&other),
            ..Run::of(&c, &["--no-follow"])
        };
        ends("frequency-cap", 0, &mock, run);
    }
}

on_both_backends! {
    fn retries_left_for_later_are_counted_with_when_the_next_is_due() {
        let mock = Mock::with_outcomes(&serde_json::json!({"no_answer": 1}));
        let c = campaign(
            3,
            "delivery: {retry: {attempts: 2, delay: 1h, outcomes: [no_answer]}}\n",
        );
        // The real clock (the mock's outcomes need `--api-url`): when the next retry is due
        // depends on it, so that time is masked.
        let out = apply_command(&c.path, &c, &mock.url, &[]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let said = summary(&out, &mock.url);
        let when = regex::Regex::new(r"\w{3} \d{1,2} \w{3}( \d{4})? \d\d:\d\d \w+").unwrap();
        assert!(when.is_match(&said), "{said}");
        assert_words("retries-later", &when.replace_all(&said, "[TIME]"));
    }
}

on_both_backends! {
    fn ctrl_c_says_interrupted_and_what_was_left() {
        let mock = Mock::fast();
        let c = slow_campaign(12, 1);
        let out = interrupted_after_two_calls(&mock, &c, &["--no-follow"]);
        let said = summary(&out, &mock.url);
        let placed = mock.calls().len();
        assert!(
            said.starts_with(&format!(
                "apply-test on [URL]: interrupted (Ctrl-C); {placed} calls placed\n"
            )),
            "{said}"
        );
        let left = format!("  {:<34} {:>8}", "not sent (the run stopped first)", 12 - placed);
        assert!(said.contains(&left), "{said}");
    }
}
