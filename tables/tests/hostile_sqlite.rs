//! Hostile SQLite files in a scanned root: rpmdb.sqlite and NSS cert9.db
//! built at run time to attack the analyst's machine (a journal naming a
//! super-journal to delete, or a FIFO to hang on; a recursive view; a virtual
//! table; sparse giants), and a check that scanning never writes the root.
//!
//! Each hostile scan runs in a child process (this test binary, re-run on the
//! ignored `child` test) with its own TMPDIR, so that a hang can be killed and
//! anything SQLite or embargo leaves in the temporary directory can be seen.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use embargo_tables::collectors::rpmdb;
use embargo_tables::tables::installed_certificates::TABLE as CERTS;
use embargo_tables::{Query, Root, Scan};
use sha2::Digest;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

const RPMDB: &str = "var/lib/rpm/rpmdb.sqlite";
const BOB_NSS: &str = "home/bob/.pki/nssdb/cert9.db";

/// A root holding a copy of the rpm fixture's database.
fn rpm_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
    std::fs::copy(fixtures().join("rpm").join(RPMDB), dir.path().join(RPMDB)).unwrap();
    dir
}

/// A root holding a copy of the Firefox fixture's cert9.db (4 certificates)
/// as bob's NSS database.
fn nss_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("home/bob/.pki/nssdb")).unwrap();
    let src = fixtures().join("certs/root/home/alice/.mozilla/firefox/abcd1234.default-release/cert9.db");
    std::fs::copy(src, dir.path().join(BOB_NSS)).unwrap();
    dir
}

/// A hot rollback journal for the database `db` (as it is now), as SQLite
/// writes it (pager.c): one header sector, one page record that restores page
/// 1 as it is, and a super-journal record naming `super_journal`.
fn hot_journal(db: &Path, super_journal: &Path) -> Vec<u8> {
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let bytes = std::fs::read(db).unwrap();
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536usize,
        n => n as usize,
    };
    let pages = (bytes.len() / page_size) as u32;
    let mut j = Vec::new();
    j.extend_from_slice(&MAGIC);
    j.extend_from_slice(&1u32.to_be_bytes()); // page records
    j.extend_from_slice(&0u32.to_be_bytes()); // checksum nonce
    j.extend_from_slice(&pages.to_be_bytes()); // database size before the transaction
    j.extend_from_slice(&512u32.to_be_bytes()); // sector size
    j.extend_from_slice(&(page_size as u32).to_be_bytes());
    j.resize(512, 0);
    let page = &bytes[..page_size];
    j.extend_from_slice(&1u32.to_be_bytes());
    j.extend_from_slice(page);
    let mut sum = 0u32;
    let mut i = page_size as isize - 200;
    while i > 0 {
        sum = sum.wrapping_add(u32::from(page[i as usize]));
        i -= 200;
    }
    j.extend_from_slice(&sum.to_be_bytes());
    let name = super_journal.to_str().unwrap().as_bytes();
    j.extend_from_slice(&((0x4000_0000 / page_size) as u32 + 1).to_be_bytes());
    j.extend_from_slice(name);
    j.extend_from_slice(&(name.len() as u32).to_be_bytes());
    j.extend_from_slice(&name.iter().map(|&b| u32::from(b)).sum::<u32>().to_be_bytes());
    j.extend_from_slice(&MAGIC);
    j
}

/// Every name under `dir` with what it is: a file's SHA-256, a link's
/// target, or "dir".
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let ft = e.file_type().unwrap();
            let what = if ft.is_symlink() {
                format!("link {}", std::fs::read_link(&p).unwrap().display())
            } else if ft.is_dir() {
                todo.push(p.clone());
                "dir".to_string()
            } else if ft.is_file() {
                digest(&p)
            } else {
                "other".to_string()
            };
            out.insert(name, what);
        }
    }
    out
}

