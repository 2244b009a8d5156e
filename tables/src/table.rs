//! The minimal table API: a declaration plus one generate function that is
//! handed the scan and the query's constraints and returns typed rows.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use embargo_catalog::Catalog;

use crate::error::{ErrorLog, FsError, ScanError};
use crate::query::Query;
use crate::root::Root;
use crate::spec::{Row, RowSet, TableSpec};

/// The registry hive that tells a Windows root (looked up without regard to case).
pub const WINDOWS_HIVE: &str = "/Windows/System32/config/SOFTWARE";
/// The file that tells a macOS root.
pub const MACOS_VERSION: &str = "/System/Library/CoreServices/SystemVersion.plist";
/// How much of a marker file is read to check it.
const MARKER_HEAD: usize = 4096;

/// A binary property list, or an XML one (after an optional byte-order mark
/// and blanks: an XML declaration, the plist doctype, or the element).
fn looks_like_plist(head: &[u8]) -> bool {
    if head.starts_with(b"bplist0") {
        return true;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = &text[text.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(text.len())..];
    [&b"<?xml"[..], b"<!DOCTYPE plist", b"<plist"].iter().any(|p| text.starts_with(p))
}

/// The OS family of the scanned root (not of the machine embargo runs on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsFamily {
    Linux,
    Windows,
    Macos,
}

impl OsFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            OsFamily::Linux => "linux",
            OsFamily::Windows => "windows",
            OsFamily::Macos => "macos",
        }
    }
}

/// One scan: the root, the clock it is judged by, and the problems met so far.
/// Every table of one SQLite connection shares one `Scan`.
pub struct Scan {
    pub root: Root,
    pub errors: ErrorLog,
    /// When the scan started, Unix seconds.
    pub scanned_at: i64,
    /// The date findings are judged at, Unix seconds (midnight UTC of
    /// `--as-of`, or the scan time).
    pub as_of: i64,
    os_family: OnceLock<OsFamily>,
    /// The banned-vendor catalog the catalog tables show (default: the embedded one).
    catalog: OnceLock<Arc<Catalog>>,
    /// Tables generated without constraints so far: their problems are all in
    /// `errors` already.
    complete: Mutex<HashSet<&'static str>>,
    /// Rows kept for the life of one statement, so that a query which reads a
    /// table several times sees one consistent snapshot and pays for it once.
    cache: Option<Mutex<HashMap<(String, String), SharedRows>>>,
    /// The live process table, read once per statement: running_processes
    /// and the state of installed_services both need it.
    processes: Mutex<Option<LiveProcesses>>,
}

pub type LiveProcesses = Arc<Result<Vec<crate::collectors::procs::Process>, crate::collectors::procs::ListError>>;

pub type SharedRows = Arc<dyn RowSet + Sync>;

