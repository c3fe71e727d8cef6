//! Sets `cfg(postgres_tests)` when the tests have a Postgres server to run against
//! (`OUTREACH_TEST_DATABASE_URL`), so that without one `cargo test` lists those tests as
//! ignored instead of passing them without running them.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(postgres_ssl_tests)");
    println!("cargo::rerun-if-env-changed=OUTREACH_TEST_PG_SSL_ROOT");
    println!("cargo::rerun-if-env-changed=OUTREACH_TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=OUTREACH_TEST_REQUIRE_POSTGRES");
    let url = std::env::var_os("OUTREACH_TEST_DATABASE_URL").filter(|v| !v.is_empty());
    if url.is_some() {
        println!("cargo::rustc-cfg=postgres_tests");
        // The TLS tests: the server also takes TLS, with a certificate this CA issued.
        if std::env::var_os("OUTREACH_TEST_PG_SSL_ROOT").is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg=postgres_ssl_tests");
        }
    } else if std::env::var_os("OUTREACH_TEST_REQUIRE_POSTGRES").is_some() {
        // CI: the Postgres tests must run, not be ignored.
        println!(
            "cargo::error=OUTREACH_TEST_REQUIRE_POSTGRES is set but OUTREACH_TEST_DATABASE_URL is not: the Postgres tests must run here"
        );
    }
}
