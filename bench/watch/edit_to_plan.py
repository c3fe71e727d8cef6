#!/usr/bin/env python3
"""Edit-to-plan latency of `outreach watch` on a 10,000-patient campaign.

Measures the time from a file written (the write returned) to the watcher's plan of that
file printed (the `run` event whose sha256 is the file's), debounce included. Two kinds of
edit, each repeated: a campaign edit that changes a variable of every call (the largest
diff), and a patient-file edit that appends one patient. Prints a Markdown block for
bench/RESULTS.md.

Usage (from the repository root):

    cargo build --release
    python3 bench/watch/edit_to_plan.py [--binary target/release/outreach] [--edits 20]
"""

import argparse
import hashlib
import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

CAMPAIGN = """version: 1
name: bench-watch
description: {description}
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice: {{accent: yoruba, gender: female}}
round: "2026-12"
patients:
  - file: patients.csv
    default_country: NG
    allowed_countries: [NG]
variables:
  name: "{{{{{helper} first_name}}}}"
  date: "{{{{date appointment_date '%A %-d %B'}}}}"
  clinic: "{{{{clinic}}}}"
tags:
  patient_id: "{{{{patient_id}}}}"
exclude:
  - file: opt-outs.csv
    default_country: NG
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [weekdays], from: "09:00", until: "17:00"}}]
delivery:
  batch_size: 50
"""

NAMES = ["ada", "bola", "chidi", "dayo", "efe", "femi", "gbenga", "halima", "ibrahim", "jide"]
CLINICS = ["Yaba PHC", "Surulere PHC", "Ikeja GH", "Lekki PHC"]


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def patients_csv(n):
    rows = ["patient_id,first_name,phone,appointment_date,clinic"]
    for i in range(n):
        rows.append(
            f"P{i:05},{NAMES[i % len(NAMES)]},0803{i:07},2026-12-{1 + i % 28:02},"
            f"{CLINICS[i % len(CLINICS)]}"
        )
    return "\n".join(rows) + "\n"


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def loadavg():
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Watcher:
    def __init__(self, binary, path, debounce):
        args = [binary, "watch", path, "--format", "json"]
        if debounce is not None:
            args += ["--debounce", str(debounce)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            # Stamped when read, so the main thread's work does not count.
            self.events.put((time.monotonic(), json.loads(line)))

    def wait(self, pred, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                sys.exit("timed out waiting for an event")
            t, event = self.events.get(timeout=left)
            if pred(event):
                return t, event

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(w, edits):
    """Writes each edit, waits for the run that shows it, and returns the latencies in
    milliseconds and the last run event. `done(event, sha)` tells that run."""
    out, last = [], None
    for path, text, done in edits:
        write(path, text)
        t0 = time.monotonic()
        sha = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        t1, last = w.wait(lambda e: e.get("event") == "run" and done(e, sha))
        out.append((t1 - t0) * 1000)
        time.sleep(0.3)  # let the watcher go idle, so each edit is measured alone
    return out, last


def row(kind, samples):
    s = sorted(samples)
    p90 = s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]
    return (f"| {kind} | {len(s)} | {statistics.median(s):.0f} ms | {p90:.0f} ms "
            f"| {s[0]:.0f} ms | {s[-1]:.0f} ms |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default="target/release/outreach")
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--debounce", type=int, default=None,
                    help="milliseconds (default: the tool's default)")
    a = ap.parse_args()

    load_before = loadavg()
    with tempfile.TemporaryDirectory() as d:
        campaign = os.path.join(d, "bench.yaml")
        csv = os.path.join(d, "patients.csv")
        write(csv, patients_csv(a.patients))
        write(os.path.join(d, "opt-outs.csv"), "phone\n08030000007\n")
        write(campaign, CAMPAIGN.format(description="edit 0", helper="title"))

        w = Watcher(a.binary, d, a.debounce)
        _, watching = w.wait(lambda e: e.get("event") == "watching")
        _, first = w.wait(lambda e: e.get("event") == "run")
        calls = first["calls"]

        campaign_edits = [
            (campaign,
             CAMPAIGN.format(description=f"edit {i}", helper="upper" if i % 2 else "title"),
             lambda e, sha: e["sha256"] == sha)
            for i in range(1, a.edits + 1)
        ]
        campaign_ms, last = measure(w, campaign_edits)
        assert last["diff"]["changed"] == calls, "each campaign edit changes every call"

        base = patients_csv(a.patients)
        extra = ""
        patient_edits = []
        for i in range(a.edits):
            extra += f"Q{i:05},zainab,0809{i:07},2026-12-04,Ikeja GH\n"
            patient_edits.append((csv, base + extra,
                                  lambda e, _, n=calls + i + 1: e["calls"] == n))
        patient_ms, last = measure(w, patient_edits)
        assert last["calls"] == calls + a.edits, last["calls"]
        w.stop()

    commit = version(["git", "rev-parse", "--short", "HEAD"])
    print(f"### `outreach watch`: edit-to-plan latency ({datetime.now(timezone.utc):%Y-%m-%d})")
    print()
    print(f"- Machine: {machine()}; {version(['rustc', '--version'])}; build "
          f"`{commit}` ({a.binary}).")
    print(f"- Load average (1, 5, 15 min) before: {load_before}; after: {loadavg()} "
          "(the machine is shared).")
    print(f"- Campaign: {a.patients:,} patients from a CSV ({calls:,} calls), one opt-out "
          f"list. Debounce {watching['debounce_ms']} ms, included in every figure.")
    print("- Measured: file written → the `run` event of that file read from the watcher's "
          "stdout (`--format json`), by `bench/watch/edit_to_plan.py`.")
    print()
    print("| edit | edits | median | p90 | min | max |")
    print("|---|---:|---:|---:|---:|---:|")
    print(row("campaign: a variable of every call changed", campaign_ms))
    print(row("patient file: one patient appended", patient_ms))
    print()
    print("Target: median under 300 ms including the debounce.")


if __name__ == "__main__":
    main()
