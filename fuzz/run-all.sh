#!/bin/sh
# Runs every fuzz target for SECONDS, one at a time under nice (the machine
# is shared), and writes a table of executions per target:
#   fuzz/run-all.sh SECONDS [TARGET...]
# Work files go to $FUZZ_WORK (default /work/fuzz-work): corpus/<target>/
# (what libFuzzer adds; the committed fuzz/corpus/<target>/ is only read),
# artifacts/<target>/ (crash-*, timeout-*, oom-* inputs), logs/<target>.log,
# and summary.tsv, appended after each target so a partial run is readable.
# A target that crashes is restarted for the time left (at most 20 times),
# so each still gets its SECONDS; its executions are summed over the runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:?usage: run-all.sh SECONDS [TARGET...]}
shift
work=${FUZZ_WORK:-/work/fuzz-work}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-fuzz}
bin_dir=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release

cd "$here"
targets=$(grep -v '^#' targets.txt | awk 'NF {print $1}')
[ $# -eq 0 ] || targets=$*
# Parallel lanes (separate FUZZ_WORK, disjoint targets) share one target
# dir: each builds only its own targets, or nothing with FUZZ_BUILD=0 (a
# lane started after another's rebuild must not relink binaries in use).
if [ "${FUZZ_BUILD:-1}" = 1 ]; then
    if [ $# -eq 0 ]; then
        nice -n 19 cargo +nightly fuzz build --target-dir "$CARGO_TARGET_DIR"
    else
        for t in $targets; do nice -n 19 cargo +nightly fuzz build --target-dir "$CARGO_TARGET_DIR" "$t"; done
    fi
fi
mkdir -p "$work/logs"
summary=$work/summary.tsv
printf 'target\tseconds\texecs\texecs_per_s\truns\tcrashes\ttimeouts\tooms\tcorpus\tstarted\n' > "$summary"

for t in $targets; do
    max_len=$(awk -v t="$t" '$1 == t {print $2}' targets.txt)
    [ -n "$max_len" ] || { echo "unknown target $t" >&2; exit 2; }
    corpus=$work/corpus/$t
    artifacts=$work/artifacts/$t
    log=$work/logs/$t.log
    mkdir -p "$corpus" "$artifacts"
    : > "$log"
    started=$(date -u +%FT%TZ)
    start=$(date +%s)
    runs=0
    while :; do
        left=$((secs - ($(date +%s) - start)))
        [ "$left" -gt 0 ] && [ "$runs" -lt 20 ] || break
        runs=$((runs + 1))
        echo "=== run $runs, $left s left" >> "$log"
        nice -n 19 "$bin_dir/$t" "$corpus" "corpus/$t" \
            -max_total_time="$left" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$artifacts/" >> "$log" 2>&1 || true
    done
    elapsed=$(($(date +%s) - start))
    execs=$(awk '/stat::number_of_executed_units:/ {n += $2} END {print n + 0}' "$log")
    count() { find "$artifacts" -name "$1-*" | wc -l; }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$elapsed" "$execs" "$((execs / (elapsed > 0 ? elapsed : 1)))" \
        "$runs" "$(count crash)" "$(count timeout)" "$(count oom)" "$(ls "$corpus" | wc -l)" "$started" >> "$summary"
done
column -t -s "$(printf '\t')" "$summary"