impl Scan {
    pub fn new(root: Root) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Scan {
            root,
            errors: ErrorLog::default(),
            scanned_at: now,
            as_of: now,
            os_family: OnceLock::new(),
            catalog: OnceLock::new(),
            complete: Mutex::default(),
            cache: None,
            processes: Mutex::default(),
        }
    }

    /// Keeps generated rows until [`Scan::forget_rows`]; for surfaces that know
    /// where a statement ends (the CLI, the osquery extension).
    pub fn with_row_cache(mut self) -> Self {
        self.cache = Some(Mutex::default());
        self
    }

    pub fn forget_rows(&self) {
        if let Some(cache) = &self.cache {
            cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        *self.processes.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The live process list if this statement has read it already.
    pub fn cached_processes(&self) -> Option<LiveProcesses> {
        self.processes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every live process. Kept until [`Scan::forget_rows`] when rows are
    /// cached, read afresh on every call otherwise.
    pub fn live_processes(&self) -> LiveProcesses {
        let mut slot = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = &*slot {
            return list.clone();
        }
        let list = Arc::new(crate::collectors::procs::list(None));
        if self.cache.is_some() {
            *slot = Some(list.clone());
        }
        list
    }

    /// Runs `table`'s generator for `query`. Every surface goes through here.
    pub fn rows(&self, table: &dyn Table, query: &Query) -> SharedRows {
        let name = table.spec().name;
        let key = (name.to_string(), format!("{query:?}"));
        if let Some(cache) = &self.cache {
            let cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            // Rows generated without constraints serve every later query of
            // the table: SQLite re-checks each constraint on each row.
            let all = (name.to_string(), format!("{:?}", Query::all()));
            if let Some(rows) = cache.get(&key).or_else(|| cache.get(&all)) {
                return rows.clone();
            }
        }
        let rows: SharedRows = Arc::from(table.generate(&self.ctx(name), query));
        if query.constraints.is_empty() {
            self.complete.lock().unwrap_or_else(|p| p.into_inner()).insert(name);
        }
        if let Some(cache) = &self.cache {
            cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, rows.clone());
        }
        rows
    }

    /// Generates `tables` in full, in parallel, into the row cache, so that
    /// a statement reading all of them waits for the slowest collector
    /// rather than for their sum. Only useful with [`Scan::with_row_cache`].
    pub fn prefetch(&self, tables: &[&dyn Table]) {
        // One worker per core, each taking the next table in the given order
        // (slowest first is best): more threads than cores only adds
        // switching.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(tables.len());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while let Some(&table) = tables.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                        // A panic stays here; the statement will run the
                        // collector again and report it as an SQL error.
                        let _ =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.rows(table, &Query::all())));
                    }
                });
            }
        });
    }

    /// Whether `table` has been generated in full during this scan.
    pub fn is_complete(&self, table: &str) -> bool {
        self.complete.lock().unwrap_or_else(|p| p.into_inner()).contains(table)
    }

    /// The catalog; the embedded one is parsed on first use, so that queries
    /// which never touch it do not pay for it.
    pub fn catalog(&self) -> &Arc<Catalog> {
        self.catalog.get_or_init(Catalog::embedded)
    }

    /// Shows `catalog` (from `--catalog`) instead of the embedded one.
    pub fn with_catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.catalog = OnceLock::from(catalog);
        self
    }

    pub fn with_as_of(mut self, as_of: i64) -> Self {
        self.as_of = as_of;
        self
    }

    /// Told from marker files whose contents are checked: Windows has a
    /// registry hive at [`WINDOWS_HIVE`], macOS a property list at
    /// [`MACOS_VERSION`]; any other root is taken as Linux. An empty or
    /// junk file where a marker belongs is no evidence (a `scan_errors` row
    /// says so): otherwise one planted file would send every collector to
    /// another OS's paths and hide the root's own software.
    pub fn os_family(&self) -> OsFamily {
        *self.os_family.get_or_init(|| {
            let folding = self.root.clone().with_case_folding(true);
            if self.marker(&folding, WINDOWS_HIVE, "a Windows registry hive", |head| head.starts_with(b"regf")) {
                OsFamily::Windows
            } else if self.marker(&self.root, MACOS_VERSION, "a property list", looks_like_plist) {
                OsFamily::Macos
            } else {
                OsFamily::Linux
            }
        })
    }

    /// Whether `path` is a regular file whose first bytes pass `check`.
    fn marker(&self, root: &Root, path: &str, what: &str, check: fn(&[u8]) -> bool) -> bool {
        use std::io::Read;
        let Ok((file, _)) = root.open(path) else { return false };
        let mut head = Vec::with_capacity(MARKER_HEAD);
        if let Err(e) = file.take(MARKER_HEAD as u64).read_to_end(&mut head) {
            self.report_marker(FsError::io(path, &e));
            return false;
        }
        let ok = check(&head);
        if !ok {
            self.report_marker(FsError::parse(
                path,
                format!("not {what}, so not evidence of the OS family; the root is judged by its other files"),
            ));
        }
        ok
    }

    fn report_marker(&self, e: FsError) {
        self.errors.push(ScanError { table_name: "scan_host".into(), path: e.path, kind: e.kind, message: e.message });
    }

    /// A view of this scan for one table's generator.
    pub fn ctx(&self, table: &'static str) -> Ctx<'_> {
        Ctx { scan: self, table }
    }
}

/// What a generator sees: the scan, and which table it is filling (so that
/// the problems it reports are attributed to it).
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub scan: &'a Scan,
    pub table: &'static str,
}

