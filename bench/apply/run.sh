#!/usr/bin/env bash
# Apply throughput and pacing against the voicebot mock on loopback, `outreach apply --no-follow`.
#
#   bash bench/apply/run.sh [PACED_PATIENTS] [BULK_PATIENTS] [BULK_RUNS]
#
# PACED_PATIENTS 0 skips (a); OUTREACH_BIN=path measures that binary (no build).
# (a) paced: the mock limits robocalls to 5 requests/s; the campaign asks for 5 requests/s,
#     batch_size 1, concurrency 2: the achieved rate (mock journal) must be >= 98% of 5/s, no 429.
# (b) bulk: no limit on the mock; requests_per_second 1000, batch_size 100, concurrency 8:
#     calls per second end to end, ledger included (target >= 20,000 calls/s), and peak RSS.
# Each run starts a fresh mock (time_scale 3600) and a fresh ledger. Prints Markdown for
# bench/RESULTS.md; raw outputs stay in bench/out/apply/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PACED=${1:-150}
BULK=${2:-100000}
RUNS=${3:-3}
OUT=bench/out/apply
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

# OUTREACH_BIN: measure another build (a saved baseline) instead of building this checkout.
if [[ -n ${OUTREACH_BIN:-} ]]; then
  BIN=$OUTREACH_BIN
else
  cargo build --release --locked -q
  BIN=target/release/outreach
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

MOCK_PID=""
cleanup() { if [[ -n $MOCK_PID ]]; then kill "$MOCK_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

source bench/ports.sh

# start_mock CONFIG_YAML_TEXT
start_mock() {
  PORT=$(free_port)
  printf '%s\n' "$1" > "$OUT/mock.yaml"
  RUST_LOG=warn "$BIN" mock-server --port "$PORT" --config "$OUT/mock.yaml" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!
  wait_port "$PORT"
  URL=http://127.0.0.1:$PORT
}
stop_mock() { kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true; MOCK_PID=""; }

# apply_run DIR LABEL: runs apply under GNU time; leaves summary, journal figures, time.
apply_run() {
  local dir=$1 label=$2
  rm -rf "$dir/state.db"* "$dir/.outreach"
  local s e
  s=$(date +%s.%N)
  INTRON_API_KEY=bench-key /usr/bin/time -f "%e %M" -o "$OUT/$label.time" \
    "$BIN" apply "$dir/campaign.yaml" --api-url "$URL" --yes --new-ledger --no-follow --json \
    --state "$dir/state.db" >"$OUT/$label.json" 2>"$OUT/$label.log" || true
  e=$(date +%s.%N)
  python3 bench/apply/journal.py "$URL" >"$OUT/$label.journal.json"
}

field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# (a) Pacing.
P_RATE=0 P_POSTS=0 P_429=0 P_SPAN=0 P_GAPS=- P_REQ=0 P_RL=0 P_ACC=0 P_STATUS=skipped P_WALL=0 P_KB=0 P_PCT=0
if ((PACED > 0)); then
python3 bench/apply/generate.py "$OUT/paced" "$PACED" 1 5 2
start_mock 'time_scale: 3600
rate_limits: {robocall: 5}'
apply_run "$OUT/paced" paced
stop_mock
P_RATE=$(field "$OUT/paced.journal.json" "d['rate']")
P_POSTS=$(field "$OUT/paced.journal.json" "d['posts']")
P_429=$(field "$OUT/paced.journal.json" "d['rate_limited']")
P_SPAN=$(field "$OUT/paced.journal.json" "d['span_s']")
P_GAPS=$(field "$OUT/paced.journal.json" "f\"{d['min_gap_ms']}–{d['max_gap_ms']}\"")
P_REQ=$(field "$OUT/paced.json" "d['counts']['requests']")
P_RL=$(field "$OUT/paced.json" "d['counts']['rate_limited']")
P_ACC=$(field "$OUT/paced.json" "d['counts']['accepted']")
P_STATUS=$(field "$OUT/paced.json" "d['status']")
read -r P_WALL P_KB <"$OUT/paced.time"
P_PCT=$(python3 -c "print(f'{$P_RATE / 5 * 100:.1f}')")
fi

# (b) Bulk throughput.
python3 bench/apply/generate.py "$OUT/bulk" "$BULK" 100 1000 8
ROWS_B=()
CPS=()
for i in $(seq "$RUNS"); do
  start_mock 'time_scale: 3600
rate_limits: {}'
  apply_run "$OUT/bulk" "bulk-$i"
  stop_mock
  read -r wall kb <"$OUT/bulk-$i.time"
  acc=$(field "$OUT/bulk-$i.json" "d['counts']['accepted']")
  req=$(field "$OUT/bulk-$i.json" "d['counts']['requests']")
  rl=$(field "$OUT/bulk-$i.json" "d['counts']['rate_limited']")
  st=$(field "$OUT/bulk-$i.json" "d['status']")
  span=$(field "$OUT/bulk-$i.journal.json" "d['span_s']")
  cps=$(python3 -c "print(round($acc / $wall))")
  send_cps=$(python3 -c "print(round($acc * ($req - 1) / $req / $span) if $span > 0 else 0)")
  CPS+=("$cps")
  ROWS_B+=("| $i | $st | $acc | $req ($rl) | $wall s | **$cps** | $span s | $send_cps | $((kb / 1024)) MB |")
done
MEDIAN_CPS=$(printf '%s\n' "${CPS[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

cat <<MD
### apply: pacing and throughput against the mock ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/apply/run.sh $PACED $BULK $RUNS\` (release build; \`outreach apply --no-follow --json\` against
\`outreach mock-server --config\` on a free loopback port, \`time_scale: 3600\`; a fresh mock and ledger per run;
the ledger is SQLite WAL with \`synchronous=FULL\`, on the same disk as the checkout).
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER (other engineers' builds share these cores).

**(a) Pacing.** Mock \`rate_limits: {robocall: 5}\`; campaign \`requests_per_second: 5\`, \`batch_size: 1\`,
\`concurrency: 2\`, $PACED patients.

| measure | result | target |
|---|---|---|
| request rate, first to last POST in the mock's journal ((n-1)/span) | **$P_RATE req/s** ($P_PCT% of 5) | at least 4.9 req/s (98%) |
| 429s in the journal / \`rate_limited\` in apply's summary | $P_429 / $P_RL | 0 |
| POSTs in the journal / \`requests\` / \`accepted\` | $P_POSTS / $P_REQ / $P_ACC | $PACED |
| gaps between POSTs (min–max) | $P_GAPS ms | 200 ms |
| span of the POSTs / apply wall time | $P_SPAN s / $P_WALL s | |
| status, peak RSS | $P_STATUS, $((P_KB / 1024)) MB | |

**(b) Throughput.** Mock \`rate_limits: {}\`; campaign \`requests_per_second: 1000\`, \`batch_size: 100\`,
\`concurrency: 8\`, $BULK patients. "End to end" is accepted calls / the apply process's wall time (campaign
validated and planned from the CSV, opt-outs read, ledger opened, every batch written ahead and settled);
"send phase" is calls over the span from the first to the last POST in the mock's journal.

| run | status | accepted | requests (429) | wall time | calls/s end to end | send span | calls/s send phase | peak RSS |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS_B[@]}")

Median end to end: **$MEDIAN_CPS calls/s** (target: at least 20,000 calls/s; ratio $(python3 -c "print(f'{$MEDIAN_CPS / 20000:.2f}')")).
MD
