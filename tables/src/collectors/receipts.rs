//! Installer receipts: what `pkgutil --pkgs` lists. macOS 10.6+ keeps one
//! `<package id>.plist` (with a `.bom`) per installed package in
//! `var/db/receipts`; older systems kept receipts in `Library/Receipts`, as
//! such plists or as `.pkg` bundles with an Info.plist.

use crate::collectors::macos_apps;
use crate::collectors::{macos, plist};
use crate::error::FsError;
use crate::root::Root;

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
            let path = format!("{dir}/{}", e.name);
            // InstallHistory.plist is the Software Update log, not a receipt.
            if e.name.ends_with(".plist") && e.name != "InstallHistory.plist" && !e.name.starts_with('.') {
                match plist::read_dict(root, &path).and_then(|d| parse(&d, &path).map_err(|m| FsError::parse(&path, m)))
                {
                    Ok(r) => out.push(r),
                    Err(err) => report(err),
                }
            } else if e.name.ends_with(".pkg") && macos::is_dir(root, dir, &e, report) {
                match macos_apps::read_bundle(root, &path) {
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
