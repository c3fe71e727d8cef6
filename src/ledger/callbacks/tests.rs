//! The callbacks' rules, on both stores (Postgres when `OUTREACH_TEST_DATABASE_URL` is set).

use std::time::Duration;

use jiff::Timestamp;

use super::{CallOutcome, CallbackOutcomes};
use crate::ledger::{CallState, Ledger, NewCall, TestDb};

const TARGET: &str = "mock";

/// A callback of batch `b1` saying call `k1` was answered: what the upgrade tests of both
/// stores record on a ledger of the version before.
pub(in crate::ledger) fn k1_answered_in_b1() -> CallbackOutcomes {
    CallbackOutcomes {
        received_at: Timestamp::now(),
        batch_id: "b1".into(),
        stats_json: "{}".into(),
        calls: Some(vec![CallOutcome {
            key: Some("k1".into()),
            phone: None,
            call_id: Some("call-1".into()),
            state: Some(CallState::Answered),
            reply: Some("1".into()),
            duration: None,
        }]),
        redacted_body: "{}".into(),
    }
}

/// Runs `scenario` on a SQLite ledger, then on a Postgres one when a server is configured
/// (else it says it skipped Postgres).
pub(in crate::ledger) fn on_both(tag: &str, scenario: impl Fn(&mut Ledger)) {
    let dir = tempfile::tempdir().unwrap();
    let mut l = Ledger::open(&dir.path().join("state.db")).unwrap();
    scenario(&mut l);
    if let Some(db) = TestDb::create(tag) {
        let mut l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
        scenario(&mut l);
    }
}

fn new_call<'a>(key: &'a str, phone: &'a str) -> NewCall<'a> {
    NewCall {
        key,
        attempt: 1,
        phone,
        source: "p.csv",
        row: 2,
        list_values: &crate::ledger::NO_LIST_VALUES,
        language: None,
    }
}

/// Calls k1 (+2348031234561) and k2 (+2348031234562) of campaign `c`, sent; accepted in
/// batch `batch` when it is given, else left in doubt with no batch id.
fn placed(l: &mut Ledger, batch: Option<&str>) {
    l.claim_campaign("c", "c.yaml", &[]).unwrap();
    l.set_opt_out_replies("c", &["3".to_owned()]).unwrap();
    let run = l
        .start_run(TARGET, "c", "r", Duration::from_secs(30))
        .unwrap();
    if let Some(pg) = l.shared() {
        // A shared ledger writes ahead only the calls a runner claimed.
        let work = [("k1", 1, "Africa/Lagos"), ("k2", 1, "Africa/Lagos")];
        pg.enqueue(TARGET, "c", "r", &work).unwrap();
        pg.claim(&run, TARGET, "c", "r", "Africa/Lagos", 2).unwrap();
    }
    l.begin(
        &run,
        TARGET,
        "c",
        "r",
        &[
            new_call("k1", "+2348031234561"),
            new_call("k2", "+2348031234562"),
        ],
    )
    .unwrap();
    let keys = [("k1", 1), ("k2", 1)];
    match batch {
        Some(b) => l
            .settle(TARGET, &keys, CallState::Accepted, Some(b), None)
            .unwrap(),
        None => l
            .settle(TARGET, &keys, CallState::InDoubt, None, None)
            .unwrap(),
    }
}

fn reported(
    key: Option<&str>,
    phone: &str,
    state: Option<CallState>,
    reply: Option<&str>,
) -> CallOutcome {
    CallOutcome {
        key: key.map(ToOwned::to_owned),
        phone: Some(phone.to_owned()),
        call_id: Some(format!("call-{phone}")),
        state,
        reply: reply.map(ToOwned::to_owned),
        duration: state.map(|_| Duration::from_secs(21)),
    }
}

fn callback(batch: &str, calls: Option<Vec<CallOutcome>>) -> CallbackOutcomes {
    CallbackOutcomes {
        received_at: Timestamp::now(),
        batch_id: batch.to_owned(),
        stats_json: r#"{"total_calls":2}"#.to_owned(),
        calls,
        redacted_body: r#"{"request_id":"b"}"#.to_owned(),
    }
}

fn both_final(batch: &str) -> CallbackOutcomes {
    callback(
        batch,
        Some(vec![
            reported(
                Some("k1"),
                "+2348031234561",
                Some(CallState::Answered),
                Some("3"),
            ),
            reported(Some("k2"), "+2348031234562", Some(CallState::Failed), None),
        ]),
    )
}

fn states(l: &Ledger) -> Vec<(String, CallState)> {
    let mut out: Vec<_> = l
        .attempts(TARGET, "c", "r", &[])
        .unwrap()
        .into_iter()
        .map(|a| (a.key, a.state))
        .collect();
    out.sort();
    out
}

fn kept(l: &mut Ledger) -> u64 {
    // What a rematch finds to try: kept unmatched callbacks (none settle here).
    l.rematch_callbacks(u64::MAX).unwrap()
}

