#!/usr/bin/env python3
"""Times commands alternately and prints medians, ratios and peak RSS.

    bench/compare.py [--runs N] [--warmup N] NAME=CMD [NAME=CMD ...]

Each round runs every command once, in turn, so that a noisy machine slows
all of them alike; ratios are against the first command. Output goes to
/dev/null. Peak RSS and page faults come from wait4()'s rusage of each child;
faults are the steadier figure for runs of a few milliseconds on a VM whose
host must back fresh pages (see README, Benchmarks). Linux carries the
forking parent's peak RSS over into the child's across exec(), so a command
that peaks below this script's own RSS shows as "<=N".

A command with no shell syntax outside its quotes (pipes, redirections,
variables, globs) is executed directly, so that /bin/sh's start-up (about a
millisecond here) is not counted; pipelines still go through the shell.
"""
import argparse
import os
import resource
import shlex
import statistics
import subprocess
import time

SHELL_SYNTAX = set("|&;<>()$`*?[]{}~")


def needs_shell(cmd):
    quote = None
    escaped = False
    for c in cmd:
        if escaped:
            escaped = False
        elif quote:
            if c == quote:
                quote = None
            elif quote == '"' and c in "$`":
                return True
            elif c == "\\" and quote == '"':
                escaped = True
        elif c in "'\"":
            quote = c
        elif c == "\\":
            escaped = True
        elif c in SHELL_SYNTAX:
            return True
    return False


def run_once(cmd, always_shell=False):
    devnull = os.open(os.devnull, os.O_WRONLY)
    args, shell = (cmd, True) if always_shell or needs_shell(cmd) else (shlex.split(cmd), False)
    t0 = time.perf_counter()
    p = subprocess.Popen(args, shell=shell, stdout=devnull, stderr=devnull)
    _, status, ru = os.wait4(p.pid, 0)
    t = time.perf_counter() - t0
    os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"command failed with {code}: {cmd}")
    return t, ru.ru_maxrss, ru.ru_minflt + ru.ru_majflt  # maxrss in KiB on Linux


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--shell", action="store_true", help="run every command through /bin/sh, as before")
    ap.add_argument("cmds", nargs="+", metavar="NAME=CMD")
    a = ap.parse_args()
    named = [c.split("=", 1) for c in a.cmds]
    for _ in range(a.warmup):
        for _, cmd in named:
            run_once(cmd, a.shell)
    times = {n: [] for n, _ in named}
    rss = {n: 0 for n, _ in named}
    faults = {n: [] for n, _ in named}
    for _ in range(a.runs):
        for n, cmd in named:
            t, r, f = run_once(cmd, a.shell)
            times[n].append(t)
            rss[n] = max(rss[n], r)
            faults[n].append(f)
    base = statistics.median(times[named[0][0]])
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def peak(kib):
        return f"<={floor/1024:.1f}" if kib <= floor else f"{kib/1024:.1f}"

    print(f"{'name':<28} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'ratio':>7} {'peak RSS MB':>12} {'faults':>8}")
    for n, _ in named:
        m = statistics.median(times[n])
        print(
            f"{n:<28} {m*1000:>10.1f} {min(times[n])*1000:>8.1f} {max(times[n])*1000:>8.1f} {m/base:>7.3f}"
            f" {peak(rss[n]):>12} {int(statistics.median(faults[n])):>8}"
        )


if __name__ == "__main__":
    main()
