//! rpm's Berkeley DB `Packages` and NDB `Packages.db`: the fixtures under
//! `tests/fixtures/rpm/{bdb-le,bdb-be,bdb-inline,ndb}` (made by
//! `make-other-backends.sh` with Berkeley DB's own `db_load`) read as Debian's
//! rpm reads them, and damaged copies of them still give their valid rows,
//! each problem a `scan_errors`-style error, never a panic or a hang.

use std::path::{Path, PathBuf};
use std::process::Command;

use embargo_tables::collectors::{rpm_bdb, rpm_ndb, rpmdb};
use embargo_tables::{ErrorKind, FsError, Root};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/rpm")
}

const BDB: &str = "var/lib/rpm/Packages";
const NDB: &str = "usr/lib/sysimage/rpm/Packages.db";
const QF: &str = "%{NAME}|%{EPOCHNUM}:%{VERSION}-%{RELEASE}|%{ARCH}|%{VENDOR}|%{PACKAGER}|%{INSTALLTIME}|%{SIZE}\\n";

fn collect(root: &Path) -> (Vec<(&'static str, rpmdb::RpmPackage)>, Vec<FsError>) {
    let mut pkgs = Vec::new();
    let mut errs = Vec::new();
    rpmdb::read_all(&Root::new(root).unwrap(), |path, p| pkgs.push((path, p)), |e| errs.push(e));
    (pkgs, errs)
}

/// The fields rpm's query format above prints, from embargo's package.
fn line(p: &rpmdb::RpmPackage) -> String {
    let none = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
    format!(
        "{}|{}:{}-{}|{}|{}|{}|{}|{}",
        p.name,
        p.epoch.unwrap_or(0),
        p.version.as_deref().unwrap_or(""),
        p.release.as_deref().unwrap_or(""),
        none(&p.arch),
        none(&p.vendor),
        none(&p.packager),
        p.install_time.unwrap(),
        p.size.unwrap()
    )
}

/// `rpm -qa` on a copy of the database directory (rpm may write a lock file
/// beside the database; the committed fixtures stay untouched).
fn rpm_qa(db_dir: &Path, backend: &str) -> Vec<String> {
    let copy = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(db_dir).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.path().join(e.file_name())).unwrap();
    }
    let out = Command::new("rpm")
        .args(["--define", &format!("_db_backend {backend}"), "-qa", "--dbpath"])
        .arg(copy.path())
        .args(["--queryformat", QF])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn sorted_lines(pkgs: &[(&'static str, rpmdb::RpmPackage)]) -> Vec<String> {
    let mut v: Vec<String> = pkgs.iter().map(|(_, p)| line(p)).collect();
    v.sort();
    v
}

#[test]
fn berkeley_db_fixtures_match_rpm() {
    if !embargo_tables::testing::peer_available("rpm") {
        return;
    }
    // The recipe: 3 packages, plus 45 clones in bdb-le.
    for (name, count) in [("bdb-le", 48), ("bdb-be", 3), ("bdb-inline", INLINE)] {
        let root = fixtures().join(name);
        let expected = rpm_qa(&root.join("var/lib/rpm"), "bdb_ro");
        assert_eq!(expected.len(), count, "{name}: rpm lists {expected:?}");
        let (pkgs, errs) = collect(&root);
        assert!(errs.is_empty(), "{name}: {errs:?}");
        assert!(pkgs.iter().all(|(path, _)| *path == "/var/lib/rpm/Packages"));
        assert_eq!(sorted_lines(&pkgs), expected, "{name}");
        let kesl = pkgs.iter().map(|(_, p)| p).find(|p| p.name == "kesl").unwrap();
        assert_eq!(kesl.vendor.as_deref(), Some("AO Kaspersky Lab"));
        assert_eq!(kesl.nevra(), "kesl-12.1.0.1297-1.noarch");
    }
}

#[test]
fn ndb_fixture_holds_the_sqlite_fixtures_packages() {
    // Debian's rpm has no NDB backend: the NDB fixture holds exactly the
    // header blobs of the SQLite fixture (ndb.py), so rpm's reading of that
    // one is the expectation.
    if !embargo_tables::testing::peer_available("rpm") {
        return;
    }
    let expected = rpm_qa(&fixtures().join("var/lib/rpm"), "sqlite");
    let (pkgs, errs) = collect(&fixtures().join("ndb"));
    assert!(errs.is_empty(), "{errs:?}");
    assert!(pkgs.iter().all(|(path, _)| *path == "/usr/lib/sysimage/rpm/Packages.db"));
    assert_eq!(sorted_lines(&pkgs), expected);
    assert_eq!(pkgs.len(), 3);
}

/// A root holding `bytes` at `path`.
fn root_with(path: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join(path);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(at, bytes).unwrap();
    dir
}

fn fixture_bytes(name: &str, path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name).join(path)).unwrap()
}

