//! The scan root: the only way collectors touch the file system.
//!
//! Paths are resolved the way `chroot(2)` would resolve them, one component at
//! a time: an absolute symlink target starts again at the root, `..` stops at
//! the root, and at most [`MAX_SYMLINKS`] links are followed. Every host path
//! handed to the OS is `base` joined with components that this walk produced,
//! so a hostile disk image cannot make embargo open a file outside it. Only
//! regular files are ever opened for reading; FIFOs, sockets and devices are
//! refused before `open(2)`, which is also done with `O_NOFOLLOW|O_NONBLOCK`.
//!
//! We walk by hand rather than use `openat2(RESOLVE_IN_ROOT)` because the same
//! code must work when embargo runs on macOS or Windows against a mounted image.

use std::borrow::Cow;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, FsError};

/// Linux's limit on symlinks followed in one lookup (`MAXSYMLINKS`).
pub const MAX_SYMLINKS: usize = 40;

/// Files larger than this are not slurped by [`Root::read`].
pub const DEFAULT_READ_LIMIT: u64 = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Other,
}

impl EntryType {
    pub fn of(ft: fs::FileType) -> Self {
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

/// One directory entry, typed without following links.
#[derive(Clone, Debug)]
pub struct DirEntry {
    pub name: String,
    pub entry_type: EntryType,
}

/// A path after resolution: where it is on the host, and what the scanned
/// system calls it.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub host: PathBuf,
    /// Root-relative, with a leading `/`, all links resolved.
    pub path: String,
    pub metadata: Metadata,
}

#[derive(Clone, Debug)]
pub struct Root {
    base: PathBuf,
    fold_case: bool,
    /// Host paths already seen to be real directories or symlinks. Walks
    /// pass through the same few directories (and links such as `/lib` ->
    /// `usr/lib`) thousands of times; this saves an lstat, and a readlink,
    /// per component. A scan treats the root as unchanging.
    known: std::sync::Arc<std::sync::RwLock<foldhash::HashMap<PathBuf, Known>>>,
}

#[derive(Clone, Debug)]
enum Known {
    Dir(Metadata),
    /// A symlink and its target text.
    Link(String),
}

impl Root {
    /// Opens `dir` as a scan root. It must be an existing directory.
    pub fn new(dir: impl AsRef<Path>) -> std::io::Result<Root> {
        let base = fs::canonicalize(dir.as_ref())?;
        if !base.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.as_ref().display()),
            ));
        }
        Ok(Root { base, fold_case: false, known: Default::default() })
    }

    /// Looks names up without regard to case when the exact name is missing,
    /// as Windows and default macOS volumes do.
    pub fn with_case_folding(mut self, fold: bool) -> Self {
        self.fold_case = fold;
        self
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

    /// Resolves `path` inside the root, following a final symlink too.
    pub fn resolve(&self, path: &str) -> Result<Resolved, FsError> {
        self.walk(path, true)
    }

    /// Resolves `path` inside the root without following a final symlink.
    pub fn resolve_nofollow(&self, path: &str) -> Result<Resolved, FsError> {
        self.walk(path, false)
    }

    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path).is_ok()
    }

    /// The target text of the symlink at `path`, as stored.
    pub fn read_link(&self, path: &str) -> Result<String, FsError> {
        // readlink(2) on the name itself needs no lstat first: it opens
        // nothing and fails on anything but a symlink.
        let host = match self.in_resolved_parent(path)? {
            Some(host) => host,
            None => self.resolve_nofollow(path)?.host,
        };
        let target = fs::read_link(&host).map_err(|e| FsError::io(path, &e))?;
        Ok(target.to_string_lossy().into_owned())
    }

    /// The host path of `path`'s last component inside its resolved parent,
    /// when that component is a plain name that needs no case folding; None
    /// when only the full walk can find it (`..`, the root itself, a
    /// case-folding root).
    fn in_resolved_parent(&self, path: &str) -> Result<Option<PathBuf>, FsError> {
        if self.fold_case {
            return Ok(None);
        }
        let trimmed = path.trim_end_matches('/');
        let (parent, name) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if name.is_empty() || name == "." || name == ".." || name.contains('\0') {
            return Ok(None);
        }
        let mut host = self.resolve(parent).map_err(|e| FsError { path: path.to_string(), ..e })?.host;
        host.push(name);
        Ok(Some(host))
    }

    /// Opens a regular file for reading.
    pub fn open(&self, path: &str) -> Result<(File, Resolved), FsError> {
        // The lstat of the walk, not a directory listing's d_type, decides
        // what is opened: an image can label a device node a regular file in
        // its directory entry, and opening some devices has side effects.
        let r = self.resolve(path)?;
        if !r.metadata.is_file() {
            return Err(not_regular(path, &r.metadata));
        }
        let file = open_nofollow(&r.host).map_err(|e| FsError::io(path, &e))?;
        let meta = file.metadata().map_err(|e| FsError::io(path, &e))?;
        if !meta.is_file() {
            return Err(not_regular(path, &meta));
        }
        Ok((file, Resolved { metadata: meta, ..r }))
    }

    /// Reads a whole regular file, refusing one larger than `limit` bytes.
    pub fn read_limited(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        let (file, r) = self.open(path)?;
        if r.metadata.len() > limit {
            return Err(FsError::new(
                ErrorKind::TooLarge,
                path,
                format!("{} bytes is more than the {limit}-byte limit", r.metadata.len()),
            ));
        }
        let buf = read_sized(file, r.metadata.len(), limit).map_err(|e| FsError::io(path, &e))?;
        if buf.len() as u64 > limit {
            return Err(FsError::new(ErrorKind::TooLarge, path, format!("more than the {limit}-byte limit")));
        }
        Ok(buf)
    }

    pub fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.read_limited(path, DEFAULT_READ_LIMIT)
    }

    /// Reads a file as text, replacing invalid UTF-8.
    pub fn read_to_string(&self, path: &str) -> Result<String, FsError> {
        let bytes = self.read(path)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Lists a directory, sorted by name. Entries whose names are not UTF-8
    /// are kept with replacement characters.
    pub fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>, FsError> {
        #[cfg(unix)]
        if let Some(entries) = self.read_dir_direct(path)? {
            return Ok(entries);
        }
        let r = self.resolve(path)?;
        if !r.metadata.is_dir() {
            return Err(FsError::new(ErrorKind::NotFound, path, "not a directory"));
        }
        let rd = fs::read_dir(&r.host).map_err(|e| FsError::io(path, &e))?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| FsError::io(path, &e))?;
            let entry_type = entry.file_type().map(EntryType::of).unwrap_or(EntryType::Other);
            out.push(DirEntry { name: entry.file_name().to_string_lossy().into_owned(), entry_type });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `read_dir` without an lstat of the directory: it is opened in its
    /// resolved parent with `O_DIRECTORY | O_NOFOLLOW`, which the kernel
    /// refuses for a symlink, and for a device or FIFO before any driver's
    /// open runs. None when the full walk must decide (anything but a plain
    /// directory, `..`, a case-folding root).
    #[cfg(unix)]
    fn read_dir_direct(&self, path: &str) -> Result<Option<Vec<DirEntry>>, FsError> {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let Some(host) = self.in_resolved_parent(path)? else { return Ok(None) };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = match rustix::fs::open(&host, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e @ (rustix::io::Errno::NOENT | rustix::io::Errno::ACCESS)) => {
                return Err(FsError::io(path, &e.into()));
            }
            // Not a directory, or a symlink: Linux and macOS say ENOTDIR for
            // one under O_DIRECTORY, ELOOP without, the BSDs EMLINK or
            // EFTYPE. The walk tells which and follows a link.
            Err(_) => return Ok(None),
        };
        let mut dir = rustix::fs::Dir::new(fd).map_err(|e| FsError::io(path, &e.into()))?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(|e| FsError::io(path, &e.into()))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            // Some file systems leave d_type unset; std's DirEntry then asks
            // lstat, and so do we (in the open directory).
            let file_type = match entry.file_type() {
                FileType::Unknown => dir
                    .fd()
                    .and_then(|fd| rustix::fs::statat(fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW))
                    .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode)),
                known => known,
            };
            let entry_type = match file_type {
                FileType::RegularFile => EntryType::File,
                FileType::Directory => EntryType::Dir,
                FileType::Symlink => EntryType::Symlink,
                _ => EntryType::Other,
            };
            out.push(DirEntry { name: String::from_utf8_lossy(name).into_owned(), entry_type });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(out))
    }

    /// The chroot-style walk. `follow_last` decides whether a symlink in the
    /// final position is followed.
    fn walk(&self, path: &str, follow_last: bool) -> Result<Resolved, FsError> {
        // Components still to visit, the next one last. Only link targets
        // allocate; `host` is the one path built.
        let mut pending: Vec<Cow<'_, str>> = components(path, self.fold_case).rev().map(Cow::Borrowed).collect();
        // Always `base` joined with the components walked so far.
        let mut host = self.base.clone();
        let mut depth = 0usize;
        let mut links = 0usize;
        let mut last_meta: Option<Metadata> = None;
        while let Some(comp) = pending.pop() {
            if comp == "." {
                continue;
            }
            if comp == ".." {
                if depth > 0 {
                    host.pop();
                    depth -= 1;
                }
                last_meta = None;
                continue;
            }
            host.push(&*comp);
            depth += 1;
            let is_last = pending.is_empty();
            let known = self.known.read().ok().and_then(|k| k.get(&host).cloned());
            let target = match known {
                Some(Known::Dir(meta)) => {
                    last_meta = Some(meta);
                    continue;
                }
                Some(Known::Link(target)) if !is_last || follow_last => target,
                _ => {
                    let meta = match fs::symlink_metadata(&host) {
                        Ok(m) => m,
                        Err(e) if self.fold_case && e.kind() == std::io::ErrorKind::NotFound => {
                            self.fold(&mut host).ok_or_else(|| FsError::io(path, &e))?
                        }
                        Err(e) => return Err(FsError::io(path, &e)),
                    };
                    if !meta.file_type().is_symlink() || (is_last && !follow_last) {
                        if !is_last && !meta.is_dir() {
                            return Err(FsError::new(ErrorKind::NotFound, path, "a path component is not a directory"));
                        }
                        if meta.is_dir() {
                            self.remember(&host, Known::Dir(meta.clone()));
                        }
                        last_meta = Some(meta);
                        continue;
                    }
                    let target = fs::read_link(&host).map_err(|e| FsError::io(path, &e))?;
                    let target = target.to_string_lossy().into_owned();
                    self.remember(&host, Known::Link(target.clone()));
                    target
                }
            };
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(FsError::new(
                    ErrorKind::SymlinkLoop,
                    path,
                    format!("more than {MAX_SYMLINKS} symbolic links (a loop?)"),
                ));
            }
            host.pop();
            depth -= 1;
            let (absolute, rest) = link_target(&target, self.fold_case);
            if absolute {
                host = self.base.clone();
                depth = 0;
            }
            pending.extend(components(rest, self.fold_case).rev().map(|c| Cow::Owned(c.to_string())));
            last_meta = None;
        }
        let metadata = match last_meta {
            Some(m) => m,
            // The walk ended on the root itself or after `..`: stat the directory.
            None => fs::symlink_metadata(&host).map_err(|e| FsError::io(path, &e))?,
        };
        let path = self.virtual_path(&host);
        Ok(Resolved { host, path, metadata })
    }

    fn remember(&self, host: &Path, what: Known) {
        if let Ok(mut known) = self.known.write() {
            known.insert(host.to_path_buf(), what);
        }
    }

    /// What the scanned system calls `host`: the part below `base`.
    fn virtual_path(&self, host: &Path) -> String {
        let below = host.strip_prefix(&self.base).unwrap_or(Path::new(""));
        let mut s = String::with_capacity(below.as_os_str().len() + 1);
        for c in below.components() {
            s.push('/');
            s.push_str(&c.as_os_str().to_string_lossy());
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }

    /// Replaces the last component of `host` with an entry of its directory
    /// that equals it without regard to case.
    fn fold(&self, host: &mut PathBuf) -> Option<Metadata> {
        let wanted = host.file_name()?.to_string_lossy().to_lowercase();
        let dir = host.parent()?;
        let found =
            fs::read_dir(dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)?;
        host.set_file_name(found.file_name());
        fs::symlink_metadata(&*host).ok()
    }
}

