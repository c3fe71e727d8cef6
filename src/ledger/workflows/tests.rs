//! The bindings' rules, on both stores (Postgres when `OUTREACH_TEST_DATABASE_URL` is set;
//! otherwise each test says it skipped Postgres), and the upgrades that add them.

use jiff::Timestamp;
use sha2::{Digest as _, Sha256};

use super::{BindingKey, BindingProblem, PUSHED_MAX, WorkflowBinding};
use crate::ledger::callbacks::tests::on_both;
use crate::ledger::{AsyncLedger, CallState, Ledger, LedgerError, NewCall, TestDb};

const TARGET: &str = "https://voicebot.intron.health";

fn key<'a>(workflow_name: &'a str, language: &'a str) -> BindingKey<'a> {
    BindingKey {
        target: TARGET,
        campaign: "measles",
        workflow_name,
        language,
    }
}

/// What apply records after creating workflow `id` from `message`, at `second` past a fixed
/// time.
fn binding(id: &str, message: &str, second: i64) -> WorkflowBinding {
    let pushed = serde_json::json!({
        "name": "measles-second-dose",
        "message": message,
        "call_back_url": "https://outreach.example.org/callbacks",
    })
    .to_string();
    WorkflowBinding {
        workflow_id: id.to_owned(),
        digest: format!("{:x}", Sha256::digest(pushed.as_bytes())),
        pushed,
        bound_at: Timestamp::from_second(1_795_000_000 + second).unwrap(),
    }
}

#[test]
fn a_binding_is_read_back_and_rebound_only_from_the_id_it_holds() {
    on_both("wf_cas", |l| {
        let k = key("measles-second-dose", "");
        assert_eq!(l.workflow_binding(&k).unwrap(), None);
        let first = binding("wf-1", "Hello [name]", 0);
        assert!(l.bind_workflow(&k, None, &first).unwrap());
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(first.clone()));

        // Bound already: a second "not bound" bind, or one from an id it does not hold,
        // changes nothing.
        let second = binding("wf-2", "Hello [name], your dose is due", 1);
        assert!(!l.bind_workflow(&k, None, &second).unwrap());
        assert!(!l.bind_workflow(&k, Some("wf-9"), &second).unwrap());
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(first.clone()));
        assert_eq!(l.bound_workflow_ids(TARGET, "measles").unwrap(), ["wf-1"]);

        // From the id it holds: rebound, and the old id stays known.
        assert!(l.bind_workflow(&k, Some("wf-1"), &second).unwrap());
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(second.clone()));
        assert!(
            !l.bind_workflow(&k, Some("wf-1"), &first).unwrap(),
            "a runner that read wf-1 before the rebind loses"
        );
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(second));
        assert_eq!(
            l.bound_workflow_ids(TARGET, "measles").unwrap(),
            ["wf-2", "wf-1"]
        );
    });
}

#[test]
fn bound_ids_cover_every_name_and_language_of_the_campaign_newest_first() {
    on_both("wf_ids", |l| {
        let (en, ha, other) = (key("dose", "en"), key("dose", "ha"), key("reminder", ""));
        // Bound in this order; their times say otherwise (runners' clocks differ): the order
        // of the binds decides.
        assert!(
            l.bind_workflow(&en, None, &binding("wf-en", "a", 30))
                .unwrap()
        );
        assert!(
            l.bind_workflow(&ha, None, &binding("wf-ha", "b", 20))
                .unwrap()
        );
        assert!(
            l.bind_workflow(&other, None, &binding("wf-other", "c", 10))
                .unwrap()
        );
        assert!(
            l.bind_workflow(&en, Some("wf-en"), &binding("wf-en-2", "d", 0))
                .unwrap()
        );
        // Another campaign, and the same campaign under another target, are not this one's.
        let elsewhere = BindingKey {
            campaign: "polio",
            ..en
        };
        assert!(
            l.bind_workflow(&elsewhere, None, &binding("wf-polio", "e", 40))
                .unwrap()
        );
        let mock = BindingKey {
            target: "mock",
            ..en
        };
        assert!(
            l.bind_workflow(&mock, None, &binding("wf-mock", "f", 50))
                .unwrap()
        );
        assert_eq!(
            l.bound_workflow_ids(TARGET, "measles").unwrap(),
            ["wf-en-2", "wf-other", "wf-ha", "wf-en"]
        );
        assert_eq!(
            l.bound_workflow_ids("mock", "measles").unwrap(),
            ["wf-mock"]
        );
        assert!(l.bound_workflow_ids(TARGET, "rubella").unwrap().is_empty());
    });
}

