//! Issue 14, class 14: Postgres without TLS. `sslmode=require` was refused (the driver had
//! no TLS), so a managed Postgres service could not hold the ledger. `sslmode` now takes
//! libpq's `disable | prefer | require | verify-ca | verify-full`, and `sslrootcert`.
//!
//! Run against `.ci/postgres.sh`'s server, which takes TLS with a certificate for
//! `localhost` (not for 127.0.0.1) issued by the CA in `OUTREACH_TEST_PG_SSL_ROOT`;
//! `OUTREACH_TEST_PG_SSL_WRONG_ROOT` is a CA that issued nothing. Without them (no openssl)
//! these tests are listed as ignored. Whether the connection is encrypted, as the server
//! sees it, is checked by the unit test `ledger::postgres::tls::tests`.

use crate::apply::text;
use crate::outreach;

/// `outreach migrate` on the test database, reached with `settings` (a connection string,
/// after the database's port, user and name); what it said, and whether it succeeded.
fn migrate(db: &crate::backend::TestDb, settings: &str) -> (bool, String) {
    let rest = db.url.split_once('@').unwrap().1;
    let (hostport, name) = rest.split_once('/').unwrap();
    let port = hostport.rsplit_once(':').unwrap().1;
    let name = name.split('?').next().unwrap();
    let location = format!(
        "port={port} user=postgres password='{}' dbname={name} {settings}",
        crate::backend::DB_PASSWORD
    );
    let out = outreach()
        .args(["migrate", "--state", &location])
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!said.contains(crate::backend::DB_PASSWORD), "{said}");
    (out.status.success(), said)
}

fn root() -> String {
    std::env::var("OUTREACH_TEST_PG_SSL_ROOT").unwrap()
}

fn wrong_root() -> String {
    std::env::var("OUTREACH_TEST_PG_SSL_WRONG_ROOT").unwrap()
}

macro_rules! tls_test {
    (fn $name:ident() $body:block) => {
        #[test]
        #[cfg_attr(
            not(postgres_ssl_tests),
            ignore = "needs a Postgres server that takes TLS: run `bash .ci/postgres.sh cargo test` (with openssl)"
        )]
        fn $name() $body
    };
}

tls_test! {
    fn class_14_verify_full_with_the_right_root_connects() {
        let db = crate::backend::TestDb::create();
        let settings = format!("host=localhost hostaddr=127.0.0.1 sslmode=verify-full sslrootcert='{}'", root());
        let (ok, said) = migrate(&db, &settings);
        assert!(ok, "{said}");
        // The ledger is usable over it: its tables are there.
        assert!(said.contains("host=localhost hostaddr=127.0.0.1"), "{said}");
        assert!(said.contains("sslmode=verify-full"), "{said}");
    }
}

tls_test! {
    fn class_14_require_and_verify_ca_connect_where_the_name_is_not_checked() {
        let db = crate::backend::TestDb::create();
        let (ok, said) = migrate(&db, "host=127.0.0.1 sslmode=require");
        assert!(ok, "require encrypts without checking: {said}");
        let (ok, said) = migrate(&db, &format!("host=127.0.0.1 sslmode=verify-ca sslrootcert='{}'", root()));
        assert!(ok, "verify-ca checks the chain, not the name: {said}");
        let (ok, said) = migrate(&db, "host=127.0.0.1 sslmode=disable");
        assert!(ok, "disable connects plain: {said}");
        let (ok, said) = migrate(&db, "host=127.0.0.1 sslmode=prefer");
        assert!(ok, "{said}");
    }
}

tls_test! {
    fn class_14_a_certificate_from_another_authority_is_refused() {
        let db = crate::backend::TestDb::create();
        for mode in ["verify-full", "verify-ca", "require"] {
            let settings = format!("host=localhost hostaddr=127.0.0.1 sslmode={mode} sslrootcert='{}'", wrong_root());
            let (ok, said) = migrate(&db, &settings);
            assert!(!ok, "{mode}: {said}");
            assert!(said.contains("the server's certificate was not issued by the authorities in sslrootcert"), "{mode}: {said}");
            assert!(said.contains("host=localhost hostaddr=127.0.0.1"), "{mode} names the database: {said}");
        }
    }
}

tls_test! {
    fn class_14_verify_full_refuses_a_host_the_certificate_does_not_name() {
        let db = crate::backend::TestDb::create();
        // The certificate names localhost; 127.0.0.1 and another name are refused.
        for host in ["host=127.0.0.1", "host=db.example hostaddr=127.0.0.1"] {
            let settings = format!("{host} sslmode=verify-full sslrootcert='{}'", root());
            let (ok, said) = migrate(&db, &settings);
            assert!(!ok, "{host}: {said}");
            assert!(said.contains("does not name the host connected to"), "{host}: {said}");
        }
    }
}
