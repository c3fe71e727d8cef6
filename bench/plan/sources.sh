#!/usr/bin/env bash
# The 1M-row plan three ways, on the same rows, runs alternated (issue 19: (b) and (c) within
# 1.5x of (a)):
#   (a) utf8   the patient CSV in UTF-8 (the baseline);
#   (b) where  the same campaign with `where: next_visit between today and today + 30d`,
#              which keeps about half of the rows (bench/plan/generate.py --visits);
#   (c) utf16  the same file saved as UTF-16LE with its byte-order mark (Excel's "Unicode Text").
# Medians of RUNS runs each: wall time, CPU time (user + system), peak RSS.
#
#   bash bench/plan/sources.sh [ROWS] [RUNS]     (OUTREACH_BIN=path: time that binary)
#
# Each variant's last plan is kept in bench/out/plan-sources/plan-VARIANT.json (to compare
# builds with `created_at` removed). Prints a Markdown block for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
RUNS=${2:-5}
OUT=bench/out/plan-sources
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${OUTREACH_BIN:-}" ]; then cargo build --release --locked -q; fi
BIN=${OUTREACH_BIN:-target/release/outreach}
# The rows' `next_visit` dates are relative to the day they were generated on.
STAMP="rows-$ROWS-$(date -u +%F)"
if [ ! -f "$OUT/$STAMP" ]; then
  rm -f "$OUT"/rows-*
  python3 bench/plan/generate.py "$OUT" "$ROWS" --visits
  python3 - "$OUT" <<'PY'
import sys
out = sys.argv[1]
text = open(f"{out}/patients.csv", encoding="utf-8").read()
with open(f"{out}/patients-utf16.csv", "wb") as f:
    f.write(b"\xff\xfe" + text.encode("utf-16-le"))
campaign = open(f"{out}/campaign.yaml").read()
open(f"{out}/campaign-utf8.yaml", "w").write(campaign)
open(f"{out}/campaign-utf16.yaml", "w").write(campaign.replace("patients.csv", "patients-utf16.csv"))
assert "\npatients:" in campaign
open(f"{out}/campaign-where.yaml", "w").write(campaign.replace(
    "\npatients:", '\nwhere: "next_visit between today and today + 30d"\npatients:', 1))
PY
  touch "$OUT/$STAMP"
fi

VARIANTS=(utf8 where utf16)
declare -A R
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  for v in "${VARIANTS[@]}"; do
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$BIN" plan "$OUT/campaign-$v.yaml" \
      --out "$OUT/plan-$v.json" --format json > "$OUT/summary-$v.json"
    R[$v]+="$(awk '{printf "%s/%.2f/%d", $1, $2 + $3, $4 / 1024}' "$OUT/time.txt") "
  done
  echo "round $i done" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# field N of each run (1 wall, 2 CPU, 3 RSS MB), median
median() { tr ' ' '\n' | grep . | cut -d/ -f"$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
summary() {
  python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['summary']
print(f\"{s['rows']} rows, {s['calls']} calls, skipped {dict(sorted(s['skipped_by_reason'].items()))}\")" "$OUT/summary-$1.json"
}
same=$(python3 -c "
import json, sys
a, b = (json.load(open(f'$OUT/summary-{v}.json'))['summary'] for v in ('utf8', 'utf16'))
print('the same summary as UTF-8' if a == b else 'DIFFERENT summaries')")
w8=$(echo "${R[utf8]}" | median 1); c8=$(echo "${R[utf8]}" | median 2)
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
line() { # variant label
  local w c m
  w=$(echo "${R[$1]}" | median 1); c=$(echo "${R[$1]}" | median 2); m=$(echo "${R[$1]}" | median 3)
  echo "| $2 | $w s | $c s | $m MB | **$(ratio "$w" "$w8")x** | **$(ratio "$c" "$c8")x** | ${R[$1]}|"
}
cat <<MD
### plan: $ROWS rows as UTF-8, with a \`where:\` filter, and as UTF-16 ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/plan/sources.sh $ROWS $RUNS\` (\`plan CAMPAIGN --out plan.json --format json\`, release
build; $RUNS rounds, each running utf8, where, utf16 in turn). Rows: bench/plan/generate.py's with a
\`next_visit\` column ($(du -h "$OUT/patients.csv" | cut -f1) UTF-8, $(du -h "$OUT/patients-utf16.csv" | cut -f1) UTF-16).
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER.

| source | median wall | median CPU | median peak RSS | wall vs UTF-8 | CPU vs UTF-8 | all runs (wall s/CPU s/RSS MB) |
|---|---|---|---|---|---|---|
$(line utf8 "(a) UTF-8")
$(line where "(b) UTF-8, \`where: next_visit between today and today + 30d\`")
$(line utf16 "(c) UTF-16LE with BOM")

- (a): $(summary utf8).
- (b): $(summary where).
- (c): $same.
MD