/// Runs the BDB walk on bytes directly: (record numbers, messages, Err).
fn walk_bdb(db: &[u8]) -> (Vec<u32>, Vec<String>, Result<(), String>) {
    let mut keys = Vec::new();
    let mut msgs = Vec::new();
    let r = rpm_bdb::read(db, |k, _| keys.push(k), |m| msgs.push(m));
    keys.sort();
    (keys, msgs, r)
}

fn walk_ndb(db: &[u8]) -> (Vec<u32>, Vec<String>, Result<(), String>) {
    let mut keys = Vec::new();
    let mut msgs = Vec::new();
    let r = rpm_ndb::read(db, |k, _| keys.push(k), |m| msgs.push(m));
    keys.sort();
    (keys, msgs, r)
}

#[derive(Clone, Copy)]
enum Endian {
    Le,
    Be,
}

/// Little helpers to patch a Berkeley DB file in its own byte order.
struct Bdb {
    bytes: Vec<u8>,
    endian: Endian,
    page_size: usize,
}

impl Bdb {
    fn load(name: &str, endian: Endian) -> Bdb {
        let bytes = fixture_bytes(name, BDB);
        let mut b = Bdb { bytes, endian, page_size: 0 };
        b.page_size = b.get32(20) as usize;
        b
    }
    fn get32(&self, at: usize) -> u32 {
        let a: [u8; 4] = self.bytes[at..at + 4].try_into().unwrap();
        match self.endian {
            Endian::Le => u32::from_le_bytes(a),
            Endian::Be => u32::from_be_bytes(a),
        }
    }
    fn put32(&mut self, at: usize, v: u32) {
        let b = match self.endian {
            Endian::Le => v.to_le_bytes(),
            Endian::Be => v.to_be_bytes(),
        };
        self.bytes[at..at + 4].copy_from_slice(&b);
    }
    fn pages(&self) -> usize {
        self.bytes.len() / self.page_size
    }
    fn page_type(&self, n: usize) -> u8 {
        self.bytes[n * self.page_size + 25]
    }
    fn next(&self, n: usize) -> u32 {
        self.get32(n * self.page_size + 16)
    }
    fn set_next(&mut self, n: usize, v: u32) {
        let at = n * self.page_size + 16;
        self.put32(at, v);
    }
    /// Pages of a type.
    fn of_type(&self, t: u8) -> Vec<usize> {
        (1..self.pages()).filter(|&n| self.page_type(n) == t).collect()
    }
}

const P_HASH: u8 = 13;
/// Packages in bdb-inline (make-other-backends.sh).
const INLINE: usize = 48;
const P_OVERFLOW: u8 = 7;

fn all_records(name: &str) -> Vec<u32> {
    let (keys, msgs, r) = walk_bdb(&fixture_bytes(name, BDB));
    assert!(r.is_ok() && msgs.is_empty(), "{msgs:?}");
    keys
}

#[test]
fn both_byte_orders_give_the_same_records() {
    let le = all_records("bdb-inline");
    let be = all_records("bdb-be");
    assert_eq!(le, (1..=INLINE as u32).collect::<Vec<_>>());
    assert_eq!(be, [1, 2, 3]);
    // The same blobs, whatever the page size or byte order.
    let blobs = |name: &str| {
        let mut v = Vec::new();
        rpm_bdb::read(&fixture_bytes(name, BDB)[..], |k, b| v.push((k, b.to_vec())), |_| {}).unwrap();
        v.sort();
        v
    };
    assert_eq!(blobs("bdb-inline")[..3], blobs("bdb-be")[..]);
}