/// A file's SHA-256; for the sparse giants, whose hashing would take
/// minutes, the first MiB's with the size and modification time.
fn digest(p: &Path) -> String {
    let meta = std::fs::metadata(p).unwrap();
    let mut f = std::fs::File::open(p).unwrap();
    let mut bytes = Vec::new();
    let whole = meta.len() <= 64 << 20;
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut f, if whole { u64::MAX } else { 1 << 20 }), &mut bytes)
        .unwrap();
    let hex: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    if whole { hex } else { format!("{hex} {} bytes, modified {:?}", meta.len(), meta.modified().unwrap()) }
}

/// What a child scan printed: one line per package, certificate and error.
#[derive(Debug, Default)]
struct Outcome {
    packages: Vec<String>,
    certs: Vec<String>,
    /// (kind, path, message)
    errors: Vec<(String, String, String)>,
    elapsed: Duration,
}

impl Outcome {
    fn error(&self, kind: &str, path: &str) -> &str {
        self.errors
            .iter()
            .find(|(k, p, _)| k == kind && p == path)
            .map(|(_, _, m)| m.as_str())
            .unwrap_or_else(|| panic!("no {kind} error for {path}: {self:#?}"))
    }
}

/// Scans `root` (rpm packages and NSS certificates) in a child process whose
/// TMPDIR is a fresh directory, kills it after `limit`, and checks that the
/// scan neither changed the root nor left anything in TMPDIR.
fn scan_in_child(root: &Path, limit: Duration) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    // SQLite takes its temporary directory from SQLITE_TMPDIR before TMPDIR,
    // and unlinks a temporary file as soon as it opens it: only the
    // directory's modification time shows that one was made.
    let sqlite_tmp = tempfile::tempdir().unwrap();
    let sqlite_tmp_mtime = std::fs::metadata(sqlite_tmp.path()).unwrap().modified().unwrap();
    let before = tree(root);
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1", "-q"])
        .env("EMBARGO_TEST_CHILD_ROOT", root)
        .env("TMPDIR", tmp.path())
        .env("SQLITE_TMPDIR", sqlite_tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the scan of {} did not finish in {limit:?}", root.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "child failed: {status}\n{stdout}");
    let mut out = Outcome { elapsed, ..Outcome::default() };
    for line in stdout.lines() {
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        match f.as_slice() {
            ["PKG", name] => out.packages.push(name.to_string()),
            ["CERT", cn] => out.certs.push(cn.to_string()),
            ["ERR", kind, path, message] => out.errors.push((kind.to_string(), path.to_string(), message.to_string())),
            _ => {}
        }
    }
    assert_eq!(tree(root), before, "the scan changed the root");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the scan left {left:?} in its TMPDIR");
    assert_eq!(
        std::fs::metadata(sqlite_tmp.path()).unwrap().modified().unwrap(),
        sqlite_tmp_mtime,
        "SQLite made a temporary file"
    );
    out
}

/// Not a test: the scan that [`scan_in_child`] runs in a child process.
#[test]
#[ignore = "run by scan_in_child in a child process"]
fn child() {
    let Some(dir) = std::env::var_os("EMBARGO_TEST_CHILD_ROOT") else {
        return;
    };
    let root = Root::new(&dir).unwrap();
    let lines = std::cell::RefCell::new(Vec::new());
    rpmdb::read_all(
        &root,
        |_, p| lines.borrow_mut().push(format!("PKG\t{}", p.name)),
        |e| lines.borrow_mut().push(format!("ERR\t{}\t{}\t{}", e.kind, e.path, e.message.replace('\n', " "))),
    );
    let mut lines = lines.into_inner();
    let scan = Scan::new(root);
    let q = Query::all().with("store", vec![embargo_tables::Value::Text("nss".into())]);
    for c in (CERTS.generate)(&scan.ctx("installed_certificates"), &q) {
        lines.push(format!("CERT\t{}", c.common_name.unwrap_or_default()));
    }
    for e in scan.errors.snapshot() {
        lines.push(format!("ERR\t{}\t{}\t{}", e.kind, e.path, e.message.replace('\n', " ")));
    }
    println!("{}", lines.join("\n"));
}

