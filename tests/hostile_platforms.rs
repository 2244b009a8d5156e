//! Hostile Windows and macOS roots (issue 16 item 3), built at run time
//! because git cannot hold them: hives, profile folders, browser profiles and
//! plist folders replaced by links out of the root (absolute, relative, `..`
//! chains), link loops, FIFOs, devices (real nodes when mknod is allowed,
//! sockets otherwise), sparse multi-GB files, and files that are folders and
//! folders that are files.
//!
//! Each case starts from a copy of a fixture root (tests/fixtures/windows/root
//! or macos/root, plus browser profiles written here) and a second copy, the
//! canary, beside the root on the analyst's side: every link points into it,
//! so a scan that followed one out of the root would read Kaspersky's hives
//! and plists from there. For each case:
//! - nothing of the canary is touched: under strace no system call names a
//!   path or an open file in it, and no FIFO or device of the root is opened;
//!   the rows the replaced item held (the canary's) are gone;
//! - the control: the same link with the canary copied to where the link
//!   leads when resolved as in a chroot gives the clean root's rows again, so
//!   the rows checked above are exactly the ones reading the link would give;
//! - nothing blocks: each scan ends within [`BUDGET`];
//! - the scan_errors rows the case names appear, and no others beyond the
//!   clean root's;
//! - every other row of the clean root is still there (rows are compared
//!   with the clean root's, whose values tests/windows.rs and tests/macos.rs
//!   check against the fixtures' recipes).
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// How long one scan of a hostile root may take (a debug build, two busy
/// cores); a FIFO opened for reading would block forever.
const BUDGET: Duration = Duration::from_secs(15);
/// When a scan that overran is killed.
const KILL_AFTER: Duration = Duration::from_secs(60);

const KP: &str = "ahkjpbeeocnddjkakilopmfdlnjdpcdm";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Os {
    Windows,
    Macos,
}

/// One row of the probe query, `probe|value`.
const WINDOWS_PROBES: &str = "\
SELECT 'hklm_software|' || name || '|' || path AS r FROM installed_software WHERE path LIKE 'HKEY_LOCAL_MACHINE%' \
UNION ALL SELECT 'user_software|' || name || '|' || path FROM installed_software WHERE path LIKE 'HKEY_USERS%' \
UNION ALL SELECT 'services|' || kind || '|' || name FROM installed_services \
UNION ALL SELECT 'machine_certs|' || store || '|' || store_location || '|' || sha1 FROM installed_certificates WHERE user IS NULL \
UNION ALL SELECT 'user_reg_certs|' || store || '|' || sha1 FROM installed_certificates WHERE user IS NOT NULL AND store = 'ROOT' \
UNION ALL SELECT 'user_file_certs|' || store || '|' || sha1 FROM installed_certificates WHERE user IS NOT NULL AND store <> 'ROOT' \
UNION ALL SELECT 'chrome|' || user || '|' || id || '|' || path FROM browser_extensions WHERE browser = 'chrome' \
UNION ALL SELECT 'firefox|' || user || '|' || id || '|' || path FROM browser_extensions WHERE browser = 'firefox' \
UNION ALL SELECT 'host|' || os_family || '|' || coalesce(hostname, '') FROM scan_host";

const MACOS_PROBES: &str = "\
SELECT 'apps|' || identifier || '|' || path AS r FROM installed_software WHERE source = 'macos_app' \
UNION ALL SELECT 'receipts|' || identifier || '|' || path FROM installed_software WHERE source = 'macos_receipt' \
UNION ALL SELECT 'homebrew|' || identifier || '|' || path FROM installed_software WHERE source = 'homebrew' \
UNION ALL SELECT 'launchd|' || name || '|' || start_type || '|' || path FROM installed_services WHERE kind = 'launchd' \
UNION ALL SELECT 'kexts|' || kind || '|' || name || '|' || path FROM installed_services WHERE kind <> 'launchd' \
UNION ALL SELECT 'certs|' || sha1 || '|' || trust || '|' || path FROM installed_certificates \
UNION ALL SELECT 'chrome|' || user || '|' || id || '|' || path FROM browser_extensions WHERE browser = 'chrome' \
UNION ALL SELECT 'host|' || os_family || '|' || coalesce(hostname, '') FROM scan_host";

