//! rpm's database in its SQLite form (`rpmdb.sqlite`, rpm >= 4.16: Fedora 33+,
//! RHEL 9+): table `Packages(hnum, blob)`, one rpm header per row. Where a
//! root has none, its NDB `Packages.db` ([`rpm_ndb`], SUSE 15) or Berkeley DB
//! `Packages` ([`rpm_bdb`], RHEL/CentOS <= 8, Amazon Linux 2, SLES 12) is
//! read instead; all three hold the same header blobs.
//!
//! The database is untrusted and the image is never written: it is opened
//! through [`sqlite_file`], which reads a private copy of it, its `-journal`
//! and its `-wal`. Opening that copy read-write lets SQLite recover WAL frames
//! that rpm had committed but not yet checkpointed (a live host's newest
//! installs), which an `immutable=1` open of the original would silently ignore.
//!
//! Headers are parsed by hand: the format is small and fixed, and every
//! offset it holds is checked against the blob before use.

use super::{read_at, rpm_bdb, rpm_ndb, sqlite_file};
use crate::error::{ErrorKind, FsError};
use crate::root::Root;

/// Where rpm keeps its SQLite database. Fedora makes the first a symlink to
/// the second; a file reached by both is read once.
pub const SQLITE_PATHS: [&str; 2] = ["/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite"];

/// Databases of the other backends, read only where no `rpmdb.sqlite` is,
/// since a migrated system may keep the old file next to the new. In each
/// directory NDB comes first: SUSE converted Berkeley DB to NDB, never back.
pub const OTHER_PATHS: [(&str, Backend); 4] = [
    ("/var/lib/rpm/Packages.db", Backend::Ndb),
    ("/var/lib/rpm/Packages", Backend::Bdb),
    ("/usr/lib/sysimage/rpm/Packages.db", Backend::Ndb),
    ("/usr/lib/sysimage/rpm/Packages", Backend::Bdb),
];

/// rpm's storage backends besides SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Berkeley DB hash database `Packages`.
    Bdb,
    /// rpm's own `Packages.db`.
    Ndb,
}

/// What reading one rpm database may cost. Fedora's rpmdb.sqlite with 3000
/// packages is about 150 MiB and its WAL a few MiB; rpm itself refuses a
/// header over 256 MiB, and real ones stay under a few MiB.
pub const LIMITS: sqlite_file::Limits = sqlite_file::Limits {
    label: "rpmdb.sqlite",
    file_bytes: 512 << 20,
    total_bytes: 768 << 20,
    value_bytes: 64 << 20,
    // Reading 3000 packages takes about 30 000 steps.
    vm_steps: 50_000_000,
    time: std::time::Duration::from_secs(30),
};

/// The header fields a row needs. Missing tags are normal (no Vendor, no Epoch).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub epoch: Option<u32>,
    pub version: Option<String>,
    pub release: Option<String>,
    pub arch: Option<String>,
    pub vendor: Option<String>,
    pub packager: Option<String>,
    /// INSTALLTIME, Unix seconds.
    pub install_time: Option<i64>,
    /// LONGSIZE when present, else SIZE: bytes of the installed files.
    pub size: Option<i64>,
}

impl RpmPackage {
    /// `[epoch:]version-release`, as `rpm -q --qf '%{EVR}'` prints it.
    pub fn evr(&self) -> String {
        let mut s = String::new();
        if let Some(e) = self.epoch {
            s.push_str(&format!("{e}:"));
        }
        s.push_str(self.version.as_deref().unwrap_or(""));
        if let Some(r) = &self.release {
            s.push('-');
            s.push_str(r);
        }
        s
    }

    /// `name-[epoch:]version-release.arch` (rpm's `%{NEVRA}`).
    pub fn nevra(&self) -> String {
        let mut s = format!("{}-{}", self.name, self.evr());
        if let Some(a) = &self.arch {
            s.push('.');
            s.push_str(a);
        }
        s
    }

    /// rpm stores imported signing keys as fake packages named `gpg-pubkey`.
    pub fn is_gpg_pubkey(&self) -> bool {
        self.name == "gpg-pubkey"
    }
}

mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const INSTALLTIME: u32 = 1008;
    pub const SIZE: u32 = 1009;
    pub const VENDOR: u32 = 1011;
    pub const PACKAGER: u32 = 1015;
    pub const ARCH: u32 = 1022;
    pub const LONGSIZE: u32 = 5009;
}

mod ty {
    pub const NULL: u32 = 0;
    pub const CHAR: u32 = 1;
    pub const INT8: u32 = 2;
    pub const INT16: u32 = 3;
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const BIN: u32 = 7;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

/// rpm's own sanity limits (`hdrblobVerifyInfo`): at most 64 Ki entries and
/// 256 MiB of data.
pub const MAX_ENTRIES: usize = 0xffff;
pub const MAX_DATA: usize = 256 << 20;

/// The string tags a row needs, in the order `parse_header` unpacks them.
const STRING_TAGS: [u32; 6] = [tag::NAME, tag::VERSION, tag::RELEASE, tag::ARCH, tag::VENDOR, tag::PACKAGER];

/// Parses one `Packages.blob`: an rpm header without its 8-byte magic.
pub fn parse_header(blob: &[u8]) -> Result<RpmPackage, String> {
    let be32 =
        |at: usize| -> Option<u32> { blob.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])) };
    let (Some(il), Some(dl)) = (be32(0), be32(4)) else {
        return Err(format!("{} bytes is too short for a header", blob.len()));
    };
    let (il, dl) = (il as usize, dl as usize);
    if il == 0 || il > MAX_ENTRIES || dl > MAX_DATA {
        return Err(format!("implausible header size: {il} entries, {dl} data bytes"));
    }
    let data_start = 8 + il * 16;
    if data_start + dl > blob.len() {
        return Err(format!(
            "truncated: {il} entries and {dl} data bytes need {} bytes, blob has {}",
            data_start + dl,
            blob.len()
        ));
    }
    let data = &blob[data_start..data_start + dl];
    // A hostile blob may repeat a string tag in every entry, all pointing at
    // one long string (rpm would refuse the overlap; nothing here relies on
    // it). Scanning and copying that string once per entry made a 1 MiB blob
    // cost entries x data bytes, so each entry is checked in O(1) and only the
    // one that counts, the last of its tag, is decoded.
    let last_nul = memchr::memrchr(0, data);
    let mut p = RpmPackage::default();
    let mut strings: [Option<Entry>; STRING_TAGS.len()] = Default::default();
    let mut size32 = None;
    let mut size64 = None;
    for i in 0..il {
        let at = 8 + i * 16;
        let field = |k: usize| be32(at + 4 * k).unwrap_or(0);
        let (tag, ty, offset, count) = (field(0), field(1), field(2) as usize, field(3) as usize);
        let entry = Entry { data, ty, offset, count };
        entry.check().map_err(|m| format!("entry {i} (tag {tag}): {m}"))?;
        if let Some(slot) = STRING_TAGS.iter().position(|&t| t == tag) {
            entry.check_string(last_nul).map_err(|m| format!("entry {i} (tag {tag}): {m}"))?;
            strings[slot] = Some(entry);
            continue;
        }
        match tag {
            tag::EPOCH => p.epoch = entry.first_u32(),
            tag::INSTALLTIME => p.install_time = entry.first_u32().map(i64::from),
            tag::SIZE => size32 = entry.first_u32().map(i64::from),
            tag::LONGSIZE => size64 = entry.first_u64().and_then(|v| i64::try_from(v).ok()),
            _ => {}
        }
    }
    let [name, version, release, arch, vendor, packager] = strings.map(|e| e.map(|e| e.first_string()));
    (p.version, p.release, p.arch, p.vendor, p.packager) = (version, release, arch, vendor, packager);
    p.name = name.filter(|n| !n.is_empty()).ok_or("no NAME tag")?;
    p.size = size64.or(size32);
    Ok(p)
}

struct Entry<'a> {
    data: &'a [u8],
    ty: u32,
    offset: usize,
    count: usize,
}

