//! Every bound embargo puts on what a scan reads, parses and keeps, in one
//! list. Each bound is declared beside the code that enforces it (the
//! collector knows why its number is what it is); [`ALL`] names them all,
//! with what happens when one is hit, and `docs/limits.md` is rendered from
//! it ([`markdown`]; a test fails while the file is stale, and another while
//! a `*_LIMIT`/`MAX_*` constant of the crate is missing from the list).
//!
//! Hitting a bound is never silent: each makes a `scan_errors` row naming
//! the path, the kind (`too_large` for sizes and counts, `parse_error` for
//! malformed or looping structures, `symlink_loop` for links) and the limit,
//! and the scan goes on with what it still could read.
//!
//! The scan-wide bounds ([`ScanLimits`]) are settings of the
//! [`Engine`](crate::engine::Engine); their defaults are declared here.

use crate::collectors::{
    apk, capped, certstore, chromium, dpkg, flatpak, hive, homebrew, json, keychain, nss, os_release, pem_stores,
    plist, rpm_bdb, rpmdb, snap, systemd, sysv, windows_hives, x509,
};
use crate::error::ErrorKind;
use crate::root;

/// Rows one table may make in one scan. A real host has thousands of
/// packages, units or certificates; a million rows of one table is a
/// hostile root, and would hold gigabytes in the row cache.
pub const ROWS_PER_TABLE: usize = 1_000_000;

/// Bytes one scan may open across all its files (each file is charged its
/// size, or the part of it its reader stops at). The largest real sources
/// are an rpmdb.sqlite of ~150 MiB and a Windows SOFTWARE hive of a few
/// hundred MiB; a root made of many files each just under its own limit
/// stops here.
pub const BYTES_PER_SCAN: u64 = 4 << 30;

/// `scan_errors` rows one scan keeps; further problems are counted in one
/// last row. Each collector already caps its per-file messages at about a
/// thousand; this bounds a root of a million bad files.
pub const ERRORS_PER_SCAN: usize = 100_000;

/// The bounds that are settings of an engine, for each of its scans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanLimits {
    /// See [`ROWS_PER_TABLE`].
    pub rows_per_table: usize,
    /// See [`BYTES_PER_SCAN`].
    pub bytes_per_scan: u64,
    /// See [`ERRORS_PER_SCAN`].
    pub errors_per_scan: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits { rows_per_table: ROWS_PER_TABLE, bytes_per_scan: BYTES_PER_SCAN, errors_per_scan: ERRORS_PER_SCAN }
    }
}

/// What a bound counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Count,
    Levels,
    Factor,
    Seconds,
}

/// One bound, as `docs/limits.md` lists it.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// The constant, as the code names it (`dpkg::STATUS_LIMIT`).
    pub name: &'static str,
    pub value: u64,
    pub unit: Unit,
    /// What it bounds.
    pub bounds: &'static str,
    /// The `scan_errors.kind` of the row made when it is hit (None: a cache,
    /// whose bound loses nothing).
    pub kind: Option<ErrorKind>,
    /// What is still read when it is hit.
    pub then: &'static str,
}

const fn b(
    name: &'static str,
    value: u64,
    unit: Unit,
    bounds: &'static str,
    kind: Option<ErrorKind>,
    then: &'static str,
) -> Bound {
    Bound { name, value, unit, bounds, kind, then }
}

use ErrorKind::{ParseError, SymlinkLoop, TooLarge};
use Unit::{Bytes, Count, Factor, Levels, Seconds};

const TOO_LARGE: Option<ErrorKind> = Some(TooLarge);
const PARSE: Option<ErrorKind> = Some(ParseError);
const LOOP: Option<ErrorKind> = Some(SymlinkLoop);

