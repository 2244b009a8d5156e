//! A small regf (registry hive) writer, for synthetic benchmark roots.
//!
//! It writes what Windows writes for a freshly compacted hive: 4 KiB hive
//! bins (larger only for a cell that needs it), `lh` subkey lists sorted by
//! uppercase name (split under an `ri` above 500 entries, as Windows does
//! for big keys), values inline up to 4 bytes, big data (`db`) above 16,344
//! bytes, and one security cell shared by every key. hivex reads its output
//! (bench/ and the fixtures README say how that was checked).

use std::time::{SystemTime, UNIX_EPOCH};

pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;

const BIN: usize = 4096;
const SEGMENT: usize = 16344;
const LH_MAX: usize = 500;

#[derive(Default)]
pub struct Key {
    pub name: String,
    pub values: Vec<(String, u32, Vec<u8>)>,
    pub children: Vec<Key>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key { name: name.to_string(), ..Default::default() }
    }

    /// The descendant at `path` (backslash-separated), created as needed.
    pub fn at(&mut self, path: &str) -> &mut Key {
        let mut k = self;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            let i = match k.children.iter().position(|c| c.name.eq_ignore_ascii_case(part)) {
                Some(i) => i,
                None => {
                    k.children.push(Key::new(part));
                    k.children.len() - 1
                }
            };
            k = &mut k.children[i];
        }
        k
    }

    pub fn sz(&mut self, name: &str, s: &str) -> &mut Key {
        self.values.push((name.into(), REG_SZ, utf16z(s)));
        self
    }

    pub fn expand(&mut self, name: &str, s: &str) -> &mut Key {
        self.values.push((name.into(), REG_EXPAND_SZ, utf16z(s)));
        self
    }

    pub fn dword(&mut self, name: &str, n: u32) -> &mut Key {
        self.values.push((name.into(), REG_DWORD, n.to_le_bytes().to_vec()));
        self
    }

    pub fn binary(&mut self, name: &str, b: Vec<u8>) -> &mut Key {
        self.values.push((name.into(), REG_BINARY, b));
        self
    }
}

pub fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes).collect()
}

fn upper(s: &str) -> String {
    s.chars().flat_map(char::to_uppercase).collect()
}

/// Windows' `lh` name hash: 37·h + c over the uppercase UTF-16 name.
fn name_hash(name: &str) -> u32 {
    upper(name).encode_utf16().fold(0u32, |h, c| h.wrapping_mul(37).wrapping_add(c as u32))
}

/// Name bytes and whether they are stored compressed (Latin-1).
fn name_bytes(name: &str) -> (Vec<u8>, bool) {
    if name.chars().all(|c| (c as u32) < 256) {
        (name.chars().map(|c| c as u8).collect(), true)
    } else {
        (name.encode_utf16().flat_map(u16::to_le_bytes).collect(), false)
    }
}

struct Writer {
    bins: Vec<u8>,
    /// Where the current bin ends.
    bin_end: usize,
    security: u32,
    keys: u32,
}

impl Writer {
    fn alloc(&mut self, body: &[u8]) -> u32 {
        let size = (body.len() + 4).div_ceil(8) * 8;
        if self.bins.len() + size > self.bin_end {
            // Close the bin with a free cell and open one big enough.
            let rest = self.bin_end - self.bins.len();
            if rest > 0 {
                let at = self.bins.len();
                self.bins.resize(self.bin_end, 0);
                self.bins[at..at + 4].copy_from_slice(&(rest as i32).to_le_bytes());
            }
            let len = (size + 32).div_ceil(BIN) * BIN;
            let start = self.bins.len();
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(b"hbin");
            h[4..8].copy_from_slice(&(start as u32).to_le_bytes());
            h[8..12].copy_from_slice(&(len as u32).to_le_bytes());
            self.bins.extend_from_slice(&h);
            self.bin_end = start + len;
        }
        let off = self.bins.len();
        self.bins.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bins.extend_from_slice(body);
        self.bins.resize(off + size, 0);
        off as u32
    }

