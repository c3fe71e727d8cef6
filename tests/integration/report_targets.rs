//! Which target `report` and `status` show. Regression (issue 19): `report CAMPAIGN` after
//! an apply on the mock reported on the live service, all zeros, with no hint; `status` had
//! no `--mock`. Now, with no flag, the report shows the target the ledger has calls of the
//! campaign on and says so; of several, it says which it shows and how to pick; a flag
//! always wins.

use serde_json::Value;

use crate::apply::{Campaign, Mock, apply, apply_command_on, campaign, text};
use crate::outreach;

const DELIVERY: &str = "delivery: {batch_size: 10, requests_per_second: 50}\n";

/// `outreach report` of the campaign with these flags: standard output and error.
fn report(c: &Campaign, flags: &[&str]) -> (String, String) {
    let out = outreach()
        .arg("report")
        .args(flags)
        .arg("--state")
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(c: &Campaign, flags: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(flags);
    serde_json::from_str(&report(c, &all).0).unwrap()
}

#[test]
fn with_calls_only_on_one_target_the_report_shows_them_and_says_so() {
    let mock = Mock::fast();
    let c = campaign(3, DELIVERY);
    let out = apply(&c, &mock.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (table, _) = report(&c, &[]);
    assert!(
        table.contains(&format!("calls on {}", mock.url)),
        "the mock's calls, not the live service's: {table}"
    );
    assert!(
        table.contains(&format!(
            "shown because the ledger has calls of this campaign only on {}",
            mock.url
        )),
        "{table}"
    );
    // The same figures as when the target is named, and the JSON says it on the log.
    let given = json(&c, &["--api-url", &mock.url]);
    let out = outreach()
        .args(["report", "--format", "json", "--state"])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    let defaulted: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(defaulted, given);
    assert_eq!(given["patients_called"], 3);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only on"),
        "{}",
        text(&out)
    );
    // An explicit flag wins, and says where the calls are.
    let (live, _) = report(&c, &["--api-url", "https://voicebot.intron.health"]);
    assert!(live.contains("calls on the live service"), "{live}");
    assert!(
        live.contains(&format!("only on {} (3 calls)", mock.url)),
        "{live}"
    );
    let by_id = json(&c, &["--target", &mock.url]);
    assert_eq!(by_id, given);
}

#[test]
fn with_several_targets_the_report_says_which_it_shows_and_how_to_pick() {
    let server = Mock::fast();
    let c = campaign(2, DELIVERY);
    let out = apply(&c, &server.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = apply_command_on(&c.path, &c, &["--mock"], &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (table, _) = report(&c, &[]);
    assert!(
        table.contains(&format!("calls on {}", server.url)),
        "{table}"
    );
    for words in [
        "on 2 targets".to_owned(),
        "mock (2 calls)".to_owned(),
        format!("{} (2 calls)", server.url),
        "pick one with --mock, --api-url URL or --target ID".to_owned(),
    ] {
        assert!(table.contains(&words), "{words}: {table}");
    }
    let on_mock = json(&c, &["--mock"]);
    assert_eq!(on_mock["target"], "mock");
    assert_eq!(json(&c, &["--target", "mock"]), on_mock);
    let (mock_table, _) = report(&c, &["--mock"]);
    assert!(
        !mock_table.contains("targets"),
        "asked, so nothing to say: {mock_table}"
    );

    // `status --mock`: the mock's rows only; without it, both.
    let status = |flags: &[&str]| {
        let out = outreach()
            .arg("status")
            .args(flags)
            .arg("--state")
            .arg(c.state())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let both = status(&[]);
    assert!(both.contains("apply-test round t1 on mock"), "{both}");
    assert!(
        both.contains(&format!("apply-test round t1 on {}", server.url)),
        "{both}"
    );
    let mock_only = status(&["--mock"]);
    assert!(
        mock_only.contains("apply-test round t1 on mock"),
        "{mock_only}"
    );
    assert!(!mock_only.contains(&server.url), "{mock_only}");
    let server_only = status(&["--api-url", &server.url]);
    assert!(!server_only.contains("on mock"), "{server_only}");
}