#[test]
fn truncated_file_keeps_the_pages_before_the_cut() {
    let full = all_records("bdb-le");
    let db = fixture_bytes("bdb-le", BDB);
    for cut in [db.len() - 1, db.len() * 3 / 4, db.len() / 2, 4096 * 3 + 100] {
        let (keys, msgs, r) = walk_bdb(&db[..cut]);
        assert!(r.is_ok());
        assert!(keys.len() < full.len(), "cut at {cut}");
        assert!(keys.iter().all(|k| full.contains(k)));
        assert!(msgs.iter().any(|m| m.contains("truncated")), "cut at {cut}: {msgs:?}");
    }
    // Shorter than one of its 16 KiB pages: no page at all, still no panic.
    let inline = fixture_bytes("bdb-inline", BDB);
    let (keys, msgs, r) = walk_bdb(&inline[..600]);
    assert!(r.is_ok() && keys.is_empty() && !msgs.is_empty());
    // Too short for a metadata page: one error, nothing else.
    let (keys, _, r) = walk_bdb(&db[..300]);
    assert!(keys.is_empty() && r.unwrap_err().contains("too short"));
    // Through the collector: rows still come back, problems are parse_error rows.
    let dir = root_with(BDB, &db[..db.len() / 2]);
    let (pkgs, errs) = collect(dir.path());
    assert!(!pkgs.is_empty());
    assert!(
        !errs.is_empty() && errs.iter().all(|e| e.kind == ErrorKind::ParseError && e.path == "/var/lib/rpm/Packages")
    );
}

#[test]
fn page_numbers_out_of_range_are_reported() {
    let mut b = Bdb::load("bdb-be", Endian::Be);
    let full = all_records("bdb-be");
    // An overflow chain's next page far past the end.
    let ov = b.of_type(P_OVERFLOW).into_iter().find(|&n| b.next(n) != 0).unwrap();
    b.set_next(ov, 0x00ff_ffff);
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(r.is_ok());
    assert_eq!(keys.len(), full.len() - 1, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("out of range")), "{msgs:?}");
    // A bucket chain's next page past last_pgno.
    let mut b = Bdb::load("bdb-le", Endian::Le);
    let hash = b.of_type(P_HASH);
    b.set_next(hash[0], 0xffff_fff0);
    let (keys, msgs, _) = walk_bdb(&b.bytes);
    assert!(!keys.is_empty());
    assert!(msgs.iter().any(|m| m.contains("out of range")), "{msgs:?}");
    // Absurd metadata: max_bucket and spares far beyond the file.
    let mut b = Bdb::load("bdb-le", Endian::Le);
    b.put32(72, u32::MAX);
    for i in 0..32 {
        b.put32(96 + 4 * i, u32::MAX - 5);
    }
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(r.is_ok() && keys.is_empty());
    assert!(msgs.len() <= rpm_bdb::MAX_MESSAGES + 1, "{}", msgs.len());
    // And a last page number to match: still one walk over the file's pages.
    b.put32(32, u32::MAX);
    let start = std::time::Instant::now();
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert!(r.is_ok() && keys.is_empty());
    assert!(msgs.len() <= rpm_bdb::MAX_MESSAGES + 1, "{}", msgs.len());
}

