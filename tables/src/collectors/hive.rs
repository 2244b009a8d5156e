//! Offline Windows registry hives (the `regf` format), read from bytes.
//!
//! The format is described in Maxim Suhanov's "Windows registry file format
//! specification" and libyal's "Windows NT Registry File (REGF) format"; the
//! field names below follow the former. A hive is a 4096-byte base block and
//! hive bins of cells; keys (`nk`), values (`vk`), subkey lists (`li`, `lf`,
//! `lh`, `ri`) and big data (`db`) are cells addressed by offsets from the
//! first bin.
//!
//! Every offset, count and length comes from the scanned disk, so every one
//! is checked before use: a cell must lie inside one hive bin, a list holds
//! no more elements than its cell has room for, an `ri` may not hold another
//! `ri` (so a list cannot contain itself), big data may not name the same
//! segment twice, and a value's data is never larger than the hive. Bytes
//! read from cells (names, data, subkey and value lists) are charged to a
//! budget proportional to the file, so cells shared by many keys cannot
//! multiply a small file into gigabytes of rows or hours of list scans. A
//! problem makes that key, list or value an error; the rest of the hive
//! still reads.
//!
//! Dirty hives (images of a running Windows) are recovered from their
//! `.LOG1`/`.LOG2` transaction logs by [`log`] before parsing.
//!
//! Collectors use the hive through the [`Registry`] trait, so that a live
//! reader (the Windows API) can stand in for it without changing them.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ErrorKind;

pub mod log;
mod marvin;

pub use log::{LogFile, Recovery};

/// The base block; offsets in cells count from its end.
pub const BASE_BLOCK: usize = 4096;
const HBIN_HEADER: usize = 32;
/// Windows' limit on key nesting, used as the bound of full walks.
pub const MAX_DEPTH: usize = 512;
/// Names, data and lists one hive may yield: this multiple of its size,
/// plus [`READ_SLACK`] (cells shared by many keys must not multiply a
/// small hive into gigabytes).
pub const READ_FACTOR: u64 = 8;
pub const READ_SLACK: u64 = 16 << 20;
/// Largest data segment of a big-data value.
const SEGMENT: usize = 16344;
const NO_CELL: u32 = 0xFFFF_FFFF;

/// Value types (`REG_*`).
pub mod kind {
    pub const NONE: u32 = 0;
    pub const SZ: u32 = 1;
    pub const EXPAND_SZ: u32 = 2;
    pub const BINARY: u32 = 3;
    pub const DWORD: u32 = 4;
    pub const DWORD_BIG_ENDIAN: u32 = 5;
    pub const LINK: u32 = 6;
    pub const MULTI_SZ: u32 = 7;
    pub const QWORD: u32 = 11;
}

/// A problem with one part of a hive: a key, a list, a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegError(pub String);

impl fmt::Display for RegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, RegError> {
    Err(RegError(msg.into()))
}

/// A problem met while opening a hive that did not stop it: the hive is
/// read anyway, and the caller turns each into a `scan_errors` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Which transaction log it is about (an index into the logs given),
    /// or None for the hive itself.
    pub log: Option<usize>,
    pub kind: ErrorKind,
    pub message: String,
}

/// A value's type and bytes, as the registry stores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub kind: u32,
    pub data: Vec<u8>,
}

impl Value {
    /// The text of a string value (`REG_SZ`, `REG_EXPAND_SZ`, `REG_LINK`):
    /// UTF-16LE up to the first NUL, or all of it when there is none; an odd
    /// last byte is dropped. `REG_EXPAND_SZ` is not expanded. For a
    /// `REG_MULTI_SZ`, the first string.
    pub fn text(&self) -> Option<String> {
        match self.kind {
            kind::SZ | kind::EXPAND_SZ | kind::LINK | kind::MULTI_SZ => Some(utf16_until_nul(&self.data)),
            _ => None,
        }
    }

    /// The strings of a `REG_MULTI_SZ` (empty strings dropped, as Windows'
    /// list ends at the first one), or a string value as one string.
    pub fn strings(&self) -> Option<Vec<String>> {
        match self.kind {
            kind::MULTI_SZ => Some(
                utf16_units(&self.data)
                    .split(|&u| u == 0)
                    .take_while(|s| !s.is_empty())
                    .map(String::from_utf16_lossy)
                    .collect(),
            ),
            kind::SZ | kind::EXPAND_SZ => Some(vec![utf16_until_nul(&self.data)]),
            _ => None,
        }
    }