const PROMPT: Duration = Duration::from_secs(60);

#[test]
fn a_super_journal_named_by_a_cert9_journal_is_not_deleted() {
    let root = nss_root();
    let outside = tempfile::tempdir().unwrap();
    let sentinel = outside.path().join("analyst-notes.txt");
    std::fs::write(&sentinel, b"precious\n").unwrap();
    let db = root.path().join(BOB_NSS);
    std::fs::write(root.path().join(format!("{BOB_NSS}-journal")), hot_journal(&db, &sentinel)).unwrap();

    let out = scan_in_child(root.path(), PROMPT);
    assert_eq!(std::fs::read(&sentinel).unwrap(), b"precious\n", "the named file must survive");
    assert_eq!(out.certs.len(), 4, "{out:#?}");
    let why = out.error("unsupported", &format!("/{BOB_NSS}-journal"));
    assert!(why.contains("super-journal") && why.contains("analyst-notes.txt"), "{why}");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_super_journal_does_not_hang_the_scan() {
    let root = nss_root();
    let outside = tempfile::tempdir().unwrap();
    let fifo = outside.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let db = root.path().join(BOB_NSS);
    std::fs::write(root.path().join(format!("{BOB_NSS}-journal")), hot_journal(&db, &fifo)).unwrap();

    let out = scan_in_child(root.path(), PROMPT);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(out.certs.len(), 4, "{out:#?}");
    out.error("unsupported", &format!("/{BOB_NSS}-journal"));
}

#[test]
fn a_super_journal_named_by_an_rpmdb_journal_is_not_deleted() {
    let root = rpm_root();
    let outside = tempfile::tempdir().unwrap();
    let sentinel = outside.path().join("analyst-notes.txt");
    std::fs::write(&sentinel, b"precious\n").unwrap();
    let db = root.path().join(RPMDB);
    std::fs::write(root.path().join(format!("{RPMDB}-journal")), hot_journal(&db, &sentinel)).unwrap();

    let out = scan_in_child(root.path(), PROMPT);
    assert_eq!(std::fs::read(&sentinel).unwrap(), b"precious\n");
    assert_eq!(out.packages.len(), 3, "{out:#?}");
}

/// `n` counts up forever; the sort of `ORDER BY` would spill it to TMPDIR.
const ENDLESS: &str = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c)";

#[test]
fn an_endless_recursive_packages_view_is_refused() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    let c = rusqlite::Connection::open(root.path().join(RPMDB)).unwrap();
    c.execute_batch(&format!("CREATE VIEW Packages AS {ENDLESS} SELECT n AS hnum, zeroblob(4096) AS blob FROM c;"))
        .unwrap();
    drop(c);
    let out = scan_in_child(root.path(), PROMPT);
    assert!(out.packages.is_empty());
    let why = out.error("unsupported", &format!("/{RPMDB}"));
    assert!(why.contains("Packages is a view"), "{why}");
}

#[test]
fn an_endless_recursive_nss_view_is_refused() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("home/bob/.pki/nssdb")).unwrap();
    let c = rusqlite::Connection::open(root.path().join(BOB_NSS)).unwrap();
    c.execute_batch(&format!(
        "CREATE VIEW nssPublic AS {ENDLESS} SELECT x'ce534353' AS a0, n AS a3, zeroblob(4096) AS a11, n AS a81, \
         n AS a82, n AS ace536358, n AS ace536359, n AS ace53635a, n AS ace53635b FROM c;"
    ))
    .unwrap();
    drop(c);
    let out = scan_in_child(root.path(), PROMPT);
    assert!(out.certs.is_empty());
    let why = out.error("unsupported", &format!("/{BOB_NSS}"));
    assert!(why.contains("nssPublic is a view"), "{why}");
}

