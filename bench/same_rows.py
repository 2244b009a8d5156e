#!/usr/bin/env python3
"""Hashes what embargo returns, so that two builds can be shown to agree.

    bench/same_rows.py [--as-of YYYY-MM-DD] BIN [ROOT ...] > hashes.txt

For each root (default: every fixture root under tests/fixtures, and `/`),
prints one line per table, `SELECT *` as JSON, one per constrained query of
EXTRA, and one for `scan --format json`: the root, what was run, the exit code, the row count
and a SHA-256 of the output. Run it with the binary from before a change and
with the one after, then `diff` the two files.

Clock fields are removed before hashing (`scanned_at`, which is the time of
the run); `--as-of` pins the date findings are judged at. On the live root
`/` the processes change from run to run, so `running_processes` is hashed
by its column names only, and the scan's process count (and the summary line
that shows it) is dropped; everything else of `/` is hashed in full.

Rows are hashed in the order printed; when two builds differ, the line also
carries a hash of the sorted rows, to tell a different order from different
rows, and a hash of what went to standard error (the message of a refused
query).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


# Constrained queries too: they are the ones whose constraints reach the
# collectors (pushdown), where a refactor of the query path would show.
EXTRA = [
    "SELECT * FROM installed_software WHERE source = 'deb'",
    "SELECT * FROM installed_software WHERE source IN ('rpm', 'snap', 'flatpak')",
    "SELECT * FROM installed_software WHERE name = 'kesl' AND name = 'kesl'",
    "SELECT * FROM installed_software WHERE name IN ('openssh-server', 'kesl', 'firefox') AND source = 'deb'",
    "SELECT * FROM installed_services WHERE kind = 'sysv'",
    "SELECT * FROM installed_services WHERE name IN ('ssh.service', 'cron.service', 'kesl.service')",
    "SELECT * FROM installed_certificates WHERE store = 'nss'",
    "SELECT * FROM installed_certificates WHERE store IN ('bundle', 'anchor') AND trust = 'trusted'",
    "SELECT * FROM browser_extensions WHERE browser = 'firefox'",
    "SELECT * FROM file_presence WHERE path IN ('/etc', '/opt/kaspersky', '/nonexistent', '/etc/os-release')",
    "SELECT * FROM banned_vendor_indicators WHERE vendor_id = 'kaspersky' AND kind IN ('package', 'service')",
    "SELECT * FROM scan_errors WHERE table_name = 'installed_software'",
    # One constrained read per package indicator (a join pushes `name = ?`).
    "SELECT i.pattern, s.* FROM banned_vendor_indicators i JOIN installed_software s ON s.name = i.pattern "
    "WHERE i.kind = 'package' AND i.match = 'exact'",
]


def fixture_roots():
    out = []
    for top in sorted(os.listdir(FIXTURES)):
        path = os.path.join(FIXTURES, top)
        if not os.path.isdir(path):
            continue
        out.append(path)
        out.extend(os.path.join(path, d) for d in sorted(os.listdir(path)) if os.path.isdir(os.path.join(path, d)))
    return [os.path.normpath(p) for p in out]


def run(bin_, root, as_of, args):
    p = subprocess.run([bin_, "--root", root, "--as-of", as_of, "--format", "json", *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def digest(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def normalize_rows(rows, table, live):
    if live and table == "running_processes":
        return [sorted(rows[0].keys())] if rows else []
    for r in rows:
        r.pop("scanned_at", None)
    return rows


def normalize_scan(doc, live):
    doc.get("host", {}).pop("scanned_at", None)
    if live:
        cov = doc.get("coverage", {})
        cov.pop("processes", None)
        cov.pop("summary", None)
        # A process finding comes and goes with the process.
        doc["findings"] = [f for f in doc.get("findings", []) if f.get("evidence") != "process"]
    return doc


def line(root, what, code, out, err, normalize):
    try:
        value = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        value = None
    # An error (file_presence without a path) is in the message.
    err = digest(err.decode(errors="replace").strip())
    if value is None:
        return f"{root}\t{what}\texit={code}\trows=-\t-\terr={err}"
    value = normalize(value)
    rows = len(value) if isinstance(value, list) else len(value.get("findings", []))
    sorted_hash = digest(sorted(json.dumps(r, sort_keys=True) for r in value)) if isinstance(value, list) else "-"
    return f"{root}\t{what}\texit={code}\trows={rows}\t{digest(value)}\tsorted={sorted_hash}\terr={err}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--as-of", default="2025-10-01")
    ap.add_argument("bin")
    ap.add_argument("roots", nargs="*")
    a = ap.parse_args()
    roots = a.roots or fixture_roots() + ["/"]
    tables = subprocess.run([a.bin, "tables"], stdout=subprocess.PIPE, check=True).stdout.decode().split()
    everything = hashlib.sha256()
    for root in roots:
        live = os.path.realpath(root) == "/"
        for t in tables:
            code, out, err = run(a.bin, root, a.as_of, ["query", f"SELECT * FROM {t}"])
            text = line(root, t, code, out, err, lambda v, t=t: normalize_rows(v, t, live))
            everything.update(text.encode())
            print(text, flush=True)
        for i, sql in enumerate(EXTRA):
            code, out, err = run(a.bin, root, a.as_of, ["query", sql])
            text = line(root, f"extra{i}", code, out, err, lambda v: normalize_rows(v, "", live))
            everything.update(text.encode())
            print(text, flush=True)
        code, out, err = run(a.bin, root, a.as_of, ["scan"])
        text = line(root, "scan", code, out, err, lambda v: normalize_scan(v, live))
        everything.update(text.encode())
        print(text, flush=True)
    print(f"all\t-\t-\t-\t{everything.hexdigest()[:16]}", flush=True)
    print(f"{len(roots)} roots, {len(tables)} tables each", file=sys.stderr)


if __name__ == "__main__":
    main()
