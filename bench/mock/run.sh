#!/usr/bin/env bash
# Load benchmark of the voicebot mock (POST /voicebot/v1/call, one entry), compared in the same
# run with httpmock's standalone server answering the same canned response, plus the mock's
# memory over a long run. Loopback only. Prints a Markdown block for bench/RESULTS.md.
#
# Environment (defaults in brackets):
#   REQUESTS        requests per throughput run [500000]
#   ROUNDS          alternating rounds mock / httpmock, so both see the same machine load [3]
#   LONG_REQUESTS   requests of the memory run, sent in chunks of CHUNK [5000000]
#   CHUNK           requests per memory sample [1000000]
#   CONNECTIONS     keep-alive connections of the load generator [64]
#   LOADGEN_THREADS worker threads of the load generator [1]
#   MOCK_PORT, HTTPMOCK_PORT  loopback ports [18180, 18181]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/mock
OUT=$ROOT/bench/out/mock
TOOLS=$ROOT/bench/out/tools
REQUESTS=${REQUESTS:-500000}
ROUNDS=${ROUNDS:-3}
LONG_REQUESTS=${LONG_REQUESTS:-5000000}
CHUNK=${CHUNK:-1000000}
CONNECTIONS=${CONNECTIONS:-64}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
MOCK_PORT=${MOCK_PORT:-18180}
HTTPMOCK_PORT=${HTTPMOCK_PORT:-18181}
WARMUP=20000
mkdir -p "$OUT" "$TOOLS"

log() { echo "bench: $*" >&2; }

log "building the mock (release)"
(cd "$ROOT" && cargo build --release -p mock-server --bin voicebot-mock >&2)
MOCK_BIN=$ROOT/target/release/voicebot-mock

log "building the load generator (bench/mock/loadgen, its own workspace)"
(cd "$HERE/loadgen" && CARGO_TARGET_DIR=$ROOT/bench/out/target cargo build --release >&2)
LOADGEN=$ROOT/bench/out/target/release/loadgen

if [[ ! -x $TOOLS/bin/httpmock ]]; then
  log "installing httpmock 0.9.0 --features standalone into bench/out/tools"
  cargo install httpmock --version 0.9.0 --features standalone --locked --root "$TOOLS" >&2
