//! Issue 14, class 4 (the target half): one server is one target however its URL is spelt.
//! The mock is on a random loopback port, so these tests spell it by scheme case and
//! trailing slashes; the default-port rule is held by the unit tests of `settings::target`.

use std::process::Output;

use serde_json::Value;

use crate::apply::{Mock, apply, assert_exactly_once, campaign, text};
use crate::{on_both_backends, outreach};

/// The mock's URL spelt otherwise: `HTTP://127.0.0.1:PORT/`.
fn spelt_otherwise(url: &str) -> String {
    format!("{}/", url.replacen("http://", "HTTP://", 1))
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(out)))
}

/// `outreach report --format json` of the campaign through `url`.
fn report(c: &crate::apply::Campaign, url: &str) -> Value {
    let out = outreach()
        .args(["report", "--format", "json", "--api-url", url, "--state"])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
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
        assert_eq!(report(&c, &format!("{spelt}/"))["patients_called"], 4);
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
