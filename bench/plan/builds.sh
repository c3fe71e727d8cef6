#!/usr/bin/env bash
# Two builds' `plan` side by side on the same rows, runs alternated so that both see the same
# machine: bench/plan/generate.py's clean rows and bench/plan/messy.py's messy ones (issue 21).
# Medians of RUNS runs each (wall time, CPU time, peak RSS), new/base ratios (above 1: the
# new build is faster), and whether the two builds' saved plans are byte for byte the same
# once `created_at` is removed.
#
#   bash bench/plan/builds.sh BASE_BIN NEW_BIN [ROWS] [RUNS]
#
# Inputs and plans stay in bench/out/plan-builds/. Prints a Markdown block for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=${1:?usage: bench/plan/builds.sh BASE_BIN NEW_BIN [ROWS] [RUNS]}
NEW=${2:?usage: bench/plan/builds.sh BASE_BIN NEW_BIN [ROWS] [RUNS]}
ROWS=${3:-1000000}
RUNS=${4:-5}
OUT=bench/out/plan-builds
mkdir -p "$OUT"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
for b in "$BASE" "$NEW"; do [[ -x $b ]] || { echo "bench: $b is not an executable" >&2; exit 2; }; done
if [ ! -f "$OUT/rows-$ROWS" ]; then
  rm -f "$OUT"/rows-*
  python3 bench/plan/generate.py "$OUT/clean" "$ROWS"
  python3 bench/plan/messy.py "$OUT/messy" "$ROWS"
  touch "$OUT/rows-$ROWS"
fi

# same A B: whether two saved plans are the same bytes but for `created_at` (near the start).
same() {
  python3 - "$1" "$2" <<'PY'
import hashlib, re, sys
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(4096)
        head, n = re.subn(rb'"created_at":"[^"]*",', b"", head, count=1)
        assert n == 1, f"{path}: no created_at"
        h.update(head)
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
print("yes" if digest(sys.argv[1]) == digest(sys.argv[2]) else "no")
PY
}

declare -A R
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  for rows in clean messy; do
    for side in base new; do
      bin=$BASE; [[ $side == new ]] && bin=$NEW
      /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$bin" plan "$OUT/$rows/campaign.yaml" \
        --out "$OUT/$rows/plan-$side.json" --format json > "$OUT/$rows/summary-$side.json"
      R[${rows}_$side]+="$(awk '{printf "%s/%.2f/%d", $1, $2 + $3, $4 / 1024}' "$OUT/time.txt") "
    done
  done
  echo "round $i done" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep . | cut -d/ -f"$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
line() { # rows measure(1 wall, 2 CPU) unit
  local b n
  b=$(echo "${R[$1_base]}" | median "$2"); n=$(echo "${R[$1_new]}" | median "$2")
  echo "| $1 | $3 | $b s | $n s | **$(ratio "$b" "$n")x** |"
}
rss() { echo "| $1 | peak RSS | $(echo "${R[$1_base]}" | median 3) MB | $(echo "${R[$1_new]}" | median 3) MB | |"; }
summary() {
  python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['summary']
print(f\"{s['rows']} rows, {s['calls']} calls, skipped {dict(sorted(s['skipped_by_reason'].items()))}\")" "$OUT/$1/summary-new.json"
}
cat <<MD
### plan: two builds on clean and messy rows ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/plan/builds.sh BASE NEW $ROWS $RUNS\` (\`plan campaign.yaml --out plan.json --format
json\`, release builds; $RUNS rounds, each running clean base, clean new, messy base, messy new).
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER.

| rows | measure | base (median) | new (median) | new vs base |
|---|---|---|---|---|
$(line clean 1 wall)
$(line clean 2 CPU)
$(rss clean)
$(line messy 1 wall)
$(line messy 2 CPU)
$(rss messy)

- Saved plans byte for byte the same but \`created_at\`: clean $(same "$OUT/clean/plan-base.json" "$OUT/clean/plan-new.json"), messy $(same "$OUT/messy/plan-base.json" "$OUT/messy/plan-new.json").
- clean: $(summary clean).
- messy: $(summary messy).
- All runs (wall s/CPU s/RSS MB), base / new: clean ${R[clean_base]}/ ${R[clean_new]}; messy ${R[messy_base]}/ ${R[messy_new]}.
MD
