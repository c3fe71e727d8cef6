#!/usr/bin/env bash
# The callback receiver's throughput: a ledger of CALLS accepted calls (an `apply --no-follow`
# against the mock, batches of 100), then one completion callback per batch posted to
# `outreach callbacks` on that SQLite ledger (WAL, full sync), each acknowledged only after
# the commit that holds it. Prints callbacks and outcomes per second, the receiver's memory
# at each tenth of the callbacks, and the ledger's states after (every call final).
#
#   bash bench/callbacks/run.sh BIN [CALLS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: bench/callbacks/run.sh BIN [CALLS] [THREADS]}
CALLS=${2:-100000}
THREADS=${3:-16}
OUT=bench/out/callbacks
mkdir -p "$OUT"
source bench/ports.sh
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

python3 bench/apply/generate.py "$OUT/campaign" "$CALLS" 100 1000 8 >/dev/null
port=$(free_port)
printf 'time_scale: 3600\nrate_limits: {}\n' >"$OUT/mock.yaml"
RUST_LOG=warn "$BIN" mock-server --port "$port" --config "$OUT/mock.yaml" >"$OUT/mock.log" 2>&1 &
PIDS+=($!)
wait_port "$port"
rm -rf "$OUT/campaign/state.db"*
INTRON_API_KEY=bench-key "$BIN" apply "$OUT/campaign/campaign.yaml" --api-url "http://127.0.0.1:$port" \
  --yes --new-ledger --no-follow --json --state "$OUT/campaign/state.db" >"$OUT/apply.json" 2>"$OUT/apply.log"
kill "${PIDS[0]}"; PIDS=()

export OUTREACH_CALLBACK_TOKEN=bench-token-0123456789abcdef
rport=$(free_port)
RUST_LOG=warn "$BIN" callbacks --listen "127.0.0.1:$rport" --state "$OUT/campaign/state.db" \
  >"$OUT/receiver.log" 2>&1 &
RECEIVER=$!
PIDS+=("$RECEIVER")
wait_port "$rport"
python3 bench/callbacks/loadgen.py "$OUT/campaign/state.db" \
  "http://127.0.0.1:$rport/callbacks/$OUTREACH_CALLBACK_TOKEN" "$THREADS" "$RECEIVER" | tee "$OUT/result.json"
kill -TERM "$RECEIVER"; wait "$RECEIVER" || true; PIDS=()
python3 - "$OUT/campaign/state.db" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT state, count(*) FROM calls GROUP BY state ORDER BY state").fetchall()
print("ledger after:", ", ".join(f"{s} {n}" for s, n in rows))
PY
