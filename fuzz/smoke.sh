#!/bin/sh
# CI smoke test of the fuzz targets: builds every target (nightly, cargo-fuzz,
# AddressSanitizer), replays its seed corpus and fixed reproducers, then
# fuzzes it briefly. Fails on any build error, crash, timeout or OOM.
#   fuzz/smoke.sh            (SMOKE_SECONDS per target, default 10)
# Reproducers named open-* in fuzz/regressions/<target>/ are known, unfixed
# findings: skipped (some are timeouts, 30 s each), or with SMOKE_OPEN=1
# replayed and reported without failing the run. Drop the `open-` prefix
# when the fix lands: from then on the reproducer must pass.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${SMOKE_SECONDS:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-fuzz}
bin_dir=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release

if ! cargo +nightly --version > /dev/null 2>&1; then
    echo "smoke.sh: FAIL: no nightly toolchain (cargo +nightly); install one with 'rustup toolchain install nightly'" >&2
    exit 1
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

cd "$here"
# Every target must be smoked: a bin of Cargo.toml missing from targets.txt
# (or the other way round) fails before anything is built.
listed=$(grep -v '^#' targets.txt | awk 'NF {print $1}' | sort)
bins=$(awk '/^\[\[bin\]\]/ {b = 1; next} b && /^name *=/ {gsub(/[" ]/, "", $0); sub(/^name=/, "", $0); print; b = 0}' Cargo.toml | sort)
if [ "$listed" != "$bins" ]; then
    echo "smoke.sh: FAIL: targets.txt and Cargo.toml's bins differ:" >&2
    printf '%s\n' "$listed" > "${TMPDIR:-/tmp}/smoke-listed.$$"
    printf '%s\n' "$bins" | diff "${TMPDIR:-/tmp}/smoke-listed.$$" - >&2 || true
    rm -f "${TMPDIR:-/tmp}/smoke-listed.$$"
    exit 1
fi
t0=$(date +%s)
cargo +nightly fuzz build --target-dir "$CARGO_TARGET_DIR"
echo "smoke.sh: built in $(($(date +%s) - t0)) s"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Inputs that fail are kept after the run, for `cargo fuzz tmin`.
artifacts=${SMOKE_ARTIFACTS:-$CARGO_TARGET_DIR/smoke-artifacts}
mkdir -p "$artifacts"
failed=""
for t in $(grep -v '^#' targets.txt | awk 'NF {print $1}'); do
    max_len=$(awk -v t="$t" '$1 == t {print $2}' targets.txt)
    bin=$bin_dir/$t
    [ -x "$bin" ] || { failed="$failed $t(not built)"; continue; }
    opts="-max_len=$max_len -rss_limit_mb=2048 -timeout=10 -artifact_prefix=$artifacts/$t-"
    # Seeds and fixed reproducers: each must run clean.
    inputs=$(find "corpus/$t" "regressions/$t" -type f ! -name 'open-*' 2> /dev/null || true)
    if [ -n "$inputs" ] && ! "$bin" $opts $inputs > "$scratch/$t.replay.log" 2>&1; then
        tail -30 "$scratch/$t.replay.log"
        failed="$failed $t(replay)"
        continue
    fi
    for open in $([ "${SMOKE_OPEN:-0}" = 1 ] && find "regressions/$t" -type f -name 'open-*' 2> /dev/null); do
        if "$bin" $opts "$open" > /dev/null 2>&1; then
            echo "smoke.sh: $open no longer fails: drop its open- prefix"
        else
            echo "smoke.sh: known open finding still fails: $open"
        fi
    done
    mkdir -p "$scratch/corpus-$t"
    if ! "$bin" "$scratch/corpus-$t" "corpus/$t" $opts -max_total_time="$secs" -print_final_stats=1 \
        > "$scratch/$t.log" 2>&1; then
        tail -30 "$scratch/$t.log"
        echo "smoke.sh: $t failed; the input is in the log above (artifacts: $artifacts/$t-*)"
        failed="$failed $t"
        continue
    fi
    echo "smoke.sh: ok $t ($(awk '/stat::number_of_executed_units:/ {print $2}' "$scratch/$t.log") execs)"
done
echo "smoke.sh: total $(($(date +%s) - t0)) s"
if [ -n "$failed" ]; then
    echo "smoke.sh: FAIL:$failed" >&2
    exit 1
fi