#[test]
fn a_virtual_packages_table_is_refused() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    let c = rusqlite::Connection::open(root.path().join(RPMDB)).unwrap();
    c.execute_batch("CREATE VIRTUAL TABLE Packages USING fts5(hnum, blob);").unwrap();
    drop(c);
    let out = scan_in_child(root.path(), PROMPT);
    let why = out.error("unsupported", &format!("/{RPMDB}"));
    assert!(why.contains("virtual table"), "{why}");
}

/// rpm's database, its WAL and its shared-memory file as 2 GiB sparse files:
/// refused on their sizes alone, without copying a byte.
#[test]
fn sparse_giant_rpmdb_files_are_too_large_and_not_copied() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let f = std::fs::File::create(root.path().join(format!("{RPMDB}{suffix}"))).unwrap();
        f.set_len(2 << 30).unwrap();
    }
    let out = scan_in_child(root.path(), PROMPT);
    assert_eq!(out.errors.len(), 1, "{out:#?}");
    let why = out.error("too_large", &format!("/{RPMDB}"));
    assert!(why.contains("nothing was copied"), "{why}");
    assert!(out.elapsed < Duration::from_secs(20), "{:?}", out.elapsed);
}

/// Each file under the per-file limit, together over the per-database one.
#[test]
fn an_rpmdb_with_a_giant_wal_is_too_large_in_total() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    let limits = rpmdb::LIMITS;
    for (suffix, len) in [("", limits.total_bytes - limits.file_bytes + 4096), ("-wal", limits.file_bytes)] {
        std::fs::File::create(root.path().join(format!("{RPMDB}{suffix}"))).unwrap().set_len(len).unwrap();
    }
    let out = scan_in_child(root.path(), PROMPT);
    assert_eq!(out.errors.len(), 1, "{out:#?}");
    let why = out.error("too_large", &format!("/{RPMDB}"));
    assert!(why.contains("with its journal and WAL"), "{why}");
}

#[test]
fn an_oversized_cert9_db_is_too_large() {
    let root = nss_root();
    let f = std::fs::OpenOptions::new().write(true).open(root.path().join(BOB_NSS)).unwrap();
    f.set_len(200 << 20).unwrap();
    drop(f);
    let out = scan_in_child(root.path(), PROMPT);
    out.error("too_large", &format!("/{BOB_NSS}"));
    assert!(out.certs.is_empty());
}

/// Scanning the fixtures, with rpm's database in WAL mode, leaves every file
/// of the root as it was and adds none (no -wal, -shm or -journal beside a
/// database).
#[test]
fn scanning_rpm_and_nss_sources_never_writes_the_root() {
    let root = nss_root();
    let certs = fixtures().join("certs/root");
    for rel in ["etc/pki/nssdb", "home/alice/.mozilla/firefox/abcd1234.default-release"] {
        std::fs::create_dir_all(root.path().join(rel)).unwrap();
        for f in ["cert9.db", "key4.db"] {
            std::fs::copy(certs.join(rel).join(f), root.path().join(rel).join(f)).unwrap();
        }
    }
    std::fs::create_dir_all(root.path().join("var/lib/rpm")).unwrap();
    std::fs::copy(fixtures().join("rpm").join(RPMDB), root.path().join(RPMDB)).unwrap();
    // A WAL-mode database: closing the last connection removes -wal and -shm
    // but the header stays WAL, so an open of the original would make both.
    let c = rusqlite::Connection::open(root.path().join(RPMDB)).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    drop(c);
    assert!(!root.path().join(format!("{RPMDB}-wal")).exists());

    let out = scan_in_child(root.path(), PROMPT);
    assert!(out.errors.is_empty(), "{out:#?}");
    assert_eq!((out.packages.len(), out.certs.len()), (3, 4 + 4 + 1), "{out:#?}");
}
