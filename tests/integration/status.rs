//! `outreach status` and the runs it lists. Regression (issue 16): a run killed long ago was
//! listed as alive ("heartbeat 18 s ago"), and later as "stopped without finishing" for
//! ever. Now a run past its lease is not alive; one that stopped without finishing is said
//! once, with when it was last heard from, and left out of the view a day later (`--all`
//! lists it again); the JSON lists every one.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::apply::{Campaign, Mock, slow_campaign, spawn_apply, text, wait_until};
use crate::on_both_backends;

/// `outreach status` of the campaign's ledger, with times written in Lagos.
fn status(c: &Campaign, extra: &[&str]) -> String {
    let out = crate::outreach()
        .env("TZ", "Africa/Lagos")
        .arg("status")
        .args(extra)
        .arg("--state")
        .arg(c.state())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Sets every run's last heartbeat to `at`, as if it had stopped then.
fn last_heard_at(c: &Campaign, at: Timestamp) {
    let at = at.to_string();
    if let Some(db) = &c.db {
        let mut pg = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        pg.execute(
            "UPDATE runs SET heartbeat_at = $1::text::timestamptz",
            &[&at],
        )
        .unwrap();
    } else {
        let sqlite = rusqlite::Connection::open(c.state()).unwrap();
        sqlite
            .execute("UPDATE runs SET heartbeat_at = ?1", [&at])
            .unwrap();
    }
}

on_both_backends! {
    fn a_run_that_stopped_without_finishing_is_said_once_then_ages_out() {
        let mock = Mock::fast();
        let c = slow_campaign(20, 1);
        let mut child = spawn_apply(&c, &mock.url, &["--no-follow", "--lease", "1"]);
        wait_until(|| !mock.calls().is_empty(), "a call");
        child.kill().unwrap(); // SIGKILL: the run stays marked running
        let _ = child.wait();
        // Past its lease of 1 s, it is not alive; it is said once, with when.
        std::thread::sleep(Duration::from_millis(1500));
        let said = status(&c, &[]);
        assert_eq!(said.matches("stopped without finishing").count(), 1, "{said}");
        assert!(said.contains(", last heard from "), "{said}");
        assert!(!said.contains("heartbeat"), "{said}");

        // Two days later: out of the view; `--all` still says it, with when.
        let then = Timestamp::now() - jiff::SignedDuration::from_hours(48);
        last_heard_at(&c, then);
        let said = status(&c, &[]);
        assert!(!said.contains("stopped without finishing"), "{said}");
        assert!(!said.contains("Runners"), "{said}");
        let all = status(&c, &["--all"]);
        let when = outreach::clock::human(then, &TimeZone::get("Africa/Lagos").unwrap());
        assert!(
            all.contains(&format!("stopped without finishing (crashed or killed), last heard from {when}:")),
            "{all}"
        );

        // The JSON lists every run, with machine-readable times.
        let json: Value = serde_json::from_str(&status(&c, &["--json"])).unwrap();
        let runners = json["runners"].as_array().unwrap();
        assert_eq!(runners.len(), 1, "{json}");
        assert_eq!(runners[0]["alive"], false);
        let beat: Timestamp = runners[0]["last_heartbeat"].as_str().unwrap().parse().unwrap();
        assert_eq!(beat.as_second(), then.as_second(), "{json}");
        assert!(runners[0]["heartbeat_age"].as_f64().unwrap() >= 48.0 * 3600.0);
    }
}
