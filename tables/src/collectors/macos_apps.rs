//! Application bundles: `*.app/Contents/Info.plist` in the folders macOS
//! installs applications to, and in each user's `~/Applications`.
//!
//! osquery's `apps` table asks LaunchServices on a live Mac, and without it
//! lists only the bundles directly in its search folders. Installers also
//! put apps one folder down (`/Applications/Kaspersky Lab/...app`,
//! `/Applications/Microsoft Office 2011/`), so a folder that is not a bundle
//! is searched one level deep. Bundles are never searched: an app's helper
//! apps (`Contents/MacOS/*.app`, `Contents/Library/LoginItems`) are parts of it.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};

use crate::collectors::{macos, plist};
use crate::error::FsError;
use crate::root::{EntryType, Root, join, lossy};

/// Folders applications are installed to, system-wide.
pub const SYSTEM_DIRS: [&str; 5] = [
    "/Applications",
    "/Applications/Utilities",
    "/System/Applications",
    "/System/Applications/Utilities",
    "/Users/Shared/Applications",
];

/// What a bundle's Info.plist says about it (apps and kernel extensions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleInfo {
    pub identifier: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    /// CFBundleShortVersionString, the version users see.
    pub short_version: Option<String>,
    /// CFBundleVersion, the build; an `<integer>` in some bundles.
    pub bundle_version: Option<String>,
    pub executable: Option<String>,
    pub package_type: Option<String>,
}

impl BundleInfo {
    pub fn from_dict(d: &plist::Dictionary) -> Self {
        BundleInfo {
            identifier: plist::string(d, "CFBundleIdentifier"),
            name: plist::string(d, "CFBundleName"),
            display_name: plist::string(d, "CFBundleDisplayName"),
            short_version: plist::text(d, "CFBundleShortVersionString"),
            bundle_version: plist::text(d, "CFBundleVersion"),
            executable: plist::string(d, "CFBundleExecutable"),
            package_type: plist::string(d, "CFBundlePackageType"),
        }
    }
}

/// The Info.plist of the bundle at `bundle`; `None` when it has none (a
/// half-removed bundle). A link that leads nowhere, or a bad plist, is an
/// error. `bundle` is the exact path; the Info.plist's comes back as shown.
pub fn read_bundle(root: &Root, bundle: &OsStr) -> Result<Option<(String, BundleInfo)>, FsError> {
    let path = join(bundle, "Contents/Info.plist");
    Ok(plist::read_dict_if_present(root, &path)?.map(|d| (lossy(&path), BundleInfo::from_dict(&d))))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// The bundle's path (`/Applications/X.app`), the contract's install_location.
    pub install_location: String,
    /// Its Info.plist, the contract's `path`.
    pub path: String,
    pub info: BundleInfo,
    /// Set for apps in a user's `~/Applications`.
    pub user: Option<String>,
}

impl App {
    /// CFBundleDisplayName, else CFBundleName, else the bundle's file name
    /// without `.app` (what Finder shows when the plist names nothing).
    pub fn name(&self) -> String {
        let stem = || {
            let file = self.install_location.rsplit('/').next().unwrap_or(&self.install_location);
            file.strip_suffix(".app").unwrap_or(file).to_string()
        };
        self.info
            .display_name
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| self.info.name.clone().filter(|s| !s.is_empty()))
            .unwrap_or_else(stem)
    }

    /// CFBundleShortVersionString, else CFBundleVersion.
    pub fn version(&self) -> Option<String> {
        self.info.short_version.clone().or_else(|| self.info.bundle_version.clone())
    }
}

/// Every app bundle in the system folders and the users' `~/Applications`.
pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<App> {
    let homes = macos::homes(root, report);
    read_with_homes(root, &homes, report)
}

/// [`read`] with the homes (from [`macos::homes`]) already listed.
pub fn read_with_homes(root: &Root, homes: &[(String, OsString)], report: &mut dyn FnMut(FsError)) -> Vec<App> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for dir in SYSTEM_DIRS {
        search(root, OsStr::new(dir), None, true, &mut seen, &mut out, report);
    }
    for (user, home) in homes {
        search(root, &join(home, "Applications"), Some(user), true, &mut seen, &mut out, report);
    }
    out
}

