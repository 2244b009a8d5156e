//! dpkg's database: `var/lib/dpkg/status`, a file of RFC 822-style stanzas,
//! and the journal in `var/lib/dpkg/updates/` of records dpkg wrote after it.
//!
//! The status file is streamed in chunks and split at blank lines, so memory
//! stays flat however many packages a root has. Only the fields a row needs
//! are copied out of a stanza.

use std::io::Read;

use memchr::memmem;

use crate::error::FsError;
use crate::root::Root;

pub const STATUS_PATH: &str = "/var/lib/dpkg/status";
pub const UPDATES_DIR: &str = "/var/lib/dpkg/updates";

/// One stanza of the status file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: Option<String>,
    pub architecture: Option<String>,
    pub maintainer: Option<String>,
    /// `Installed-Size`, in KiB as dpkg writes it.
    pub installed_size_kib: Option<i64>,
    /// The whole `Status` value: want, error flag and state.
    pub status: String,
}

impl Package {
    /// The third word of `Status`: dpkg's package state.
    pub fn state(&self) -> &str {
        self.status.split_ascii_whitespace().nth(2).unwrap_or("")
    }

    /// dpkg considers a package present when its state is `installed`,
    /// whatever the want (`install`, `hold`, `deinstall`, `purge`).
    pub fn is_installed(&self) -> bool {
        self.state() == "installed"
    }
}

/// The package database as dpkg-query sees it: the status file with the
/// updates journal applied, as dpkg does on opening it after an interrupted
/// run. `each` gets every package present and the file its record is in.
pub fn read_database(
    root: &Root,
    mut each: impl FnMut(Package, &str),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let mut updates = read_updates(root, &mut bad);
    let result = read_records(
        root,
        STATUS_PATH,
        |p| match updates.take(&p) {
            Some((newer, file)) if newer.state() != "not-installed" => each(newer, &file),
            Some(_) => {}
            None if p.state() != "not-installed" => each(p, STATUS_PATH),
            None => {}
        },
        &mut bad,
    );
    // Records of packages the status file does not have yet.
    for (p, file) in updates.rest() {
        if p.state() != "not-installed" {
            each(p, &file);
        }
    }
    result
}

/// The journal's records by (package, architecture), the last one winning,
/// in the order first seen.
#[derive(Default)]
struct Updates {
    records: Vec<Option<(Package, String)>>,
    by_key: std::collections::HashMap<(String, Option<String>), usize>,
}

impl Updates {
    fn add(&mut self, p: Package, file: &str) {
        let key = (p.name.clone(), p.architecture.clone());
        match self.by_key.get(&key) {
            Some(&i) => self.records[i] = Some((p, file.to_string())),
            None => {
                self.by_key.insert(key, self.records.len());
                self.records.push(Some((p, file.to_string())));
            }
        }
    }

    fn take(&mut self, p: &Package) -> Option<(Package, String)> {
        if self.by_key.is_empty() {
            return None;
        }
        let i = *self.by_key.get(&(p.name.clone(), p.architecture.clone()))?;
        self.records[i].take()
    }

    fn rest(self) -> impl Iterator<Item = (Package, String)> {
        self.records.into_iter().flatten()
    }
}

/// `updates/NNNN` files in numeric order, as dpkg replays them; other names
/// (dpkg's own `tmp.i`) are not records.
fn read_updates(root: &Root, bad: &mut impl FnMut(FsError)) -> Updates {
    let mut updates = Updates::default();
    let list = match root.read_dir(UPDATES_DIR) {
        Ok(list) => list,
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => return updates,
        Err(e) => {
            bad(e);
            return updates;
        }
    };
    let mut files: Vec<(u64, String)> = list
        .into_iter()
        .filter(|e| !e.name.is_empty() && e.name.len() <= 10 && e.name.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|e| Some((e.name.parse().ok()?, e.name)))
        .collect();
    files.sort();
    for (_, name) in files {
        let path = format!("{UPDATES_DIR}/{name}");
        let file = path.clone();
        if let Err(e) = read_records(root, &path, |p| updates.add(p, &file), &mut *bad) {
            bad(e);
        }
    }
    updates
}

