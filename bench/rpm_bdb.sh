#!/usr/bin/env bash
# Issue 14's speed target: a Berkeley DB rpm `Packages` with 2,000 packages,
# `SELECT * FROM installed_software WHERE source='rpm'` as JSON against
# `rpm -qa --dbpath` on the same database (Debian's rpm, bdb_ro backend),
# alternating in one run (bench/compare.py: medians). Target: <= 0.5x.
#
# The database is real-format: one package built with rpmbuild (160 files,
# dependencies, a changelog: a header of about 23 KB, as a small RHEL 7
# package has) and registered with `rpm -i --justdb`; its header is cloned
# 2,000 times under names of the same length with rpm's header digests
# recomputed (tests/fixtures/rpm/rpmhdr.py), and Berkeley DB's own db_load
# writes the hash database with 4 KiB pages, as rpm on RHEL 7 does.
# Needs: rpm, rpmbuild, db5.3-util, python3. Usage: bench/rpm_bdb.sh [RUNS] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
n=${2:-2000}
work=${BENCH_DIR:-/tmp/embargo-bench-rpm-bdb}
root="$work/root-$n"
cargo build -q --release -p embargo
B=$PWD/target/release/embargo

if [ ! -f "$root/var/lib/rpm/Packages" ]; then
    rm -rf "$work/build" && mkdir -p "$work/build"
    {
        echo "Name: bench-pkg-0000"
        echo "Version: 2.17"
        echo "Release: 326.el7_9"
        echo "Summary: embargo benchmark package"
        echo "License: LGPLv2+"
        echo "Vendor: CentOS"
        echo "Packager: CentOS BuildSystem <http://bugs.centos.org>"
        echo "BuildArch: noarch"
        for d in libc.so.6 libpthread.so.0 libm.so.6 libdl.so.2 librt.so.1 libz.so.1 libssl.so.10; do
            echo "Requires: $d"
        done
        echo "Provides: bench-virtual = 2.17"
        echo "%description"
        echo "A package whose header has the shape of a small RHEL 7 library package."
        echo "%install"
        echo "mkdir -p %{buildroot}/usr/lib/bench %{buildroot}/usr/share/doc/bench"
        echo "for i in \$(seq 1 120); do echo \$i > %{buildroot}/usr/lib/bench/module-\$i.so; done"
        echo "for i in \$(seq 1 40); do echo \$i > %{buildroot}/usr/share/doc/bench/NOTE-\$i.txt; done"
        echo "%files"
        echo "/usr/lib/bench"
        echo "%doc /usr/share/doc/bench"
        echo "%changelog"
        for i in $(seq 1 30); do
            echo "* Mon Jan 0$(( (i % 9) + 1 )) 2018 Release Engineering <releng@example.com> - 2.17-$i"
            echo "- Fix CVE-2018-$((1000 + i)): a bounds check in a parser that a long changelog line describes"
        done
    } > "$work/build/bench.spec"
    rpmbuild --quiet -bb --define "_topdir $work/build/top" "$work/build/bench.spec" >/dev/null 2>&1
    rpm --initdb --dbpath "$work/build/db"
    rpm -i --nodeps --justdb --dbpath "$work/build/db" "$work"/build/top/RPMS/noarch/*.rpm >/dev/null 2>&1
    python3 - "$work/build/db/rpmdb.sqlite" "$work/build/dump" "$n" tests/fixtures/rpm <<'PY'
import sqlite3, sys
src, dump, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from rpmhdr import clone, write_dump
(blob,) = sqlite3.connect(src).execute("SELECT blob FROM Packages").fetchone()
print(f"header: {len(blob)} bytes", file=sys.stderr)
write_dump(dump, [clone(blob, f"bench-pkg-{i:04d}") for i in range(n)], 4096, "1234")
PY
    rm -rf "$root" && mkdir -p "$root/var/lib/rpm"
    db5.3_load -f "$work/build/dump" "$root/var/lib/rpm/Packages"
    rm -rf "$work/build"
fi
ls -l "$root/var/lib/rpm/Packages"
listed=$(rpm --define '_db_backend bdb_ro' --dbpath "$root/var/lib/rpm" -qa 2>/dev/null | wc -l)
rows=$("$B" --root "$root" --format csv query "SELECT count(*) FROM installed_software WHERE source='rpm'" | tail -1)
echo "rpm lists $listed packages, embargo $rows"
[ "$listed" = "$n" ] && [ "$rows" = "$n" ]
# rpm warns about every index file a bdb_ro database lacks; stderr is dropped
# for both commands alike.
python3 bench/compare.py --runs "$runs" \
    "rpm-qa=sh -c \"rpm --define '_db_backend bdb_ro' --dbpath $root/var/lib/rpm -qa 2>/dev/null\"" \
    "embargo=sh -c \"$B --root $root --format json query \\\"SELECT * FROM installed_software WHERE source='rpm'\\\" 2>/dev/null\""
