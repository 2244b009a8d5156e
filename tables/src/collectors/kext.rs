//! Kernel extensions (`*.kext` bundles in `Library/Extensions` and
//! `System/Library/Extensions`, with the kexts in their `Contents/PlugIns`)
//! and system extensions (the records of `Library/SystemExtensions/db.plist`,
//! which `sysextd` keeps: identifier, team id, state, version).

use std::ffi::OsStr;

use crate::collectors::macos_apps::{self, BundleInfo};
use crate::collectors::{macos, plist};
use crate::error::FsError;
use crate::root::{Root, join, lossy};

pub const KEXT_DIRS: [&str; 2] = ["/Library/Extensions", "/System/Library/Extensions"];
pub const SYSTEM_EXTENSIONS_DB: &str = "/Library/SystemExtensions/db.plist";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kext {
    /// The bundle (`/Library/Extensions/X.kext`).
    pub bundle_path: String,
    /// Its Info.plist.
    pub path: String,
    pub info: BundleInfo,
}

impl Kext {
    /// `Contents/MacOS/<CFBundleExecutable>`; codeless kexts (plist-only
    /// personalities) have none.
    pub fn executable_path(&self) -> Option<String> {
        self.info.executable.as_ref().map(|e| format!("{}/Contents/MacOS/{e}", self.bundle_path))
    }

    /// Kexts are versioned by CFBundleVersion (kextstat shows it); else the short version.
    pub fn version(&self) -> Option<String> {
        self.info.bundle_version.clone().or_else(|| self.info.short_version.clone())
    }
}