fi
HTTPMOCK_BIN=$TOOLS/bin/httpmock

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Waits until something listens on 127.0.0.1:$1 (at most 10 s).
wait_port() {
  local port=$1 i
  for ((i = 0; i < 100; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "nothing listens on port $port"
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system) of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK_HZ=$(getconf CLK_TCK)

load() { # url label requests
  "$LOADGEN" "$1" "$HERE/body.json" --connections "$CONNECTIONS" --threads "$LOADGEN_THREADS" \
    --requests "$3" --format row --label "$2"
}

start_mock() {
  RUST_LOG=warn "$MOCK_BIN" --port "$MOCK_PORT" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  wait_port "$MOCK_PORT"
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }

ROWS=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# A measured round against a server: a table row with the server's CPU time per request.
round_row() { # url label pid
  local before after row cpu
  before=$(cpu_ticks "$3")
  row=$(load "$1" "$2" "$REQUESTS")
  after=$(cpu_ticks "$3")
  cpu=$(((after - before) * 1000000 / TICK_HZ / REQUESTS))
  echo "$row $cpu |"
}
rps_of() { awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$1"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# 1 and 2. Throughput and latency: both servers up at once, measured in alternating rounds,
# so that changes in the machine's load hit both alike.
start_mock
RUST_LOG=warn "$HTTPMOCK_BIN" --port "$HTTPMOCK_PORT" --mock-files-dir "$HERE/httpmock" \
  --disable-access-log --request-history-limit 1 >"$OUT/httpmock.log" 2>&1 &
HTTPMOCK_PID=$!
PIDS+=("$HTTPMOCK_PID")
wait_port "$HTTPMOCK_PORT"
MOCK_URL=http://127.0.0.1:$MOCK_PORT/voicebot/v1/call
HTTPMOCK_URL=http://127.0.0.1:$HTTPMOCK_PORT/voicebot/v1/call
load "$MOCK_URL" warmup "$WARMUP" >/dev/null
load "$HTTPMOCK_URL" warmup "$WARMUP" >/dev/null
MOCK_RPS=()
HTTPMOCK_RPS=()
for ((round = 1; round <= ROUNDS; round++)); do
  ROW=$(round_row "$MOCK_URL" "voicebot mock (stateful), round $round" "$MOCK_PID")
  ROWS+=("$ROW")
  MOCK_RPS+=("$(rps_of "$ROW")")
  ROW=$(round_row "$HTTPMOCK_URL" "httpmock 0.9.0 standalone (static), round $round" "$HTTPMOCK_PID")
  ROWS+=("$ROW")
  HTTPMOCK_RPS+=("$(rps_of "$ROW")")
  log "round $round done"
done
stop "$MOCK_PID"
stop "$HTTPMOCK_PID"
MOCK_MEDIAN=$(printf '%s\n' "${MOCK_RPS[@]}" | median)
HTTPMOCK_MEDIAN=$(printf '%s\n' "${HTTPMOCK_RPS[@]}" | median)

# 3. Memory over a long run: a fresh mock, RSS sampled after every chunk.
start_mock
RSS_START=$(rss_kb "$MOCK_PID")
MEM_ROWS=()
SENT=0
RSS_FIRST=""
LONG_ROWS=()
while ((SENT < LONG_REQUESTS)); do
  N=$((LONG_REQUESTS - SENT < CHUNK ? LONG_REQUESTS - SENT : CHUNK))
  CPU_BEFORE=$(cpu_ticks "$MOCK_PID")
  ROW=$(load "http://127.0.0.1:$MOCK_PORT/voicebot/v1/call" "long run, requests $((SENT + 1))–$((SENT + N))" "$N")
  LONG_ROWS+=("$ROW")
  SENT=$((SENT + N))
  RSS=$(rss_kb "$MOCK_PID")
  CPU_US=$((($(cpu_ticks "$MOCK_PID") - CPU_BEFORE) * 1000000 / TICK_HZ / N))
  [[ -z $RSS_FIRST ]] && RSS_FIRST=$RSS
  MEM_ROWS+=("| $SENT | $((RSS / 1024)) | $CPU_US |")
  log "$SENT requests, RSS $((RSS / 1024)) MiB"
done
RSS_END=$(rss_kb "$MOCK_PID")
stop "$MOCK_PID"

PER_CALL_ALL=$(((RSS_END - RSS_START) * 1024 / LONG_REQUESTS))
if ((LONG_REQUESTS > CHUNK)); then
  PER_CALL_STEADY=$(((RSS_END - RSS_FIRST) * 1024 / (LONG_REQUESTS - CHUNK)))
else
  PER_CALL_STEADY=$PER_CALL_ALL
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cat <<EOF
## Voicebot mock: load benchmark ($(date -u +%Y-%m-%d), \`bench/mock/run.sh\`)

Machine: $(nproc) cores ($CPU), $(awk '/^MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr), $(rustc --version).
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER (other work shares these cores).
Load: \`bench/mock/loadgen\` (hyper HTTP/1.1 client, $CONNECTIONS keep-alive connections, $LOADGEN_THREADS thread), on the same machine as the server;
\`POST /voicebot/v1/call\` with the seed's one-entry body; $REQUESTS requests per row after $WARMUP warm-up requests,
$ROUNDS alternating rounds per server (both servers up at once).
The mock runs with defaults (\`RUST_LOG=warn\`: no per-request log lines; journal ring of 10,000 entries kept),
so every request is validated, journaled and stored as a call. httpmock answers the same canned body from a static YAML mock
(\`--disable-access-log --request-history-limit 1\`).

Median req/s: **voicebot mock $MOCK_MEDIAN**, httpmock $HTTPMOCK_MEDIAN.

| server | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors | server CPU µs/request |
|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

Memory of the mock over $LONG_REQUESTS requests (one call stored per request; RSS from \`/proc/PID/status\`):
start $((RSS_START / 1024)) MiB, end $((RSS_END / 1024)) MiB: **$PER_CALL_ALL bytes per stored call** overall,
$PER_CALL_STEADY bytes per call after the first $CHUNK (journal ring and buffers already full). Budget: about 300 bytes per call.

Server CPU time per request (user + system, from \`/proc/PID/stat\`) shows whether the cost grows with the stored state;
it depends much less than req/s on what else runs on the machine.

| requests sent | RSS MiB | server CPU µs per request in the last chunk |
|---|---|---|
$(printf '%s\n' "${MEM_ROWS[@]}")

Throughput during the long run:

| chunk | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${LONG_ROWS[@]}")
EOF
