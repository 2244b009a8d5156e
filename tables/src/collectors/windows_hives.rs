//! The registry hives of a Windows root, each read and parsed once and then
//! shared by every collector that needs it (SOFTWARE by the Uninstall,
//! certificate and host readers; SYSTEM by services and the host name;
//! each user's NTUSER.DAT by per-user software and stores).
//!
//! A table layer keeps one [`WindowsHives`] per scan. Hives are read through
//! the [`Root`], case-insensitively (a Windows root folds case: the file may
//! be `config/software`), up to [`HIVE_LIMIT`] bytes. A dirty hive's
//! `.LOG1`, `.LOG2` and `.LOG` files are read next to it and replayed; every
//! problem (a log that does not match, a hive left dirty) is kept with the
//! hive as an [`FsError`] for `scan_errors`, and a hive is never refused for
//! its logs.

use std::sync::OnceLock;

use crate::collectors::hive::{BaseBlock, Hive, LogFile, Notice, RegError};
use crate::error::{ErrorKind, FsError};
use crate::root::{EntryType, Root};

pub const SOFTWARE: &str = "/Windows/System32/config/SOFTWARE";
pub const SYSTEM: &str = "/Windows/System32/config/SYSTEM";
/// Where per-user profiles live; each holds `NTUSER.DAT`.
pub const USERS: &str = "/Users";

/// The largest hive (or log) read. SOFTWARE hives of busy servers reach a
/// few hundred MB; the whole file is held in memory while the scan runs.
pub const HIVE_LIMIT: u64 = 512 << 20;

/// Registry key paths in rows start with these (the contract's Windows form).
pub const HKLM_SOFTWARE: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE";
pub const HKLM_SYSTEM: &str = "HKEY_LOCAL_MACHINE\\SYSTEM";

/// One hive file and what came of reading it.
#[derive(Debug)]
pub struct LoadedHive {
    /// Root-relative path of the hive file.
    pub path: String,
    /// None when the file is absent or could not be read or parsed.
    pub hive: Option<Hive>,
    /// Problems for `scan_errors`: unreadable files, damaged parts found on
    /// opening, a dirty hive whose logs could not be replayed.
    pub problems: Vec<FsError>,
}

impl LoadedHive {
    /// A problem inside the hive at registry key `key` (shown as in rows).
    pub fn error(&self, key: &str, e: RegError) -> FsError {
        FsError::parse(&self.path, format!("{key}: {e}"))
    }
}

/// Reads and parses the hive at `path`, with its transaction logs when it
/// is dirty. An absent hive is no problem (not every root is Windows); a
/// link to nowhere is.
pub fn load(root: &Root, path: &str) -> LoadedHive {
    let mut out = LoadedHive { path: path.to_string(), hive: None, problems: Vec::new() };
    let bytes = match root.read_limited(path, HIVE_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::NotFound => {
            out.problems.extend(root.dangling(path));
            return out;
        }
        Err(e) => {
            out.problems.push(e);
            return out;
        }
    };
    let mut logs = Vec::new();
    if BaseBlock::parse(&bytes).is_some_and(|b| b.is_dirty()) {
        for ext in [".LOG1", ".LOG2", ".LOG"] {
            let log = format!("{path}{ext}");
            match root.read_limited(&log, HIVE_LIMIT) {
                Ok(data) => logs.push((log, data)),
                Err(e) if e.kind == ErrorKind::NotFound => out.problems.extend(root.dangling(&log)),
                Err(e) => out.problems.push(e),
            }
        }
    }
    let files: Vec<LogFile<'_>> = logs.iter().map(|(name, data)| LogFile { name, data }).collect();
    match Hive::parse_with_logs(bytes, &files) {
        Ok(hive) => {
            out.problems.extend(hive.notices().iter().map(|n| notice_error(path, &logs, n)));
            out.hive = Some(hive);
        }
        Err(e) => out.problems.push(FsError::parse(path, e.0)),
    }
    out
}

fn notice_error(path: &str, logs: &[(String, Vec<u8>)], n: &Notice) -> FsError {
    let at = n.log.and_then(|i| logs.get(i)).map_or(path, |(p, _)| p.as_str());
    FsError::new(n.kind, at, n.message.clone())
}

