//! Claims per second on a shared Postgres ledger with 1, 2 and 4 runners (bench/claims).
//!
//! Each runner is a connection of its own, as a runner process has, and repeats what
//! `apply` does for every batch on a shared ledger: claim up to `--batch` due calls
//! (`FOR UPDATE SKIP LOCKED`, leased), then record them `sending` (the write-ahead
//! transaction, which also marks the work done). Nothing is sent: this measures the
//! database's side of scaling out.
//!
//! `cargo run --release --example claims_bench -- --url postgres://… [--calls 100000]
//! [--batch 50] [--runners 1,2,4]` (the database is emptied of the bench's campaign first).

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark prints its figures"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use outreach::ledger::{Ledger, NewCall};

struct Args {
    url: String,
    calls: usize,
    batch: usize,
    runners: Vec<usize>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        url: std::env::var("OUTREACH_DATABASE_URL").unwrap_or_default(),
        calls: 100_000,
        batch: 50,
        runners: vec![1, 2, 4],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => a.url = value,
            "--calls" => a.calls = value.parse().map_err(|e| format!("--calls: {e}"))?,
            "--batch" => a.batch = value.parse().map_err(|e| format!("--batch: {e}"))?,
            "--runners" => {
                a.runners = value
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|e| format!("--runners: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !a.url.starts_with("postgres") {
        return Err("pass --url postgres://… (or set OUTREACH_DATABASE_URL)".to_owned());
    }
    Ok(a)
}

const TARGET: &str = "bench";
const ZONE: &str = "Africa/Lagos";

/// One runner: claims and records batches until none is left. Returns (claims, calls).
fn runner(url: &str, campaign: &str, batch: usize) -> (u64, u64) {
    let mut ledger = Ledger::open(&PathBuf::from(url)).expect("open the ledger");
    let run = ledger
        .start_run(TARGET, campaign, "", Duration::from_secs(30))
        .expect("start a run");
    let (mut claims, mut calls) = (0, 0);
    loop {
        let got = ledger
            .shared()
            .expect("a Postgres ledger")
            .claim(&run, TARGET, campaign, "", ZONE, batch)
            .expect("claim");
        if got.is_empty() {
            break;
        }
        let phones: Vec<String> = got
            .iter()
            .map(|(k, _)| format!("+23480{:0>8}", &k[k.len().saturating_sub(8)..]))
            .collect();
        let new: Vec<NewCall<'_>> = got
            .iter()
            .zip(&phones)
            .map(|((key, attempt), phone)| NewCall {
                key,
                attempt: *attempt,
                phone,
                source: "bench.csv",
                row: 0,
                list_values: &outreach::ledger::NO_LIST_VALUES,
                language: None,
            })
            .collect();
        let recorded = ledger
            .begin(&run, TARGET, campaign, "", &new)
            .expect("record");
        assert_eq!(recorded.len(), got.len(), "a call was claimed twice");
        claims += 1;
        calls += got.len() as u64;
    }
    ledger
        .end_run(&run, outreach::ledger::RunStatus::Done, "")
        .expect("end the run");
    (claims, calls)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("claims_bench: {e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    println!(
        "claims on Postgres: {} calls in batches of {}, {cores} cores",
        a.calls, a.batch
    );
    println!("runners  seconds  claims/s  calls/s  speed-up");
    let mut base = None;
    for &n in &a.runners {
        let campaign = format!("claims-bench-{n}");
        let keys: Vec<String> = (0..a.calls).map(|i| format!("bench-{n}-{i:08}")).collect();
        let work: Vec<(&str, u32, &str)> = keys.iter().map(|k| (k.as_str(), 1, ZONE)).collect();
        {
            let ledger = Ledger::open(&PathBuf::from(&a.url)).expect("open the ledger");
            ledger
                .shared()
                .expect("a Postgres ledger")
                .enqueue(TARGET, &campaign, "", &work)
                .expect("enqueue");
        }
        let started = Instant::now();
        let results: Vec<(u64, u64)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| s.spawn(|| runner(&a.url, &campaign, a.batch)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("runner"))
                .collect()
        });
        let secs = started.elapsed().as_secs_f64();
        let claims: u64 = results.iter().map(|r| r.0).sum();
        let calls: u64 = results.iter().map(|r| r.1).sum();
        assert_eq!(calls, a.calls as u64, "every call claimed exactly once");
        #[expect(clippy::cast_precision_loss, reason = "rates")]
        let (cps, calls_ps) = (claims as f64 / secs, calls as f64 / secs);
        let base_cps = *base.get_or_insert(cps);
        println!(
            "{n:>7}  {secs:>7.2}  {cps:>8.0}  {calls_ps:>7.0}  {:>7.2}x",
            cps / base_cps
        );
    }
}
