//! The minimal table API: a declaration plus one generate function that is
//! handed the scan and the query's constraints and returns typed rows.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use embargo_catalog::Catalog;

use crate::error::{ErrorKind, ErrorLog, FsError, ScanError};
use crate::limits::ScanLimits;
use crate::query::Query;
use crate::root::Root;
use crate::spec::{Platform, Row, RowSet, TableSpec};

/// The registry hive that tells a Windows root (looked up without regard to case).
pub const WINDOWS_HIVE: &str = "/Windows/System32/config/SOFTWARE";
/// The other hive every Windows root has: it still tells one whose SOFTWARE
/// hive is unreadable (a link out of the root, a FIFO), so that the rest of
/// the root is still read and the bad hive is reported by its tables.
pub const WINDOWS_SYSTEM_HIVE: &str = "/Windows/System32/config/SYSTEM";
/// The file that tells a macOS root.
pub const MACOS_VERSION: &str = "/System/Library/CoreServices/SystemVersion.plist";
/// The files that tell a root's OS family, in the order they are tried.
pub const MARKERS: [&str; 3] = [WINDOWS_HIVE, WINDOWS_SYSTEM_HIVE, MACOS_VERSION];

/// Whether `path` is an OS marker or a folder on the way to one (compared
/// without regard to case, as the Windows markers are looked up).
pub fn is_marker_or_on_its_way(path: &str) -> bool {
    let path = path.trim_end_matches('/').to_ascii_lowercase();
    MARKERS
        .iter()
        .map(|m| m.to_ascii_lowercase())
        .any(|m| m == path || m.strip_prefix(&path).is_some_and(|rest| rest.starts_with('/')) && !path.is_empty())
}

/// Distinct queries of one table whose rows a scan keeps. A surface that
/// asks once per outer row of a join (osquery's `file_presence` by path)
/// would otherwise keep every answer until the scan ends; past this, rows
/// are made afresh for each new query and not kept (nothing is lost but the
/// saving).
pub const CACHED_QUERIES_PER_TABLE: usize = 4096;

/// Whether a problem left evidence unread, for every surface that reports
/// exposure: any problem of an evidence table ([`crate::spec::Class::Evidence`];
/// a problem reading one may hide a finding), such as a file too large,
/// unreadable or corrupt, a loop, or a device or FIFO where a file should
/// be. scan_host and the catalog tables are not evidence, save for an OS
/// marker that is there but unreadable, which hid the root's own family.
/// Not `unsupported` (a fact about the root), and not a `not_found` that is
/// only a missing file. A `not_found` for a name that is a symbolic link
/// counts (its target is gone, so what it names was not read) unless
/// `has_row` says the table still gave a row for that path: a unit link
/// whose unit is gone is still a row, by its name, for the findings to
/// match, so it hides nothing. Missing optional files never make a row.
pub fn counts_as_unreadable(root: &crate::Root, e: &crate::ScanError, has_row: impl FnOnce() -> bool) -> bool {
    use crate::ErrorKind;
    // An OS marker that is there but could not be read (a link out of the
    // root, a FIFO) sent the scan to another family's paths: every file of
    // the root's own went unread. A junk marker (parse_error) is no evidence
    // of a family and hides nothing.
    let marker = e.table_name == "scan_host" && e.kind != ErrorKind::ParseError && is_marker_or_on_its_way(&e.path);
    if !marker
        && !crate::tables::find(&e.table_name)
            .is_some_and(|t| t.spec().attributes.class == crate::spec::Class::Evidence)
    {
        return false;
    }
    match e.kind {
        ErrorKind::Unsupported => false,
        ErrorKind::NotFound => {
            root.resolve_nofollow(&e.path).is_ok_and(|r| r.metadata.file_type().is_symlink()) && !has_row()
        }
        _ => true,
    }
}

/// How much of a marker file is read to check it.
pub const MARKER_HEAD: usize = 4096;

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

    pub fn platform(self) -> Platform {
        match self {
            OsFamily::Linux => Platform::Linux,
            OsFamily::Windows => Platform::Windows,
            OsFamily::Macos => Platform::Macos,
        }
    }
}

