#!/usr/bin/env bash
# Re-measures every speed target the issues name, each against its peer in
# the same run (bench/compare.py alternates the commands and reports medians).
# Usage: bench/issues.sh [RUNS]   (builds release binaries first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
cargo build -q --release -p embargo -p embargo-dev
B=target/release/embargo
synth=${SYNTH:-/tmp/embargo-synth}
if [ ! -d "$synth/100k" ]; then
    target/release/embargo-dev synth-root --out "$synth/100k" --packages 100000
    target/release/embargo-dev synth-root --out "$synth/200k" --packages 200000
    target/release/embargo-dev synth-root --out "$synth/units-certs" --packages 0 --units 10000 --certs 10000
    target/release/embargo-dev synth-root --out "$synth/all" --packages 100000 --units 10000 --certs 10000
fi
cmp() { python3 bench/compare.py --runs "$runs" "$@"; echo; }

echo "## issue 2: installed_software"
cmp "dpkg-query=dpkg-query -W -f='\${Package}\t\${Version}\t\${Maintainer}\n'" \
    "embargo-deb=$B query \"SELECT name, version, publisher FROM installed_software WHERE source='deb'\""
cmp --runs 7 "embargo-100k=$B --root $synth/100k --format json query 'SELECT * FROM installed_software'" \
    "embargo-200k=$B --root $synth/200k --format json query 'SELECT * FROM installed_software'"

echo "## issue 3: services and certificates"
cmp "systemctl=systemctl list-unit-files --root=/ --no-legend" \
    "embargo-services=$B --format json query 'SELECT * FROM installed_services'"
cmp "openssl=openssl crl2pkcs7 -nocrl -certfile /etc/ssl/certs/ca-certificates.crt | openssl pkcs7 -print_certs -noout" \
    "embargo-bundle=$B --format json query \"SELECT * FROM installed_certificates WHERE store = 'bundle'\""
cmp --runs 7 "units-10k=$B --root $synth/units-certs --format json query 'SELECT * FROM installed_services'" \
    "certs-10k=$B --root $synth/units-certs --format json query 'SELECT * FROM installed_certificates'"

echo "## issue 4: scan"
cmp "dpkg-query-W=dpkg-query -W" "embargo-scan=$B scan"
cmp --runs 5 "scan-100k+10k+10k=$B --root $synth/all scan"

echo "## issue 14: apk (target: 100,000 entries <= 0.3 s; the dpkg root of as many packages alongside)"
[ -f "$synth/apk100k/lib/apk/db/installed" ] || target/release/embargo-dev synth-apk --out "$synth/apk100k" --packages 100000
cmp --runs 11 "apk-100k=$B --root $synth/apk100k --format json query \"SELECT * FROM installed_software WHERE source='apk'\"" \
    "deb-100k=$B --root $synth/100k --format json query \"SELECT * FROM installed_software WHERE source='deb'\""
