#!/bin/sh
# Adds real-world files (other projects' test data, never committed) to the
# *work* corpus of a fuzz run, so a campaign starts from what real systems
# write as well as from the fixtures:
#   tests/real-world.sh /work/real-data
#   FUZZ_WORK=/work/fuzz-work/lane1 fuzz/real-seeds.sh /work/real-data [TARGET...]
# Files longer than a target's max_len (targets.txt) are cut to it (libFuzzer
# would only read that much); text databases are cut at a record boundary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
real=${1:?usage: real-seeds.sh REAL_DATA_DIR [TARGET...]}
shift
work=${FUZZ_WORK:-/work/fuzz-work}
want=${*:-registry_hive plist keychain rpm_bdb rpm_ndb apk_installed dpkg_journal}

max_len() { awk -v t="$1" '$1 == t {print $2}' "$here/targets.txt"; }
put() { # put TARGET FILE...: each file cut to the target's max_len
    t=$1; shift
    case " $want " in *" $t "*) ;; *) return 0 ;; esac
    mkdir -p "$work/corpus/$t"
    n=$(max_len "$t")
    for f in "$@"; do
        [ -f "$f" ] && [ -s "$f" ] || continue
        head -c "$n" "$f" > "$work/corpus/$t/.tmp"
        mv "$work/corpus/$t/.tmp" "$work/corpus/$t/real-$(sha1sum < "$work/corpus/$t/.tmp" | cut -c1-16)"
    done
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Hives (anything starting with "regf"), and each hive with its logs joined
# by the registry_hive target's marker, hive and logs cut to share max_len.
find "$real/yarp" "$real/regipy" -type f 2>/dev/null | while read -r f; do
    [ "$(head -c 4 "$f")" = regf ] || continue
    case "$f" in *.LOG|*.LOG1|*.LOG2|*.log1|*.log2) continue ;; esac
    put registry_hive "$f"
    logs=$(ls "$f".LOG* "$f".log* 2>/dev/null || true)
    [ -n "$logs" ] || continue
    { head -c 40960 "$f"; for l in $logs; do printf '\0EMBARGO-LOG\0'; head -c 12288 "$l"; done; } > "$tmp/joined"
    put registry_hive "$tmp/joined"
done
find "$real/macos" -type f -name '*.plist' 2>/dev/null | while read -r f; do put plist "$f"; done
find "$real/macos" -type f -name '*.keychain' 2>/dev/null | while read -r f; do put keychain "$f"; done
find "$real/rpm" -type f -name Packages 2>/dev/null | while read -r f; do put rpm_bdb "$f"; done
find "$real/rpm" -type f -name Packages.db 2>/dev/null | while read -r f; do put rpm_ndb "$f"; done
# apk: whole records (blank-line separated) in pieces of at most max_len.
find "$real/apk" -path '*/lib/apk/db/installed' 2>/dev/null | while read -r f; do
    python3 - "$f" "$tmp/apk" "$(max_len apk_installed)" <<'PY'
import os, sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
piece, i = b"", 0
for rec in open(src, "rb").read().split(b"\n\n"):
    rec += b"\n\n"
    if piece and len(piece) + len(rec) > n:
        open(f"{out}/{i}", "wb").write(piece); i += 1; piece = b""
    piece += rec
if piece:
    open(f"{out}/{i}", "wb").write(piece)
PY
    put apk_installed "$tmp"/apk/*
done
# dpkg_journal: a status.d file is a part starting with '#', after a NUL.
find "$real/dpkg" -path '*/status.d/*' -type f 2>/dev/null | while read -r f; do
    { printf '\0#'; cat "$f"; } > "$tmp/statusd"
    put dpkg_journal "$tmp/statusd"
done
for t in $want; do echo "$t: $(ls "$work/corpus/$t" 2>/dev/null | wc -l) files in $work/corpus/$t"; done
