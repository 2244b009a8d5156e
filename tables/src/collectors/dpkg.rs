//! dpkg's database: `var/lib/dpkg/status`, a file of RFC 822-style stanzas,
//! the journal in `var/lib/dpkg/updates/` of records dpkg wrote after it, and
//! the `var/lib/dpkg/status.d/` files distroless images hold instead.
//!
//! The status file is streamed in chunks through a push parser that looks at
//! each byte a bounded number of times, so time is linear and memory flat
//! however many packages a root has and however long a stanza or a line is.
//! Only the fields a row needs are copied out of a stanza.

use std::io::Read;

use crate::collectors::capped::Capped;
use crate::collectors::read_at::read_chunks;
use crate::error::{ErrorKind, FsError};
use crate::root::Root;

pub const STATUS_PATH: &str = "/var/lib/dpkg/status";
pub const UPDATES_DIR: &str = "/var/lib/dpkg/updates";
pub const STATUS_D_DIR: &str = "/var/lib/dpkg/status.d";

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
    /// The third word of `Status`: dpkg's package state. A distroless
    /// `status.d` record has no Status, and its status is the one word
    /// `installed`.
    pub fn state(&self) -> &str {
        let mut words = self.status.split_ascii_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(only), None, _) => only,
            (_, _, third) => third.unwrap_or(""),
        }
    }

    /// dpkg considers a package present when its state is `installed`,
    /// whatever the want (`install`, `hold`, `deinstall`, `purge`).
    pub fn is_installed(&self) -> bool {
        self.state() == "installed"
    }
}

/// The package database as dpkg-query sees it: the status file with the
/// updates journal applied, as dpkg does on opening it after an interrupted
/// run; then the `status.d` files of a distroless image (which dpkg itself
/// never reads) for packages the status file does not have. `each` gets
/// every package present and the file its record is in.
pub fn read_database(
    root: &Root,
    mut each: impl FnMut(Package, &str),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    let status_d = status_d_files(root, STATUS_D_FILES, &mut bad);
    // Only a root with both needs the keys the first part gave.
    let mut seen = std::collections::HashSet::new();
    let mut give = |p: Package, file: &str| {
        if !status_d.is_empty() {
            seen.insert((p.name.clone(), p.architecture.clone()));
        }
        each(p, file)
    };
    let mut updates = read_updates(root, &mut bad);
    let result = read_records(
        root,
        STATUS_PATH,
        Kind::Status,
        |p| match updates.take(&p) {
            Some(Some((newer, file))) if newer.state() != "not-installed" => give(newer, &file),
            // Not installed, or a second stanza of a package whose journal
            // record was already given.
            Some(_) => {}
            None if p.state() != "not-installed" => give(p, STATUS_PATH),
            None => {}
        },
        &mut bad,
    );
    // Records of packages the status file does not have yet.
    for (p, file) in updates.rest() {
        if p.state() != "not-installed" {
            give(p, &file);
        }
    }
    for file_name in &status_d {
        let path = crate::root::lossy(file_name);
        let r = read_records(
            root,
            file_name,
            Kind::StatusD,
            |p| {
                if p.state() != "not-installed" && !seen.contains(&(p.name.clone(), p.architecture.clone())) {
                    each(p, &path)
                }
            },
            &mut bad,
        );
        if let Err(e) = r {
            bad(e);
        }
    }
    // A distroless image has status.d and no status file.
    match result {
        Err(e) if e.kind == ErrorKind::NotFound && !status_d.is_empty() => Ok(()),
        r => r,
    }
}

