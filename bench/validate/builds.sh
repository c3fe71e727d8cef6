#!/usr/bin/env bash
# Times `outreach validate` of two builds (the previous one and this one) and check-jsonschema
# on the same generated campaign files, run after run in turn, and checks that the two builds
# print the same validation document.
#
#   bash bench/validate/builds.sh BASE_BINARY NEW_BINARY [N_FILES] [RUNS]
#
# Prints a Markdown block for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE=$1
NEW=$2
N=${3:-2000}
RUNS=${4:-5}
OUT=bench/out/validate
mkdir -p "$OUT"
if [ ! -x "$OUT/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q check-jsonschema
fi
CJ="$OUT/venv/bin/check-jsonschema"
rm -rf "$OUT/files"
python3 bench/validate/generate.py "$OUT/files" "$N"
FILES=("$OUT"/files/*.yaml)

"$BASE" validate "$OUT/files" -f json > "$OUT/base.json"
"$NEW" validate "$OUT/files" -f json > "$OUT/new.json"
cmp -s "$OUT/base.json" "$OUT/new.json" || { echo "the two builds disagree" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_it() {
  local s e
  s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
base=(); new=(); cj=()
for _ in $(seq "$RUNS"); do
  base+=("$(time_it "$BASE" validate "$OUT/files")")
  new+=("$(time_it "$NEW" validate "$OUT/files")")
  cj+=("$(time_it "$CJ" --schemafile schemas/campaign.schema.json "${FILES[@]}")")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
b=$(printf '%s\n' "${base[@]}" | median)
n=$(printf '%s\n' "${new[@]}" | median)
c=$(printf '%s\n' "${cj[@]}" | median)
cat <<MD
### validate: the previous build, this one and check-jsonschema ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/validate/builds.sh BASE NEW $N $RUNS\` ($N campaign files, runs in turn, the two builds' JSON documents identical).
Load average (1, 5, 15 min) before: $load_before, after: $load_after.

| validator | median wall | all runs |
|---|---|---|
| outreach, previous build | $(printf '%.3f' "$b") s | ${base[*]} |
| outreach, this build | $(printf '%.3f' "$n") s | ${new[*]} |
| check-jsonschema (schema only) | $(printf '%.3f' "$c") s | ${cj[*]} |

This build vs the previous: **$(printf '%.2f' "$(echo "$b / $n" | bc -l)")x**; vs check-jsonschema: **$(printf '%.1f' "$(echo "$c / $n" | bc -l)")x** (the previous build: $(printf '%.1f' "$(echo "$c / $b" | bc -l)")x).
MD