pub fn read_kexts(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<Kext> {
    let mut out = Vec::new();
    for dir in KEXT_DIRS {
        for e in macos::list(root, dir, report) {
            if !e.name.ends_with(".kext") || !macos::is_dir(root, dir, &e, report) {
                continue;
            }
            // Opened by exact names: one that is not UTF-8 is shown with
            // U+FFFD, and that name opens nothing.
            let bundle = e.path_in(dir);
            read_kext(root, &bundle, &mut out, report);
            let plugins = join(&bundle, "Contents/PlugIns");
            for p in macos::list(root, &plugins, report) {
                if p.name.ends_with(".kext") && macos::is_dir(root, &plugins, &p, report) {
                    read_kext(root, &p.path_in(&plugins), &mut out, report);
                }
            }
        }
    }
    out
}

fn read_kext(root: &Root, bundle: &OsStr, out: &mut Vec<Kext>, report: &mut dyn FnMut(FsError)) {
    match macos_apps::read_bundle(root, bundle) {
        Ok(Some((path, info))) => out.push(Kext { bundle_path: lossy(bundle), path, info }),
        Ok(None) => {}
        Err(e) => report(e),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemExtension {
    pub identifier: String,
    pub team_id: Option<String>,
    /// sysextd's state word: `activated_enabled`, `activated_disabled`,
    /// `activated_waiting_for_user`, `terminated_waiting_to_uninstall_on_reboot`, ...
    pub state: Option<String>,
    pub short_version: Option<String>,
    pub bundle_version: Option<String>,
    pub categories: Vec<String>,
    /// The bundle inside the app that installed it.
    pub origin_path: Option<String>,
    /// The copy sysextd runs, from `stagedBundleURL` (a `file://` URL).
    pub staged_path: Option<String>,
}

impl SystemExtension {
    pub fn version(&self) -> Option<String> {
        self.short_version.clone().or_else(|| self.bundle_version.clone())
    }

    pub fn is_enabled(&self) -> bool {
        self.state.as_deref() == Some("activated_enabled")
    }
}

/// The extensions of `db.plist`. A record without an identifier is reported and skipped.
pub fn read_system_extensions(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<SystemExtension> {
    let path = SYSTEM_EXTENSIONS_DB;
    let d = match plist::read_dict_if_present(root, path) {
        Ok(Some(d)) => d,
        Ok(None) => return Vec::new(),
        Err(e) => {
            report(e);
            return Vec::new();
        }
    };
    let Some(list) = d.get("extensions").and_then(plist::Value::as_array) else {
        report(FsError::parse(path, "no `extensions` array"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let Some(e) = v.as_dictionary() else {
            report(FsError::parse(path, format!("extensions[{i}] is {}, not a dictionary", plist::kind(v))));
            continue;
        };
        let Some(identifier) = plist::string(e, "identifier") else {
            report(FsError::parse(path, format!("extensions[{i}] has no identifier")));
            continue;
        };
        let bv = plist::dict(e, "bundleVersion");
        out.push(SystemExtension {
            identifier,
            team_id: plist::string(e, "teamID"),
            state: plist::string(e, "state"),
            short_version: bv.and_then(|b| plist::text(b, "CFBundleShortVersionString")),
            bundle_version: bv.and_then(|b| plist::text(b, "CFBundleVersion")),
            categories: plist::strings(e, "categories"),
            origin_path: plist::string(e, "originPath"),
            staged_path: plist::dict(e, "stagedBundleURL")
                .and_then(|u| plist::string(u, "relative"))
                .and_then(|u| u.strip_prefix("file://").map(|p| percent_decoded(p.trim_end_matches('/')))),
        });
    }
    out
}

/// A URL path with `%XX` escapes decoded (`Kaspersky%20Lab`); a bad escape
/// is kept as written, and bytes that are not UTF-8 become U+FFFD.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn staged_urls_are_decoded() {
        assert_eq!(super::percent_decoded("/Library/A%20B/%41%zz%"), "/Library/A B/A%zz%");
        assert_eq!(super::percent_decoded("%2"), "%2");
    }

    /// A kext, or a kext in its PlugIns, whose name is not UTF-8 was looked
    /// up by its shown (U+FFFD) name and dropped without a word.
    #[test]
    fn kexts_named_in_bytes_that_are_not_utf8_are_listed() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let d = tempfile::tempdir().unwrap();
        let kexts: [(&[u8], &str); 3] = [
            (b"Library/Extensions/klif\xff.kext", "com.kaspersky.kext.klif"),
            (b"Library/Extensions/klif\xff.kext/Contents/PlugIns/kl\xfeflt.kext", "com.kaspersky.kext.flt"),
            (b"System/Library/Extensions/Plain.kext/Contents/PlugIns/in\xff.kext", "com.example.inner"),
        ];
        for (rel, id) in kexts {
            let contents = d.path().join(OsStr::from_bytes(rel)).join("Contents");
            std::fs::create_dir_all(&contents).unwrap();
            let xml = format!(
                "<plist><dict><key>CFBundleIdentifier</key><string>{id}</string>\
                 <key>CFBundleExecutable</key><string>x</string></dict></plist>"
            );
            std::fs::write(contents.join("Info.plist"), xml).unwrap();
        }
        let root = crate::Root::new(d.path()).unwrap();
        let mut errors = Vec::new();
        let kexts = super::read_kexts(&root, &mut |e| errors.push(e));
        // Plain.kext has no Info.plist of its own: a half-removed bundle, skipped.
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> =
            kexts.iter().map(|k| (k.bundle_path.as_str(), k.path.as_str(), k.info.identifier.as_deref())).collect();
        assert_eq!(
            got,
            [
                (
                    "/Library/Extensions/klif\u{fffd}.kext",
                    "/Library/Extensions/klif\u{fffd}.kext/Contents/Info.plist",
                    Some("com.kaspersky.kext.klif")
                ),
                (
                    "/Library/Extensions/klif\u{fffd}.kext/Contents/PlugIns/kl\u{fffd}flt.kext",
                    "/Library/Extensions/klif\u{fffd}.kext/Contents/PlugIns/kl\u{fffd}flt.kext/Contents/Info.plist",
                    Some("com.kaspersky.kext.flt")
                ),
                (
                    "/System/Library/Extensions/Plain.kext/Contents/PlugIns/in\u{fffd}.kext",
                    "/System/Library/Extensions/Plain.kext/Contents/PlugIns/in\u{fffd}.kext/Contents/Info.plist",
                    Some("com.example.inner")
                ),
            ]
        );
        assert_eq!(
            kexts[0].executable_path().as_deref(),
            Some("/Library/Extensions/klif\u{fffd}.kext/Contents/MacOS/x")
        );
    }
}
