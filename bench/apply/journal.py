"""Reads the mock's journal (GET /__mock/journal) and prints figures of the call requests.

Usage: python3 journal.py URL
Prints JSON: posts, statuses, rate_limited (429s), first, last, span_s, rate (requests per
second between the first and the last POST: (posts - 1) / span).
"""
import json
import sys
import urllib.request
from datetime import datetime


def ts(s):
    # 2026-11-26T12:15:10.417Z, or with more fraction digits
    s = s.rstrip("Z")
    if "." in s:
        head, frac = s.split(".")
        s = head + "." + (frac + "000000")[:6]
    return datetime.fromisoformat(s).timestamp()


def main():
    url = sys.argv[1]
    with urllib.request.urlopen(f"{url}/__mock/journal?limit=100000") as r:
        doc = json.load(r)["data"]
    posts = [e for e in doc["entries"] if e["method"] == "POST" and e["path"] == "/voicebot/v1/call"]
    times = sorted(ts(e["time"]) for e in posts)
    statuses = {}
    for e in posts:
        statuses[str(e["status"])] = statuses.get(str(e["status"]), 0) + 1
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    gaps = [b - a for a, b in zip(times, times[1:])]
    print(json.dumps({
        "posts": len(posts),
        "dropped": doc.get("dropped", 0),
        "statuses": statuses,
        "rate_limited": statuses.get("429", 0),
        "span_s": round(span, 4),
        "rate": round((len(times) - 1) / span, 4) if span > 0 else None,
        "max_gap_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "min_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
    }))


if __name__ == "__main__":
    main()