    /// A number value: `REG_DWORD`, `REG_DWORD_BIG_ENDIAN`, `REG_QWORD`. Too
    /// few bytes is None; extra bytes are ignored, as Windows' readers do.
    pub fn number(&self) -> Option<u64> {
        let d = &self.data;
        match self.kind {
            kind::DWORD if d.len() >= 4 => Some(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as u64),
            kind::DWORD_BIG_ENDIAN if d.len() >= 4 => Some(u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as u64),
            kind::QWORD if d.len() >= 8 => Some(u64::from_le_bytes(d[..8].try_into().ok()?)),
            _ => None,
        }
    }
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// UTF-16LE text up to the first NUL (invalid surrogates become U+FFFD).
pub fn utf16_until_nul(bytes: &[u8]) -> String {
    let units = utf16_units(bytes);
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end])
}

/// What collectors need of a registry: keys by path (case-insensitive, as
/// Windows looks them up), their subkeys and their values. The offline
/// [`Hive`] implements it; a live reader can too.
pub trait Registry {
    type Key: Clone;

    fn root_key(&self) -> Self::Key;

    /// The direct subkey called `name`, compared without regard to case.
    fn subkey(&self, key: &Self::Key, name: &str) -> Result<Option<Self::Key>, RegError>;

    /// All direct subkeys with their names, in the stored order. Parts that
    /// cannot be read are reported to `bad` and left out.
    fn subkeys(&self, key: &Self::Key, bad: &mut dyn FnMut(RegError)) -> Vec<(String, Self::Key)>;

    /// The value called `name` (`""` is the default value), compared without
    /// regard to case.
    fn value(&self, key: &Self::Key, name: &str) -> Result<Option<Value>, RegError>;

    /// All values with their names, in the stored order.
    fn values(&self, key: &Self::Key, bad: &mut dyn FnMut(RegError)) -> Vec<(String, Value)>;

    /// The values called `names`, in that order, as [`Registry::value`]
    /// would give each. A registry may answer in one pass over the key's
    /// values (a collector reading ten values of 20,000 keys saves most of
    /// its time there).
    fn values_named(&self, key: &Self::Key, names: &[&str]) -> Vec<Result<Option<Value>, RegError>> {
        names.iter().map(|n| self.value(key, n)).collect()
    }

    /// The subkeys of the key at `path` below `from`; none when that key
    /// is absent. Problems, including one opening the key, go to `bad`.
    fn subkeys_under(&self, from: &Self::Key, path: &str, bad: &mut dyn FnMut(RegError)) -> Vec<(String, Self::Key)> {
        match self.open_from(from, path) {
            Ok(Some(k)) => self.subkeys(&k, bad),
            Ok(None) => Vec::new(),
            Err(e) => {
                bad(e);
                Vec::new()
            }
        }
    }

    /// The key at a backslash-separated path below the root (empty
    /// components are skipped, so a leading `\` is fine).
    fn open(&self, path: &str) -> Result<Option<Self::Key>, RegError> {
        self.open_from(&self.root_key(), path)
    }

    /// The key at a backslash-separated path below `key`.
    fn open_from(&self, key: &Self::Key, path: &str) -> Result<Option<Self::Key>, RegError> {
        let mut key = key.clone();
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match self.subkey(&key, part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }
}

/// A parsed hive. Keys are the offsets of their `nk` cells.
pub struct Hive {
    data: Vec<u8>,
    /// Hive bins as (start, end) offsets from the end of the base block.
    bins: Vec<(usize, usize)>,
    /// For each 4 KiB page of the bins, the bin holding it: bins start on
    /// page boundaries, so a cell's bin is found without a search (cell
    /// lookups dominate reading a big hive).
    page_bin: Vec<u32>,
    root: u32,
    minor: u32,
    /// Bytes of names, data and lists still allowed to be read (see the
    /// module comment).
    budget: AtomicU64,
    notices: Vec<Notice>,
    recovery: Option<Recovery>,
}

impl fmt::Debug for Hive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hive")
            .field("len", &self.data.len())
            .field("bins", &self.bins.len())
            .field("root", &self.root)
            .field("minor", &self.minor)
            .field("notices", &self.notices)
            .finish_non_exhaustive()
    }
}

/// The base-block fields the reader uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseBlock {
    pub primary_seq: u32,
    pub secondary_seq: u32,
    pub timestamp: u64,
    pub major: u32,
    pub minor: u32,
    pub file_type: u32,
    pub root: u32,
    pub bins_size: u32,
    pub clustering: u32,
    pub checksum_ok: bool,
}

