#!/usr/bin/env bash
# Copyright: confidential.recovery contributors
# SPDX-License-Identifier: Apache-2.0
# make test's second half: the parts that share nothing but the CPU run side by side.
#   - pytest (unit, lab, cloud, report and system tests) in the foreground, its output live, on $PYTEST_WORKERS
#     xdist workers; a test file goes to one worker whole (each system-test file has its own lab address prefix);
#   - the static checks (changelog, ansible-lint, ruff, docs, ansible-test sanity), the other versions (the unit
#     tests on the lowest dependencies, then sanity on the other ansible-core releases), and the ansible-test
#     integration targets then molecule, each in the background with its output
#     in build/test-logs/<part>.log, at a lower CPU priority so that the timing-bound system tests keep theirs.
# Every part runs to its end; the script prints each part's result and time, the log tail of any part that
# failed, and exits non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
WORKERS=${PYTEST_WORKERS:-3}
LOGS=build/test-logs
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log "$LOGS"/*.rc "$LOGS"/*.seconds "$LOGS"/pytest-files.json

run_part() {
  local name=$1
  shift
  local started=$SECONDS
  "$@" >"$LOGS/$name.log" 2>&1
  echo $? >"$LOGS/$name.rc"
  echo $((SECONDS - started)) >"$LOGS/$name.seconds"
}

background=(checks other-versions lab-targets)
run_part checks nice -n 15 "$MAKE" --no-print-directory -o collection changelog-lint lint docs-lint sanity &
run_part other-versions nice -n 15 "$MAKE" --no-print-directory lowest-deps sanity-cores &
run_part lab-targets nice -n 5 "$MAKE" --no-print-directory -o collection ee-context integration-targets molecule &

echo "== pytest on $WORKERS workers; in the background: ${background[*]} (logs in $LOGS/)"
started=$SECONDS
.venv/bin/pytest -n "$WORKERS" --dist loadfile --no-loadscope-reorder
pytest_rc=$?
pytest_seconds=$((SECONDS - started))
echo "== pytest done (rc $pytest_rc, ${pytest_seconds} s); waiting for: ${background[*]}"
# Where the time went (conftest.py records it): each worker's last end, and the longest files.
.venv/bin/python - "$LOGS/pytest-files.json" <<'PY' || true
import json, sys
rows = json.load(open(sys.argv[1]))
ends = {}
for row in rows:
    ends[row["worker"]] = max(ends.get(row["worker"], 0), row["end"])
print("workers end at:", ", ".join(f"{w} {e:.0f} s" for w, e in sorted(ends.items())))
for row in sorted(rows, key=lambda r: -r["seconds"])[:12]:
    print(f'{row["seconds"]:7.1f} s  {row["worker"]}  {row["start"]:6.0f}-{row["end"]:<6.0f} {row["file"]}')
PY
wait

status=$pytest_rc
printf '%-12s %4s %6s\n' part rc seconds
printf '%-12s %4s %6s\n' pytest "$pytest_rc" "$pytest_seconds"
for name in "${background[@]}"; do
  rc=$(cat "$LOGS/$name.rc" 2>/dev/null || echo 99)
  printf '%-12s %4s %6s\n' "$name" "$rc" "$(cat "$LOGS/$name.seconds" 2>/dev/null || echo '?')"
  if [ "$rc" != 0 ]; then
    status=1
    echo "---- $name failed; the end of $LOGS/$name.log:"
    tail -n 400 "$LOGS/$name.log"
    echo "----"
  fi
done
exit "$status"
