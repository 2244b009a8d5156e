//! What the macOS sources share: listing a directory of a root, the users'
//! home folders, and user ids from the local directory service.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use crate::collectors::plist;
use crate::error::{ErrorKind, FsError};
use crate::root::{DirEntry, EntryType, Root};

/// `dir`'s entries; an absent directory is empty, other problems are
/// reported, and so is a link to nowhere on its way (`/Library/LaunchDaemons`
/// pointing out of the root hides every job in it).
pub fn list(root: &Root, dir: &(impl AsRef<OsStr> + ?Sized), report: &mut dyn FnMut(FsError)) -> Vec<DirEntry> {
    match root.read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind == ErrorKind::NotFound => {
            root.dangling(dir).into_iter().for_each(report);
            Vec::new()
        }
        Err(e) => {
            report(e);
            Vec::new()
        }
    }
}

/// Whether an entry is a directory, following a symlink inside the root
/// (`/Applications/Safari.app` is a link into the cryptex on macOS 13+). A
/// link that leads nowhere inside the root, or loops, is reported: it may
/// name a bundle or a home, which is then not read.
pub fn is_dir(root: &Root, dir: &(impl AsRef<OsStr> + ?Sized), e: &DirEntry, report: &mut dyn FnMut(FsError)) -> bool {
    match e.entry_type {
        EntryType::Dir => true,
        EntryType::Symlink => {
            // The exact name: a lossy one (U+FFFD) would name no entry.
            let path = e.path_in(dir);
            match root.resolve(&path) {
                Ok(r) => r.metadata.is_dir(),
                Err(err) if err.kind == ErrorKind::NotFound => {
                    root.dangling(&path).into_iter().for_each(report);
                    false
                }
                Err(err) => {
                    report(err);
                    false
                }
            }
        }
        _ => false,
    }
}

/// The folders under `/Users` that are homes: not `Shared`, not hidden.
/// Each as (user name as shown, exact home path: a folder whose name is not
/// UTF-8 is a home too, and its lossy name would open nothing).
pub fn homes(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<(String, OsString)> {
    list(root, "/Users", report)
        .into_iter()
        .filter(|e| e.name != "Shared" && !e.name.starts_with('.') && is_dir(root, "/Users", e, report))
        .map(|e| {
            let home = e.path_in("/Users");
            (e.name, home)
        })
        .collect()
}

/// The homes of a macOS root, listed once per scan for every table that
/// reads them (apps, launch agents, keychains): `ctx.shared::<Homes>()`,
/// with the problems met listing them.
pub struct Homes(pub Vec<(String, OsString)>, pub Vec<FsError>);

/// The local directory service's user records.
pub const DSLOCAL_USERS: &str = "/var/db/dslocal/nodes/Default/users";

/// User name → uid, from the local directory service's user records
/// (`name` and `uid` are arrays of strings there). Records that do not say
/// are skipped; unreadable ones are reported.
pub fn uids(root: &Root, report: &mut dyn FnMut(FsError)) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for e in list(root, DSLOCAL_USERS, report) {
        if !e.name.ends_with(".plist") {
            continue;
        }
        // The exact name: a lossy one (U+FFFD) would name no record.
        match plist::read_dict(root, &e.path_in(DSLOCAL_USERS)) {
            Ok(d) => {
                let name = plist::strings(&d, "name").into_iter().next();
                let uid = plist::strings(&d, "uid").into_iter().next().and_then(|u| u.parse().ok());
                if let (Some(name), Some(uid)) = (name, uid) {
                    out.insert(name, uid);
                }
            }
            Err(err) => report(err),
        }
    }
    out
}
