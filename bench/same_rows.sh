#!/bin/sh
# Same rows before and after a change: hashes of every table, the EXTRA
# queries and `scan` (bench/same_rows.py) on every fixture root, `/` and a
# synthetic root, for two binaries, then the diff.
#
#   bench/same_rows.sh BEFORE_BIN AFTER_BIN [SYNTH_DIR]
#
# SYNTH_DIR (default /tmp/embargo-synth) is made with
#   embargo-dev synth-root --out DIR --packages 100000 --units 10000 --certs 10000
# when it does not exist; EMBARGO_DEV names that binary (default target/release/embargo-dev).
set -eu
here=$(dirname "$0")
before=$1 after=$2 synth=${3:-/tmp/embargo-synth}
if [ ! -d "$synth" ]; then
    "${EMBARGO_DEV:-target/release/embargo-dev}" synth-root --out "$synth" --packages 100000 --units 10000 --certs 10000
fi
roots=$(python3 -c "import sys; sys.path.insert(0, '$here'); import same_rows; print(' '.join(same_rows.fixture_roots()))")
# shellcheck disable=SC2086 # the roots are words
python3 "$here/same_rows.py" "$before" $roots / "$synth" > "${TMPDIR:-/tmp}/same_rows.before"
# shellcheck disable=SC2086
python3 "$here/same_rows.py" "$after" $roots / "$synth" > "${TMPDIR:-/tmp}/same_rows.after"
if diff "${TMPDIR:-/tmp}/same_rows.before" "${TMPDIR:-/tmp}/same_rows.after"; then
    echo "same rows: $(wc -l < "${TMPDIR:-/tmp}/same_rows.after") lines, $(tail -1 "${TMPDIR:-/tmp}/same_rows.after")"
else
    echo "rows differ (before < > after)" >&2
    exit 1
fi
