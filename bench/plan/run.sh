#!/usr/bin/env bash
# Times `outreach plan --out` on a generated 1,000,000-row patient CSV and measures its peak
# memory (GNU time's maximum resident set size).
#
#   bash bench/plan/run.sh [ROWS] [RUNS]     (OUTREACH_BIN=path: time that binary)
#
# Prints a Markdown block for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
RUNS=${2:-3}
OUT=bench/out/plan
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

# OUTREACH_BIN: time another build (a baseline) instead of building this checkout.
if [ -z "${OUTREACH_BIN:-}" ]; then cargo build --release --locked -q; fi
BIN=${OUTREACH_BIN:-target/release/outreach}
if [ ! -f "$OUT/rows-$ROWS" ]; then
  rm -f "$OUT"/rows-*
  python3 bench/plan/generate.py "$OUT" "$ROWS"
  touch "$OUT/rows-$ROWS"
fi

results=()
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$BIN" plan "$OUT/campaign.yaml" --out "$OUT/plan.json" --format json > "$OUT/summary.json"
  results+=("$(cat "$OUT/time.txt")")
done
summary=$(python3 -c "import json; s=json.load(open('$OUT/summary.json'))['summary']; print(f\"{s['rows']} rows read, {s['calls']} calls in {s['batches']} batches, {s['skipped']} skipped: {dict(s['skipped_by_reason'])}\")")
median_s=$(printf '%s\n' "${results[@]}" | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
max_kb=$(printf '%s\n' "${results[@]}" | awk '{print $2}' | sort -n | tail -1)
size=$(du -h "$OUT/plan.json" | cut -f1)
csv=$(du -h "$OUT/patients.csv" | cut -f1)

cat <<MD
### plan: $ROWS-row patient CSV ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/plan/run.sh $ROWS $RUNS\` (\`outreach plan campaign.yaml --out plan.json\`, release build, $RUNS runs)

| measure | result | target |
|---|---|---|
| median wall time | ${median_s} s | under 5 s |
| peak RSS (largest of the runs) | $((max_kb / 1024)) MB | under 200 MB |

Input: $csv CSV (3% invalid numbers, 2% duplicates, 1% opted out, five ways of writing a number). Output: $size plan. $summary.
All runs (seconds, KB): ${results[*]}.
MD
