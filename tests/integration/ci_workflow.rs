//! The example CI workflow (examples/ci/campaigns.yml, described in docs/gitops.md): its
//! review steps run as written on the example campaigns, and its apply steps keep the safety
//! rules. `outreach apply` is not built yet; when it is, run the `dry-run` step here too, and
//! the `apply` step with `--api-url` pointing at a mock server.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::root;

fn workflow() -> Value {
    let text = std::fs::read_to_string(root().join("examples/ci/campaigns.yml")).unwrap();
    // The loader reports YAML traps (GitHub's bare `on:` key) but still builds the document.
    let (doc, _) = outreach::document::load(&text);
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
/// the PATH.
fn run_step(script: &str, dir: &Path) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("outreach");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("INTRON_API_KEY")
        .output()
        .unwrap()
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
