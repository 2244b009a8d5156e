//! installed_software's apk source against a second reader of the format,
//! and against hostile databases.
//!
//! No apk-tools build runs on Debian, so the second implementation is the
//! small Python reader below, written from apk-tools' description of the
//! format (`X:value` lines, a blank line between packages), not from
//! embargo's parser.

mod common;

use std::path::Path;

use common::*;

/// Prints one JSON object per package of the database at argv[1]:
/// apk's letters P, V, A, m, I, and `P-V` as `apk info -v` names it.
const PY_READER: &str = r#"
import json, sys
records, cur = [], {}
with open(sys.argv[1], 'rb') as f:
    for raw in f.read().split(b'\n'):
        if raw == b'':
            if cur:
                records.append(cur)
            cur = {}
            continue
        key, sep, value = raw[:1], raw[1:2], raw[2:]
        if sep != b':':
            raise SystemExit('not a field: %r' % raw)
        cur[key.decode()] = value.decode('utf-8')
if cur:
    records.append(cur)
for r in records:
    print(json.dumps({
        'name': r['P'], 'version': r['V'], 'arch': r.get('A'), 'publisher': r.get('m'),
        'size': int(r['I']) if 'I' in r else None, 'identifier': r['P'] + '-' + r['V'],
    }, sort_keys=True))
"#;

