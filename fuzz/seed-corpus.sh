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
find "$F" -path '*/lib/apk/db/installed' | while read -r f; do put apk_installed "$f"; done
# dpkg_journal: a status file, NUL, journal records (NUL between files; a
# part starting with # is a status.d file).
for f in $(find "$F" -path '*/var/lib/dpkg/status'); do
    { cat "$f"; printf '\0Package: zlib1g\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n';
      printf '\0Package: kesl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.1.0-1297\nMaintainer: AO Kaspersky Lab\nDescription: x\n';
      printf '\0Package: cut\nStatus: install ok inst'; } > "$tmp/journal"
    put dpkg_journal "$tmp/journal"
done
for f in $(find "$F" -path '*/var/lib/dpkg/status.d/*' ! -name '*.md5sums'); do
    { printf '\0#'; cat "$f"; } > "$tmp/statusd"
    put dpkg_journal "$tmp/statusd"
done

python3 - "$F/rpm/var/lib/rpm/rpmdb.sqlite" "$tmp/rpm" <<'PY'
import os, sqlite3, sys
os.makedirs(sys.argv[2], exist_ok=True)
for i, (blob,) in enumerate(sqlite3.connect(sys.argv[1]).execute("SELECT blob FROM Packages")):
    open(os.path.join(sys.argv[2], str(i)), "wb").write(blob)
PY
put rpm_header "$tmp"/rpm/*
put rpm_bdb "$F"/rpm/bdb-*/var/lib/rpm/Packages
# The bigger Berkeley DB fixtures, cut to the target's max_len (a truncated
# database is still a good start: metadata, buckets, overflow chains).
for f in "$F"/rpm/bdb-le/var/lib/rpm/Packages "$F"/rpm/bdb-inline/var/lib/rpm/Packages; do
    head -c 65536 "$f" > "$tmp/bdb-cut"
    put rpm_bdb "$tmp/bdb-cut"
