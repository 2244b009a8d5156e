//! Homebrew: formulae are kegs `Cellar/<name>/<version>/`, casks
//! `Caskroom/<name>/<version>/`, under the prefix of each installation
//! (`/opt/homebrew` on Apple silicon, `/usr/local` on Intel, and Linuxbrew's
//! `/home/linuxbrew/.linuxbrew`). A formula may have several versions
//! installed; each is a keg. `INSTALL_RECEIPT.json` in a keg says when it
//! was poured.

use crate::collectors::macos;
use crate::error::FsError;
use crate::root::Root;

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
                let kegs = format!("{dir}/{}", name.name);
                for v in macos::list(root, &kegs, report) {
                    // Caskroom/<name>/.metadata holds the cask's recipe, not a version.
                    if v.name.starts_with('.') || !macos::is_dir(root, &kegs, &v, report) {
                        continue;
                    }
                    let path = format!("{kegs}/{}", v.name);
                    let install_time = match kind {
                        Kind::Formula => receipt_time(root, &format!("{path}/INSTALL_RECEIPT.json"), report),
                        Kind::Cask => None,
                    };
                    out.push(Keg { name: name.name.clone(), version: v.name, kind, prefix, path, install_time });
                }
            }
        }
    }
    out
}

fn receipt_time(root: &Root, path: &str, report: &mut dyn FnMut(FsError)) -> Option<i64> {
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
            report(FsError::parse(path, e.to_string()));
            None
        }
    }
}