#[test]
fn each_language_has_a_binding_of_its_own() {
    on_both("wf_lang", |l| {
        let (one, en, yo) = (key("dose", ""), key("dose", "en"), key("dose", "yo"));
        assert!(
            l.bind_workflow(&en, None, &binding("wf-en", "Hello", 0))
                .unwrap()
        );
        assert_eq!(l.workflow_binding(&yo).unwrap(), None);
        assert_eq!(l.workflow_binding(&one).unwrap(), None);
        assert!(
            l.bind_workflow(&yo, None, &binding("wf-yo", "Bawo", 1))
                .unwrap()
        );
        assert!(
            !l.bind_workflow(&yo, Some("wf-en"), &binding("wf-x", "x", 2))
                .unwrap(),
            "one language's id does not rebind another's"
        );
        assert_eq!(
            l.workflow_binding(&en).unwrap().map(|b| b.workflow_id),
            Some("wf-en".to_owned())
        );
        assert_eq!(
            l.workflow_binding(&yo).unwrap().map(|b| b.workflow_id),
            Some("wf-yo".to_owned())
        );
    });
}

fn refused(l: &Ledger, k: &BindingKey<'_>, b: &WorkflowBinding) -> BindingProblem {
    match l.bind_workflow(k, None, b) {
        Err(LedgerError::Binding { problem, .. }) => problem,
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_cannot_be_bound_is_refused_whole_and_unquoted() {
    on_both("wf_refused", |l| {
        let k = key("dose", "");
        // The largest JSON kept: a string of PUSHED_MAX bytes, quotes included.
        let mut b = binding("wf-1", "x", 0);
        b.pushed = format!("\"{}\"", "a".repeat(PUSHED_MAX - 2));
        let mut over = b.clone();
        over.pushed = format!("\"{}\"", "a".repeat(PUSHED_MAX - 1));
        assert_eq!(
            refused(l, &k, &over),
            BindingProblem::PushedTooLarge {
                len: PUSHED_MAX + 1,
                max: PUSHED_MAX
            }
        );
        assert_eq!(l.workflow_binding(&k).unwrap(), None, "nothing was written");

        let mut not_json = b.clone();
        not_json.pushed = "message: Hello MARK-7731".to_owned();
        assert_eq!(refused(l, &k, &not_json), BindingProblem::PushedNotJson);
        let e = l
            .bind_workflow(&k, None, &not_json)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("MARK-7731"), "{e}");

        for digest in [
            "",
            "ABCDEF",
            &"A".repeat(64),
            &format!("{}g", "a".repeat(63)),
        ] {
            let mut bad = b.clone();
            bad.digest = digest.to_owned();
            assert_eq!(refused(l, &k, &bad), BindingProblem::BadDigest, "{digest}");
        }
        let mut no_id = b.clone();
        no_id.workflow_id = String::new();
        assert_eq!(
            refused(l, &k, &no_id),
            BindingProblem::Empty {
                field: "workflow id"
            }
        );
        let unnamed = key("", "");
        assert_eq!(
            refused(l, &unnamed, &b),
            BindingProblem::Empty {
                field: "workflow name"
            }
        );
        let mut long_id = b.clone();
        long_id.workflow_id = "w".repeat(super::FIELD_MAX + 1);
        assert!(matches!(
            refused(l, &k, &long_id),
            BindingProblem::TooLong {
                field: "workflow id",
                ..
            }
        ));
        assert!(l.bound_workflow_ids(TARGET, "measles").unwrap().is_empty());

        assert!(
            l.bind_workflow(&k, None, &b).unwrap(),
            "the largest is kept"
        );
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(b));
    });
}

#[test]
fn purge_keeps_the_bindings() {
    on_both("wf_purge", |l| {
        let k = key("dose", "");
        let b = binding("wf-1", "Hello", 0);
        assert!(l.bind_workflow(&k, None, &b).unwrap());
        l.purge(Timestamp::from_second(4_000_000_000).unwrap())
            .unwrap();
        assert_eq!(l.workflow_binding(&k).unwrap(), Some(b));
        assert_eq!(l.bound_workflow_ids(TARGET, "measles").unwrap(), ["wf-1"]);
    });
}

