#!/usr/bin/env python3
"""Times commands alternately and prints medians, ratios and peak RSS.

    bench/compare.py [--runs N] [--warmup N] NAME=CMD [NAME=CMD ...]

Each round runs every command once, in turn, so that a noisy machine slows
all of them alike; ratios are against the first command. Output goes to
/dev/null. Peak RSS comes from wait4()'s rusage of each child.
"""
import argparse
import os
import statistics
import subprocess
import time


def run_once(cmd):
    devnull = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, shell=True, stdout=devnull, stderr=devnull)
    _, status, ru = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"command failed with {code}: {cmd}")
    return t, ru.ru_maxrss  # KiB on Linux


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("cmds", nargs="+", metavar="NAME=CMD")
    a = ap.parse_args()
    named = [c.split("=", 1) for c in a.cmds]
    for _ in range(a.warmup):
        for _, cmd in named:
            run_once(cmd)
    times = {n: [] for n, _ in named}
    rss = {n: 0 for n, _ in named}
    for _ in range(a.runs):
        for n, cmd in named:
            t, r = run_once(cmd)
            times[n].append(t)
            rss[n] = max(rss[n], r)
    base = statistics.median(times[named[0][0]])
    print(f"{'name':<28} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'ratio':>7} {'peak RSS MB':>12}")
    for n, _ in named:
        m = statistics.median(times[n])
        print(f"{n:<28} {m*1000:>10.1f} {min(times[n])*1000:>8.1f} {max(times[n])*1000:>8.1f} {m/base:>7.2f} {rss[n]/1024:>12.1f}")


if __name__ == "__main__":
    main()