impl BaseBlock {
    /// Reads the fields of a base block (of a hive or of a log's first
    /// sector). None without the `regf` signature or 512 bytes.
    pub fn parse(b: &[u8]) -> Option<BaseBlock> {
        if b.len() < 512 || &b[..4] != b"regf" {
            return None;
        }
        Some(BaseBlock {
            primary_seq: le32(b, 4),
            secondary_seq: le32(b, 8),
            timestamp: u64::from_le_bytes(b[12..20].try_into().ok()?),
            major: le32(b, 20),
            minor: le32(b, 24),
            file_type: le32(b, 28),
            root: le32(b, 36),
            bins_size: le32(b, 40),
            clustering: le32(b, 44),
            checksum_ok: checksum(b) == le32(b, 508),
        })
    }

    /// Whether the hive needs recovery: a wrong checksum, or a write that
    /// began and did not finish.
    pub fn is_dirty(&self) -> bool {
        !self.checksum_ok || self.primary_seq != self.secondary_seq
    }
}

/// XOR-32 of the base block's first 508 bytes, with 0 and -1 avoided.
pub fn checksum(b: &[u8]) -> u32 {
    let c = b[..508].chunks_exact(4).fold(0u32, |c, w| c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    match c {
        0xFFFF_FFFF => 0xFFFF_FFFE,
        0 => 1,
        c => c,
    }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A key node's fields.
struct Nk<'h> {
    flags: u16,
    subkeys: u32,
    subkey_list: u32,
    values: u32,
    value_list: u32,
    name: &'h [u8],
}

const KEY_HIVE_ENTRY: u16 = 0x0004;
const KEY_COMP_NAME: u16 = 0x0020;
const VALUE_COMP_NAME: u16 = 0x0001;

/// A name as stored: Latin-1 when compressed, else UTF-16LE.
#[derive(Clone, Copy)]
struct RawName<'h> {
    bytes: &'h [u8],
    compressed: bool,
}

impl RawName<'_> {
    fn chars(self) -> impl Iterator<Item = char> {
        let (latin, wide) = if self.compressed { (self.bytes, &[][..]) } else { (&[][..], self.bytes) };
        latin.iter().map(|&b| b as char).chain(
            char::decode_utf16(wide.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)),
        )
    }

    fn decoded(self) -> String {
        self.chars().collect()
    }

    /// Windows compares names by their uppercase characters.
    fn matches(self, want: &str) -> bool {
        if self.compressed && want.is_ascii() {
            return self.bytes.eq_ignore_ascii_case(want.as_bytes());
        }
        self.chars().map(upcase).eq(want.chars().map(upcase))
    }
}

