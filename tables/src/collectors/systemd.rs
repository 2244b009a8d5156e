//! systemd unit files, read offline the way `systemctl list-unit-files
//! --root=DIR` reads them (systemd's `unit_file_get_list()` in
//! `src/shared/install.c`, version 252): the unit directories in order of
//! precedence, the first file of a name wins, and the state comes from the
//! file's `[Install]` section plus the symlinks found in the search path.
//!
//! The properties a row needs (`Description=`, `ExecStart=`, `User=`) are read
//! from the same parse, with drop-ins applied the way the service manager
//! applies them. Every file is read at most once; symlink lookups use indexes
//! built once per scan, so the cost is linear in the number of files.

// foldhash: several times faster than SipHash on short unit names, and still
// seeded per process, so a hostile root cannot pick colliding names.
use foldhash::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{ErrorKind, FsError};
use crate::root::{DirEntry, EntryType, Root, join, lossy, rsplit_name};

/// systemd's system unit search path (`lookup_paths_init()`, system scope,
/// with `/lib/systemd/system` as on split-usr builds such as Debian's).
pub const SEARCH_PATH: [&str; 13] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

const PERSISTENT_CONFIG: usize = 4;
const TRANSIENT: usize = 2;
const GENERATORS: [usize; 3] = [3, 8, 12];

/// systemd's `LONG_LINE_MAX`: a longer line makes the whole file unloadable.
pub const LONG_LINE_MAX: usize = 1 << 20;
/// `UNIT_FILE_FOLLOW_SYMLINK_MAX`.
pub const FOLLOW_MAX: usize = 64;
/// Where reading a unit file stops (with a too_large row; what was read
/// still counts). systemd itself reads a file of any size, and parsing is
/// streamed, so this bounds only time: real unit files are a few KiB.
pub const READ_LIMIT: u64 = 256 << 20;

const UNIT_TYPES: [&str; 11] =
    ["service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope"];

/// The state words `systemctl list-unit-files` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Enabled,
    EnabledRuntime,
    Linked,
    LinkedRuntime,
    Alias,
    Masked,
    MaskedRuntime,
    Static,
    Indirect,
    Disabled,
    Generated,
    Transient,
    Bad,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Enabled => "enabled",
            State::EnabledRuntime => "enabled-runtime",
            State::Linked => "linked",
            State::LinkedRuntime => "linked-runtime",
            State::Alias => "alias",
            State::Masked => "masked",
            State::MaskedRuntime => "masked-runtime",
            State::Static => "static",
            State::Indirect => "indirect",
            State::Disabled => "disabled",
            State::Generated => "generated",
            State::Transient => "transient",
            State::Bad => "bad",
        }
    }
}

/// One entry of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFile {
    /// The file name, suffix included.
    pub name: String,
    pub state: State,
    /// Root-relative path of the file that defines the unit (the fragment),
    /// after aliases and links are followed; for a masked unit, the mask.
    pub fragment: Option<String>,
    pub description: Option<String>,
    /// The first `ExecStart=` left after drop-ins, as written.
    pub exec_start: Option<String>,
    pub user: Option<String>,
}

// ---------------------------------------------------------------------------
// Unit names

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Plain,
    Template,
    Instance,
}

fn valid_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_' | b'.' | b'\\')
}

/// `unit_name_is_valid(name, UNIT_NAME_ANY)` with the kind of name it is.
pub fn name_kind(name: &str) -> Option<NameKind> {
    if name.is_empty() || name.len() >= 256 {
        return None;
    }
    let dot = name.rfind('.')?;
    if dot == 0 || !UNIT_TYPES.contains(&&name[dot + 1..]) {
        return None;
    }
    let stem = &name.as_bytes()[..dot];
    match stem.iter().position(|&c| c == b'@') {
        None => stem.iter().all(|&c| valid_char(c)).then_some(NameKind::Plain),
        Some(0) => None,
        Some(at) => {
            if !stem[..at].iter().all(|&c| valid_char(c)) {
                return None;
            }
            let inst = &stem[at + 1..];
            if inst.is_empty() {
                Some(NameKind::Template)
            } else if inst.iter().all(|&c| valid_char(c) || c == b'@') {
                Some(NameKind::Instance)
            } else {
                None
            }
        }
    }
}

fn unit_type(name: &str) -> &str {
    name.rsplit_once('.').map(|(_, t)| t).unwrap_or("")
}

fn type_may_alias(t: &str) -> bool {
    matches!(t, "service" | "socket" | "target" | "device" | "timer" | "path")
}

fn type_may_template(t: &str) -> bool {
    matches!(t, "service" | "socket" | "target" | "timer" | "path")
}

/// `foo@bar.service` → `foo@.service`.
pub fn template_of(name: &str) -> Option<String> {
    if name_kind(name)? != NameKind::Instance {
        return None;
    }
    let at = name.find('@')?;
    let dot = name.rfind('.')?;
    Some(format!("{}{}", &name[..=at], &name[dot..]))
}

fn instance_of(name: &str) -> Option<&str> {
    let at = name.find('@')?;
    let dot = name.rfind('.')?;
    (dot > at + 1).then(|| &name[at + 1..dot])
}

fn replace_instance(template: &str, instance: &str) -> String {
    match (template.find('@'), template.rfind('.')) {
        (Some(at), Some(dot)) if dot > at => format!("{}{}{}", &template[..=at], instance, &template[dot..]),
        _ => template.to_string(),
    }
}

/// `unit_validate_alias_symlink_or_warn()`: whether `src` may be a symlink to
/// a unit called `dst` inside the search path.
fn alias_is_valid(src: &str, dst: &str) -> bool {
    let Some(src_kind) = name_kind(src) else { return false };
    let src_type = unit_type(src);
    if !type_may_alias(src_type) || (src_kind != NameKind::Plain && !type_may_template(src_type)) {
        return false;
    }
    if src == dst {
        return false; // a self-alias
    }
    let Some(dst_kind) = name_kind(dst) else { return false };
    if !(dst_kind == src_kind || (src_kind == NameKind::Instance && dst_kind == NameKind::Template)) {
        return false;
    }
    if dst_kind == NameKind::Instance && instance_of(src) != instance_of(dst) {
        return false;
    }
    unit_type(dst) == src_type
}

// ---------------------------------------------------------------------------
// Unit file syntax

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Alias,
    WantedBy,
    RequiredBy,
    DefaultInstance,
    Also,
    Description,
    ExecStart,
    User,
}

