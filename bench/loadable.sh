#!/usr/bin/env bash
# Issue 15's speed target: `SELECT * FROM installed_software` on the
# 100,000-package synthetic root, printed as JSON to /dev/null, in sqlite3
# with libembargo.so against `embargo query` (target: at most 1.2x), the two
# alternating in one run (bench/compare.py: medians, peak RSS).
# Usage: bench/loadable.sh [RUNS]   (builds both release artifacts first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
T=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p embargo -p embargo-dev
# Outside the workspace, with its own target directory (see its Cargo.toml).
CARGO_TARGET_DIR=extension/sqlite-loadable/target \
    cargo build -q --release --manifest-path extension/sqlite-loadable/Cargo.toml
B=$T/release/embargo
L=extension/sqlite-loadable/target/release/libembargo
synth=${SYNTH:-/tmp/embargo-synth}
[ -d "$synth/100k" ] || "$T/release/embargo-dev" synth-root --out "$synth/100k" --packages 100000
sql='SELECT * FROM installed_software'
# The shell's set-up goes in an -init file: no shell quoting in the timed command.
init=$(mktemp)
trap 'rm -f "$init"' EXIT
printf '%s\n' ".load $L" ".output /dev/null" "SELECT embargo_root('$synth/100k');" ".output stdout" ".mode json" >"$init"
ext=(sqlite3 -init "$init" :memory:)

# Same rows first: both print JSON arrays; compare them whole.
python3 - "$B" "$synth/100k" "$sql" "${ext[@]}" <<'PY'
import json, subprocess, sys
b, root, sql, *ext = sys.argv[1:]
cli = json.loads(subprocess.run([b, "--root", root, "--format", "json", "query", sql], check=True, capture_output=True).stdout)
got = json.loads(subprocess.run(ext + [sql], check=True, capture_output=True).stdout)
norm = lambda rows: [{k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in r.items()} for r in rows]
assert norm(cli) == norm(got), "sqlite3 with libembargo.so and embargo query disagree"
print(f"same {len(cli)} rows from both")
PY

python3 bench/compare.py --runs "$runs" \
    "embargo=$B --root $synth/100k --format json query '$sql'" \
    "sqlite3+libembargo=sqlite3 -init $init :memory: '$sql'"