/// A user profile folder and its NTUSER.DAT.
#[derive(Debug)]
pub struct UserHive {
    /// The profile folder's name, which rows show as the user and in
    /// `HKEY_USERS\<name>` key paths.
    pub user: String,
    /// Root-relative path of the profile folder.
    pub home: String,
    pub hive: LoadedHive,
}

impl UserHive {
    /// `HKEY_USERS\<user>`, the start of this user's key paths.
    pub fn key_prefix(&self) -> String {
        format!("HKEY_USERS\\{}", self.user)
    }
}

/// The hives of one Windows root, each loaded on first use.
#[derive(Debug)]
pub struct WindowsHives {
    root: Root,
    software: OnceLock<LoadedHive>,
    system: OnceLock<LoadedHive>,
    users: OnceLock<(Vec<UserHive>, Vec<FsError>)>,
}

impl WindowsHives {
    /// `root` is used with case folding, as Windows looks names up.
    pub fn new(root: &Root) -> WindowsHives {
        WindowsHives {
            root: root.clone().with_case_folding(true),
            software: OnceLock::new(),
            system: OnceLock::new(),
            users: OnceLock::new(),
        }
    }

    /// The case-folding root the hives are read through.
    pub fn root(&self) -> &Root {
        &self.root
    }

    pub fn software(&self) -> &LoadedHive {
        self.software.get_or_init(|| load(&self.root, SOFTWARE))
    }

    pub fn system(&self) -> &LoadedHive {
        self.system.get_or_init(|| load(&self.root, SYSTEM))
    }

    /// Every profile folder under `/Users` (real folders only: `All Users`
    /// and `Default User` are junctions to others), with its NTUSER.DAT
    /// loaded when it has one.
    pub fn users(&self) -> &[UserHive] {
        &self.users_and_problems().0
    }

    /// Problems listing `/Users` itself.
    pub fn users_problems(&self) -> &[FsError] {
        &self.users_and_problems().1
    }

    fn users_and_problems(&self) -> &(Vec<UserHive>, Vec<FsError>) {
        self.users.get_or_init(|| {
            let entries = match self.root.read_dir(USERS) {
                Ok(e) => e,
                Err(e) if e.kind == ErrorKind::NotFound => {
                    return (Vec::new(), self.root.dangling(USERS).into_iter().collect());
                }
                Err(e) => return (Vec::new(), vec![e]),
            };
            // A junction to another folder is no profile of its own; one
            // that leads nowhere inside the root (out of it) may hide one.
            let problems = entries
                .iter()
                .filter(|e| e.entry_type == EntryType::Symlink)
                .map(|e| format!("{USERS}/{}", e.name))
                .filter_map(|link| match self.root.resolve(&link) {
                    Err(e) if e.kind == ErrorKind::NotFound => self.root.dangling(&link),
                    Err(e) => Some(e),
                    Ok(_) => None,
                })
                .collect();
            let users = entries
                .iter()
                .filter(|e| e.entry_type == EntryType::Dir)
                .map(|e| {
                    let home = format!("{USERS}/{}", e.name);
                    let hive = load(&self.root, &format!("{home}/NTUSER.DAT"));
                    UserHive { user: e.name.clone(), home, hive }
                })
                .collect();
            (users, problems)
        })
    }
}

/// `prefix\a\b`: a registry key path as rows show it.
pub fn key_path(prefix: &str, parts: &[&str]) -> String {
    let mut s = String::from(prefix);
    for p in parts.iter().filter(|p| !p.is_empty()) {
        s.push('\\');
        s.push_str(p);
    }
    s
}

