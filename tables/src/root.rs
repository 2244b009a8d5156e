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

use std::collections::VecDeque;
use std::ffi::OsString;
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
    /// Host paths already seen to be real directories (not links). Walks
    /// pass through the same few directories thousands of times; this saves
    /// an lstat per component. A scan treats the root as unchanging.
    known_dirs: std::sync::Arc<std::sync::RwLock<rustc_hash::FxHashSet<PathBuf>>>,
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
        Ok(Root { base, fold_case: false, known_dirs: Default::default() })
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
        let r = self.resolve_nofollow(path)?;
        let target = fs::read_link(&r.host).map_err(|e| FsError::io(path, &e))?;
        Ok(target.to_string_lossy().into_owned())
    }

    /// Opens a regular file for reading.
    pub fn open(&self, path: &str) -> Result<(File, Resolved), FsError> {
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
        let mut buf = Vec::with_capacity(r.metadata.len() as usize);
        file.take(limit + 1).read_to_end(&mut buf).map_err(|e| FsError::io(path, &e))?;
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

    /// The chroot-style walk. `follow_last` decides whether a symlink in the
    /// final position is followed.
    fn walk(&self, path: &str, follow_last: bool) -> Result<Resolved, FsError> {
        let mut pending: VecDeque<OsString> = components(path, self.fold_case).collect();
        let mut stack: Vec<OsString> = Vec::new();
        // Always `base` joined with `stack`, kept in step with it.
        let mut host = self.base.clone();
        let mut links = 0usize;
        let mut last_meta: Option<Metadata> = None;
        while let Some(comp) = pending.pop_front() {
            if comp == "." {
                continue;
            }
            if comp == ".." {
                if stack.pop().is_some() {
                    host.pop();
                }
                last_meta = None;
                continue;
            }
            host.push(&comp);
            stack.push(comp);
            if !pending.is_empty() && self.known_dirs.read().is_ok_and(|d| d.contains(&host)) {
                last_meta = None;
                continue;
            }
            let meta = match fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if self.fold_case && e.kind() == std::io::ErrorKind::NotFound => match self.fold(&mut stack) {
                    Some(m) => {
                        host.pop();
                        host.push(stack.last().map(OsString::as_os_str).unwrap_or_default());
                        m
                    }
                    None => return Err(FsError::io(path, &e)),
                },
                Err(e) => return Err(FsError::io(path, &e)),
            };
            let is_last = pending.is_empty();
            if meta.file_type().is_symlink() && (!is_last || follow_last) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(FsError::new(
                        ErrorKind::SymlinkLoop,
                        path,
                        format!("more than {MAX_SYMLINKS} symbolic links (a loop?)"),
                    ));
                }
                let target = fs::read_link(&host).map_err(|e| FsError::io(path, &e))?;
                stack.pop();
                host.pop();
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    stack.clear();
                    host = self.base.clone();
                }
                for c in components(&target, self.fold_case).collect::<Vec<_>>().into_iter().rev() {
                    pending.push_front(c);
                }
                last_meta = None;
                continue;
            }
            if !is_last && !meta.is_dir() {
                return Err(FsError::new(ErrorKind::NotFound, path, "a path component is not a directory"));
            }
            if meta.is_dir()
                && let Ok(mut dirs) = self.known_dirs.write()
            {
                dirs.insert(host.clone());
            }
            last_meta = Some(meta);
        }
        let metadata = match last_meta {
            Some(m) => m,
            // The walk ended on the root itself or after `..`: stat the directory.
            None => fs::symlink_metadata(&host).map_err(|e| FsError::io(path, &e))?,
        };
        Ok(Resolved { host, path: virtual_path(&stack), metadata })
    }

    fn host_path(&self, stack: &[OsString]) -> PathBuf {
        let mut p = self.base.clone();
        for c in stack {
            p.push(c);
        }
        p
    }

    /// Replaces the last component with an entry of its directory that equals
    /// it without regard to case.
    fn fold(&self, stack: &mut [OsString]) -> Option<Metadata> {
        let (last, parent) = stack.split_last_mut()?;
        let wanted = last.to_string_lossy().to_lowercase();
        let dir = self.host_path(parent);
        let found =
            fs::read_dir(&dir).ok()?.flatten().find(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)?;
        *last = found.file_name();
        fs::symlink_metadata(dir.join(last)).ok()
    }
}

/// Normal components of a path; empty ones are dropped. A backslash
/// separates components only on Windows-style (case-folding) roots: on a
/// Linux root it is an ordinary file-name character (systemd's
/// `system-systemd\x2dcryptsetup.slice`).
fn components(path: &str, backslash_separates: bool) -> impl Iterator<Item = OsString> + '_ {
    let seps: &[char] = if backslash_separates { &['/', '\\'] } else { &['/'] };
    path.split(seps).filter(|c| !c.is_empty()).map(OsString::from)
}

fn virtual_path(stack: &[OsString]) -> String {
    if stack.is_empty() {
        return "/".to_string();
    }
    let mut s = String::new();
    for c in stack {
        s.push('/');
        s.push_str(&c.to_string_lossy());
    }
    s
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
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
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

    #[test]
    fn oversized_files_are_refused() {
        let (_dir, root) = root_with(&[("big", "0123456789")]);
        assert_eq!(root.read_limited("/big", 4).unwrap_err().kind, ErrorKind::TooLarge);
        assert_eq!(root.read_limited("/big", 10).unwrap().len(), 10);
    }
}