/// A root and its canary, side by side in one temporary directory.
struct World {
    _dir: Option<tempfile::TempDir>,
    base: PathBuf,
    root: PathBuf,
    canary: PathBuf,
    /// FIFOs and devices planted in the root: never to be opened.
    traps: Vec<PathBuf>,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    let st = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

fn put(base: &Path, rel: &str, body: &[u8]) {
    let p = base.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// The fixture root plus what it lacks for these cases: browser profiles.
fn populate(os: Os, at: &Path) {
    match os {
        Os::Windows => {
            copy_tree(&fixture("windows/root"), at);
            let chrome = "Users/alice/AppData/Local/Google/Chrome/User Data/Default";
            let manifest = br#"{"name": "Kaspersky Protection", "version": "2.0", "manifest_version": 3}"#;
            put(at, &format!("{chrome}/Extensions/{KP}/2.0_0/manifest.json"), manifest);
            put(at, &format!("{chrome}/Preferences"), br#"{"extensions": {"settings": {}}}"#);
            let addons = br#"{"addons": [{"id": "light_plugin_ACF0E80077C511E59DED005056C00008@kaspersky.com", "type": "extension", "version": "4.0", "active": true}]}"#;
            put(at, "Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/x1.default-release/extensions.json", addons);
        }
        Os::Macos => {
            copy_tree(&fixture("macos/root"), at);
            let chrome = "Users/alice/Library/Application Support/Google/Chrome/Default";
            let manifest = br#"{"name": "Kaspersky Protection", "version": "2.0", "manifest_version": 3}"#;
            put(at, &format!("{chrome}/Extensions/{KP}/2.0_0/manifest.json"), manifest);
        }
    }
}

impl World {
    fn new(os: Os) -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut w = World::in_dir(os, dir.path());
        w._dir = Some(dir);
        w
    }

    /// A world in `dir` (an existing, empty folder), kept after the test.
    fn in_dir(os: Os, dir: &Path) -> World {
        let base = dir.canonicalize().unwrap();
        let (root, canary) = (base.join("root"), base.join("canary"));
        populate(os, &root);
        populate(os, &canary);
        World { _dir: None, base, root, canary, traps: Vec::new() }
    }

    fn at(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Removes `rel` from the root, whatever it is.
    fn clear(&self, rel: &str) {
        let p = self.at(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&p).unwrap(),
            Ok(_) => std::fs::remove_file(&p).unwrap(),
            Err(_) => std::fs::create_dir_all(p.parent().unwrap()).unwrap(),
        }
    }

    fn link(&self, rel: &str, target: impl AsRef<Path>) {
        self.clear(rel);
        std::os::unix::fs::symlink(target, self.at(rel)).unwrap();
    }

    /// The host path of `rel` in the canary, as an absolute link target.
    fn canary_path(&self, rel: &str) -> PathBuf {
        self.canary.join(rel)
    }

    /// A relative target from `rel`'s folder that reaches the canary's `rel`
    /// on the host (one `..` per folder up to the temporary directory).
    fn climb(&self, rel: &str, extra: usize) -> String {
        let depth = rel.matches('/').count() + 1 + extra;
        format!("{}canary/{rel}", "../".repeat(depth))
    }

    fn fifo(&mut self, rel: &str) {
        self.clear(rel);
        let p = self.at(rel);
        assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
        self.traps.push(p);
    }

    /// A character device node (`/dev/zero` is 1,5; `/dev/null` 1,3), or a
    /// socket where mknod is not allowed (no CAP_MKNOD).
    fn device(&mut self, rel: &str, minor: u32) {
        self.clear(rel);
        let p = self.at(rel);
        let made = Command::new("mknod").arg(&p).args(["c", "1", &minor.to_string()]).stderr(Stdio::null()).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("mknod not allowed: a socket stands in for the device at {rel}");
            std::os::unix::net::UnixListener::bind(&p).unwrap();
        }
        self.traps.push(p);
    }

    /// A sparse file `len` bytes long that starts with `rel`'s own bytes.
    fn sparse(&self, rel: &str, len: u64) {
        let p = self.at(rel);
        let f = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&p).unwrap();
        f.set_len(len).unwrap();
    }

    fn make_dir(&self, rel: &str) {
        self.clear(rel);
        std::fs::create_dir_all(self.at(rel).join("inner")).unwrap();
    }

    fn make_file(&self, rel: &str) {
        self.clear(rel);
        std::fs::write(self.at(rel), b"a file where a folder should be").unwrap();
    }
}

/// What a scan gave: probe rows, scan_errors rows (table|path|kind), and
/// how long it took.
struct Seen {
    rows: BTreeSet<String>,
    errors: BTreeSet<String>,
    took: Duration,
}

/// Runs `cmd` to its end, killing it after [`KILL_AFTER`].
fn run_bounded(mut cmd: Command) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).map(|_| v)
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > KILL_AFTER {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{cmd:?} still running after {KILL_AFTER:?}: it blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    let mut stderr = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    let stdout = reader.join().unwrap().unwrap();
    (std::process::Output { status, stdout, stderr }, took)
}

fn query(root: &Path, sql: &str) -> (Vec<String>, Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    cmd.arg("--root").arg(root).args(["--format", "csv", "query", sql]);
    let (o, took) = run_bounded(cmd);
    assert!(o.status.success(), "{sql} on {}: {}", root.display(), stderr(&o));
    (stdout(&o).lines().skip(1).map(|l| l.trim_matches('"').to_string()).collect(), took)
}

fn look(os: Os, root: &Path) -> Seen {
    let probes = match os {
        Os::Windows => WINDOWS_PROBES,
        Os::Macos => MACOS_PROBES,
    };
    // One statement, so that scan_errors holds what the probes' tables met.
    let sql =
        format!("{probes} UNION ALL SELECT 'error|' || table_name || '|' || path || '|' || kind FROM scan_errors");
    let (lines, took) = query(root, &sql);
    let (errors, rows): (Vec<String>, Vec<String>) = lines.into_iter().partition(|l| l.starts_with("error|"));
    let errors = errors.into_iter().map(|e| e["error|".len()..].to_string()).collect();
    Seen { rows: rows.into_iter().collect(), errors, took }
}

/// Where a control run puts the canary, and the needles of the rows it gives back.
type Control = (fn(&World) -> String, Option<&'static [&'static str]>);

/// A hostile case: what is done to the root, which clean rows it takes away
/// (rows containing any of `gone`), and the scan_errors rows it must add.
struct Case {
    name: &'static str,
    os: Os,
    make: fn(&mut World),
    gone: &'static [&'static str],
    errors: &'static [(&'static str, &'static str, &'static str)],
    /// For a link out of the root: where (root-relative) a copy of the
    /// canary makes the link resolve, as in a chroot, to the canary's file,
    /// and which of the clean rows that gives back (those containing any of
    /// these; `None`: `gone`'s).
    control: Option<Control>,
    /// Rows the clean root lacks that the case may add (a certificate whose
    /// trust settings are gone is still in its keychain, untrusted).
    added: &'static [&'static str],
}

