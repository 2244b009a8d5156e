//! embargo never writes the root it scans (issue #14 item 6): every fixture
//! root is byte-identical after a scan (contents, modes, mtimes and ctimes
//! of files and directories, the file list), an SQLite rpmdb in WAL mode
//! with committed rows still in its `-wal` is read (those rows included)
//! without a `-shm` or `-wal` appearing beside it, and a scan of the live
//! system opens nothing outside its private temporary directory for
//! writing (checked under strace).

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use common::*;

/// What a change to a tree would show: per entry its type, mode, size,
/// mtime, ctime and (for files) contents. A file made and removed again
/// still changes its directory's mtime.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    mode: u32,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    content: Option<Vec<u8>>,
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(p) = todo.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        let ft = m.file_type();
        let (kind, content) = if ft.is_symlink() {
            ("link", Some(std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()))
        } else if ft.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
            ("dir", None)
        } else if ft.is_file() {
            ("file", Some(std::fs::read(&p).unwrap()))
        } else {
            ("other", None)
        };
        out.insert(
            p.strip_prefix(root).unwrap().to_path_buf(),
            Entry {
                kind,
                mode: m.mode(),
                len: m.len(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
                content,
            },
        );
    }
    out
}

/// Every table, as a scan and as a query of each table would read it.
fn scan_everything(root: &Path) {
    let r = root.to_str().unwrap();
    let o = embargo(&["--root", r, "--format", "json", "scan", "--fail-on", "critical"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "scan of {r}: {}", stderr(&o));
    let tables = embargo(&["--root", r, "--format", "csv", "tables"]);
    let names: Vec<String> =
        stdout(&tables).lines().skip(1).filter_map(|l| l.split(',').next()).map(String::from).collect();
    assert!(names.iter().any(|n| n == "installed_software"), "{names:?}");
    for t in names {
        // file_presence needs a path; one that exists in most roots.
        let sql = match t.as_str() {
            "file_presence" => "SELECT * FROM file_presence WHERE path IN ('/etc', '/var/lib/rpm/rpmdb.sqlite')".into(),
            _ => format!("SELECT * FROM {t}"),
        };
        let o = embargo(&["--root", r, "--format", "json", "query", &sql]);
        assert_eq!(o.status.code(), Some(0), "{sql} on {r}: {}", stderr(&o));
    }
}

/// Each directory one or two levels under tests/fixtures is scanned as a
/// root (a folder that is not one is scanned too: no harm).
#[test]
fn every_fixture_root_is_unchanged_by_a_scan() {
    let base = fixture("");
    let mut roots = Vec::new();
    for a in std::fs::read_dir(&base).unwrap() {
        let a = a.unwrap().path();
        if !a.is_dir() {
            continue;
        }
        roots.push(a.clone());
        for b in std::fs::read_dir(&a).unwrap() {
            let b = b.unwrap().path();
            if b.is_dir() && !b.is_symlink() {
                roots.push(b);
            }
        }
    }
    roots.sort();
    assert!(roots.len() > 30, "{roots:?}");
    let before = snapshot(&base);
    for root in &roots {
        scan_everything(root);
    }
    let after = snapshot(&base);
    for (p, e) in &before {
        assert_eq!(after.get(p), Some(e), "{} changed", p.display());
    }
    let added: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert!(added.is_empty(), "files appeared: {added:?}");
}

/// The rpm fixture in WAL mode, with one more committed row that is only in
/// the `-wal`; the writer is kept open, as on a live host (its `-shm` exists).
fn wal_root() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
    std::fs::copy(fixture("rpm/var/lib/rpm/rpmdb.sqlite"), dir.path().join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    let writer = rusqlite::Connection::open(dir.path().join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    writer.pragma_update(None, "journal_mode", "WAL").unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    writer
        .execute(
            "INSERT INTO Packages(blob) SELECT blob FROM Packages WHERE hnum = (SELECT min(hnum) FROM Packages)",
            [],
        )
        .unwrap();
    assert!(std::fs::metadata(dir.path().join("var/lib/rpm/rpmdb.sqlite-wal")).unwrap().len() > 0);
    (dir, writer)
}

fn rpm_count(root: &Path) -> i64 {
    json_rows(root, "SELECT count(*) AS n FROM installed_software WHERE source = 'rpm'")[0]["n"].as_i64().unwrap()
}

#[test]
fn a_wal_mode_rpmdb_is_read_without_writing_beside_it() {
    let (dir, writer) = wal_root();
    // The fixture's recipe (tests/fixtures/rpm/make.sh) installs three
    // packages; the fourth row is only in the WAL.
    let before = snapshot(dir.path());
    assert!(before.contains_key(Path::new("var/lib/rpm/rpmdb.sqlite-shm")));
    assert_eq!(rpm_count(dir.path()), 4);
    scan_everything(dir.path());
    assert_eq!(snapshot(dir.path()), before);

    // An image holds the database and its WAL, no -shm and no writer: the
    // WAL's rows are still seen, and no -shm is made.
    let image = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(image.path().join("var/lib/rpm")).unwrap();
    for f in ["rpmdb.sqlite", "rpmdb.sqlite-wal"] {
        std::fs::copy(dir.path().join("var/lib/rpm").join(f), image.path().join("var/lib/rpm").join(f)).unwrap();
    }
    drop(writer);
    let before = snapshot(image.path());
    assert_eq!(rpm_count(image.path()), 4);
    scan_everything(image.path());
    assert_eq!(snapshot(image.path()), before);
    assert!(!image.path().join("var/lib/rpm/rpmdb.sqlite-shm").exists());
}

/// Every call of the traced process that could change a file: its path
/// (strace -y names each directory fd) and the call, for those not under
/// `allowed`.
fn writes_outside(trace: &str, allowed: &[&Path]) -> Vec<String> {
    let writing = |l: &str| {
        let call = l.split_once(' ').map_or(l, |x| x.1).trim_start();
        let opens = call.starts_with("openat(") || call.starts_with("open(");
        let writes_flags = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"].iter().any(|f| l.contains(f));
        (opens && writes_flags)
            || [
                "creat(",
                "unlink",
                "rename",
                "mkdir",
                "rmdir",
                "truncate(",
                "link(",
                "linkat(",
                "symlink",
                "chmod",
                "fchmodat",
                "chown",
                "utime",
            ]
            .iter()
            .any(|c| call.starts_with(c))
    };
    trace
        .lines()
        .filter(|l| writing(l))
        // A failed call changed nothing.
        .filter(|l| !l.contains(" = -1 "))
        .filter(|l| !allowed.iter().any(|a| l.contains(&*a.to_string_lossy())))
        .filter(|l| !l.contains("\"/dev/null\"") && !l.contains("</dev/null>"))
        .map(String::from)
        .collect()
}

/// The calls that changed a file outside the private temporary directory
/// during `embargo scan --root ROOT` under strace.
fn traced_scan_writes(root: &Path) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace");
    let o = std::process::Command::new("strace")
        .args(["-f", "-qq", "-y", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_embargo"))
        .arg("--root")
        .arg(root)
        .args(["--format", "json", "scan", "--fail-on", "critical"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.contains("openat("), "strace saw no opens");
    writes_outside(&text, &[tmp.path()])
}

#[test]
fn a_live_scan_opens_nothing_for_writing() {
    if !peer("strace") {
        return;
    }
    let bad = traced_scan_writes(Path::new("/"));
    assert!(bad.is_empty(), "a live scan changed files:\n{}", bad.join("\n"));
}

/// The private copy of a WAL database, and the -wal and -shm SQLite makes
/// for it, are all in the scan's temporary directory.
#[test]
fn a_wal_mode_rpmdb_is_never_opened_for_writing() {
    if !peer("strace") {
        return;
    }
    let (dir, writer) = wal_root();
    let bad = traced_scan_writes(dir.path());
    assert!(bad.is_empty(), "the scan changed files:\n{}", bad.join("\n"));
    drop(writer);
}

/// The check above can fail: a process that does write is caught.
#[test]
fn the_write_check_sees_a_write() {
    if !peer("strace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace");
    let target = elsewhere.path().join("x");
    let st = std::process::Command::new("strace")
        .args(["-f", "-qq", "-y", "-o"])
        .arg(&trace)
        .args(["sh", "-c", "echo hi > \"$1\"; rm \"$1\"", "sh"])
        .arg(&target)
        .status()
        .unwrap();
    assert!(st.success());
    let bad = writes_outside(&std::fs::read_to_string(&trace).unwrap(), &[tmp.path()]);
    assert_eq!(bad.len(), 2, "{bad:?}");
}
