"""Posts completion callbacks of the calls in a ledger to `outreach callbacks`, as the service
would: one callback per batch, listing each call (its outreach_key tag, number, outcome).

Usage: python3 loadgen.py LEDGER.db URL THREADS RECEIVER_PID

Prints one JSON object: callbacks and outcomes sent, seconds, per-second rates, and the
receiver's resident memory (VmRSS, KiB) sampled at each tenth of the callbacks.
"""
import http.client
import json
import queue
import sqlite3
import sys
import threading
import time
import urllib.parse

STATUSES = ["VOICE_CALL_PROCESSED", "VOICE_CALL_FAILED", "VOICE_CALL_TIMEOUT"]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def batches(db):
    """Yields (batch_id, [(key, phone)]) in batch order, without holding the whole ledger."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT batch_id, key, phone FROM calls WHERE batch_id IS NOT NULL ORDER BY batch_id"
    )
    current, calls = None, []
    for batch_id, key, phone in rows:
        if batch_id != current and calls:
            yield current, calls
            calls = []
        current = batch_id
        calls.append((key, phone))
    if calls:
        yield current, calls


def payload(batch_id, calls, n):
    request_calls = []
    for i, (key, phone) in enumerate(calls):
        status = STATUSES[(n + i) % 3]
        request_calls.append({
            "call_id": f"{batch_id}-{i}",
            "call_duration_in_seconds": 21 if status == STATUSES[0] else None,
            "processing_status": status,
            "batch_id": batch_id,
            "phone_number": phone,
            "user_tag_identifiers": {"outreach_key": key},
            "reply": "1" if status == STATUSES[0] else None,
        })
    return json.dumps({
        "request_id": batch_id,
        "status": "COMPLETED",
        "integrator_id": "bench",
        "stats": {"total_calls": len(calls)},
        "request_calls": request_calls,
    }).encode()


def main():
    db, url, threads, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    target = urllib.parse.urlsplit(url)
    work = queue.Queue(maxsize=threads * 4)
    done = {"callbacks": 0, "outcomes": 0, "errors": 0}
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        while True:
            item = work.get()
            if item is None:
                return
            body, count = item
            for _ in range(5):
                try:
                    conn.request("POST", target.path, body, {"Content-Type": "application/json"})
                    answer = conn.getresponse()
                    answer.read()
                    if answer.status == 200:
                        break
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            else:
                with lock:
                    done["errors"] += 1
                continue
            with lock:
                done["callbacks"] += 1
                done["outcomes"] += count

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    all_batches = list(b for b, _ in batches(db))
    total = len(all_batches)
    del all_batches
    samples = []
    start = time.monotonic()
    for n, (batch_id, calls) in enumerate(batches(db)):
        work.put((payload(batch_id, calls, n), len(calls)))
        if total >= 10 and n % (total // 10) == 0:
            samples.append(rss_kib(pid))
    for _ in pool:
        work.put(None)
    for t in pool:
        t.join()
    seconds = time.monotonic() - start
    samples.append(rss_kib(pid))
    print(json.dumps({
        "callbacks": done["callbacks"],
        "outcomes": done["outcomes"],
        "errors": done["errors"],
        "seconds": round(seconds, 2),
        "callbacks_per_second": round(done["callbacks"] / seconds, 1),
        "outcomes_per_second": round(done["outcomes"] / seconds, 1),
        "receiver_rss_kib": samples,
    }))


if __name__ == "__main__":
    main()