/// The record files of `status.d`, sorted by name. Distroless images write
/// one file per package, named for it, beside its `<name>.md5sums`; the
/// md5sums and hidden files are not records.
fn status_d_files(root: &Root, most: usize, bad: &mut impl FnMut(FsError)) -> Vec<std::ffi::OsString> {
    let list = match root.read_dir(STATUS_D_DIR) {
        Ok(list) => list,
        Err(e) if e.kind == ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            bad(e);
            return Vec::new();
        }
    };
    // By exact name: one that is not UTF-8 (a lossy U+FFFD name would name
    // no file) may still hold a package.
    let mut files: Vec<std::ffi::OsString> = list
        .into_iter()
        .filter(|e| !e.name.starts_with('.') && !e.name.ends_with(".md5sums"))
        .map(|e| e.path_in(STATUS_D_DIR))
        .collect();
    files.sort();
    if files.len() > most {
        bad(FsError::new(
            ErrorKind::TooLarge,
            STATUS_D_DIR,
            format!("{} record files, more than the limit of {most}; the first {most} by name are read", files.len()),
        ));
        files.truncate(most);
    }
    files
}

/// The most `status.d` files read; a distroless image has tens.
pub const STATUS_D_FILES: usize = 100_000;

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

    /// The journal's record for `p`'s package: `None` when it has none,
    /// `Some(None)` when that record was taken already.
    fn take(&mut self, p: &Package) -> Option<Option<(Package, String)>> {
        if self.by_key.is_empty() {
            return None;
        }
        let i = *self.by_key.get(&(p.name.clone(), p.architecture.clone()))?;
        Some(self.records[i].take())
    }

    fn rest(self) -> impl Iterator<Item = (Package, String)> {
        self.records.into_iter().flatten()
    }
}

/// `updates/NNNN` files in numeric order, as dpkg replays them; names that
/// are not all digits (dpkg's own `tmp.i`) are not records. dpkg refuses
/// the whole database when a name is longer than [`JOURNAL_NAME_MAX`] digits
/// or two names differ in length; a scan reports that and goes on (the
/// overlong names skipped, the others applied in numeric order).
fn read_updates(root: &Root, bad: &mut impl FnMut(FsError)) -> Updates {
    let mut updates = Updates::default();
    let list = match root.read_dir(UPDATES_DIR) {
        Ok(list) => list,
        Err(e) if e.kind == ErrorKind::NotFound => return updates,
        Err(e) => {
            bad(e);
            return updates;
        }
    };
    let mut files: Vec<(u64, String)> = Vec::new();
    for e in list {
        if e.name.is_empty() || !e.name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if e.name.len() > JOURNAL_NAME_MAX {
            bad(FsError::parse(
                format!("{UPDATES_DIR}/{}", e.name),
                format!(
                    "journal file name is longer than dpkg's {JOURNAL_NAME_MAX} digits (dpkg refuses the database); not applied"
                ),
            ));
            continue;
        }
        if let Ok(n) = e.name.parse() {
            files.push((n, e.name));
        }
    }
    files.sort();
    if let (Some(a), Some(b)) = (files.iter().map(|f| f.1.len()).min(), files.iter().map(|f| f.1.len()).max())
        && a != b
    {
        bad(FsError::parse(
            UPDATES_DIR,
            format!(
                "journal file names of different lengths ({a} and {b} digits; dpkg refuses the database); applied in numeric order"
            ),
        ));
    }
    for (_, name) in files {
        let path = format!("{UPDATES_DIR}/{name}");
        let file = path.clone();
        if let Err(e) = read_records(root, &path, Kind::Journal, |p| updates.add(p, &file), &mut *bad) {
            bad(e);
        }
    }
    updates
}

/// dpkg's `IMPORTANTMAXLEN`.
pub const JOURNAL_NAME_MAX: usize = 10;

/// Which file a stanza comes from: each is checked as its reader checks it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    /// The status file: read leniently, since a record dpkg would refuse is
    /// still evidence of what was installed.
    #[default]
    Status,
    /// A journal record: checked as dpkg checks it (a final newline, a
    /// Status of dpkg's words, a Version where dpkg requires one), because a
    /// record dpkg would refuse must not replace the good one before it.
    Journal,
    /// A distroless `status.d` file: control stanzas, usually without Status.
    StatusD,
}