impl<'a> Ctx<'a> {
    pub fn root(&self) -> &'a Root {
        &self.scan.root
    }

    /// Records a problem as a `scan_errors` row; the scan goes on.
    pub fn report(&self, e: FsError) {
        self.scan.errors.push(ScanError {
            table_name: self.table.to_string(),
            path: e.path,
            kind: e.kind,
            message: e.message,
        });
    }

    /// Unwraps `r`, reporting an error and giving `None`.
    pub fn ok<T>(&self, r: Result<T, FsError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(e);
                None
            }
        }
    }

    /// Like [`Ctx::ok`], but a missing file is normal and not reported. A
    /// symlink whose target is missing inside the root is reported: it may
    /// point out of the root, which we never follow.
    pub fn ok_if_present<T>(&self, r: Result<T, FsError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) if e.kind == crate::ErrorKind::NotFound => {
                if let Some(e) = self.root().dangling(&e.path) {
                    self.report(e);
                }
                None
            }
            Err(e) => {
                self.report(e);
                None
            }
        }
    }
}

/// A table as every surface sees it.
pub trait Table: Send + Sync {
    fn spec(&self) -> &'static TableSpec;
    fn generate(&self, ctx: &Ctx<'_>, query: &Query) -> Box<dyn RowSet + Sync>;
}

/// A table made of a declaration and a plain generate function.
pub struct Declared<R: Row> {
    pub spec: &'static TableSpec,
    pub generate: fn(&Ctx<'_>, &Query) -> Vec<R>,
}

impl<R: Row> Table for Declared<R> {
    fn spec(&self) -> &'static TableSpec {
        self.spec
    }

    fn generate(&self, ctx: &Ctx<'_>, query: &Query) -> Box<dyn RowSet + Sync> {
        Box::new((self.generate)(ctx, query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Scan) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, body) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        }
        let scan = Scan::new(Root::new(dir.path()).unwrap());
        (dir, scan)
    }

    const MANIFEST: &[u8] = br#"{"name": "Kaspersky Protection", "version": "1.0", "manifest_version": 3}"#;
    const EXTENSION: &str =
        "home/alice/.config/google-chrome/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/1.0_0/manifest.json";

    /// Found in the security review: an empty `Windows/System32/config/SOFTWARE`
    /// in a Linux image made it a Windows root, and its Linux browser
    /// extensions were never looked for. Markers must look like the real thing.
    #[test]
    fn planted_markers_do_not_change_the_os_family() {
        for (marker, body) in [
            ("Windows/System32/config/SOFTWARE", &b""[..]),
            ("windows/system32/CONFIG/software", b"not a hive"),
            ("System/Library/CoreServices/SystemVersion.plist", b""),
            ("System/Library/CoreServices/SystemVersion.plist", b"ProductVersion=14.0"),
        ] {
            let (_dir, scan) = root_with(&[("etc/os-release", b"ID=debian\n"), (marker, body), (EXTENSION, MANIFEST)]);
            assert_eq!(scan.os_family(), OsFamily::Linux, "{marker} {body:?}");
            let rows =
                crate::tables::browser_extensions::TABLE.generate(&scan.ctx("browser_extensions"), &Query::all());
            assert_eq!(rows.len(), 1, "{marker}: the Linux extension is still found");
            let errors = scan.errors.snapshot();
            assert!(
                errors
                    .iter()
                    .any(|e| e.kind == crate::ErrorKind::ParseError
                        && e.path.eq_ignore_ascii_case(&format!("/{marker}"))),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn real_markers_still_tell_the_family() {
        for (marker, body, family) in [
            ("Windows/System32/config/SOFTWARE", &b"regf\x01\0\0\0"[..], OsFamily::Windows),
            ("WINDOWS/system32/config/software", b"regf", OsFamily::Windows),
            ("System/Library/CoreServices/SystemVersion.plist", b"bplist00\xd1\x01\x02", OsFamily::Macos),
            (
                "System/Library/CoreServices/SystemVersion.plist",
                b"\xef\xbb\xbf\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict/></plist>",
                OsFamily::Macos,
            ),
            (
                "System/Library/CoreServices/SystemVersion.plist",
                b"<plist version=\"1.0\"><dict/></plist>",
                OsFamily::Macos,
            ),
            ("etc/os-release", b"ID=debian\n", OsFamily::Linux),
        ] {
            let (_dir, scan) = root_with(&[(marker, body)]);
            assert_eq!(scan.os_family(), family, "{marker}");
            assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
        }
    }
}
