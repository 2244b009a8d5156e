#!/usr/bin/env bash
# Peak RSS and wall time of `embargo scan --root CASE` for every hostile
# Windows and macOS root of tests/hostile_platforms.rs (issue 16 item 3),
# each against the clean fixture root of its OS: runs alternate (clean,
# case, clean, case, ...), times are medians, RSS the largest of the runs
# (getrusage of each child, through wait4).
# Usage: bench/hostile_roots.sh [RUNS] [DIR]   (DIR keeps the roots; sparse files take no space)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=${2:-$(mktemp -d /tmp/embargo-hostile.XXXXXX)}
cargo build -q --release -p embargo
bin=${CARGO_TARGET_DIR:-target}/release/embargo
if [ ! -f "$out/cases.tsv" ]; then
    mkdir -p "$out"
    EMBARGO_HOSTILE_OUT="$out" cargo test -q --test hostile_platforms write_hostile_roots -- --ignored >/dev/null
fi
python3 - "$runs" "$out" "$bin" <<'EOF'
import os, shutil, statistics, subprocess, sys, tempfile, time

runs, out, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
KILL_AFTER = 60
TIME = shutil.which("time", path="/usr/bin") or sys.exit("bench/hostile_roots.sh needs GNU time (/usr/bin/time; apt install time)")

def once(root):
    """(wall seconds, peak RSS in KiB, exit code) of one scan."""
    # The default --fail-on (medium): exit 1 when a vendor or unreadable evidence reaches it, 2 on an error.
    # Peak RSS from GNU time, not from wait4 here: Linux counts the RSS the
    # child had before its exec (this Python's, some 14 MiB) in ru_maxrss.
    with tempfile.NamedTemporaryFile("r") as rss:
        cmd = [TIME, "-q", "-f", "%M", "-o", rss.name, binary, "--root", root, "--format", "json", "scan"]
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            code = p.wait(timeout=KILL_AFTER)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return float("inf"), 0, "killed"
        took = time.monotonic() - start
        return took, int(rss.read().split()[-1]), code

cases = [line.rstrip("\n").split("\t") for line in open(os.path.join(out, "cases.tsv"))]
clean = {osname: os.path.join(out, d, "root") for d, osname, name in cases if name.startswith("clean ")}
print(f"{runs} alternating runs each (clean root of the same OS, then the case); release build; {binary}")
print(f"| case | os | median ms | × clean | peak RSS MiB | clean RSS MiB | exit |")
print(f"|---|---|---:|---:|---:|---:|---|")
for d, osname, name in cases:
    root = os.path.join(out, d, "root")
    mine, ref = [], []
    for _ in range(runs):
        ref.append(once(clean[osname]))
        mine.append(once(root))
    t = statistics.median(r[0] for r in mine)
    t_ref = statistics.median(r[0] for r in ref)
    rss = max(r[1] for r in mine) / 1024
    rss_ref = max(r[1] for r in ref) / 1024
    codes = sorted({str(r[2]) for r in mine})
    print(f"| {name} | {osname} | {t * 1000:.1f} | {t / t_ref:.2f} | {rss:.1f} | {rss_ref:.1f} | {','.join(codes)} |")
EOF
