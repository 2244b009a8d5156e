//! Installer receipts: what `pkgutil --pkgs` lists. macOS 10.6+ keeps one
//! `<package id>.plist` (with a `.bom`) per installed package in
//! `var/db/receipts`; older systems kept receipts in `Library/Receipts`, as
//! such plists or as `.pkg` bundles with an Info.plist.

use crate::collectors::macos_apps;
use crate::collectors::{macos, plist};
use crate::error::FsError;
use crate::root::{Root, lossy};

pub const DIRS: [&str; 2] = ["/var/db/receipts", "/Library/Receipts"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub identifier: String,
    pub version: Option<String>,
    /// InstallDate as Unix seconds.
    pub install_time: Option<i64>,
    /// Where the package was installed, relative to the volume (`/`, `Applications`).
    pub install_prefix: Option<String>,
    pub install_process: Option<String>,
    pub package_file: Option<String>,
    pub path: String,
}

pub fn parse(d: &plist::Dictionary, path: &str) -> Result<Receipt, String> {
    Ok(Receipt {
        identifier: plist::string(d, "PackageIdentifier").ok_or("no PackageIdentifier")?,
        version: plist::text(d, "PackageVersion"),
        install_time: plist::unix_time(d, "InstallDate"),
        install_prefix: plist::string(d, "InstallPrefixPath"),
        install_process: plist::string(d, "InstallProcessName"),
        package_file: plist::string(d, "PackageFileName"),
        path: path.to_string(),
    })
}

pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<Receipt> {
    let mut out = Vec::new();
    for dir in DIRS {
        for e in macos::list(root, dir, report) {
            // Opened by its exact name: one that is not UTF-8 is shown with
            // U+FFFD, and that name opens nothing.
            let exact = e.path_in(dir);
            let path = lossy(&exact);
            // InstallHistory.plist is the Software Update log, not a receipt.
            if e.name.ends_with(".plist") && e.name != "InstallHistory.plist" && !e.name.starts_with('.') {
                match plist::read_dict(root, &exact)
                    .and_then(|d| parse(&d, &path).map_err(|m| FsError::parse(&path, m)))
                {
                    Ok(r) => out.push(r),
                    Err(err) => report(err),
                }
            } else if e.name.ends_with(".pkg") && macos::is_dir(root, dir, &e, report) {
                match macos_apps::read_bundle(root, &exact) {
                    Ok(Some((info_path, info))) => match info.identifier.clone() {
                        Some(identifier) => out.push(Receipt {
                            identifier,
                            version: info.short_version.or(info.bundle_version),
                            install_time: None,
                            install_prefix: None,
                            install_process: None,
                            package_file: Some(e.name.clone()),
                            path: info_path,
                        }),
                        None => report(FsError::parse(info_path, "no CFBundleIdentifier")),
                    },
                    Ok(None) => {}
                    Err(err) => report(err),
                }
            }
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    /// A receipt plist or `.pkg` bundle whose name is not UTF-8 was looked
    /// up by its shown (U+FFFD) name: the plist became a not_found row, the
    /// bundle was dropped without a word.
    #[test]
    fn receipts_named_in_bytes_that_are_not_utf8_are_listed() {
        let d = tempfile::tempdir().unwrap();
        let receipt = |id: &str| {
            format!(
                "<plist><dict><key>PackageIdentifier</key><string>{id}</string>\
                 <key>PackageVersion</key><string>21.3</string></dict></plist>"
            )
        };
        let receipts = d.path().join("var/db/receipts");
        std::fs::create_dir_all(&receipts).unwrap();
        std::fs::write(receipts.join(OsStr::from_bytes(b"com.kaspersky.\xff.plist")), receipt("com.kaspersky.kav"))
            .unwrap();
        let pkg = d.path().join("Library/Receipts").join(OsStr::from_bytes(b"Kaspersky\xfe.pkg")).join("Contents");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(
            pkg.join("Info.plist"),
            "<plist><dict><key>CFBundleIdentifier</key><string>com.kaspersky.pkg</string></dict></plist>",
        )
        .unwrap();
        let root = crate::Root::new(d.path()).unwrap();
        let mut errors = Vec::new();
        let got = super::read(&root, &mut |e| errors.push(e));
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = got
            .iter()
            .map(|r| (r.identifier.as_str(), r.version.as_deref(), r.package_file.as_deref(), r.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("com.kaspersky.kav", Some("21.3"), None, "/var/db/receipts/com.kaspersky.\u{fffd}.plist"),
                (
                    "com.kaspersky.pkg",
                    None,
                    Some("Kaspersky\u{fffd}.pkg"),
                    "/Library/Receipts/Kaspersky\u{fffd}.pkg/Contents/Info.plist"
                ),
            ]
        );
    }
}