    fn patch(&mut self, cell: u32, field: usize, v: u32) {
        let at = cell as usize + 4 + field;
        self.bins[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn data(&mut self, data: &[u8]) -> u32 {
        if data.len() <= SEGMENT {
            return self.alloc(data);
        }
        let segs: Vec<u32> = data.chunks(SEGMENT).map(|c| self.alloc(c)).collect();
        let list: Vec<u8> = segs.iter().flat_map(|s| s.to_le_bytes()).collect();
        let list = self.alloc(&list);
        let mut db = b"db".to_vec();
        db.extend((segs.len() as u16).to_le_bytes());
        db.extend(list.to_le_bytes());
        self.alloc(&db)
    }

    fn value(&mut self, name: &str, kind: u32, data: &[u8]) -> u32 {
        let (nb, comp) = name_bytes(name);
        let (size, off) = if data.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..data.len()].copy_from_slice(data);
            (data.len() as u32 | 0x8000_0000, u32::from_le_bytes(inline))
        } else {
            (data.len() as u32, self.data(data))
        };
        let mut vk = b"vk".to_vec();
        vk.extend((nb.len() as u16).to_le_bytes());
        vk.extend(size.to_le_bytes());
        vk.extend(off.to_le_bytes());
        vk.extend(kind.to_le_bytes());
        vk.extend((comp as u16).to_le_bytes());
        vk.extend([0, 0]);
        vk.extend(&nb);
        self.alloc(&vk)
    }