done
put rpm_ndb "$F"/rpm/ndb/usr/lib/sysimage/rpm/Packages.db

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
put pack ../queries/catalog/*.toml

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
    "$W/root/Windows/System32/config/SOFTWARE"
{ cat "$W/dirty/new/HIVE"; printf '\0EMBARGO-LOG\0'; cat "$W/dirty/new/HIVE.LOG1"; printf '\0EMBARGO-LOG\0'; cat "$W/dirty/new/HIVE.LOG2"; } > "$tmp/new"
{ cat "$W/dirty/old/HIVE"; printf '\0EMBARGO-LOG\0\0EMBARGO-LOG\0'; cat "$W/dirty/old/HIVE.LOG"; } > "$tmp/old"
put registry_hive "$tmp/new" "$tmp/old"

# hive_cells: the fixture hives' cells without their base block and bin
# headers, in the target's encoding (a control byte: bit 0 format 1.5,
# bit 1 one bin per 4 KiB page), cut to its max_len.
python3 - "$tmp/cells" "$W/minimal" "$W/root/Windows/System32/config/SYSTEM" "$W/root/Users/alice/NTUSER.DAT" \
    "$W/root/Windows/System32/config/SOFTWARE" <<'PY'
import os, struct, sys
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
for i, f in enumerate(sys.argv[2:]):
    b = open(f, "rb").read()
    minor = struct.unpack_from("<I", b, 24)[0]
    bins, pos = [], 4096
    while pos + 32 <= len(b) and b[pos:pos + 4] == b"hbin":
        size = struct.unpack_from("<I", b, pos + 8)[0]
        bins.append(b[pos + 32:pos + size]); pos += size
    control = 1 if minor >= 4 else 0
    paged = all(len(x) == 4096 - 32 for x in bins)
    cells = b"".join(bins) if paged else bins[0]
    open(f"{out}/{i}", "wb").write(bytes([control | (2 if paged else 0)]) + cells[:16383])
PY
put hive_cells "$tmp"/cells/*
# cert_blob: every Blob value of the fixture hives (hivexregedit, the
# independent reader) and the file-based store's files.
for h in "$W/root/Windows/System32/config/SOFTWARE" "$W/root/Users/alice/NTUSER.DAT"; do
    hivexregedit --export "$h" '\' | python3 -c '
import re, sys
text = sys.stdin.read().replace("\\\n", "")
for i, m in enumerate(re.finditer(r"^\"Blob\"=hex\(3\):([0-9a-f,]*)$", text, re.M)):
    open("%s/%s-%d" % (sys.argv[1], sys.argv[2], i), "wb").write(bytes.fromhex(m.group(1).replace(",", "")))
' "$tmp" "blob-$(basename "$h")"
done
put cert_blob "$tmp"/blob-* $(find "$W/root" -path '*/SystemCertificates/*/Certificates/*' -type f)
# homebrew_receipt: each fixture keg as `name/version`, NUL, its receipt.
find "$F/macos" -name INSTALL_RECEIPT.json | while read -r f; do
    keg=$(dirname "$f"); { printf '%s/%s\0' "$(basename "$(dirname "$keg")")" "$(basename "$keg")"; cat "$f"; } > "$tmp/receipt"
    put homebrew_receipt "$tmp/receipt"
done
printf 'wget/1.24.5\nwget/1.25.0\nopenssl@3/3.3.0\0{"homebrew_version":"4.2.0","time":1709251200,"source":{"tap":"homebrew/core"}}' > "$tmp/receipt"
put homebrew_receipt "$tmp/receipt"

# osquery_request: Thrift binary frames as osqueryd and its Python client send
# them (ping, call columns/generate, shutdown, an old unversioned header);
# osquery_context: context JSON as osquery's setRequestFromContext writes it,
# and the pre-3.0 forms (string op, "" list).
python3 - "$tmp/osq" <<'PY'
import json, os, struct, sys
out = sys.argv[1]; os.makedirs(out, exist_ok=True)
def s(b): b = b.encode() if isinstance(b, str) else b; return struct.pack(">i", len(b)) + b
def head(name, seq=1): return struct.pack(">I", 0x80010001) + s(name) + struct.pack(">i", seq)
def smap(d): return bytes([11, 11]) + struct.pack(">i", len(d)) + b"".join(s(k) + s(v) for k, v in d.items())
def call(reg, item, req, seq=1): return head("call", seq) + b"\x0b\x00\x01" + s(reg) + b"\x0b\x00\x02" + s(item) + b"\x0d\x00\x03" + smap(req) + b"\x00"
ctx = json.dumps({"constraints": [{"name": "name", "list": [{"op": 2, "expr": "kesl"}, {"op": 2, "expr": "klnagent64"}], "affinity": "TEXT"},
                                  {"name": "size", "list": [{"op": 4, "expr": "0"}], "affinity": "BIGINT"}],
                  "colsUsed": ["name", "size"], "colsUsedBitset": 3})
frames = {
    "ping": head("ping") + b"\x00",
    "shutdown": head("shutdown") + b"\x00",
    "columns": call("table", "installed_software", {"action": "columns"}),
    "generate": call("table", "installed_software", {"action": "generate", "context": ctx}),
    "two": head("ping", 1) + b"\x00" + call("table", "file_presence", {"action": "generate", "context": ctx}, 2),
    "old": struct.pack(">i", 4) + b"ping" + b"\x01" + struct.pack(">i", 7) + b"\x00",
    "status": struct.pack(">I", 0x80010002) + s("registerExtension") + struct.pack(">i", 1) + b"\x0c\x00\x00" + b"\x08\x00\x01" + struct.pack(">i", 0) + b"\x0b\x00\x02" + s("OK") + b"\x0a\x00\x03" + struct.pack(">q", 4242) + b"\x00\x00",
}
os.makedirs(out + "/req", exist_ok=True); os.makedirs(out + "/ctx", exist_ok=True)
for k, v in frames.items(): open(f"{out}/req/{k}", "wb").write(v)
contexts = {
    "new": ctx,
    "old": '{"constraints":[{"name":"source","list":[{"op":"2","expr":"deb"}],"affinity":"TEXT"},{"name":"name","list":"","affinity":"TEXT"}]}',
    "required": '{"constraints":[{"name":"path","list":[{"op":2,"expr":"/opt/kaspersky"}],"affinity":"TEXT"}],"colsUsed":["path","exists"],"colsUsedBitset":3}',
    "empty": '{"constraints":[],"colsUsed":[],"colsUsedBitset":0}',
}
for k, v in contexts.items(): open(f"{out}/ctx/{k}", "w").write(v)
PY
put osquery_request "$tmp"/osq/req/*
put osquery_context "$tmp"/osq/ctx/*
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