/// Every valid record of a status-format file (the status file or a
/// journal record), `not-installed` ones too. Bad stanzas are reported
/// through `bad` (one error each) and skipped.
fn read_records(
    root: &Root,
    path: &str,
    mut each: impl FnMut(Package),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let (mut file, _) = root.open(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut stanza_no = 0usize;
    let mut eof = false;
    while !eof {
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let n = file.read(&mut buf[start..]).map_err(|e| FsError::io(path, &e))?;
        buf.truncate(start + n);
        eof = n == 0;
        // Parse up to the last blank line; keep the tail for the next chunk.
        let cut = if eof { buf.len() } else { last_stanza_end(&buf) };
        for stanza in split_stanzas(&buf[..cut]) {
            stanza_no += 1;
            match parse_record(stanza) {
                Ok(p) => each(p),
                Err(msg) => bad(FsError::parse(path, format!("stanza {stanza_no}: {msg}"))),
            }
        }
        buf.drain(..cut);
    }
    Ok(())
}

const CHUNK: usize = 256 * 1024;

fn last_stanza_end(buf: &[u8]) -> usize {
    memmem::rfind(buf, b"\n\n").map(|i| i + 2).unwrap_or(0)
}

fn split_stanzas(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (stanza, next) = match memmem::find(rest, b"\n\n") {
                Some(i) => (&rest[..i + 1], &rest[i + 2..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            let trimmed = trim_blank_lines(stanza);
            if !trimmed.is_empty() {
                return Some(trimmed);
            }
        }
    })
}

fn trim_blank_lines(mut s: &[u8]) -> &[u8] {
    while let Some(rest) = s.strip_prefix(b"\n") {
        s = rest;
    }
    s
}

/// Parses one stanza. `Ok(None)` is a stanza that is valid but describes no
/// package on the system (state `not-installed`).
pub fn parse_stanza(stanza: &[u8]) -> Result<Option<Package>, String> {
    parse_record(stanza).map(|p| (p.state() != "not-installed").then_some(p))
}

/// Parses one stanza, whatever its state.
fn parse_record(stanza: &[u8]) -> Result<Package, String> {
    let mut p = Package::default();
    let mut name = None;
    let mut status = None;
    for line in stanza.split(|&b| b == b'\n') {
        if line.is_empty() || line[0] == b' ' || line[0] == b'\t' {
            continue; // continuation of a multi-line field
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            return Err(format!("line without a field name: {:?}", preview(line)));
        };
        let key = &line[..colon];
        let value = || text(trim(&line[colon + 1..]));
        match key {
            b"Package" => name = Some(value()),
            b"Status" => status = Some(value()),
            b"Version" => p.version = Some(value()),
            b"Architecture" => p.architecture = Some(value()),
            b"Maintainer" => p.maintainer = Some(value()),
            b"Installed-Size" => p.installed_size_kib = value().parse().ok(),
            _ => {}
        }
    }
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err("no Package field".into());
    };
    let Some(status) = status else {
        return Err(format!("package {name} has no Status field"));
    };
    p.name = name;
    p.status = status;
    if p.status.split_ascii_whitespace().count() != 3 {
        return Err(format!("package {}: Status {:?} is not three words", p.name, p.status));
    }
    Ok(p)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: zlib1g\nStatus: install ok installed\nPriority: required\nInstalled-Size: 168\nMaintainer: Mark Brown <broonie@debian.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\nDescription: compression library - runtime\n zlib is a library implementing the deflate compression method found\n in gzip and PKZIP.\n\nPackage: old-thing\nStatus: deinstall ok config-files\nVersion: 2.0\nArchitecture: all\n";

    #[test]
    fn stanzas_keep_dpkg_semantics() {
        let pkgs: Vec<Package> = split_stanzas(TWO.as_bytes()).map(|s| parse_stanza(s).unwrap().unwrap()).collect();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].name, "zlib1g");
        assert_eq!(pkgs[0].version.as_deref(), Some("1:1.2.13.dfsg-1"));
        assert_eq!(pkgs[0].installed_size_kib, Some(168));
        assert!(pkgs[0].is_installed());
        assert_eq!(pkgs[1].state(), "config-files");
        assert!(!pkgs[1].is_installed());
    }

    #[test]
    fn held_packages_are_installed_and_purged_ones_absent() {
        let held = parse_stanza(b"Package: a\nStatus: hold ok installed\n").unwrap().unwrap();
        assert!(held.is_installed());
        assert_eq!(parse_stanza(b"Package: b\nStatus: purge ok not-installed\n").unwrap(), None);
        let half = parse_stanza(b"Package: c\nStatus: install reinstreq half-installed\n").unwrap().unwrap();
        assert_eq!(half.state(), "half-installed");
        assert!(!half.is_installed());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_stanza(b"\xff\xfe\x00binary").is_err());
        assert!(parse_stanza(b"Status: install ok installed\n").is_err());
        assert!(parse_stanza(b"Package: x\n").is_err());
        assert!(parse_stanza(b"Package: x\nStatus: installed\n").is_err());
        assert!(
            parse_stanza(b"Package: x\nStatus: install ok installed\nInstalled-Size: lots\n")
                .unwrap()
                .unwrap()
                .installed_size_kib
                .is_none()
        );
    }

    #[test]
    fn chunk_boundaries_do_not_split_stanzas() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::new();
        for i in 0..5000 {
            body.push_str(&format!(
                "Package: p{i}\nStatus: install ok installed\nVersion: {i}\nDescription: x\n {}\n\n",
                "y".repeat(i % 300)
            ));
        }
        std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
        std::fs::write(dir.path().join("var/lib/dpkg/status"), body).unwrap();
        let root = Root::new(dir.path()).unwrap();
        let mut names = Vec::new();
        read_database(&root, |p, _| names.push(p.name), |e| panic!("{e}")).unwrap();
        assert_eq!(names.len(), 5000);
        assert_eq!(names[4999], "p4999");
    }
}