/// Every valid record of a status-format file (the status file or a
/// journal record), `not-installed` ones too. Bad stanzas are reported
/// through `bad` (one error each, up to [`BAD_STANZA_ROWS`]) and skipped. A file longer than
/// [`STATUS_LIMIT`] is read up to the limit, its records given, and reported
/// as `too_large`.
fn read_records(
    root: &Root,
    file_name: &(impl AsRef<std::ffi::OsStr> + ?Sized),
    kind: Kind,
    mut each: impl FnMut(Package),
    mut bad: impl FnMut(FsError),
) -> Result<(), FsError> {
    // Opened by its exact name; rows and messages show it lossily.
    let (file, resolved) = root.open_capped(file_name, STATUS_LIMIT)?;
    let shown = crate::root::lossy(file_name.as_ref());
    let path = shown.as_str();
    if resolved.metadata.len() > STATUS_LIMIT {
        bad(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!(
                "{} bytes is more than the {STATUS_LIMIT}-byte limit; only the records in the first {STATUS_LIMIT} bytes are read",
                resolved.metadata.len()
            ),
        ));
    }
    let mut file = file.take(STATUS_LIMIT);
    let mut parser = StanzaParser { kind, ..Default::default() };
    let mut bad = Capped::new(path, BAD_STANZA_ROWS, "bad stanzas", bad);
    let mut emit = |no: usize, r: Result<Package, String>| match r {
        Ok(p) => each(p),
        Err(msg) => bad.push(FsError::parse(path, format!("stanza {no}: {msg}"))),
    };
    let read = read_chunks(&mut file, CHUNK, |bytes| parser.feed(bytes, &mut emit)).map_err(|e| FsError::io(path, &e));
    if read.is_ok() {
        parser.finish(&mut emit);
    }
    // A file that grew past the limit after it was measured.
    let grew = resolved.metadata.len() <= STATUS_LIMIT && file.limit() == 0;
    if read.is_ok() && grew && file.into_inner().read(&mut [0]).is_ok_and(|n| n > 0) {
        bad.push(FsError::new(
            ErrorKind::TooLarge,
            path,
            format!(
                "more than the {STATUS_LIMIT}-byte limit; only the records in the first {STATUS_LIMIT} bytes are read"
            ),
        ));
    }
    bad.finish();
    read
}

const CHUNK: usize = 256 * 1024;

/// Bad stanzas reported one by one per file; the rest are counted in one row.
pub const BAD_STANZA_ROWS: usize = 1000;

/// Where a status file stops being read. A real one is a few MB; a distro
/// of 100,000 packages writes about 100 MB. Parsing is streamed and linear,
/// so this bounds only the time a hostile (or sparse) file can take.
pub const STATUS_LIMIT: u64 = 1 << 30;

/// The longest value of a field a row keeps (`Package`, `Version`, …),
/// leading and trailing blanks aside; a longer one makes its stanza an error.
pub const VALUE_LIMIT: usize = 1 << 20;

/// The fields a row needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Package,
    Status,
    Version,
    Architecture,
    Maintainer,
    InstalledSize,
}

impl Field {
    fn of(key: &[u8]) -> Option<Field> {
        Some(match key {
            b"Package" => Field::Package,
            b"Status" => Field::Status,
            b"Version" => Field::Version,
            b"Architecture" => Field::Architecture,
            b"Maintainer" => Field::Maintainer,
            b"Installed-Size" => Field::InstalledSize,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Field::Package => "Package",
            Field::Status => "Status",
            Field::Version => "Version",
            Field::Architecture => "Architecture",
            Field::Maintainer => "Maintainer",
            Field::InstalledSize => "Installed-Size",
        }
    }
}

/// Where the parser is within a line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum At {
    #[default]
    LineStart,
    /// In a field name, before its colon.
    Key,
    /// In the value of a field that is kept.
    Value(Field),
    /// In a line whose rest does not matter.
    Skip,
}

