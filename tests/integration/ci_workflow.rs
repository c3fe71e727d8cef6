//! The example CI workflow (examples/ci/campaigns.yml, described in docs/gitops.md): its
//! review steps (validate, base plan, plan with what changed, dry run) run as written on the
//! example campaigns in a throw-away git repository; its merge-to-main `apply` step runs as
//! written too, with one change: `--api-url` points it at an in-process mock server instead
//! of the live API. Its safety rules are checked as text.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::apply::{KEY, Mock};
use crate::root;

fn workflow() -> Value {
    let text = std::fs::read_to_string(root().join("examples/ci/campaigns.yml")).unwrap();
    // The loader reports YAML traps (GitHub's bare `on:` key) but still builds the document.
    let (doc, _) = outreach::load::document::load(&text);
    doc.expect("the workflow is YAML").value
}

fn step<'a>(wf: &'a Value, job: &str, id: &str) -> &'a Value {
    wf["jobs"][job]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("step {id} in job {job}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs a step's script as GitHub Actions does (`bash -e -o pipefail`), with `outreach` on
/// the PATH and `RUNNER_TEMP` / `BASE_PLANS` in the directory's `runner/`.
fn run_step(script: &str, dir: &Path) -> std::process::Output {
    run_step_with(script, dir, &[])
}

fn run_step_with(script: &str, dir: &Path, env: &[(&str, &OsStr)]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("outreach");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let runner = dir.join("runner");
    std::fs::create_dir_all(&runner).unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("RUNNER_TEMP", &runner)
        .env("BASE_PLANS", runner.join("base-plans"))
        .env_remove("INTRON_API_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=ci",
            "-c",
            "user.email=ci@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository whose runner directory (made by [`run_step_with`]) stays out of commits.
fn init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join(".git/info/exclude"), "runner/\nvolume/\n").unwrap();
}

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// JSON documents printed one after another (`apply --json` per campaign).
fn documents(bytes: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

/// Opens every calling window to the whole day and drops `not_before`/`not_after`, so that a
/// test of the live `apply` step (which keeps to the schedule, unlike `--mock`) does not
/// depend on the day or the hour it runs at.
fn all_day(campaign: &Path) {
    let text = std::fs::read_to_string(campaign).unwrap();
    let mut out = String::new();
    let mut in_windows = false;
    for line in text.lines() {
        let t = line.trim_start();
        if (in_windows && line.starts_with("    "))
            || t.starts_with("not_before:")
            || t.starts_with("not_after:")
        {
            continue;
        }
        in_windows = line.trim() == "windows:";
        out.push_str(line);
        out.push('\n');
        if in_windows {
            out.push_str("    - {days: [every_day], from: \"00:00\", until: \"24:00\"}\n");
        }
    }
    std::fs::write(campaign, out).unwrap();
}

#[test]
fn review_steps_run_as_written() {
    let wf = workflow();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("campaigns"), &dir.path().join("campaigns"));

    let validate = step(&wf, "review", "validate")["run"].as_str().unwrap();
    assert!(validate.contains("--format github"));
    let out = run_step(validate, dir.path());
    assert!(out.status.success(), "{out:?}");

    let plan = step(&wf, "review", "plan")["run"].as_str().unwrap();
    assert!(plan.contains("--format markdown") && !plan.contains("--unmask"));
    let out = run_step(plan, dir.path());
    assert!(out.status.success(), "{out:?}");
    let comment = std::fs::read_to_string(dir.path().join("plan-comment.md")).unwrap();
    for name in ["measles-reminder-lagos", "refill-followup", "smoke-test"] {
        assert!(
            comment.contains(&format!("### outreach plan: `{name}")),
            "{name} in\n{comment}"
        );
    }
    assert!(comment.contains("(masked)"), "{comment}");
    assert!(
        !comment.contains("What changed"),
        "no base plans, no comparison: {comment}"
    );

    // The dry run: the whole apply of every campaign against the in-process mock.
    let dry = step(&wf, "review", "dry-run")["run"].as_str().unwrap();
    let out = run_step(dry, dir.path());
    assert!(out.status.success(), "{out:?}");
    let runs = documents(&out.stdout);
    assert_eq!(runs.len(), 5, "one summary per campaign: {out:?}");
    for r in &runs {
        assert_eq!(r["format"], "outreach-apply");
        assert_eq!(r["target"], "mock", "{r}");
        assert_eq!(r["status"], "done", "{r}");
        assert!(r["counts"]["accepted"].as_u64().unwrap() > 0, "{r}");
    }
    assert!(dir.path().join("runner/dry-run.db").exists());
}

#[test]
fn the_plan_comment_says_what_the_pull_request_changes() {
    let wf = workflow();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    copy_dir(&root().join("campaigns"), &repo.join("campaigns"));
    init(repo);
    commit(repo, "base");
    git(repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    // The pull request: one more patient, and new words for a variable.
    let csv = repo.join("campaigns/patients/lagos-measles.csv");
    let mut patients = std::fs::read_to_string(&csv).unwrap();
    let first_row = patients.lines().nth(1).unwrap().to_owned();
    assert!(first_row.contains(",0803"), "{first_row}");
    // Another patient: another id, another number of the same length.
    patients.push_str(
        &first_row
            .replacen("LG-0001", "LG-9001", 1)
            .replacen(",0803", ",0813", 1),
    );
    patients.push('\n');
    std::fs::write(&csv, patients).unwrap();
    let refill = repo.join("campaigns/refill-followup.yaml");
    let text = std::fs::read_to_string(&refill).unwrap();
    std::fs::write(&refill, text.replacen("{{", "Hello {{", 1)).unwrap();
    // And the message of the campaign that writes its workflow, nothing else of it.
    let second = repo.join("campaigns/measles-second-dose.yaml");
    let text = std::fs::read_to_string(&second).unwrap();
    assert!(text.contains("is due on [date] at [clinic]"), "{text}");
    std::fs::write(
        &second,
        text.replacen(
            "is due on [date] at [clinic]",
            "is due on [date] at 9am at [clinic]",
            1,
        ),
    )
    .unwrap();
    commit(repo, "the pull request");

    let env = [("GITHUB_BASE_REF", OsStr::new("main"))];
    let base = step(&wf, "review", "base-plan")["run"].as_str().unwrap();
    let out = run_step_with(base, repo, &env);
    assert!(out.status.success(), "{out:?}");
    let plans = repo.join("runner/base-plans");
    for f in [
        "measles-reminder",
        "measles-second-dose",
        "refill-followup",
        "smoke-test",
    ] {
        assert!(plans.join(format!("{f}.yaml.json")).exists(), "{f}");
    }

    let plan = step(&wf, "review", "plan")["run"].as_str().unwrap();
    let out = run_step_with(plan, repo, &env);
    assert!(out.status.success(), "{out:?}");
    let comment = std::fs::read_to_string(repo.join("plan-comment.md")).unwrap();
    let section = |name: &str| {
        let start = comment
            .find(&format!("### outreach plan: `{name}"))
            .unwrap_or_else(|| panic!("{name} in {comment}"));
        let rest = &comment[start + 4..];
        rest[..rest.find("### outreach plan").unwrap_or(rest.len())].to_owned()
    };
    let measles = section("measles-reminder-lagos");
    assert!(measles.contains("#### What changed"), "{measles}");
    assert!(measles.contains("| calls added | 1 |"), "{measles}");
    assert!(measles.contains("(masked)"), "{measles}");
    let refill = section("refill-followup");
    assert!(refill.contains("| calls with changed values |"), "{refill}");
    assert!(
        !refill.contains("| calls with changed values | 0 |"),
        "{refill}"
    );
    assert!(refill.contains("Changed values: `"), "{refill}");
    let smoke = section("smoke-test");
    assert!(smoke.contains("No change from the plan"), "{smoke}");
    // The message change comes first, as a word diff, before the counts.
    let second = section("measles-second-dose-lagos");
    let message = second
        .find("#### Message changed since `measles-second-dose.yaml.json`")
        .unwrap_or_else(|| panic!("{second}"));
    assert!(
        message < second.find("| patient rows read").unwrap(),
        "{second}"
    );
    assert!(second.contains("at **9am at** "), "{second}");
    assert!(second.contains("| `workflow.message` |"), "{second}");
}

#[test]
fn the_merge_apply_step_runs_against_a_mock() {
    let wf = workflow();
    let script = step(&wf, "apply", "apply")["run"].as_str().unwrap();
    let mock = Mock::fast();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    // Before: no campaigns yet. The push adds all three.
    copy_dir(
        &root().join("campaigns/patients"),
        &repo.join("campaigns/patients"),
    );
    init(repo);
    let empty = commit(repo, "patients only");
    for f in [
        "measles-reminder.yaml",
        "measles-second-dose.yaml",
        "refill-followup.yaml",
        "smoke-test.yaml",
    ] {
        let to = repo.join("campaigns").join(f);
        std::fs::copy(root().join("campaigns").join(f), &to).unwrap();
        all_day(&to);
    }
    // Half of the declared workflow's patients in the first run, the rest after the merge
    // of a new message.
    let second = repo.join("campaigns/measles-second-dose.yaml");
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&second, text.replacen("max_calls: 5000", "max_calls: 3", 1)).unwrap();
    let added = commit(repo, "four campaigns");

    let ledger_dir = repo.join("volume");
    std::fs::create_dir_all(&ledger_dir).unwrap();
    let ledger = ledger_dir.join("state.db");
    // The step as written, but aimed at the mock: the one change made to it.
    let aimed = |before: &str, after: &str| {
        let s = script
            .replace("${{ github.event.before }}", before)
            .replace("${{ github.sha }}", after);
        assert_eq!(s.matches("outreach apply ").count(), 2, "{s}");
        let s = s.replace(
            "outreach apply ",
            &format!("outreach apply --api-url {} ", mock.url),
        );
        assert!(!s.contains("${{"), "{s}");
        s
    };
    let run = |before: &str, after: &str, ledger: &Path| {
        run_step_with(
            &aimed(before, after),
            repo,
            &[
                ("INTRON_API_KEY", OsStr::new(KEY)),
                ("OUTREACH_LEDGER", ledger.as_os_str()),
            ],
        )
    };

    let out = run(&empty, &added, &ledger);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let runs = documents(&out.stdout);
    assert_eq!(runs.len(), 4, "{out:?}");
    let accepted: u64 = runs
        .iter()
        .map(|r| r["counts"]["accepted"].as_u64().unwrap())
        .sum();
    for r in &runs {
        assert_eq!(r["target"], mock.url.as_str(), "{r}");
        assert_eq!(r["status"], "done", "{r}");
        assert!(r["counts"]["accepted"].as_u64().unwrap() > 0, "{r}");
    }
    let calls = mock.calls();
    assert!(accepted > 0);
    assert_eq!(calls.len() as u64, accepted, "the mock received the calls");
    let mut keys = calls.clone();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), calls.len(), "each call once");

    // A later push changes a campaign's words: it is in the ledger, so it runs without
    // --new-ledger, and nobody is called again.
    let measles = repo.join("campaigns/measles-reminder.yaml");
    let text = std::fs::read_to_string(&measles).unwrap();
    std::fs::write(&measles, text.replacen("{{", "Hello {{", 1)).unwrap();
    // And the declared workflow's message, nothing else of it: merged, apply creates a new
    // workflow, then calls the patients still due with it.
    let text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(
        &second,
        text.replacen(
            "is due on [date] at [clinic]",
            "is due on [date] at 9am at [clinic]",
            1,
        ),
    )
    .unwrap();
    let modified = commit(repo, "new words");
    let out = run(&added, &modified, &ledger);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let runs = documents(&out.stdout);
    assert_eq!(runs.len(), 2, "only the changed campaigns: {out:?}");
    let by_name = |name: &str| runs.iter().find(|r| r["campaign"] == name).unwrap().clone();
    assert_eq!(by_name("measles-reminder-lagos")["counts"]["sent"], 0);
    assert_eq!(by_name("measles-second-dose-lagos")["counts"]["sent"], 3);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("created workflow `measles-second-dose`"),
        "{log}"
    );
    second_dose_heard_the_new_words_after_the_merge(&mock);
    assert_eq!(mock.calls().len(), calls.len() + 3);

    // The same push with the ledger lost (a new, empty volume): the job stops rather than
    // call everyone again.
    let lost = ledger_dir.join("lost.db");
    let out = run(&added, &modified, &lost);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--new-ledger"),
        "{out:?}"
    );
    assert_eq!(mock.calls().len(), calls.len() + 3, "nobody called twice");
}