/// One short-lived scan: the root, the clock it is judged by, the problems
/// met so far, the rows made for the current statement and the state tables
/// share. Made by [`crate::engine::Engine::scan`] for one unit of a
/// surface's work (a CLI statement batch, an osquery `generate` call, a
/// statement of the loadable extension) and dropped after it, so that
/// nothing grows in a process that lives for days. Every table read in that
/// unit shares it.
pub struct Scan {
    pub root: Root,
    pub errors: ErrorLog,
    /// When the scan started, Unix seconds.
    pub scanned_at: i64,
    /// When the scan started, on the monotonic clock its time budget is
    /// measured by ([`crate::engine::Deadline`]).
    started: Instant,
    /// The date findings are judged at, Unix seconds (midnight UTC of
    /// `--as-of`, or the scan time).
    pub as_of: i64,
    /// The bounds of this scan (the engine's).
    pub limits: ScanLimits,
    os_family: OnceLock<OsFamily>,
    /// The banned-vendor catalog, shared with the engine (and its other
    /// scans), parsed on first use.
    catalog: Arc<OnceLock<Arc<Catalog>>>,
    /// Tables generated without constraints so far: their problems are all in
    /// `errors` already.
    complete: Mutex<HashSet<&'static str>>,
    /// Rows kept until [`Scan::forget_rows`], so that a statement which reads
    /// a table several times sees one consistent snapshot and pays for it once.
    cache: Mutex<HashMap<&'static str, HashMap<Query, SharedRows>>>,
    memo: Memo,
}

pub type SharedRows = Arc<dyn RowSet + Sync>;

/// What tables of one scan share, one value per type (the live process
/// table today; parsed registry hives and property lists next), each made
/// once, on first use, by whichever table needs it first.
#[derive(Default)]
struct Memo {
    slots: Mutex<HashMap<TypeId, Slot>>,
}

/// One shared value, made at most once; the map hands out the slot so that
/// making it does not hold the map.
type Slot = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

impl Memo {
    fn slot(&self, key: TypeId) -> Slot {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_default().clone()
    }

    fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        // The map is locked only to find the slot: a slow `init` holds up
        // the callers that want the same value, not those of other types.
        let slot = self.slot(TypeId::of::<T>());
        let value = slot.get_or_init(|| Arc::new(init())).clone();
        value.downcast::<T>().unwrap_or_else(|_| unreachable!("a memo slot holds the type it is keyed by"))
    }

    fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let value = slots.get(&TypeId::of::<T>())?.get()?.clone();
        value.downcast::<T>().ok()
    }

    fn clear(&self) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl Scan {
    /// A scan of `root` on its own, with the embedded catalog, judged now:
    /// for tests and tools. Surfaces get theirs from an
    /// [`Engine`](crate::engine::Engine).
    pub fn new(root: Root) -> Self {
        crate::engine::Engine::new(root).scan()
    }

    pub(crate) fn start(
        root: Root,
        catalog: Arc<OnceLock<Arc<Catalog>>>,
        as_of: Option<i64>,
        limits: ScanLimits,
    ) -> Self {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        Scan {
            root,
            errors: ErrorLog::with_limit(limits.errors_per_scan),
            scanned_at: now,
            started: Instant::now(),
            as_of: as_of.unwrap_or(now),
            limits,
            os_family: OnceLock::new(),
            catalog,
            complete: Mutex::default(),
            cache: Mutex::default(),
            memo: Memo::default(),
        }
    }

    /// Forgets the rows and shared state made so far, so that the next
    /// statement reads the root afresh, with the whole read budget again;
    /// the problems met stay. For surfaces that run several statements in
    /// one scan (the CLI's batches).
    pub fn forget_rows(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.memo.clear();
        self.root.reset_read_budget();
    }

    /// The value of type `T` the tables of this scan share, made by `init`
    /// the first time any of them asks (once, even when several ask at
    /// once). Kept until [`Scan::forget_rows`].
    pub fn shared<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        self.memo.get_or_init(init)
    }

    /// The shared `T` if some table has made it already.
    pub fn shared_if_made<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.memo.get()
    }

    /// Runs `table`'s generator for `query`. Every surface goes through here.
    pub fn rows(&self, table: &dyn Table, query: &Query) -> SharedRows {
        let name = table.spec().name;
        if let Some(rows) = self.cached(table, query) {
            return rows;
        }
        let rows: SharedRows = Arc::from(table.generate(&self.ctx(name), query));
        if query.is_all() {
            self.complete.lock().unwrap_or_else(|p| p.into_inner()).insert(name);
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let kept = cache.entry(name).or_default();
        if kept.len() < CACHED_QUERIES_PER_TABLE || query.is_all() {
            kept.insert(query.clone(), rows.clone());
        }
        rows
    }

    /// The rows [`Scan::rows`] would serve from this scan's cache, if it
    /// holds them: a surface that runs generators on a worker
    /// ([`crate::engine::Workers`]) skips the worker for them.
    pub fn cached(&self, table: &dyn Table, query: &Query) -> Option<SharedRows> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // Rows generated without constraints serve every later query of
        // the table: the surface re-checks each constraint on each row.
        // Not for a table with a required column, which lists nothing
        // without it (scan_errors reads it so, to finish it).
        let whole = !table.spec().columns.iter().any(|c| c.options.required);
        let t = cache.get(table.spec().name)?;
        t.get(query).or_else(|| whole.then(|| t.get(&Query::all()))?).cloned()
    }

    /// When the scan started, on the monotonic clock.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Generates `tables` in full, in parallel, into the row cache, so that
    /// a statement reading all of them waits for the slowest collector
    /// rather than for their sum.
    pub fn prefetch(&self, tables: &[&dyn Table]) {
        // One worker per core, each taking the next table in the given order
        // (slowest first is best): more threads than cores only adds
        // switching.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        crate::pool::map(tables, workers, |&table| {
            // A panic stays here; the statement will run the collector
            // again and report it as an SQL error.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.rows(table, &Query::all())));
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

    /// Told from marker files whose contents are checked: Windows has a
    /// registry hive at [`WINDOWS_HIVE`] or [`WINDOWS_SYSTEM_HIVE`], macOS a property list at
    /// [`MACOS_VERSION`]; any other root is taken as Linux. An empty or
    /// junk file where a marker belongs is no evidence (a `scan_errors` row
    /// says so): otherwise one planted file would send every collector to
    /// another OS's paths and hide the root's own software.
    pub fn os_family(&self) -> OsFamily {
        *self.os_family.get_or_init(|| {
            let folding = self.root.clone().with_case_folding(true);
            let hive = |path| self.marker(&folding, path, "a Windows registry hive", |head| head.starts_with(b"regf"));
            if hive(WINDOWS_HIVE) || hive(WINDOWS_SYSTEM_HIVE) {
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
        let file = match root.open_capped(path, MARKER_HEAD as u64) {
            Ok((file, _)) => file,
            Err(e) => {
                // A marker that is there but cannot be read (a link out of
                // the root, a FIFO, a directory) is said; an absent one is not.
                let why = if e.kind == ErrorKind::NotFound { root.dangling(path) } else { Some(e) };
                why.into_iter().for_each(|e| self.report_marker(e));
                return false;
            }
        };
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

    /// See [`Scan::shared`]: state this scan's tables share, such as the
    /// process table or a parsed registry hive.
    pub fn shared<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        self.scan.shared(init)
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
        let mut rows = (self.generate)(ctx, query);
        let cap = ctx.scan.limits.rows_per_table;
        if rows.len() > cap {
            ctx.report(FsError::new(
                ErrorKind::TooLarge,
                "/",
                format!(
                    "{} rows made, more than the limit of {cap} rows per table in one scan; the first {cap} are kept",
                    rows.len()
                ),
            ));
            rows.truncate(cap);
        }
        Box::new(rows)
    }
}

/// One of a table's sources as its generator sees it, made by
/// [`declare_table!`](crate::declare_table) from the same list as the
/// [`SourceInfo`](crate::spec::SourceInfo) the docs show.
pub struct Source<F> {
    /// The column that names the source in each row.
    pub column: &'static str,
    /// The value of that column in this source's rows.
    pub name: &'static str,
    /// The OS families whose roots it reads.
    pub families: &'static [Platform],
    pub read: F,
}

impl<F> Source<F> {
    /// Whether this source reads roots of the scanned root's family (dpkg is
    /// not looked for on a macOS root, nor app bundles on a Linux one: a
    /// stray `/usr/local/Cellar` or `/Applications` on Linux is not a
    /// Homebrew or a Mac), and `q` can want its rows (`source = 'deb'`
    /// wants only dpkg's).
    pub fn wanted(&self, ctx: &Ctx<'_>, q: &Query) -> bool {
        self.families.contains(&ctx.scan.os_family().platform()) && q.admits(self.column, self.name)
    }
}

/// The read function of a source that adds its rows to the table's.
pub type ReadInto<R> = fn(&Ctx<'_>, &Query, &mut Vec<R>);

/// Every source `q` can want, in order, into one list of rows.
pub fn from_sources<R>(sources: &[Source<ReadInto<R>>], ctx: &Ctx<'_>, q: &Query) -> Vec<R> {
    let mut rows = Vec::new();
    for s in sources.iter().filter(|s| s.wanted(ctx, q)) {
        (s.read)(ctx, q, &mut rows);
    }
    rows
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

    /// Found with the hostile roots of issue 16: a Windows image whose
    /// SOFTWARE hive was a FIFO or a link out of the root was taken for an
    /// empty Linux root, with no row, and its SYSTEM and user hives were never
    /// read. SYSTEM tells a Windows root too, and the bad marker is a row.
    #[cfg(unix)]
    #[test]
    fn a_windows_root_with_an_unreadable_software_hive_is_still_windows() {
        let system =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/windows/root/Windows/System32/config/SYSTEM");
        let system = std::fs::read(system).unwrap();
        for fifo in [true, false] {
            let (dir, scan) = root_with(&[("Windows/System32/config/SYSTEM", &system)]);
            let software = dir.path().join("Windows/System32/config/SOFTWARE");
            if fifo {
                assert!(std::process::Command::new("mkfifo").arg(&software).status().unwrap().success());
            } else {
                std::os::unix::fs::symlink("/nowhere/SOFTWARE", &software).unwrap();
            }
            assert_eq!(scan.os_family(), OsFamily::Windows, "fifo: {fifo}");
            let errors: Vec<_> = scan.errors.snapshot().into_iter().map(|e| (e.table_name, e.path, e.kind)).collect();
            let kind = if fifo { crate::ErrorKind::NotRegularFile } else { crate::ErrorKind::NotFound };
            assert_eq!(errors, [("scan_host".to_string(), "/Windows/System32/config/SOFTWARE".to_string(), kind)]);
        }
    }

    #[test]
    fn shared_state_is_made_once_per_scan_and_forgotten_with_the_rows() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Parsed(usize);
        let (_dir, scan) = root_with(&[]);
        let made = AtomicUsize::new(0);
        let make = || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            Parsed(made.fetch_add(1, Ordering::SeqCst))
        };
        assert!(scan.shared_if_made::<Parsed>().is_none());
        // Tables on several threads ask at once: one of them makes it.
        let got: Vec<usize> = std::thread::scope(|s| {
            let askers: Vec<_> = (0..4).map(|_| s.spawn(|| scan.ctx("t").shared(make).0)).collect();
            askers.into_iter().map(|a| a.join().unwrap()).collect()
        });
        assert_eq!((got, made.load(Ordering::SeqCst)), (vec![0; 4], 1));
        // Another type has a slot of its own.
        assert_eq!(*scan.shared(|| 7u8), 7);
        assert_eq!(scan.shared_if_made::<Parsed>().map(|p| p.0), Some(0));
        // The next statement reads afresh.
        scan.forget_rows();
        assert!(scan.shared_if_made::<Parsed>().is_none());
        assert_eq!(scan.shared(make).0, 1);
    }

    #[test]
    fn the_row_cache_keeps_a_bounded_number_of_queries_per_table() {
        use crate::query::{Builder, Folding, Op};
        use crate::spec::Value;
        let (_dir, scan) = root_with(&[("present", b"x")]);
        let table = crate::tables::find("file_presence").unwrap();
        let by_path = |p: &str| {
            let mut q = Builder::new(table.spec(), Folding::Union);
            q.push("path", Op::Eq, [Value::Text(p.into())]);
            q.build().unwrap()
        };
        for i in 0..CACHED_QUERIES_PER_TABLE + 10 {
            assert_eq!(scan.rows(table, &by_path(&format!("/missing-{i}"))).len(), 1);
        }
        let kept = |scan: &Scan| scan.cache.lock().unwrap().get("file_presence").map_or(0, |t| t.len());
        assert_eq!(kept(&scan), CACHED_QUERIES_PER_TABLE);
        // Past the bound a query is still answered, afresh.
        assert_eq!(scan.rows(table, &by_path("/present")).len(), 1);
        assert_eq!(kept(&scan), CACHED_QUERIES_PER_TABLE);
        scan.forget_rows();
        assert_eq!(kept(&scan), 0);
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