/// Every bound, scan-wide ones first, then the root's, then one group per
/// source.
#[rustfmt::skip]
pub const ALL: &[Bound] = &[
    // The scan.
    b("limits::ROWS_PER_TABLE", ROWS_PER_TABLE as u64, Count, "rows of one table in one scan (`ScanLimits::rows_per_table`)", TOO_LARGE, "the first rows are kept, one row says how many more were made"),
    b("limits::BYTES_PER_SCAN", BYTES_PER_SCAN, Bytes, "bytes opened by one scan (one CLI statement, one osquery `generate` batch), each file charged its size or the prefix its reader stops at (`ScanLimits::bytes_per_scan`)", TOO_LARGE, "files that would pass it are not opened; smaller ones still are"),
    b("limits::ERRORS_PER_SCAN", ERRORS_PER_SCAN as u64, Count, "`scan_errors` rows of one scan (`ScanLimits::errors_per_scan`)", TOO_LARGE, "one last row per table counts the problems not listed"),
    b("table::CACHED_QUERIES_PER_TABLE", crate::table::CACHED_QUERIES_PER_TABLE as u64, Count, "distinct queries of one table whose rows one scan keeps", None, "rows of later queries are made afresh and not kept"),
    b("table::MARKER_HEAD", crate::table::MARKER_HEAD as u64, Bytes, "head of the OS-family marker files read", None, "only the magic is checked"),
    b("budget::DEFAULT_BUDGET", crate::budget::DEFAULT_BUDGET.as_secs(), Seconds, "wall-clock time of one osquery `generate` (`--generate-budget`) or one loadable-extension statement (`embargo_budget`)", None, "the caller gets an error naming the budget; the worker runs on, abandoned, and its rows land in the scan's cache"),
    b("budget::MAX_ABANDONED", crate::budget::MAX_ABANDONED as u64, Count, "over-budget workers still running in one process", None, "further calls are refused at once with an error, until one ends"),
    b("budget::MAX_RUNNING", crate::budget::MAX_RUNNING as u64, Count, "generator workers running at once in one process", None, "further calls are refused at once with an error, until one ends"),
    // The root.
    b("root::MAX_SYMLINKS", root::MAX_SYMLINKS as u64, Count, "symbolic links followed in one path lookup", LOOP, "the path is not read"),
    b("root::DEFAULT_READ_LIMIT", root::DEFAULT_READ_LIMIT, Bytes, "a file read whole without a limit of its own", TOO_LARGE, "the file is not read"),
    b("root::MAX_DIR_ENTRIES", root::MAX_DIR_ENTRIES as u64, Count, "entries of one directory listing", TOO_LARGE, "the directory is not listed"),
    b("root::CACHED_DIRS", root::CACHED_DIRS as u64, Count, "directory handles kept open per scan", None, "the cached handles are closed and reopened when needed"),
    b("root::CACHED_ENTRIES", root::CACHED_ENTRIES as u64, Count, "directories and link targets remembered per scan", None, "the cache is emptied and refilled"),
    // Debian.
    b("dpkg::STATUS_LIMIT", dpkg::STATUS_LIMIT, Bytes, "a dpkg status file, `status.d` file or journal record file", TOO_LARGE, "the stanzas in the first bytes are kept"),
    b("dpkg::VALUE_LIMIT", dpkg::VALUE_LIMIT as u64, Bytes, "one field value of a stanza", PARSE, "that stanza is an error, the others are read"),
    b("dpkg::STATUS_D_FILES", dpkg::STATUS_D_FILES as u64, Count, "files of `/var/lib/dpkg/status.d` (distroless)", TOO_LARGE, "the first files by name are read"),
    b("dpkg::JOURNAL_NAME_MAX", dpkg::JOURNAL_NAME_MAX as u64, Bytes, "name of a dpkg `updates/` journal file (dpkg's `IMPORTANTMAXLEN`)", None, "the file is not a journal record, as for dpkg"),
    b("dpkg::BAD_STANZA_ROWS", dpkg::BAD_STANZA_ROWS as u64, Count, "bad stanzas reported one by one per file", PARSE, "one row counts the rest"),
    // Alpine.
    b("apk::FILE_LIMIT", apk::FILE_LIMIT, Bytes, "apk's `installed` database", TOO_LARGE, "the records in the first bytes are kept"),
    b("apk::VALUE_LIMIT", apk::VALUE_LIMIT as u64, Bytes, "one value of a record", PARSE, "that record is an error, the others are read"),
    b("apk::BAD_RECORD_ROWS", apk::BAD_RECORD_ROWS as u64, Count, "bad records reported one by one", PARSE, "one row counts the rest"),
    // rpm.
    b("rpmdb::LIMITS.file_bytes", rpmdb::LIMITS.file_bytes, Bytes, "rpmdb.sqlite, its `-journal` or `-wal`", TOO_LARGE, "the database is not read"),
    b("rpmdb::LIMITS.total_bytes", rpmdb::LIMITS.total_bytes, Bytes, "rpmdb.sqlite with its `-journal` and `-wal`", TOO_LARGE, "the database is not read"),
    b("rpmdb::LIMITS.value_bytes", rpmdb::LIMITS.value_bytes as u64, Bytes, "one SQLite value (`SQLITE_LIMIT_LENGTH`)", TOO_LARGE, "the database is not read"),
    b("rpmdb::LIMITS.vm_steps", rpmdb::LIMITS.vm_steps, Count, "SQLite VM steps reading rpmdb.sqlite", TOO_LARGE, "reading the database stops there"),
    b("rpmdb::LIMITS.time", rpmdb::LIMITS.time.as_secs(), Seconds, "wall-clock time reading rpmdb.sqlite", TOO_LARGE, "reading the database stops there"),
    b("rpmdb::MAX_ENTRIES", rpmdb::MAX_ENTRIES as u64, Count, "index entries of one rpm header (rpm's `hdrblobVerifyInfo`)", PARSE, "that package is an error, the others are read"),
    b("rpmdb::MAX_DATA", rpmdb::MAX_DATA as u64, Bytes, "data of one rpm header", PARSE, "that package is an error, the others are read"),
    b("rpm_bdb::MAX_VALUE", rpm_bdb::MAX_VALUE as u64, Bytes, "one Berkeley DB value gathered from overflow pages", PARSE, "that value is an error, the others are read"),
    b("rpm_bdb::MAX_MESSAGES", rpm_bdb::MAX_MESSAGES as u64, Count, "problems of one Berkeley DB or NDB database reported one by one", PARSE, "one row counts the rest"),
    b("rpm_bdb (pages seen)", 1, Count, "visits of one Berkeley DB page: a bucket or overflow chain that loops or is shared", PARSE, "the chain ends there, other buckets are read"),
    b("rpm_ndb (blobs)", 1, Count, "packages per NDB blob and slots per package: overlapping blobs, a second slot", PARSE, "that slot is an error, the others are read"),
    // Certificates.
    b("pem_stores::BUNDLE_LIMIT", pem_stores::BUNDLE_LIMIT, Bytes, "one PEM bundle or certificate file", TOO_LARGE, "the certificates in the first bytes are kept"),
    b("pem_stores::CERT_LIMIT", pem_stores::CERT_LIMIT as u64, Count, "certificates read from one file", TOO_LARGE, "the first are kept"),
    b("pem_stores::BAD_BLOCK_ROWS", pem_stores::BAD_BLOCK_ROWS as u64, Count, "bad PEM blocks reported one by one per file", PARSE, "one row counts the rest"),
    b("pem_stores::MAX_DEPTH", pem_stores::MAX_DEPTH as u64, Levels, "directory nesting of an anchor tree", LOOP, "deeper directories are not read"),
    b("x509::PEM_BLOCK_LIMIT", x509::PEM_BLOCK_LIMIT as u64, Bytes, "one PEM block, BEGIN to END", PARSE, "that block is an error, the next are read"),
    b("nss::LIMITS.file_bytes", nss::LIMITS.file_bytes, Bytes, "cert9.db, its `-journal` or `-wal`", TOO_LARGE, "the database is not read"),
    b("nss::LIMITS.total_bytes", nss::LIMITS.total_bytes, Bytes, "cert9.db with its `-journal` and `-wal`", TOO_LARGE, "the database is not read"),
    b("nss::LIMITS.value_bytes", nss::LIMITS.value_bytes as u64, Bytes, "one SQLite value of cert9.db", TOO_LARGE, "the database is not read"),
    b("nss::LIMITS.vm_steps", nss::LIMITS.vm_steps, Count, "SQLite VM steps reading cert9.db", TOO_LARGE, "reading the database stops there"),
    b("nss::LIMITS.time", nss::LIMITS.time.as_secs(), Seconds, "wall-clock time reading cert9.db", TOO_LARGE, "reading the database stops there"),
    b("certstore::STORE_FILE_LIMIT", certstore::STORE_FILE_LIMIT, Bytes, "one certificate file of a Windows store", TOO_LARGE, "the file is not read"),
    b("keychain::LIMIT", keychain::LIMIT, Bytes, "one macOS keychain file", TOO_LARGE, "the keychain is not read"),
    // systemd.
    b("systemd::READ_LIMIT", systemd::READ_LIMIT, Bytes, "one unit file or drop-in", TOO_LARGE, "the settings in the first bytes count"),
    b("systemd::LONG_LINE_MAX", systemd::LONG_LINE_MAX as u64, Bytes, "one (continued) line of a unit file (systemd's `LONG_LINE_MAX`)", PARSE, "the file is unloadable, as for systemd"),
    b("systemd::FOLLOW_MAX", systemd::FOLLOW_MAX as u64, Count, "unit aliases followed (`UNIT_FILE_FOLLOW_SYMLINK_MAX`)", LOOP, "the unit is listed without what the alias leads to"),
    b("systemd::MAX_INSTALL_SETTINGS", systemd::MAX_INSTALL_SETTINGS as u64, Count, "[Install] settings of one unit", TOO_LARGE, "the first are used"),
    // Windows.
    b("windows_hives::HIVE_LIMIT", windows_hives::HIVE_LIMIT, Bytes, "one registry hive or transaction log", TOO_LARGE, "the hive (or log) is not read"),
    b("hive::MAX_DEPTH", hive::MAX_DEPTH as u64, Levels, "key nesting in a full walk (Windows' own limit)", PARSE, "deeper keys are not read"),
    b("hive (keys seen)", 1, Count, "visits of one key in a walk: subkey lists that name a key twice, the key itself, or an ancestor", PARSE, "the key is read once"),
    b("hive::READ_FACTOR", hive::READ_FACTOR, Factor, "names, data and lists read from one hive, as a multiple of its size (cells shared by many keys)", PARSE, "the rest of the hive is not read"),
    b("hive::READ_SLACK", hive::READ_SLACK, Bytes, "names, data and lists read from one hive beyond that multiple", PARSE, "the rest of the hive is not read"),
    // macOS.
    b("plist::LIMIT", plist::LIMIT, Bytes, "one property list", TOO_LARGE, "the file is not read"),
    b("plist::MAX_DEPTH", plist::MAX_DEPTH as u64, Levels, "nesting of arrays and dictionaries", PARSE, "the file is an error"),
    b("plist::MAX_VALUES", plist::MAX_VALUES, Count, "values one property list may produce", PARSE, "the file is an error"),
    b("plist::VALUES_PER_BYTE", plist::VALUES_PER_BYTE, Factor, "values per byte of file (shared objects, reference cycles)", PARSE, "the file is an error"),
    b("plist::MAX_TEXT", plist::MAX_TEXT, Bytes, "string and data bytes one property list may produce", PARSE, "the file is an error"),
    b("plist::TEXT_PER_BYTE", plist::TEXT_PER_BYTE, Factor, "string and data bytes per byte of file", PARSE, "the file is an error"),
    b("homebrew::RECEIPT_LIMIT", homebrew::RECEIPT_LIMIT, Bytes, "one Homebrew `INSTALL_RECEIPT.json`", TOO_LARGE, "the receipt is not read"),
    // Browsers.
    b("chromium::MANIFEST_LIMIT", chromium::MANIFEST_LIMIT, Bytes, "a Chromium extension's `manifest.json` or `messages.json`", TOO_LARGE, "that file is not read"),
    b("json::DOC_LIMIT", json::DOC_LIMIT, Bytes, "a manifest, `extensions.json` or `Preferences`", TOO_LARGE, "the document is not read"),
    b("chromium::FIELD_EXPANSION", chromium::FIELD_EXPANSION as u64, Bytes, "one localized manifest field", TOO_LARGE, "past that point the text is kept as written"),
    b("chromium::MANIFEST_EXPANSION", chromium::MANIFEST_EXPANSION as u64, Bytes, "localized text of one manifest", TOO_LARGE, "past that point the text is kept as written"),
    b("chromium::EXPANSION_FACTOR", chromium::EXPANSION_FACTOR as u64, Factor, "localized text as a multiple of the text it comes from", TOO_LARGE, "past that point the text is kept as written"),
    // Other Linux sources.
    b("os_release::FIRST_LINE_LIMIT", os_release::FIRST_LINE_LIMIT, Bytes, "`etc/hostname`, `etc/machine-id`", TOO_LARGE, "the value is NULL"),
    b("sysv::SCRIPT_LIMIT", sysv::SCRIPT_LIMIT, Bytes, "one SysV init script (read for its LSB header)", TOO_LARGE, "the script is listed without its description"),
    b("flatpak::METADATA_LIMIT", flatpak::METADATA_LIMIT, Bytes, "one flatpak `metadata` file", TOO_LARGE, "the app is listed without it"),
    b("flatpak::APPSTREAM_LIMIT", flatpak::APPSTREAM_LIMIT, Bytes, "one flatpak appstream file", TOO_LARGE, "the apps are listed without it"),
    b("snap::STATE_LIMIT", snap::STATE_LIMIT, Bytes, "snapd's `state.json`", TOO_LARGE, "snaps are read from their mounts only"),
    b("snap::SNAP_YAML_LIMIT", snap::SNAP_YAML_LIMIT, Bytes, "one `meta/snap.yaml`", TOO_LARGE, "the snap is listed without it"),
    b("capped::BAD_RECORD_ROWS", capped::BAD_RECORD_ROWS as u64, Count, "bad records of one document reported one by one (other sources)", PARSE, "one row counts the rest"),
];