const SOFTWARE: &str = "Windows/System32/config/SOFTWARE";
const SYSTEM: &str = "Windows/System32/config/SYSTEM";
const NTUSER: &str = "Users/alice/NTUSER.DAT";
const KIS: &str = "Applications/Kaspersky Internet Security.app";
const KIS_INFO: &str = "Applications/Kaspersky Internet Security.app/Contents/Info.plist";
const KEYCHAIN: &str = "Library/Keychains/System.keychain";

/// The canary copied to the host path of the canary, inside the root: what
/// an absolute link to it names when resolved as in a chroot.
fn at_host_path(w: &World) -> String {
    w.canary.strip_prefix("/").unwrap().to_string_lossy().into_owned()
}

/// The canary copied to `/canary` in the root: where a `..` chain that
/// climbs past the root ends, as `..` stops at the root.
fn at_top(_: &World) -> String {
    "canary".into()
}

const HKLM: &[&str] = &["hklm_software|", "machine_certs|"];
const ALICE: &[&str] = &["user_software|", "user_reg_certs|", "user_file_certs|", "chrome|", "firefox|"];
const ALICE_HIVE: &[&str] = &["user_software|", "user_reg_certs|"];
const WINDOWS_ALL: &[&str] =
    &["hklm_software|", "user_software|", "services|", "_certs|", "chrome|", "firefox|", "host|"];

const fn t(table: &'static str, path: &'static str, kind: &'static str) -> (&'static str, &'static str, &'static str) {
    (table, path, kind)
}

/// The hive's tables: each reports the hive it could not read.
const SOFTWARE_TABLES: [&str; 3] = ["installed_software", "installed_certificates", "scan_host"];

