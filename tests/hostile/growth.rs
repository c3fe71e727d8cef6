//! Issue 14, class 19: a valid patient file much larger than memory should need is planned
//! with memory bounded by its rows, not by the file. Each file is planned at two sizes, the
//! larger four times the smaller, and the real binary's peak resident memory (`wait4`'s
//! high-water mark) for the larger must stay within a small margin of the smaller's. What
//! is compared is memory; how long a plan takes is measured in `bench/`, never here.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::cases::campaign_text;

const SMALL: usize = 10 * 1024 * 1024;
/// What the larger file may add to the peak: a u64 per number for dedupe, the allocator's
/// slack; a reader that holds the file (30 MiB more) is far over it.
const MARGIN: u64 = 12 * 1024 * 1024;

/// Plans `file` (already written in `dir`) with the real binary; returns its peak memory.
fn planned_peak(dir: &Path, file: &str) -> u64 {
    std::fs::write(dir.join("c.yaml"), campaign_text(file, None, "{{name}}")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("INTRON_API_KEY")
        .env_remove("OUTREACH_DATABASE_URL")
        .args(["plan", "c.yaml"]);
    let ran = memory_meter::run(&mut cmd, Duration::from_secs(300)).unwrap();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert_eq!(
        ran.status.and_then(|s| s.code()),
        Some(0),
        "{file}: {stdout}{stderr}"
    );
    ran.max_rss
}

/// Writes `rows` patients of about `bytes` in all with `row(i)`, after `head`.
fn write(path: &Path, head: &str, bytes: usize, tail: &str, row: impl Fn(usize) -> String) {
    let mut text = String::with_capacity(bytes + 4096);
    text.push_str(head);
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&row(i));
        i += 1;
    }
    text.push_str(tail);
    std::fs::write(path, text).unwrap();
}

fn phone(i: usize) -> String {
    format!("+234803{:07}", 1_000_000 + i)
}

fn assert_flat(what: &str, small: u64, large: u64) {
    eprintln!("{what}: {} MB, then {} MB", small >> 20, large >> 20);
    assert!(
        large < small + MARGIN,
        "{what}: planning a file four times larger took {} MiB more at peak ({} MiB, then {} MiB)",
        large.saturating_sub(small) >> 20,
        small >> 20,
        large >> 20
    );
}

#[test]
fn class_19_a_large_json_array_is_planned_in_memory_that_does_not_grow_with_it() {
    let note = "n".repeat(2000);
    let mut peaks = Vec::new();
    for bytes in [SMALL, 4 * SMALL] {
        let dir = tempfile::tempdir().unwrap();
        let last = format!(
            "{{\"phone\": \"{}\", \"name\": \"Ada\"}}]",
            phone(9_999_999)
        );
        write(&dir.path().join("p.json"), "[", bytes, &last, |i| {
            format!(
                "{{\"phone\": \"{}\", \"name\": \"Ada\", \"note\": \"{note}\"}},\n",
                phone(i)
            )
        });
        peaks.push(planned_peak(dir.path(), "p.json"));
    }
    assert_flat("p.json", peaks[0], peaks[1]);
}

#[test]
fn class_19_a_large_sparse_csv_is_planned_in_memory_that_does_not_grow_with_it() {
    // A huge header, and rows that are long runs of commas: mostly empty columns.
    let mut head = String::from("phone,name");
    for c in 2..2000 {
        write!(head, ",c{c}").unwrap();
    }
    head.push('\n');
    let commas = ",".repeat(1998);
    let mut peaks = Vec::new();
    for bytes in [SMALL, 4 * SMALL] {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("p.csv"), &head, bytes, "", |i| {
            format!("{},Ada{commas}\n", phone(i))
        });
        peaks.push(planned_peak(dir.path(), "p.csv"));
    }
    assert_flat("p.csv", peaks[0], peaks[1]);
}
