#!/bin/sh
# Rebuilds fuzz/corpus/<target>/ from the test fixtures: small real inputs
# for each target to start from. Run from anywhere; needs python3 (with its
# sqlite3 module) and openssl. The result is committed; rerun when fixtures
# change. Files are named by their SHA-1, so duplicates collapse.
set -eu
cd "$(dirname "$0")"
F=../tests/fixtures
C=corpus
rm -rf "$C"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

put() { # put TARGET FILE...
    t=$1; shift
    mkdir -p "$C/$t"
    for f in "$@"; do
        [ -f "$f" ] || continue
        # Big seeds slow every mutation; the fixture's 1 MiB line is for tests.
        [ "$(wc -c < "$f")" -le 131072 ] || continue
        cp "$f" "$C/$t/$(sha1sum < "$f" | cut -c1-16)"
    done
}
put_joined() { # put_joined TARGET A B: A, a NUL byte, B (the two-file targets)
    { cat "$2"; printf '\0'; cat "$3"; } > "$tmp/joined"
    put "$1" "$tmp/joined"
}

find "$F" -path '*/var/lib/dpkg/status' | while read -r f; do put dpkg_status "$f"; done

python3 - "$F/rpm/var/lib/rpm/rpmdb.sqlite" "$tmp/rpm" <<'PY'
import os, sqlite3, sys
os.makedirs(sys.argv[2], exist_ok=True)
for i, (blob,) in enumerate(sqlite3.connect(sys.argv[1]).execute("SELECT blob FROM Packages")):
    open(os.path.join(sys.argv[2], str(i)), "wb").write(blob)
PY
put rpm_header "$tmp"/rpm/*

pems=$(find "$F/certs" "$F/scan" -type f \( -name '*.crt' -o -name '*.pem' \))
for f in $pems; do put pem_bundle "$f"; done
put pem_bundle "$F/certs/root/etc/pki/ca-trust/source/anchors/leaf.der"
# x509_der: each block's DER (a TRUSTED CERTIFICATE keeps its trust data).
i=0
for f in $pems; do
    python3 - "$f" "$tmp/der" <<'PY'
import base64, os, re, sys
os.makedirs(sys.argv[2], exist_ok=True)
text = open(sys.argv[1], "rb").read()
for m in re.finditer(rb"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)-----END \1-----", text, re.S):
    der = base64.b64decode(b"".join(m.group(2).split()))
    open(os.path.join(sys.argv[2], "%d-%d" % (hash(sys.argv[1]) & 0xffff, m.start())), "wb").write(der)
PY
done
put x509_der "$tmp"/der/* "$F/certs/root/etc/pki/ca-trust/source/anchors/leaf.der"

# nss_rows: the fixtures' cert9.db rows in the target's encoding.
for db in $(find "$F/certs" -name cert9.db); do
    python3 - "$db" "$tmp/nss-$(sha1sum < "$db" | cut -c1-8)" <<'PY'
import sqlite3, struct, sys
cols = ["a0", "a3", "a11", "a81", "a82", "ace536358", "ace536359", "ace53635a", "ace53635b"]
out = bytearray()
for row in sqlite3.connect(sys.argv[1]).execute("SELECT %s FROM nssPublic" % ", ".join(cols)):
    for v in row:
        if v is None:
            out += b"\x00"
        elif isinstance(v, int):
            out += b"\x03" + struct.pack(">q", v)
        elif isinstance(v, str):
            b = v.encode()
            out += b"\x02" + struct.pack(">H", len(b)) + b
        elif bytes(v) == b"\xa5\x00\x5a":
            out += b"\x04"
        elif len(v) == 4:
            out += b"\x05" + bytes(v)
        else:
            out += b"\x01" + struct.pack(">H", len(v)) + bytes(v)
open(sys.argv[2], "wb").write(out)
PY
    put nss_rows "$tmp"/nss-*
done

B=$F/browsers/root
find "$F/browsers" "$F/scan" -name manifest.json | while read -r f; do put chromium_manifest "$f"; done
put_joined chromium_manifest \
    "$B/home/alice/.config/google-chrome/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/21.15.8.493_0/manifest.json" \
    "$B/home/alice/.config/google-chrome/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/21.15.8.493_0/_locales/en/messages.json"
find "$F/browsers" "$F/scan" -name Preferences | while read -r f; do put chromium_preferences "$f"; done
put_joined chromium_preferences "$B/home/alice/.config/google-chrome/Default/Preferences" \
    "$B/home/alice/.config/google-chrome/Default/Secure Preferences"
put chromium_preferences "$B/root/.config/chromium/Default/Secure Preferences"
find "$F/browsers" -name extensions.json | while read -r f; do put firefox_extensions "$f"; done

put snap_state "$F/snap/state/var/lib/snapd/state.json"
sed 's/"firefox"/"fuzz"/; s/"4173"/"1"/g' "$F/snap/state/var/lib/snapd/state.json" > "$tmp/state.json"
put_joined snap_state "$tmp/state.json" "$F/snap/state/snap/firefox/4173/meta/snap.yaml"
find "$F/snap" -name snap.yaml | while read -r f; do put snap_yaml "$f"; done

find "$F/flatpak" -name metadata | while read -r f; do put flatpak_metadata "$f"; done
find "$F/flatpak" -name '*.xml' | while read -r f; do put flatpak_appstream "$f"; done

put catalog ../queries/catalog/*.toml

find "$F" -name os-release | while read -r f; do put os_release "$f"; done

# Unit files and init scripts come from the systemd fixture builders.
for m in "$F"/systemd/*/make.sh; do
    d="$tmp/systemd-$(basename "$(dirname "$m")")"
    sh "$m" "$d" > /dev/null
    find "$d" -type f \( -path '*systemd*' \) | while read -r f; do put systemd_unit "$f"; done
    find "$d" -type f -path '*/init.d/*' | while read -r f; do put sysv_lsb "$f"; done
