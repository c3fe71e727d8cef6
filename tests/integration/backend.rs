//! One apply suite, two ledger backends: each test marked `on_both_backends!` runs once on
//! a SQLite file and once on a fresh Postgres database.
//!
//! The Postgres runs need a server: `OUTREACH_TEST_DATABASE_URL` (a superuser URL; each test
//! creates and drops a database of its own). Without it the build script leaves
//! `cfg(postgres_tests)` unset and they are reported as ignored. `.ci/run` starts a throwaway
//! server with `.ci/postgres.sh` and sets `OUTREACH_TEST_REQUIRE_POSTGRES=1`, so in CI the
//! build fails rather than ignore them when it is missing. Locally:
//! `bash .ci/postgres.sh cargo test --workspace`.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

thread_local! {
    static BACKEND: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
}

/// The backend of the test running on this thread.
pub(crate) fn current() -> Backend {
    BACKEND.with(Cell::get)
}

/// The server's URL. Tests that need it are ignored (`cfg(postgres_tests)` unset) when there
/// is none, so reaching this without one is a mistake in the test.
pub(crate) fn server_url() -> String {
    std::env::var("OUTREACH_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("OUTREACH_TEST_DATABASE_URL is not set: mark this test `cfg_attr(not(postgres_tests), ignore)`")
}

/// Runs a test body with a backend.
pub(crate) fn with(backend: Backend, body: fn()) {
    BACKEND.with(|b| b.set(backend));
    body();
}

/// A database created for one test, dropped with it.
pub(crate) struct TestDb {
    pub url: String,
    name: String,
    admin: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The password in every test database's URL (see [`TestDb::create`]).
pub(crate) const DB_PASSWORD: &str = "db-password-5e1f0c";

impl TestDb {
    pub(crate) fn create() -> TestDb {
        let admin = server_url();
        let name = format!(
            "outreach_t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the test database");
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin.as_str(), String::new()),
        };
        let prefix = match base.rfind('/') {
            Some(i) if base[..i].ends_with('/') => base, // postgres://host (no database)
            Some(i) => &base[..i],
            None => base,
        };
        let mut url = format!("{}/{name}{query}", prefix.trim_end_matches('/'));
        // A password the server (trust auth) never asks for, so that tests can check it is
        // never printed.
        if let Some((scheme, rest)) = url.split_once("://")
            && let Some((user, host)) = rest.split_once('@')
            && !user.contains(':')
        {
            url = format!("{scheme}://{user}:{DB_PASSWORD}@{host}");
        }
        TestDb { url, name, admin }
    }

    /// Every row of the ledger's tables, as text (what a leak check reads).
    pub(crate) fn dump(&self) -> String {
        const TABLES: [&str; 5] = ["runs", "calls", "pauses", "work", "rate_budget"];
        let mut c = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect");
        let mut out = String::new();
        // A ledger no run ever opened has no tables: nothing in it. Otherwise every table
        // must be there (a renamed one would hide its rows from the leak checks).
        let existing: i64 = c
            .query_one(
                "SELECT count(*) FROM unnest($1::text[]) AS t(name) WHERE to_regclass(name) IS NOT NULL",
                &[&TABLES.as_slice()],
            )
            .expect("dump")
            .get(0);
        if existing == 0 {
            return String::new();
        }
        for table in TABLES {
            let rows = c
                .query(&format!("SELECT t::text FROM {table} t"), &[])
                .expect("dump");
            for r in rows {
                out.push_str(r.get::<_, &str>(0));
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The ledger location for a test's campaign directory: a SQLite file in it, or a fresh
/// Postgres database.
pub(crate) fn ledger_for(dir: &std::path::Path) -> (PathBuf, Option<TestDb>) {
    match current() {
        Backend::Sqlite => (dir.join("state.db"), None),
        Backend::Postgres => {
            let db = TestDb::create();
            (PathBuf::from(&db.url), Some(db))
        }
    }
}

/// Runs a test on both backends: `mod name { fn sqlite(); fn postgres(); }`.
#[macro_export]
macro_rules! on_both_backends {
    (fn $name:ident() $body:block) => {
        mod $name {
            #[expect(
                clippy::allow_attributes,
                reason = "a body need not use its module's items, so the import is unused in some expansions and not others: `expect` would fail where it is used"
            )]
            #[allow(unused_imports, reason = "see the `expect` above")]
            use super::*;
            fn body() $body
            #[test]
            fn sqlite() {
                $crate::backend::with($crate::backend::Backend::Sqlite, body);
            }
            #[test]
            #[cfg_attr(
                not(postgres_tests),
                ignore = "needs a Postgres server: set OUTREACH_TEST_DATABASE_URL, or run `bash .ci/postgres.sh cargo test --workspace`"
            )]
            fn postgres() {
                $crate::backend::with($crate::backend::Backend::Postgres, body);
            }
        }
    };
}