type Row3 = (&'static str, &'static str, &'static str);

const fn concat2(a: [Row3; 3], b: [Row3; 3]) -> [Row3; 6] {
    [a[0], a[1], a[2], b[0], b[1], b[2]]
}

const fn concat3(a: [Row3; 3], b: [Row3; 3], c: [Row3; 3]) -> [Row3; 9] {
    [a[0], a[1], a[2], b[0], b[1], b[2], c[0], c[1], c[2]]
}

macro_rules! each {
    ($tables:expr, $path:expr, $kind:expr) => {{
        const T: [&str; 3] = $tables;
        [t(T[0], $path, $kind), t(T[1], $path, $kind), t(T[2], $path, $kind)]
    }};
}

fn windows_cases() -> Vec<Case> {
    const SW: &str = "/Windows/System32/config/SOFTWARE";
    const SW_NF: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, SW, "not_found");
    const SW_NR: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, SW, "not_regular_file");
    const SW_LOOP: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, SW, "symlink_loop");
    const SW_BIG: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, SW, "too_large");
    const LOG1: &str = "/Windows/System32/config/SOFTWARE.LOG1";
    const LOG2: &str = "/Windows/System32/config/SOFTWARE.LOG2";
    // A dirty hive whose logs cannot be read is read as it is, with a row
    // saying changes may be missing.
    const DIRTY: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, SW, "not_found");
    const LOG1_NR: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, LOG1, "not_regular_file");
    const LOG2_NF: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, LOG2, "not_found");
    const LOG1_BIG: [(&str, &str, &str); 3] = each!(SOFTWARE_TABLES, LOG1, "too_large");
    const FIFO_LOGS: [(&str, &str, &str); 9] = concat3(DIRTY, LOG1_NR, LOG2_NF);
    const BIG_LOG: [(&str, &str, &str); 6] = concat2(DIRTY, LOG1_BIG);
    const ALICE_T: [&str; 3] = ["installed_software", "installed_certificates", "browser_extensions"];
    const ALICE_NF: [(&str, &str, &str); 3] = each!(ALICE_T, "/Users/alice", "not_found");
    const ALICE_LOOP: [(&str, &str, &str); 3] = each!(ALICE_T, "/Users/alice", "symlink_loop");
    const ALICE_USERS_NF: [(&str, &str, &str); 3] = each!(ALICE_T, "/Users", "not_found");
    const NT: &str = "/Users/alice/NTUSER.DAT";
    vec![
        Case {
            name: "SOFTWARE: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link(SOFTWARE, w.canary_path(SOFTWARE)),
            gone: HKLM,
            errors: &SW_NF,
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "SOFTWARE: relative `..` chain to the canary",
            os: Os::Windows,
            make: |w| w.link(SOFTWARE, w.climb(SOFTWARE, 0)),
            gone: HKLM,
            errors: &SW_NF,
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "SOFTWARE: `..` past the host's / then the canary's absolute path",
            os: Os::Windows,
            make: |w| {
                let t = format!("{}{}", "../".repeat(40), w.canary_path(SOFTWARE).strip_prefix("/").unwrap().display());
                w.link(SOFTWARE, t)
            },
            gone: HKLM,
            errors: &SW_NF,
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "SOFTWARE: Windows-style link C:\\..\\..",
            os: Os::Windows,
            make: |w| w.link(SOFTWARE, format!("C:\\..\\..\\..\\..\\canary\\{}", SOFTWARE.replace('/', "\\"))),
            gone: HKLM,
            errors: &SW_NF,
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "config folder: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link("Windows/System32/config", w.canary_path("Windows/System32/config")),
            // Without a readable hive the root is no Windows root.
            gone: WINDOWS_ALL,
            errors: &[("scan_host", "/Windows/System32/config", "not_found")],
            control: Some((at_host_path, None)),
            added: &["host|"],
        },
        Case {
            name: "SOFTWARE: a link loop",
            os: Os::Windows,
            make: |w| {
                w.link(SOFTWARE, "SOFTWARE.a");
                w.link(&format!("{SOFTWARE}.a"), "/Windows/System32/config/SOFTWARE");
            },
            gone: HKLM,
            errors: &SW_LOOP,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: a FIFO",
            os: Os::Windows,
            make: |w| w.fifo(SOFTWARE),
            gone: HKLM,
            errors: &SW_NR,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: a character device",
            os: Os::Windows,
            make: |w| w.device(SOFTWARE, 5),
            gone: HKLM,
            errors: &SW_NR,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: a link to /dev/zero (none in the root)",
            os: Os::Windows,
            make: |w| w.link(SOFTWARE, "/dev/zero"),
            gone: HKLM,
            errors: &SW_NF,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: a link to the root's own /dev/zero device",
            os: Os::Windows,
            make: |w| {
                w.device("dev/zero", 5);
                w.link(SOFTWARE, "/dev/zero");
            },
            gone: HKLM,
            errors: &SW_NR,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: a folder",
            os: Os::Windows,
            make: |w| w.make_dir(SOFTWARE),
            gone: HKLM,
            errors: &SW_NR,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: sparse, 4 GiB",
            os: Os::Windows,
            make: |w| w.sparse(SOFTWARE, 4 << 30),
            gone: HKLM,
            // The marker reads only the head, which is a hive's; the hive's
            // readers (scan_host's too) say it is too large.
            errors: &SW_BIG,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE: sparse, one byte under the 512 MiB hive limit",
            os: Os::Windows,
            // Read whole and parsed: the bins the base block declares are
            // the hive, the zeros after them are not looked at.
            make: |w| w.sparse(SOFTWARE, (512 << 20) - 1),
            gone: &[],
            errors: &[],
            control: None,
            added: &[],
        },
        Case {
            name: "SYSTEM: a FIFO",
            os: Os::Windows,
            make: |w| w.fifo(SYSTEM),
            gone: &["services|", "host|"],
            errors: &[
                ("installed_services", "/Windows/System32/config/SYSTEM", "not_regular_file"),
                ("scan_host", "/Windows/System32/config/SYSTEM", "not_regular_file"),
            ],
            control: None,
            added: &["host|"],
        },
        Case {
            name: "SOFTWARE dirty, its .LOG1 a FIFO and its .LOG2 a link out of the root",
            os: Os::Windows,
            make: |w| {
                std::fs::copy(fixture("windows/dirty/new/HIVE"), w.at(SOFTWARE)).unwrap();
                w.fifo(&format!("{SOFTWARE}.LOG1"));
                w.link(&format!("{SOFTWARE}.LOG2"), w.canary_path(SOFTWARE));
            },
            gone: HKLM,
            errors: &FIFO_LOGS,
            control: None,
            added: &[],
        },
        Case {
            name: "SOFTWARE dirty, its .LOG1 sparse, 8 GiB",
            os: Os::Windows,
            make: |w| {
                std::fs::copy(fixture("windows/dirty/new/HIVE"), w.at(SOFTWARE)).unwrap();
                std::fs::copy(fixture("windows/dirty/new/HIVE.LOG1"), w.at(&format!("{SOFTWARE}.LOG1"))).unwrap();
                w.sparse(&format!("{SOFTWARE}.LOG1"), 8 << 30);
            },
            gone: HKLM,
            errors: &BIG_LOG,
            control: None,
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link(NTUSER, w.canary_path(NTUSER)),
            gone: ALICE_HIVE,
            errors: &[("installed_software", NT, "not_found"), ("installed_certificates", NT, "not_found")],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: relative `..` chain to the canary",
            os: Os::Windows,
            make: |w| w.link(NTUSER, w.climb(NTUSER, 0)),
            gone: ALICE_HIVE,
            errors: &[("installed_software", NT, "not_found"), ("installed_certificates", NT, "not_found")],
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: a FIFO",
            os: Os::Windows,
            make: |w| w.fifo(NTUSER),
            gone: ALICE_HIVE,
            errors: &[
                ("installed_software", NT, "not_regular_file"),
                ("installed_certificates", NT, "not_regular_file"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: a device",
            os: Os::Windows,
            make: |w| w.device(NTUSER, 3),
            gone: ALICE_HIVE,
            errors: &[
                ("installed_software", NT, "not_regular_file"),
                ("installed_certificates", NT, "not_regular_file"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: a folder",
            os: Os::Windows,
            make: |w| w.make_dir(NTUSER),
            gone: ALICE_HIVE,
            errors: &[
                ("installed_software", NT, "not_regular_file"),
                ("installed_certificates", NT, "not_regular_file"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "NTUSER.DAT: sparse, 16 GiB",
            os: Os::Windows,
            make: |w| w.sparse(NTUSER, 16 << 30),
            gone: ALICE_HIVE,
            errors: &[("installed_software", NT, "too_large"), ("installed_certificates", NT, "too_large")],
            control: None,
            added: &[],
        },
        Case {
            name: "profile folder: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link("Users/alice", w.canary_path("Users/alice")),
            gone: ALICE,
            errors: &ALICE_NF,
            control: Some((at_host_path, Some(&["chrome|", "firefox|"]))),
            added: &[],
        },
        Case {
            name: "profile folder: relative `..` chain to the canary",
            os: Os::Windows,
            make: |w| w.link("Users/alice", w.climb("Users/alice", 0)),
            gone: ALICE,
            errors: &ALICE_NF,
            control: Some((at_top, Some(&["chrome|", "firefox|"]))),
            added: &[],
        },
        Case {
            name: "profile folder: a link to itself",
            os: Os::Windows,
            make: |w| w.link("Users/alice", "alice"),
            gone: ALICE,
            errors: &ALICE_LOOP,
            control: None,
            added: &[],
        },
        Case {
            name: "profile folder: a file",
            os: Os::Windows,
            make: |w| w.make_file("Users/alice"),
            gone: ALICE,
            // A file holds no profile: nothing is hidden, nothing to say.
            errors: &[],
            control: None,
            added: &[],
        },
        Case {
            name: "Users: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link("Users", w.canary_path("Users")),
            gone: ALICE,
            errors: &ALICE_USERS_NF,
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "Users: a FIFO",
            os: Os::Windows,
            make: |w| w.fifo("Users"),
            gone: ALICE,
            errors: &[],
            control: None,
            added: &[],
        },
        Case {
            name: "AppData: absolute link out of the root",
            os: Os::Windows,
            make: |w| w.link("Users/alice/AppData", w.canary_path("Users/alice/AppData")),
            gone: &["user_file_certs|", "chrome|", "firefox|"],
            errors: &[
                ("installed_certificates", "/Users/alice/AppData", "not_found"),
                ("browser_extensions", "/Users/alice/AppData", "not_found"),
            ],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "Chrome's User Data: relative `..` chain to the canary",
            os: Os::Windows,
            make: |w| {
                let rel = "Users/alice/AppData/Local/Google/Chrome/User Data";
                w.link(rel, w.climb(rel, 0))
            },
            gone: &["chrome|"],
            errors: &[("browser_extensions", "/Users/alice/AppData/Local/Google/Chrome/User Data", "not_found")],
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "Chrome manifest: a FIFO; Firefox's extensions.json: a link to /dev/zero",
            os: Os::Windows,
            make: |w| {
                w.fifo(&format!(
                    "Users/alice/AppData/Local/Google/Chrome/User Data/Default/Extensions/{KP}/2.0_0/manifest.json"
                ));
                w.device("dev/zero", 5);
                w.link(
                    "Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/x1.default-release/extensions.json",
                    "/dev/zero",
                );
            },
            gone: &["chrome|", "firefox|"],
            errors: &[
                (
                    "browser_extensions",
                    "/Users/alice/AppData/Local/Google/Chrome/User Data/Default/Extensions/ahkjpbeeocnddjkakilopmfdlnjdpcdm/2.0_0/manifest.json",
                    "not_regular_file",
                ),
                (
                    "browser_extensions",
                    "/Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/x1.default-release/extensions.json",
                    "not_regular_file",
                ),
            ],
            control: None,
            added: &[],
        },
    ]
}

fn macos_cases() -> Vec<Case> {
    const DAEMONS: &[&str] = &["launchd|com.kaspersky.kav|", "|/Library/LaunchDaemons/"];
    const KIS_GONE: &[&str] = &["|/Applications/Kaspersky Internet Security.app/"];
    const KIS_T: &str = "/Applications/Kaspersky Internet Security.app/Contents/Info.plist";
    const ALICE_MAC: &[&str] = &["|/Users/alice/", "|alice|"];
    const CERTS: &[&str] = &["certs|"];
    vec![
        Case {
            name: "LaunchDaemons: absolute link out of the root",
            os: Os::Macos,
            make: |w| w.link("Library/LaunchDaemons", w.canary_path("Library/LaunchDaemons")),
            gone: DAEMONS,
            errors: &[("installed_services", "/Library/LaunchDaemons", "not_found")],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "LaunchDaemons: relative `..` chain to the canary",
            os: Os::Macos,
            make: |w| w.link("Library/LaunchDaemons", w.climb("Library/LaunchDaemons", 0)),
            gone: DAEMONS,
            errors: &[("installed_services", "/Library/LaunchDaemons", "not_found")],
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "LaunchDaemons: a link loop",
            os: Os::Macos,
            make: |w| {
                w.link("Library/LaunchDaemons", "LaunchDaemons2");
                w.link("Library/LaunchDaemons2", "/Library/LaunchDaemons");
            },
            gone: DAEMONS,
            errors: &[("installed_services", "/Library/LaunchDaemons", "symlink_loop")],
            control: None,
            added: &[],
        },
        Case {
            name: "LaunchDaemons: a file",
            os: Os::Macos,
            make: |w| w.make_file("Library/LaunchDaemons"),
            gone: DAEMONS,
            errors: &[],
            control: None,
            added: &[],
        },
        Case {
            name: "a daemon's plist: a FIFO, another a link to the root's /dev/null device",
            os: Os::Macos,
            make: |w| {
                w.fifo("Library/LaunchDaemons/com.kaspersky.kav.plist");
                w.device("dev/null", 3);
                w.link("Library/LaunchDaemons/org.example.ondemand.plist", "/dev/null");
            },
            gone: &["launchd|com.kaspersky.kav|", "launchd|org.example.ondemand|"],
            errors: &[
                ("installed_services", "/Library/LaunchDaemons/com.kaspersky.kav.plist", "not_regular_file"),
                ("installed_services", "/Library/LaunchDaemons/org.example.ondemand.plist", "not_regular_file"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "an app bundle: absolute link out of the root",
            os: Os::Macos,
            make: |w| w.link(KIS, w.canary_path(KIS)),
            gone: KIS_GONE,
            errors: &[("installed_software", "/Applications/Kaspersky Internet Security.app", "not_found")],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "an app's Info.plist: relative `..` chain to the canary",
            os: Os::Macos,
            make: |w| w.link(KIS_INFO, w.climb(KIS_INFO, 0)),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "not_found")],
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "an app's Info.plist: a FIFO",
            os: Os::Macos,
            make: |w| w.fifo(KIS_INFO),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "not_regular_file")],
            control: None,
            added: &[],
        },
        Case {
            name: "an app's Info.plist: a device",
            os: Os::Macos,
            make: |w| w.device(KIS_INFO, 5),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "not_regular_file")],
            control: None,
            added: &[],
        },
        Case {
            name: "an app's Info.plist: a folder",
            os: Os::Macos,
            make: |w| w.make_dir(KIS_INFO),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "not_regular_file")],
            control: None,
            added: &[],
        },
        Case {
            name: "an app's Info.plist: sparse, 8 GiB",
            os: Os::Macos,
            make: |w| w.sparse(KIS_INFO, 8 << 30),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "too_large")],
            control: None,
            added: &[],
        },
        Case {
            name: "an app's Info.plist: a link loop",
            os: Os::Macos,
            make: |w| w.link(KIS_INFO, "Info.plist"),
            gone: KIS_GONE,
            errors: &[("installed_software", KIS_T, "symlink_loop")],
            control: None,
            added: &[],
        },
        Case {
            name: "Applications: a link to itself",
            os: Os::Macos,
            make: |w| w.link("Applications", "/Applications"),
            gone: &["apps|com.kaspersky", "|/Applications/"],
            errors: &[
                ("installed_software", "/Applications", "symlink_loop"),
                ("installed_software", "/Applications/Utilities", "symlink_loop"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "Keychains: absolute link out of the root",
            os: Os::Macos,
            make: |w| w.link("Library/Keychains", w.canary_path("Library/Keychains")),
            gone: CERTS,
            errors: &[("installed_certificates", "/Library/Keychains", "not_found")],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "System.keychain: a FIFO",
            os: Os::Macos,
            make: |w| w.fifo(KEYCHAIN),
            gone: CERTS,
            errors: &[("installed_certificates", "/Library/Keychains/System.keychain", "not_regular_file")],
            control: None,
            added: &[],
        },
        Case {
            name: "System.keychain: sparse, 16 GiB",
            os: Os::Macos,
            make: |w| w.sparse(KEYCHAIN, 16 << 30),
            gone: CERTS,
            errors: &[("installed_certificates", "/Library/Keychains/System.keychain", "too_large")],
            control: None,
            added: &[],
        },
        Case {
            name: "trust settings: a link to the root's /dev/zero device",
            os: Os::Macos,
            make: |w| {
                w.device("dev/zero", 5);
                w.link("Library/Security/Trust Settings/Admin.plist", "/dev/zero");
            },
            gone: CERTS,
            errors: &[("installed_certificates", "/Library/Security/Trust Settings/Admin.plist", "not_regular_file")],
            control: None,
            added: &["certs|"],
        },
        Case {
            name: "receipts folder: absolute link out of the root",
            os: Os::Macos,
            make: |w| w.link("var/db/receipts", w.canary_path("var/db/receipts")),
            gone: &["|/var/db/receipts/"],
            errors: &[("installed_software", "/var/db/receipts", "not_found")],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "system extensions database: sparse, 4 GiB",
            os: Os::Macos,
            make: |w| w.sparse("Library/SystemExtensions/db.plist", 4 << 30),
            gone: &["kexts|macos_system_extension|"],
            errors: &[("installed_services", "/Library/SystemExtensions/db.plist", "too_large")],
            control: None,
            added: &[],
        },
        Case {
            name: "home folder: absolute link out of the root",
            os: Os::Macos,
            make: |w| w.link("Users/alice", w.canary_path("Users/alice")),
            gone: ALICE_MAC,
            errors: &[
                ("installed_software", "/Users/alice", "not_found"),
                ("installed_services", "/Users/alice", "not_found"),
                ("installed_certificates", "/Users/alice", "not_found"),
                ("browser_extensions", "/Users/alice", "not_found"),
            ],
            control: Some((at_host_path, None)),
            added: &[],
        },
        Case {
            name: "Users: relative `..` chain to the canary",
            os: Os::Macos,
            make: |w| w.link("Users", w.climb("Users", 0)),
            gone: &["|/Users/"],
            errors: &[
                ("installed_software", "/Users", "not_found"),
                ("installed_services", "/Users", "not_found"),
                ("installed_certificates", "/Users", "not_found"),
                ("browser_extensions", "/Users", "not_found"),
            ],
            control: Some((at_top, None)),
            added: &[],
        },
        Case {
            name: "home folder: a link loop",
            os: Os::Macos,
            make: |w| w.link("Users/alice", "/Users/alice"),
            gone: ALICE_MAC,
            errors: &[
                ("installed_software", "/Users/alice", "symlink_loop"),
                ("installed_services", "/Users/alice", "symlink_loop"),
                ("installed_certificates", "/Users/alice", "symlink_loop"),
                ("browser_extensions", "/Users/alice", "symlink_loop"),
            ],
            control: None,
            added: &[],
        },
        Case {
            name: "SystemVersion.plist: absolute link out of the root",
            os: Os::Macos,
            make: |w| {
                let rel = "System/Library/CoreServices/SystemVersion.plist";
                w.link(rel, w.canary_path(rel))
            },
            // Without it the root is no macOS root.
            gone: &["apps|", "receipts|", "homebrew|", "launchd|", "kexts|", "certs|", "chrome|", "host|"],
            errors: &[("scan_host", "/System/Library/CoreServices/SystemVersion.plist", "not_found")],
            control: Some((at_host_path, None)),
            added: &["host|"],
        },
    ]
}