    fn key(&mut self, key: &Key, parent: u32, root: bool) -> u32 {
        let (nb, comp) = name_bytes(&key.name);
        let mut nk = vec![0u8; 76];
        nk[..2].copy_from_slice(b"nk");
        let flags: u16 = if comp { 0x20 } else { 0 } | if root { 0x2C } else { 0 };
        nk[2..4].copy_from_slice(&flags.to_le_bytes());
        nk[4..12].copy_from_slice(&filetime().to_le_bytes());
        nk[16..20].copy_from_slice(&parent.to_le_bytes());
        nk[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[44..48].copy_from_slice(&self.security.to_le_bytes());
        nk[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[72..74].copy_from_slice(&(nb.len() as u16).to_le_bytes());
        nk.extend(&nb);
        let me = self.alloc(&nk);
        self.keys += 1;

        let mut children: Vec<(String, u32)> =
            key.children.iter().map(|c| (upper(&c.name), self.key(c, me, false))).collect();
        children.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
        if !children.is_empty() {
            let list = self.subkey_list(&children);
            self.patch(me, 20, children.len() as u32);
            self.patch(me, 28, list);
        }
        let max_name = key.children.iter().map(|c| name_bytes(&c.name).0.len() * 2).max().unwrap_or(0);
        self.patch(me, 52, max_name as u32);
        if !key.values.is_empty() {
            let offs: Vec<u8> = key.values.iter().flat_map(|(n, k, d)| self.value(n, *k, d).to_le_bytes()).collect();
            let list = self.alloc(&offs);
            self.patch(me, 36, key.values.len() as u32);
            self.patch(me, 40, list);
            let max_vname = key.values.iter().map(|(n, _, _)| n.encode_utf16().count() * 2).max().unwrap_or(0);
            let max_data = key.values.iter().map(|(_, _, d)| d.len()).max().unwrap_or(0);
            self.patch(me, 60, max_vname as u32);
            self.patch(me, 64, max_data as u32);
        }
        me
    }

    fn lh(&mut self, children: &[(String, u32)]) -> u32 {
        let mut lh = b"lh".to_vec();
        lh.extend((children.len() as u16).to_le_bytes());
        for (upper, off) in children {
            lh.extend(off.to_le_bytes());
            lh.extend(name_hash(upper).to_le_bytes());
        }
        self.alloc(&lh)
    }

    fn subkey_list(&mut self, children: &[(String, u32)]) -> u32 {
        if children.len() <= LH_MAX {
            return self.lh(children);
        }
        let lists: Vec<u32> = children.chunks(LH_MAX).map(|c| self.lh(c)).collect();
        let mut ri = b"ri".to_vec();
        ri.extend((lists.len() as u16).to_le_bytes());
        for l in lists {
            ri.extend(l.to_le_bytes());
        }
        self.alloc(&ri)
    }
}

fn filetime() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    (since + 11_644_473_600) * 10_000_000
}

/// A self-relative security descriptor granting Everyone full control,
/// shared by all keys (Windows requires each key to have one).
fn security_cell(w: &mut Writer) -> u32 {
    // Revision 1, SE_SELF_RELATIVE | SE_DACL_PRESENT, owner/group S-1-5-18,
    // DACL with one ACCESS_ALLOWED ACE for S-1-1-0 (KEY_ALL_ACCESS).
    let sid_system: &[u8] = &[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0];
    let sid_everyone: &[u8] = &[1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    let mut ace = vec![0u8, 0];
    ace.extend(((8 + sid_everyone.len()) as u16).to_le_bytes());
    ace.extend(0xF003Fu32.to_le_bytes());
    ace.extend(sid_everyone);
    let mut acl = vec![2u8, 0];
    acl.extend(((8 + ace.len()) as u16).to_le_bytes());
    acl.extend(1u16.to_le_bytes());
    acl.extend([0, 0]);
    acl.extend(&ace);
    let owner = 20u32;
    let group = owner + sid_system.len() as u32;
    let dacl = group + sid_system.len() as u32;
    let mut sd = vec![1u8, 0];
    sd.extend(0x8004u16.to_le_bytes());
    sd.extend(owner.to_le_bytes());
    sd.extend(group.to_le_bytes());
    sd.extend(0u32.to_le_bytes());
    sd.extend(dacl.to_le_bytes());
    sd.extend(sid_system);
    sd.extend(sid_system);
    sd.extend(&acl);
    let mut sk = b"sk".to_vec();
    sk.extend([0, 0]);
    sk.extend([0u8; 12]); // flink, blink, refcount: patched below
    sk.extend((sd.len() as u32).to_le_bytes());
    sk.extend(&sd);
    let at = w.alloc(&sk);
    w.patch(at, 4, at);
    w.patch(at, 8, at);
    at
}

/// The hive file holding `root` (its name is not stored; Windows' root keys
/// carry a placeholder name).
pub fn write(root: &Key) -> Vec<u8> {
    let mut w = Writer { bins: Vec::new(), bin_end: 0, security: 0, keys: 0 };
    w.security = security_cell(&mut w);
    let root_off = w.key(root, 0, true);
    let refs = w.keys;
    let sec = w.security;
    w.patch(sec, 12, refs);
    let rest = w.bin_end - w.bins.len();
    if rest > 0 {
        let at = w.bins.len();
        w.bins.resize(w.bin_end, 0);
        w.bins[at..at + 4].copy_from_slice(&(rest as i32).to_le_bytes());
    }
    let mut base = vec![0u8; 4096];
    base[..4].copy_from_slice(b"regf");
    base[4..8].copy_from_slice(&1u32.to_le_bytes());
    base[8..12].copy_from_slice(&1u32.to_le_bytes());
    base[12..20].copy_from_slice(&filetime().to_le_bytes());
    base[20..24].copy_from_slice(&1u32.to_le_bytes());
    base[24..28].copy_from_slice(&5u32.to_le_bytes());
    base[32..36].copy_from_slice(&1u32.to_le_bytes());
    base[36..40].copy_from_slice(&root_off.to_le_bytes());
    base[40..44].copy_from_slice(&(w.bins.len() as u32).to_le_bytes());
    base[44..48].copy_from_slice(&1u32.to_le_bytes());
    let c = base[..508].chunks_exact(4).fold(0u32, |c, x| c ^ u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let c = match c {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        c => c,
    };
    base[508..512].copy_from_slice(&c.to_le_bytes());
    base.extend_from_slice(&w.bins);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hivex(tool: &str) -> bool {
        let found = std::process::Command::new(tool).arg("--help").output().is_ok();
        if !found {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "{tool} is missing; .ci/run must install it");
            eprintln!("skipping: {tool} is not installed");
        }
        found
    }

    /// hivex reads what the writer writes: an ri over 600 lh-listed keys, a
    /// big-data value, a non-ASCII key name, inline and cell data.
    #[test]
    fn hivex_reads_the_written_hive() {
        if !hivex("hivexget") {
            return;
        }
        let mut root = Key::new("ROOT");
        for i in 0..600 {
            root.at(&format!("Many\\k{i:04}")).dword("N", i);
        }
        root.at("Big").binary("Blob", (0..40000u32).map(|i| (i % 251) as u8).collect());
        root.at("Ünïcödé Ω").sz("Name", "value ü").dword("Small", 7);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("HIVE");
        std::fs::write(&path, write(&root)).unwrap();
        let get = |key: &str, value: &str| {
            let out = std::process::Command::new("hivexget").arg(&path).arg(key).arg(value).output().unwrap();
            assert!(out.status.success(), "hivexget {key} {value}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim_end().to_string()
        };
        assert_eq!(get("Many\\k0599", "N"), "599");
        assert_eq!(get("Many\\k0000", "N"), "0");
        assert_eq!(get("Ünïcödé Ω", "Name"), "value ü");
        let out = std::process::Command::new("hivexregedit").arg("--export").arg(&path).arg("\\Big").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let hex = text.lines().find_map(|l| l.strip_prefix("\"Blob\"=hex(3):")).expect("Blob exported");
        let bytes: Vec<u8> = hex.split(',').map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
        assert_eq!(bytes, (0..40000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let keys =
            std::process::Command::new("hivexregedit").arg("--export").arg(&path).arg("\\Many").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&keys.stdout).lines().filter(|l| l.starts_with('[')).count(), 601);
    }
}