/// Longest field name kept in full; longer ones are no field a row needs,
/// and this much is enough to quote in a message.
const KEY_KEEP: usize = 40;

/// A push parser of status-format stanzas: bytes go in as they are read, in
/// chunks of any size, and each byte is looked at a bounded number of times.
/// Only the fields a row needs are copied, each up to [`VALUE_LIMIT`], so
/// memory stays flat whatever the length of a stanza or a line.
#[derive(Default)]
struct StanzaParser {
    at: At,
    /// The start of the current line's field name, up to [`KEY_KEEP`] bytes.
    key: Vec<u8>,
    key_len: usize,
    value: Vec<u8>,
    /// Non-blank bytes were met past [`VALUE_LIMIT`] in `value`.
    value_overflow: bool,
    /// The stanza has a line (blank lines between stanzas do not count).
    started: bool,
    /// The first problem of the stanza; the rest of it is only skipped.
    error: Option<String>,
    package: Package,
    name: Option<String>,
    status: Option<String>,
    stanza_no: usize,
    kind: Kind,
    /// The last byte fed: dpkg ends every line it writes with a newline.
    last: Option<u8>,
}

impl StanzaParser {
    fn feed(&mut self, mut data: &[u8], emit: &mut impl FnMut(usize, Result<Package, String>)) {
        if let Some(&b) = data.last() {
            self.last = Some(b);
        }
        while let Some(&first) = data.first() {
            match self.at {
                At::LineStart => {
                    if first == b'\n' {
                        self.end_stanza(emit);
                        data = &data[1..];
                        continue;
                    }
                    self.started = true;
                    // A continuation line belongs to a multi-line field no row needs.
                    self.at = if self.error.is_some() || first == b' ' || first == b'\t' { At::Skip } else { At::Key };
                    self.key.clear();
                    self.key_len = 0;
                }
                At::Key => match memchr::memchr2(b':', b'\n', data) {
                    Some(i) => {
                        self.push_key(&data[..i]);
                        if data[i] == b':' {
                            self.at = match self.key_len <= KEY_KEEP {
                                true => Field::of(&self.key).map_or(At::Skip, At::Value),
                                false => At::Skip,
                            };
                            self.value.clear();
                            self.value_overflow = false;
                        } else {
                            self.no_field_name();
                            self.at = At::LineStart;
                        }
                        data = &data[i + 1..];
                    }
                    None => {
                        self.push_key(data);
                        data = &[];
                    }
                },
                At::Value(field) => {
                    let (part, rest, done) = match memchr::memchr(b'\n', data) {
                        Some(i) => (&data[..i], &data[i + 1..], true),
                        None => (data, &data[data.len()..], false),
                    };
                    self.push_value(part);
                    data = rest;
                    if done {
                        self.set(field);
                        self.at = At::LineStart;
                    }
                }
                At::Skip => match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        data = &data[i + 1..];
                        self.at = At::LineStart;
                    }
                    None => data = &[],
                },
            }
        }
    }

    /// The end of the input: its last line need not end in a newline.
    fn finish(&mut self, emit: &mut impl FnMut(usize, Result<Package, String>)) {
        // dpkg-query refuses such a record ("missing final newline"): its
        // last value may be cut anywhere.
        if self.kind == Kind::Journal && self.started && self.last != Some(b'\n') && self.error.is_none() {
            self.error = Some("the record ends without a final newline: it was cut short".into());
        }
        match self.at {
            At::Key => self.no_field_name(),
            At::Value(field) => self.set(field),
            At::LineStart | At::Skip => {}
        }
        self.at = At::LineStart;
        self.end_stanza(emit);
    }

    fn push_key(&mut self, part: &[u8]) {
        let room = KEY_KEEP.saturating_sub(self.key.len());
        self.key.extend_from_slice(&part[..part.len().min(room)]);
        self.key_len += part.len();
    }

    fn no_field_name(&mut self) {
        if self.error.is_none() {
            self.error = Some(format!("line without a field name: {:?}", String::from_utf8_lossy(&self.key)));
        }
    }

    fn push_value(&mut self, mut part: &[u8]) {
        if self.value.is_empty() {
            // Leading blanks are trimmed anyway; they do not count.
            let lead = part.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(part.len());
            part = &part[lead..];
        }
        let room = VALUE_LIMIT.saturating_sub(self.value.len());
        let (kept, over) = part.split_at(part.len().min(room));
        self.value.extend_from_slice(kept);
        if !self.value_overflow && over.iter().any(|c| !c.is_ascii_whitespace()) {
            self.value_overflow = true;
        }
    }

    fn set(&mut self, field: Field) {
        if self.value_overflow {
            if self.error.is_none() {
                self.error = Some(format!("{} field is longer than {VALUE_LIMIT} bytes", field.name()));
            }
            return;
        }
        let value = text(trim(&self.value));
        match field {
            Field::Package => self.name = Some(value),
            Field::Status => self.status = Some(value),
            Field::Version => self.package.version = Some(value),
            Field::Architecture => self.package.architecture = Some(value),
            Field::Maintainer => self.package.maintainer = Some(value),
            Field::InstalledSize => self.package.installed_size_kib = value.parse().ok(),
        }
    }

    fn end_stanza(&mut self, emit: &mut impl FnMut(usize, Result<Package, String>)) {
        if !self.started {
            return;
        }
        self.stanza_no += 1;
        let package = std::mem::take(&mut self.package);
        let (name, status) = (self.name.take(), self.status.take());
        let result = match self.error.take() {
            Some(e) => Err(e),
            None => finish_record(package, name, status, self.kind),
        };
        self.started = false;
        emit(self.stanza_no, result);
    }
}

