//! `Root::read_dir` and `Root::read_link` skip the lstat of the last
//! component (they open or readlink it in its resolved parent). This test
//! compares them with the plain walk-based versions on random trees of
//! directories, files, FIFOs, device nodes (when run as root) and links
//! (relative, absolute, dangling, looping, `..`-climbing, pointing outside
//! the root), and watches with inotify that no FIFO, device or link is ever
//! opened and nothing outside the root is touched.
//!
//! `ROOT_DIFF_TREES`, `ROOT_DIFF_PATHS` and `ROOT_DIFF_SEED` widen the search
//! (the review of the change ran 1.4 million comparisons).
#![cfg(target_os = "linux")]

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};

use embargo_tables::root::{DirEntry, EntryType};
use embargo_tables::{ErrorKind, FsError, Root};

/// What `read_link` did before: lstat through the walk, then readlink.
fn walk_read_link(root: &Root, path: &str) -> Result<String, FsError> {
    let r = root.resolve_nofollow(path)?;
    let target = fs::read_link(&r.host).map_err(|e| FsError::io(path, &e))?;
    Ok(target.to_string_lossy().into_owned())
}

/// What `read_dir` did before: resolve through the walk, then list.
fn walk_read_dir(root: &Root, path: &str) -> Result<Vec<DirEntry>, FsError> {
    let r = root.resolve(path)?;
    if !r.metadata.is_dir() {
        return Err(FsError::new(ErrorKind::NotFound, path, "not a directory"));
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(&r.host).map_err(|e| FsError::io(path, &e))? {
        let entry = entry.map_err(|e| FsError::io(path, &e))?;
        let entry_type = entry.file_type().map(EntryType::of).unwrap_or(EntryType::Other);
        out.push(DirEntry::new(entry.file_name(), entry_type));
    }
    out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(out)
}

/// xorshift64: reproducible from the seed, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const NAMES: &[&str] = &["a", "b", "c", "d", "e", "x\\y"];

/// A relative path of 1-4 components, with `.`, `..`, empty components,
/// missing and very long names, and the name of a link out of the root.
fn random_path(rng: &mut Rng) -> String {
    let long = "n".repeat(300);
    let pool = ["a", "b", "c", "d", "e", "x\\y", ".", "..", "", "missing", "ESCAPED_LINK"];
    let mut s = String::new();
    for i in 0..1 + rng.below(4) {
        if i > 0 {
            s.push_str(if rng.below(8) == 0 { "//" } else { "/" });
        }
        s.push_str(if rng.below(25) == 0 { &long } else { rng.pick(&pool) });
    }
    if rng.below(6) == 0 {
        s.push('/');
    }
    s
}

fn make_node(path: &Path, kind: libc::mode_t, dev: libc::dev_t) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mknod(c.as_ptr(), kind | 0o644, dev) }, 0, "mknod {}", path.display());
}

/// A random tree under `dir`; returns its directories.
fn build(rng: &mut Rng, dir: &Path, depth: usize, outside: &Path, dirs: &mut Vec<PathBuf>) {
    dirs.push(dir.to_path_buf());
    let mut names = NAMES.to_vec();
    for _ in 0..rng.below(6) {
        let name = names.remove(rng.below(names.len()));
        let p = dir.join(name);
        match rng.below(20) {
            0..=5 if depth < 3 => {
                fs::create_dir(&p).unwrap();
                build(rng, &p, depth + 1, outside, dirs);
            }
            0..=7 => fs::write(&p, "f").unwrap(),
            8 => make_node(&p, libc::S_IFIFO, 0),
            // /dev/null and /dev/ptmx: opening the latter allocates a pty.
            9 if unsafe { libc::geteuid() } == 0 => {
                make_node(&p, libc::S_IFCHR, if rng.below(2) == 0 { libc::makedev(1, 3) } else { libc::makedev(5, 2) })
            }
            9 => fs::write(&p, "f").unwrap(),
            _ => {
                let target = match rng.below(12) {
                    0..=3 => random_path(rng),
                    4 | 5 => format!("/{}", random_path(rng)),
                    6 => name.to_string(),
                    7 => "../".repeat(1 + rng.below(6)) + "outside/" + rng.pick(&["a", "b", ""]),
                    8 => outside.join(rng.pick(&["a", "b", ""])).to_string_lossy().into_owned(),
                    9 => ".".into(),
                    10 => "..".into(),
                    _ => "dangling/nowhere".into(),
                };
                symlink(if target.is_empty() { "/" } else { &target }, &p).unwrap();
            }
        }
    }
}

/// The same names outside the root, each leading to an `ESCAPED` marker.
fn build_outside(dir: &Path, depth: usize, dirs: &mut Vec<PathBuf>) {
    dirs.push(dir.to_path_buf());
    fs::write(dir.join("ESCAPED_MARKER"), "x").unwrap();
    symlink("ESCAPED_TARGET", dir.join("ESCAPED_LINK")).unwrap();
    for n in NAMES {
        let p = dir.join(n);
        if depth < 2 {
            fs::create_dir(&p).unwrap();
            build_outside(&p, depth + 1, dirs);
        } else {
            symlink("ESCAPED_TARGET", &p).unwrap();
        }
    }
}

