//! The scan root: the only way collectors touch the file system.
//!
//! # Threat model
//!
//! The root is someone else's file tree: a mounted disk image, a container's
//! rootfs, another system's disk. Its contents are hostile (links that point
//! anywhere, device nodes, FIFOs, names that are not UTF-8), and it may change
//! while we scan it (a running container, a read-write or network mount).
//! Whatever it holds or does, embargo must read only files inside it and
//! must never open a FIFO, socket or device.
//!
//! Paths are resolved the way `chroot(2)` would resolve them, one component at
//! a time: an absolute symlink target starts again at the root, `..` stops at
//! the root, and at most [`MAX_SYMLINKS`] links are followed.
//!
//! # Design
//!
//! The walk goes from directory handle to directory handle, never through a
//! host path: the root is opened once, and each component is opened *in* the
//! handle of its parent with `openat(O_DIRECTORY|O_NOFOLLOW)` (`O_PATH` on
//! Linux, so that a directory we may search but not list still works, and no
//! driver's open ever runs). The kernel refuses a symlink there, so a link is
//! only ever read with `readlinkat` and its target walked by this code; what
//! was checked is what is opened, even if a directory is swapped for a link
//! between two steps. The final file is opened in its parent's handle with
//! `O_NOFOLLOW|O_NONBLOCK` after an `fstatat` says it is a regular file, and
//! `fstat` of the open file confirms it. Listings (`read_dir`) and link reads
//! (`read_link`) also work in the parent's handle.
//!
//! Walks pass through the same few directories (and links such as `/lib` ->
//! `usr/lib`) thousands of times, so the handles of directories and the
//! targets of links are remembered, keyed by their root-relative path. A
//! remembered handle is a directory that was inside the root when it was
//! opened; if the root changes later the scan sees the old directory (stale,
//! but still inside the root), never a link that replaced it. The cache is
//! bounded ([`CACHED_DIRS`]), as each directory in it is an open file.
//!
//! File names are bytes: a name that is not UTF-8 is kept exact in
//! [`DirEntry::file_name`] and every method takes a path as `&impl AsRef<OsStr>`, so a
//! listed name can be opened again; only what is shown ([`DirEntry::name`],
//! [`Resolved::path`], error paths) is lossy (U+FFFD).
//!
//! Out of scope: a directory *moved out of* the root while we hold its handle
//! (a later `..` or lookup would then be outside). Doing that needs write
//! access outside the root, which the scanned system does not have (a
//! container cannot rename a directory out of its own rootfs mount); the
//! analyst's own processes are trusted. A regular file swapped for a FIFO or
//! device between the `fstatat` and the `open` is opened (non-blocking, and
//! refused by the `fstat` right after); opening cannot be made conditional on
//! the type without `O_PATH` re-opening through `/proc`. [`Resolved::host`] is
//! a host path for messages and for libraries that only take a path (SQLite):
//! whatever opens it lets the kernel resolve it again, unchecked.
//!
//! `openat2(RESOLVE_IN_ROOT)` would do the walk in the kernel on Linux 5.6+,
//! but not the case folding and NTFS-style link targets of Windows images,
//! and not on macOS; the handle walk is one code path for all of them. On
//! platforms without `openat` (Windows) the same walk runs on host paths, with
//! the check-then-open race this design closes elsewhere.

use std::borrow::Cow;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use crate::error::{ErrorKind, FsError};

/// Linux's limit on symlinks followed in one lookup (`MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// Files larger than this are not slurped by [`Root::read`].
pub const DEFAULT_READ_LIMIT: u64 = 64 << 20;

/// Directory handles remembered per root. Each is an open file descriptor,
/// and the usual soft limit is 1024; a scan walks through far fewer
/// distinct directories than this, many times over.
pub const CACHED_DIRS: usize = 256;

/// Entries (directories and link targets) remembered per root, to bound the
/// memory a root with millions of links can take.
pub const CACHED_ENTRIES: usize = 1 << 16;

/// Entries one directory listing may hold. The biggest real directories
/// (`/usr/bin`, a certificate hash directory, `/var/lib/dpkg/info`) hold
/// tens of thousands; a listing past this is refused (too_large) rather
/// than held in memory, or cut short without a word.
pub const MAX_DIR_ENTRIES: usize = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

impl EntryType {
    pub fn of(ft: impl Into<FileType>) -> Self {
        let ft = ft.into();
        if ft.is_symlink() {
            EntryType::Symlink
        } else if ft.is_dir() {
            EntryType::Dir
        } else if ft.is_file() {
            EntryType::File
        } else {
            EntryType::Other
        }
    }
}

/// The type of a file, not following links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    Unknown,
}

impl FileType {
    pub fn is_file(self) -> bool {
        self.0 == Kind::File
    }
    pub fn is_dir(self) -> bool {
        self.0 == Kind::Dir
    }
    pub fn is_symlink(self) -> bool {
        self.0 == Kind::Symlink
    }
    pub fn is_fifo(self) -> bool {
        self.0 == Kind::Fifo
    }
    pub fn is_socket(self) -> bool {
        self.0 == Kind::Socket
    }
    pub fn is_block_device(self) -> bool {
        self.0 == Kind::BlockDevice
    }
    pub fn is_char_device(self) -> bool {
        self.0 == Kind::CharDevice
    }
}

impl From<std::fs::FileType> for FileType {
    fn from(ft: std::fs::FileType) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::FileTypeExt;
        let kind = if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            #[cfg(unix)]
            {
                if ft.is_fifo() {
                    Kind::Fifo
                } else if ft.is_socket() {
                    Kind::Socket
                } else if ft.is_block_device() {
                    Kind::BlockDevice
                } else if ft.is_char_device() {
                    Kind::CharDevice
                } else {
                    Kind::Unknown
                }
            }
            #[cfg(not(unix))]
            Kind::Unknown
        };
        FileType(kind)
    }
}

#[cfg(unix)]
impl From<rustix::fs::FileType> for FileType {
    fn from(ft: rustix::fs::FileType) -> Self {
        use rustix::fs::FileType as R;
        FileType(match ft {
            R::RegularFile => Kind::File,
            R::Directory => Kind::Dir,
            R::Symlink => Kind::Symlink,
            R::Fifo => Kind::Fifo,
            R::Socket => Kind::Socket,
            R::BlockDevice => Kind::BlockDevice,
            R::CharacterDevice => Kind::CharDevice,
            _ => Kind::Unknown,
        })
    }
}

/// What `lstat` says about a file inside the root.
#[derive(Clone, Debug)]
pub struct Metadata {
    file_type: FileType,
    len: u64,
    modified: Option<SystemTime>,
}

