//! Issue 14, classes 2 and 3: the SQLite ledger's run lock cannot be sidestepped, its files
//! are never written through a link, and a ledger that lost committed records is refused
//! before anything is sent.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::apply::{Campaign, KEY, Mock, campaign, slow_campaign, text, wait_until};
use crate::outreach;

/// Every number called exactly once, none unknown.
fn assert_exactly_once(mock: &Mock, c: &Campaign) {
    let mut phones: Vec<String> = mock.calls().into_iter().map(|(p, _)| p).collect();
    phones.sort_unstable();
    let mut expected = c.numbers.clone();
    expected.sort_unstable();
    assert_eq!(phones, expected, "every eligible patient exactly once");
}

/// `outreach apply` of the campaign with the ledger at `state`.
pub(crate) fn apply_at(c: &Campaign, state: &Path, url: &str, extra: &[&str]) -> Output {
    outreach()
        .env("INTRON_API_KEY", KEY)
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--in-doubt-grace",
            "0",
            "--api-url",
            url,
            "--state",
        ])
        .arg(state)
        .arg(&c.path)
        .args(extra)
        .output()
        .unwrap()
}

/// An apply started in the background on `state`, slow enough to be caught working.
fn spawn_at(c: &Campaign, state: &Path, url: &str) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("outreach"))
        .env("INTRON_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .env_remove("OUTREACH_DATABASE_URL")
        .args([
            "apply",
            "--yes",
            "--new-ledger",
            "--no-follow",
            "--in-doubt-grace",
            "0",
            "--api-url",
            url,
            "--state",
        ])
        .arg(state)
        .arg(&c.path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Files in `dir` whose name ends with `.lock`.
pub(crate) fn lock_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lock"))
        .collect()
}

pub(crate) fn assert_refused_as_in_use(out: &Output, how: &str) {
    assert_eq!(out.status.code(), Some(2), "{how}: {}", text(out));
    assert!(
        text(out).contains("is in use by another run (pid "),
        "{how}: {}",
        text(out)
    );
}

// A second apply reaching the same database by another path, or after every lock file is
// deleted, is refused while the first runs, and nobody is called twice; the reading and
// pausing commands work meanwhile.
#[test]
fn class_2_a_second_apply_by_any_path_is_refused_while_the_first_runs() {
    let mock = Mock::fast();
    let c = slow_campaign(10, 1);
    let dir = c.dir.path();
    std::fs::create_dir(dir.join("x")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir, dir.join("via")).unwrap();
    let first = spawn_at(&c, &c.state(), &mock.url);
    wait_until(|| !mock.calls().is_empty(), "the first run to place a call");

    let mut paths = vec![("x/../", dir.join("x/../state.db"))];
    #[cfg(unix)]
    paths.push(("a linked directory", dir.join("via/state.db")));
    for (how, path) in &paths {
        assert_refused_as_in_use(&apply_at(&c, path, &mock.url, &[]), how);
    }
    for file in lock_files(dir) {
        std::fs::remove_file(file).unwrap();
    }
    assert_refused_as_in_use(
        &apply_at(&c, &c.state(), &mock.url, &[]),
        "every lock file deleted",
    );

    // status, report, pause and resume read and write while the run holds the lock.
    let status = outreach()
        .args(["status", "--json", "--state"])
        .arg(c.state())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status));
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["runners"][0]["alive"], true, "{s}");
    let report = outreach()
        .args([
            "report",
            "--format",
            "json",
            "--api-url",
            &mock.url,
            "--state",
        ])
        .arg(c.state())
        .arg(&c.path)
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", text(&report));
    let other = crate::apply::other_campaign(&c);
    for command in ["pause", "resume"] {
        let out = outreach()
            .arg(command)
            .arg(&other)
            .arg("--state")
            .arg(c.state())
            .output()
            .unwrap();
        assert!(out.status.success(), "{command}: {}", text(&out));
    }

    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_exactly_once(&mock, &c);
}