fn finish_record(mut p: Package, name: Option<String>, status: Option<String>, kind: Kind) -> Result<Package, String> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err("no Package field".into());
    };
    // distroless writes a package's control stanza, which has no Status,
    // when it puts the package into the image: the file is its only record
    // that the package is there, so the package is installed (syft and
    // trivy read these files so too). dpkg, which never reads status.d,
    // would take a missing Status as not-installed — in the status file
    // such a stanza stays an error row, as before.
    let status = match (status, kind) {
        (Some(s), _) => s,
        (None, Kind::StatusD) => {
            p.name = name;
            p.status = "installed".into();
            return Ok(p);
        }
        (None, _) => return Err(format!("package {name} has no Status field")),
    };
    p.name = name;
    p.status = status;
    let words: Vec<&str> = p.status.split_ascii_whitespace().collect();
    if words.len() != 3 {
        return Err(format!("package {}: Status {:?} is not three words", p.name, p.status));
    }
    if kind == Kind::Journal {
        // The checks of dpkg's parser (lib/dpkg/parse.c) that a record cut
        // short at a line's end would fail.
        let known = WANTS.contains(&words[0]) && EFLAGS.contains(&words[1]) && STATES.contains(&words[2]);
        if !known {
            return Err(format!("package {}: Status {:?} is not dpkg's words", p.name, p.status));
        }
        if p.version.is_none() && !matches!(words[2], "not-installed" | "half-installed") {
            return Err(format!("package {}: no Version field, which dpkg requires in state {}", p.name, words[2]));
        }
    }
    Ok(p)
}