fn value_text(b: &Bound) -> String {
    let v = b.value;
    match b.unit {
        Unit::Bytes => [(30, "GiB"), (20, "MiB"), (10, "KiB")]
            .iter()
            .find(|(shift, _)| v >= 1 << shift && v.is_multiple_of(1 << shift))
            .map_or(format!("{v} B"), |(shift, unit)| format!("{} {unit}", v >> shift)),
        Unit::Count => grouped(v),
        Unit::Levels => format!("{v} levels"),
        Unit::Factor => format!("{v}×"),
        Unit::Seconds => format!("{v} s"),
    }
}

fn grouped(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `docs/limits.md`.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Limits\n\n\
         <!-- Generated from tables/src/limits.rs (`limits::ALL`); regenerate with\n     \
         `EMBARGO_BLESS=1 cargo test -p embargo-tables limits`. -->\n\n\
         Every bound embargo puts on what one scan reads, parses and keeps. Hitting one is never\n\
         silent: it makes a `scan_errors` row naming the path, the kind and the limit, and the scan\n\
         goes on with what it could still read. The first three are settings of the engine\n\
         (`Engine::with_limits`, `ScanLimits`); the rest are fixed.\n\n\
         | bound | value | what it bounds | `scan_errors.kind` | when hit |\n\
         |---|---|---|---|---|\n",
    );
    for b in ALL {
        let kind = b.kind.map_or("—".to_string(), |k| format!("`{k}`"));
        s.push_str(&format!("| `{}` | {} | {} | {kind} | {} |\n", b.name, value_text(b), b.bounds, b.then));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLESS: &str = "EMBARGO_BLESS=1 cargo test -p embargo-tables limits";

    #[test]
    fn docs_limits_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/limits.md");
        let want = markdown();
        if std::env::var_os("EMBARGO_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == want, "docs/limits.md is stale: run `{BLESS}`");
    }

    /// A bound declared in a collector and missing here would be one the
    /// docs do not show: every constant named like a bound must be listed.
    #[test]
    fn every_bound_constant_of_the_crate_is_listed() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let listed: Vec<&str> = ALL.iter().map(|b| b.name).collect();
        let mut missing = Vec::new();
        let mut stack = vec![src.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let module = p.file_stem().unwrap().to_str().unwrap().to_string();
                let text = std::fs::read_to_string(&p).unwrap();
                // Test modules come last; their constants are fixtures.
                for line in text.lines().take_while(|l| !l.starts_with("#[cfg(test)]")) {
                    let line = line.trim_start();
                    let Some(rest) = line.strip_prefix("pub const ").or_else(|| line.strip_prefix("const ")) else {
                        continue;
                    };
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    let bound = name.contains("LIMIT")
                        || name.starts_with("MAX_")
                        || name.ends_with("_MAX")
                        || name.ends_with("_ROWS");
                    let qualified = format!("{module}::{name}");
                    if bound && !listed.iter().any(|l| l.starts_with(&qualified)) {
                        missing.push(qualified);
                    }
                }
            }
        }
        missing.sort();
        assert!(missing.is_empty(), "bounds missing from limits::ALL: {missing:?}");
    }

    /// A Linux root: a dpkg status file of `packages` stanzas and one
    /// systemd unit, as the rest of the scan a bound must not cost.
    fn linux_root(packages: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut status = String::new();
        for i in 0..packages {
            status.push_str(&format!(
                "Package: pkg{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\n\n"
            ));
        }
        let write = |rel: &str, body: &[u8]| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        write("var/lib/dpkg/status", status.as_bytes());
        write("etc/os-release", b"ID=debian\n");
        write(
            "etc/systemd/system/kav.service",
            b"[Unit]\nDescription=x\n[Service]\nExecStart=/opt/kav/bin/kav\n[Install]\nWantedBy=multi-user.target\n",
        );
        dir
    }

    fn names(scan: &crate::Scan, table: &str) -> Vec<String> {
        column(scan, table, "name")
    }

    /// One column of a table, as text (NULL as "").
    fn column(scan: &crate::Scan, table: &str, column: &str) -> Vec<String> {
        let table = crate::tables::find(table).unwrap();
        let col = table.spec().columns.iter().position(|c| c.name == column).unwrap();
        let rows = scan.rows(table, &crate::Query::all());
        (0..rows.len())
            .map(|r| match rows.cell(r, col) {
                crate::ValueRef::Text(t) => t.to_string(),
                crate::ValueRef::Null => String::new(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn engine(dir: &tempfile::TempDir, limits: ScanLimits) -> crate::Engine {
        crate::Engine::new(crate::Root::new(dir.path()).unwrap()).with_limits(limits)
    }

    #[test]
    fn a_table_past_its_row_limit_keeps_the_first_rows_and_says_so() {
        let dir = linux_root(5);
        let scan = engine(&dir, ScanLimits { rows_per_table: 3, ..Default::default() }).scan();
        assert_eq!(names(&scan, "installed_software"), ["pkg0", "pkg1", "pkg2"]);
        assert!(names(&scan, "installed_services").contains(&"kav.service".to_string()));
        let errors = scan.errors.snapshot();
        let hit: Vec<_> = errors.iter().filter(|e| e.kind == ErrorKind::TooLarge).collect();
        assert_eq!(hit.len(), 1, "{errors:?}");
        assert_eq!(hit[0].table_name, "installed_software");
        assert!(hit[0].message.contains("5 rows") && hit[0].message.contains("limit of 3"), "{}", hit[0].message);
        // At the limit exactly nothing is cut.
        let scan = engine(&dir, ScanLimits { rows_per_table: 5, ..Default::default() }).scan();
        assert_eq!(names(&scan, "installed_software").len(), 5);
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
    }

    /// A sparse 1 MiB bundle: under its own limit, but past what the scan
    /// may still read, so it is refused before a byte of it is read; the
    /// packages are still listed.
    #[test]
    fn a_file_past_the_scans_read_budget_is_refused_and_the_rest_is_read() {
        let dir = linux_root(4);
        let bundle = dir.path().join("etc/ssl/certs/ca-certificates.crt");
        std::fs::create_dir_all(bundle.parent().unwrap()).unwrap();
        std::fs::File::create(&bundle).unwrap().set_len(1 << 20).unwrap();
        let budget = 64 << 10;
        let scan = engine(&dir, ScanLimits { bytes_per_scan: budget, ..Default::default() }).scan();
        assert_eq!(names(&scan, "installed_software").len(), 4);
        assert!(column(&scan, "installed_certificates", "sha1").is_empty());
        assert!(scan.root.bytes_read() <= budget, "{}", scan.root.bytes_read());
        let errors = scan.errors.snapshot();
        let hit = errors
            .iter()
            .find(|e| e.path == "/etc/ssl/certs/ca-certificates.crt" && e.kind == ErrorKind::TooLarge)
            .unwrap_or_else(|| panic!("{errors:?}"));
        assert_eq!(hit.table_name, "installed_certificates");
        assert!(hit.message.contains(&format!("{budget}-byte budget of one scan")), "{}", hit.message);
        // The next statement has the whole budget again.
        scan.forget_rows();
        assert_eq!(scan.root.bytes_read(), 0);
        assert_eq!(names(&scan, "installed_software").len(), 4);
        // With the default budget the bundle is read (to its own limit).
        let scan = engine(&dir, ScanLimits::default()).scan();
        column(&scan, "installed_certificates", "sha1");
        assert!(
            !scan.errors.snapshot().iter().any(|e| e.message.contains("budget of one scan")),
            "{:?}",
            scan.errors.snapshot()
        );
    }

    #[cfg(unix)]
    #[test]
    fn problems_past_the_scans_limit_are_counted_in_one_row_per_table() {
        let dir = linux_root(2);
        let status_d = dir.path().join("var/lib/dpkg/status.d");
        std::fs::create_dir_all(&status_d).unwrap();
        for name in ["a", "b", "c", "d", "e"] {
            std::os::unix::fs::symlink(name, status_d.join(name)).unwrap();
        }
        let scan = engine(&dir, ScanLimits { errors_per_scan: 2, ..Default::default() }).scan();
        assert_eq!(names(&scan, "installed_software"), ["pkg0", "pkg1"]);
        let errors = scan.errors.snapshot();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[..2].iter().all(|e| e.kind == ErrorKind::SymlinkLoop), "{errors:?}");
        // Counted for the table that met them, so a report still sees that
        // its evidence went unlisted.
        assert_eq!((errors[2].kind, errors[2].table_name.as_str()), (ErrorKind::TooLarge, "installed_software"));
        assert!(errors[2].message.starts_with("3 more problems of installed_software"), "{}", errors[2].message);
        // scan_errors itself shows the summary row.
        let shown: Vec<_> = column(&scan, "scan_errors", "table_name")
            .into_iter()
            .zip(column(&scan, "scan_errors", "kind"))
            .zip(column(&scan, "scan_errors", "message"))
            .collect();
        // scan_errors shows the kept rows and one count per table: reading
        // it runs every table, and running_processes' `unsupported` row (not
        // the live root) is past the limit too.
        let loops = shown.iter().filter(|((_, k), _)| k == "symlink_loop").count();
        let counts: Vec<_> =
            shown.iter().filter(|((_, k), m)| k == "too_large" && m.contains("more problems of")).collect();
        assert_eq!((loops, shown.len() - loops), (2, counts.len()), "{shown:?}");
        assert!(counts.iter().any(|((t, _), m)| t == "installed_software" && m.starts_with("3 more")), "{shown:?}");
    }

    /// A sparse file of `len` bytes at `rel`: no disk, and nothing to read
    /// if the limit is checked before reading, as it must be.
    fn sparse(dir: &tempfile::TempDir, rel: &str, len: u64) {
        let p = dir.path().join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::File::create(p).unwrap().set_len(len).unwrap();
    }

    /// The too_large row of `path` in `table`, naming `limit`.
    fn assert_too_large(scan: &crate::Scan, table: &str, path: &str, limit: u64) {
        let errors = scan.errors.snapshot();
        let hit = errors
            .iter()
            .find(|e| e.path == path && e.table_name == table)
            .unwrap_or_else(|| panic!("no row for {path} in {table}: {errors:?}"));
        assert_eq!(hit.kind, ErrorKind::TooLarge, "{hit:?}");
        assert!(hit.message.contains(&limit.to_string()), "{path}: {}", hit.message);
    }

    /// One byte past each whole-file limit of the Linux sources, all on one
    /// root: one too_large row each, and the root's packages, unit and the
    /// rows of every other source are still there.
    #[test]
    fn each_linux_file_one_byte_past_its_limit_is_a_row_and_the_rest_is_read() {
        let dir = linux_root(2);
        let chrome =
            "/home/alice/.config/google-chrome/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/1.0_0/manifest.json";
        let cases = [
            ("installed_software", snap::STATE_PATH, snap::STATE_LIMIT),
            ("installed_software", rpmdb::SQLITE_PATHS[0], rpmdb::LIMITS.file_bytes),
            ("installed_certificates", "/etc/pki/nssdb/cert9.db", nss::LIMITS.file_bytes),
            ("browser_extensions", chrome, chromium::MANIFEST_LIMIT),
            ("scan_host", "/etc/hostname", os_release::FIRST_LINE_LIMIT),
            ("installed_services", "/etc/init.d/kav", sysv::SCRIPT_LIMIT),
        ];
        for (_, path, limit) in cases {
            sparse(&dir, path, limit + 1);
        }
        let scan = engine(&dir, ScanLimits::default()).scan();
        assert_eq!(names(&scan, "installed_software"), ["pkg0", "pkg1"]);
        let services = names(&scan, "installed_services");
        // The init script is listed without the description it was read for.
        assert!(services.contains(&"kav.service".to_string()) && services.contains(&"kav".to_string()), "{services:?}");
        column(&scan, "installed_certificates", "sha1");
        column(&scan, "browser_extensions", "id");
        assert_eq!(column(&scan, "scan_host", "hostname"), [""]);
        for (table, path, limit) in cases {
            assert_too_large(&scan, table, path, limit);
        }
        // Refused before reading: nothing of them was charged.
        assert!(scan.root.bytes_read() < 1 << 20, "{}", scan.root.bytes_read());
    }

    #[test]
    fn each_macos_file_one_byte_past_its_limit_is_a_row_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let write = |rel: &str, body: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        let dict = |pairs: &[(&str, &str)]| {
            let body: String = pairs.iter().map(|(k, v)| format!("<key>{k}</key><string>{v}</string>")).collect();
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>{body}</dict></plist>\n")
        };
        write(
            "System/Library/CoreServices/SystemVersion.plist",
            &dict(&[("ProductName", "macOS"), ("ProductVersion", "14.0")]),
        );
        write(
            "Applications/Good.app/Contents/Info.plist",
            &dict(&[("CFBundleName", "Good"), ("CFBundleIdentifier", "com.example.good")]),
        );
        std::fs::create_dir_all(dir.path().join("usr/local/Cellar/foo/1.0")).unwrap();
        let cases = [
            ("installed_software", "/Applications/Big.app/Contents/Info.plist", plist::LIMIT),
            ("installed_software", "/usr/local/Cellar/foo/1.0/INSTALL_RECEIPT.json", homebrew::RECEIPT_LIMIT),
            ("installed_certificates", keychain::SYSTEM_KEYCHAIN, keychain::LIMIT),
        ];
        for (_, path, limit) in cases {
            sparse(&dir, path, limit + 1);
        }
        let scan = engine(&dir, ScanLimits::default()).scan();
        let ids = column(&scan, "installed_software", "identifier");
        assert!(ids.contains(&"com.example.good".to_string()), "{ids:?}");
        // The keg is listed, without the install time its receipt would give.
        assert!(names(&scan, "installed_software").contains(&"foo".to_string()));
        column(&scan, "installed_certificates", "sha1");
        for (table, path, limit) in cases {
            assert_too_large(&scan, table, path, limit);
        }
    }

    #[test]
    fn a_user_hive_one_byte_past_its_limit_is_a_row_and_the_machines_software_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let software = dir.path().join("Windows/System32/config/SOFTWARE");
        std::fs::create_dir_all(software.parent().unwrap()).unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/windows/root/Windows/System32/config/SOFTWARE");
        std::fs::copy(fixture, software).unwrap();
        sparse(&dir, "/Users/alice/NTUSER.DAT", windows_hives::HIVE_LIMIT + 1);
        let scan = engine(&dir, ScanLimits::default()).scan();
        let users = column(&scan, "installed_software", "user");
        assert!(!users.is_empty() && users.iter().all(|u| u.is_empty()), "{users:?}");
        assert_too_large(&scan, "installed_software", "/Users/alice/NTUSER.DAT", windows_hives::HIVE_LIMIT);
    }

    #[test]
    fn values_read_as_people_write_them() {
        let bytes = |v| value_text(&b("x", v, Bytes, "", None, ""));
        assert_eq!(bytes(64 << 20), "64 MiB");
        assert_eq!(bytes((256 << 20) + (1 << 20)), "257 MiB");
        assert_eq!(bytes(4 << 30), "4 GiB");
        assert_eq!(bytes(4096), "4 KiB");
        assert_eq!(bytes(10), "10 B");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(65535), "65,535");
    }
}
