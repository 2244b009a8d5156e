#!/bin/sh
# Benchmarks of the osquery extension (issue #12): a 10,000-row generate of
# installed_software through the protocol against `embargo query --format
# json 'SELECT * FROM installed_software'` on the same synthetic root
# (alternating runs, medians), the extension's idle and peak RSS, and its
# RSS after 10,000 generate calls against after 100. The measuring code is
# extension/osquery/tests/bench.rs (ignored tests, run here in release).
#   bench/osquery_generate.sh [RUNS]     (default 15)
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -p embargo -p embargo-dev -p embargo-osquery
synth=${SYNTH_ROOT:-$CARGO_TARGET_DIR/synth-10k}
if [ ! -f "$synth/var/lib/dpkg/status" ]; then
    "$CARGO_TARGET_DIR/release/embargo-dev" synth-root --out "$synth" --packages 10000
fi
EMBARGO_BIN=$CARGO_TARGET_DIR/release/embargo SYNTH_ROOT=$synth RUNS=${1:-15} \
    cargo test --release -p embargo-osquery --test bench -- --ignored --nocapture --test-threads 1