/// One character's uppercase form, kept when Unicode's is several
/// characters (Windows' upcase table maps one character to one).
fn upcase(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

impl Hive {
    /// Parses a hive that needs no recovery, or whose logs are not at hand
    /// (a dirty hive is then read as it is, with a notice).
    pub fn parse(data: Vec<u8>) -> Result<Hive, RegError> {
        Hive::parse_with_logs(data, &[])
    }

    /// Parses a hive, first replaying `logs` (its `.LOG1`, `.LOG2`, `.LOG`
    /// files, any order) when the hive is dirty. Logs that do not belong to
    /// it or are damaged are skipped with a notice; the hive is never
    /// refused for its logs.
    pub fn parse_with_logs(mut data: Vec<u8>, logs: &[LogFile<'_>]) -> Result<Hive, RegError> {
        if data.len() < BASE_BLOCK {
            return err(format!("{} bytes, shorter than a hive's 4096-byte base block", data.len()));
        }
        let Some(mut base) = BaseBlock::parse(&data) else {
            return err("not a registry hive (no regf signature)");
        };
        let mut notices = Vec::new();
        let mut recovery = None;
        if base.is_dirty() {
            let r = log::recover(&mut data, &base, logs);
            notices.extend(r.notices.iter().cloned());
            if r.entries > 0 || r.pages > 0 {
                base = BaseBlock::parse(&data).unwrap_or(base);
            }
            recovery = Some(r);
        }
        if base.major != 1 || base.minor < 2 {
            return Err(RegError(format!(
                "hive format version {}.{} is not supported (Windows NT 3.5 and later write 1.2 to 1.6)",
                base.major, base.minor
            )));
        }
        let mut hive = Hive {
            bins: Vec::new(),
            page_bin: Vec::new(),
            root: base.root,
            minor: base.minor,
            budget: AtomicU64::new(READ_FACTOR * data.len() as u64 + READ_SLACK),
            notices,
            recovery,
            data,
        };
        hive.scan_bins(base.bins_size);
        if hive.nk(hive.root).is_err() {
            match hive.find_root() {
                Some(root) => {
                    hive.notice(format!(
                        "the base block's root key offset 0x{:x} is not a key; using the hive's root key at 0x{root:x}",
                        hive.root
                    ));
                    hive.root = root;
                }
                None => return err(format!("no root key (the base block points at 0x{:x})", hive.root)),
            }
        }
        Ok(hive)
    }

    fn notice(&mut self, message: String) {
        self.notices.push(Notice { log: None, kind: ErrorKind::ParseError, message });
    }

    /// Problems met while opening (dirty and not recovered, truncated, a
    /// log that does not match), for `scan_errors`.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// What log replay did, when the hive was dirty.
    pub fn recovery(&self) -> Option<&Recovery> {
        self.recovery.as_ref()
    }

    /// The hive's bytes after recovery (base block included).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Finds the hive bins the base block announces. A bin that is missing,
    /// damaged or cut short ends the list with a notice; cells are looked up
    /// only inside the bins found.
    fn scan_bins(&mut self, declared: u32) {
        let have = self.data.len() - BASE_BLOCK;
        let mut size = declared as usize;
        if size == 0 || !size.is_multiple_of(4096) {
            self.notice(format!(
                "the base block's hive bins size {declared} is not a multiple of 4096; reading all bins present"
            ));
            size = have;
        } else if size > have {
            self.notice(format!(
                "the file is truncated: the base block announces {size} bytes of hive bins, the file holds {have}"
            ));
            size = have;
        }
        let mut pos = 0;
        let mut problem = None;
        while pos + HBIN_HEADER <= size {
            let at = BASE_BLOCK + pos;
            let h = &self.data[at..at + HBIN_HEADER];
            if &h[..4] != b"hbin" {
                problem = Some(format!("no hive bin at offset 0x{pos:x}; keys after it cannot be read"));
                break;
            }
            let (offset, len) = (le32(h, 4) as usize, le32(h, 8) as usize);
            if offset != pos || len < 4096 || len % 4096 != 0 {
                problem = Some(format!(
                    "hive bin at offset 0x{pos:x} is damaged (it says offset 0x{offset:x}, size {len}); keys after it cannot be read"
                ));
                break;
            }
            let end = (pos + len).min(size);
            let index = self.bins.len() as u32;
            self.page_bin.extend(std::iter::repeat_n(index, (end - pos).div_ceil(4096)));
            self.bins.push((pos, end));
            if pos + len > size {
                problem = Some(format!("hive bin at offset 0x{pos:x} is cut short ({} of {len} bytes)", size - pos));
                break;
            }
            pos += len;
        }
        if let Some(p) = problem {
            self.notice(p);
        }
    }

    /// The first key node flagged as a hive's root, for a base block whose
    /// root offset is wrong.
    fn find_root(&self) -> Option<u32> {
        for &(start, end) in &self.bins {
            let mut at = start + HBIN_HEADER;
            while at + 8 <= end {
                let raw = le32(&self.data, BASE_BLOCK + at) as i32;
                let len = raw.unsigned_abs() as usize;
                if len < 8 || at + len > end {
                    break;
                }
                if raw < 0
                    && let Ok(nk) = self.nk(at as u32)
                    && nk.flags & KEY_HIVE_ENTRY != 0
                {
                    return Some(at as u32);
                }
                at += len;
            }
        }
        None
    }

    /// The data of the allocated cell at `off`.
    fn cell(&self, off: u32) -> Result<&[u8], RegError> {
        if off == NO_CELL {
            return err("refers to no cell (0xFFFFFFFF)");
        }
        let o = off as usize;
        let Some(&(start, end)) = self.page_bin.get(o / 4096).map(|&i| &self.bins[i as usize]) else {
            return err(format!("cell offset 0x{off:x} is outside the hive bins"));
        };
        if o < start + HBIN_HEADER || o + 4 > end {
            return err(format!("cell offset 0x{off:x} is outside the hive bins"));
        }
        let raw = le32(&self.data, BASE_BLOCK + o) as i32;
        if raw >= 0 {
            return err(format!("cell at 0x{off:x} is not allocated"));
        }
        let len = raw.unsigned_abs() as usize;
        if len < 8 || o + len > end {
            return err(format!("cell at 0x{off:x} says it is {len} bytes long, which does not fit its hive bin"));
        }
        Ok(&self.data[BASE_BLOCK + o + 4..BASE_BLOCK + o + len])
    }

    fn nk(&self, off: u32) -> Result<Nk<'_>, RegError> {
        let c = self.cell(off)?;
        if c.len() < 76 || &c[..2] != b"nk" {
            return err(format!("cell at 0x{off:x} is not a key node"));
        }
        let name_len = le16(c, 72) as usize;
        let Some(name) = c.get(76..76 + name_len) else {
            return err(format!("key node at 0x{off:x}: its {name_len}-byte name does not fit its cell"));
        };
        Ok(Nk {
            flags: le16(c, 2),
            subkeys: le32(c, 20),
            subkey_list: le32(c, 28),
            values: le32(c, 36),
            value_list: le32(c, 40),
            name,
        })
    }

    fn key_name<'h>(&self, nk: &Nk<'h>) -> RawName<'h> {
        RawName { bytes: nk.name, compressed: nk.flags & KEY_COMP_NAME != 0 }
    }

    /// Takes `n` bytes from the budget of what is read.
    fn charge(&self, n: usize) -> Result<(), RegError> {
        let n = n as u64;
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n))
            .map(|_| ())
            .map_err(|_| {
                RegError(format!(
                    "more names, data and lists read than a hive of {} bytes holds (cells shared by many keys); the rest is not read",
                    self.data.len()
                ))
            })
    }

    fn name_string(&self, name: RawName<'_>) -> Result<String, RegError> {
        self.charge(name.bytes.len())?;
        Ok(name.decoded())
    }

    /// The key offsets in a key's subkey list, in order. An `ri` is followed
    /// one level down only.
    fn list_subkeys(&self, key: u32, nk: &Nk<'_>, bad: &mut dyn FnMut(RegError)) -> Vec<u32> {
        let mut out = Vec::new();
        if nk.subkeys == 0 || nk.subkey_list == NO_CELL {
            return out;
        }
        if let Err(e) = self.list_into(nk.subkey_list, true, &mut out) {
            bad(RegError(format!("subkey list of the key at 0x{key:x}: {e}")));
        }
        // A list that names one key twice, or the key itself, would make
        // walks repeat or loop; real hives never do.
        let mut seen = HashSet::with_capacity(out.len());
        let before = out.len();
        out.retain(|&k| k != key && seen.insert(k));
        if out.len() != before {
            bad(RegError(format!(
                "subkey list of the key at 0x{key:x} names {} keys twice or names the key itself; each is read once",
                before - out.len()
            )));
        }
        out
    }

    fn list_into(&self, list: u32, allow_ri: bool, out: &mut Vec<u32>) -> Result<(), RegError> {
        let c = self.cell(list)?;
        // Lists can be shared by many keys; reading them counts too.
        self.charge(c.len())?;
        if c.len() < 4 {
            return err(format!("list cell at 0x{list:x} is too short"));
        }
        let count = le16(c, 2) as usize;
        let stride = match &c[..2] {
            b"li" | b"ri" => 4,
            b"lf" | b"lh" => 8,
            sig => {
                return err(format!(
                    "cell at 0x{list:x} is not a subkey list (signature {:?})",
                    String::from_utf8_lossy(sig)
                ));
            }
        };
        let room = (c.len() - 4) / stride;
        let elems = c[4..4 + count.min(room) * stride].chunks_exact(stride).map(|e| le32(e, 0));
        if &c[..2] == b"ri" {
            if !allow_ri {
                return err(format!("index root at 0x{list:x} inside an index root"));
            }
            let mut first = None;
            for sub in elems {
                if let Err(e) = self.list_into(sub, false, out) {
                    first.get_or_insert(e);
                }
            }
            if let Some(e) = first {
                return Err(e);
            }
        } else {
            out.extend(elems);
        }
        if count > room {
            return err(format!("list at 0x{list:x} declares {count} elements, its cell has room for {room}"));
        }
        Ok(())
    }

    fn value_offsets(&self, key: u32, nk: &Nk<'_>) -> Result<Vec<u32>, RegError> {
        if nk.values == 0 || nk.value_list == NO_CELL {
            return Ok(Vec::new());
        }
        let c = self.cell(nk.value_list).map_err(|e| RegError(format!("value list of the key at 0x{key:x}: {e}")))?;
        let room = c.len() / 4;
        let n = (nk.values as usize).min(room);
        self.charge(n * 4)?;
        let offs = c[..n * 4].chunks_exact(4).map(|e| le32(e, 0)).collect();
        if nk.values as usize > room {
            return Err(RegError(format!(
                "value list of the key at 0x{key:x} declares {} values, its cell has room for {room}",
                nk.values
            )));
        }
        Ok(offs)
    }

    fn vk(&self, off: u32) -> Result<(RawName<'_>, &[u8]), RegError> {
        let c = self.cell(off)?;
        if c.len() < 20 || &c[..2] != b"vk" {
            return err(format!("cell at 0x{off:x} is not a value"));
        }
        let name_len = le16(c, 2) as usize;
        let Some(name) = c.get(20..20 + name_len) else {
            return err(format!("value at 0x{off:x}: its {name_len}-byte name does not fit its cell"));
        };
        Ok((RawName { bytes: name, compressed: le16(c, 16) & VALUE_COMP_NAME != 0 }, c))
    }

    /// The type and bytes of the value whose `vk` cell is `vk`.
    fn value_data(&self, off: u32, vk: &[u8]) -> Result<Value, RegError> {
        let raw_size = le32(vk, 4);
        let data_off = le32(vk, 8);
        let kind = le32(vk, 12);
        let size = (raw_size & 0x7FFF_FFFF) as usize;
        if raw_size & 0x8000_0000 != 0 {
            if size > 4 {
                return err(format!(
                    "value at 0x{off:x} declares {size} bytes stored in the value itself, which holds 4"
                ));
            }
            return Ok(Value { kind, data: vk[8..8 + size].to_vec() });
        }
        if size == 0 {
            return Ok(Value { kind, data: Vec::new() });
        }
        if size > self.data.len() {
            return err(format!("value at 0x{off:x} declares {size} bytes of data, more than the whole hive"));
        }
        let cell = self.cell(data_off).map_err(|e| RegError(format!("data of the value at 0x{off:x}: {e}")))?;
        if size <= cell.len() {
            self.charge(size)?;
            return Ok(Value { kind, data: cell[..size].to_vec() });
        }
        if self.minor >= 4 && cell.len() >= 8 && &cell[..2] == b"db" {
            return self.big_data(off, size, cell).map(|data| Value { kind, data });
        }
        err(format!("value at 0x{off:x} declares {size} bytes of data, its cell holds {}", cell.len()))
    }

    fn big_data(&self, off: u32, size: usize, db: &[u8]) -> Result<Vec<u8>, RegError> {
        let count = le16(db, 2) as usize;
        let list =
            self.cell(le32(db, 4)).map_err(|e| RegError(format!("segment list of the value at 0x{off:x}: {e}")))?;
        if count * 4 > list.len() {
            return err(format!(
                "value at 0x{off:x}: {count} data segments declared, the list has room for {}",
                list.len() / 4
            ));
        }
        let segs: Vec<u32> = list[..count * 4].chunks_exact(4).map(|e| le32(e, 0)).collect();
        let mut sorted = segs.clone();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return err(format!("value at 0x{off:x}: its big data names one segment twice"));
        }
        if count.saturating_mul(SEGMENT) < size {
            return err(format!(
                "value at 0x{off:x} declares {size} bytes of data in {count} segments of at most {SEGMENT}"
            ));
        }
        self.charge(size)?;
        let mut data = Vec::with_capacity(size);
        for seg in segs {
            if data.len() == size {
                break;
            }
            let c = self.cell(seg).map_err(|e| RegError(format!("data segment of the value at 0x{off:x}: {e}")))?;
            let take = (size - data.len()).min(SEGMENT).min(c.len());
            data.extend_from_slice(&c[..take]);
        }
        if data.len() < size {
            return err(format!("value at 0x{off:x}: its segments hold {} of the {size} bytes declared", data.len()));
        }
        Ok(data)
    }

    /// The name of the key at `key`.
    pub fn name_of(&self, key: u32) -> Result<String, RegError> {
        let nk = self.nk(key)?;
        self.name_string(self.key_name(&nk))
    }

    /// Visits every key below `from` (itself included) depth first, with
    /// its path from `from`. A key reached twice (a damaged hive whose lists
    /// share keys or loop) is reported and not entered again; so is nesting
    /// deeper than Windows allows.
    pub fn walk(&self, from: u32, visit: &mut dyn FnMut(&[String], u32), bad: &mut dyn FnMut(RegError)) {
        let mut seen = HashSet::new();
        seen.insert(from);
        let mut path: Vec<String> = Vec::new();
        // Each frame: the subkeys still to visit of one key on the path.
        let mut stack: Vec<std::vec::IntoIter<(String, u32)>> = Vec::new();
        visit(&path, from);
        stack.push(self.subkeys(&from, bad).into_iter());
        while let Some(top) = stack.last_mut() {
            let Some((name, key)) = top.next() else {
                stack.pop();
                path.pop();
                continue;
            };
            if !seen.insert(key) {
                bad(RegError(format!("key at 0x{key:x} is listed under more than one key; it is read once")));
                continue;
            }
            path.push(name);
            visit(&path, key);
            if stack.len() >= MAX_DEPTH {
                bad(RegError(format!("keys nested deeper than {MAX_DEPTH} levels are not read")));
                path.pop();
                continue;
            }
            stack.push(self.subkeys(&key, bad).into_iter());
        }
    }
}

