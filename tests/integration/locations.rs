//! Issue 14, class 4: `--state` / `OUTREACH_DATABASE_URL` values that are not what they look
//! like. `POSTGRES://…`, a connection string (`host=… password=…`) and other forms that are
//! not a lower-case URL became SQLite files named after them: each runner got a ledger of
//! its own, and the password was printed and written to disk as a file name. A location is
//! now a Postgres URL (its scheme in any case), a connection string, or a file's path;
//! anything that could be read two ways is refused, and no output, file name or ledger row
//! holds the password.

use std::collections::BTreeSet;
use std::path::Path;

use crate::apply::{Campaign, campaign, text};
use crate::outreach;

const PASSWORD: &str = "pw-9f3a61c2e8";

/// The names in a folder, and in its subfolders.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            out.insert(e.path().strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            }
        }
    }
    out
}

/// Each command that reads a ledger location, run in the campaign's folder (where a file
/// named after the value would appear), with `location` as `--state` or, when `env`, as
/// `OUTREACH_DATABASE_URL`.
fn every_command(c: &Campaign, location: &str, env: bool) -> Vec<(String, std::process::Output)> {
    let campaign = c.path.to_str().unwrap();
    let commands: [&[&str]; 7] = [
        &["status"],
        &["migrate"],
        &["plan", campaign],
        &["apply", "--mock", "--yes", "--no-follow", campaign],
        &["pause", campaign],
        &["report", "--mock", campaign],
        &["purge", "--older-than", "90d", campaign],
    ];
    commands
        .iter()
        .map(|args| {
            let mut cmd = outreach();
            cmd.current_dir(c.dir.path()).args(*args);
            if env {
                cmd.env("OUTREACH_DATABASE_URL", location);
            } else {
                cmd.arg("--state").arg(location);
            }
            (args.join(" "), cmd.output().unwrap())
        })
        .collect()
}

#[test]
fn class_4_ambiguous_ledger_locations_are_refused_without_a_file_or_the_password() {
    let c = campaign(2, "");
    let before = files(c.dir.path());
    let values = [
        format!("mysql://app:{PASSWORD}@db.example/outreach"),
        format!("sqlite:///tmp/{PASSWORD}.db"),
        format!("postgres:app:{PASSWORD}@db.example/outreach"),
        format!("app:{PASSWORD}@db.example/outreach"),
        format!("ledger/password={PASSWORD}.db"),
        format!("host=db.example user=app {PASSWORD}"),
        format!("host=db.example password='{PASSWORD}"),
        format!("host=db.example passwrd={PASSWORD}"),
        format!("host=db.example password={PASSWORD} sslcert=/c.pem"),
        format!("postgres://app:{PASSWORD}@db.example/x?sslmode=verify"),
        format!("postgres://app:12/{PASSWORD}@db.example/x"),
        format!("POSTGRES://app:{PASSWORD}@db@example/x"),
    ];
    for value in &values {
        for env in [false, true] {
            for (command, out) in every_command(&c, value, env) {
                let said = text(&out);
                let how = if env {
                    "OUTREACH_DATABASE_URL"
                } else {
                    "--state"
                };
                assert_eq!(
                    out.status.code(),
                    Some(2),
                    "{command} with {how} {value}: {said}"
                );
                assert!(
                    said.contains("the ledger location (--state or OUTREACH_DATABASE_URL)"),
                    "{command} with {how} {value}: {said}"
                );
                assert!(
                    !said.contains(PASSWORD),
                    "{command} with {how} {value}: {said}"
                );
                assert!(
                    !said.contains("9f3a"),
                    "{command} with {how} {value}: {said}"
                );
            }
        }
        assert_eq!(files(c.dir.path()), before, "a file appeared for {value}");
    }
}

#[test]
fn class_4_a_database_with_an_unreachable_host_is_named_by_its_host_never_its_password() {
    let c = campaign(2, "");
    let before = files(c.dir.path());
    // Port 1 of the loopback: nothing listens, the connection is refused at once.
    let values = [
        (
            format!("POSTGRES://app:{PASSWORD}@127.0.0.1:1/outreach?options=-c%20x%3D{PASSWORD}"),
            "postgres://app@127.0.0.1:1/outreach",
        ),
        (
            format!("PostgreSQL://127.0.0.1:1/outreach?user=app&password={PASSWORD}"),
            "postgresql://app@127.0.0.1:1/outreach",
        ),
        (
            format!(
                "host=127.0.0.1 port=1 dbname=outreach user=app password='{PASSWORD}' options='-c x={PASSWORD}'"
            ),
            "host=127.0.0.1 port=1 dbname=outreach user=app",
        ),
    ];
    for (value, shown) in &values {
        for env in [false, true] {
            for (command, out) in every_command(&c, value, env) {
                let said = text(&out);
                assert_eq!(out.status.code(), Some(2), "{command} {value}: {said}");
                assert!(
                    said.contains(shown),
                    "{command} names the database as {shown}: {said}"
                );
                assert!(!said.contains(PASSWORD), "{command} {value}: {said}");
            }
        }
        assert_eq!(files(c.dir.path()), before, "a file appeared for {value}");
    }
}

/// The test server's database as a connection string, with a password (trust
/// authentication never asks for it).
fn connection_string(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let (userinfo, rest) = rest.split_once('@').unwrap();
    let user = userinfo.split(':').next().unwrap();
    let (hostport, db) = rest.split_once('/').unwrap();
    let db = db.split('?').next().unwrap();
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    format!(
        "host={host} port={port} dbname='{db}' user={user} password='{PASSWORD}' application_name=class-4"
    )
}

#[test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
)]
fn class_4_a_connection_string_and_a_url_in_capitals_reach_one_shared_ledger() {
    {
        let db = crate::backend::TestDb::create();
        let c = campaign(3, "");
        let before = files(c.dir.path());
        let keywords = connection_string(&db.url);
        let upper = db.url.replacen("postgres://", "POSTGRES://", 1);
        let mut seen = Vec::new();
        let mut run = |args: &[&str], location: &str, env: bool| {
            let mut cmd = outreach();
            cmd.current_dir(c.dir.path()).args(args);
            if env {
                cmd.env("OUTREACH_DATABASE_URL", location);
            } else {
                cmd.arg("--state").arg(location);
            }
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", text(&out));
            seen.push(text(&out));
            text(&out)
        };
        let campaign = c.path.to_str().unwrap();
        run(&["migrate"], &keywords, false);
        run(
            &[
                "apply",
                "--mock",
                "--yes",
                "--new-ledger",
                "--no-follow",
                "--json",
                campaign,
            ],
            &keywords,
            true,
        );
        // The URL in capitals reaches the same database: the calls are there.
        let status = run(&["status", "--json"], &upper, false);
        assert!(status.contains("apply-test"), "{status}");
        run(&["status"], &keywords, true);
        run(
            &["report", "--mock", "--format", "json", campaign],
            &upper,
            true,
        );
        run(&["pause", campaign], &keywords, false);
        run(&["resume", campaign], &upper, false);
        let plan = run(&["plan", "--mock", campaign], &keywords, false);
        assert!(
            plan.contains("already"),
            "the plan subtracts the calls placed: {plan}"
        );
        seen.push(db.dump());
        for (i, s) in seen.iter().enumerate() {
            assert!(
                !s.contains(PASSWORD),
                "the password leaked in output {i}: {s}"
            );
            assert!(
                !s.contains(crate::backend::DB_PASSWORD),
                "the password leaked in output {i}: {s}"
            );
        }
        assert_eq!(
            files(c.dir.path()),
            before,
            "a file appeared beside the campaign"
        );
    }
}