fn baseline(os: Os) -> Seen {
    let w = World::new(os);
    look(os, &w.root)
}

fn is_gone(row: &str, gone: &[&str]) -> bool {
    gone.iter().any(|g| row.contains(g))
}

/// Checks one case; returns what went wrong, if anything.
fn check(case: &Case, clean: &Seen, strace: bool) -> Vec<String> {
    let mut bad = Vec::new();
    let mut w = World::new(case.os);
    (case.make)(&mut w);
    let seen = look(case.os, &w.root);
    let name = case.name;
    if seen.took > BUDGET {
        bad.push(format!("{name}: took {:?}", seen.took));
    }
    let canary_rows: Vec<&String> = clean.rows.iter().filter(|r| is_gone(r, case.gone)).collect();
    if canary_rows.is_empty() && !case.gone.is_empty() {
        bad.push(format!("{name}: `gone` names no row of the clean root"));
    }
    for r in &canary_rows {
        if seen.rows.contains(*r) {
            bad.push(format!("{name}: still has {r}"));
        }
    }
    for r in clean.rows.iter().filter(|r| !is_gone(r, case.gone)) {
        if !seen.rows.contains(r) {
            bad.push(format!("{name}: lost {r}"));
        }
    }
    for r in seen.rows.difference(&clean.rows).filter(|r| !is_gone(r, case.added)) {
        bad.push(format!("{name}: a row the clean root does not have: {r}"));
    }
    let want: BTreeSet<String> = case.errors.iter().map(|(t, p, k)| format!("{t}|{p}|{k}")).collect();
    for e in want.difference(&seen.errors) {
        bad.push(format!("{name}: no scan_errors row {e}; there are {:?}", seen.errors));
    }
    for e in seen.errors.difference(&want).filter(|e| !clean.errors.contains(*e)) {
        bad.push(format!("{name}: unexpected scan_errors row {e}"));
    }
    if strace {
        bad.extend(traced(&w).into_iter().map(|l| format!("{name}: under strace: {l}")));
    }
    if let Some((place, back)) = case.control {
        let at = w.root.join(place(&w));
        copy_tree(&w.canary, &at);
        let again = look(case.os, &w.root);
        let back = back.unwrap_or(case.gone);
        for r in clean.rows.iter().filter(|r| is_gone(r, back) && !again.rows.contains(*r)) {
            bad.push(format!("{name} (control, canary at /{}): lost {r}", place(&w)));
        }
    }
    bad
}