impl Registry for Hive {
    type Key = u32;

    fn root_key(&self) -> u32 {
        self.root
    }

    fn subkey(&self, key: &u32, name: &str) -> Result<Option<u32>, RegError> {
        let nk = self.nk(*key)?;
        let mut first_problem = None;
        let list = self.list_subkeys(*key, &nk, &mut |e| {
            first_problem.get_or_insert(e);
        });
        for k in list {
            match self.nk(k) {
                Ok(sub) if self.key_name(&sub).matches(name) => return Ok(Some(k)),
                Ok(_) => {}
                Err(e) => {
                    first_problem.get_or_insert(e);
                }
            }
        }
        // Not found in a list that could not all be read: say so rather
        // than claim the key is absent.
        match first_problem {
            Some(e) => Err(RegError(format!("looking up {name:?}: {e}"))),
            None => Ok(None),
        }
    }

    fn subkeys(&self, key: &u32, bad: &mut dyn FnMut(RegError)) -> Vec<(String, u32)> {
        let nk = match self.nk(*key) {
            Ok(nk) => nk,
            Err(e) => {
                bad(e);
                return Vec::new();
            }
        };
        let list = self.list_subkeys(*key, &nk, bad);
        let mut out = Vec::with_capacity(list.len());
        let mut tally = Tally::default();
        for k in list {
            match self.nk(k).and_then(|sub| self.name_string(self.key_name(&sub))) {
                Ok(name) => out.push((name, k)),
                Err(e) => tally.add(e),
            }
        }
        tally.report(bad, "subkeys", *key);
        out
    }

