#!/usr/bin/env bash
# A campaign in three languages against the same campaign in one, on the same messy rows
# (bench/plan/messy.py, with a `language` column added: Hausa 40%, Yoruba 35%, English 25%,
# written several ways), with one build, runs alternated so both see the same machine (issue
# 20: the three-language plan stays within 1.3x of the one-language plan). Medians of RUNS
# runs (wall time, CPU time, peak RSS) and the ratio three/one (below 1.3: the goal holds).
#
#   bash bench/plan/languages.sh BIN [ROWS] [RUNS]
#
# Inputs and plans stay in bench/out/plan-languages/. Prints a Markdown block for
# bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: bench/plan/languages.sh BIN [ROWS] [RUNS]}
ROWS=${2:-1000000}
RUNS=${3:-5}
OUT=bench/out/plan-languages
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
[[ -x $BIN ]] || { echo "bench: $BIN is not an executable" >&2; exit 2; }
if [ ! -f "$OUT/rows-$ROWS" ]; then
  rm -f "$OUT"/rows-*
  python3 bench/plan/messy.py "$OUT/messy" "$ROWS"
  python3 - "$OUT" <<'PY'
import os, random, sys
out = sys.argv[1]
r = random.Random(2020)
# How clinics write each language: names, codes, capitals, blanks.
WRITTEN = {"ha": ["Hausa", "HAU", "hausa", " Hausa "], "yo": ["Yoruba", "YOR", "yoruba"],
           "en": ["English", "ENG", "english"]}
with open(os.path.join(out, "messy", "patients.csv")) as src, \
        open(os.path.join(out, "patients.csv"), "w") as dst:
    dst.write(src.readline().rstrip("\n") + ",language\n")
    for line in src:
        roll = r.random()
        language = "ha" if roll < 0.40 else "yo" if roll < 0.75 else "en"
        dst.write(line.rstrip("\n") + "," + r.choice(WRITTEN[language]) + "\n")
os.replace(os.path.join(out, "messy", "opt-outs.csv"), os.path.join(out, "opt-outs.csv"))
one = open(os.path.join(out, "messy", "campaign.yaml")).read()
open(os.path.join(out, "one.yaml"), "w").write(one)
three = one.replace("workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf\nvoice: {accent: yoruba, gender: female}\n", """language:
  column: language
  values: {Hausa: ha, HAU: ha, Yoruba: yo, YOR: yo, English: en, ENG: en}
languages:
  ha:
    voice: {accent: hausa, gender: female}
    workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
  yo:
    voice: {accent: yoruba, gender: female}
    workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
  en:
    voice: {accent: pidgin, gender: female}
    workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
""")
assert three != one
open(os.path.join(out, "three.yaml"), "w").write(three)
PY
  touch "$OUT/rows-$ROWS"
fi

declare -A R
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  for side in one three; do
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$BIN" plan "$OUT/$side.yaml" \
      --out "$OUT/plan-$side.json" --format json > "$OUT/summary-$side.json"
    R[$side]+="$(awk '{printf "%s/%.2f/%d", $1, $2 + $3, $4 / 1024}' "$OUT/time.txt") "
  done
  echo "round $i done" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { tr ' ' '\n' | grep -v '^$' | cut -d/ -f"$1"; }
calls() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["summary"]["calls"], d["summary"]["batches"])' "$1"; }
echo "### plan: three languages against one, $ROWS messy rows ($(date -u +%Y-%m-%d), $(git rev-parse --short HEAD))"
echo
echo "\`bash bench/plan/languages.sh $BIN $ROWS $RUNS\`; load average $LOAD_BEFORE before, $LOAD_AFTER after; medians of $RUNS runs."
echo
echo "| campaign | calls, batches | wall s | CPU s | peak RSS MB |"
echo "|---|---|---:|---:|---:|"
for side in one three; do
  w=$(echo "${R[$side]}" | field 1 | median); c=$(echo "${R[$side]}" | field 2 | median); m=$(echo "${R[$side]}" | field 3 | median)
  declare "W_$side=$w" "C_$side=$c"
  echo "| $side language(s) | $(calls "$OUT/summary-$side.json") | $w | $c | $m |"
done
echo
python3 -c 'import sys; w1,w3,c1,c3=map(float,sys.argv[1:]); print(f"three/one: wall {w3/w1:.2f}x, CPU {c3/c1:.2f}x (goal: at most 1.3x)")' "$W_one" "$W_three" "$C_one" "$C_three"
