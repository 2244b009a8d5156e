#!/usr/bin/env bash
# host_exposure.sql as osqueryd runs it (tests/osquery/osquery_sql.py: SQLite
# virtual tables that call the extension's `generate` over its socket) against
# `embargo query -f queries/host_exposure.sql` on the same root, alternating
# the two, medians (issue 12: target <= 2x).
#
#   bench/osquery_host_exposure.sh [ROOT] [RUNS]
#
# Each harness run is the query in one long-lived extension session (as in
# osqueryd, where the extension is already registered); `embargo query` is a
# whole process, as a scheduled run of the CLI would be. The warm figure keeps
# the extension's default row cache (10 s: a run may reuse the previous run's
# scan); the cold one sets it to 1 s and waits 1.3 s before each run, so each
# run starts with a fresh scan that its own generate calls share, as a
# scheduled query in osqueryd does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-tests/fixtures/scan/deb-critical}
runs=${2:-7}
as_of=${AS_OF:-2025-09-29}
cargo build -q --release -p embargo -p embargo-osquery
py=target/osquery-venv/bin/python
if ! "$py" -c 'import osquery, apsw' 2>/dev/null; then
    python3 -m venv target/osquery-venv
    "$py" -m pip install -q --disable-pip-version-check osquery apsw
fi
q=queries/host_exposure.sql
peer="target/release/embargo --root $root --as-of $as_of --format json query -f $q"
for mode in warm cold; do
    pause=0 ttl=""
    [ "$mode" = cold ] && pause=1.3 ttl="--cache-ttl 1"
    "$py" tests/osquery/manager.py bench --quiet-ext --ext target/release/embargo-osquery \
        --ext-args "--root $root --as-of $as_of $ttl" -f "$q" --peer "$peer" --runs "$runs" --pause "$pause" |
        python3 -c 'import json, sys
b = json.load(sys.stdin)["bench"]
print("%s: harness %.1f ms, embargo query %.1f ms, ratio %.2fx (medians of %d; %s generate calls per run; rows %s)" % (
    sys.argv[1], b["harness_ms"], b["peer_ms"], b["ratio"], b["runs"], b["generate_calls_per_run"], b["rows"]))' "$mode"
done
