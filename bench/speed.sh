#!/usr/bin/env bash
# Issue 21's table, re-measured in one run: each row side by side with the tool a user would
# pick instead and with the previous build, on the same inputs, runs alternated.
#
#   bash bench/speed.sh BASE_BIN NEW_BIN [RUNS]
#
#   validate  2,000 campaign files (bench/validate/generate.py): BASE, NEW, check-jsonschema
#             (the schema only).
#   plan      200,000 messy rows (bench/plan/messy.py) to a saved plan: BASE, NEW, the Python
#             a user would write (bench/plan/python_plan.py: phonenumbers + Jinja2).
#   plan      1,000,000 messy rows: BASE, NEW (wall, CPU, peak RSS).
#   watch     edit to new plan, 10,000 patients (bench/watch/edit_to_plan.py): BASE, NEW.
#
# Checks first that BASE and NEW agree: the same validation document, and saved plans byte
# for byte the same but `created_at`. Prints a Markdown section for bench/RESULTS.md.
# Inputs and outputs stay in bench/out/speed/.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:?usage: bench/speed.sh BASE_BIN NEW_BIN [RUNS]}
NEW=${2:?usage: bench/speed.sh BASE_BIN NEW_BIN [RUNS]}
RUNS=${3:-5}
OUT=bench/out/speed
mkdir -p "$OUT"
for b in "$BASE" "$NEW"; do [[ -x $b ]] || { echo "bench: $b is not an executable" >&2; exit 2; }; done
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
# The alternatives, in a virtual environment of their own.
if [ ! -x "$OUT/venv/bin/check-jsonschema" ]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q check-jsonschema phonenumbers Jinja2
fi
PY="$OUT/venv/bin/python3"
CJ="$OUT/venv/bin/check-jsonschema"