#[test]
fn overflow_chain_that_loops_ends_with_one_message() {
    let mut b = Bdb::load("bdb-be", Endian::Be);
    let full = all_records("bdb-be");
    // The last page of a chain points back at the chain's first page.
    let ovs = b.of_type(P_OVERFLOW);
    let first = *ovs.iter().find(|&&n| !ovs.iter().any(|&m| b.next(m) as usize == n)).unwrap();
    let mut last = first;
    while b.next(last) != 0 {
        last = b.next(last) as usize;
    }
    b.set_next(last, first as u32);
    // Every off-page value claims 600 bytes more than it has (still less
    // than the file could hold), so its chain is followed past its end: the
    // looped one back into itself, the others to their end.
    let ps = b.page_size;
    for n in b.of_type(P_HASH) {
        let entries = u16::from_be_bytes([b.bytes[n * ps + 20], b.bytes[n * ps + 21]]) as usize;
        for i in 0..entries {
            let at = n * ps + 26 + 2 * i;
            let off = u16::from_be_bytes([b.bytes[at], b.bytes[at + 1]]) as usize;
            if b.bytes[n * ps + off] == 3 {
                let len = b.get32(n * ps + off + 8);
                b.put32(n * ps + off + 8, len + 600);
            }
        }
    }
    let start = std::time::Instant::now();
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    assert!(r.is_ok());
    assert!(keys.is_empty(), "{keys:?}");
    assert_eq!(msgs.len(), full.len(), "{msgs:?}");
    assert_eq!(msgs.iter().filter(|m| m.contains("second time")).count(), 1, "{msgs:?}");
    assert_eq!(msgs.iter().filter(|m| m.contains("chain ends after")).count(), full.len() - 1, "{msgs:?}");
}

#[test]
fn bucket_that_points_at_itself_is_read_once() {
    let mut b = Bdb::load("bdb-inline", Endian::Le);
    let full = all_records("bdb-inline");
    let hash = b.of_type(P_HASH);
    assert!(hash.iter().any(|&n| b.next(n) != 0), "the fixture has a bucket of several pages");
    let looped = *hash.iter().find(|&&n| b.next(n) == 0).unwrap();
    b.set_next(looped, looped as u32);
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(r.is_ok());
    assert_eq!(keys, full, "every record still read once");
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("second time"), "{msgs:?}");
    // Two buckets mapped onto one page: its records are read once.
    let mut b = Bdb::load("bdb-inline", Endian::Le);
    let first = b.get32(96);
    b.put32(100, first - 1);
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(r.is_ok());
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(keys, unique, "no record twice");
    assert!(keys.len() < full.len());
    assert!(msgs.iter().any(|m| m.contains("second time")), "{msgs:?}");
    // Every spare zeroed: bucket 0 maps onto the metadata page.
    let mut b = Bdb::load("bdb-le", Endian::Le);
    for i in 0..32 {
        b.put32(96 + 4 * i, 0);
    }
    let (keys, msgs, r) = walk_bdb(&b.bytes);
    assert!(r.is_ok());
    assert!(keys.len() < full.len());
    assert!(msgs.iter().any(|m| m.contains("page 0")), "{msgs:?}");
}

#[test]
fn header_blob_with_absurd_counts_is_one_error_among_good_rows() {
    // bdb-inline holds each header inline: break one header's entry count.
    let mut b = Bdb::load("bdb-inline", Endian::Le);
    let ps = b.page_size;
    let mut patched = false;
    'pages: for n in b.of_type(P_HASH) {
        let entries = u16::from_le_bytes([b.bytes[n * ps + 20], b.bytes[n * ps + 21]]) as usize;
        for i in (1..entries).step_by(2) {
            let at = n * ps + 26 + 2 * i;
            let voff = u16::from_le_bytes([b.bytes[at], b.bytes[at + 1]]) as usize;
            let koff = u16::from_le_bytes([b.bytes[at - 2], b.bytes[at - 1]]) as usize;
            let item = n * ps + voff;
            // A header, not rpm's 4-byte record counter.
            if b.bytes[item] == 1 && koff - voff > 100 {
                // il is big-endian inside the header, whatever the db order.
                b.bytes[item + 1..item + 5].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
                patched = true;
                break 'pages;
            }
        }
    }
    assert!(patched);
    let dir = root_with(BDB, &b.bytes);
    let (pkgs, errs) = collect(dir.path());
    assert_eq!(pkgs.len(), INLINE - 1);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].kind, ErrorKind::ParseError);
    assert!(errs[0].message.contains("implausible header size"), "{}", errs[0].message);
}