fn key_of(section: &str, key: &str) -> Option<Key> {
    Some(match (section, key) {
        ("Install", "Alias") => Key::Alias,
        ("Install", "WantedBy") => Key::WantedBy,
        ("Install", "RequiredBy") => Key::RequiredBy,
        ("Install", "DefaultInstance") => Key::DefaultInstance,
        ("Install", "Also") => Key::Also,
        ("Unit", "Description") => Key::Description,
        ("Service", "ExecStart") => Key::ExecStart,
        ("Service", "User") => Key::User,
        _ => return None,
    })
}

/// The `[Install]` settings one file may hold; a real unit has a handful.
/// More are ignored, with a too_large row.
pub const MAX_INSTALL_SETTINGS: usize = 10_000;

/// The assignments of one file that embargo uses. Memory is bounded
/// whatever the file repeats: of `Description=` and `User=` only the last
/// value matters, of `ExecStart=` whether it was reset and the first value
/// after the last reset, and the `[Install]` lists are capped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// An empty regular file masks its unit.
    pub empty: bool,
    /// Why systemd's parser refuses the file (it lists the unit as `bad`).
    pub fatal: Option<String>,
    description: Option<String>,
    user: Option<String>,
    /// An empty `ExecStart=` was met (it clears the ones before, drop-ins' too).
    exec_reset: bool,
    /// The first `ExecStart=` after the last reset.
    exec_first: Option<String>,
    /// `[Install]` assignments, in file order.
    assignments: Vec<(Key, String)>,
    /// `[Install]` assignments past [`MAX_INSTALL_SETTINGS`], ignored.
    pub dropped: usize,
}

impl Parsed {
    fn assign(&mut self, key: Key, v: &str) {
        match key {
            Key::Description => self.description = Some(v.to_string()),
            Key::User => self.user = Some(v.to_string()),
            Key::ExecStart if v.is_empty() => {
                self.exec_reset = true;
                self.exec_first = None;
            }
            Key::ExecStart => {
                self.exec_first.get_or_insert_with(|| v.to_string());
            }
            _ if self.assignments.len() >= MAX_INSTALL_SETTINGS => self.dropped += 1,
            _ => self.assignments.push((key, v.to_string())),
        }
    }
}

/// Parses unit file syntax as systemd's `config_parse()` does: `#`/`;`
/// comment lines, trailing-backslash continuation, a UTF-8 BOM, `[Section]`
/// headers, `Key=Value` with whitespace trimmed. A line of 1 MiB or more, an
/// invalid section header and a line that is not UTF-8 make systemd refuse
/// the whole file; we record that and keep what the other lines say.
pub fn parse(data: &[u8]) -> Parsed {
    let mut parser = UnitParser::default();
    parser.feed(data);
    parser.finish()
}

/// Reads and parses a unit file as it is read, line by line: memory stays
/// within [`LONG_LINE_MAX`] whatever the file's size, as in systemd, which
/// has no limit on a unit file's size. Reading stops after `limit` bytes;
/// the flag says whether there was more. `size` (the file's, if known)
/// sizes the read buffer.
pub fn parse_reader(r: impl std::io::Read, size: u64, limit: u64) -> std::io::Result<(Parsed, bool)> {
    use std::io::Read as _;
    let mut parser = UnitParser::default();
    let mut r = r.take(limit);
    let mut buf = vec![0u8; usize::try_from(size.saturating_add(1)).unwrap_or(usize::MAX).clamp(512, 64 << 10)];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => parser.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let truncated = r.limit() == 0 && r.into_inner().read(&mut [0u8])? > 0;
    Ok((parser.finish(), truncated))
}

/// `config_parse()` as a push parser: bytes in, in chunks of any size.
#[derive(Default)]
struct UnitParser {
    p: Parsed,
    seen_any: bool,
    section: Option<String>,
    continuation: Option<Vec<u8>>,
    first: bool,
    line_no: usize,
    /// The current line so far, up to [`LONG_LINE_MAX`] bytes.
    line: Vec<u8>,
    line_too_long: bool,
    /// The last line ended at `\r`: a `\n` right after it ends nothing.
    after_cr: bool,
}