/// IN_OPEN watches on directories: every open of an entry in them.
struct Opens {
    fd: i32,
    dirs: HashMap<i32, PathBuf>,
}

impl Opens {
    fn watch(dirs: &[PathBuf]) -> Opens {
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0);
        let mut o = Opens { fd, dirs: HashMap::new() };
        for d in dirs {
            let c = CString::new(d.as_os_str().as_bytes()).unwrap();
            let wd = unsafe { libc::inotify_add_watch(fd, c.as_ptr(), libc::IN_OPEN) };
            assert!(wd >= 0, "inotify_add_watch {}", d.display());
            o.dirs.insert(wd, d.clone());
        }
        o
    }

    /// Host paths opened since the last call.
    fn take(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return out;
            }
            let mut off = 0;
            while off < n as usize {
                // SAFETY: the kernel wrote whole events; read_unaligned copes
                // with the byte buffer's alignment.
                let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf.as_ptr().add(off).cast()) };
                let start = off + std::mem::size_of::<libc::inotify_event>();
                let name = &buf[start..start + ev.len as usize];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
                if let Some(d) = self.dirs.get(&ev.wd) {
                    out.push(if name.is_empty() { d.clone() } else { d.join(OsStr::from_bytes(name)) });
                }
                off = start + ev.len as usize;
            }
        }
    }
}

impl Drop for Opens {
    fn drop(&mut self) {
        unsafe { libc::close(self.fd) };
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

type Outcome<T> = Result<T, (ErrorKind, String)>;

fn outcome<T>(r: Result<T, FsError>) -> Outcome<T> {
    r.map_err(|e| (e.kind, e.path))
}

#[test]
fn direct_listing_and_link_reads_agree_with_the_walk() {
    let trees = env("ROOT_DIFF_TREES", 40);
    let paths = env("ROOT_DIFF_PATHS", 200);
    let mut rng = Rng(env("ROOT_DIFF_SEED", 0x9e37_79b9_7f4a_7c15));
    let (mut compared, mut listed, mut read) = (0, 0, 0);
    let mut problems = Vec::new();
    for t in 0..trees {
        let tmp = tempfile::tempdir().unwrap();
        let (root_dir, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
        fs::create_dir(&root_dir).unwrap();
        fs::create_dir(&outside).unwrap();
        let mut dirs = Vec::new();
        build_outside(&outside, 0, &mut dirs);
        build(&mut rng, &root_dir, 0, &outside, &mut dirs);
        let opens = Opens::watch(&dirs);
        let shared = Root::new(&root_dir).unwrap();
        for _ in 0..paths {
            let mut p = random_path(&mut rng);
            if rng.below(2) == 0 {
                p.insert(0, '/');
            }
            if rng.below(100) == 0 {
                p.push('\0');
            }
            // Sometimes with nothing remembered, sometimes after earlier walks.
            let root = if rng.below(10) == 0 { Root::new(&root_dir).unwrap() } else { shared.clone() };
            let names = |v: Vec<DirEntry>| v.into_iter().map(|e| (e.name, e.entry_type)).collect::<Vec<_>>();
            let want = outcome(walk_read_dir(&root, &p).map(names));
            opens.take();
            let got = outcome(root.read_dir(&p).map(names));
            let dir_opens = opens.take();
            let want_link = outcome(walk_read_link(&root, &p));
            opens.take();
            let got_link = outcome(root.read_link(&p));
            let link_opens = opens.take();
            compared += 2;
            listed += usize::from(got.is_ok());
            read += usize::from(got_link.is_ok());
            if got != want {
                problems.push(format!("tree {t}: read_dir({p:?}): {got:?}, the walk: {want:?}"));
            }
            if got_link != want_link {
                problems.push(format!("tree {t}: read_link({p:?}): {got_link:?}, the walk: {want_link:?}"));
            }
            // Only the outside tree has ESCAPED_* entries and links to ESCAPED_TARGET.
            let escaped = got.as_ref().is_ok_and(|v| v.iter().any(|(n, _)| n.starts_with("ESCAPED")))
                || got_link.as_ref().is_ok_and(|l| l == "ESCAPED_TARGET");
            if escaped {
                problems.push(format!("tree {t}: {p:?} reached outside the root: {got:?} {got_link:?}"));
            }
            for opened in dir_opens.iter().chain(&link_opens) {
                let ft = fs::symlink_metadata(opened).map(|m| m.file_type());
                let special = ft.is_ok_and(|f| f.is_fifo() || f.is_char_device() || f.is_symlink());
                if opened.starts_with(&outside) || special {
                    problems.push(format!("tree {t}: {p:?} opened {}", opened.display()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems, first ones:\n{}",
        problems.len(),
        problems[..problems.len().min(20)].join("\n")
    );
    // The trees must exercise both outcomes, or the comparison proves little.
    assert!(listed > 100 && read > 20, "only {listed} listings and {read} links read of {compared} comparisons");
}

/// The detector must see an open, or a silent pass means nothing.
#[test]
fn the_open_detector_sees_a_fifo_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_node(&fifo, libc::S_IFIFO, 0);
    let opens = Opens::watch(&[tmp.path().to_path_buf()]);
    let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    unsafe { libc::close(libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK)) };
    assert_eq!(opens.take(), vec![fifo]);
}