/// The lines of an strace of `embargo scan` on the world's root that name
/// a path or an open file in the canary, or open a FIFO or device of the
/// root. What a process writes (the report quotes the link targets) and the
/// text a readlink returns are not reads of those paths.
fn traced(w: &World) -> Vec<String> {
    let trace = w.base.join("trace");
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "-s", "4096", "-o"]).arg(&trace).arg(env!("CARGO_BIN_EXE_embargo"));
    cmd.arg("--root").arg(&w.root).args(["--format", "json", "scan", "--fail-on", "critical"]);
    // cargo's library path would send the loader searching its folders; the
    // binary needs none of them (SQLite is built in).
    cmd.env_remove("LD_LIBRARY_PATH");
    let (o, _) = run_bounded(cmd);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.contains("openat("), "strace saw no opens");
    let mut bad = suspicious(&text, &w.canary, &w.traps);
    bad.extend(outside_root(&text, &w.root));
    bad
}

/// What the process itself needs outside the root: its loader and
/// libraries, its own /proc entries and cgroup limits (the worker count),
/// randomness (hash seeds).
const PROCESS_OWN: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/lib/",
    "/lib64/",
    "/usr/lib/",
    "/proc/",
    "/sys/fs/cgroup/",
    "/sys/devices/system/cpu/",
    "/dev/urandom",
    "/dev/random",
    "/etc/localtime",
    "/usr/share/zoneinfo/",
];