fn python_rows(db: &Path) -> Vec<serde_json::Value> {
    run_peer("python3", &["-c", PY_READER, db.to_str().unwrap()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn embargo_rows(root: &Path) -> Vec<serde_json::Value> {
    json_rows(
        root,
        "SELECT name, version, arch, publisher, size, identifier FROM installed_software WHERE source = 'apk'",
    )
}

fn errors(root: &Path) -> Vec<serde_json::Value> {
    json_rows(root, "SELECT path, kind, message FROM scan_errors WHERE table_name = 'installed_software'")
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// The fixture's database (written by its make.py): every package the
/// Python reader finds, with the same fields, and nothing else.
#[test]
fn alpine_fixture_agrees_with_a_second_reader() {
    let root = fixture("roots/alpine-mini");
    let ours = embargo_rows(&root);
    assert!(errors(&root).is_empty(), "{:?}", errors(&root));
    // make.py's PACKAGES: 8 packages.
    assert_eq!(ours.len(), 8);
    if !peer("python3") {
        return;
    }
    assert_eq!(ours, python_rows(&root.join("lib/apk/db/installed")));
}

/// A real Alpine 3.14 (armv7) database, apk-tools 2.12.6's own output
/// (tests/real-world.sh fetches it): the Python reader's rows, and the
/// values of its lines.
#[test]
fn real_alpine_database_agrees_with_a_second_reader() {
    let Some(root) = real_data("apk/alpine-3.14") else { return };
    let ours = embargo_rows(&root);
    assert!(errors(&root).is_empty(), "{:?}", errors(&root));
    let db = std::fs::read_to_string(root.join("lib/apk/db/installed")).unwrap();
    assert_eq!(ours.len(), db.lines().filter(|l| l.starts_with("P:")).count());
    assert_eq!(ours.len(), 26);
    let apk = ours.iter().find(|r| r["name"] == "apk-tools").expect("apk-tools");
    // Its lines: P:apk-tools V:2.12.6-r0 A:armv7 I:221184 m:Natanael Copa <ncopa@alpinelinux.org>.
    assert_eq!(apk["version"], "2.12.6-r0");
    assert_eq!(apk["arch"], "armv7");
    assert_eq!(apk["size"], 221184);
    assert_eq!(apk["publisher"], "Natanael Copa <ncopa@alpinelinux.org>");
    let o = embargo(&["--root", root.to_str().unwrap(), "--format", "json", "scan"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().map(Vec::len), Some(0), "no name of Alpine's main matches");
    if !peer("python3") {
        return;
    }
    assert_eq!(ours, python_rows(&root.join("lib/apk/db/installed")));
}

#[test]
fn apk_rows_follow_the_contract() {
    let root = fixture("roots/alpine-mini");
    let rows = json_rows(
        &root,
        "SELECT * FROM installed_software WHERE source = 'apk' AND name IN ('musl', 'apk-tools') ORDER BY name",
    );
    assert_eq!(rows.len(), 2);
    // make.py's lines: P:apk-tools V:2.14.0-r5 A:x86_64 I:307200
    // m:Example Maintainer <maint@example.org>.
    let apk = &rows[0];
    assert_eq!(apk["name"], "apk-tools");
    assert_eq!(apk["version"], "2.14.0-r5");
    assert_eq!(apk["identifier"], "apk-tools-2.14.0-r5");
    assert_eq!(apk["arch"], "x86_64");
    assert_eq!(apk["size"], 307200);
    assert_eq!(apk["publisher"], "Example Maintainer <maint@example.org>");
    assert_eq!(apk["status"], "installed");
    assert_eq!(apk["installed"], 1);
    assert_eq!(apk["install_time"], serde_json::Value::Null, "t: is the build time, not the install time");
    assert_eq!(apk["path"], "/lib/apk/db/installed");
    assert_eq!(rows[1]["publisher"], "Jörg Beispiel <joerg@example.org>");
    // The source is pushed down and counted by `scan`.
    assert!(json_rows(&root, "SELECT name FROM installed_software WHERE source = 'deb'").is_empty());
    let o = embargo(&["--root", root.to_str().unwrap(), "scan"]);
    assert!(stdout(&o).contains("8 apk packages"), "{}", stdout(&o));
}

/// A Kaspersky package installed through apk is a finding, as a deb or rpm
/// one is: the catalog's `package` indicators apply to apk names.
#[test]
fn a_banned_apk_package_is_found() {
    let root = fixture("roots/alpine-mini");
    let o = embargo(&["--root", root.to_str().unwrap(), "--format", "json", "scan"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let found: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["vendor_id"].as_str().unwrap(), f["evidence"].as_str().unwrap(), f["name"].as_str().unwrap()))
        .collect();
    // make.py's `kesl` (m:AO Kaspersky Lab), and no other of its names.
    assert!(found.contains(&("kaspersky", "software", "kesl")), "{found:?}");
    assert!(found.iter().all(|f| f.2 == "kesl"), "{found:?}");
}

/// Binary junk, a record cut short, an overlong line and a record without
/// a name cost only themselves: every good record still comes back.
#[test]
fn a_damaged_database_keeps_its_good_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = b"P:first\nV:1.0-r0\nA:x86_64\n\n".to_vec();
    db.extend_from_slice(b"\x00\x01\xfe\xff\x7fELF\x02\x01\n\x89PNG\r\n\x1a\n\n");
    db.extend_from_slice(b"P:second\nV:2.0-r0\nF:usr/bin\nR:");
    db.extend_from_slice(&vec![b'z'; 5 << 20]);
    db.extend_from_slice(b"\n\nV:3\nA:noarch\n\nP:kesl\nV:12-r0\nm:AO Kaspersky Lab\n\nP:cut-short\nV:");
    write(dir.path(), "lib/apk/db/installed", &db);
    let names: Vec<_> = json_rows(dir.path(), "SELECT name, version FROM installed_software ORDER BY name")
        .into_iter()
        .map(|r| format!("{} {}", r["name"].as_str().unwrap(), r["version"].as_str().unwrap()))
        .collect();
    assert_eq!(names, ["first 1.0-r0", "kesl 12-r0", "second 2.0-r0"]);
    let errs = errors(dir.path());
    let msgs: Vec<_> = errs.iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(
        msgs,
        [
            "record 2 (line 5): line 5 is not a field (`X:value`): starts \"\\0\\u{1}\"",
            "record 4 (line 14): no P: (package name)",
            "record 6 (line 21): package cut-short has no V: (version)",
        ]
    );
    assert!(errs.iter().all(|e| e["kind"] == "parse_error" && e["path"] == "/lib/apk/db/installed"), "{errs:?}");
}

#[cfg(unix)]
#[test]
fn a_database_that_is_no_file_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lib/apk/db/installed")).unwrap();
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["kind"], "not_regular_file");
    // Linked out of the root: resolved inside it, where nothing is.
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "installed", b"P:analysts-secret\nV:1\n");
    std::fs::create_dir_all(dir.path().join("lib/apk/db")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("installed"), dir.path().join("lib/apk/db/installed")).unwrap();
    assert!(embargo_rows(dir.path()).is_empty());
}