impl Entry<'_> {
    /// Checks that the entry lies inside the data area; for string types only
    /// the start can be checked without reading them.
    fn check(&self) -> Result<(), String> {
        let width = match self.ty {
            ty::NULL => return Ok(()),
            ty::CHAR | ty::INT8 | ty::BIN => 1,
            ty::INT16 => 2,
            ty::INT32 => 4,
            ty::INT64 => 8,
            ty::STRING | ty::STRING_ARRAY | ty::I18NSTRING => {
                return if self.offset < self.data.len() {
                    Ok(())
                } else {
                    Err(format!("offset {} is outside the {}-byte data area", self.offset, self.data.len()))
                };
            }
            other => return Err(format!("unknown type {other}")),
        };
        let end = self.count.checked_mul(width).and_then(|n| n.checked_add(self.offset));
        match end {
            Some(end) if end <= self.data.len() => Ok(()),
            _ => Err(format!(
                "{} values of {width} bytes at offset {} overrun the {}-byte data area",
                self.count,
                self.offset,
                self.data.len()
            )),
        }
    }

    /// Checks that the entry is a string (a STRING, or a STRING_ARRAY or
    /// I18NSTRING, whose first string is the untranslated text) and that it
    /// ends inside the data area: some NUL, the data area's last at
    /// `last_nul`, lies at or after its start.
    fn check_string(&self, last_nul: Option<usize>) -> Result<(), String> {
        if !matches!(self.ty, ty::STRING | ty::STRING_ARRAY | ty::I18NSTRING) || self.count == 0 {
            return Err(format!("type {} count {} is not a string", self.ty, self.count));
        }
        match last_nul {
            Some(n) if n >= self.offset => Ok(()),
            _ => Err("string runs past the end of the data area".into()),
        }
    }

    /// The (first) string of an entry [`Entry::check_string`] accepted.
    fn first_string(&self) -> String {
        let rest = &self.data[self.offset..];
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    }

    fn first_u32(&self) -> Option<u32> {
        (self.ty == ty::INT32 && self.count > 0).then(|| {
            let b = &self.data[self.offset..self.offset + 4];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        })
    }

    fn first_u64(&self) -> Option<u64> {
        (self.ty == ty::INT64 && self.count > 0).then(|| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.data[self.offset..self.offset + 8]);
            u64::from_be_bytes(b)
        })
    }
}