/// Two runners read the key unbound, each created a workflow, and both bind: one wins, the
/// other is told, and reads the winner's binding.
fn two_runners_bind_once(a: &Ledger, b: &Ledger) {
    let k = key("dose", "");
    assert_eq!(a.workflow_binding(&k).unwrap(), None);
    assert_eq!(b.workflow_binding(&k).unwrap(), None);
    let (mine, theirs) = (binding("wf-a", "Hello", 0), binding("wf-b", "Hello", 0));
    assert!(a.bind_workflow(&k, None, &mine).unwrap());
    assert!(!b.bind_workflow(&k, None, &theirs).unwrap());
    assert_eq!(b.workflow_binding(&k).unwrap(), Some(mine.clone()));
    // Both rebind from what they read: again one wins.
    let (a2, b2) = (binding("wf-a2", "Hi", 1), binding("wf-b2", "Hi", 1));
    assert!(b.bind_workflow(&k, Some("wf-a"), &b2).unwrap());
    assert!(!a.bind_workflow(&k, Some("wf-a"), &a2).unwrap());
    assert_eq!(a.workflow_binding(&k).unwrap(), Some(b2));
    assert_eq!(
        a.bound_workflow_ids(TARGET, "measles").unwrap(),
        ["wf-b2", "wf-a"]
    );
}

#[test]
fn two_runners_on_one_ledger_never_both_bind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    two_runners_bind_once(&Ledger::open(&path).unwrap(), &Ledger::open(&path).unwrap());
    if let Some(db) = TestDb::create("wf_two") {
        let url = std::path::Path::new(&db.url);
        two_runners_bind_once(&Ledger::open(url).unwrap(), &Ledger::open(url).unwrap());
    }
}

/// Runners at once, each with its own connection (opened first, one after the other),
/// bind one unbound key to the workflow each created: exactly one of them is told it bound
/// it, and the key holds that one's id.
fn racing_runners_bind_once(location: &std::path::Path) {
    const RUNNERS: usize = 6;
    let ledgers: Vec<Ledger> = (0..RUNNERS)
        .map(|_| Ledger::open(location).unwrap())
        .collect();
    let start = std::sync::Barrier::new(RUNNERS);
    let won: Vec<(String, Result<bool, LedgerError>)> = std::thread::scope(|s| {
        let runners: Vec<_> = ledgers
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let start = &start;
                s.spawn(move || {
                    let b = binding(&format!("wf-{i}"), "Hello", 0);
                    start.wait();
                    let bound = l.bind_workflow(&key("dose", ""), None, &b);
                    drop(l);
                    (b.workflow_id, bound)
                })
            })
            .collect();
        runners.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let winners: Vec<&String> = won
        .iter()
        .filter(|(_, w)| matches!(w, Ok(true)))
        .map(|(id, _)| id)
        .collect();
    assert!(won.iter().all(|(_, w)| w.is_ok()), "{won:?}");
    assert_eq!(winners.len(), 1, "{won:?}");
    let l = Ledger::open(location).unwrap();
    assert_eq!(
        l.workflow_binding(&key("dose", ""))
            .unwrap()
            .map(|b| b.workflow_id)
            .as_ref(),
        Some(winners[0])
    );
    assert_eq!(
        l.bound_workflow_ids(TARGET, "measles").unwrap(),
        [winners[0].clone()]
    );
}

#[test]
fn racing_runners_never_both_bind() {
    let dir = tempfile::tempdir().unwrap();
    racing_runners_bind_once(&dir.path().join("state.db"));
    if let Some(db) = TestDb::create("wf_race") {
        racing_runners_bind_once(std::path::Path::new(&db.url));
    }
}

#[test]
fn a_binding_whose_time_was_damaged_is_an_error_not_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let l = Ledger::open(&path).unwrap();
    let k = key("dose", "");
    assert!(
        l.bind_workflow(&k, None, &binding("wf-1", "Hello", 0))
            .unwrap()
    );
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE workflow_bindings SET bound_at = 'yesterday'", [])
        .unwrap();
    let e = l.workflow_binding(&k).unwrap_err();
    assert!(matches!(e, LedgerError::BadTime { .. }), "{e:?}");
}

#[test]
fn async_code_binds_through_the_seam() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    rt.block_on(async {
        let l = AsyncLedger::open(path).await.unwrap();
        let k = key("dose", "ha");
        let b = binding("wf-1", "Sannu", 0);
        assert_eq!(l.workflow_binding(&k).await.unwrap(), None);
        assert!(l.bind_workflow(&k, None, &b).await.unwrap());
        assert!(!l.bind_workflow(&k, Some("wf-0"), &b).await.unwrap());
        assert_eq!(l.workflow_binding(&k).await.unwrap(), Some(b));
        assert_eq!(
            l.bound_workflow_ids(TARGET, "measles").await.unwrap(),
            ["wf-1"]
        );
        l.close().await.unwrap();
    });
}