[ -d "$OUT/validate" ] || python3 bench/validate/generate.py "$OUT/validate" 2000
[ -f "$OUT/messy-200k/patients.csv" ] || python3 bench/plan/messy.py "$OUT/messy-200k" 200000
[ -f "$OUT/messy-1m/patients.csv" ] || python3 bench/plan/messy.py "$OUT/messy-1m" 1000000
FILES=("$OUT"/validate/*.yaml)

# The two builds agree before anything is timed.
"$BASE" validate "$OUT/validate" -f json > "$OUT/validate-base.json" || true
"$NEW" validate "$OUT/validate" -f json > "$OUT/validate-new.json" || true
cmp -s "$OUT/validate-base.json" "$OUT/validate-new.json" || { echo "bench: the builds' validate documents differ" >&2; exit 1; }
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

# run NAME CMD...: appends "wall/cpu/rss_mb" of one run to R[NAME].
declare -A R
run() {
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/time.txt" "$@" > /dev/null
  R[$name]+="$(awk '{printf "%s/%.2f/%d", $1, $2 + $3, $4 / 1024}' "$OUT/time.txt") "
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  run validate_base "$BASE" validate "$OUT/validate"
  run validate_new "$NEW" validate "$OUT/validate"
  run validate_alt "$CJ" --schemafile schemas/campaign.schema.json "${FILES[@]}"
  run plan200k_base "$BASE" plan "$OUT/messy-200k/campaign.yaml" --out "$OUT/messy-200k/plan-base.json" --format json
  run plan200k_new "$NEW" plan "$OUT/messy-200k/campaign.yaml" --out "$OUT/messy-200k/plan-new.json" --format json
  run plan200k_alt "$PY" bench/plan/python_plan.py "$OUT/messy-200k" "$OUT/messy-200k/plan-python.json"
  run plan1m_base "$BASE" plan "$OUT/messy-1m/campaign.yaml" --out "$OUT/messy-1m/plan-base.json" --format json
  run plan1m_new "$NEW" plan "$OUT/messy-1m/campaign.yaml" --out "$OUT/messy-1m/plan-new.json" --format json
  echo "round $i of $RUNS done" >&2
done
# Watch: each build's edits in turn (each run of the script is 20 edits of each kind).
WATCH_EDITS=${WATCH_EDITS:-20}
for side in base new; do
  bin=$BASE; [[ $side == new ]] && bin=$NEW
  python3 bench/watch/edit_to_plan.py --binary "$bin" --edits "$WATCH_EDITS" > "$OUT/watch-$side.md"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep . | cut -d/ -f"$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m() { echo "${R[$1]}" | median "${2:-1}"; }
ratio() { python3 -c "print(f'{$1 / $2:.1f}')"; }
# watch_median SIDE KIND(campaign|patient): the median (ms) from edit_to_plan.py's table.
watch_median() { grep -m1 "^| $2" "$OUT/watch-$1.md" | awk -F'|' '{gsub(/[ ms]/, "", $4); print $4}'; }
met() { python3 -c "print('met' if $1 else 'not met')"; }

vb=$(m validate_base); vn=$(m validate_new); va=$(m validate_alt)
pb=$(m plan200k_base); pn=$(m plan200k_new); pa=$(m plan200k_alt)
lb=$(m plan1m_base); ln=$(m plan1m_new); lbc=$(m plan1m_base 2); lnc=$(m plan1m_new 2)
lbr=$(m plan1m_base 3); lnr=$(m plan1m_new 3)
wcb=$(watch_median base campaign); wcn=$(watch_median new campaign)
wpb=$(watch_median base patient); wpn=$(watch_median new patient)
cat <<MD
### Issue 21's table, re-measured side by side ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/speed.sh BASE NEW $RUNS\` (release builds; $RUNS rounds, each running every
row's commands in turn; medians). Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER.

| work | this build | previous build | the alternative, same run | vs the alternative | vs the previous build | goal |
|---|---:|---:|---:|---:|---:|---|
| validate 2,000 campaign files | $vn s | $vb s | check-jsonschema (schema only) $va s | **$(ratio "$va" "$vn")x** | $(ratio "$vb" "$vn")x | >= 100x: $(met "$va / $vn >= 100") |
| plan 200,000 messy rows to a saved plan | $pn s | $pb s | Python (phonenumbers + Jinja2) $pa s | **$(ratio "$pa" "$pn")x** | $(ratio "$pb" "$pn")x | >= 25x: $(met "$pa / $pn >= 25") |
| plan 1,000,000 messy rows: wall | $ln s | $lb s | | | $(ratio "$lb" "$ln")x | < 2.5 s: $(met "$ln < 2.5") |
| plan 1,000,000 messy rows: CPU | $lnc s | $lbc s | | | $(ratio "$lbc" "$lnc")x | |
| plan 1,000,000 messy rows: peak RSS | $lnr MB | $lbr MB | | | | < 100 MB: $(met "$lnr < 100") |
| watch: a campaign edit, 10,000 patients (median, debounce included) | $wcn ms | $wcb ms | | | $(ratio "$wcb" "$wcn")x | < 120 ms: $(met "$wcn < 120") |
| watch: a patient appended, 10,000 patients | $wpn ms | $wpb ms | | | $(ratio "$wpb" "$wpn")x | < 120 ms: $(met "$wpn < 120") |

- The two builds' validation documents are the same; their saved plans are byte for byte the
  same but \`created_at\`: 200k $(same "$OUT/messy-200k/plan-base.json" "$OUT/messy-200k/plan-new.json"), 1M $(same "$OUT/messy-1m/plan-base.json" "$OUT/messy-1m/plan-new.json").
- All runs (wall s/CPU s/peak RSS MB):
$(for k in validate_new validate_base validate_alt plan200k_new plan200k_base plan200k_alt plan1m_new plan1m_base; do echo "  - $k: ${R[$k]}"; done)
- Watch ($WATCH_EDITS edits of each kind per build, \`bench/watch/edit_to_plan.py\`): this build
$(grep '^| [cp]' "$OUT/watch-new.md" | sed 's/^/  /')
  and the previous build
$(grep '^| [cp]' "$OUT/watch-base.md" | sed 's/^/  /')
MD