/// The declared workflow's calls: the first run's three with the first words, the three
/// after the merge with the new words, each message on one workflow of its own.
fn second_dose_heard_the_new_words_after_the_merge(mock: &Mock) {
    let placed = mock.get("/__mock/calls?limit=1000");
    let heard: Vec<(String, String)> = placed["data"]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.contains("second measles dose"))
        })
        .map(|c| {
            (
                c["workflow_id"].as_str().unwrap().to_owned(),
                c["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(heard.len(), 6, "{placed}");
    let new_words: Vec<&(String, String)> = heard
        .iter()
        .filter(|(_, m)| m.contains(" at 9am at "))
        .collect();
    assert_eq!(
        new_words.len(),
        3,
        "the calls after the merge hear the new words: {heard:?}"
    );
    assert!(
        heard
            .iter()
            .all(|(w, m)| (w == &new_words[0].0) == m.contains(" at 9am at ")),
        "one workflow per message: {heard:?}"
    );
}

#[test]
fn an_invalid_campaign_fails_the_review() {
    let wf = workflow();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("campaigns"), &dir.path().join("campaigns"));
    let broken = dir.path().join("campaigns/measles-reminder.yaml");
    let text = std::fs::read_to_string(&broken).unwrap();
    std::fs::write(&broken, text.replace("accent:", "acent:")).unwrap();
    let out = run_step(
        step(&wf, "review", "validate")["run"].as_str().unwrap(),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error file="));
}

#[test]
fn apply_steps_keep_the_safety_rules() {
    let wf = workflow();
    // Pull requests: the mock only, and no key anywhere in the job.
    let dry = step(&wf, "review", "dry-run")["run"].as_str().unwrap();
    assert!(dry.contains("outreach apply") && dry.contains("--mock"));
    assert!(!wf["jobs"]["review"].to_string().contains("INTRON_API_KEY"));

    // Merge: the key from a secret, a ledger on persistent storage, one apply at a time.
    let job = &wf["jobs"]["apply"];
    let apply = step(&wf, "apply", "apply");
    assert_eq!(
        apply["env"]["INTRON_API_KEY"],
        "${{ secrets.INTRON_API_KEY }}"
    );
    let run = apply["run"].as_str().unwrap();
    assert!(run.contains("--yes") && run.contains("--state \"$OUTREACH_LEDGER\""));
    assert!(!run.contains("--mock") && !run.contains("--unmask"));
    let ledger = job["env"]["OUTREACH_LEDGER"].as_str().unwrap();
    assert!(
        ledger.starts_with('/')
            && !ledger.contains("RUNNER_TEMP")
            && !ledger.contains("GITHUB_WORKSPACE"),
        "the ledger must outlive the runner: {ledger}"
    );
    assert!(job["runs-on"].to_string().contains("self-hosted"));
    assert_eq!(job["concurrency"]["cancel-in-progress"], false);
    // --new-ledger only for campaigns added by the push.
    let lines: Vec<&str> = run.lines().map(str::trim).collect();
    let mut seen = false;
    for (i, l) in lines.iter().enumerate() {
        if l.contains("--new-ledger") {
            seen = true;
            assert_eq!(lines[i - 1], "for f in $(changed A); do", "{run}");
        }
    }
    assert!(seen, "a campaign added by the push is its first run: {run}");
}
