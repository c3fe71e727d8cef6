//! Files that hold patients' numbers, names or credentials (issue 14, class 13): saved plans,
//! reports with --out, the ledger, the mock's journal. Each is 0600, is never written
//! through a symbolic link planted at its path (refused, naming the path, the link's target
//! untouched), and the journal keeps no credential.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::apply::{Mock, apply, campaign, text};
use crate::outreach;
use crate::signals::Server;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A file with other content, readable by all, and a link to it at `link`.
fn plant_link(dir: &Path, link: &Path) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "not yours\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&victim, link).unwrap();
    victim
}

fn assert_untouched(victim: &Path) {
    assert_eq!(std::fs::read_to_string(victim).unwrap(), "not yours\n");
    assert_eq!(mode(victim), 0o644);
}

#[test]
fn class_13_plans_reports_and_the_ledger_are_owner_only() {
    let mock = Mock::fast();
    let c = campaign(3, "");
    let plan = c.dir.path().join("plan.json");
    let out = outreach()
        .arg("plan")
        .arg(&c.path)
        .arg("--out")
        .arg(&plan)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&plan), 0o600, "the saved plan");
    let out = apply(&c, &mock.url, &["--no-follow"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    if c.db.is_none() {
        assert_eq!(mode(&c.state()), 0o600, "the ledger");
    }
    // A report with full numbers, over a file that was readable by everyone.
    let report = c.dir.path().join("report.csv");
    std::fs::write(&report, "old\n").unwrap();
    std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = outreach()
        .args([
            "report",
            "--unmask",
            "--format",
            "csv",
            "--api-url",
            &mock.url,
        ])
        .arg("--state")
        .arg(c.state())
        .arg("--out")
        .arg(&report)
        .arg(&c.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&report), 0o600, "the report");
    assert_ne!(std::fs::read_to_string(&report).unwrap(), "old\n");
}

#[test]
fn class_13_a_link_planted_at_an_output_path_is_refused_and_its_target_untouched() {
    let mock = Mock::fast();
    let c = campaign(2, "");
    let dir = c.dir.path();

    // plan --out
    let plan = dir.join("plan.json");
    let victim = plant_link(dir, &plan);
    let out = outreach()
        .arg("plan")
        .arg(&c.path)
        .arg("--out")
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("plan.json"), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    assert_untouched(&victim);
    std::fs::remove_file(&plan).unwrap();
    std::fs::remove_file(&victim).unwrap();

    // report --unmask --out
    assert_eq!(
        apply(&c, &mock.url, &["--no-follow"]).status.code(),
        Some(0)
    );
    let report = dir.join("report.csv");
    let victim = plant_link(dir, &report);
    let out = outreach()
        .args([
            "report",
            "--unmask",
            "--format",
            "csv",
            "--api-url",
            &mock.url,
        ])
        .arg("--state")
        .arg(c.state())
        .arg("--out")
        .arg(&report)
        .arg(&c.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("report.csv"), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    assert_untouched(&victim);
    std::fs::remove_file(&report).unwrap();
    std::fs::remove_file(&victim).unwrap();

    // init --force --out
    let starter = dir.join("starter.yaml");
    let victim = plant_link(dir, &starter);
    let out = outreach()
        .arg("init")
        .arg(dir)
        .arg("--patients")
        .arg(dir.join("patients.csv"))
        .arg("--out")
        .arg(&starter)
        .args(["--yes", "--force"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("starter.yaml"), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    assert_untouched(&victim);
}

#[test]
fn class_13_the_mocks_journal_is_owner_only_and_keeps_no_credential() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.ndjson");
    let server = Server::outreach_mock(dir.path(), &["--journal", journal.to_str().unwrap()]);
    let secrets = [
        "sekrit-bearer",
        "sekrit-x-api-key",
        "sekrit-cookie",
        "sekrit-proxy",
        "sekrit-query",
        "sekrit-token",
    ];
    let request = format!(
        "GET /voicebot/v1/workflows?page=1&api_key={q}&access_token={t} HTTP/1.1\r\n\
         Host: mock\r\nAuthorization: Bearer {b}\r\nX-Api-Key: {x}\r\nCookie: sid={c}\r\n\
         Proxy-Authorization: Basic {p}\r\nConnection: close\r\n\r\n",
        b = secrets[0],
        x = secrets[1],
        c = secrets[2],
        p = secrets[3],
        q = secrets[4],
        t = secrets[5],
    );
    let answer = server.raw(&request);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let listed =
        server.raw("GET /__mock/journal HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n");
    assert!(listed.contains("/voicebot/v1/workflows"), "{listed}");
    let log = server.stop_with(crate::signals::Signal::Term);
    assert_eq!(log.code, Some(0), "{}", log.stderr);
    let written = std::fs::read_to_string(&journal).unwrap();
    assert!(written.contains("[redacted]"), "{written}");
    for secret in secrets {
        assert!(
            !written.contains(secret),
            "{secret} in the journal file: {written}"
        );
        assert!(
            !listed.contains(secret),
            "{secret} in GET /__mock/journal: {listed}"
        );
        assert!(
            !log.stderr.contains(secret),
            "{secret} in the log: {}",
            log.stderr
        );
    }
    assert_eq!(mode(&journal), 0o600, "the journal");

    // A link at the journal's path: the mock does not start, and says why.
    let link = dir.path().join("linked.ndjson");
    let victim = plant_link(dir.path(), &link);
    let out = outreach()
        .args(["mock-server", "--port", "0", "--journal"])
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("linked.ndjson"), "{}", text(&out));
    assert!(text(&out).contains("symbolic link"), "{}", text(&out));
    assert_untouched(&victim);
}