/// After an upgrade: the call placed before it is still there, and a binding is written
/// and read back.
fn upgraded_keeps_calls_and_binds(l: &Ledger) {
    let h = l.history(TARGET, "measles", "r").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h["k1"].state, CallState::Accepted);
    let k = key("dose", "");
    let b = binding("wf-1", "Hello", 0);
    assert!(l.bind_workflow(&k, None, &b).unwrap());
    assert_eq!(l.workflow_binding(&k).unwrap(), Some(b));
    assert_eq!(l.bound_workflow_ids(TARGET, "measles").unwrap(), ["wf-1"]);
}

// Issue 18's migration on SQLite: a version 6 ledger with a call is upgraded to 7 in place.
#[test]
fn a_version_6_ledger_is_upgraded_and_binds_workflows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let version = || -> i64 {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    {
        let mut old = crate::ledger::sqlite::Sqlite::at_version(&path, 6).unwrap();
        old.claim_campaign("measles", "measles.yaml", &[]).unwrap();
        old.start_run("r1", TARGET, "measles", "r", 30.0).unwrap();
        let call = NewCall {
            key: "k1",
            attempt: 1,
            phone: "+2348031234567",
            source: "p.csv",
            row: 2,
            list_values: &crate::ledger::NO_LIST_VALUES,
            language: None,
        };
        old.begin("r1", TARGET, "measles", "r", &[call], &[])
            .unwrap();
        old.settle(
            TARGET,
            &[("k1", 1)],
            CallState::Accepted,
            Some("b1"),
            None,
            &[],
        )
        .unwrap();
    }
    assert_eq!(version(), 6);
    let l = Ledger::open(&path).unwrap();
    assert_eq!((version(), crate::ledger::SCHEMA_VERSION), (9, 9));
    upgraded_keeps_calls_and_binds(&l);
}

// Issue 18's migration on Postgres: a version 4 database with a call is upgraded to 5.
#[test]
fn a_version_4_ledger_is_upgraded_and_binds_workflows() {
    let Some(db) = TestDb::create("wf_upgrade_4") else {
        return;
    };
    let mut c = crate::ledger::postgres::tests::migrated_to(&db, 4);
    c.execute(
        "INSERT INTO runs (id, target, campaign, round, started_at, status)
            VALUES ('r1', $1, 'measles', 'r', '2026-11-01T09:00:00Z', 'done')",
        &[&TARGET],
    )
    .unwrap();
    c.execute(
        "INSERT INTO calls (target, campaign, round, key, attempt, phone, state, batch_id, run_id, created_at, updated_at)
            VALUES ($1, 'measles', 'r', 'k1', 1, '+2348031234567', 'accepted', 'b1', 'r1', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00Z')",
        &[&TARGET],
    )
    .unwrap();
    let l = Ledger::open(std::path::Path::new(&db.url)).unwrap();
    let version: i32 = c
        .query_one("SELECT version FROM outreach_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!((version, crate::ledger::PG_SCHEMA_VERSION), (7, 7));
    upgraded_keeps_calls_and_binds(&l);
}

// Regression: each SQLite step read the version outside its transaction, so processes
// opening a version 6 ledger at once (apply and the callback receiver, after an upgrade of
// outreach) all ran the step to 7, and all but one failed on `workflow_bindings already
// exists`. Now the steps run in one transaction that reads the version again.
#[test]
fn a_version_6_ledger_opened_several_times_at_once_is_upgraded_once() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(crate::ledger::sqlite::Sqlite::at_version(&path, 6).unwrap());
        // Its mark, as the open that made it left it (the mark's own first write is not
        // what this test is about).
        crate::ledger::mark::create(&path, 0).unwrap();
        let start = std::sync::Barrier::new(6);
        let failed: Vec<String> = std::thread::scope(|s| {
            let opens: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        Ledger::open(&path).err().map(|e| e.to_string())
                    })
                })
                .collect();
            opens
                .into_iter()
                .filter_map(|o| o.join().unwrap())
                .collect()
        });
        assert!(failed.is_empty(), "{failed:?}");
        let l = Ledger::open(&path).unwrap();
        assert!(
            l.bind_workflow(&key("dose", ""), None, &binding("wf-1", "Hello", 0))
                .unwrap()
        );
    }
}