/// A scan shares one `WindowsHives` between tables, across threads.
const _: () = {
    const fn shareable<T: Send + Sync + 'static>() {}
    shareable::<WindowsHives>();
};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// What a collector's `read_all` gives on the fixture root
    /// (tests/fixtures/windows/root).
    pub(crate) fn collect<T>(
        read: impl FnOnce(&WindowsHives, &mut dyn FnMut(T), &mut dyn FnMut(FsError)),
    ) -> (Vec<T>, Vec<FsError>) {
        let root = Root::new(crate::collectors::hive::tests::fixture_dir().join("root")).unwrap();
        let hives = WindowsHives::new(&root);
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        read(&hives, &mut |r| rows.push(r), &mut |e| errors.push(e));
        (rows, errors)
    }
    use crate::collectors::hive::Registry;
    use crate::collectors::hive::tests::fixture;

    fn root_with(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, data) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn a_dirty_hive_is_replayed_from_logs_found_in_any_case() {
        let (_d, root) = root_with(&[
            ("windows/system32/CONFIG/software", fixture("dirty/new/HIVE")),
            ("windows/system32/CONFIG/software.log1", fixture("dirty/new/HIVE.LOG1")),
            ("windows/system32/CONFIG/Software.Log2", fixture("dirty/new/HIVE.LOG2")),
        ]);
        let hives = WindowsHives::new(&root);
        let s = hives.software();
        assert_eq!(s.problems, vec![]);
        let hive = s.hive.as_ref().unwrap();
        assert_eq!(hive.recovery().unwrap().entries, 2);
        assert!(hive.open("Uninstall\\Late").unwrap().is_some());
    }

    #[test]
    fn a_dirty_hive_without_logs_is_read_with_one_problem() {
        let (_d, root) = root_with(&[("Windows/System32/config/SOFTWARE", fixture("dirty/new/HIVE"))]);
        let hives = WindowsHives::new(&root);
        let s = hives.software();
        assert!(s.hive.is_some());
        assert_eq!(s.problems.len(), 1);
        assert_eq!((s.problems[0].kind, s.problems[0].path.as_str()), (ErrorKind::NotFound, SOFTWARE));
        assert!(s.problems[0].message.contains("may be missing"));
    }

    #[test]
    fn a_log_that_is_not_a_log_is_named_in_its_problem() {
        let (_d, root) = root_with(&[
            ("Windows/System32/config/SOFTWARE", fixture("dirty/new/HIVE")),
            ("Windows/System32/config/SOFTWARE.LOG1", b"garbage".to_vec()),
        ]);
        let hives = WindowsHives::new(&root);
        let paths: Vec<_> = hives.software().problems.iter().map(|p| (p.path.as_str(), p.kind)).collect();
        assert_eq!(
            paths,
            [("/Windows/System32/config/SOFTWARE.LOG1", ErrorKind::ParseError), (SOFTWARE, ErrorKind::ParseError)]
        );
    }

    #[test]
    fn absent_hives_are_quiet_and_broken_ones_are_not() {
        let (d, root) = root_with(&[("Windows/System32/config/SYSTEM", b"not a hive at all".to_vec())]);
        std::os::unix::fs::symlink("/nowhere", d.path().join("Windows/System32/config/SOFTWARE")).unwrap();
        let hives = WindowsHives::new(&root);
        assert_eq!(hives.users().len(), 0);
        let s = hives.software();
        assert!(s.hive.is_none());
        assert_eq!(s.problems.len(), 1, "a dangling link is worth a row");
        let sys = hives.system();
        assert_eq!(sys.problems.len(), 1);
        assert_eq!(sys.problems[0].kind, ErrorKind::ParseError);
        let (_e, empty) = root_with(&[]);
        let hives = WindowsHives::new(&empty);
        assert!(hives.software().problems.is_empty() && hives.system().problems.is_empty());
    }

    #[test]
    fn users_are_profile_folders_not_links() {
        let (d, root) = root_with(&[
            ("Users/alice/NTUSER.DAT", fixture("root/Users/alice/NTUSER.DAT")),
            ("Users/Public/desktop.ini", Vec::new()),
        ]);
        std::os::unix::fs::symlink("alice", d.path().join("Users/All Users")).unwrap();
        let hives = WindowsHives::new(&root);
        let users: Vec<_> = hives.users().iter().map(|u| (u.user.as_str(), u.hive.hive.is_some())).collect();
        assert_eq!(users, [("Public", false), ("alice", true)]);
        assert_eq!(hives.users()[1].key_prefix(), "HKEY_USERS\\alice");
    }
}