// No is_empty, as std's Metadata has none: the size of a file is not a collection's length.
#[allow(clippy::len_without_is_empty)]
impl Metadata {
    pub fn file_type(&self) -> FileType {
        self.file_type
    }
    pub fn is_file(&self) -> bool {
        self.file_type.is_file()
    }
    pub fn is_dir(&self) -> bool {
        self.file_type.is_dir()
    }
    pub fn is_symlink(&self) -> bool {
        self.file_type.is_symlink()
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn modified(&self) -> std::io::Result<SystemTime> {
        self.modified.ok_or_else(|| std::io::Error::other("no modification time"))
    }
}

impl From<std::fs::Metadata> for Metadata {
    fn from(m: std::fs::Metadata) -> Self {
        Metadata { file_type: m.file_type().into(), len: m.len(), modified: m.modified().ok() }
    }
}

#[cfg(unix)]
impl From<rustix::fs::Stat> for Metadata {
    #[allow(clippy::unnecessary_cast)]
    fn from(st: rustix::fs::Stat) -> Self {
        let (secs, nanos) = (st.st_mtime as i64, st.st_mtime_nsec as u32);
        let modified = if secs >= 0 {
            SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs as u64, nanos))
        } else {
            SystemTime::UNIX_EPOCH
                .checked_sub(Duration::from_secs(secs.unsigned_abs()))
                .and_then(|t| t.checked_add(Duration::from_nanos(nanos.into())))
        };
        Metadata {
            file_type: rustix::fs::FileType::from_raw_mode(st.st_mode as rustix::fs::RawMode).into(),
            len: st.st_size.max(0) as u64,
            modified,
        }
    }
}

/// One directory entry, typed without following links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The name for showing and matching: invalid UTF-8 becomes U+FFFD.
    pub name: String,
    /// The name exactly as stored, to open the entry again.
    pub file_name: OsString,
    pub entry_type: EntryType,
}

impl DirEntry {
    pub fn new(file_name: OsString, entry_type: EntryType) -> Self {
        DirEntry { name: file_name.to_string_lossy().into_owned(), file_name, entry_type }
    }

    /// `dir/name` with this entry's exact name, to hand back to [`Root`].
    pub fn path_in(&self, dir: impl AsRef<OsStr>) -> OsString {
        join(dir, &self.file_name)
    }
}

/// `dir/name` for root paths that may hold names that are not UTF-8.
pub fn join(dir: impl AsRef<OsStr>, name: impl AsRef<OsStr>) -> OsString {
    let (dir, name) = (dir.as_ref(), name.as_ref());
    let trimmed = trim_end_slashes(dir);
    let mut out = OsString::with_capacity(trimmed.len() + name.len() + 1);
    out.push(trimmed);
    out.push("/");
    out.push(name);
    out
}

/// A root path as shown in rows and messages: invalid UTF-8 becomes U+FFFD.
pub fn lossy(path: &OsStr) -> String {
    path.to_string_lossy().into_owned()
}

/// `path` split at its last `/` (`/a/b` → `/a`, `b`; `/b` → ``, `b`), as
/// `str::rsplit_once('/')` splits, for paths that may not be UTF-8.
pub fn rsplit_name(path: &OsStr) -> Option<(&OsStr, &OsStr)> {
    let b = path.as_encoded_bytes();
    let i = b.iter().rposition(|&c| c == b'/')?;
    Some((os(&b[..i]), os(&b[i + 1..])))
}

/// The last component of `path`, trailing slashes aside (all of it when it
/// has no other `/`).
pub fn file_name(path: &OsStr) -> &OsStr {
    let path = trim_end_slashes(path);
    rsplit_name(path).map_or(path, |(_, name)| name)
}

/// `path` made absolute without touching the file system: `.`, `..` (never
/// above `/`) and repeated slashes removed, as a chroot sees the name.
pub fn normalize(path: &OsStr) -> OsString {
    let mut kept: Vec<&[u8]> = Vec::new();
    for c in components(path.as_encoded_bytes(), false) {
        match c {
            b"." => {}
            b".." => {
                kept.pop();
            }
            c => kept.push(c),
        }
    }
    let mut out = OsString::with_capacity(path.len() + 1);
    for c in &kept {
        out.push("/");
        out.push(os(c));
    }
    if kept.is_empty() {
        out.push("/");
    }
    out
}

fn trim_end_slashes(p: &OsStr) -> &OsStr {
    let b = p.as_encoded_bytes();
    let end = b.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    os(&b[..end])
}

/// A path after resolution: where it is on the host, and what the scanned
/// system calls it.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// For messages and for libraries that only take a path; opening it lets
    /// the kernel resolve it again (see the module comment).
    pub host: PathBuf,
    /// Root-relative, with a leading `/`, all links resolved; lossy.
    pub path: String,
    /// The same, exact.
    pub raw_path: OsString,
    pub metadata: Metadata,
}

#[derive(Clone, Debug)]
pub struct Root {
    base: PathBuf,
    fold_case: bool,
    top: Arc<DirHandle>,
    /// Directories and links already walked through, by root-relative path
    /// (the bytes of `/a/b`; see the module comment on why this is safe).
    known: Arc<RwLock<Cache>>,
    /// What this scan may still open, shared by the root's clones (the
    /// case-folding view reads against the same budget).
    budget: Arc<Budget>,
}

/// Bytes one scan may read across all its files
/// ([`ScanLimits::bytes_per_scan`](crate::limits::ScanLimits)): a root of
/// thousands of files each just under its own limit must not make a scan
/// read without end.
#[derive(Debug)]
struct Budget {
    limit: u64,
    used: std::sync::atomic::AtomicU64,
}

impl Budget {
    fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget { limit, used: Default::default() })
    }

    /// Takes `n` bytes, or refuses `path` without taking any: a smaller
    /// file may still fit.
    fn charge(&self, path: &OsStr, n: u64) -> Result<(), FsError> {
        use std::sync::atomic::Ordering;
        let limit = self.limit;
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| used.checked_add(n).filter(|&u| u <= limit))
            .map(drop)
            .map_err(|used| {
                FsError::new(
                    ErrorKind::TooLarge,
                    lossy(path),
                    format!(
                        "not read: its {n} bytes would pass the {limit}-byte budget of one scan ({used} bytes read already)"
                    ),
                )
            })
    }
}

#[derive(Debug, Default)]
struct Cache {
    map: foldhash::HashMap<Vec<u8>, Known>,
    /// How many of `map`'s entries are directories.
    dirs: usize,
}

#[derive(Clone, Debug)]
enum Known {
    Dir(Arc<DirHandle>),
    /// A directory seen last in a path: only its lstat, no handle (resolving
    /// directories is common; opening each one would cost a descriptor).
    DirMeta(Metadata),
    /// A symlink and its target as stored.
    Link(Arc<[u8]>),
}

/// An open directory inside the root, and its `fstat` once asked for.
#[derive(Debug)]
struct DirHandle {
    handle: sys::Handle,
    meta: OnceLock<Metadata>,
}

impl DirHandle {
    fn new(handle: sys::Handle) -> Arc<DirHandle> {
        Arc::new(DirHandle { handle, meta: OnceLock::new() })
    }

    fn meta(&self) -> std::io::Result<Metadata> {
        if let Some(m) = self.meta.get() {
            return Ok(m.clone());
        }
        let m = sys::fstat(&self.handle)?;
        Ok(self.meta.get_or_init(|| m).clone())
    }
}

/// What the caller wants of the last component.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Stat { follow: bool },
    List,
    Link,
}

/// Where a walk ended.
enum End {
    /// The last component: its parent's handle, its exact name (None when the
    /// walk ended on a directory handle: the root, or after `..`), its
    /// root-relative path and its lstat.
    Stat {
        parent: Arc<DirHandle>,
        name: Option<Vec<u8>>,
        vpath: Vec<u8>,
        meta: Metadata,
    },
    List(Vec<DirEntry>),
    Link(OsString),
}

