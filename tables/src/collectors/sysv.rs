//! SysV init scripts: `etc/init.d/*` (or Red Hat's `etc/rc.d/init.d/*`),
//! enabled when an `rc?.d/S<NN><name>` link starts them in some runlevel.

use std::collections::HashSet;

use crate::error::{ErrorKind, FsError};
use crate::root::{EntryType, Root, lossy};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitScript {
    pub name: String,
    /// Root-relative path of the script (lossy).
    pub path: String,
    pub enabled: bool,
    /// The LSB header's `Short-Description:`.
    pub description: Option<String>,
}

/// Script directories and the directory holding their `rc?.d` link farms.
const LAYOUTS: [(&str, &str); 2] = [("/etc/init.d", "/etc"), ("/etc/rc.d/init.d", "/etc/rc.d")];
/// The largest init script read for its LSB header; real ones are a few
/// KiB, the header at the top.
pub const SCRIPT_LIMIT: u64 = 1 << 20;
const RUNLEVELS: [&str; 8] = ["0", "1", "2", "3", "4", "5", "6", "S"];

/// Files in init.d that are not services.
fn is_helper(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with(".dpkg-old")
        || name.ends_with(".dpkg-dist")
        || name.ends_with(".dpkg-new")
        || name.ends_with(".rpmnew")
        || name.ends_with(".rpmsave")
        || name.ends_with('~')
        || matches!(name, "README" | "skeleton" | "functions" | "rc" | "rcS" | "halt" | "killall" | "single")
}

/// The script name an `rc?.d` entry starts, if it is a start link.
pub fn started_by(link_name: &str) -> Option<&str> {
    let rest = link_name.strip_prefix('S')?;
    let b = rest.as_bytes();
    if b.len() > 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() { Some(&rest[2..]) } else { None }
}

pub fn read(root: &Root, mut report: impl FnMut(FsError)) -> Vec<InitScript> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for (init_dir, rc_base) in LAYOUTS {
        let list = match root.read_dir(init_dir) {
            Ok(l) => l,
            Err(e) if e.kind == ErrorKind::NotFound => continue,
            Err(e) => {
                report(e);
                continue;
            }
        };
        // Red Hat's /etc/init.d is a link to rc.d/init.d: list it once.
        if let Ok(r) = root.resolve(init_dir)
            && !seen_dirs.insert(r.path)
        {
            continue;
        }
        let mut started = HashSet::new();
        for rl in RUNLEVELS {
            let dir = format!("{rc_base}/rc{rl}.d");
            match root.read_dir(&dir) {
                Ok(entries) => {
                    started.extend(entries.into_iter().filter_map(|e| started_by(&e.name).map(String::from)))
                }
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => report(e),
            }
        }
        for e in list {
            // A FIFO or device is tried too: the root refuses to open it,
            // and that refusal is the row saying it is there.
            if is_helper(&e.name) || e.entry_type == EntryType::Dir {
                continue;
            }
            // Opened by its exact name, which need not be UTF-8; shown lossy.
            let exact = e.path_in(init_dir);
            let path = lossy(&exact);
            let description = match root.read_limited(&exact, SCRIPT_LIMIT) {
                Ok(data) => lsb_description(&data),
                Err(err) => {
                    report(err);
                    if e.entry_type == EntryType::Other {
                        continue;
                    }
                    None
                }
            };
            out.push(InitScript { enabled: started.contains(&e.name), name: e.name, path, description });
        }
    }
    out
}

/// `# Short-Description:` inside the `### BEGIN INIT INFO` block.
pub fn lsb_description(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("### BEGIN INIT INFO") {
            in_block = true;
        } else if l.starts_with("### END INIT INFO") {
            break;
        } else if in_block && let Some(v) = l.strip_prefix("# Short-Description:") {
            return Some(v.trim().to_string()).filter(|s| !s.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_links_name_their_script() {
        assert_eq!(started_by("S01ssh"), Some("ssh"));
        assert_eq!(started_by("K01ssh"), None);
        assert_eq!(started_by("S1x"), None);
        assert_eq!(started_by("README"), None);
    }

    #[test]
    fn lsb_header_gives_the_description() {
        let s =
            b"#!/bin/sh\n### BEGIN INIT INFO\n# Provides: foo\n# Short-Description: Foo daemon\n### END INIT INFO\n";
        assert_eq!(lsb_description(s).as_deref(), Some("Foo daemon"));
        assert_eq!(lsb_description(b"\xff\xfe garbage"), None);
    }
}