impl UnitParser {
    /// Lines end at `\n`, `\r\n`, `\r` or NUL, as systemd's `read_line()` has it.
    fn feed(&mut self, mut data: &[u8]) {
        if !self.seen_any && !data.is_empty() {
            self.seen_any = true;
            self.first = true;
        }
        while !data.is_empty() {
            if std::mem::take(&mut self.after_cr) && data[0] == b'\n' {
                data = &data[1..];
                continue;
            }
            let end = memchr::memchr3(b'\n', b'\r', b'\0', data);
            let part = &data[..end.unwrap_or(data.len())];
            if !self.line_too_long {
                let room = LONG_LINE_MAX - self.line.len();
                if part.len() >= room {
                    self.line_too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            let Some(end) = end else { break };
            self.after_cr = data[end] == b'\r';
            data = &data[end + 1..];
            self.end_line();
        }
    }

    fn finish(mut self) -> Parsed {
        if !self.line.is_empty() || self.line_too_long {
            self.end_line();
        }
        if let Some(c) = self.continuation.take() {
            parse_line(&mut self.p, &mut self.section, &c, self.line_no);
        }
        self.p.empty = !self.seen_any;
        self.p
    }

    fn end_line(&mut self) {
        self.line_no += 1;
        let line_no = self.line_no;
        let p = &mut self.p;
        if std::mem::take(&mut self.line_too_long) {
            p.fatal.get_or_insert_with(|| format!("line {line_no} is longer than {LONG_LINE_MAX} bytes"));
            self.continuation = None;
            return;
        }
        let raw = std::mem::take(&mut self.line);
        let lead = trim_start(&raw);
        if matches!(lead.first(), Some(b'#' | b';')) {
            self.line = raw;
            self.line.clear();
            return;
        }
        let mut l = &raw[..];
        if std::mem::take(&mut self.first) {
            l = l.strip_prefix(b"\xef\xbb\xbf").unwrap_or(l);
        }
        let mut text: Vec<u8> = match self.continuation.take() {
            Some(mut c) => {
                c.extend_from_slice(l);
                c
            }
            None => l.to_vec(),
        };
        if ends_escaped(&text) {
            let n = text.len();
            text[n - 1] = b' ';
            if text.len() > LONG_LINE_MAX {
                p.fatal.get_or_insert_with(|| format!("continuation line {line_no} is too long"));
            } else {
                self.continuation = Some(text);
            }
        } else {
            parse_line(p, &mut self.section, &text, line_no);
        }
        // The line buffer is kept for the next line.
        self.line = raw;
        self.line.clear();
    }
}

fn parse_line(p: &mut Parsed, section: &mut Option<String>, line: &[u8], line_no: usize) {
    let l = trim(line);
    if l.is_empty() {
        return;
    }
    let Ok(l) = std::str::from_utf8(l) else {
        p.fatal.get_or_insert_with(|| format!("line {line_no} is not valid UTF-8"));
        return;
    };
    if let Some(rest) = l.strip_prefix('[') {
        match rest.strip_suffix(']') {
            Some(name) => *section = Some(name.to_string()),
            None => {
                p.fatal.get_or_insert_with(|| format!("line {line_no}: invalid section header"));
            }
        }
        return;
    }
    let Some(sec) = section.as_deref() else { return };
    let Some((k, v)) = l.split_once('=') else { return };
    let k = k.trim_matches(is_ws);
    if k.is_empty() {
        return;
    }
    if let Some(key) = key_of(sec, k) {
        p.assign(key, v.trim_matches(is_ws));
    }
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn trim_start(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(b.len());
    &b[i..]
}

fn trim(b: &[u8]) -> &[u8] {
    let b = trim_start(b);
    let j = b.iter().rposition(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r')).map(|j| j + 1).unwrap_or(0);
    &b[..j]
}

/// Whether `b` ends in a backslash that is not itself escaped: an odd run
/// of trailing backslashes (whatever precedes the run leaves no escape
/// pending). Only the run is looked at, so a long continuation, which is
/// checked again after each of its lines, is not scanned again each time.
fn ends_escaped(b: &[u8]) -> bool {
    b.iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1
}

/// Splits a list value into words, honouring quotes (systemd's
/// `extract_first_word(EXTRACT_UNQUOTE)` for the simple cases).
fn words(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The program of an `ExecStart=` value: the first word after systemd's
/// `-@:+!` prefixes.
pub fn exec_program(exec_start: &str) -> Option<String> {
    let s = exec_start.trim_start_matches(['-', '@', ':', '+', '!']);
    words(s).into_iter().next().filter(|w| !w.is_empty())
}

// ---------------------------------------------------------------------------
// The scan

/// What the `[Install]` sections of a unit and its drop-ins say.
#[derive(Debug, Default)]
struct InstallInfo {
    aliases: Vec<String>,
    wanted_by: Vec<String>,
    required_by: Vec<String>,
    also: Vec<String>,
    default_instance: Option<String>,
    fatal: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Regular,
    Masked,
    Alias,
    Linked,
}

/// Why a lookup failed: `NotFound` lets the search go on to the next
/// directory; `Bad` makes the unit `bad`.
#[derive(Debug)]
enum Fail {
    NotFound,
    Bad(Option<FsError>),
}

/// Paths are exact: a link may lead to a file whose name is not UTF-8, and
/// systemd follows it (only unit *names* must be ASCII).
struct Info {
    name: String,
    path: OsString,
    mode: Mode,
    symlink_target: Option<OsString>,
}

/// Symlinks of one search directory, indexed for `find_symlinks()`.
#[derive(Default)]
struct DirIndex {
    /// Entries directly in the directory: name → type.
    entries: HashMap<String, EntryType>,
    /// Symlinks directly in the directory: name → the target as stored.
    link_target: HashMap<String, OsString>,
    /// The same, by target basename.
    by_dest: HashMap<String, Vec<String>>,
    /// Symlink names in its `*.wants/` and `*.requires/` directories.
    wants: HashSet<String>,
    /// The same, by template: `foo@.service` → [`foo@a.service`, …].
    wants_by_template: HashMap<String, Vec<String>>,
}

/// A drop-in read: `None` when it is empty or masked.
type DropIn = Result<Option<Arc<Parsed>>, FsError>;

pub struct Scanner<'a> {
    root: &'a Root,
    dirs: Vec<DirIndex>,
    files: Mutex<HashMap<OsString, Arc<Parsed>>>,
    /// Drop-in directory listings; most units look in the same few.
    listings: Mutex<HashMap<String, Option<Arc<Vec<DirEntry>>>>>,
    /// Drop-ins by path: both install_info() and properties() read each,
    /// and type-level ones (`service.d/`) apply to many units.
    dropins: Mutex<HashMap<OsString, DropIn>>,
    errors: Mutex<Vec<FsError>>,
}

impl<'a> Scanner<'a> {
    /// Lists every search directory once and indexes its symlinks.
    pub fn new(root: &'a Root) -> Self {
        let mut errors = Vec::new();
        let mut dirs = Vec::with_capacity(SEARCH_PATH.len());
        let mut seen: Vec<OsString> = Vec::new();
        for dir in SEARCH_PATH {
            let mut idx = DirIndex::default();
            // `lookup_paths_reduce()`: a directory met before under another
            // name (`/lib` -> `usr/lib`) is dropped from the search path.
            match root.resolve(dir) {
                Ok(r) if seen.contains(&r.raw_path) => {
                    dirs.push(idx);
                    continue;
                }
                Ok(r) => seen.push(r.raw_path),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    dirs.push(idx);
                    continue;
                }
                Err(_) => {}
            }
            match root.read_dir(dir) {
                Ok(list) => {
                    for e in list {
                        if e.entry_type == EntryType::Symlink {
                            match root.read_link_os(&e.path_in(dir)) {
                                Ok(t) => {
                                    idx.by_dest.entry(lossy(basename(&t))).or_default().push(e.name.clone());
                                    idx.link_target.insert(e.name.clone(), t);
                                }
                                Err(err) => errors.push(err),
                            }
                        } else if e.entry_type == EntryType::Dir
                            && (e.name.ends_with(".wants") || e.name.ends_with(".requires"))
                        {
                            match root.read_dir(&e.path_in(dir)) {
                                Ok(sub) => {
                                    for s in sub.into_iter().filter(|s| s.entry_type == EntryType::Symlink) {
                                        if let Some(t) = template_of(&s.name) {
                                            idx.wants_by_template.entry(t).or_default().push(s.name.clone());
                                        }
                                        idx.wants.insert(s.name);
                                    }
                                }
                                Err(err) if err.kind == ErrorKind::NotFound => {}
                                Err(err) => errors.push(err),
                            }
                        } else if e.entry_type == EntryType::Other && name_kind(&e.name).is_some() {
                            // list-unit-files skips it silently; a row says it is there.
                            errors.push(not_a_unit_file(root, &e.path_in(dir)));
                        }
                        idx.entries.insert(e.name, e.entry_type);
                    }
                }
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => errors.push(e),
            }
            dirs.push(idx);
        }
        Scanner {
            root,
            dirs,
            files: Mutex::default(),
            listings: Mutex::default(),
            dropins: Mutex::default(),
            errors: Mutex::new(errors),
        }
    }

    /// Problems met so far (unreadable directories, symlink loops, files
    /// systemd would refuse).
    pub fn take_errors(&self) -> Vec<FsError> {
        // Sorted: units may be read by several threads in any order.
        let mut errors = std::mem::take(&mut *lock(&self.errors));
        errors.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        errors
    }

    /// The names `list-unit-files` lists, with the directory each was found
    /// in: valid unit names of regular files and symlinks, first one wins.
    pub fn names(&self) -> Vec<(String, usize)> {
        let mut seen = HashSet::default();
        let mut out = Vec::new();
        for (i, d) in self.dirs.iter().enumerate() {
            let mut names: Vec<&String> = d.entries.keys().collect();
            names.sort();
            for name in names {
                if name_kind(name).is_none() || seen.contains(name.as_str()) {
                    continue;
                }
                if !matches!(d.entries[name], EntryType::File | EntryType::Symlink) {
                    continue;
                }
                seen.insert(name.clone());
                out.push((name.clone(), i));
            }
        }
        out
    }

    /// One listed unit: `unit_file_lookup_state()` plus the row's properties.
    pub fn unit(&self, name: &str) -> UnitFile {
        let mut u = UnitFile {
            name: name.to_string(),
            state: State::Bad,
            fragment: None,
            description: None,
            exec_start: None,
            user: None,
        };
        let info = match self.discover(name) {
            Ok(i) => i,
            Err(Fail::Bad(e)) => {
                if let Some(e) = e {
                    lock(&self.errors).push(e);
                }
                return u;
            }
            Err(Fail::NotFound) => return u,
        };
        u.fragment = Some(lossy(&info.path));
        if info.mode == Mode::Masked {
            u.state = if is_runtime(&info.path) { State::MaskedRuntime } else { State::Masked };
            return u;
        }
        let install = match self.install_info(&info) {
            Ok(i) => i,
            Err(e) => {
                lock(&self.errors).push(e);
                return u;
            }
        };
        self.properties(&info, &mut u);
        if let Some(msg) = &install.fatal {
            lock(&self.errors).push(FsError::parse(lossy(&info.path), msg.clone()));
            return u;
        }
        let parent = dirname(&info.path);
        u.state = if basename(&info.path) != name && name_kind(&info.name) != Some(NameKind::Instance) {
            State::Alias
        } else if GENERATORS.iter().any(|&g| parent == SEARCH_PATH[g]) {
            State::Generated
        } else if parent == SEARCH_PATH[TRANSIENT] {
            State::Transient
        } else if let Some(s) = self.find_symlinks_in_scope(&info, &install, true) {
            s
        } else if self.find_symlinks_in_scope(&info, &install, false).is_some() {
            State::Indirect
        } else if !install.aliases.is_empty() || !install.wanted_by.is_empty() || !install.required_by.is_empty() {
            State::Disabled
        } else if !install.also.is_empty() {
            State::Indirect
        } else {
            State::Static
        };
        u
    }

    /// `install_info_discover()` + `install_info_traverse()`: the file behind
    /// `name`, following aliases and links.
    fn discover(&self, name: &str) -> Result<Info, Fail> {
        let mut info = self.search(name)?;
        let mut hops = 0;
        while matches!(info.mode, Mode::Alias | Mode::Linked) {
            hops += 1;
            if hops > FOLLOW_MAX {
                return Err(Fail::Bad(Some(FsError::new(
                    ErrorKind::SymlinkLoop,
                    lossy(&info.path),
                    "too many levels of unit aliases",
                ))));
            }
            let target = info.symlink_target.clone().unwrap_or_default();
            let same_name = basename(&target) == info.name.as_str();
            if info.mode == Mode::Linked || same_name {
                self.load_path(&mut info, &target)?;
                continue;
            }
            let mut bn = lossy(basename(&target));
            if name_kind(&info.name) == Some(NameKind::Instance) && name_kind(&bn) == Some(NameKind::Template) {
                let filled = replace_instance(&bn, instance_of(&info.name).unwrap_or(""));
                if filled == info.name {
                    self.load_path(&mut info, &target)?;
                    continue;
                }
                bn = filled;
            }
            info = match self.search(&bn) {
                Ok(i) => i,
                Err(Fail::NotFound) => {
                    let why = format!("an alias of {bn}, which no unit directory holds");
                    return Err(Fail::Bad(Some(self.leads_nowhere(&info.path, why))));
                }
                Err(e) => return Err(e),
            };
        }
        Ok(info)
    }

    /// Follows the link at `info.path` to `path`. A target that is not there
    /// makes the unit `bad` (as systemctl says), with a row saying why.
    fn load_path(&self, info: &mut Info, path: &OsStr) -> Result<(), Fail> {
        let (mode, target) = match self.load_or_readlink(path, None) {
            Err(Fail::NotFound) => {
                let why = format!("a link to {:?}, which does not exist inside the root", lossy(path));
                return Err(Fail::Bad(Some(self.leads_nowhere(&info.path, why))));
            }
            other => other?,
        };
        info.path = path.to_os_string();
        info.mode = mode;
        info.symlink_target = target;
        Ok(())
    }

    /// The row for a unit link that leads to no file: the root's own words
    /// when the link's target is missing, else `why`.
    fn leads_nowhere(&self, link: &OsStr, why: String) -> FsError {
        self.root.dangling(link).unwrap_or_else(|| FsError::new(ErrorKind::NotFound, lossy(link), why))
    }

    /// `unit_file_search()`: the name in each search directory, then the
    /// template of an instance.
    fn search(&self, name: &str) -> Result<Info, Fail> {
        if name_kind(name).is_none() {
            return Err(Fail::Bad(None));
        }
        let mut candidates = vec![name.to_string()];
        if let Some(t) = template_of(name) {
            candidates.push(t);
        }
        for cand in &candidates {
            for (i, dir) in SEARCH_PATH.iter().enumerate() {
                let Some(&et) = self.dirs[i].entries.get(cand.as_str()) else { continue };
                let path = OsString::from(format!("{dir}/{cand}"));
                match self.load_or_readlink(&path, Some(et)) {
                    Ok((mode, target)) => {
                        self.check_templatable(name, &path)?;
                        return Ok(Info { name: name.to_string(), path, mode, symlink_target: target });
                    }
                    Err(Fail::NotFound) => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Err(Fail::NotFound)
    }

    fn check_templatable(&self, name: &str, path: &OsStr) -> Result<(), Fail> {
        if name_kind(name) != Some(NameKind::Plain) && !type_may_template(unit_type(name)) {
            return Err(Fail::Bad(Some(FsError::parse(lossy(path), "this unit type cannot be templated"))));
        }
        Ok(())
    }

    /// `unit_file_load_or_readlink()` for the main unit file at `path`.
    fn load_or_readlink(&self, path: &OsStr, known: Option<EntryType>) -> Result<(Mode, Option<OsString>), Fail> {
        let et = match known {
            Some(t) => t,
            None => match self.root.resolve_nofollow(path) {
                Ok(r) => EntryType::of(r.metadata.file_type()),
                Err(e) if e.kind == ErrorKind::NotFound => return Err(Fail::NotFound),
                Err(e) => return Err(Fail::Bad(Some(e))),
            },
        };
        match et {
            EntryType::Symlink => self.readlink(path),
            EntryType::File => {
                let parsed = self.parsed(path).ok_or(Fail::Bad(None))?;
                Ok((if parsed.empty { Mode::Masked } else { Mode::Regular }, None))
            }
            EntryType::Dir => Err(Fail::Bad(Some(FsError::new(
                ErrorKind::NotRegularFile,
                lossy(path),
                "a directory where a unit file was expected",
            )))),
            EntryType::Other => match self.root.resolve_nofollow(path) {
                Ok(r) if is_device(&r.metadata) => Ok((Mode::Masked, None)),
                // Listed, so the listing's row already says what it is.
                _ if known.is_some() => Err(Fail::Bad(None)),
                _ => Err(Fail::Bad(Some(not_a_unit_file(self.root, path)))),
            },
        }
    }

    /// `unit_file_resolve_symlink()` and the mask check after it.
    fn readlink(&self, path: &OsStr) -> Result<(Mode, Option<OsString>), Fail> {
        let indexed = SEARCH_PATH
            .iter()
            .position(|d| dirname(path) == *d)
            .and_then(|i| self.dirs[i].link_target.get(basename(path).to_str()?).cloned());
        let target = match indexed {
            Some(t) => t,
            None => self.root.read_link_os(path).map_err(|e| Fail::Bad(Some(e)))?,
        };
        let abs = if target.as_encoded_bytes().starts_with(b"/") { target } else { join(dirname(path), target) };
        let simplified = self.chase_parent(&abs).map_err(|e| Fail::Bad(Some(e)))?;
        let inside = SEARCH_PATH.iter().any(|d| under(&simplified, d));
        if inside && !alias_is_valid(&basename(path).to_string_lossy(), &basename(&simplified).to_string_lossy()) {
            return Err(Fail::Bad(None));
        }
        let (dst, meta) = match self.root.resolve(&simplified) {
            Ok(r) => (r.raw_path, Some(r.metadata)),
            Err(e) if e.kind == ErrorKind::NotFound => (simplified.clone(), None),
            Err(e) => {
                let via = lossy(&simplified);
                let e = FsError::new(e.kind, lossy(path), format!("{} (via {via})", e.message));
                return Err(Fail::Bad(Some(e)));
            }
        };
        let masked = dst == "/dev/null" || meta.is_some_and(|m| (m.is_file() && m.len() == 0) || is_device(&m));
        let mode = if masked {
            Mode::Masked
        } else if inside {
            Mode::Alias
        } else {
            Mode::Linked
        };
        Ok((mode, Some(dst)))
    }

    /// Resolves every component but the last (`CHASE_NOFOLLOW|CHASE_NONEXISTENT`).
    fn chase_parent(&self, abs: &OsStr) -> Result<OsString, FsError> {
        let norm = crate::root::normalize(abs);
        let (parent, name) = (dirname(&norm), basename(&norm));
        match self.root.resolve(parent) {
            Ok(r) => Ok(join(r.raw_path, name)),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(norm),
            Err(e) => Err(e),
        }
    }

    /// Reads and parses a file once per scan.
    fn parsed(&self, path: &OsStr) -> Option<Arc<Parsed>> {
        if let Some(p) = lock(&self.files).get(path) {
            return Some(p.clone());
        }
        let shown = &lossy(path);
        let read = self
            .root
            .open_capped(path, READ_LIMIT)
            .and_then(|(file, r)| parse_reader(file, r.metadata.len(), READ_LIMIT).map_err(|e| FsError::io(shown, &e)));
        let p = match read {
            Ok((parsed, truncated)) => {
                if parsed.dropped > 0 {
                    lock(&self.errors).push(FsError::new(
                        ErrorKind::TooLarge,
                        shown,
                        format!(
                            "more than {MAX_INSTALL_SETTINGS} [Install] settings; {} more are ignored",
                            parsed.dropped
                        ),
                    ));
                }
                if truncated {
                    lock(&self.errors).push(FsError::new(
                        ErrorKind::TooLarge,
                        shown,
                        format!(
                            "more than {READ_LIMIT} bytes; the unit is judged by what its first {READ_LIMIT} bytes say"
                        ),
                    ));
                }
                Arc::new(parsed)
            }
            Err(e) => {
                lock(&self.errors).push(e);
                return None;
            }
        };
        lock(&self.files).insert(path.to_os_string(), p.clone());
        Some(p)
    }

    /// Drop-in files in the order they apply: sorted by file name, a name in
    /// an earlier directory hiding the same name in later ones.
    /// Names are compared and sorted as bytes, as systemd does, and kept
    /// exact: systemd reads a drop-in whose name is not UTF-8.
    fn dropins(&self, dir_names: &[String]) -> Vec<OsString> {
        let mut by_name: HashMap<OsString, OsString> = HashMap::default();
        for dn in dir_names {
            for (i, sp) in SEARCH_PATH.iter().enumerate() {
                if !self.dirs[i].entries.contains_key(dn.as_str()) {
                    continue; // also skips directories reached through a symlink we have not listed
                }
                let dir = format!("{sp}/{dn}");
                let Some(list) = self.listing(&dir) else { continue };
                for e in list.iter() {
                    if !e.name.ends_with(".conf") || e.name.starts_with('.') || e.entry_type == EntryType::Dir {
                        continue;
                    }
                    by_name.entry(e.file_name.clone()).or_insert_with(|| e.path_in(&dir));
                }
            }
        }
        let mut names: Vec<_> = by_name.into_iter().collect();
        names.sort();
        names.into_iter().map(|(_, p)| p).collect()
    }

    fn listing(&self, dir: &str) -> Option<Arc<Vec<DirEntry>>> {
        if let Some(l) = lock(&self.listings).get(dir) {
            return l.clone();
        }
        let l = self.root.read_dir(dir).ok().map(Arc::new);
        lock(&self.listings).insert(dir.to_string(), l.clone());
        l
    }

    /// Reads a drop-in, following links inside the root. `Ok(None)` for an
    /// empty or masked one.
    fn dropin(&self, path: &OsStr) -> DropIn {
        if let Some(d) = lock(&self.dropins).get(path) {
            return d.clone();
        }
        let d = self.read_dropin(path);
        lock(&self.dropins).insert(path.to_os_string(), d.clone());
        d
    }

    fn read_dropin(&self, path: &OsStr) -> DropIn {
        let r = self.root.resolve(path)?;
        if (r.metadata.is_file() && r.metadata.len() == 0) || is_device(&r.metadata) {
            return Ok(None);
        }
        if !r.metadata.is_file() {
            return Err(FsError::new(ErrorKind::NotRegularFile, lossy(path), "drop-in is not a regular file"));
        }
        Ok(self.parsed(&r.raw_path))
    }

    /// The `[Install]` settings of the unit and its `name.d`/`template.d`
    /// drop-ins (install.c reads no other drop-ins).
    fn install_info(&self, info: &Info) -> Result<InstallInfo, FsError> {
        let mut ii = InstallInfo::default();
        let main = self.parsed(&info.path).ok_or_else(|| FsError::parse(lossy(&info.path), "unreadable"))?;
        let mut dirs = vec![format!("{}.d", info.name)];
        if let Some(t) = template_of(&info.name) {
            dirs.push(format!("{t}.d"));
        }
        let mut files = vec![main];
        for d in self.dropins(&dirs) {
            if let Some(p) = self.dropin(&d)? {
                files.push(p)
            }
        }
        let kind = name_kind(&info.name);
        for f in &files {
            if let Some(m) = &f.fatal {
                ii.fatal.get_or_insert_with(|| m.clone());
            }
            for (k, v) in &f.assignments {
                let list = match k {
                    Key::Alias if !type_may_alias(unit_type(&info.name)) => continue,
                    Key::Alias => &mut ii.aliases,
                    Key::WantedBy => &mut ii.wanted_by,
                    Key::RequiredBy => &mut ii.required_by,
                    Key::Also => {
                        for w in words(v) {
                            if !w.contains('%') && name_kind(&w).is_none() {
                                ii.fatal.get_or_insert_with(|| format!("Also={w} is not a unit name"));
                            }
                            ii.also.push(w);
                        }
                        continue;
                    }
                    Key::DefaultInstance => {
                        if kind == Some(NameKind::Template) {
                            if v.is_empty() {
                                ii.default_instance = None;
                            } else if v.bytes().all(|c| valid_char(c) || c == b'@' || c == b'%') {
                                ii.default_instance = Some(v.clone());
                            } else {
                                ii.fatal.get_or_insert_with(|| format!("invalid DefaultInstance={v}"));
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                if v.is_empty() {
                    list.clear();
                } else {
                    list.extend(words(v));
                }
            }
        }
        Ok(ii)
    }

    /// Description, ExecStart and User after every drop-in the service
    /// manager applies: `name.d`, `template.d`, the `-`-prefix levels and the
    /// type-level `service.d`.
    fn properties(&self, info: &Info, u: &mut UnitFile) {
        let Some(main) = self.parsed(&info.path) else { return };
        let mut dirs = vec![format!("{}.d", info.name)];
        if let Some(t) = template_of(&info.name) {
            dirs.push(format!("{t}.d"));
        }
        let ty = unit_type(&info.name);
        let stem = &info.name[..info.name.len() - ty.len() - 1];
        for (i, _) in stem.match_indices('-') {
            dirs.push(format!("{}-.{ty}.d", &stem[..i]));
        }
        dirs.push(format!("{ty}.d"));
        let mut files = vec![main];
        for d in self.dropins(&dirs) {
            if let Ok(Some(p)) = self.dropin(&d) {
                files.push(p);
            }
        }
        // Only the first ExecStart= left after every reset is wanted: a
        // file's first one after its last reset stands for all of its own.
        let mut exec: Option<&String> = None;
        for f in &files {
            if let Some(d) = &f.description {
                u.description = Some(d.clone()).filter(|s| !s.is_empty());
            }
            if let Some(user) = &f.user {
                u.user = Some(user.clone()).filter(|s| !s.is_empty());
            }
            if f.exec_reset {
                exec = None;
            }
            if exec.is_none() {
                exec = f.exec_first.as_ref();
            }
        }
        u.exec_start = exec.cloned();
    }

    /// `find_symlinks_in_scope()`.
    fn find_symlinks_in_scope(&self, info: &Info, ii: &InstallInfo, match_name: bool) -> Option<State> {
        let (mut same_config, mut same_runtime) = (false, false);
        let (mut in_runtime, mut at_all) = (false, false);
        let mut ignore_same_name = false;
        for (i, dir) in SEARCH_PATH.iter().enumerate() {
            let mut same_name_link = false;
            if self.find_symlinks(i, info, ii, match_name, ignore_same_name, &mut same_name_link) {
                if i == PERSISTENT_CONFIG {
                    return Some(State::Enabled);
                }
                if is_runtime(dir) {
                    in_runtime = true;
                } else {
                    at_all = true;
                }
            } else if same_name_link {
                if i == PERSISTENT_CONFIG {
                    same_config = true;
                } else if is_runtime(dir) {
                    same_runtime = true;
                }
            }
            if !ignore_same_name && under_or_equal(&info.path, dir) {
                ignore_same_name = true;
            }
        }
        if in_runtime {
            Some(State::EnabledRuntime)
        } else if at_all && name_kind(&info.name) == Some(NameKind::Instance) {
            Some(State::Static)
        } else if same_config {
            Some(State::Linked)
        } else if same_runtime {
            Some(State::LinkedRuntime)
        } else {
            None
        }
    }

    /// `find_symlinks()` for one search directory, from the indexes.
    fn find_symlinks(
        &self,
        i: usize,
        info: &Info,
        ii: &InstallInfo,
        match_name: bool,
        ignore_same_name: bool,
        same_name_link: &mut bool,
    ) -> bool {
        let d = &self.dirs[i];
        let known = |n: &str| !match_name || is_known_name(info, ii, n);
        // The .wants/.requires directories look at link names only.
        if d.wants.contains(&info.name) && known(&info.name) {
            return true;
        }
        if let Some(list) = d.wants_by_template.get(&info.name)
            && list.iter().any(|n| known(n))
        {
            return true;
        }
        // The directory itself: links named like the unit or pointing to it.
        let by_name = (!ignore_same_name).then(|| d.link_target.get(&info.name)).flatten();
        if let Some(target) = by_name {
            if basename(target) == info.name.as_str() {
                *same_name_link = true;
            } else if known(&info.name) {
                return true;
            }
        }
        if let Some(list) = d.by_dest.get(&info.name) {
            for n in list {
                if n == &info.name && !ignore_same_name {
                    continue; // handled above
                }
                if known(n) {
                    return true;
                }
            }
        }
        false
    }
}

/// The scanner's caches stay usable even if a thread panicked holding one.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `is_symlink_with_known_name()`: the names `systemctl enable` would create.
fn is_known_name(info: &Info, ii: &InstallInfo, name: &str) -> bool {
    if name == info.name || ii.aliases.iter().any(|a| a == name) {
        return true;
    }
    match &ii.default_instance {
        Some(inst) if name_kind(&info.name) == Some(NameKind::Template) => replace_instance(&info.name, inst) == name,
        _ => false,
    }
}

fn is_runtime(path: &(impl AsRef<OsStr> + ?Sized)) -> bool {
    under_or_equal(path.as_ref(), "/run")
}

fn under(path: &OsStr, dir: &str) -> bool {
    let (path, dir) = (path.as_encoded_bytes(), dir.as_bytes());
    path.len() > dir.len() + 1 && path.starts_with(dir) && path[dir.len()] == b'/'
}

fn under_or_equal(path: &OsStr, dir: &str) -> bool {
    path == dir || under(path, dir)
}

fn basename(p: &(impl AsRef<OsStr> + ?Sized)) -> &OsStr {
    let p = p.as_ref();
    rsplit_name(p).map_or(p, |(_, name)| name)
}

fn dirname(p: &OsStr) -> &OsStr {
    match rsplit_name(p) {
        Some((dir, _)) if dir.is_empty() => OsStr::new("/"),
        Some((dir, _)) => dir,
        None => OsStr::new("."),
    }
}

/// The row for a FIFO, socket or device node where a unit file was
/// expected: the root never opens one.
fn not_a_unit_file(root: &Root, path: &OsStr) -> FsError {
    let ft = root.resolve_nofollow(path).map(|r| r.metadata.file_type()).ok();
    let what = match ft {
        Some(t) if t.is_fifo() => "a FIFO",
        Some(t) if t.is_socket() => "a socket",
        Some(t) if t.is_char_device() || t.is_block_device() => "a device node (systemd takes one for a mask)",
        _ => "neither a file nor a link",
    };
    FsError::new(
        ErrorKind::NotRegularFile,
        lossy(path),
        format!("{what} where a unit file was expected; it is never opened"),
    )
}

fn is_device(m: &crate::root::Metadata) -> bool {
    m.file_type().is_char_device() || m.file_type().is_block_device()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(p: &Parsed, key: Key) -> Vec<&str> {
        let single = match key {
            Key::Description => Some(&p.description),
            Key::User => Some(&p.user),
            Key::ExecStart => Some(&p.exec_first),
            _ => None,
        };
        match single {
            Some(v) => v.iter().map(String::as_str).collect(),
            None => p.assignments.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.as_str()).collect(),
        }
    }

    #[test]
    fn syntax_follows_config_parse() {
        let p = parse(
            b"\xef\xbb\xbf# comment\n[Unit]\nDescription = spaced out  \n; other comment\n[Service]\n\
              ExecStart=/bin/a \\\n  --flag \\\n# skipped inside a continuation\n  last\r\nUser=x\n[X-Vendor]\nUser=y\n",
        );
        assert_eq!(p.fatal, None);
        assert_eq!(values(&p, Key::Description), ["spaced out"]);
        assert_eq!(values(&p, Key::ExecStart), ["/bin/a    --flag    last"]);
        assert_eq!(values(&p, Key::User), ["x"]);
    }

    #[test]
    fn keys_outside_their_section_are_ignored() {
        let p = parse(b"Description=before any section\n[Service]\nDescription=wrong section\nwantedby=x\n[Install]\nWantedBy=a.target b.target\n");
        assert!(values(&p, Key::Description).is_empty());
        assert_eq!(values(&p, Key::WantedBy), ["a.target b.target"]);
        assert_eq!(words("a.target \"b c.target\" d\\ e"), ["a.target", "b c.target", "d e"]);
    }

    #[test]
    fn files_systemd_refuses_are_flagged_but_still_read() {
        let p = parse(b"[Unit]\nDescription=caf\xe9\n[Service]\nExecStart=/bin/ok\n");
        assert!(p.fatal.as_deref().is_some_and(|m| m.contains("UTF-8")));
        assert_eq!(values(&p, Key::ExecStart), ["/bin/ok"]);
        // A non-UTF-8 comment is fine.
        assert_eq!(parse(b"# caf\xe9\n[Install]\nWantedBy=a.target\n").fatal, None);
        assert!(parse(b"[Install\nWantedBy=a.target\n").fatal.is_some());
        let mut long = b"[Unit]\nDescription=".to_vec();
        long.extend(std::iter::repeat_n(b'x', LONG_LINE_MAX - 12));
        long.extend_from_slice(b"\n[Service]\nExecStart=/bin/after\n");
        let p = parse(&long);
        assert!(p.fatal.is_some());
        assert_eq!(values(&p, Key::ExecStart), ["/bin/after"]);
        let mut ok = b"[Unit]\nDescription=".to_vec();
        ok.extend(std::iter::repeat_n(b'x', LONG_LINE_MAX - 13));
        assert_eq!(parse(&ok).fatal, None);
        assert!(parse(b"").empty);
        // Outside any section a line is ignored, but the UTF-8 check comes first
        // (systemctl lists such a file as bad).
        assert_eq!(parse(b"\0\0\0garbage\n[Install]\nWantedBy=a.target\n").fatal, None);
        assert!(parse(b"\0\0\0garbage\xff\n[Install]\nWantedBy=a.target\n").fatal.is_some());
    }

    #[test]
    fn unit_names() {
        assert_eq!(name_kind("ssh.service"), Some(NameKind::Plain));
        assert_eq!(name_kind("getty@.service"), Some(NameKind::Template));
        assert_eq!(name_kind("getty@tty1.service"), Some(NameKind::Instance));
        assert_eq!(name_kind("system-systemd\\x2dcryptsetup.slice"), Some(NameKind::Plain));
        assert_eq!(name_kind("@.service"), None);
        assert_eq!(name_kind("foo.conf"), None);
        assert_eq!(name_kind("a b.service"), None);
        assert_eq!(name_kind(&format!("{}.service", "a".repeat(250))), None);
        assert_eq!(template_of("getty@tty1.service").as_deref(), Some("getty@.service"));
        assert_eq!(replace_instance("getty@.service", "tty2"), "getty@tty2.service");
    }

    #[test]
    fn alias_rules() {
        assert!(alias_is_valid("dbus-org.x.service", "x.service"));
        assert!(!alias_is_valid("x.socket", "x.service"), "types must match");
        assert!(!alias_is_valid("x.service", "x.service"), "self-alias");
        assert!(alias_is_valid("a@i.service", "b@.service"));
        assert!(!alias_is_valid("a@i.service", "b@j.service"), "instances must match");
        assert!(!alias_is_valid("a.mount", "b.mount"), "mounts cannot alias");
    }

    #[test]
    fn program_of_exec_start() {
        assert_eq!(exec_program("-/usr/bin/app --serve").as_deref(), Some("/usr/bin/app"));
        assert_eq!(exec_program("@/usr/bin/app app-argv0 x").as_deref(), Some("/usr/bin/app"));
        assert_eq!(exec_program("+!/bin/sh -c 'x y'").as_deref(), Some("/bin/sh"));
        assert_eq!(exec_program("\"/opt/My App/bin/run\" -x").as_deref(), Some("/opt/My App/bin/run"));
        assert_eq!(exec_program("-"), None);
    }

    #[test]
    fn any_chunking_parses_alike() {
        let mut text =
            b"\xef\xbb\xbf[Unit]\r\nDescription=a\r\n\r\n[Service]\rExecStart=/bin/a \\\r\n  b\0User=u\n".to_vec();
        text.extend_from_slice(b"[Install]\nWantedBy=x.target \\\n# c\n y.target\nAlias=");
        text.extend(std::iter::repeat_n(b'z', LONG_LINE_MAX + 3));
        text.extend_from_slice(b"\r\nAlso=q.service\r");
        let whole = parse(&text);
        assert!(whole.fatal.as_deref().is_some_and(|m| m.contains("longer than")), "{:?}", whole.fatal);
        assert_eq!(values(&whole, Key::ExecStart), ["/bin/a    b"]);
        assert_eq!(values(&whole, Key::User), ["u"]);
        assert_eq!(values(&whole, Key::WantedBy), ["x.target   y.target"]);
        assert_eq!(values(&whole, Key::Also), ["q.service"]);
        for chunk in [1, 2, 3, 17, 4096] {
            let mut p = UnitParser::default();
            for part in text.chunks(chunk) {
                p.feed(part);
            }
            let p = p.finish();
            assert_eq!(p, whole, "chunks of {chunk}");
        }
        let (p, truncated) = parse_reader(&text[..], 0, text.len() as u64).unwrap();
        assert!(!truncated);
        assert_eq!(p, whole);
        let (p, truncated) = parse_reader(&text[..], 0, 40).unwrap();
        assert!(truncated);
        assert_eq!(values(&p, Key::Description), ["a"]);
    }

    /// Settings repeated a million times are not kept a million times.
    #[test]
    fn repeated_settings_take_bounded_memory() {
        let mut text = b"[Unit]\n".to_vec();
        for i in 0..200_000 {
            text.extend_from_slice(format!("Description=d{i}\n").as_bytes());
        }
        text.extend_from_slice(b"[Service]\nExecStart=/bin/before\n");
        for i in 0..100_000 {
            text.extend_from_slice(
                format!("ExecStart=\nExecStart=/bin/x{i}\nExecStart=/bin/later\nUser=u{i}\n").as_bytes(),
            );
        }
        text.extend_from_slice(b"[Install]\n");
        for i in 0..MAX_INSTALL_SETTINGS + 5 {
            text.extend_from_slice(format!("WantedBy=t{i}.target\n").as_bytes());
        }
        let p = parse(&text);
        assert_eq!(values(&p, Key::Description), ["d199999"]);
        assert_eq!((p.exec_reset, values(&p, Key::ExecStart)), (true, vec!["/bin/x99999"]));
        assert_eq!(values(&p, Key::User), ["u99999"]);
        assert_eq!((p.assignments.len(), p.dropped), (MAX_INSTALL_SETTINGS, 5));
    }

    /// Found in review: each line of a continuation scanned the whole
    /// continuation so far again, quadratic up to the 1 MiB line limit.
    #[test]
    fn long_continuations_parse_in_one_pass() {
        let mut text = b"[Service]\nExecStart=/opt/kaspersky/bin/agent \\\n".to_vec();
        for _ in 0..300_000 {
            text.extend_from_slice(b"a\\\n");
        }
        text.extend_from_slice(b"end\nUser=kl\n");
        let started = std::time::Instant::now();
        let p = parse(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
        assert_eq!(p.fatal, None);
        assert!(values(&p, Key::ExecStart)[0].starts_with("/opt/kaspersky/bin/agent  a a "));
        assert_eq!(values(&p, Key::User), ["kl"]);
        for (text, escaped) in
            [(&b"a\\"[..], true), (b"a\\\\", false), (b"\\\\\\", true), (b"\\a", false), (b"", false)]
        {
            assert_eq!(ends_escaped(text), escaped, "{text:?}");
        }
    }
}