#[test]
fn not_a_hash_database_is_one_error() {
    for bytes in [&b"not a database at all"[..], &[0u8; 8192][..], &[0xffu8; 4096][..]] {
        let dir = root_with(BDB, bytes);
        let (pkgs, errs) = collect(dir.path());
        assert!(pkgs.is_empty());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].kind, errs[0].path.as_str()), (ErrorKind::ParseError, "/var/lib/rpm/Packages"));
    }
}

#[test]
fn every_cut_and_flip_of_the_fixtures_is_survived() {
    // Exhaustive single-byte damage over the metadata and first pages, and
    // every truncation of the small files: no panic, only real records.
    for (name, path, ndb) in [("bdb-be", BDB, false), ("ndb", NDB, true)] {
        let db = fixture_bytes(name, path);
        let walk = |b: &[u8]| if ndb { walk_ndb(b) } else { walk_bdb(b) };
        let (full, _, _) = walk(&db);
        for cut in (0..db.len()).step_by(7) {
            let (keys, _, _) = walk(&db[..cut]);
            assert!(keys.iter().all(|k| full.contains(k)), "{name} cut {cut}");
        }
        for at in 0..db.len().min(2048) {
            let mut d = db.clone();
            d[at] ^= 0xa5;
            let _ = walk(&d);
        }
    }
}

#[test]
fn ndb_damage_costs_only_the_damaged_blob() {
    let db = fixture_bytes("ndb", NDB);
    let (full, msgs, r) = walk_ndb(&db);
    assert!(r.is_ok() && msgs.is_empty(), "{msgs:?}");
    assert_eq!(full, [1, 2, 3]);
    let slot = |n: usize| 32 + 16 * n;
    let le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    // Slots as ndb.py writes them: package 1, a free slot, packages 2 and 3.
    let blob_of = |pkg: u32| {
        let s = (0..255).map(slot).find(|&s| le(&db, s + 4) == pkg && le(&db, s + 8) != 0).unwrap();
        (s, le(&db, s + 8) as usize * 16)
    };
    // A flipped byte inside package 2's blob: the checksum catches it.
    let (_, at2) = blob_of(2);
    let mut d = db.clone();
    d[at2 + 200] ^= 1;
    let (keys, msgs, _) = walk_ndb(&d);
    assert_eq!(keys, [1, 3]);
    assert!(msgs.len() == 1 && msgs[0].contains("Adler-32"), "{msgs:?}");
    // A slot whose blob runs past the end of the file.
    let (s3, _) = blob_of(3);
    let mut d = db.clone();
    d[s3 + 12..s3 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    let (keys, msgs, _) = walk_ndb(&d);
    assert_eq!(keys, [1, 2]);
    assert!(msgs[0].contains("past the end"), "{msgs:?}");
    // Every slot pointing at package 1's blob: read once, the rest refused.
    let (s1, _) = blob_of(1);
    let mut d = db.clone();
    for n in 0..254 {
        let s = slot(n);
        d[s..s + 16].copy_from_slice(&db[s1..s1 + 16]);
    }
    let (keys, msgs, _) = walk_ndb(&d);
    assert_eq!(keys, [1]);
    assert!(msgs.len() <= rpm_bdb::MAX_MESSAGES + 1);
    // Absurd slot page count in the header.
    let mut d = db.clone();
    d[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let (keys, msgs, r) = walk_ndb(&d);
    assert!(r.is_ok() && msgs.iter().any(|m| m.contains("truncated")), "{msgs:?}");
    assert!(keys.len() <= 3);
    // Not NDB at all.
    assert!(walk_ndb(b"RpmX and more bytes than a header needs").2.is_err());
}

#[test]
fn backend_choice_follows_rpm() {
    let sqlite = std::fs::read(fixtures().join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    let bdb = fixture_bytes("bdb-le", BDB);
    let ndb = fixture_bytes("ndb", NDB);
    // rpmdb.sqlite wins over a stale Berkeley DB beside it.
    let dir = root_with("var/lib/rpm/rpmdb.sqlite", &sqlite);
    std::fs::write(dir.path().join(BDB), &bdb).unwrap();
    let (pkgs, errs) = collect(dir.path());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkgs.len(), 3);
    assert!(pkgs.iter().all(|(p, _)| *p == "/var/lib/rpm/rpmdb.sqlite"));
    // NDB wins over Berkeley DB in one directory (SUSE's conversion).
    let dir = root_with("var/lib/rpm/Packages.db", &ndb);
    std::fs::write(dir.path().join(BDB), &bdb).unwrap();
    let (pkgs, errs) = collect(dir.path());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkgs.len(), 3);
    assert!(pkgs.iter().all(|(p, _)| *p == "/var/lib/rpm/Packages.db"));
    // Berkeley DB under /usr/lib/sysimage/rpm (SLES 12 SP5 style).
    let dir = root_with("usr/lib/sysimage/rpm/Packages", &bdb);
    let (pkgs, errs) = collect(dir.path());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkgs.len(), 48);
    assert!(pkgs.iter().all(|(p, _)| *p == "/usr/lib/sysimage/rpm/Packages"));
}