/// Reads every rpm database of the root: `each(path, package)` for every
/// package (gpg-pubkey entries excluded), `bad` for every problem. Databases of
/// other backends are reported only when the root has no SQLite one, since a
/// migrated system may keep the old file next to the new.
pub fn read_all(root: &Root, mut each: impl FnMut(&'static str, RpmPackage), mut bad: impl FnMut(FsError)) {
    let mut seen: Vec<String> = Vec::new();
    for path in SQLITE_PATHS {
        match root.resolve(path) {
            Ok(r) => {
                if seen.contains(&r.path) {
                    continue;
                }
                seen.push(r.path);
                if let Err(e) = read_sqlite(root, path, |p| each(path, p), &mut bad) {
                    bad(e);
                }
            }
            // A link that leads nowhere inside the root hides the database.
            Err(e) if e.kind == ErrorKind::NotFound => {
                if let Some(e) = root.dangling(path) {
                    bad(e);
                }
            }
            Err(e) => bad(e),
        }
    }
    if !seen.is_empty() {
        return;
    }
    let mut dirs_read: Vec<&str> = Vec::new();
    for (path, backend) in OTHER_PATHS {
        let dir = &path[..path.rfind('/').unwrap_or(0)];
        if dirs_read.contains(&dir) {
            continue;
        }
        match root.resolve(path) {
            Ok(r) => {
                dirs_read.push(dir);
                if seen.contains(&r.path) {
                    continue;
                }
                seen.push(r.path);
                if let Err(e) = read_other(root, path, backend, |p| each(path, p), &mut bad) {
                    bad(e);
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                if let Some(e) = root.dangling(path) {
                    bad(e);
                }
            }
            Err(e) => bad(e),
        }
    }
}

/// Reads one Berkeley DB `Packages` or NDB `Packages.db`. Records that do not
/// parse are reported through `bad` and skipped; an unreadable database is
/// the `Err`.
pub fn read_other(
    root: &Root,
    path: &str,
    backend: Backend,
    mut each: impl FnMut(RpmPackage),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let (file, r) = root.open(path)?;
    let len = r.metadata.len();
    if len > LIMITS.file_bytes {
        return Err(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!("{len} bytes is more than the {}-byte limit", LIMITS.file_bytes),
        ));
    }
    let db = read_at::FileAt { file, len };
    let mut record = |hnum: u32, blob: &[u8]| match parse_header(blob) {
        Ok(p) if p.is_gpg_pubkey() => {}
        Ok(p) => each(p),
        Err(m) => bad(FsError::parse(path, format!("Packages record {hnum}: {m}"))),
    };
    // Problems of the file itself go to `bad` too, after the walk: the
    // record closure holds `bad` until then.
    let mut problems = Vec::new();
    let walked = match backend {
        Backend::Bdb => rpm_bdb::read(&db, &mut record, |m| problems.push(m)),
        Backend::Ndb => rpm_ndb::read(&db, &mut record, |m| problems.push(m)),
    };
    for m in problems {
        bad(FsError::parse(path, m));
    }
    walked.map_err(|m| FsError::parse(path, m))
}

/// Reads one `rpmdb.sqlite`. Headers that do not parse are reported through
/// `bad` and skipped; an unreadable database is the `Err`.
pub fn read_sqlite(
    root: &Root,
    path: &str,
    mut each: impl FnMut(RpmPackage),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let db = sqlite_file::open(root, path, &LIMITS, &mut bad)?;
    db.table("Packages")?;
    let mut stmt = db.conn().prepare("SELECT hnum, blob FROM main.Packages ORDER BY hnum").map_err(|e| db.error(e))?;
    let mut rows = stmt.query([]).map_err(|e| db.error(e))?;
    while let Some(row) = rows.next().map_err(|e| db.error(e))? {
        let hnum: i64 = row.get(0).unwrap_or(-1);
        let blob = match row.get_ref(1) {
            Ok(rusqlite::types::ValueRef::Blob(b)) => b,
            _ => {
                bad(FsError::parse(path, format!("Packages hnum {hnum}: blob is not a BLOB")));
                continue;
            }
        };
        match parse_header(blob) {
            Ok(p) if p.is_gpg_pubkey() => {}
            Ok(p) => each(p),
            Err(m) => bad(FsError::parse(path, format!("Packages hnum {hnum}: {m}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/rpm")
    }

    /// A copy of the fixture root, so that neither rpm nor a test writes into
    /// the committed files.
    fn fixture_copy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
        std::fs::copy(fixture().join("var/lib/rpm/rpmdb.sqlite"), dir.path().join("var/lib/rpm/rpmdb.sqlite")).unwrap();
        dir
    }

    fn collect(root: &Root) -> (Vec<(&'static str, RpmPackage)>, Vec<FsError>) {
        let mut pkgs = Vec::new();
        let mut errs = Vec::new();
        read_all(root, |path, p| pkgs.push((path, p)), |e| errs.push(e));
        (pkgs, errs)
    }

    /// Builds a header blob from (tag, type, count, data) entries.
    fn header(entries: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, count, bytes) in entries {
            for v in [*tag, *ty, data.len() as u32, *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
        blob.extend(index);
        blob.extend(data);
        blob
    }

    #[test]
    fn fixture_matches_rpm_query() {
        if !crate::testing::peer_available("rpm") {
            return;
        }
        let dir = fixture_copy();
        let out = Command::new("rpm")
            .args(["-qa", "--dbpath"])
            .arg(dir.path().join("var/lib/rpm"))
            .args([
                "--queryformat",
                "%{NAME}|%{EPOCHNUM}:%{VERSION}-%{RELEASE}|%{ARCH}|%{VENDOR}|%{PACKAGER}|%{INSTALLTIME}|%{SIZE}\\n",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut expected: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
        expected.sort();

        let root = Root::new(fixture()).unwrap();
        let (pkgs, errs) = collect(&root);
        assert!(errs.is_empty(), "{errs:?}");
        let none = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
        let mut got: Vec<String> = pkgs
            .iter()
            .map(|(path, p)| {
                assert_eq!(*path, "/var/lib/rpm/rpmdb.sqlite");
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
            })
            .collect();
        got.sort();
        assert_eq!(got, expected);
        // The recipe (make.sh) itself.
        assert_eq!(got.len(), 3);
        let kesl = pkgs.iter().map(|(_, p)| p).find(|p| p.name == "kesl").unwrap();
        assert_eq!(kesl.vendor.as_deref(), Some("AO Kaspersky Lab"));
        assert_eq!(kesl.nevra(), "kesl-12.1.0.1297-1.noarch");
        let ep = pkgs.iter().map(|(_, p)| p).find(|p| p.name == "epoch-packager").unwrap();
        assert_eq!(ep.evr(), "2:0.9-1.el9");
        assert_eq!(ep.nevra(), "epoch-packager-2:0.9-1.el9.noarch");
        assert_eq!(ep.vendor, None);
    }

    #[test]
    fn pending_wal_is_replayed() {
        let dir = fixture_copy();
        let db = dir.path().join("var/lib/rpm/rpmdb.sqlite");
        let writer = rusqlite::Connection::open(&db).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        let blob: Vec<u8> = writer
            .query_row("SELECT blob FROM Packages WHERE hnum = (SELECT min(hnum) FROM Packages)", [], |r| r.get(0))
            .unwrap();
        let p = parse_header(&blob).unwrap();
        writer.execute("INSERT INTO Packages(blob) VALUES (?1)", [&blob]).unwrap();
        let wal = dir.path().join("var/lib/rpm/rpmdb.sqlite-wal");
        assert!(std::fs::metadata(&wal).unwrap().len() > 0, "the insert must still be in the WAL");
        // The main file alone does not have the new row.
        let main_only = tempfile::tempdir().unwrap();
        std::fs::copy(&db, main_only.path().join("x.sqlite")).unwrap();
        let n: i64 = rusqlite::Connection::open(main_only.path().join("x.sqlite"))
            .unwrap()
            .query_row("SELECT count(*) FROM Packages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);

        let root = Root::new(dir.path()).unwrap();
        let (pkgs, errs) = collect(&root);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(pkgs.len(), 4);
        assert_eq!(pkgs[3].1, p);

        // An image may hold the -wal without the -shm (it is rebuilt on open).
        let no_shm = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(no_shm.path().join("var/lib/rpm")).unwrap();
        for f in ["rpmdb.sqlite", "rpmdb.sqlite-wal"] {
            std::fs::copy(dir.path().join("var/lib/rpm").join(f), no_shm.path().join("var/lib/rpm").join(f)).unwrap();
        }
        let (pkgs, errs) = collect(&Root::new(no_shm.path()).unwrap());
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(pkgs.len(), 4);
        drop(writer);
    }

    #[test]
    fn not_sqlite_is_one_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
        std::fs::write(dir.path().join("var/lib/rpm/rpmdb.sqlite"), b"this is not a database, just text".repeat(200))
            .unwrap();
        let (pkgs, errs) = collect(&Root::new(dir.path()).unwrap());
        assert!(pkgs.is_empty());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, ErrorKind::ParseError);
        assert_eq!(errs[0].path, "/var/lib/rpm/rpmdb.sqlite");
    }

    #[test]
    fn bad_blobs_are_reported_and_skipped() {
        let dir = fixture_copy();
        let db = dir.path().join("var/lib/rpm/rpmdb.sqlite");
        let good: Vec<u8> = {
            let c = rusqlite::Connection::open(&db).unwrap();
            c.query_row("SELECT blob FROM Packages LIMIT 1", [], |r| r.get(0)).unwrap()
        };
        let truncated = good[..good.len() / 2].to_vec();
        let wild = header(&[(tag::NAME, ty::STRING, 1, b"x\0"), (tag::VERSION, ty::STRING, 1, b"1\0")]);
        let mut wild = wild;
        // Point VERSION's offset far past the data area.
        let at = 8 + 16 + 8;
        wild[at..at + 4].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        {
            let c = rusqlite::Connection::open(&db).unwrap();
            c.execute("INSERT INTO Packages(blob) VALUES (?1)", [&truncated]).unwrap();
            c.execute("INSERT INTO Packages(blob) VALUES (?1)", [&wild]).unwrap();
            c.execute("INSERT INTO Packages(blob) VALUES (x'')", []).unwrap();
        }
        let (pkgs, errs) = collect(&Root::new(dir.path()).unwrap());
        assert_eq!(pkgs.len(), 3);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs.iter().all(|e| e.kind == ErrorKind::ParseError));
        assert!(errs[0].message.contains("truncated"), "{}", errs[0].message);
        assert!(errs[1].message.contains("outside"), "{}", errs[1].message);
    }

    #[test]
    fn header_parser_refuses_every_overrun() {
        let ok = header(&[
            (tag::NAME, ty::STRING, 1, b"pkg\0"),
            (tag::EPOCH, ty::INT32, 1, &3u32.to_be_bytes()),
            (tag::VENDOR, ty::I18NSTRING, 1, b"V\0"),
            (tag::LONGSIZE, ty::INT64, 1, &(5u64 << 32).to_be_bytes()),
            (tag::SIZE, ty::INT32, 1, &7u32.to_be_bytes()),
        ]);
        let p = parse_header(&ok).unwrap();
        assert_eq!((p.name.as_str(), p.epoch, p.vendor.as_deref(), p.size), ("pkg", Some(3), Some("V"), Some(5 << 32)));
        for cut in 0..ok.len() {
            assert!(parse_header(&ok[..cut]).is_err(), "cut at {cut}");
        }
        // An INT32 array whose count runs past the data.
        let mut big = ok.clone();
        big[8 + 16 + 12..8 + 16 + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_header(&big).unwrap_err().contains("overrun"));
        // A string without its terminating NUL.
        let open = header(&[(tag::NAME, ty::STRING, 1, b"pkg")]);
        assert!(parse_header(&open).unwrap_err().contains("past the end"));
        // Absurd il/dl.
        assert!(parse_header(&[0xff; 16]).is_err());
        assert!(parse_header(&header(&[(tag::VERSION, ty::STRING, 1, b"1\0")])).unwrap_err().contains("NAME"));
        let gpg = parse_header(&header(&[(tag::NAME, ty::STRING, 1, b"gpg-pubkey\0")])).unwrap();
        assert!(gpg.is_gpg_pubkey());
    }

    /// A `Packages` or `Packages.db` that is not a database of its backend is
    /// one parse error naming it (the backends themselves: tests/rpm_backends.rs).
    #[test]
    fn other_backends_that_are_no_databases_are_parse_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
        std::fs::create_dir_all(dir.path().join("usr/lib/sysimage/rpm")).unwrap();
        std::fs::write(dir.path().join("var/lib/rpm/Packages"), [0u8; 64]).unwrap();
        std::fs::write(dir.path().join("usr/lib/sysimage/rpm/Packages.db"), b"RpmP").unwrap();
        // A stale Berkeley DB next to a SQLite database is not read.
        let with_sqlite = fixture_copy();
        std::fs::write(with_sqlite.path().join("var/lib/rpm/Packages"), [0u8; 64]).unwrap();
        let (pkgs, errs) = collect(&Root::new(with_sqlite.path()).unwrap());
        assert_eq!((pkgs.len(), errs.len()), (3, 0), "{errs:?}");

        let (pkgs, errs) = collect(&Root::new(dir.path()).unwrap());
        assert!(pkgs.is_empty());
        let found: Vec<(&str, ErrorKind)> = errs.iter().map(|e| (e.path.as_str(), e.kind)).collect();
        assert_eq!(
            found,
            [
                ("/var/lib/rpm/Packages", ErrorKind::ParseError),
                ("/usr/lib/sysimage/rpm/Packages.db", ErrorKind::ParseError)
            ]
        );
        assert!(errs[0].message.contains("too short"), "{}", errs[0].message);
        assert!(errs[1].message.contains("NDB"), "{}", errs[1].message);
    }

    #[cfg(unix)]
    #[test]
    fn a_database_reached_by_two_paths_is_read_once() {
        let dir = fixture_copy();
        std::fs::create_dir_all(dir.path().join("usr/lib/sysimage")).unwrap();
        std::fs::rename(dir.path().join("var/lib/rpm"), dir.path().join("usr/lib/sysimage/rpm")).unwrap();
        std::os::unix::fs::symlink("../../usr/lib/sysimage/rpm", dir.path().join("var/lib/rpm")).unwrap();
        let (pkgs, errs) = collect(&Root::new(dir.path()).unwrap());
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(pkgs.len(), 3);
    }
}