/// Whether a link target is absolute, and the part of it to walk. On a
/// Windows-style (case-folding) root, links copied from NTFS can say
/// `C:\ProgramData`, `\Windows` or `\??\C:\…` (an NT object path, as
/// junctions store them): all of them are taken from the root, as the
/// volume's own drive. The drive letter is not checked, since an image is
/// one volume.
fn link_target(target: &str, windows: bool) -> (bool, &str) {
    if !windows {
        return (target.starts_with('/'), target);
    }
    let t = target.strip_prefix(r"\??\").or_else(|| target.strip_prefix(r"\\?\")).unwrap_or(target);
    let b = t.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return (true, &t[2..]);
    }
    (t.starts_with(['/', '\\']), t)
}

/// Normal components of a path; empty ones are dropped. A backslash
/// separates components only on Windows-style (case-folding) roots: on a
/// Linux root it is an ordinary file-name character (systemd's
/// `system-systemd\x2dcryptsetup.slice`).
fn components(path: &str, backslash_separates: bool) -> impl DoubleEndedIterator<Item = &str> {
    let seps: &[char] = if backslash_separates { &['/', '\\'] } else { &['/'] };
    path.split(seps).filter(|c| !c.is_empty())
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

fn not_regular(path: &str, meta: &Metadata) -> FsError {
    let what = if meta.is_dir() {
        "a directory"
    } else if is_special(meta) {
        "a FIFO, socket or device"
    } else {
        "not a regular file"
    };
    FsError::new(ErrorKind::NotRegularFile, path, format!("is {what}; only regular files are read"))
}

#[cfg(unix)]
fn is_special(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let ft = meta.file_type();
    ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device()
}

#[cfg(not(unix))]
fn is_special(_meta: &Metadata) -> bool {
    false
}

#[cfg(unix)]
fn open_nofollow(host: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(host)
}

#[cfg(not(unix))]
fn open_nofollow(host: &Path) -> std::io::Result<File> {
    File::open(host)
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
