//! `outreach watch` driven for real: the binary watches a temporary directory while the test
//! edits files, and the test reads its JSON-lines events. Assertions are on events, never on
//! durations; waits are generous and end as soon as the awaited event arrives.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::Value;

use crate::{fixture, root};

/// Longer than any run can take on a slow, busy machine; only reached when something is wrong.
const PATIENCE: Duration = Duration::from_secs(60);

struct Watch {
    child: Child,
    events: Receiver<Value>,
    /// Every event read so far, in order.
    seen: Vec<Value>,
}

impl Watch {
    fn start(paths: &[&Path], debounce_ms: u64) -> Watch {
        Watch::start_with(paths, debounce_ms, &[])
    }

    fn start_with(paths: &[&Path], debounce_ms: u64, extra: &[&std::ffi::OsStr]) -> Watch {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("outreach"))
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("INTRON_API_KEY")
            .arg("watch")
            .args(paths)
            .args(["--format", "json", "--debounce", &debounce_ms.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("outreach watch starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON event: {line}: {e}"));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        let mut w = Watch {
            child,
            events,
            seen: Vec::new(),
        };
        w.expect("the watcher to start", |e| e["event"] == "watching");
        w
    }

    /// Waits for the next event that matches, and returns it.
    fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.events.recv_timeout(PATIENCE) {
                Ok(e) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Err(e) => panic!(
                    "waited for {what} ({e}); events so far:\n{}",
                    self.seen
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }

    /// Waits for the plan of `campaign` made from its file as it is now.
    fn expect_run_of_current(&mut self, campaign: &Path) -> Value {
        let sha = outreach::plan::file_digest(campaign).unwrap();
        let name = file_name(campaign);
        self.expect(&format!("a run of {name} with {sha}"), |e| {
            e["event"] == "run" && is_campaign(e, &name) && e["sha256"] == sha.as_str()
        })
    }

    /// Sends Ctrl-C and waits for the watcher to stop.
    fn stop(self) {
        self.stop_with(crate::signals::Signal::Int);
    }

    /// Sends `signal` and waits for the watcher to stop: a clean stop, exit 0.
    fn stop_with(mut self, signal: crate::signals::Signal) {
        crate::signals::send(self.child.id(), signal);
        self.expect("the watcher to stop", |e| e["event"] == "stopped");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{signal:?} is a clean stop: {status}");
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_campaign(e: &Value, name: &str) -> bool {
    e["campaign"].as_str().is_some_and(|c| c.ends_with(name))
}

/// A campaign with patients and opt-outs in `dir`, from the plan fixtures.
fn setup(dir: &Path) -> PathBuf {
    for f in ["csv-robocall.yaml", "patients.csv", "opt-outs.csv"] {
        std::fs::copy(root().join(fixture("plan")).join(f), dir.join(f)).unwrap();
    }
    dir.join("csv-robocall.yaml")
}

fn edit(path: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    text.replace(from, to)
}

/// Saves as vim and many editors do: write a temporary file, then rename it over the original.
fn save_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("yaml.tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn edits_in_place_and_by_rename_give_new_plans_and_invalid_edits_only_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = setup(dir.path());
    let mut w = Watch::start(&[dir.path()], 200);
    let first = w.expect_run_of_current(&campaign);
    assert_eq!(first["first"], true);
    assert_eq!(first["calls"], 3);

    // In place.
    std::fs::write(
        &campaign,
        edit(&campaign, "{{title first_name}}", "{{upper first_name}}"),
    )
    .unwrap();
    let run = w.expect_run_of_current(&campaign);
    assert_eq!(run["first"], false);
    assert_eq!(run["diff"]["changed"], 3, "{run}");
    assert_eq!(run["diff"]["added"], 0);
    let change = &run["diff"]["examples"]["changed"][0];
    assert_eq!(change["changes"][0]["name"], "name");
    assert!(
        change["phone"].as_str().unwrap().contains('*'),
        "masked: {change}"
    );

    // By rename: the watch follows the new file.
    let good = edit(&campaign, "{{upper first_name}}", "{{lower first_name}}");
    save_by_rename(&campaign, &good);
    let run = w.expect_run_of_current(&campaign);
    assert_eq!(run["diff"]["changed"], 3, "{run}");

    // And again by rename, to show the watch survived the first replacement.
    save_by_rename(&campaign, &good.replace("batch_size: 2", "batch_size: 1"));
    let run = w.expect_run_of_current(&campaign);
    assert_eq!(run["batches"], 3);

    // Invalid: diagnostics, and no plan.
    let before_invalid = w.seen.len();
    let valid = std::fs::read_to_string(&campaign).unwrap();
    std::fs::write(&campaign, valid.replace("accent: yoruba", "acent: yoruba")).unwrap();
    let invalid = w.expect("diagnostics", |e| e["event"] == "invalid");
    assert!(is_campaign(&invalid, "csv-robocall.yaml"));
    let codes: Vec<&str> = invalid["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"unknown-key"), "{invalid}");
    assert_eq!(invalid["diagnostics"][0]["line"], 4);

    // Fixed: a plan again, and it is the same as the last good one (nothing was planned from
    // the invalid file).
    std::fs::write(&campaign, &valid).unwrap();
    let run = w.expect_run_of_current(&campaign);
    assert_eq!(run["diff"]["changed"], 0, "{run}");
    assert_eq!(run["diff"]["added"], 0);
    let runs_while_invalid = w.seen[before_invalid..]
        .iter()
        .filter(|e| e["event"] == "run")
        .count();
    assert_eq!(runs_while_invalid, 1, "only the run of the fixed file");

    w.stop();
}

#[test]
fn a_patient_file_edit_shows_the_added_calls() {
    // The campaign is given as a file, and its patients live in another directory of the
    // same repository.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let campaigns = dir.path().join("campaigns");
    let patients = dir.path().join("patients");
    std::fs::create_dir_all(&campaigns).unwrap();
    std::fs::create_dir_all(&patients).unwrap();
    let campaign = setup(&campaigns);
    std::fs::rename(campaigns.join("patients.csv"), patients.join("lagos.csv")).unwrap();
    std::fs::write(
        &campaign,
        edit(
            &campaign,
            "file: patients.csv",
            "file: ../patients/lagos.csv",
        ),
    )
    .unwrap();
    let mut w = Watch::start(&[&campaign], 200);
    let first = w.expect_run_of_current(&campaign);
    assert_eq!(first["calls"], 3);

    let csv = patients.join("lagos.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("P90,zainab,08039990001,2026-12-04,Ikeja GH\n");
    text.push_str("P91,funke,99999,2026-12-04,Ikeja GH\n");
    std::fs::write(&csv, text).unwrap();
    let run = w.expect("a plan with the new patients", |e| {
        e["event"] == "run" && e["calls"] == 4
    });
    let diff = &run["diff"];
    assert_eq!(diff["added"], 1, "{run}");
    assert_eq!(diff["removed"], 0);
    let added = &diff["examples"]["added"][0];
    assert_eq!(added["phone"], "+234******0001", "masked");
    assert_eq!(
        added["variables"]["clinic"], "I*** G***",
        "patient data masked"
    );
    assert_eq!(diff["new_skips"], 1);
    assert_eq!(diff["examples"]["new_skips"][0]["code"], "invalid-phone");
    assert_eq!(
        diff["skip_counts"]["invalid-phone"]["after"],
        diff["skip_counts"]["invalid-phone"]["before"]
            .as_u64()
            .unwrap()
            + 1
    );
    w.stop();
}

#[test]
fn a_burst_of_saves_gives_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = setup(dir.path());
    // A long quiet window: the 50 saves below take far less than a second between them.
    let mut w = Watch::start(&[dir.path()], 1000);
    w.expect_run_of_current(&campaign);
    let base = std::fs::read_to_string(&campaign).unwrap();
    let start = w.seen.len();
    for i in 1..=50 {
        std::fs::write(
            &campaign,
            base.replace(
                "name: plan-csv",
                &format!("name: plan-csv\ndescription: save {i}"),
            ),
        )
        .unwrap();
    }
    w.expect_run_of_current(&campaign);
    // One more save after the burst has settled: its run is the next one, so any run the burst
    // made in between has been printed by then.
    std::fs::write(
        &campaign,
        base.replace("name: plan-csv", "name: plan-csv\ndescription: after"),
    )
    .unwrap();
    w.expect_run_of_current(&campaign);
    let runs: Vec<&Value> = w.seen[start..]
        .iter()
        .filter(|e| e["event"] == "run")
        .collect();
    assert_eq!(
        runs.len(),
        2,
        "one run for the burst, one for the last save: {runs:?}"
    );
    w.stop();
}

#[test]
fn campaigns_added_and_removed_while_watching() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = setup(dir.path());
    let mut w = Watch::start(&[dir.path()], 200);
    w.expect_run_of_current(&campaign);

    let second = dir.path().join("second.yaml");
    save_by_rename(
        &second,
        &edit(&campaign, "name: plan-csv", "name: second-campaign"),
    );
    let added = w.expect("the new campaign", |e| e["event"] == "added");
    assert!(is_campaign(&added, "second.yaml"), "{added}");
    let run = w.expect_run_of_current(&second);
    assert_eq!(run["name"], "second-campaign");
    assert_eq!(run["first"], true);

    // In a new subdirectory.
    let sub = dir.path().join("region");
    std::fs::create_dir(&sub).unwrap();
    for f in ["patients.csv", "opt-outs.csv"] {
        std::fs::copy(dir.path().join(f), sub.join(f)).unwrap();
    }
    let third = sub.join("third.yml");
    save_by_rename(
        &third,
        &edit(&campaign, "name: plan-csv", "name: third-campaign"),
    );
    w.expect("the campaign in the new directory", |e| {
        e["event"] == "added" && is_campaign(e, "third.yml")
    });
    w.expect_run_of_current(&third);

    std::fs::remove_file(&second).unwrap();
    let removed = w.expect("the removal", |e| e["event"] == "removed");
    assert!(is_campaign(&removed, "second.yaml"), "{removed}");

    // The removed campaign is no longer planned; the others still are.
    std::fs::write(&campaign, edit(&campaign, "batch_size: 2", "batch_size: 3")).unwrap();
    w.expect_run_of_current(&campaign);
    let start = w.seen.iter().position(|e| e["event"] == "removed").unwrap();
    assert!(
        !w.seen[start..]
            .iter()
            .any(|e| e["event"] == "run" && is_campaign(e, "second.yaml"))
    );
    w.stop();
}

#[test]
fn a_missing_patient_file_is_watched_for() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = setup(dir.path());
    let csv = dir.path().join("patients.csv");
    let saved = std::fs::read_to_string(&csv).unwrap();
    std::fs::remove_file(&csv).unwrap();
    let mut w = Watch::start(&[dir.path()], 200);
    let invalid = w.expect("diagnostics", |e| e["event"] == "invalid");
    assert!(
        invalid["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "source-missing"),
        "{invalid}"
    );
    std::fs::write(&csv, saved).unwrap();
    let run = w.expect_run_of_current(&campaign);
    assert_eq!(run["calls"], 3);
    w.stop();
}

#[test]
fn a_path_that_does_not_exist_is_an_error() {
    let out = crate::outreach()
        .args(["watch", "tests/fixtures/no-such-dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"));
}

/// Issue 7, acceptance: "a change during a running apply queues one re-run". The apply is
/// slow for real, not by a test-only code path: 40 patients, one per request, at
/// `requests_per_second: 2` take about 20 s, and the edits are made as soon as the apply
/// starts. Nothing here depends on how long anything takes beyond that.
#[test]
fn a_change_during_a_running_apply_queues_one_rerun() {
    const PATIENTS: u64 = 40;
    let c = crate::apply::campaign(
        usize::try_from(PATIENTS).unwrap(),
        "delivery:\n  batch_size: 1\n  requests_per_second: 2\n  concurrency: 1\n",
    );
    let state = c.state();
    let mut w = Watch::start_with(
        &[&c.path],
        50,
        &[
            "--apply".as_ref(),
            "--mock".as_ref(),
            "--state".as_ref(),
            state.as_os_str(),
        ],
    );
    let first = w.expect_run_of_current(&c.path);
    assert_eq!(first["calls"], PATIENTS);
    w.expect("the first apply to start", |e| e["event"] == "applying");

    // Two edits while it runs.
    let edit1 = edit(&c.path, "name: \"{{name}}\"", "name: \"{{upper name}}\"");
    std::fs::write(&c.path, &edit1).unwrap();
    let edit2 = edit(&c.path, "{{upper name}}", "{{lower name}}");
    save_by_rename(&c.path, &edit2);
    let final_sha = outreach::plan::file_digest(&c.path).unwrap();

    // Meanwhile the ledger is locked: a concurrent `outreach apply` on it is refused.
    let other = crate::outreach()
        .args(["apply", "--mock", "--no-follow", "--state"])
        .arg(&state)
        .arg(&c.path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("in use"), "{stderr}");

    let applied = w.expect("the first apply to end", |e| {
        e["event"] == "apply" || e["event"] == "apply-failed"
    });
    assert_eq!(applied["event"], "apply", "{applied}");
    assert_eq!(applied["status"], "done", "{applied}");
    assert_eq!(applied["counts"]["planned"], PATIENTS);
    assert_eq!(applied["counts"]["accepted"], PATIENTS, "{applied}");

    // Exactly one re-run, after the running apply ended, of the file as last saved.
    let after_first_apply = w.seen.len();
    let rerun = w.expect("the re-run", |e| e["event"] == "run");
    assert_eq!(rerun["sha256"], final_sha.as_str(), "{rerun}");
    assert_eq!(rerun["diff"]["changed"], PATIENTS, "{rerun}");
    w.expect("the re-run's apply to start", |e| e["event"] == "applying");
    let second = w.expect("the re-run's apply", |e| {
        e["event"] == "apply" || e["event"] == "apply-failed"
    });
    assert_eq!(second["event"], "apply", "{second}");
    // The same mock and ledger: nobody is called twice.
    assert_eq!(second["counts"]["already_done"], PATIENTS, "{second}");
    assert_eq!(second["counts"]["sent"], 0, "{second}");

    // An invalid save: diagnostics, and nothing applied from it.
    let valid = std::fs::read_to_string(&c.path).unwrap();
    std::fs::write(&c.path, valid.replace("accent: yoruba", "acent: yoruba")).unwrap();
    w.expect("diagnostics", |e| e["event"] == "invalid");
    // A last valid save marks the end: if anything else had been queued, it would show up
    // before this save's run.
    std::fs::write(&c.path, valid.replace("round: \"t1\"", "round: \"t2\"")).unwrap();
    let marker = w.expect_run_of_current(&c.path);
    let later: Vec<&str> = w.seen[after_first_apply..]
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        later,
        ["run", "applying", "apply", "invalid", "run"],
        "one re-run, then nothing applied from the invalid file"
    );
    assert_eq!(
        marker["diff"]["added"], PATIENTS,
        "a new round is new calls"
    );
    w.stop();
}

#[test]
fn apply_requires_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::outreach()
        .arg("watch")
        .arg(dir.path())
        .arg("--apply")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--mock"),
        "{out:?}"
    );
}

// Class 9: SIGTERM and SIGHUP stop a watch as Ctrl-C does, with exit 0.
#[test]
fn class_9_sigterm_and_sighup_stop_a_watch_with_exit_0() {
    for signal in [crate::signals::Signal::Term, crate::signals::Signal::Hup] {
        let dir = tempfile::tempdir().unwrap();
        let campaign = setup(dir.path());
        let mut w = Watch::start(&[dir.path()], 50);
        w.expect_run_of_current(&campaign);
        w.stop_with(signal);
    }
}