#[cfg(unix)]
#[test]
fn a_database_reached_by_two_paths_is_read_once() {
    // openSUSE: /var/lib/rpm -> ../../usr/lib/sysimage/rpm.
    let dir = root_with(NDB, &fixture_bytes("ndb", NDB));
    std::fs::create_dir_all(dir.path().join("var/lib")).unwrap();
    std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", dir.path().join("var/lib/rpm")).unwrap();
    let (pkgs, errs) = collect(dir.path());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(pkgs.len(), 3);
}

/// `$EMBARGO_REAL_DATA/rel` (tests/real-world.sh fills it with go-rpmdb's
/// test databases; never committed). Unset: the test skips, under CI too.
fn real_data(rel: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("EMBARGO_REAL_DATA") else {
        eprintln!("skipping: EMBARGO_REAL_DATA is not set (fill a directory with tests/real-world.sh DIR)");
        return None;
    };
    let p = PathBuf::from(dir).join(rel);
    assert!(p.exists(), "{}: missing; run tests/real-world.sh", p.display());
    Some(p)
}

/// A RHEL 8 Berkeley DB `Packages` (go-rpmdb's `libuuid`): what Debian's
/// rpm reads from it with the bdb_ro backend.
#[test]
fn real_rhel8_berkeley_db_matches_rpm() {
    let Some(root) = real_data("rpm/rhel8-libuuid") else { return };
    if !embargo_tables::testing::peer_available("rpm") {
        return;
    }
    let expected = rpm_qa(&root.join("var/lib/rpm"), "bdb_ro");
    let (pkgs, errs) = collect(&root);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert_eq!(sorted_lines(&pkgs), expected);
}

/// A SUSE 15 NDB `Packages.db` (go-rpmdb's `sle15-bci`; Debian's rpm has
/// no NDB backend): go-rpmdb's expected list for that file (name, epoch,
/// version, release, arch, size, vendor; tests/real-world.sh takes it out
/// of go-rpmdb's test table into `sle15-bci.expected.tsv`).
#[test]
fn real_sle15_ndb_matches_go_rpmdbs_list() {
    let Some(root) = real_data("rpm/sle15-bci") else { return };
    let want_file = real_data("rpm/sle15-bci.expected.tsv").unwrap();
    let mut want: Vec<String> = std::fs::read_to_string(want_file)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let epoch = if f[0].is_empty() { "0" } else { f[0] };
            format!("{}|{epoch}:{}-{}|{}|{}|{}", f[1], f[2], f[3], f[4], f[5], f[6])
        })
        .collect();
    want.sort();
    let (pkgs, errs) = collect(&root);
    assert!(errs.is_empty(), "{errs:?}");
    assert!(pkgs.iter().all(|(path, _)| *path == "/usr/lib/sysimage/rpm/Packages.db"));
    let mut got: Vec<String> = pkgs
        .iter()
        .map(|(_, p)| {
            format!(
                "{}|{}:{}-{}|{}|{}|{}",
                p.name,
                p.epoch.unwrap_or(0),
                p.version.as_deref().unwrap_or(""),
                p.release.as_deref().unwrap_or(""),
                p.arch.as_deref().unwrap_or("(none)"),
                p.size.map_or("(none)".into(), |s| s.to_string()),
                p.vendor.as_deref().unwrap_or("(none)")
            )
        })
        .collect();
    got.sort();
    assert_eq!(want.len(), 35);
    assert_eq!(got, want);
}