    fn value(&self, key: &u32, name: &str) -> Result<Option<Value>, RegError> {
        self.values_named(key, &[name]).pop().unwrap_or(Ok(None))
    }

    fn values_named(&self, key: &u32, names: &[&str]) -> Vec<Result<Option<Value>, RegError>> {
        let mut out: Vec<Result<Option<Value>, RegError>> = names.iter().map(|_| Ok(None)).collect();
        let nk = match self.nk(*key) {
            Ok(nk) => nk,
            Err(e) => return names.iter().map(|_| Err(e.clone())).collect(),
        };
        let (offs, mut problem) = match self.value_offsets(*key, &nk) {
            Ok(offs) => (offs, None),
            Err(e) => (self.value_offsets_prefix(&nk), Some(e)),
        };
        let mut found = vec![false; names.len()];
        for off in offs {
            match self.vk(off) {
                Ok((vname, vk)) => {
                    // The first value of each name answers, as in `value`.
                    if let Some(i) = (0..names.len()).find(|&i| !found[i] && vname.matches(names[i])) {
                        found[i] = true;
                        out[i] = self.value_data(off, vk).map(Some);
                    }
                }
                Err(e) => {
                    problem.get_or_insert(e);
                }
            }
            if found.iter().all(|&f| f) {
                break;
            }
        }
        if let Some(e) = problem {
            for (i, name) in names.iter().enumerate() {
                if !found[i] {
                    out[i] = Err(RegError(format!("looking up value {name:?}: {e}")));
                }
            }
        }
        out
    }

