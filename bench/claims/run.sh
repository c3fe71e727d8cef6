#!/usr/bin/env bash
# Claims per second on a shared Postgres ledger with 1, 2 and 4 runners (issue 8): each
# runner, a connection of its own, claims batches of due calls (FOR UPDATE SKIP LOCKED,
# leased) and records them `sending`, as `apply` does per batch; nothing is sent.
#
#   bash bench/claims/run.sh [CALLS] [BATCH]
#
# Uses OUTREACH_DATABASE_URL when set; otherwise starts a throwaway PostgreSQL 15 with
# .ci/postgres.sh (fsync off: it measures the claim path, not the disk). Release build.
# Prints a Markdown block for bench/RESULTS.md; raw output in bench/out/claims/.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${1:-100000}
BATCH=${2:-50}
OUT=bench/out/claims
mkdir -p "$OUT"

cargo build --release --locked -q --example claims_bench 2>"$OUT/build.log" || {
  echo "bench: the build failed, see $OUT/build.log" >&2
  exit 2
}
if [[ -z "${OUTREACH_DATABASE_URL:-}" ]]; then
  source .ci/postgres.sh
  start_postgres >/dev/null
  OUTREACH_DATABASE_URL=$OUTREACH_TEST_DATABASE_URL
  server="throwaway PostgreSQL 15 (.ci/postgres.sh: fsync off, loopback)"
else
  server="the server at OUTREACH_DATABASE_URL"
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
target/release/examples/claims_bench --url "$OUTREACH_DATABASE_URL" --calls "$CALLS" --batch "$BATCH" \
  --runners 1,2,4 | tee "$OUT/result.txt" >&2
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "### Claims on Postgres ($(date -u +%Y-%m-%d))"
echo
echo "Command: \`bash bench/claims/run.sh $CALLS $BATCH\` on $(nproc) cores, $server;"
echo "load average before $LOAD_BEFORE, after $LOAD_AFTER."
echo
echo '```text'
cat "$OUT/result.txt"
echo '```'
