//! Homebrew: formulae are kegs `Cellar/<name>/<version>/`, casks
//! `Caskroom/<name>/<version>/`, under the prefix of each installation
//! (`/opt/homebrew` on Apple silicon, `/usr/local` on Intel, and Linuxbrew's
//! `/home/linuxbrew/.linuxbrew`). A formula may have several versions
//! installed; each is a keg. `INSTALL_RECEIPT.json` in a keg says when it
//! was poured.

use std::ffi::OsStr;

use crate::collectors::macos;
use crate::error::FsError;
use crate::root::{Root, join, lossy};

pub const PREFIXES: [&str; 3] = ["/opt/homebrew", "/usr/local", "/home/linuxbrew/.linuxbrew"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Formula,
    Cask,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Formula => "formula",
            Kind::Cask => "cask",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keg {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub prefix: &'static str,
    /// The keg's folder.
    pub path: String,
    /// INSTALL_RECEIPT.json's `time` (formulae).
    pub install_time: Option<i64>,
}

pub const RECEIPT_LIMIT: u64 = 1 << 20;

pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<Keg> {
    let mut out = Vec::new();
    for prefix in PREFIXES {
        for (kind, sub) in [(Kind::Formula, "Cellar"), (Kind::Cask, "Caskroom")] {
            let dir = format!("{prefix}/{sub}");
            for name in macos::list(root, &dir, report) {
                if name.name.starts_with('.') || !macos::is_dir(root, &dir, &name, report) {
                    continue;
                }
                // Folders are opened by their exact names: a name that is
                // not UTF-8 is shown with U+FFFD, and that name opens nothing.
                let kegs = name.path_in(&dir);
                for v in macos::list(root, &kegs, report) {
                    // Caskroom/<name>/.metadata holds the cask's recipe, not a version.
                    if v.name.starts_with('.') || !macos::is_dir(root, &kegs, &v, report) {
                        continue;
                    }
                    let keg = v.path_in(&kegs);
                    let install_time = match kind {
                        Kind::Formula => receipt_time(root, &join(&keg, "INSTALL_RECEIPT.json"), report),
                        Kind::Cask => None,
                    };
                    let path = lossy(&keg);
                    out.push(Keg { name: name.name.clone(), version: v.name, kind, prefix, path, install_time });
                }
            }
        }
    }
    out
}

fn receipt_time(root: &Root, path: &OsStr, report: &mut dyn FnMut(FsError)) -> Option<i64> {
    let bytes = match root.read_limited(path, RECEIPT_LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind == crate::ErrorKind::NotFound => {
            if let Some(e) = root.dangling(path) {
                report(e);
            }
            return None;
        }
        Err(e) => {
            report(e);
            return None;
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) => v.get("time").and_then(serde_json::Value::as_i64),
        Err(e) => {
            report(FsError::parse(lossy(path), e.to_string()));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    /// fuzz/regressions/homebrew_receipt/non-utf8-keg-name: a formula or
    /// version folder whose name is not UTF-8 was looked up by its shown
    /// (U+FFFD) name, found empty, and dropped without a word.
    #[test]
    fn kegs_named_in_bytes_that_are_not_utf8_are_listed_with_their_receipt() {
        let d = tempfile::tempdir().unwrap();
        let cellar = d.path().join("opt/homebrew/Cellar");
        for (name, version) in [(&b"open\xffssl"[..], &b"3.3.0"[..]), (b"wget", b"1.\x96"), (b"zlib", b"1.3")] {
            let keg = cellar.join(OsStr::from_bytes(name)).join(OsStr::from_bytes(version));
            std::fs::create_dir_all(&keg).unwrap();
            std::fs::write(keg.join("INSTALL_RECEIPT.json"), br#"{"time": 1713000000}"#).unwrap();
        }
        // A link whose own name is not UTF-8, to a formula folder.
        std::os::unix::fs::symlink("zlib", cellar.join(OsStr::from_bytes(b"z\xfflink"))).unwrap();
        let root = crate::Root::new(d.path()).unwrap();
        let mut errors = Vec::new();
        let kegs = read(&root, &mut |e| errors.push(e));
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = kegs.iter().map(|k| (k.name.as_str(), k.version.as_str(), k.install_time)).collect();
        assert_eq!(
            got,
            [
                ("open\u{fffd}ssl", "3.3.0", Some(1713000000)),
                ("wget", "1.\u{fffd}", Some(1713000000)),
                ("zlib", "1.3", Some(1713000000)),
                ("z\u{fffd}link", "1.3", Some(1713000000)),
            ]
        );
        assert_eq!(kegs[1].path, "/opt/homebrew/Cellar/wget/1.\u{fffd}");
    }
}