    fn values(&self, key: &u32, bad: &mut dyn FnMut(RegError)) -> Vec<(String, Value)> {
        let nk = match self.nk(*key) {
            Ok(nk) => nk,
            Err(e) => {
                bad(e);
                return Vec::new();
            }
        };
        let offs = match self.value_offsets(*key, &nk) {
            Ok(offs) => offs,
            Err(e) => {
                bad(e);
                self.value_offsets_prefix(&nk)
            }
        };
        let mut out = Vec::with_capacity(offs.len());
        let mut tally = Tally::default();
        for off in offs {
            match self.vk(off).and_then(|(name, vk)| Ok((self.name_string(name)?, self.value_data(off, vk)?))) {
                Ok(v) => out.push(v),
                Err(e) => tally.add(e),
            }
        }
        tally.report(bad, "values", *key);
        out
    }
}

/// Parts of one key that could not be read, reported as one problem.
#[derive(Default)]
struct Tally {
    count: usize,
    first: Option<RegError>,
}

impl Tally {
    fn add(&mut self, e: RegError) {
        self.count += 1;
        self.first.get_or_insert(e);
    }

    fn report(self, bad: &mut dyn FnMut(RegError), what: &str, key: u32) {
        if let Some(e) = self.first {
            bad(match self.count {
                1 => e,
                n => RegError(format!("{n} {what} of the key at 0x{key:x} cannot be read, the first: {e}")),
            });
        }
    }
}