/// Calls that look a path up, each with the path as its first quoted
/// argument (relative to the fd before it, for the `*at` calls).
const LOOKUPS: &[&str] = &[
    "open",
    "openat",
    "openat2",
    "creat",
    "stat",
    "lstat",
    "newfstatat",
    "statx",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "chdir",
    "execve",
    "statfs",
    "getxattr",
    "lgetxattr",
    "listxattr",
    "llistxattr",
    "name_to_handle_at",
    "inotify_add_watch",
];

/// The lines of a trace that look up a path outside `root` that the
/// process does not need for itself, failed lookups included (a probe of
/// the analyst's files is a leak too).
fn outside_root(trace: &str, root: &Path) -> Vec<String> {
    let root = root.to_string_lossy().into_owned();
    let binary = env!("CARGO_BIN_EXE_embargo");
    let inside = |p: &str| {
        p == root
            || p.strip_prefix(&*root).is_some_and(|rest| rest.starts_with('/'))
            // The root's own path, made canonical.
            || root.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
            || p == binary
            || PROCESS_OWN.iter().any(|a| p.starts_with(a) || Some(p) == a.strip_suffix('/'))
    };
    trace
        .lines()
        .filter(|l| {
            let call = l.split_once(' ').map_or(*l, |x| x.1).trim_start();
            let Some((name, args)) = call.split_once('(') else { return false };
            if !LOOKUPS.contains(&name) {
                return false;
            }
            // The fd the path is relative to, as `strace -y` names it.
            let dirfd =
                args.split_once(", ").and_then(|(fd, _)| fd.split_once('<')).map(|(_, d)| d.trim_end_matches('>'));
            let Some(path) = args.split('"').nth(1) else { return false };
            let full = match (path.starts_with('/'), dirfd) {
                (true, _) => path.to_string(),
                (false, Some(d)) if path.is_empty() => d.to_string(),
                (false, Some(d)) => format!("{d}/{path}"),
                (false, None) => return true,
            };
            !inside(&full)
        })
        .map(String::from)
        .collect()
}