/// dpkg's Status vocabulary (lib/dpkg/pkg-namevalue.c).
const WANTS: [&str; 5] = ["unknown", "install", "hold", "deinstall", "purge"];
const EFLAGS: [&str; 2] = ["ok", "reinstreq"];
const STATES: [&str; 8] = [
    "not-installed",
    "config-files",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaited",
    "triggers-pending",
    "installed",
];

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end]
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "Package: zlib1g\nStatus: install ok installed\nPriority: required\nInstalled-Size: 168\nMaintainer: Mark Brown <broonie@debian.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\nDescription: compression library - runtime\n zlib is a library implementing the deflate compression method found\n in gzip and PKZIP.\n\nPackage: old-thing\nStatus: deinstall ok config-files\nVersion: 2.0\nArchitecture: all\n";

    /// Every record of `data`, fed to the parser `chunk` bytes at a time.
    fn parse_all(data: &[u8], chunk: usize) -> Vec<Result<Package, String>> {
        let mut out = Vec::new();
        let mut parser = StanzaParser::default();
        for part in data.chunks(chunk) {
            parser.feed(part, &mut |_, r| out.push(r));
        }
        parser.finish(&mut |_, r| out.push(r));
        out
    }

    /// The cap on `status.d` files is a too_large row naming the directory
    /// and the limit, and the files before it are still read (100,000 real
    /// files would make the test slow, so the cap is passed in).
    #[test]
    fn status_d_files_past_the_limit_are_a_row_not_a_silent_cut() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("var/lib/dpkg/status.d");
        std::fs::create_dir_all(&d).unwrap();
        for name in ["a", "b", "c", "d", "d.md5sums"] {
            std::fs::write(d.join(name), format!("Package: {name}\nStatus: install ok installed\nVersion: 1\n"))
                .unwrap();
        }
        let root = Root::new(dir.path()).unwrap();
        let mut errors = Vec::new();
        let files = status_d_files(&root, 3, &mut |e| errors.push(e));
        assert_eq!(
            files,
            ["/var/lib/dpkg/status.d/a", "/var/lib/dpkg/status.d/b", "/var/lib/dpkg/status.d/c"]
                .map(std::ffi::OsString::from)
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].kind, errors[0].path.as_str()), (ErrorKind::TooLarge, STATUS_D_DIR));
        assert!(errors[0].message.contains("4 record files") && errors[0].message.contains("limit of 3"), "{errors:?}");
        // Under the cap: no row.
        let mut none = Vec::new();
        assert_eq!(status_d_files(&root, 4, &mut |e| none.push(e)).len(), 4);
        assert!(none.is_empty(), "{none:?}");
    }

    /// A distroless record file whose name is not UTF-8 is read by its
    /// exact name: its lossy name (U+FFFD) names no file, and the package
    /// in it was lost behind a not_found row.
    #[test]
    fn status_d_files_named_in_bytes_that_are_not_utf8_are_read() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("var/lib/dpkg/status.d");
        std::fs::create_dir_all(&d).unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"kesl\xff");
        std::fs::write(d.join(odd), "Package: kesl\nStatus: install ok installed\nVersion: 11.1\n").unwrap();
        std::fs::write(d.join("bash"), "Package: bash\nStatus: install ok installed\nVersion: 5.2\n").unwrap();
        let root = Root::new(dir.path()).unwrap();
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        read_database(&root, |p, file| rows.push((p.name, file.to_string())), |e| errors.push(e)).unwrap();
        rows.sort();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            rows,
            [
                ("bash".to_string(), "/var/lib/dpkg/status.d/bash".to_string()),
                ("kesl".to_string(), "/var/lib/dpkg/status.d/kesl\u{fffd}".to_string()),
            ]
        );
    }

    fn status_root(body: &[u8]) -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
        std::fs::write(dir.path().join("var/lib/dpkg/status"), body).unwrap();
        let root = Root::new(dir.path()).unwrap();
        (dir, root)
    }

    fn database(root: &Root) -> (Vec<Package>, Vec<FsError>) {
        let (mut pkgs, mut errors) = (Vec::new(), Vec::new());
        read_database(root, |p, _| pkgs.push(p), |e| errors.push(e)).unwrap();
        (pkgs, errors)
    }

    #[test]
    fn stanzas_keep_dpkg_semantics() {
        let pkgs: Vec<Package> = parse_all(TWO.as_bytes(), CHUNK).into_iter().map(|r| r.unwrap()).collect();
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
        let (_dir, root) = status_root(
            b"Package: a\nStatus: hold ok installed\n\nPackage: b\nStatus: purge ok not-installed\n\n\
              Package: c\nStatus: install reinstreq half-installed\n",
        );
        let (pkgs, errors) = database(&root);
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> = pkgs.iter().map(|p| (p.name.as_str(), p.state(), p.is_installed())).collect();
        assert_eq!(got, [("a", "installed", true), ("c", "half-installed", false)]);
    }

    /// Found by the dpkg_journal fuzz target's reasoning: a package with two
    /// stanzas in the status file (dpkg merges them) got its journal record
    /// for the first and the stale status record for the second.
    #[test]
    fn a_journal_record_replaces_every_stanza_of_its_package() {
        let (dir, root) = status_root(
            b"Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: a\nStatus: install ok installed\nVersion: 1\n",
        );
        std::fs::create_dir_all(dir.path().join("var/lib/dpkg/updates")).unwrap();
        std::fs::write(
            dir.path().join("var/lib/dpkg/updates/0000"),
            b"Package: a\nStatus: deinstall ok config-files\nVersion: 1\n",
        )
        .unwrap();
        let (pkgs, errors) = database(&root);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(pkgs.iter().map(|p| p.status.as_str()).collect::<Vec<_>>(), ["deinstall ok config-files"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let (_dir, root) = status_root(
            b"\xff\xfe\x00binary\n\nStatus: install ok installed\n\nPackage: x\n\nPackage: x\nStatus: installed\n\n\
              Package: x\nStatus: install ok installed\nInstalled-Size: lots\n",
        );
        let (pkgs, errors) = database(&root);
        assert_eq!(pkgs.len(), 1, "{pkgs:?}");
        assert_eq!((pkgs[0].name.as_str(), pkgs[0].installed_size_kib), ("x", None));
        let got: Vec<_> =
            errors.iter().map(|e| (e.kind, e.path.as_str(), e.message.split(':').next().unwrap())).collect();
        assert_eq!(
            got,
            [
                (ErrorKind::ParseError, STATUS_PATH, "stanza 1"),
                (ErrorKind::ParseError, STATUS_PATH, "stanza 2"),
                (ErrorKind::ParseError, STATUS_PATH, "stanza 3"),
                (ErrorKind::ParseError, STATUS_PATH, "stanza 4"),
            ]
        );
        assert!(errors[1].message.contains("no Package field"), "{errors:?}");
        assert!(errors[2].message.contains("no Status field"), "{errors:?}");
        assert!(errors[3].message.contains("not three words"), "{errors:?}");
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

    #[test]
    fn any_chunking_gives_the_same_records() {
        let text = format!(
            "{TWO}\n\n\nPackage: bad\nno colon here\nStatus: install ok installed\n\n\
             Package: crlf\r\nStatus: install ok installed\r\n\n\
             Package:   spaced  \nStatus:install ok installed\nPackage: renamed\n\
             Installed-Size: 12\n\nStatus: install ok installed\nlast line without colon"
        );
        let whole = parse_all(text.as_bytes(), usize::MAX);
        assert_eq!(whole.len(), 6, "{whole:?}");
        assert_eq!(whole[2].as_ref().unwrap_err(), "line without a field name: \"no colon here\"");
        assert_eq!(whole[3].as_ref().unwrap().name, "crlf");
        assert_eq!(whole[4].as_ref().unwrap().name, "renamed", "the last Package field wins");
        assert_eq!(whole[4].as_ref().unwrap().installed_size_kib, Some(12));
        assert!(whole[5].as_ref().unwrap_err().contains("last line without colon"));
        for chunk in [1, 2, 3, 7, 64] {
            assert_eq!(parse_all(text.as_bytes(), chunk), whole, "chunks of {chunk} bytes");
        }
    }

    /// Found in the security review: the stanza splitter searched the whole
    /// buffered stanza again for each 256 KiB read, so a 128 MB stanza took
    /// 11 s and memory grew with it. Tens of MB of continuation lines (and
    /// one line as long) must parse in one pass, with fields on either side.
    #[test]
    fn a_stanza_of_tens_of_megabytes_parses_in_one_pass() {
        let mut body = b"Package: kesl\nStatus: install ok installed\nDescription: padded\n".to_vec();
        let line = format!(" {}\n", "x".repeat(99));
        body.reserve(64 << 20);
        while body.len() < 48 << 20 {
            body.extend_from_slice(line.as_bytes());
        }
        body.extend_from_slice(b"X-Long: ");
        body.resize(body.len() + (16 << 20), b'y');
        body.extend_from_slice(
            b"\nVersion: 12.1.0-1297\nMaintainer: AO Kaspersky Lab\n\nPackage: next\nStatus: install ok installed\n",
        );
        let (_dir, root) = status_root(&body);
        let started = std::time::Instant::now();
        let (pkgs, errors) = database(&root);
        let took = started.elapsed();
        assert!(errors.is_empty(), "{errors:?}");
        let got: Vec<_> =
            pkgs.iter().map(|p| (p.name.as_str(), p.version.as_deref(), p.maintainer.as_deref())).collect();
        assert_eq!(got, [("kesl", Some("12.1.0-1297"), Some("AO Kaspersky Lab")), ("next", None, None)]);
        // The old parser needed minutes for this in a debug build.
        assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    }

    /// Found in the security review: the status file was the one file read
    /// with no size limit, and a sparse 2 GB one never finished. Reading
    /// stops at the limit with a too_large row, and what came before is kept.
    #[test]
    fn a_sparse_status_file_is_too_large_and_its_records_are_kept() {
        let (dir, root) = status_root(b"Package: kesl\nStatus: install ok installed\nVersion: 1\n\n");
        let status = std::fs::OpenOptions::new().write(true).open(dir.path().join("var/lib/dpkg/status")).unwrap();
        status.set_len(STATUS_LIMIT * 2 + 12345).unwrap();
        let started = std::time::Instant::now();
        let (pkgs, errors) = database(&root);
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
        assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["kesl"]);
        let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [ErrorKind::TooLarge, ErrorKind::ParseError], "{errors:?}");
        assert!(errors[1].message.starts_with("stanza 2: line without a field name"), "{errors:?}");
    }

    #[test]
    fn kept_values_are_bounded_but_blanks_do_not_count() {
        let pad = " ".repeat(VALUE_LIMIT + 10);
        let long = "k".repeat(VALUE_LIMIT + 1);
        let text = format!(
            "Package: a\nStatus: install ok installed\nMaintainer:{pad}AO Kaspersky Lab{pad}\n\n\
             Package: {long}\nStatus: install ok installed\n\nPackage: c\nStatus: install ok installed\n"
        );
        let got = parse_all(text.as_bytes(), 4096);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().unwrap().maintainer.as_deref(), Some("AO Kaspersky Lab"));
        assert_eq!(got[1].as_ref().unwrap_err(), &format!("Package field is longer than {VALUE_LIMIT} bytes"));
        assert_eq!(got[2].as_ref().unwrap().name, "c");
    }

    /// Found in review: each bad stanza was a row, so a status file of
    /// millions of three-byte junk stanzas made millions of rows.
    #[test]
    fn bad_stanza_rows_are_bounded() {
        let mut body = "x\n\n".repeat(BAD_STANZA_ROWS * 3);
        body.push_str("Package: kesl\nStatus: install ok installed\n");
        let (_dir, root) = status_root(body.as_bytes());
        let (pkgs, errors) = database(&root);
        assert_eq!(pkgs.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["kesl"]);
        assert_eq!(errors.len(), BAD_STANZA_ROWS + 1);
        assert_eq!(
            errors[BAD_STANZA_ROWS].message,
            format!("{} more bad stanzas after the first {BAD_STANZA_ROWS}", BAD_STANZA_ROWS * 2)
        );
    }
}