impl Hive {
    /// The values a damaged value list still has room for.
    fn value_offsets_prefix(&self, nk: &Nk<'_>) -> Vec<u32> {
        match self.cell(nk.value_list) {
            Ok(c) if self.charge(c.len()).is_ok() => {
                c.chunks_exact(4).take(nk.values as usize).map(|e| le32(e, 0)).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod real_world;
#[cfg(test)]
pub(crate) mod tests;

/// A registry in memory, for tests of the collectors: another
/// implementation of [`Registry`], as a live reader would be.
#[cfg(test)]
pub(crate) mod mem {
    use super::{RegError, Registry, Value};

    #[derive(Default)]
    pub struct Node {
        pub name: String,
        pub values: Vec<(String, Result<Value, String>)>,
        pub children: Vec<usize>,
    }

    /// Keys by index; 0 is the root. A value may be an error, as a damaged
    /// hive's can.
    pub struct MemRegistry {
        pub nodes: Vec<Node>,
    }

    impl MemRegistry {
        pub fn new() -> Self {
            MemRegistry { nodes: vec![Node::default()] }
        }

        /// Creates the key at `path` (and its parents) and returns it.
        pub fn key(&mut self, path: &str) -> usize {
            let mut at = 0;
            for part in path.split('\\').filter(|p| !p.is_empty()) {
                let found =
                    self.nodes[at].children.iter().copied().find(|&c| self.nodes[c].name.eq_ignore_ascii_case(part));
                at = match found {
                    Some(c) => c,
                    None => {
                        self.nodes.push(Node { name: part.into(), ..Default::default() });
                        let c = self.nodes.len() - 1;
                        self.nodes[at].children.push(c);
                        c
                    }
                };
            }
            at
        }

        pub fn set(&mut self, path: &str, name: &str, v: Result<Value, String>) {
            let k = self.key(path);
            self.nodes[k].values.push((name.into(), v));
        }
    }

    impl Registry for MemRegistry {
        type Key = usize;

        fn root_key(&self) -> usize {
            0
        }

        fn subkey(&self, key: &usize, name: &str) -> Result<Option<usize>, RegError> {
            Ok(self.nodes[*key].children.iter().copied().find(|&c| self.nodes[c].name.eq_ignore_ascii_case(name)))
        }

        fn subkeys(&self, key: &usize, _bad: &mut dyn FnMut(RegError)) -> Vec<(String, usize)> {
            self.nodes[*key].children.iter().map(|&c| (self.nodes[c].name.clone(), c)).collect()
        }

        fn value(&self, key: &usize, name: &str) -> Result<Option<Value>, RegError> {
            match self.nodes[*key].values.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                Some((_, Ok(v))) => Ok(Some(v.clone())),
                Some((_, Err(e))) => Err(RegError(e.clone())),
                None => Ok(None),
            }
        }

        fn values(&self, key: &usize, bad: &mut dyn FnMut(RegError)) -> Vec<(String, Value)> {
            let mut out = Vec::new();
            for (n, v) in &self.nodes[*key].values {
                match v {
                    Ok(v) => out.push((n.clone(), v.clone())),
                    Err(e) => bad(RegError(e.clone())),
                }
            }
            out
        }
    }

    pub fn sz(s: &str) -> Result<Value, String> {
        let mut data: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        data.extend([0, 0]);
        Ok(Value { kind: super::kind::SZ, data })
    }

    pub fn dword(n: u32) -> Result<Value, String> {
        Ok(Value { kind: super::kind::DWORD, data: n.to_le_bytes().to_vec() })
    }

    pub fn binary(b: &[u8]) -> Result<Value, String> {
        Ok(Value { kind: super::kind::BINARY, data: b.to_vec() })
    }
}
