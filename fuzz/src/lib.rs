//! Helpers shared by the fuzz targets.
//!
//! Some collectors read their files themselves through a [`Root`]; their
//! targets write each input into a scratch root made once per process and
//! call the collector on it. Nothing here is a scanned system: the scratch
//! directory belongs to the fuzzer.

use std::path::Path;
use std::sync::OnceLock;

use embargo_tables::Root;
use embargo_tables::error::FsError;

static SCRATCH: OnceLock<tempfile::TempDir> = OnceLock::new();

/// The process's scratch root, made on first use. libFuzzer leaves its loop
/// only through `exit`, which runs no Rust destructor, so an `atexit` hook
/// removes the directory (a crash leaves it, beside the crash's artifact).
/// Every input rebuilds its tree, so the scratch root goes to tmpfs
/// (`/dev/shm`) unless `TMPDIR` says otherwise: on a busy ext4 disk the
/// directory churn made chromium_manifest 40 times slower (816 against
/// 34,302 executions in 30 s).
fn scratch() -> &'static tempfile::TempDir {
    SCRATCH.get_or_init(|| {
        let mut builder = tempfile::Builder::new();
        builder.prefix("embargo-fuzz-");
        let shm = Path::new("/dev/shm");
        let in_shm = (std::env::var_os("TMPDIR").is_none() && shm.is_dir()).then(|| builder.tempdir_in(shm).ok());
        let dir = in_shm.flatten().unwrap_or_else(|| builder.tempdir().expect("scratch dir"));
        atexit(remove_scratch);
        dir
    })
}

unsafe extern "C" {
    safe fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
}

extern "C" fn remove_scratch() {
    if let Some(dir) = SCRATCH.get() {
        let _ = std::fs::remove_dir_all(dir.path());
    }
}

/// Replaces the scratch root's files with `files` (root-relative path,
/// contents) and returns a fresh [`Root`] on it, so no lookup cache carries
/// over from the previous input.
pub fn root_with(files: &[(&str, &[u8])]) -> Root {
    root_built(|base| {
        for (rel, data) in files {
            std::fs::write(host_path(base, rel), data).expect("scratch file");
        }
    })
}

/// Like [`root_with`], for files a library writes itself: `build` gets the
/// emptied scratch directory.
pub fn root_built(build: impl FnOnce(&Path)) -> Root {
    let base = scratch().path();
    clear(base);
    build(base);
    Root::new(base).expect("scratch root")
}

/// Where root-relative `rel` is under `base`, its parent directories made.
pub fn host_path(base: &Path, rel: &str) -> std::path::PathBuf {
    let p = base.join(rel.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().expect("a file path")).expect("scratch subdir");
    p
}

fn clear(base: &Path) {
    for e in std::fs::read_dir(base).expect("scratch dir listing") {
        let p = e.expect("scratch entry").path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p).expect("clear scratch subdir");
        } else {
            std::fs::remove_file(&p).expect("clear scratch file");
        }
    }
}

/// Checks what every collector promises about a reported problem: it names
/// a path, and its message is not empty.
pub fn check_error(e: &FsError) {
    assert!(!e.path.is_empty(), "error without a path: {e:?}");
    assert!(!e.message.is_empty(), "error without a message: {e:?}");
}

/// Total bytes of the strings given; `None`s count nothing.
pub fn text_len<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> usize {
    fields.into_iter().flatten().map(str::len).sum()
}

/// The keys of a walk (`(path, key)` pairs) that share their name with a
/// sibling, in any case: a lookup by path finds the first of them, so the
/// hive targets check lookups only on paths free of these.
pub fn ambiguous_keys(
    hive: &embargo_tables::collectors::hive::Hive,
    keys: &[(Vec<String>, u32)],
) -> std::collections::HashSet<u32> {
    use embargo_tables::collectors::hive::Registry;
    use std::collections::HashMap;
    let mut ambiguous = std::collections::HashSet::new();
    for (_, key) in keys {
        let subs = hive.subkeys(key, &mut |_| {});
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (name, _) in &subs {
            *seen.entry(name.to_lowercase()).or_default() += 1;
            *seen.entry(format!("\0{}", name.to_uppercase())).or_default() += 1;
        }
        for (name, k) in &subs {
            if seen[&name.to_lowercase()] > 1 || seen[&format!("\0{}", name.to_uppercase())] > 1 {
                ambiguous.insert(*k);
            }
        }
    }
    ambiguous
}