// The lock used to be `<ledger>.lock` beside the ledger: a ledger named `x.lock` was
// overwritten by its own lock text.
#[test]
fn class_2_a_ledger_named_x_lock_works() {
    let mock = Mock::fast();
    let c = campaign(3, "");
    let state = c.dir.path().join("x.lock");
    for _ in 0..2 {
        let out = apply_at(&c, &state, &mock.url, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    assert_exactly_once(&mock, &c);
    let status = outreach()
        .args(["status", "--json", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    // Every call recorded in it (the second apply collected their outcomes at its start).
    let recorded: u64 = s["campaigns"][0]["states"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(recorded, 3, "{s}");
}

// A link planted at the database's name, or at the `-wal` or `-shm` SQLite keeps beside it,
// is refused before anything is written through it or sent.
#[cfg(unix)]
#[test]
fn class_2_a_link_planted_at_the_database_or_its_wal_is_refused() {
    let mock = Mock::fast();
    let c = campaign(2, "");
    let dir = c.dir.path();
    let target = dir.join("precious.txt");
    std::fs::write(&target, "not a ledger").unwrap();
    let planted = [
        ("state.db", "state.db"),
        ("w.db-wal", "w.db"),
        ("s.db-shm", "s.db"),
    ];
    for (link, state) in planted {
        std::os::unix::fs::symlink(&target, dir.join(link)).unwrap();
        let out = apply_at(&c, &dir.join(state), &mock.url, &[]);
        assert_eq!(out.status.code(), Some(2), "{link}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("{link} is a symbolic link")),
            "{link}: {}",
            text(&out)
        );
        assert!(!text(&out).contains("not a ledger"), "{}", text(&out));
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a ledger");
    assert!(mock.calls().is_empty());
}

/// `outreach migrate` of the ledger at `state`, with `extra`.
fn migrate(state: &Path, extra: &[&str]) -> Output {
    outreach()
        .args(["migrate", "--state"])
        .arg(state)
        .args(extra)
        .output()
        .unwrap()
}

fn assert_refused_as_lost(out: &Output) {
    assert_eq!(out.status.code(), Some(2), "{}", text(out));
    let said = text(out);
    for words in [
        "has lost records",
        "Nothing was sent",
        "state.db-wal",
        "--accept-lost-records",
    ] {
        assert!(said.contains(words), "{words}: {said}");
    }
}

// Killed mid-run, the calls it recorded live in the `-wal` only; with the `-wal` gone, the
// next apply used to place them again without a word.
#[test]
fn class_3_a_wal_lost_after_a_crash_is_refused_and_nothing_is_sent() {
    let mock = Mock::fast();
    let c = slow_campaign(10, 1);
    let state = c.state();
    let mut first = spawn_at(&c, &state, &mock.url);
    wait_until(|| mock.calls().len() >= 2, "two calls");
    first.kill().unwrap(); // SIGKILL: no checkpoint, no clean close
    first.wait().unwrap();
    let wal = c.dir.path().join("state.db-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the run's records are in the -wal"
    );
    std::fs::remove_file(&wal).unwrap();
    let _ = std::fs::remove_file(c.dir.path().join("state.db-shm"));
    let placed = mock.calls().len();

    assert_refused_as_lost(&apply_at(&c, &state, &mock.url, &[]));
    let status = outreach()
        .args(["status", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(2), "{}", text(&status));
    assert_eq!(mock.calls().len(), placed, "nobody was called again");

    // Accepting the loss is explicit, and then the ledger is used again.
    let accepted = migrate(&state, &["--accept-lost-records"]);
    assert!(accepted.status.success(), "{}", text(&accepted));
    assert!(
        text(&accepted).contains("calls it lost will be placed again"),
        "{}",
        text(&accepted)
    );
    let out = apply_at(&c, &state, &mock.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

// A backup put back over the ledger forgets every call placed since it was taken.
#[test]
fn class_3_an_older_copy_put_back_is_refused_and_nothing_is_sent() {
    let mock = Mock::fast();
    let c = campaign(3, "");
    let state = c.state();
    assert!(migrate(&state, &[]).status.success());
    let backup = c.dir.path().join("backup.db");
    std::fs::copy(&state, &backup).unwrap();
    let out = apply_at(&c, &state, &mock.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_exactly_once(&mock, &c);

    std::fs::copy(&backup, &state).unwrap();
    for companion in ["state.db-wal", "state.db-shm"] {
        let _ = std::fs::remove_file(c.dir.path().join(companion));
    }
    assert_refused_as_lost(&apply_at(&c, &state, &mock.url, &[]));
    assert_exactly_once(&mock, &c);
}
