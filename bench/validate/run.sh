#!/usr/bin/env bash
# Times `outreach validate` against check-jsonschema (the Python reference validator) on the
# same 2,000 generated campaign files with the same schema, in one run.
#
#   bash bench/validate/run.sh [N_FILES] [RUNS]
#
# Prints a Markdown block for bench/RESULTS.md. check-jsonschema is installed with pip into
# a virtualenv under bench/out/ (git-ignored). outreach does strictly more work per file
# (the schema plus the semantic rules, which read each campaign's patient-file headers).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000}
RUNS=${2:-5}
OUT=bench/out/validate
mkdir -p "$OUT"

cargo build --release --locked -q
BIN=target/release/outreach

if [ ! -x "$OUT/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q check-jsonschema
fi
CJ="$OUT/venv/bin/check-jsonschema"

rm -rf "$OUT/files"
python3 bench/validate/generate.py "$OUT/files" "$N"
FILES=("$OUT"/files/*.yaml)

# Both must agree that every file is valid before timing means anything.
"$BIN" validate "$OUT/files" -f json > "$OUT/outreach.json"
"$CJ" --schemafile schemas/campaign.schema.json "${FILES[@]}" > "$OUT/cj.txt"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_it() {
  local s e
  s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}

ours=(); theirs=()
for _ in $(seq "$RUNS"); do
  ours+=("$(time_it "$BIN" validate "$OUT/files")")
  theirs+=("$(time_it "$CJ" --schemafile schemas/campaign.schema.json "${FILES[@]}")")
done
o=$(printf '%s\n' "${ours[@]}" | median)
t=$(printf '%s\n' "${theirs[@]}" | median)
ratio=$(echo "$t / $o" | bc -l)

cat <<MD
### validate: outreach vs check-jsonschema ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/validate/run.sh $N $RUNS\` ($N campaign files, median of $RUNS runs each, same schema, same files)

| validator | version | median wall time | per file |
|---|---|---|---|
| outreach validate (schema + semantic rules) | $("$BIN" --version | cut -d' ' -f2) | $(printf '%.3f' "$o") s | $(echo "$o * 1000000 / $N" | bc -l | xargs printf '%.0f') µs |
| check-jsonschema (schema only) | $("$CJ" --version | awk '{print $NF}') | $(printf '%.3f' "$t") s | $(echo "$t * 1000000 / $N" | bc -l | xargs printf '%.0f') µs |

outreach is **$(printf '%.1f' "$ratio")x** faster (target: at least 20x).
All runs: outreach ${ours[*]}; check-jsonschema ${theirs[*]}.
MD