/// Through a whole scan: a loop or a shared blob in the database is a
/// parse_error row naming the database file, and every package it still
/// holds, and the other sources' rows, are listed.
mod through_a_scan {
    use super::*;
    use embargo_tables::{Query, Scan, ValueRef, tables};

    const STATUS: &str = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.3-1\n";

    /// (source, name) of every installed_software row, and the scan's problems.
    fn scan(dir: &Path) -> (Vec<(String, String)>, Vec<embargo_tables::ScanError>) {
        let at = dir.join("var/lib/dpkg/status");
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, STATUS).unwrap();
        let scan = Scan::new(Root::new(dir).unwrap());
        let table = tables::find("installed_software").unwrap();
        let col = |n: &str| table.spec().columns.iter().position(|c| c.name == n).unwrap();
        let rows = scan.rows(table, &Query::all());
        let text = |r, c| match rows.cell(r, c) {
            ValueRef::Text(t) => t.to_string(),
            other => panic!("{other:?}"),
        };
        let got = (0..rows.len()).map(|r| (text(r, col("source")), text(r, col("name")))).collect();
        (got, scan.errors.snapshot())
    }

    #[test]
    fn a_bucket_chain_that_loops_is_a_row_and_every_package_is_listed() {
        let mut b = Bdb::load("bdb-inline", Endian::Le);
        let hash = b.of_type(P_HASH);
        let looped = *hash.iter().find(|&&n| b.next(n) == 0).unwrap();
        b.set_next(looped, looped as u32);
        let dir = root_with(BDB, &b.bytes);
        let (rows, errors) = scan(dir.path());
        // make-other-backends.sh's 48 packages, each once.
        let mut rpm: Vec<_> = rows.iter().filter(|(s, _)| s == "rpm").map(|(_, n)| n).collect();
        rpm.sort();
        rpm.dedup();
        assert_eq!(rpm.len(), INLINE, "{rows:?}");
        assert_eq!(rows.len(), INLINE + 1, "{rows:?}");
        assert!(rows.contains(&("deb".into(), "zlib1g".into())), "{rows:?}");
        let hit: Vec<_> = errors.iter().filter(|e| e.message.contains("second time")).collect();
        assert_eq!(hit.len(), 1, "{errors:?}");
        assert_eq!((hit[0].kind, hit[0].path.as_str()), (ErrorKind::ParseError, "/var/lib/rpm/Packages"));
        assert_eq!(hit[0].table_name, "installed_software");
    }

    #[test]
    fn ndb_slots_that_share_one_blob_are_rows_and_the_blob_is_read_once() {
        let db = fixture_bytes("ndb", NDB);
        let slot = |n: usize| 32 + 16 * n;
        let le = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let s1 = (0..255).map(slot).find(|&s| le(&db, s + 4) == 1 && le(&db, s + 8) != 0).unwrap();
        let mut d = db.clone();
        for n in 0..254 {
            let s = slot(n);
            d[s..s + 16].copy_from_slice(&db[s1..s1 + 16]);
        }
        let dir = root_with(NDB, &d);
        let (rows, errors) = scan(dir.path());
        assert_eq!(rows.iter().filter(|(s, _)| s == "rpm").count(), 1, "{rows:?}");
        assert!(rows.contains(&("deb".into(), "zlib1g".into())), "{rows:?}");
        let ndb: Vec<_> = errors.iter().filter(|e| e.path == "/usr/lib/sysimage/rpm/Packages.db").collect();
        assert!(ndb.iter().all(|e| e.kind == ErrorKind::ParseError), "{ndb:?}");
        assert!(ndb.iter().any(|e| e.message.contains("overlaps the blob before it")), "{ndb:?}");
        // 253 refused slots: the first MAX_MESSAGES one by one, then one count.
        assert_eq!(ndb.len(), rpm_bdb::MAX_MESSAGES + 1, "{ndb:?}");
        assert!(ndb.last().unwrap().message.starts_with("189 more problems"), "{ndb:?}");
    }
}
