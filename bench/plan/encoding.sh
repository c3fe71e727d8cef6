#!/usr/bin/env bash
# The 1M-row plan with its patient CSV saved as UTF-16 (little-endian, with its byte-order
# mark, as Excel's "Unicode Text" is) against the same rows in UTF-8, runs alternated
# (issue 19: within 1.5x of the UTF-8 run).
#
#   bash bench/plan/encoding.sh [ROWS] [RUNS]     (OUTREACH_BIN=path: time that binary)
#
# Prints a Markdown block for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
RUNS=${2:-3}
OUT=bench/out/plan-encoding
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ -z "${OUTREACH_BIN:-}" ]; then cargo build --release --locked -q; fi
BIN=${OUTREACH_BIN:-target/release/outreach}
if [ ! -f "$OUT/rows-$ROWS" ]; then
  rm -f "$OUT"/rows-*
  python3 bench/plan/generate.py "$OUT" "$ROWS"
  python3 - "$OUT" <<'PY'
import sys
out = sys.argv[1]
text = open(f"{out}/patients.csv", encoding="utf-8").read()
with open(f"{out}/patients-utf16.csv", "wb") as f:
    f.write(b"\xff\xfe" + text.encode("utf-16-le"))
campaign = open(f"{out}/campaign.yaml").read()
open(f"{out}/campaign-utf16.yaml", "w").write(campaign.replace("patients.csv", "patients-utf16.csv"))
PY
  touch "$OUT/rows-$ROWS"
fi

utf8=(); utf16=()
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$BIN" plan "$OUT/campaign.yaml" --out "$OUT/plan.json" --format json > "$OUT/summary-utf8.json"
  utf8+=("$(cat "$OUT/time.txt")")
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$BIN" plan "$OUT/campaign-utf16.yaml" --out "$OUT/plan.json" --format json > "$OUT/summary-utf16.json"
  utf16+=("$(cat "$OUT/time.txt")")
done
same=$(python3 -c "import json; a=json.load(open('$OUT/summary-utf8.json'))['summary']; b=json.load(open('$OUT/summary-utf16.json'))['summary']; print('the same summary' if a==b else f'DIFFERENT summaries: {a} / {b}')")
median() { printf '%s\n' "$@" | awk '{print $1}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { printf '%s\n' "$@" | awk '{print $2}' | sort -n | tail -1; }
m8=$(median "${utf8[@]}"); m16=$(median "${utf16[@]}")
ratio=$(python3 -c "print(f'{$m16/$m8:.2f}')")
cat <<MD
### plan: $ROWS-row patient CSV, UTF-16 against UTF-8 ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/plan/encoding.sh $ROWS $RUNS\` (release build, runs alternated). UTF-16:
the same rows saved as UTF-16LE with its byte-order mark ($(du -h "$OUT/patients-utf16.csv" | cut -f1), against $(du -h "$OUT/patients.csv" | cut -f1)); $same.

| source | median wall time | peak RSS | all runs (s, KB) |
|---|---|---|---|
| UTF-8 | ${m8} s | $(( $(peak "${utf8[@]}") / 1024 )) MB | ${utf8[*]} |
| UTF-16 | ${m16} s | $(( $(peak "${utf16[@]}") / 1024 )) MB | ${utf16[*]} |

UTF-16 / UTF-8: **${ratio}x** the wall time (issue 19 asks for at most 1.5x).
MD