done
find "$F/scan" -type f -name '*.service' | while read -r f; do put systemd_unit "$f"; done
printf '[Unit]\nDescription=Base\n[Service]\nExecStart=/usr/bin/base\n[Install]\nWantedBy=multi-user.target\n\0[Service]\nExecStart=\nExecStart=/opt/kaspersky/bin/override\nUser=nobody\n' > "$tmp/dropin"
put systemd_unit "$tmp/dropin"

# plist: every plist of the macOS fixtures (XML, binary, UTF-16, hostile, public test data).
find "$F/macos" -type f \( -name '*.plist' \) | while read -r f; do put plist "$f"; done
find "$F/macos" -type f -name '*.keychain' | while read -r f; do put keychain "$f"; done
# registry_hive: the hivex-made hives, and each dirty hive joined with its
# logs by the target's marker.
W=$F/windows
put registry_hive "$W/minimal" "$W/root/Windows/System32/config/SYSTEM" "$W/root/Users/alice/NTUSER.DAT" \
    "$W/root/Windows/System32/config/SOFTWARE" "$W/real/SECURITY"
{ cat "$W/dirty/new/HIVE"; printf '\0EMBARGO-LOG\0'; cat "$W/dirty/new/HIVE.LOG1"; printf '\0EMBARGO-LOG\0'; cat "$W/dirty/new/HIVE.LOG2"; } > "$tmp/new"
{ cat "$W/dirty/old/HIVE"; printf '\0EMBARGO-LOG\0\0EMBARGO-LOG\0'; cat "$W/dirty/old/HIVE.LOG"; } > "$tmp/old"
put registry_hive "$tmp/new" "$tmp/old"

# sql_functions: values from osquery's own tests (osquery/sql/tests/sql.cpp),
# as an index byte, a, NUL, b.
while IFS='|' read -r i a b; do
    printf '%s%s\0%s' "$i" "$a" "$b" > "$tmp/sqlf"
    put sql_functions "$tmp/sqlf"
done <<'SEEDS'
1|1.9.9-1ubuntu2.4|1.9.9-1ubuntu2.3
2|1.0.0~rc2^2021|1.0.0
3|1:1.2.13-2|4.2.1
4|41.1-2|43alpha+r8+g1de47dbc-1
5|9.11.4-26.P2.el7_9.10|32:9.11.4-26.P2.el7_9.13
1|/foo/bar|/
2| a, b ,c|,
3|hello world|(\w+) .*(or|ld)
1|/filesystem/path/download.extension.zip|.+/([^./]+)
SEEDS

du -sh --apparent-size "$C"
for d in "$C"/*; do echo "$(ls "$d" | wc -l) $(basename "$d")"; done
