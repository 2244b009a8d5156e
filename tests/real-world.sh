#!/bin/sh
# Fills DIR with the real-world files the gated tests read (they are other
# projects' test data, so they are never committed here), from mirrors of
# their repositories: `git --git-dir=MIRROR show COMMIT:PATH`, data files only.
#   tests/real-world.sh DIR            (mirrors under $EMBARGO_MIRRORS, default /work/.mirror)
#   EMBARGO_REAL_DATA=DIR cargo test --workspace
# A mirror is a bare git dir of github.com/OWNER/NAME at $EMBARGO_MIRRORS/OWNER+NAME/repo;
# without one, `git clone --bare https://github.com/OWNER/NAME` makes it.
# DIR/SOURCES.tsv records repository, commit and path of every file.
# Needs git, xz and python3.
set -eu
out=${1:?usage: tests/real-world.sh DIR}
mirrors=${EMBARGO_MIRRORS:-/work/.mirror}
mkdir -p "$out"
sources="$out/SOURCES.tsv"
printf 'repository\tcommit\tpath\tfile\n' > "$sources"

# copy OWNER/NAME COMMIT PATH DEST: one blob, as it is at COMMIT.
copy() {
    git_dir="$mirrors/$(echo "$1" | tr / +)/repo"
    mkdir -p "$(dirname "$out/$4")"
    if ! git --git-dir="$git_dir" show "$2:$3" > "$out/$4" 2>/dev/null; then
        # Snapshots may lack their largest files; the tests that need one fail.
        echo "warning: $1 $2:$3 is not in the mirror" >&2
        rm -f "$out/$4"
        return 0
    fi
    full=$(git --git-dir="$git_dir" rev-parse "$2^{commit}")
    printf '%s\t%s\t%s\t%s\n' "$1" "$full" "$3" "$4" >> "$sources"
}

# A real Alpine 3.14 (armv7) root: apk-tools' own database.
a=hizlbuzz/alpine-minirootfs-v3.14 c=485d1959659a97344e51f16c9f2266187d15cb77
copy $a $c lib/apk/db/installed apk/alpine-3.14/lib/apk/db/installed
copy $a $c etc/os-release apk/alpine-3.14/etc/os-release

# A distroless image's status.d (syft's test data).
s=anchore/syft
copy $s 3e47305610b0467a8ad992f6744533059a1bb4f5 \
    syft/pkg/cataloger/debian/testdata/image-distroless-deb/var/lib/dpkg/status.d/libsqlite3-0 \
    dpkg/distroless/var/lib/dpkg/status.d/libsqlite3-0
copy $s 4a18895545fbf7559054f445b7ad0aaf6a16776e \
    syft/pkg/cataloger/debian/test-fixtures/var/lib/dpkg/status.d/multiple \
    dpkg/distroless/var/lib/dpkg/status.d/multiple

# Hives Windows wrote: regipy's (xz, decompressed here) and yarp's.
r=mkorman90/regipy c=f315415864889c3ee2a03d8a9e5c52486dcb631b
g="$mirrors/mkorman90+regipy/repo"
for p in $(git --git-dir="$g" ls-tree --name-only $c regipy_tests/data/ | grep '\.xz$'); do
    f=regipy/$(basename "$p" .xz)
    copy $r $c "$p" "$f.xz"
    [ -f "$out/$f.xz" ] || continue
    xz -dc "$out/$f.xz" > "$out/$f" || rm -f "$out/$f"
    rm -f "$out/$f.xz"
done
y=msuhanov/yarp c=125729d78cc1a72cda47e8e5d8ead260ee46a46c
g="$mirrors/msuhanov+yarp/repo"
git --git-dir="$g" ls-tree -r --name-only $c hives_for_tests/ | while read -r p; do
    copy $y $c "$p" "yarp/${p#hives_for_tests/}"
done

# macOS plists and a keychain (plaso's and osquery's test data).
p=log2timeline/plaso c=4ea03ef9
copy $p $c test_data/plist/launchd.plist macos/Library/LaunchDaemons/com.foobar.test.plist
copy $p $c test_data/plist/launchd.minimal.plist macos/Library/LaunchDaemons/foo.minimal.plist
copy $p $c test_data/plist/launchd.noprogram.plist macos/Library/LaunchDaemons/foo.noprogram.plist
copy $p $c test_data/login.keychain macos/Users/test/Library/Keychains/login.keychain
o=osquery/osquery c=a5b14f63
copy $o $c tools/tests/configs/test_launchd.plist macos/Library/LaunchDaemons/com.apple.mDNSResponder.plist
copy $o $c tools/deployment/macos_packaging/pkg/io.osquery.agent.plist macos/Library/LaunchDaemons/io.osquery.agent.plist
copy $o $c tools/tests/configs/test_info.plist "macos/Applications/Photo Booth.app/Contents/Info.plist"
copy $o $c tools/tests/configs/db.plist macos/Library/SystemExtensions/db.plist

# rpm databases (go-rpmdb's test data): RHEL 8 Berkeley DB, SLE 15 NDB.
q=knqyf263/go-rpmdb c=7e39c901d1c42d070a7c681b5d36c92ac6c129d6
copy $q $c pkg/testdata/libuuid/Packages rpm/rhel8-libuuid/var/lib/rpm/Packages
copy $q $c pkg/testdata/sle15-bci/Packages.db rpm/sle15-bci/usr/lib/sysimage/rpm/Packages.db
# go-rpmdb's expected package list for the SLE 15 file, as data (name, epoch,
# version, release, arch, size, vendor), taken out of its Go test table.
git --git-dir="$mirrors/knqyf263+go-rpmdb/repo" show $c:pkg/rpmdb_testcase_test.go | python3 -c '
import re, sys
text = sys.stdin.read()
block = text[text.index("SLE15WithNDB = func()"):]
block = block[:block.index("return")]
row = re.compile(r"\{intRef\((\d*)\), \"([^\"]*)\", \"([^\"]*)\", \"([^\"]*)\", \"([^\"]*)\", \"[^\"]*\", (\d+), \"[^\"]*\", \"([^\"]*)\"")
for m in row.finditer(block):
    print("\t".join(m.groups()))
' > "$out/rpm/sle15-bci.expected.tsv"
printf '%s\t%s\t%s\t%s\n' $q $c "pkg/rpmdb_testcase_test.go (SLE15WithNDB, extracted)" rpm/sle15-bci.expected.tsv >> "$sources"
echo "filled $out ($(($(wc -l < "$sources") - 1)) files); now: EMBARGO_REAL_DATA=$out cargo test --workspace"