fn suspicious(trace: &str, canary: &Path, traps: &[PathBuf]) -> Vec<String> {
    let canary = canary.to_string_lossy();
    let traps: Vec<String> = traps.iter().map(|p| format!("<{}>", p.display())).collect();
    trace
        .lines()
        .filter(|l| {
            let call = l.split_once(' ').map_or(*l, |x| x.1).trim_start();
            if ["write(", "writev(", "pwrite64(", "sendto(", "sendmsg("].iter().any(|c| call.starts_with(c)) {
                return false;
            }
            // readlinkat(dirfd, "name", "TARGET", size): drop the target.
            let named = if call.starts_with("readlink") {
                let args: Vec<&str> = call.splitn(if call.starts_with("readlinkat") { 3 } else { 2 }, ", \"").collect();
                args[..args.len() - 1].join(", \"")
            } else {
                call.to_string()
            };
            // The rest of a call strace split in two: what a readlink returned.
            let named = if named.starts_with("<... readlink") { String::new() } else { named };
            named.contains(&*canary) || traps.iter().any(|t| call.contains(t.as_str()))
        })
        .map(String::from)
        .collect()
}

fn run_cases(os: Os, cases: Vec<Case>) {
    let strace = peer("strace");
    let clean = baseline(os);
    assert!(clean.rows.len() > 10, "{:?}", clean.rows);
    let bad: Vec<String> = cases.iter().flat_map(|c| check(c, &clean, strace)).collect();
    assert!(bad.is_empty(), "{} problem(s):\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn hostile_windows_roots_stay_inside_and_say_what_they_could_not_read() {
    run_cases(Os::Windows, windows_cases());
}

#[test]
fn hostile_macos_roots_stay_inside_and_say_what_they_could_not_read() {
    run_cases(Os::Macos, macos_cases());
}

/// The strace check can fail: a process that reads the canary, or opens a
/// FIFO of the root, is caught; one that only quotes the canary's path in
/// its output or reads a link to it is not.
#[test]
fn the_trace_check_sees_a_read_outside() {
    if !peer("strace") {
        return;
    }
    let mut w = World::new(Os::Macos);
    w.fifo("trap");
    let trace = w.base.join("t");
    let script = "readlink \"$1\"/link >/dev/null; echo \"$2\"; cat \"$2\"/Library/Keychains/System.keychain >/dev/null; \
                  exec 3<>\"$1\"/trap; exec 3<&-";
    std::os::unix::fs::symlink(&w.canary, w.root.join("link")).unwrap();
    let st = Command::new("strace")
        .args(["-f", "-qq", "-y", "-s", "4096", "-o"])
        .arg(&trace)
        .args(["sh", "-c", script, "sh"])
        .arg(&w.root)
        .arg(&w.canary)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(&trace).unwrap();
    let found = suspicious(&text, &w.canary, &w.traps);
    assert!(found.iter().any(|l| l.contains("System.keychain") && l.contains("openat")), "{found:#?}");
    let outside = outside_root(&text, &w.root);
    assert!(outside.iter().any(|l| l.contains("canary/Library/Keychains/System.keychain")), "{outside:#?}");
    assert!(!outside.iter().any(|l| l.contains("root/trap")), "{outside:#?}");
    assert!(found.iter().any(|l| l.contains("/trap>")), "{found:#?}");
    assert!(!found.iter().any(|l| l.contains("readlink(") || l.contains("readlinkat(")), "{found:#?}");
}

/// The report's verdict: an OS marker that is there but cannot be read
/// (its folder linked out of the root, a FIFO) left the whole root unread,
/// which is unreadable evidence (exit 1 at the default --fail-on), not a
/// clean Linux root; a junk marker in an empty root is not.
#[test]
fn an_unreadable_os_marker_fails_the_scan() {
    let verdict = |root: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
        cmd.arg("--root").arg(root).args(["--format", "json", "scan"]);
        let (o, _) = run_bounded(cmd);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        let paths: Vec<String> =
            v["unreadable"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_string()).collect();
        (o.status.code(), paths)
    };
    let w = World::new(Os::Windows);
    w.link("Windows/System32/config", w.canary_path("Windows/System32/config"));
    assert_eq!(verdict(&w.root), (Some(1), vec!["/Windows/System32/config".to_string()]));
    let mut w = World::new(Os::Macos);
    w.fifo("System/Library/CoreServices/SystemVersion.plist");
    let want = vec!["/System/Library/CoreServices/SystemVersion.plist".to_string()];
    assert_eq!(verdict(&w.root), (Some(1), want));
    let empty = tempfile::tempdir().unwrap();
    put(empty.path(), SOFTWARE, b"not a hive");
    assert_eq!(verdict(empty.path()), (Some(0), vec![]));
}

/// Not a check: writes the clean roots and every case's world to
/// `$EMBARGO_HOSTILE_OUT/NN/{root,canary}`, with `cases.tsv` (folder, OS,
/// case), for bench/hostile_roots.sh to time.
#[test]
#[ignore]
fn write_hostile_roots() {
    let out = PathBuf::from(std::env::var_os("EMBARGO_HOSTILE_OUT").expect("EMBARGO_HOSTILE_OUT names a folder"));
    let mut list = String::new();
    let clean =
        |os: Os, name: &'static str| Case { name, os, make: |_| {}, gone: &[], errors: &[], control: None, added: &[] };
    let cases = [clean(Os::Windows, "clean Windows fixture root")]
        .into_iter()
        .chain(windows_cases())
        .chain([clean(Os::Macos, "clean macOS fixture root")])
        .chain(macos_cases());
    for (i, case) in cases.enumerate() {
        let dir = out.join(format!("{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = World::in_dir(case.os, &dir);
        (case.make)(&mut w);
        list.push_str(&format!("{i:02}\t{:?}\t{}\n", case.os, case.name));
    }
    std::fs::write(out.join("cases.tsv"), list).unwrap();
}
