#!/usr/bin/env bash
# Two builds side by side, alternating run by run so that both see the same machine: plan of a
# 1,000,000-row CSV, apply throughput against the mock (no limit, batches of 100), and
# validate of 2,000 campaign files. Medians of ROUNDS runs each, and new/base ratios (above 1
# means the new build is faster).
#
#   bash bench/compare.sh BASE_BIN NEW_BIN [ROUNDS] [PLAN_ROWS] [APPLY_PATIENTS] [FILES]
#
# BASE_BIN is typically the previous commit's release build (`git worktree add` it and
# `cargo build --release` there); NEW_BIN this checkout's `target/release/outreach`.
# Prints a Markdown block for bench/RESULTS.md; inputs and outputs stay in bench/out/compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/compare.sh BASE_BIN NEW_BIN [ROUNDS] [PLAN_ROWS] [APPLY_PATIENTS] [FILES]}
NEW=${2:?usage: bench/compare.sh BASE_BIN NEW_BIN [ROUNDS] [PLAN_ROWS] [APPLY_PATIENTS] [FILES]}
ROUNDS=${3:-5}
ROWS=${4:-1000000}
PATIENTS=${5:-100000}
FILES=${6:-2000}
OUT=bench/out/compare
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
for b in "$BASE" "$NEW"; do [[ -x $b ]] || { echo "bench: $b is not an executable" >&2; exit 2; }; done

python3 bench/plan/generate.py "$OUT/plan" "$ROWS" >/dev/null
python3 bench/apply/generate.py "$OUT/apply" "$PATIENTS" 100 1000 8 >/dev/null
rm -rf "$OUT/validate"
python3 bench/validate/generate.py "$OUT/validate" "$FILES" >/dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

MOCK_PID=""
cleanup() { if [[ -n $MOCK_PID ]]; then kill "$MOCK_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
source bench/ports.sh

# plan BIN LABEL: prints the wall time and the CPU time (user + system) in seconds.
plan() {
  /usr/bin/time -f "%e %U %S" -o "$OUT/$2.plan.time" "$1" plan "$OUT/plan/campaign.yaml" \
    --out "$OUT/$2.plan.json" --format json >"$OUT/$2.plan.summary.json"
  awk '{printf "%s %.2f", $1, $2 + $3}' "$OUT/$2.plan.time"
}

# apply BIN LABEL: prints accepted calls per second, end to end (a fresh mock and ledger).
apply() {
  local port
  port=$(free_port)
  printf 'time_scale: 3600\nrate_limits: {}\n' >"$OUT/mock.yaml"
  RUST_LOG=warn "$1" mock-server --port "$port" --config "$OUT/mock.yaml" >"$OUT/mock.log" 2>&1 &
  MOCK_PID=$!
  wait_port "$port"
  rm -rf "$OUT/apply/state.db"*
  /usr/bin/time -f "%e" -o "$OUT/$2.apply.time" env INTRON_API_KEY=bench-key "$1" apply \
    "$OUT/apply/campaign.yaml" --api-url "http://127.0.0.1:$port" --yes --new-ledger --no-follow \
    --json --state "$OUT/apply/state.db" >"$OUT/$2.apply.json" 2>"$OUT/$2.apply.log" || true
  kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true; MOCK_PID=""
  python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
wall = float(open(sys.argv[2]).read().split()[0])
assert d['status'] == 'done', d['status']
print(round(d['counts']['accepted'] / wall))" "$OUT/$2.apply.json" "$OUT/$2.apply.time"
}

# validate BIN: prints the wall time and the CPU time (user + system) in seconds.
validate() {
  /usr/bin/time -f "%e %U %S" -o "$OUT/validate.time" "$1" validate "$OUT/validate" >/dev/null
  awk '{printf "%s %.2f", $1, $2 + $3}' "$OUT/validate.time"
}

declare -A R
for r in $(seq "$ROUNDS"); do
  for side in base new; do
    bin=$BASE; [[ $side == new ]] && bin=$NEW
    read -r wall cpu <<<"$(plan "$bin" "$side")"
    R[plan_$side]+="$wall "; R[plan_cpu_$side]+="$cpu "
    R[apply_$side]+="$(apply "$bin" "$side") "
    read -r wall cpu <<<"$(validate "$bin")"
    R[validate_$side]+="$wall "; R[validate_cpu_$side]+="$cpu "
  done
  echo "round $r done" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
cmp -s <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d['summary'], sort_keys=True))" "$OUT/base.plan.summary.json") \
  <(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d['summary'], sort_keys=True))" "$OUT/new.plan.summary.json") \
  && SAME="the same plan summary from both builds" || SAME="**the two builds' plan summaries differ**"

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
row() { # name unit higher_is_better
  local b n ratio
  b=$(echo "${R[$1_base]}" | median); n=$(echo "${R[$1_new]}" | median)
  if [[ $3 == yes ]]; then ratio=$(python3 -c "print(f'{$n / $b:.2f}')"); else ratio=$(python3 -c "print(f'{$b / $n:.2f}')"); fi
  echo "| $1 | $b $2 | $n $2 | **${ratio}x** | ${R[$1_base]}/ ${R[$1_new]}|"
}

cat <<MD
### Two builds alternated: plan, apply, validate ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/compare.sh BASE NEW $ROUNDS $ROWS $PATIENTS $FILES\` (release builds; $ROUNDS rounds, each running
base then new). plan: \`plan campaign.yaml --out plan.json\` of $ROWS rows (bench/plan's rows); apply: \`apply --no-follow\`
of $PATIENTS patients against a fresh mock (no limit; batches of 100, 1000 req/s, concurrency 8) and a fresh SQLite ledger,
accepted calls per second of wall time; validate: $FILES campaign files (bench/validate's). Ratio: how many times faster
the new build is (at least 0.95 required). $SAME.
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER.

| benchmark | base (median) | new (median) | new vs base | all runs (base / new) |
|---|---|---|---|---|
$(row plan s no)
$(row plan_cpu "s CPU" no)
$(row apply calls/s yes)
$(row validate s no)
$(row validate_cpu "s CPU" no)
MD