fn search(
    root: &Root,
    dir: &OsStr,
    user: Option<&str>,
    descend: bool,
    seen: &mut HashSet<OsString>,
    out: &mut Vec<App>,
    report: &mut dyn FnMut(FsError),
) {
    // Bundles are keyed by where they resolve to, so that a link to a bundle
    // already read (or read under another name) is one app. The folder is
    // resolved once; only links among its entries need a walk of their own.
    let resolved_dir = match root.resolve(dir) {
        Ok(r) => r.raw_path,
        Err(e) => {
            if e.kind != crate::ErrorKind::NotFound {
                report(e);
            }
            return;
        }
    };
    for e in macos::list(root, dir, report) {
        if e.name.starts_with('.') || !macos::is_dir(root, dir, &e, report) {
            continue;
        }
        // Opened by its exact name: a name that is not UTF-8 is shown with
        // U+FFFD, and that name opens nothing. Keys are exact too, so that
        // two names shown alike are still two bundles.
        let sub = e.path_in(dir);
        if e.name.ends_with(".app") {
            let key = match e.entry_type {
                EntryType::Symlink => root.resolve(&sub).map(|r| r.raw_path).unwrap_or_else(|_| sub.clone()),
                _ => e.path_in(&resolved_dir),
            };
            if !seen.insert(key) {
                continue;
            }
            match read_bundle(root, &sub) {
                Ok(Some((path, info))) => {
                    out.push(App { install_location: lossy(&sub), path, info, user: user.map(str::to_string) })
                }
                Ok(None) => {}
                Err(err) => report(err),
            }
        } else if descend && !SYSTEM_DIRS.iter().any(|d| OsStr::new(d) == sub) {
            search(root, &sub, user, false, seen, out, report);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    fn info(id: &str) -> String {
        format!("<plist><dict><key>CFBundleIdentifier</key><string>{id}</string></dict></plist>")
    }

    /// macOS 13+ links /Applications/Safari.app into the cryptex: read it
    /// once, under the name the system shows. A second link to the same
    /// bundle is the same app; an Info.plist linked out of the root is an error.
    #[test]
    fn links_to_bundles_are_followed_inside_the_root_once() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path();
        let cryptex = b.join("System/Cryptexes/App/System/Applications/Safari.app/Contents");
        std::fs::create_dir_all(&cryptex).unwrap();
        std::fs::write(cryptex.join("Info.plist"), info("com.apple.Safari")).unwrap();
        std::fs::create_dir_all(b.join("Applications/Vendor")).unwrap();
        symlink("/System/Cryptexes/App/System/Applications/Safari.app", b.join("Applications/Safari.app")).unwrap();
        symlink("../Safari.app", b.join("Applications/Vendor/Again.app")).unwrap();
        std::fs::create_dir_all(b.join("Applications/Escape.app/Contents")).unwrap();
        symlink("/etc/passwd", b.join("Applications/Escape.app/Contents/Info.plist")).unwrap();
        // Found with the hostile roots of issue 16: a bundle linked out of
        // the root was skipped without a row.
        symlink("/opt/elsewhere/Kaspersky.app", b.join("Applications/Kaspersky.app")).unwrap();
        let root = crate::Root::new(b).unwrap();
        let mut errors = Vec::new();
        let apps = super::read(&root, &mut |e| errors.push(e));
        let got: Vec<(&str, Option<&str>)> =
            apps.iter().map(|a| (a.install_location.as_str(), a.info.identifier.as_deref())).collect();
        assert_eq!(got, [("/Applications/Safari.app", Some("com.apple.Safari"))]);
        let paths: Vec<_> = errors.iter().map(|e| (e.path.as_str(), e.kind)).collect();
        assert_eq!(
            paths,
            [
                ("/Applications/Escape.app/Contents/Info.plist", crate::ErrorKind::NotFound),
                ("/Applications/Kaspersky.app", crate::ErrorKind::NotFound),
            ]
        );
    }

    /// A bundle, a folder or a home whose name is not UTF-8 was looked up
    /// by its shown (U+FFFD) name, found absent, and dropped without a word;
    /// two names shown alike were also one key, so the second was dropped.
    #[test]
    fn bundles_named_in_bytes_that_are_not_utf8_are_listed() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let d = tempfile::tempdir().unwrap();
        let bundles: [(&[u8], &str); 5] = [
            (b"Applications/Kaspersky \xff.app", "com.kaspersky.a"),
            (b"Applications/Kaspersky \xfe.app", "com.kaspersky.b"),
            (b"Applications/Kaspersky Lab \xff/Kaspersky.app", "com.kaspersky.c"),
            (b"Users/k\xffuser/Applications/Kaspersky.app", "com.kaspersky.d"),
            (b"Applications/Plain.app", "com.example.plain"),
        ];
        for (rel, id) in bundles {
            let contents = d.path().join(OsStr::from_bytes(rel)).join("Contents");
            std::fs::create_dir_all(&contents).unwrap();
            std::fs::write(contents.join("Info.plist"), info(id)).unwrap();
        }
        let root = crate::Root::new(d.path()).unwrap();
        let mut errors = Vec::new();
        let apps = super::read(&root, &mut |e| errors.push(e));
        assert!(errors.is_empty(), "{errors:?}");
        // In listing order: by exact name, a folder searched where it is met.
        let got: Vec<_> = apps
            .iter()
            .map(|a| (a.install_location.as_str(), a.path.as_str(), a.info.identifier.as_deref(), a.user.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/Applications/Kaspersky Lab \u{fffd}/Kaspersky.app",
                    "/Applications/Kaspersky Lab \u{fffd}/Kaspersky.app/Contents/Info.plist",
                    Some("com.kaspersky.c"),
                    None
                ),
                (
                    "/Applications/Kaspersky \u{fffd}.app",
                    "/Applications/Kaspersky \u{fffd}.app/Contents/Info.plist",
                    Some("com.kaspersky.b"),
                    None
                ),
                (
                    "/Applications/Kaspersky \u{fffd}.app",
                    "/Applications/Kaspersky \u{fffd}.app/Contents/Info.plist",
                    Some("com.kaspersky.a"),
                    None
                ),
                (
                    "/Applications/Plain.app",
                    "/Applications/Plain.app/Contents/Info.plist",
                    Some("com.example.plain"),
                    None
                ),
                (
                    "/Users/k\u{fffd}user/Applications/Kaspersky.app",
                    "/Users/k\u{fffd}user/Applications/Kaspersky.app/Contents/Info.plist",
                    Some("com.kaspersky.d"),
                    Some("k\u{fffd}user")
                ),
            ]
        );
    }
}
