//! Issue 14, class 1: a saved plan was trusted as written. `apply plan.json` checked the
//! digests of the campaign and its sources, then placed whatever calls the JSON listed. Now
//! the plan is made again and compared: a plan that is not exactly what the campaign and its
//! sources make is refused (exit 2, as a stale plan), naming the first difference, and
//! nothing is sent.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::apply::{Campaign, Mock, apply_input, campaign, text};
use crate::on_both_backends;
use crate::outreach;

/// `outreach plan --out` of the campaign: the saved plan's path and document.
fn saved_plan(c: &Campaign) -> (PathBuf, Value) {
    let plan = c.dir.path().join("plan.json");
    outreach()
        .arg("plan")
        .arg(&c.path)
        .arg("--out")
        .arg(&plan)
        .arg("--state")
        .arg(c.state())
        .assert()
        .success();
    let doc = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
    (plan, doc)
}

const CALLS: &str = "/batches/0/calls";

fn calls(doc: &mut Value) -> &mut Vec<Value> {
    doc.pointer_mut(CALLS).unwrap().as_array_mut().unwrap()
}

/// A call copied from the first, with another key (and number, when given).
fn another(doc: &Value, key: &str, phone: Option<&str>) -> Value {
    let mut call = doc.pointer(&format!("{CALLS}/0")).unwrap().clone();
    call["key"] = json!(key);
    call["entry"]["user_tag_identifiers"]["outreach_key"] = json!(key);
    if let Some(p) = phone {
        call["entry"]["phone_number"] = json!(p);
    }
    call
}

type Tamper = fn(&mut Value);

/// Each way of tampering, and what the refusal says of it.
fn tamperings() -> Vec<(&'static str, Tamper, &'static str)> {
    vec![
        (
            "changed number",
            |d| calls(d)[0]["entry"]["phone_number"] = json!("+2348039999999"),
            "batches[0].calls[0] (key ok-",
        ),
        (
            "added call",
            |d| {
                let call = another(
                    d,
                    "ok-00112233445566778899aabbccddeeff",
                    Some("+2348039999998"),
                );
                calls(d).push(call);
            },
            "batches[0].calls[3] (key ok-00112233445566778899aabbccddeeff, +234******9998): a call the campaign and its sources do not make",
        ),
        (
            "duplicate with a new key",
            |d| {
                let call = another(d, "ok-ffeeddccbbaa99887766554433221100", None);
                calls(d).insert(1, call);
            },
            "batches[0].calls[1] (key ok-ffeeddccbbaa99887766554433221100, +234******0000): key: not the idempotency key of its number",
        ),
        (
            "rewritten message",
            |d| calls(d)[0]["entry"]["workflow_variables"]["name"] = json!("send 5000 naira to"),
            "entry.workflow_variables.name: not the words the campaign makes",
        ),
        (
            "rewritten tag",
            |d| calls(d)[2]["entry"]["user_tag_identifiers"]["id"] = json!("P9"),
            "batches[0].calls[2] (key ok-",
        ),
        (
            "removed call",
            |d| {
                calls(d).remove(2);
            },
            "that the plan does not have",
        ),
        (
            "moved to another row",
            |d| calls(d)[1]["row"] = json!(9),
            "source and row: 0 row 9, the campaign's call comes from 0 row 3",
        ),
        (
            "empty key",
            |d| calls(d)[1]["key"] = json!(""),
            "batches[0].calls[1].key: empty",
        ),
        (
            "changed voice",
            |d| d["settings"]["voice.accent"] = json!("hausa"),
            "settings.voice.accent is `hausa`, the campaign's is `yoruba`",
        ),
        (
            "changed workflow",
            |d| d["campaign"]["workflow_id"] = json!("0c7e5f3a-1111-4222-8333-944455556666"),
            "campaign.workflow_id is `0c7e5f3a-1111-4222-8333-944455556666`",
        ),
        (
            "changed setting",
            |d| d["settings"]["delivery.max_calls"] = json!("100000"),
            "settings.delivery.max_calls is `100000`, the campaign's is `no limit`",
        ),
        (
            "batch timezone",
            |d| d["batches"][0]["timezone"] = json!("America/New_York"),
            "its batch's timezone is America/New_York, the campaign places it in Africa/Lagos",
        ),
        (
            "a plan of an older outreach",
            |d| {
                d["version"] = json!(1);
                d["settings"] = json!({});
            },
            "was made by an older outreach (a version 1 plan) and does not record its settings",
        ),
    ]
}

on_both_backends! {
    fn class_1_a_tampered_saved_plan_is_refused_and_nobody_is_called() {
        let mock = Mock::fast();
        let c = campaign(3, "");
        let (plan, saved) = saved_plan(&c);
        for (what, tamper, expected) in tamperings() {
            let mut doc = saved.clone();
            tamper(&mut doc);
            std::fs::write(&plan, serde_json::to_vec(&doc).unwrap()).unwrap();
            let out = apply_input(&plan, &c, &mock.url, &["--no-follow"]);
            let said = text(&out);
            assert_eq!(out.status.code(), Some(2), "{what}: {said}");
            assert!(said.contains(expected), "{what}: {said}\n  expected: {expected}");
            assert!(said.contains("nothing is sent") || said.contains("plan.json"), "{what}: {said}");
            assert!(mock.call_requests().is_empty(), "{what}: a request was sent");
            for n in &c.numbers {
                assert!(!said.contains(&n[4..]), "{what}: a number in the error: {said}");
            }
        }
        assert!(mock.calls().is_empty());
        let ledger = c.ledger_text();
        for n in &c.numbers {
            assert!(!ledger.contains(n.as_str()), "a call in the ledger");
        }

        // The plan as it was made applies.
        std::fs::write(&plan, serde_json::to_vec(&saved).unwrap()).unwrap();
        let out = apply_input(&plan, &c, &mock.url, &["--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(mock.calls().len(), 3);
    }
}

on_both_backends! {
    fn class_1_a_plan_made_after_an_apply_leaves_out_only_what_the_ledger_placed() {
        let mock = Mock::fast();
        let c = campaign(3, "");
        let out = crate::apply::apply(&c, &mock.url, &["--no-follow", "--max-calls", "1"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // Planned against the same target's ledger: the call placed is left out.
        let plan = c.dir.path().join("plan.json");
        let made = outreach()
            .env("INTRON_API_KEY", crate::apply::KEY)
            .arg("plan")
            .arg(&c.path)
            .args(["--api-url", &mock.url, "--out"])
            .arg(&plan)
            .arg("--state")
            .arg(c.state())
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", text(&made));
        let doc: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();
        assert_eq!(doc.pointer(CALLS).unwrap().as_array().unwrap().len(), 2);
        let out = apply_input(&plan, &c, &mock.url, &["--no-follow"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(mock.calls().len(), 3, "each patient once");
    }
}
