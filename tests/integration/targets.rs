//! Issue 14, class 4 (the target half): one server is one target however its URL is spelt,
//! and a ledger written by an older build, which recorded URLs as given, keeps its calls.
//! The mock is on a random loopback port, so these tests spell it by scheme case and
//! trailing slashes; the default-port rule is held by the unit tests of `settings::target`.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::apply::{Mock, apply, assert_exactly_once, campaign, text};
use crate::backend::{Backend, current};
use crate::{on_both_backends, outreach};

/// The mock's URL spelt otherwise: `HTTP://127.0.0.1:PORT/`.
fn spelt_otherwise(url: &str) -> String {
    format!("{}/", url.replacen("http://", "HTTP://", 1))
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(out)))
}

on_both_backends! {
    fn class_4_the_same_server_spelled_two_ways_is_one_target() {
        let mock = Mock::fast();
        let c = campaign(4, "delivery: {batch_size: 2, requests_per_second: 50}\n");
        let first = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first));
        assert_eq!(summary(&first)["counts"]["accepted"], 4);
        // The same server, spelt with an upper-case scheme and a trailing slash: the calls
        // placed are found, and nobody is called again.
        let spelt = spelt_otherwise(&mock.url);
        let second = apply(&c, &spelt, &["--json", "--no-follow"]);
        assert_eq!(second.status.code(), Some(0), "{}", text(&second));
        let s = summary(&second);
        assert_eq!(s["counts"]["already_done"], 4, "{s}");
        assert_eq!(s["counts"]["sent"], 0, "{s}");
        assert_eq!(s["target"], mock.url.as_str(), "recorded under its normal form");
        assert_exactly_once(&mock, &c);
        assert_eq!(crate::apply::report_json(&c, &format!("{spelt}/"))["patients_called"], 4);
    }
}

on_both_backends! {
    fn class_4_a_ledger_of_an_older_build_keeps_its_calls_under_the_normal_target() {
        let mock = Mock::fast();
        let c = campaign(3, "delivery: {batch_size: 3, requests_per_second: 50}\n");
        let first = apply(&c, &mock.url, &["--json", "--no-follow"]);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first));
        // What an older build left: the URL recorded as it was given, at the schema version
        // before this one (this one changes no table, only what the targets say).
        let spelt = spelt_otherwise(&mock.url);
        as_an_older_build_wrote_it(&c.state(), &mock.url, &spelt);
        let migrated = outreach()
            .args(["migrate", "--state"])
            .arg(c.state())
            .output()
            .unwrap();
        let said = text(&migrated);
        assert!(migrated.status.success(), "{said}");
        assert!(
            said.contains(&format!(
                "Target {spelt} is now recorded as {} (3 call records)",
                mock.url
            )),
            "{said}"
        );
        // Both spellings find the calls: nobody is called twice.
        for url in [mock.url.clone(), spelt] {
            let again = apply(&c, &url, &["--json", "--no-follow"]);
            assert_eq!(again.status.code(), Some(0), "{}", text(&again));
            let s = summary(&again);
            assert_eq!(s["counts"]["already_done"], 3, "{url}: {s}");
            assert_eq!(s["counts"]["sent"], 0, "{url}: {s}");
        }
        assert_exactly_once(&mock, &c);
        // Migrated once: the next `migrate` has nothing to rename.
        let again = outreach()
            .args(["migrate", "--state"])
            .arg(c.state())
            .output()
            .unwrap();
        assert!(!text(&again).contains("is now recorded as"), "{}", text(&again));
    }
}

/// Rewrites the ledger at `state` as a build before the normal form wrote it: every target
/// `normal` spelt `spelt`, and the schema version one back.
fn as_an_older_build_wrote_it(state: &Path, normal: &str, spelt: &str) {
    match current() {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(state).unwrap();
            for table in ["calls", "runs"] {
                conn.execute(
                    &format!("UPDATE {table} SET target = ?2 WHERE target = ?1"),
                    [normal, spelt],
                )
                .unwrap();
            }
            // Without what the later versions added (the callback receiver's tables, the
            // workflow bindings, the calls' list values and languages).
            conn.execute_batch(
                "DROP INDEX calls_by_batch; DROP TABLE batches; DROP TABLE kept_callbacks;
                 DROP TABLE reply_opt_outs; ALTER TABLE campaigns DROP COLUMN opt_out_replies;
                 DROP TABLE workflow_bindings; DROP TABLE workflow_pushes;
                 ALTER TABLE calls DROP COLUMN list_values; ALTER TABLE calls DROP COLUMN language;
                 PRAGMA user_version = 4;",
            )
            .unwrap();
        }
        Backend::Postgres => {
            let mut c =
                postgres::Client::connect(&state.to_string_lossy(), postgres::NoTls).unwrap();
            for table in ["calls", "runs", "work"] {
                c.execute(
                    &format!("UPDATE {table} SET target = $2 WHERE target = $1"),
                    &[&normal, &spelt],
                )
                .unwrap();
            }
            c.execute(
                "UPDATE rate_budget SET scope = $2::text || substr(scope, length($1::text) + 1) WHERE starts_with(scope, $1::text)",
                &[&normal, &spelt],
            )
            .unwrap();
            let spelt_scopes: i64 = c
                .query_one(
                    "SELECT count(*) FROM rate_budget WHERE starts_with(scope, $1::text)",
                    &[&spelt],
                )
                .unwrap()
                .get(0);
            assert!(spelt_scopes > 0, "a shared run draws on budgets");
            c.batch_execute(
                "DROP INDEX calls_by_batch; DROP TABLE batches; DROP TABLE kept_callbacks;
                 DROP TABLE reply_opt_outs; ALTER TABLE campaigns DROP COLUMN opt_out_replies;
                 DROP TABLE workflow_bindings; DROP TABLE workflow_pushes;
                 ALTER TABLE calls DROP COLUMN list_values; ALTER TABLE calls DROP COLUMN language;
                 UPDATE outreach_schema SET version = 2;",
            )
            .unwrap();
        }
    }
}

#[test]
fn class_4_an_api_url_with_credentials_or_a_query_is_refused_without_showing_them() {
    let c = campaign(1, "");
    for url in [
        "https://user:pa55word@voicebot.example",
        "https://voicebot.example/?api_key=pa55word",
    ] {
        let out = apply(&c, url, &[]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(said.contains("https://voicebot.example"), "{said}");
        assert!(!said.contains("pa55word"), "{said}");
    }
}