/// A failed step of the walk, before it is given the caller's path.
enum Fail {
    Sys(std::io::Error),
    NotDir,
    Loop,
}

impl Root {
    /// Opens `dir` as a scan root. It must be an existing directory.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Root> {
        let base = std::fs::canonicalize(dir.as_ref())?;
        let top = sys::open_root(&base).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotADirectory {
                std::io::Error::new(e.kind(), format!("{} is not a directory", dir.as_ref().display()))
            } else {
                e
            }
        })?;
        Ok(Root {
            base,
            fold_case: false,
            top: DirHandle::new(top),
            known: Default::default(),
            budget: Budget::new(crate::limits::BYTES_PER_SCAN),
        })
    }

    /// Looks names up without regard to case when the exact name is missing,
    /// as Windows and default macOS volumes do.
    pub fn with_case_folding(mut self, fold: bool) -> Self {
        self.fold_case = fold;
        self
    }

    /// The same root, remembering nothing of the walks made so far: for a
    /// new scan in a long-lived process, which must see links and
    /// directories as they are now, not as an earlier scan found them.
    pub fn fresh(&self) -> Root {
        Root { known: Default::default(), budget: Budget::new(self.budget.limit), ..self.clone() }
    }

    /// The same root with a budget of `bytes` for what it may read (see
    /// [`Root::open`]), none of it spent; the default is
    /// [`BYTES_PER_SCAN`](crate::limits::BYTES_PER_SCAN).
    pub fn with_read_budget(mut self, bytes: u64) -> Self {
        self.budget = Budget::new(bytes);
        self
    }

    /// Takes `n` bytes from the read budget for reading `path`, or refuses
    /// it (too_large) taking none.
    pub fn charge_read(&self, path: &(impl AsRef<OsStr> + ?Sized), n: u64) -> Result<(), FsError> {
        self.budget.charge(path.as_ref(), n)
    }

    /// Bytes charged to this root's read budget so far.
    pub fn bytes_read(&self) -> u64 {
        self.budget.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Gives the whole read budget back: for a surface whose next statement
    /// reads the root afresh ([`Scan::forget_rows`](crate::table::Scan::forget_rows)).
    pub fn reset_read_budget(&self) {
        self.budget.used.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// The analyst-side directory of the root.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Whether this root is the running system, so that live-only sources
    /// (processes, service state) describe the same machine.
    pub fn is_live(&self) -> bool {
        self.base == Path::new("/")
    }

    /// Why `path` was not found, when that is worth a `scan_errors` row: its
    /// last component, or a folder on its way, is a symlink whose target
    /// does not exist inside the root (dangling, or pointing out of the
    /// root, which is never followed). The row names the link, so that a
    /// folder linked away (`/Windows/System32/config`, `/Library/Keychains`)
    /// is one row however many files were wanted under it. None for a
    /// plainly absent file.
    pub fn dangling(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Option<FsError> {
        let path = path.as_ref();
        // The deepest part of the path that exists decides: a link there
        // hides what is below it, anything else means the rest is absent.
        let mut at = trim_end_slashes(path);
        let link = loop {
            match self.resolve_nofollow(at) {
                Ok(r) if !r.metadata.is_symlink() => return None,
                Ok(_) if at == trim_end_slashes(path) => break at,
                // A folder on the way: only a link that leads nowhere hides anything.
                Ok(_) => match self.resolve(at) {
                    Err(e) if e.kind == ErrorKind::NotFound => break at,
                    _ => return None,
                },
                Err(e) if e.kind == ErrorKind::NotFound => match rsplit_name(at) {
                    Some((parent, _)) if !trim_end_slashes(parent).is_empty() => at = trim_end_slashes(parent),
                    _ => return None,
                },
                Err(_) => return None,
            }
        };
        let target = self.read_link(link).unwrap_or_default();
        Some(FsError::new(
            ErrorKind::NotFound,
            lossy(link),
            format!(
                "symbolic link to {target:?}, which does not exist inside the root (links are resolved as in a chroot)"
            ),
        ))
    }

    /// Resolves `path` inside the root, following a final symlink too.
    pub fn resolve(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Resolved, FsError> {
        self.resolved(path.as_ref(), true)
    }

    /// Resolves `path` inside the root without following a final symlink.
    pub fn resolve_nofollow(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Resolved, FsError> {
        self.resolved(path.as_ref(), false)
    }

    pub fn exists(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> bool {
        self.walk(path.as_ref(), Want::Stat { follow: true }).is_ok()
    }

    fn resolved(&self, path: &OsStr, follow: bool) -> Result<Resolved, FsError> {
        match self.walk(path, Want::Stat { follow })? {
            End::Stat { vpath, meta, .. } => Ok(self.resolved_at(vpath, meta)),
            End::List(_) | End::Link(_) => unreachable!("a stat walk ends in End::Stat"),
        }
    }

    fn resolved_at(&self, vpath: Vec<u8>, metadata: Metadata) -> Resolved {
        let raw_path = if vpath.is_empty() { OsString::from("/") } else { os(&vpath).to_os_string() };
        let host = self.base.join(os(vpath.strip_prefix(b"/").unwrap_or(&vpath)));
        Resolved { host, path: lossy(&raw_path), raw_path, metadata }
    }

    /// The target of the symlink at `path`, as stored (lossy).
    pub fn read_link(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<String, FsError> {
        Ok(lossy(&self.read_link_os(path)?))
    }

    /// The target of the symlink at `path`, exact.
    pub fn read_link_os(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<OsString, FsError> {
        match self.walk(path.as_ref(), Want::Link)? {
            End::Link(t) => Ok(t),
            _ => unreachable!("a link walk ends in End::Link"),
        }
    }

    /// Opens a regular file for reading, charging its whole size to the
    /// scan's read budget: a file that would pass it is refused (too_large).
    pub fn open(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<(File, Resolved), FsError> {
        self.open_capped(path, u64::MAX)
    }

    /// [`Root::open`] for a reader that stops after `cap` bytes: only that
    /// much of the file is charged to the read budget.
    pub fn open_capped(&self, path: &(impl AsRef<OsStr> + ?Sized), cap: u64) -> Result<(File, Resolved), FsError> {
        let path = path.as_ref();
        let (file, r) = self.open_uncharged(path)?;
        self.budget.charge(path, r.metadata.len().min(cap))?;
        Ok((file, r))
    }

    /// [`Root::open`] without charging the read budget, for a reader that
    /// checks sizes first and then charges what it will read with
    /// [`Root::charge_read`].
    pub fn open_uncharged(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<(File, Resolved), FsError> {
        let path = path.as_ref();
        let End::Stat { parent, name, vpath, meta } = self.walk(path, Want::Stat { follow: true })? else {
            unreachable!("a stat walk ends in End::Stat")
        };
        // The walk's lstat, not a directory listing's d_type, decides what is
        // opened: an image can label a device node a regular file in its
        // directory entry, and opening some devices has side effects.
        let Some(name) = name.filter(|_| meta.is_file()) else {
            return Err(not_regular(path, &meta));
        };
        let file = sys::open_file(&parent.handle, os(&name)).map_err(|e| FsError::io(lossy(path), &e))?;
        let now = sys::fstat_file(&file).map_err(|e| FsError::io(lossy(path), &e))?;
        if !now.is_file() {
            return Err(not_regular(path, &now));
        }
        Ok((file, self.resolved_at(vpath, now)))
    }

    /// Reads a whole regular file, refusing one larger than `limit` bytes.
    pub fn read_limited(&self, path: &(impl AsRef<OsStr> + ?Sized), limit: u64) -> Result<Vec<u8>, FsError> {
        let path = path.as_ref();
        let (file, r) = self.open_uncharged(path)?;
        if r.metadata.len() > limit {
            return Err(FsError::new(
                ErrorKind::TooLarge,
                lossy(path),
                format!("{} bytes is more than the {limit}-byte limit", r.metadata.len()),
            ));
        }
        // A file that grows while it is read costs at most `limit + 1`
        // bytes, of which the size is charged.
        self.budget.charge(path, r.metadata.len())?;
        let buf = read_sized(file, r.metadata.len(), limit).map_err(|e| FsError::io(lossy(path), &e))?;
        if buf.len() as u64 > limit {
            return Err(FsError::new(ErrorKind::TooLarge, lossy(path), format!("more than the {limit}-byte limit")));
        }
        Ok(buf)
    }

    pub fn read(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Vec<u8>, FsError> {
        self.read_limited(path, DEFAULT_READ_LIMIT)
    }

    /// Reads a file as text, replacing invalid UTF-8.
    pub fn read_to_string(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<String, FsError> {
        let bytes = self.read(path)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Lists a directory, sorted by exact name. A name that is not UTF-8
    /// keeps its bytes in [`DirEntry::file_name`].
    pub fn read_dir(&self, path: &(impl AsRef<OsStr> + ?Sized)) -> Result<Vec<DirEntry>, FsError> {
        match self.walk(path.as_ref(), Want::List)? {
            End::List(mut out) => {
                out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
                Ok(out)
            }
            _ => unreachable!("a listing walk ends in End::List"),
        }
    }

    /// The chroot-style walk from handle to handle.
    fn walk(&self, path: &OsStr, want: Want) -> Result<End, FsError> {
        let err = |f: Fail| -> FsError {
            let path = lossy(path);
            match f {
                Fail::Sys(e) => FsError::io(path, &e),
                Fail::NotDir if want == Want::List => FsError::new(ErrorKind::NotFound, path, "not a directory"),
                Fail::NotDir => FsError::new(ErrorKind::NotFound, path, "a path component is not a directory"),
                Fail::Loop => FsError::new(
                    ErrorKind::SymlinkLoop,
                    path,
                    format!("more than {MAX_SYMLINKS} symbolic links (a loop?)"),
                ),
            }
        };
        // Components still to visit, the next one last. Only link targets
        // allocate.
        let mut pending: Vec<Cow<'_, [u8]>> =
            components(path.as_encoded_bytes(), self.fold_case).rev().map(Cow::Borrowed).collect();
        // The handles of the directories walked through, the root first; and
        // their root-relative path, with where each component starts.
        let mut stack: Vec<Arc<DirHandle>> = vec![self.top.clone()];
        let mut vpath: Vec<u8> = Vec::with_capacity(64);
        let mut marks: Vec<usize> = Vec::new();
        let mut links = 0usize;
        while let Some(comp) = pending.pop() {
            if *comp == *b"." {
                continue;
            }
            if *comp == *b".." {
                if let Some(mark) = marks.pop() {
                    stack.pop();
                    vpath.truncate(mark);
                }
                continue;
            }
            if comp.contains(&0) {
                // No file name holds a NUL; the system call would say EINVAL.
                let e = std::io::Error::from(std::io::ErrorKind::NotFound);
                return Err(err(Fail::Sys(e)));
            }
            let is_last = pending.is_empty();
            let mark = vpath.len();
            vpath.push(b'/');
            vpath.extend_from_slice(&comp);
            let known = self.known.read().ok().and_then(|k| k.map.get(&vpath[..]).cloned());
            let dir = stack.last().expect("the root is never popped").clone();
            let target = match known {
                Some(Known::Dir(h)) if !is_last => {
                    stack.push(h);
                    marks.push(mark);
                    continue;
                }
                Some(Known::Dir(h)) => {
                    return match want {
                        Want::Stat { .. } => {
                            let meta = h.meta().map_err(|e| err(Fail::Sys(e)))?;
                            Ok(End::Stat { parent: dir, name: Some(comp.into_owned()), vpath, meta })
                        }
                        Want::List => {
                            sys::list(&h.handle, None, MAX_DIR_ENTRIES).map(End::List).map_err(|e| err(Fail::Sys(e)))
                        }
                        Want::Link => Err(err(Fail::Sys(std::io::Error::from_raw_os_error(libc_einval())))),
                    };
                }
                Some(Known::DirMeta(meta)) if is_last && matches!(want, Want::Stat { .. }) => {
                    return Ok(End::Stat { parent: dir, name: Some(comp.into_owned()), vpath, meta });
                }
                Some(Known::Link(t)) if !is_last || want != (Want::Stat { follow: false }) => {
                    if is_last && want == Want::Link {
                        return Ok(End::Link(os(&t).to_os_string()));
                    }
                    t
                }
                _ => {
                    let mut name = comp.clone();
                    let step = loop {
                        let step = self.step(&dir.handle, os(&name), is_last, want);
                        match step {
                            Err(e) if self.fold_case && e.kind() == std::io::ErrorKind::NotFound => {
                                match sys::fold(&dir.handle, os(&name)) {
                                    Some(exact) if exact != *name => {
                                        vpath.truncate(mark + 1);
                                        vpath.extend_from_slice(&exact);
                                        name = Cow::Owned(exact);
                                    }
                                    _ => break Err(Fail::Sys(e)),
                                }
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => break Err(Fail::NotDir),
                            other => break other.map_err(Fail::Sys),
                        }
                    }
                    .map_err(err)?;
                    match step {
                        Step::Dir(handle) => {
                            let h = DirHandle::new(handle);
                            self.remember(&vpath, Known::Dir(h.clone()));
                            stack.push(h);
                            marks.push(mark);
                            continue;
                        }
                        Step::Stat(meta) => {
                            if meta.is_dir() {
                                self.remember(&vpath, Known::DirMeta(meta.clone()));
                            }
                            return Ok(End::Stat { parent: dir, name: Some(name.into_owned()), vpath, meta });
                        }
                        Step::List(entries) => return Ok(End::List(entries)),
                        Step::Link(t) if is_last && want == Want::Link => {
                            return Ok(End::Link(OsString::from(os(&t))));
                        }
                        Step::Link(t) => {
                            let t: Arc<[u8]> = Arc::from(t);
                            self.remember(&vpath, Known::Link(t.clone()));
                            t
                        }
                    }
                }
            };
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(err(Fail::Loop));
            }
            vpath.truncate(mark);
            let (absolute, rest) = link_target(&target, self.fold_case);
            if absolute {
                stack.truncate(1);
                vpath.clear();
                marks.clear();
            }
            pending.extend(components(rest, self.fold_case).rev().map(|c| Cow::Owned(c.to_vec())));
        }
        // The walk ended on a directory handle: the root itself, or after `..`.
        let dir = stack.pop().expect("the root is never popped");
        match want {
            Want::Stat { .. } => {
                let meta = dir.meta().map_err(|e| err(Fail::Sys(e)))?;
                Ok(End::Stat { parent: dir, name: None, vpath, meta })
            }
            Want::List => sys::list(&dir.handle, None, MAX_DIR_ENTRIES).map(End::List).map_err(|e| err(Fail::Sys(e))),
            Want::Link => Err(err(Fail::Sys(std::io::Error::from_raw_os_error(libc_einval())))),
        }
    }

    /// One component looked up in its parent's handle, not yet remembered.
    /// A component that is neither a directory nor a link, where one of them
    /// is needed, is `InvalidData`.
    fn step(&self, dir: &sys::Handle, name: &OsStr, is_last: bool, want: Want) -> std::io::Result<Step> {
        // A directory to walk through, or to list: opened with O_NOFOLLOW,
        // which fails on a link (and on a device or FIFO before any driver
        // runs); only then is it asked whether it is a link.
        let as_dir = !is_last || want == Want::List;
        if as_dir {
            let opened = if is_last {
                sys::list(dir, Some(name), MAX_DIR_ENTRIES).map(Step::List)
            } else {
                sys::open_dir(dir, name).map(Step::Dir)
            };
            return match opened {
                Ok(step) => Ok(step),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => {
                    Err(e)
                }
                Err(e) => match sys::read_link(dir, name) {
                    Ok(t) => Ok(Step::Link(t)),
                    Err(l) if l.raw_os_error() == Some(libc_einval()) => Err(std::io::ErrorKind::InvalidData.into()),
                    Err(_) => Err(e),
                },
            };
        }
        match want {
            Want::Link => sys::read_link(dir, name).map(Step::Link),
            Want::Stat { follow } => {
                let meta = sys::stat(dir, name)?;
                if follow && meta.is_symlink() {
                    sys::read_link(dir, name).map(Step::Link)
                } else {
                    Ok(Step::Stat(meta))
                }
            }
            Want::List => unreachable!("listed above"),
        }
    }

    fn remember(&self, vpath: &[u8], what: Known) {
        if let Ok(mut cache) = self.known.write() {
            let cache = &mut *cache;
            // Walks under way keep their own references to what is dropped.
            if matches!(what, Known::Dir(_)) {
                if cache.dirs >= CACHED_DIRS {
                    cache.map.retain(|_, k| !matches!(k, Known::Dir(_)));
                    cache.dirs = 0;
                }
                cache.dirs += 1;
            } else if cache.map.len() >= CACHED_ENTRIES {
                cache.map.clear();
                cache.dirs = 0;
            }
            if let Some(Known::Dir(_)) = cache.map.insert(vpath.to_vec(), what) {
                cache.dirs -= 1;
            }
        }
    }
}

enum Step {
    Dir(sys::Handle),
    Stat(Metadata),
    List(Vec<DirEntry>),
    Link(Vec<u8>),
}

#[cfg(unix)]
fn libc_einval() -> i32 {
    libc::EINVAL
}

#[cfg(not(unix))]
fn libc_einval() -> i32 {
    // ERROR_INVALID_PARAMETER, what a readlink of a non-link says on Windows.
    87
}

/// Bytes that came from an `OsStr`, cut only at ASCII separators.
#[cfg(unix)]
fn os(b: &[u8]) -> &OsStr {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(b)
}

#[cfg(not(unix))]
fn os(b: &[u8]) -> &OsStr {
    // SAFETY: every slice passed here is an `OsStr`'s encoded bytes, or a
    // part of them split at ASCII `/` or `\`, or such parts joined with an
    // ASCII `/`, which `from_encoded_bytes_unchecked` allows.
    unsafe { OsStr::from_encoded_bytes_unchecked(b) }
}

/// Whether a link target is absolute, and the part of it to walk. On a
/// Windows-style (case-folding) root, links copied from NTFS can say
/// `C:\ProgramData`, `\Windows` or `\??\C:\…` (an NT object path, as
/// junctions store them): all of them are taken from the root, as the
/// volume's own drive. The drive letter is not checked, since an image is
/// one volume.
fn link_target(target: &[u8], windows: bool) -> (bool, &[u8]) {
    if !windows {
        return (target.starts_with(b"/"), target);
    }
    let t = target.strip_prefix(br"\??\").or_else(|| target.strip_prefix(br"\\?\")).unwrap_or(target);
    if t.len() >= 2 && t[0].is_ascii_alphabetic() && t[1] == b':' {
        return (true, &t[2..]);
    }
    (t.first().is_some_and(|&c| c == b'/' || c == b'\\'), t)
}

/// Normal components of a path; empty ones are dropped. A backslash
/// separates components only on Windows-style (case-folding) roots: on a
/// Linux root it is an ordinary file-name character (systemd's
/// `system-systemd\x2dcryptsetup.slice`).
fn components(path: &[u8], backslash_separates: bool) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(move |&c| c == b'/' || (backslash_separates && c == b'\\')).filter(|c| !c.is_empty())
}

/// Reads a file `size` bytes long by its last `fstat`, up to `limit + 1`
/// bytes. `read_to_end` would spend one more `read(2)` to see EOF; a read that
/// was asked for more than was left and ended exactly at `size` already shows
/// it. A file that has grown is still read to its end.
fn read_sized(mut file: File, size: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let want = usize::try_from(size.min(limit)).unwrap_or(usize::MAX - 1) + 1;
    let mut buf = vec![0u8; want];
    let mut got = 0;
    loop {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => {
                got += n;
                if got == want {
                    break;
                }
                if got as u64 == size {
                    buf.truncate(got);
                    return Ok(buf);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    if got == want {
        file.take(limit.saturating_add(1) - got as u64).read_to_end(&mut buf)?;
    }
    Ok(buf)
}

/// A listing past [`MAX_DIR_ENTRIES`]: `FileTooLarge` becomes a too_large
/// row ([`ErrorKind::from_io`]).
fn too_many_entries(most: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("more than {most} entries; the directory is not listed"),
    )
}

fn not_regular(path: &OsStr, meta: &Metadata) -> FsError {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device() {
        "a FIFO, socket or device"
    } else {
        "not a regular file"
    };
    FsError::new(ErrorKind::NotRegularFile, lossy(path), format!("is {what}; only regular files are read"))
}

/// File-system calls relative to a directory handle.
#[cfg(unix)]
mod sys {
    use std::ffi::OsStr;
    use std::fs::File;
    use std::io::Result;
    use std::os::fd::OwnedFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, Mode, OFlags};

    use super::{DirEntry, EntryType, FileType, Metadata};

    pub type Handle = OwnedFd;

    /// How directories are opened to walk through: `O_PATH` needs no read
    /// permission and runs no driver's open; elsewhere plain read-only.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const WALK: OFlags = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const WALK: OFlags = OFlags::RDONLY;

    /// Retries a call that a signal interrupted: an open of a file on a slow
    /// or network mount can return EINTR when any signal arrives (seen under
    /// libFuzzer's timers), and that is no property of the file.
    fn retry<T>(mut call: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
        loop {
            match call() {
                Err(rustix::io::Errno::INTR) => continue,
                r => return r,
            }
        }
    }

    pub fn open_root(path: &Path) -> Result<Handle> {
        Ok(retry(|| rustix::fs::open(path, WALK | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()))?)
    }

    pub fn open_dir(dir: &Handle, name: &OsStr) -> Result<Handle> {
        let flags = WALK | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(retry(|| rustix::fs::openat(dir, name, flags, Mode::empty()))?)
    }

    pub fn stat(dir: &Handle, name: &OsStr) -> Result<Metadata> {
        Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?.into())
    }

    pub fn fstat(dir: &Handle) -> Result<Metadata> {
        Ok(rustix::fs::fstat(dir)?.into())
    }

    pub fn fstat_file(file: &File) -> Result<Metadata> {
        Ok(rustix::fs::fstat(file)?.into())
    }

    pub fn read_link(dir: &Handle, name: &OsStr) -> Result<Vec<u8>> {
        Ok(rustix::fs::readlinkat(dir, name, Vec::new())?.into_bytes())
    }

    pub fn open_file(dir: &Handle, name: &OsStr) -> Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        Ok(File::from(retry(|| rustix::fs::openat(dir, name, flags, Mode::empty()))?))
    }

    /// Lists `name` in `dir`, or `dir` itself. `O_DIRECTORY|O_NOFOLLOW`
    /// makes the kernel refuse a symlink, and a device or FIFO before any
    /// driver's open runs.
    pub fn list(dir: &Handle, name: Option<&OsStr>, most: usize) -> Result<Vec<DirEntry>> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = retry(|| rustix::fs::openat(dir, name.unwrap_or(OsStr::new(".")), flags, Mode::empty()))?;
        let mut d = rustix::fs::Dir::new(fd)?;
        let mut out = Vec::new();
        while let Some(entry) = d.read() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if out.len() == most {
                return Err(super::too_many_entries(most));
            }
            // Some file systems leave d_type unset; ask lstat then, in the
            // open directory.
            let file_type = match entry.file_type() {
                rustix::fs::FileType::Unknown => d
                    .fd()
                    .and_then(|fd| rustix::fs::statat(fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW))
                    .map_or(rustix::fs::FileType::Unknown, |st| rustix::fs::FileType::from_raw_mode(st.st_mode)),
                known => known,
            };
            use std::os::unix::ffi::OsStringExt;
            let file_name = std::ffi::OsString::from_vec(name.to_vec());
            out.push(DirEntry::new(file_name, EntryType::of(FileType::from(file_type))));
        }
        Ok(out)
    }

    /// The entry of `dir` that equals `name` without regard to case.
    pub fn fold(dir: &Handle, name: &OsStr) -> Option<Vec<u8>> {
        let wanted = name.to_string_lossy().to_lowercase();
        let found =
            list(dir, None, super::MAX_DIR_ENTRIES).ok()?.into_iter().find(|e| e.name.to_lowercase() == wanted)?;
        Some(found.file_name.into_encoded_bytes())
    }
}

/// The same calls on host paths, for platforms without `openat` (see the
/// module comment: this keeps the check-then-open race).
#[cfg(not(unix))]
mod sys {
    use std::ffi::OsStr;
    use std::fs::{self, File};
    use std::io::Result;
    use std::path::{Path, PathBuf};

    use super::{DirEntry, EntryType, Metadata};

    pub type Handle = PathBuf;

    pub fn open_root(path: &Path) -> Result<Handle> {
        if fs::metadata(path)?.is_dir() {
            Ok(path.to_path_buf())
        } else {
            Err(std::io::ErrorKind::NotADirectory.into())
        }
    }

    pub fn open_dir(dir: &Handle, name: &OsStr) -> Result<Handle> {
        let p = dir.join(name);
        let m = fs::symlink_metadata(&p)?;
        if m.is_dir() { Ok(p) } else { Err(std::io::ErrorKind::NotADirectory.into()) }
    }

    pub fn stat(dir: &Handle, name: &OsStr) -> Result<Metadata> {
        Ok(fs::symlink_metadata(dir.join(name))?.into())
    }

    pub fn fstat(dir: &Handle) -> Result<Metadata> {
        Ok(fs::symlink_metadata(dir)?.into())
    }

    pub fn fstat_file(file: &File) -> Result<Metadata> {
        Ok(file.metadata()?.into())
    }

    pub fn read_link(dir: &Handle, name: &OsStr) -> Result<Vec<u8>> {
        Ok(fs::read_link(dir.join(name))?.into_os_string().into_encoded_bytes())
    }

    pub fn open_file(dir: &Handle, name: &OsStr) -> Result<File> {
        File::open(dir.join(name))
    }

    pub fn list(dir: &Handle, name: Option<&OsStr>, most: usize) -> Result<Vec<DirEntry>> {
        let p = name.map_or_else(|| dir.clone(), |n| dir.join(n));
        if !fs::symlink_metadata(&p)?.is_dir() {
            return Err(std::io::ErrorKind::NotADirectory.into());
        }
        let mut out = Vec::new();
        for entry in fs::read_dir(&p)? {
            let entry = entry?;
            if out.len() == most {
                return Err(super::too_many_entries(most));
            }
            let entry_type = entry.file_type().map(EntryType::of).unwrap_or(EntryType::Other);
            out.push(DirEntry::new(entry.file_name(), entry_type));
        }
        Ok(out)
    }

    pub fn fold(dir: &Handle, name: &OsStr) -> Option<Vec<u8>> {
        let wanted = name.to_string_lossy().to_lowercase();
        let found =
            list(dir, None, super::MAX_DIR_ENTRIES).ok()?.into_iter().find(|e| e.name.to_lowercase() == wanted)?;
        Some(found.file_name.into_encoded_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    #[cfg(unix)]
    use std::os::unix::fs::symlink;

    fn root_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        for (p, content) in files {
            let host = dir.path().join(p);
            fs::create_dir_all(host.parent().unwrap()).unwrap();
            fs::write(host, content).unwrap();
        }
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    #[cfg(unix)]
    #[test]
    fn absolute_links_resolve_inside_the_root() {
        let (dir, root) = root_with(&[("lib/systemd/system/ssh.service", "[Unit]\n")]);
        fs::create_dir_all(dir.path().join("etc/systemd/system")).unwrap();
        symlink("/lib/systemd/system/ssh.service", dir.path().join("etc/systemd/system/sshd.service")).unwrap();
        let r = root.resolve("/etc/systemd/system/sshd.service").unwrap();
        assert_eq!(r.path, "/lib/systemd/system/ssh.service");
        assert_eq!(root.read("/etc/systemd/system/sshd.service").unwrap(), b"[Unit]\n");
    }

    #[cfg(unix)]
    #[test]
    fn nothing_outside_the_root_is_reached() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "analyst's file").unwrap();
        let (dir, root) = root_with(&[("secret", "image's file")]);
        let target = outside.path().join("secret");
        symlink(&target, dir.path().join("abs")).unwrap();
        symlink("../../../../../../../../secret", dir.path().join("rel")).unwrap();
        // An absolute target is taken inside the root; `..` stops at the root.
        assert_eq!(root.read("/abs").ok(), None, "{:?} must be looked up inside the root", target);
        assert_eq!(root.read("/rel").unwrap(), b"image's file");
        assert_eq!(root.read("/../../../secret").unwrap(), b"image's file");
    }

    #[cfg(unix)]
    #[test]
    fn loops_fifos_and_directories_are_refused() {
        let (dir, root) = root_with(&[]);
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert_eq!(root.read("/a").unwrap_err().kind, ErrorKind::SymlinkLoop);
        mkfifo(&dir.path().join("fifo"));
        assert_eq!(root.read("/fifo").unwrap_err().kind, ErrorKind::NotRegularFile);
        assert_eq!(root.read("/").unwrap_err().kind, ErrorKind::NotRegularFile);
        assert_eq!(root.read("/missing").unwrap_err().kind, ErrorKind::NotFound);
    }

    #[test]
    fn case_folding_is_opt_in() {
        let (_dir, root) = root_with(&[("ProgramData/Kaspersky Lab/x.txt", "x")]);
        assert!(!root.exists("/programdata/kaspersky lab"));
        let root = root.with_case_folding(true);
        let r = root.resolve("\\PROGRAMDATA\\kaspersky lab\\X.TXT").unwrap();
        assert_eq!(r.path, "/ProgramData/Kaspersky Lab/x.txt");
    }

    /// Windows links as NTFS stores them: `C:\Users\All Users` is a
    /// junction to `\??\C:\ProgramData`. Each form resolves from the root,
    /// and never from the analyst's own file system.
    #[cfg(unix)]
    #[test]
    fn windows_link_targets_resolve_from_the_root() {
        let (dir, root) = root_with(&[("ProgramData/Kaspersky Lab/x.txt", "x"), ("Windows/notepad.exe", "n")]);
        let root = root.with_case_folding(true);
        fs::create_dir_all(dir.path().join("Users")).unwrap();
        let links = [
            ("Users/All Users", r"\??\C:\ProgramData"),
            ("Users/Drive", r"C:\ProgramData"),
            ("Users/Slash", "c:/ProgramData"),
            ("Users/Rooted", r"\ProgramData"),
            ("Users/Long", r"\\?\C:\ProgramData"),
            ("Users/Relative", r"..\ProgramData"),
        ];
        for (link, target) in links {
            symlink(target, dir.path().join(link)).unwrap();
            let r = root.resolve(&format!("/{link}/kaspersky lab/X.TXT")).unwrap_or_else(|e| panic!("{target}: {e}"));
            assert_eq!(r.path, "/ProgramData/Kaspersky Lab/x.txt", "{target}");
        }
        // `\Windows` must not reach the analyst's /Windows or anything else outside.
        symlink(r"\..\..\Windows", dir.path().join("Users/Up")).unwrap();
        assert_eq!(root.resolve("/Users/Up/notepad.exe").unwrap().path, "/Windows/notepad.exe");
        // On a Linux root the same texts are relative names with backslashes.
        let linux = Root::new(dir.path()).unwrap();
        assert_eq!(linux.resolve("/Users/Drive").unwrap_err().kind, ErrorKind::NotFound);
    }

    /// A folder on the way linked out of the root hides every file under
    /// it (found with the hostile roots of issue 16: `/Library/Keychains` or
    /// `/Windows/System32/config` pointing away left no row); the row names
    /// the link, once however many files were wanted under it.
    #[cfg(unix)]
    #[test]
    fn dangling_names_a_folder_linked_out_of_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(outside.path().join("Keychains")).unwrap();
        fs::write(outside.path().join("Keychains/System.keychain"), "analyst's file").unwrap();
        let (dir, root) = root_with(&[("Library/Preferences/x.plist", "x")]);
        symlink(outside.path().join("Keychains"), dir.path().join("Library/Keychains")).unwrap();
        symlink("Preferences", dir.path().join("Library/Prefs")).unwrap();
        for wanted in ["/Library/Keychains/System.keychain", "/Library/Keychains/a/b/c", "/Library/Keychains/x/"] {
            let e = root.dangling(wanted).unwrap_or_else(|| panic!("{wanted}"));
            assert_eq!((e.kind, e.path.as_str()), (ErrorKind::NotFound, "/Library/Keychains"), "{wanted}");
            assert!(e.message.contains(&*outside.path().to_string_lossy()), "{}", e.message);
        }
        // Plainly absent: under a folder, under a link that resolves, nowhere.
        assert!(root.dangling("/Library/Preferences/missing.plist").is_none());
        assert!(root.dangling("/Library/Prefs/missing.plist").is_none());
        assert!(root.dangling("/nowhere/at/all").is_none());
        assert!(root.dangling("/Library/Preferences/x.plist/below").is_none());
        // The last component a link: as before.
        symlink("/gone", dir.path().join("Library/Preferences/y.plist")).unwrap();
        assert_eq!(root.dangling("/Library/Preferences/y.plist").unwrap().path, "/Library/Preferences/y.plist");
    }

    #[test]
    fn the_read_budget_is_shared_by_clones_and_charged_what_is_read() {
        let (_dir, root) = root_with(&[("a", "0123456789"), ("b", "0123456789"), ("c", "01234")]);
        let root = root.with_read_budget(25);
        let folding = root.clone().with_case_folding(true);
        assert_eq!(root.read("/a").unwrap().len(), 10);
        // A reader that stops after 4 bytes is charged 4.
        root.open_capped("/b", 4).unwrap();
        assert_eq!(folding.bytes_read(), 14);
        // A file refused by its own limit costs nothing.
        assert_eq!(root.read_limited("/b", 4).unwrap_err().kind, ErrorKind::TooLarge);
        assert_eq!(root.bytes_read(), 14);
        // 14 + 10 fits; then b again would pass 25, but a smaller read fits.
        folding.read("/B").unwrap();
        let e = root.open("/b").unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert_eq!(e.path, "/b");
        assert!(e.message.contains("25-byte budget") && e.message.contains("24 bytes read already"), "{}", e.message);
        assert_eq!(root.bytes_read(), 24);
        root.open_capped("/c", 1).unwrap();
        assert_eq!(root.bytes_read(), 25);
        // A fresh root (a new scan) starts with the whole budget.
        let fresh = root.fresh();
        assert_eq!(fresh.bytes_read(), 0);
        assert_eq!(fresh.read("/b").unwrap().len(), 10);
        root.reset_read_budget();
        assert_eq!(root.read("/b").unwrap().len(), 10);
    }

    /// A listing that passes the cap is refused whole, as too_large, never
    /// cut short (a million entries would make the test slow, so the cap is
    /// passed in here; the walk passes MAX_DIR_ENTRIES).
    #[test]
    fn a_listing_past_its_cap_is_too_large_not_cut_short() {
        let (_dir, root) = root_with(&[("d/a", ""), ("d/b", ""), ("d/c", ""), ("d/e", "")]);
        let e = sys::list(&root.top.handle, Some(OsStr::new("d")), 3).unwrap_err();
        let e = FsError::io("/d", &e);
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert!(e.message.contains("more than 3 entries"), "{}", e.message);
        assert_eq!(sys::list(&root.top.handle, Some(OsStr::new("d")), 4).unwrap().len(), 4);
        assert_eq!(root.read_dir("/d").unwrap().len(), 4);
    }

    #[test]
    fn oversized_files_are_refused() {
        let (_dir, root) = root_with(&[("big", "0123456789")]);
        assert_eq!(root.read_limited("/big", 4).unwrap_err().kind, ErrorKind::TooLarge);
        assert_eq!(root.read_limited("/big", 10).unwrap().len(), 10);
    }

    #[cfg(unix)]
    #[test]
    fn remembered_links_still_resolve_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(outside.path().join("usr/lib")).unwrap();
        fs::write(outside.path().join("usr/lib/f"), "analyst's file").unwrap();
        let (dir, root) = root_with(&[("usr/lib/f", "image's file")]);
        symlink("/usr/lib", dir.path().join("lib")).unwrap();
        symlink(outside.path().join("usr/lib"), dir.path().join("lib64")).unwrap();
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        // The second lookup of each goes through the remembered link targets.
        for _ in 0..2 {
            assert_eq!(root.read("/lib/f").unwrap(), b"image's file");
            assert_eq!(root.read("/lib64/f").unwrap_err().kind, ErrorKind::NotFound);
            assert_eq!(root.read("/a/f").unwrap_err().kind, ErrorKind::SymlinkLoop);
            assert!(root.resolve_nofollow("/lib").unwrap().metadata.file_type().is_symlink());
        }
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    /// Whether `act` opens the FIFO at `path`: a writer blocked on it is
    /// released by any open for reading.
    #[cfg(unix)]
    fn opens_fifo(path: &Path, act: impl FnOnce()) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        let writer_path = path.to_path_buf();
        std::thread::spawn(move || {
            let _ = fs::OpenOptions::new().write(true).open(&writer_path);
            let _ = tx.send(());
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        act();
        let opened = rx.recv_timeout(std::time::Duration::from_millis(300)).is_ok();
        // Release the writer either way.
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        unsafe { libc::close(libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK)) };
        opened
    }

    /// A directory listing's file type is not trusted: an image can label a
    /// device or FIFO a regular file in its directory entry, and a live file
    /// can be swapped after the listing. A writer blocked on the FIFO shows
    /// whether open(2) ever reached it.
    #[cfg(unix)]
    #[test]
    fn a_listed_file_swapped_for_a_fifo_is_never_opened() {
        let (dir, root) = root_with(&[("d/unit", "x")]);
        assert_eq!(root.read_dir("/d").unwrap()[0].entry_type, EntryType::File);
        assert_eq!(root.read("/d/unit").unwrap(), b"x");
        let host = dir.path().join("d/unit");
        fs::remove_file(&host).unwrap();
        mkfifo(&host);
        let opened = opens_fifo(&host, || {
            assert_eq!(root.read("/d/unit").unwrap_err().kind, ErrorKind::NotRegularFile);
        });
        assert!(!opened, "Root::read opened the FIFO");
        fs::remove_file(&host).unwrap();
        fs::create_dir(&host).unwrap();
        assert_eq!(root.read("/d/unit").unwrap_err().kind, ErrorKind::NotRegularFile);
    }

    /// Listings and link reads skip the lstat of the last component; links
    /// must still be followed inside the root, and a FIFO never opened.
    #[cfg(unix)]
    #[test]
    fn listings_and_link_reads_stay_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("analyst"), "x").unwrap();
        let (dir, root) = root_with(&[("d/a", "a"), ("d/sub/b", "b")]);
        symlink("sub", dir.path().join("d/link")).unwrap();
        symlink("/d", dir.path().join("dirlink")).unwrap();
        symlink(outside.path(), dir.path().join("outlink")).unwrap();
        let fifo = dir.path().join("d/fifo");
        mkfifo(&fifo);

        let listed = |p: &str| -> Vec<(String, EntryType)> {
            root.read_dir(p).unwrap().into_iter().map(|e| (e.name, e.entry_type)).collect()
        };
        let d = vec![
            ("a".to_string(), EntryType::File),
            ("fifo".to_string(), EntryType::Other),
            ("link".to_string(), EntryType::Symlink),
            ("sub".to_string(), EntryType::Dir),
        ];
        assert_eq!(listed("/d"), d);
        assert_eq!(listed("d/"), d);
        assert_eq!(listed("/dirlink"), d, "an absolute link is followed inside the root");
        assert_eq!(listed("/d/link/.."), d, "`..` after a link is the link's parent, as in a chroot");
        assert_eq!(listed("/dirlink/link"), vec![("b".to_string(), EntryType::File)]);
        assert_eq!(root.read_dir("/outlink").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_dir("/d/a").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_dir("/d/missing").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_dir("/d/missing").unwrap_err().path, "/d/missing");
        assert_eq!(root.read_dir("/nowhere/d").unwrap_err().path, "/nowhere/d");

        let opened = opens_fifo(&fifo, || {
            assert_eq!(root.read_dir("/d/fifo").unwrap_err().kind, ErrorKind::NotFound);
        });
        assert!(!opened, "read_dir opened the FIFO");

        assert_eq!(root.read_link("/dirlink").unwrap(), "/d");
        assert_eq!(root.read_link("/dirlink/link").unwrap(), "sub");
        assert_eq!(root.read_link("/outlink/analyst").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_link("/d/missing").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_link("/d/a/x").unwrap_err().kind, ErrorKind::NotFound);
        assert!(root.read_link("/d/a").is_err(), "a regular file is not a link");
        // Found in review: a NUL byte failed the system call before the
        // kernel could say ENOTDIR, and the error kind changed.
        assert_eq!(root.read_dir("/d/a/x\0").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(root.read_link("/d/a/x\0").unwrap_err().kind, ErrorKind::NotFound);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn files_that_report_no_size_are_read_whole() {
        // procfs files stat as zero bytes long.
        let root = Root::new("/").unwrap();
        let status = root.read_to_string("/proc/self/status").unwrap();
        assert!(status.contains("\nPid:"), "{status}");
        let (_dir, root) = root_with(&[("empty", ""), ("one", "1")]);
        assert_eq!(root.read("/empty").unwrap(), b"");
        assert_eq!(root.read("/one").unwrap(), b"1");
    }

    #[test]
    fn path_helpers_keep_bytes_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let p = OsStr::from_bytes(b"/a\xff/./b/../c\xfe//d/");
        assert_eq!(normalize(p), OsStr::from_bytes(b"/a\xff/c\xfe/d"));
        assert_eq!(normalize(OsStr::new("../..")), "/");
        assert_eq!(file_name(p), "d");
        assert_eq!(file_name(OsStr::from_bytes(b"x\xff")), OsStr::from_bytes(b"x\xff"));
        let (dir, name) = rsplit_name(OsStr::from_bytes(b"/h/bo\xffb")).unwrap();
        assert_eq!((dir, name), (OsStr::new("/h"), OsStr::from_bytes(b"bo\xffb")));
        assert_eq!(rsplit_name(OsStr::new("/x")), Some((OsStr::new(""), OsStr::new("x"))));
        assert_eq!(join(OsStr::from_bytes(b"/h/bo\xffb/"), "p"), OsStr::from_bytes(b"/h/bo\xffb/p"));
    }
}