#[test]
fn a_callback_delivered_twice_or_out_of_order_leaves_what_one_delivery_leaves() {
    on_both("cb_twice", |l| {
        placed(l, Some("b1"));
        let first = l.record_callbacks(&[both_final("b1")]).unwrap();
        assert_eq!((first[0].settled, first[0].already_final), (2, 0));
        assert!(first[0].batch_known);
        assert_eq!(first[0].opted_out, 1, "reply 3 is an opt-out reply of `c`");
        let after_one = states(l);
        assert_eq!(
            after_one,
            [
                ("k1".into(), CallState::Answered),
                ("k2".into(), CallState::Failed)
            ]
        );
        // Again, and an older callback that still saw k1 unanswered and k2 processing.
        let older = callback(
            "b1",
            Some(vec![
                reported(
                    Some("k1"),
                    "+2348031234561",
                    Some(CallState::NoAnswer),
                    None,
                ),
                reported(Some("k2"), "+2348031234562", None, None),
            ]),
        );
        let again = l.record_callbacks(&[both_final("b1"), older]).unwrap();
        assert_eq!((again[0].settled, again[0].already_final), (0, 2));
        assert_eq!(
            (again[1].settled, again[1].already_final, again[1].not_final),
            (0, 1, 1)
        );
        assert_eq!(states(l), after_one);
        assert_eq!(l.reply_opt_outs().unwrap(), ["+2348031234561"]);
        let a = l.attempts(TARGET, "c", "r", &[]).unwrap();
        let k1 = a.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(k1.call_id.as_deref(), Some("call-+2348031234561"));
        assert_eq!(k1.reply.as_deref(), Some("3"));
        assert_eq!(k1.duration, Some(Duration::from_secs(21)));
    });
}

#[test]
fn a_callback_before_its_batch_is_recorded_is_kept_and_matched_once_it_is() {
    on_both("cb_early", |l| {
        l.claim_campaign("c", "c.yaml", &[]).unwrap();
        let early = l.record_callbacks(&[both_final("b2")]).unwrap();
        assert!(!early[0].batch_known);
        assert_eq!(early[0].unmatched, 2);
        assert_eq!(kept(l), 0, "still nothing to match it with");
        placed(l, Some("b2"));
        assert_eq!(
            states(l),
            [
                ("k1".into(), CallState::Accepted),
                ("k2".into(), CallState::Accepted)
            ]
        );
        assert_eq!(l.rematch_callbacks(100).unwrap(), 2);
        assert_eq!(
            states(l),
            [
                ("k1".into(), CallState::Answered),
                ("k2".into(), CallState::Failed)
            ]
        );
        assert_eq!(
            l.rematch_callbacks(100).unwrap(),
            0,
            "matched callbacks are dropped"
        );
    });
}

#[test]
fn a_callback_names_in_doubt_calls_by_their_key_and_settles_them() {
    on_both("cb_doubt", |l| {
        placed(l, None);
        let r = l.record_callbacks(&[both_final("b3")]).unwrap();
        assert!(r[0].batch_known);
        assert_eq!(r[0].settled, 2);
        let a = l.attempts(TARGET, "c", "r", &[]).unwrap();
        assert!(
            a.iter().all(|a| a.batch_id.as_deref() == Some("b3")),
            "{a:?}"
        );
        assert_eq!(
            states(l),
            [
                ("k1".into(), CallState::Answered),
                ("k2".into(), CallState::Failed)
            ]
        );
    });
}

#[test]
fn conversation_calls_match_by_number_and_a_number_twice_in_a_batch_matches_nothing() {
    on_both("cb_phone", |l| {
        placed(l, Some("b4"));
        let r = l
            .record_callbacks(&[callback(
                "b4",
                Some(vec![
                    reported(None, "+2348031234562", Some(CallState::NoAnswer), None),
                    reported(None, "+2348039999999", Some(CallState::Answered), None),
                ]),
            )])
            .unwrap();
        assert_eq!((r[0].settled, r[0].unmatched), (1, 1));
        assert_eq!(
            states(l),
            [
                ("k1".into(), CallState::Accepted),
                ("k2".into(), CallState::NoAnswer)
            ]
        );
    });
}

#[test]
fn a_callback_without_calls_completes_the_batch_and_a_later_one_gives_the_outcomes() {
    on_both("cb_stats", |l| {
        placed(l, Some("b5"));
        let r = l.record_callbacks(&[callback("b5", None)]).unwrap();
        assert_eq!(r[0].settled, 2);
        let a = l.attempts(TARGET, "c", "r", &[]).unwrap();
        assert!(a.iter().all(|a| a.state == CallState::Completed), "{a:?}");
        let again = l.record_callbacks(&[callback("b5", None)]).unwrap();
        assert_eq!(again[0].settled, 0);
        l.record_callbacks(&[both_final("b5")]).unwrap();
        assert_eq!(
            states(l),
            [
                ("k1".into(), CallState::Answered),
                ("k2".into(), CallState::Failed)
            ]
        );
    });
}

#[test]
fn refused_and_unmatched_callbacks_are_removed_by_purge() {
    on_both("cb_purge", |l| {
        l.keep_refused_callback(Timestamp::now(), "not JSON", "{\"phone\":\"…\"")
            .unwrap();
        l.record_callbacks(&[both_final("b6")]).unwrap();
        l.purge(
            Timestamp::now()
                .checked_add(jiff::SignedDuration::from_secs(1))
                .unwrap(),
        )
        .unwrap();
        placed(l, Some("b6"));
        assert_eq!(
            l.rematch_callbacks(100).unwrap(),
            0,
            "purged before its batch was known"
        );
    });
}
