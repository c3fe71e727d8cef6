//! `loadgen URL BODY_FILE [--connections N] [--requests N] [--threads N] [--auth VALUE]`
//!
//! Sends `POST URL` with the body on N keep-alive HTTP/1.1 connections until the request count
//! is reached, records every latency, and prints one JSON line: requests, non-2xx responses,
//! transport errors, elapsed seconds, requests per second and latency percentiles (ms).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

struct Args {
    url: String,
    body: Bytes,
    connections: usize,
    requests: u64,
    threads: usize,
    auth: String,
    /// `json` (default) or `row`: a Markdown table row labelled `label`.
    format: String,
    label: String,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: loadgen URL BODY_FILE [options]");
    let body = Bytes::from(
        std::fs::read(args.next().expect("missing BODY_FILE")).expect("cannot read BODY_FILE"),
    );
    let mut parsed = Args {
        url,
        body,
        connections: 64,
        requests: 100_000,
        threads: 1,
        auth: "Bearer bench-key".to_owned(),
        format: "json".to_owned(),
        label: String::new(),
    };
    while let Some(flag) = args.next() {
        let value = args.next().expect("flag without value");
        match flag.as_str() {
            "--connections" => parsed.connections = value.parse().expect("--connections N"),
            "--requests" => parsed.requests = value.parse().expect("--requests N"),
            "--threads" => parsed.threads = value.parse().expect("--threads N"),
            "--auth" => parsed.auth = value,
            "--format" => parsed.format = value,
            "--label" => parsed.label = value,
            other => panic!("unknown flag {other}"),
        }
    }
    parsed
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    non_2xx: u64,
    errors: u64,
}

async fn connection(
    addr: String,
    uri: hyper::Uri,
    body: Bytes,
    auth: String,
    remaining: std::sync::Arc<std::sync::atomic::AtomicI64>,
) -> Tally {
    let mut tally = Tally::default();
    'reconnect: loop {
        let stream = match TcpStream::connect(&addr).await {
            Ok(stream) => stream,
            Err(_) => {
                tally.errors += 1;
                if remaining.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 {
                    return tally;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
                Ok(pair) => pair,
                Err(_) => {
                    tally.errors += 1;
                    continue;
                }
            };
        tokio::spawn(conn);
        loop {
            if remaining.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 {
                return tally;
            }
            let request = Request::post(uri.clone())
                .header("host", &addr)
                .header("content-type", "application/json")
                .header("authorization", &auth)
                .body(Full::new(body.clone()))
                .expect("request");
            let started = Instant::now();
            let response = match sender.send_request(request).await {
                Ok(response) => response,
                Err(_) => {
                    tally.errors += 1;
                    continue 'reconnect;
                }
            };
            let ok = response.status().is_success();
            if response.into_body().collect().await.is_err() {
                tally.errors += 1;
                continue 'reconnect;
            }
            let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
            tally.latencies_us.push(micros);
            if !ok {
                tally.non_2xx += 1;
            }
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank]) / 1000.0
}

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let uri: hyper::Uri = args.url.parse().expect("URL");
        let authority = uri.authority().expect("URL with host:port").to_string();
        let path: hyper::Uri = uri.path_and_query().map_or("/", |pq| pq.as_str()).parse().expect("path");
        let remaining = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(i64::try_from(args.requests).expect("requests")));
        let started = Instant::now();
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| tokio::spawn(connection(authority.clone(), path.clone(), args.body.clone(), args.auth.clone(), remaining.clone())))
            .collect();
        let mut all = Tally::default();
        for task in tasks {
            let tally = task.await.expect("task");
            all.latencies_us.extend(tally.latencies_us);
            all.non_2xx += tally.non_2xx;
            all.errors += tally.errors;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.latencies_us.sort_unstable();
        let done = all.latencies_us.len();
        let (p50, p90, p99, max) = (
            percentile(&all.latencies_us, 50.0),
            percentile(&all.latencies_us, 90.0),
            percentile(&all.latencies_us, 99.0),
            percentile(&all.latencies_us, 100.0),
        );
        let rps = done as f64 / elapsed;
        if args.format == "row" {
            println!(
                "| {} | {done} | {rps:.0} | {p50:.2} | {p90:.2} | {p99:.2} | {max:.2} | {} | {} |",
                args.label, all.non_2xx, all.errors
            );
        } else {
            println!(
                "{{\"requests\":{done},\"non_2xx\":{},\"errors\":{},\"elapsed_s\":{elapsed:.3},\"rps\":{rps:.0},\"p50_ms\":{p50:.3},\"p90_ms\":{p90:.3},\"p99_ms\":{p99:.3},\"max_ms\":{max:.3}}}",
                all.non_2xx, all.errors
            );
        }
    });
}
