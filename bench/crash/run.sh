#!/usr/bin/env bash
# The crash test at full size: `sigkill_at_random_moments_never_calls_anyone_twice` with 2,000
# patients and 25 SIGKILLs at random moments, a 10% fault mix on the mock, then runs of apply
# until it finishes; passes when every patient was called exactly once.
#
#   bash bench/crash/run.sh [PATIENTS] [KILLS]
#
# Release test build. Prints a Markdown block for bench/RESULTS.md; the test's output stays in
# bench/out/crash/.
set -uo pipefail
cd "$(dirname "$0")/../.."
PATIENTS=${1:-2000}
KILLS=${2:-25}
OUT=bench/out/crash
mkdir -p "$OUT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

cargo test --release --locked -q -p outreach --test integration --no-run 2>"$OUT/build.log" || {
  echo "bench: the test build failed, see $OUT/build.log" >&2
  exit 2
}
s=$(date +%s.%N)
OUTREACH_CRASH_PATIENTS=$PATIENTS OUTREACH_CRASH_KILLS=$KILLS \
  cargo test --release --locked -q -p outreach --test integration -- \
  --exact apply::sigkill_at_random_moments_never_calls_anyone_twice::sqlite --nocapture >"$OUT/test.log" 2>&1
rc=$?
e=$(date +%s.%N)
wall=$(echo "$e - $s" | bc -l | xargs printf '%.1f')
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ $rc == 0 ]]; then outcome="**pass**"; else outcome="**FAIL** (exit $rc)"; fi
runs=$(sed -n 's/.*kills, \([0-9]*\) runs to finish.*/\1/p' "$OUT/test.log" | tail -1)
failure=$(grep -m1 -E "panicked|assertion" "$OUT/test.log" || true)

cat <<MD
### crash test at full size ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m))

Command: \`bash bench/crash/run.sh $PATIENTS $KILLS\` (release test build;
\`OUTREACH_CRASH_PATIENTS=$PATIENTS OUTREACH_CRASH_KILLS=$KILLS cargo test --release -p outreach --test integration -- --exact apply::sigkill_at_random_moments_never_calls_anyone_twice::sqlite\`).
The mock answers robocalls with 4% 5xx errors, 3% dropped connections and 3% dropped responses (calls placed,
answer lost); apply is killed with SIGKILL $KILLS times at moments from 20 to 400 ms after its start, then run
until it exits 0 (at most 40 runs); every patient must have been called exactly once.
Load average (1, 5, 15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER.

| measure | result | target |
|---|---|---|
| outcome | $outcome | pass |
| runs after the kills to finish | ${runs:-unknown} | at most 40 |
| wall time of the test ($KILLS killed runs, then the runs to finish) | $wall s | |
${failure:+
Failure: \`$failure\` (full output in \`$OUT/test.log\`).}
MD
exit $rc
