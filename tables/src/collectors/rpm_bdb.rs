//! rpm's Berkeley DB database, `Packages` (RHEL/CentOS <= 8, Amazon Linux 2,
//! SLES 12): a Berkeley DB *hash* database whose keys are 4-byte header
//! numbers and whose values are header blobs, the same blobs rpmdb.sqlite
//! holds. Key 0 is rpm's own counter, not a package.
//!
//! Read-only and without libdb: the file is walked bucket by bucket, one
//! page at a time into reused buffers ([`ReadAt`]). Layout (Berkeley DB's `db_page.h`,
//! `hash.h`): page 0 is the hash metadata page; every other page starts with
//! a 26-byte header (pgno at 8, next page at 16, entry count at 20, free
//! offset at 22, type at 25) followed by an index of 2-byte item offsets.
//! Hash pages hold key/data pairs; an item is inline (`H_KEYDATA`) or names
//! a chain of overflow pages (`H_OFFPAGE`). Every integer is in the byte
//! order of the machine that wrote the file; the metadata magic tells which.
//!
//! Every page is read at most once (a bitset over the file's pages), so a
//! bucket chain or an overflow chain that loops, or two items sharing one
//! chain, costs no more than the file's size; a bad page ends its chain
//! with one message and the walk goes on with the next bucket.

/// `DB_HASHMAGIC`; `DB_BTREEMAGIC` is recognised only to say what it is.
use super::read_at::ReadAt;

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;

/// Page types (`P_*`).
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;

/// Hash item types (`H_*`).
const H_KEYDATA: u8 = 1;
const H_DUPLICATE: u8 = 2;
const H_OFFPAGE: u8 = 3;
const H_OFFDUP: u8 = 4;

/// Size of a page's header; the item index follows it.
const PAGE_HEADER: usize = 26;

/// rpm refuses a header over 256 MiB (`hdrblobVerifyInfo`); a value larger
/// than that is not a header.
pub const MAX_VALUE: usize = (256 << 20) + (1 << 20);

/// At most this many problems are reported one by one per database; the
/// rest are counted in one last message.
pub const MAX_MESSAGES: usize = 64;

#[derive(Clone, Copy)]
enum Order {
    Little,
    Big,
}

/// The hash metadata that the walk needs.
struct Meta {
    order: Order,
    page_size: usize,
    /// Pages the file really holds (its length / page size).
    pages: usize,
    last_pgno: u32,
    max_bucket: u32,
    spares: [u32; 32],
}

/// Walks a `Packages` file: `each(record number, header blob)` for every
/// package, `bad(message)` for every problem that still let the walk go on.
/// The `Err` is a file that is no readable hash database at all.
pub fn read<S: ReadAt + ?Sized>(
    src: &S,
    mut each: impl FnMut(u32, &[u8]),
    bad: impl FnMut(String),
) -> Result<(), String> {
    let len = src.len();
    if len < 512 {
        return Err(format!("{len} bytes is too short for a Berkeley DB metadata page"));
    }
    let mut first = [0u8; 512];
    src.read_exact_at(&mut first, 0)?;
    let meta = parse_meta(&first, len)?;
    let mut bad = Capped::new(bad);
    if meta.pages <= meta.last_pgno as usize {
        bad.note(format!(
            "truncated: the metadata names {} pages of {} bytes, the file holds {}",
            u64::from(meta.last_pgno) + 1,
            meta.page_size,
            meta.pages
        ));
    }
    // Each bucket has a page of its own, so there are fewer buckets than
    // pages; bounding the loop by the file keeps absurd metadata cheap.
    let buckets =
        meta.max_bucket.min(meta.last_pgno).min(u32::try_from(meta.pages.saturating_sub(1)).unwrap_or(u32::MAX));
    if buckets < meta.max_bucket {
        bad.note(format!(
            "{} buckets cannot fit in {} pages; read buckets 0 to {}",
            meta.max_bucket, meta.pages, buckets
        ));
    }
    let seen = vec![0u64; meta.pages.div_ceil(64)];
    let mut r = Reader {
        pages: Pages { src, meta, seen },
        hash_page: Vec::new(),
        overflow_page: Vec::new(),
        value: Vec::new(),
    };
    for bucket in 0..=buckets {
        let first = match r.pages.bucket_page(bucket) {
            Some(0) => {
                bad.note(format!("bucket {bucket}: the metadata maps it to page 0"));
                continue;
            }
            Some(n) => n,
            None => {
                bad.note(format!("bucket {bucket}: its page number overflows"));
                continue;
            }
        };
        r.walk_bucket(bucket, first, &mut each, &mut bad);
    }
    bad.finish();
    Ok(())
}

/// Reads the metadata page's first 512 bytes; `len` is the file's.
fn parse_meta(db: &[u8; 512], len: u64) -> Result<Meta, String> {
    let le = u32::from_le_bytes(db[12..16].try_into().unwrap_or_default());
    let be = u32::from_be_bytes(db[12..16].try_into().unwrap_or_default());
    let order = match (le, be) {
        (HASH_MAGIC, _) => Order::Little,
        (_, HASH_MAGIC) => Order::Big,
        (BTREE_MAGIC, _) | (_, BTREE_MAGIC) => {
            return Err("a Berkeley DB btree database; rpm's Packages is a hash database".into());
        }
        _ => return Err("not a Berkeley DB hash database (bad magic)".into()),
    };
    let u32_at = |at: usize| get_u32(db, at, order).unwrap_or(0);
    let version = u32_at(16);
    if !(8..=10).contains(&version) {
        return Err(format!("unsupported hash database version {version}"));
    }
    let page_size = u32_at(20) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    if db[24] != 0 {
        return Err("the database is encrypted".into());
    }
    if db[25] != P_HASHMETA {
        return Err(format!("page 0 has type {}, not hash metadata", db[25]));
    }
    // DBMETA_CHKSUM: pages then carry a checksum that moves the item index.
    if db[26] & 1 != 0 {
        return Err("pages carry checksums, which this reader does not support".into());
    }
    let mut spares = [0u32; 32];
    for (i, s) in spares.iter_mut().enumerate() {
        *s = u32_at(96 + 4 * i);
    }
    Ok(Meta {
        order,
        page_size,
        pages: usize::try_from(len / page_size as u64).unwrap_or(usize::MAX),
        last_pgno: u32_at(32),
        max_bucket: u32_at(72),
        spares,
    })
}

fn get_u32(b: &[u8], at: usize, order: Order) -> Option<u32> {
    let b: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(match order {
        Order::Little => u32::from_le_bytes(b),
        Order::Big => u32::from_be_bytes(b),
    })
}

fn get_u16(b: &[u8], at: usize, order: Order) -> Option<u16> {
    let b: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(match order {
        Order::Little => u16::from_le_bytes(b),
        Order::Big => u16::from_be_bytes(b),
    })
}

/// The file's pages, each handed out at most once.
struct Pages<'a, S: ReadAt + ?Sized> {
    src: &'a S,
    meta: Meta,
    /// One bit per page: set once the page has been read.
    seen: Vec<u64>,
}

impl<S: ReadAt + ?Sized> Pages<'_, S> {
    /// The first page of a bucket: the bucket number plus the spare-page
    /// offset of its split point (the number of bits in the bucket number).
    fn bucket_page(&self, bucket: u32) -> Option<u32> {
        let split = (32 - bucket.leading_zeros()) as usize;
        bucket.checked_add(*self.meta.spares.get(split)?)
    }

    /// Reads page `n` into `buf`, checked to be inside the file, not read
    /// before, and to say it is page `n`.
    fn read(&mut self, n: u32, buf: &mut Vec<u8>) -> Result<(), String> {
        if n == 0 || n > self.meta.last_pgno {
            return Err(format!("page {n} is out of range (last page {})", self.meta.last_pgno));
        }
        let i = n as usize;
        if i >= self.meta.pages {
            return Err(format!("page {n} is past the end of the file (truncated)"));
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.seen[word] & bit != 0 {
            return Err(format!("page {n} is reached a second time (a chain loops or is shared)"));
        }
        self.seen[word] |= bit;
        let ps = self.meta.page_size;
        buf.resize(ps, 0);
        self.src.read_exact_at(buf, (i * ps) as u64).map_err(|m| format!("page {n}: {m}"))?;
        let stored = get_u32(buf, 8, self.meta.order).unwrap_or(0);
        if stored != n {
            return Err(format!("page {n} says it is page {stored}"));
        }
        Ok(())
    }
}

struct Reader<'a, S: ReadAt + ?Sized> {
    pages: Pages<'a, S>,
    /// The hash page being walked, an overflow page, and an overflow value
    /// being gathered: buffers reused for the whole file.
    hash_page: Vec<u8>,
    overflow_page: Vec<u8>,
    value: Vec<u8>,
}

impl<S: ReadAt + ?Sized> Reader<'_, S> {
    /// Reads every pair of one bucket's chain of pages.
    fn walk_bucket(
        &mut self,
        bucket: u32,
        first: u32,
        each: &mut impl FnMut(u32, &[u8]),
        bad: &mut Capped<impl FnMut(String)>,
    ) {
        let order = self.pages.meta.order;
        let ps = self.pages.meta.page_size;
        let mut page = std::mem::take(&mut self.hash_page);
        let mut next = first;
        while next != 0 {
            if let Err(m) = self.pages.read(next, &mut page) {
                bad.note(format!("bucket {bucket}: {m}"));
                break;
            }
            let pgno = next;
            if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
                bad.note(format!("bucket {bucket}: page {pgno} has type {}, not a hash page", page[25]));
                break;
            }
            next = get_u32(&page, 16, order).unwrap_or(0);
            let entries = get_u16(&page, 20, order).unwrap_or(0) as usize;
            let room = (ps - PAGE_HEADER) / 2;
            let entries = if entries > room {
                bad.note(format!("page {pgno}: {entries} entries cannot fit; read {room}"));
                room
            } else {
                entries
            };
            if entries % 2 != 0 {
                bad.note(format!("page {pgno}: {entries} entries is not a whole number of key/data pairs"));
            }
            let index_end = PAGE_HEADER + 2 * entries;
            let offset = |i: usize| get_u16(&page, PAGE_HEADER + 2 * i, order).unwrap_or(0) as usize;
            for pair in 0..entries / 2 {
                let (k, v) = (2 * pair, 2 * pair + 1);
                // Items are packed downwards from the page's end: an item
                // ends where the one indexed before it starts.
                let key_end = if k == 0 { ps } else { offset(k - 1) };
                let (koff, voff) = (offset(k), offset(v));
                // Checked pair by pair against the one before, the items are
                // disjoint: no byte of the page is read for two records.
                if !(index_end <= voff && voff < koff && koff < key_end && key_end <= ps) {
                    bad.note(format!(
                        "page {pgno} pair {pair}: item offsets {koff}/{voff} are out of order or outside the page; \
                         the rest of the page is skipped"
                    ));
                    break;
                }
                let hnum = match self.item(&page[koff..key_end]) {
                    Ok(key) if key.len() == 4 => get_u32(key, 0, order).unwrap_or(0),
                    Ok(key) => {
                        bad.note(format!("page {pgno} pair {pair}: a {}-byte key is not a header number", key.len()));
                        continue;
                    }
                    Err(m) => {
                        bad.note(format!("page {pgno} pair {pair}: key: {m}"));
                        continue;
                    }
                };
                if hnum == 0 {
                    continue;
                }
                match self.item(&page[voff..koff]) {
                    Ok(blob) => each(hnum, blob),
                    Err(m) => bad.note(format!("record {hnum} (page {pgno}): {m}")),
                }
            }
        }
        self.hash_page = page;
    }

    /// The bytes of one hash item: inline, or gathered from its overflow
    /// chain into `self.value`.
    fn item<'p>(&'p mut self, item: &'p [u8]) -> Result<&'p [u8], String> {
        match item[0] {
            H_KEYDATA => Ok(&item[1..]),
            H_OFFPAGE => {
                if item.len() != 12 {
                    return Err(format!("an off-page item of {} bytes, not 12", item.len()));
                }
                let order = self.pages.meta.order;
                let pgno = get_u32(item, 4, order).unwrap_or(0);
                let len = get_u32(item, 8, order).unwrap_or(0) as usize;
                self.overflow(pgno, len)?;
                Ok(&self.value)
            }
            H_DUPLICATE | H_OFFDUP => Err("duplicate values, which rpm never writes".into()),
            t => Err(format!("unknown item type {t}")),
        }
    }

    /// Follows an overflow chain from `pgno` for `len` bytes into `self.value`.
    fn overflow(&mut self, mut pgno: u32, len: usize) -> Result<(), String> {
        let meta = &self.pages.meta;
        let (ps, order) = (meta.page_size, meta.order);
        // Nothing can be longer than the pages the file holds.
        let most = meta.pages.saturating_mul(ps - PAGE_HEADER).min(MAX_VALUE);
        if len == 0 || len > most {
            return Err(format!("an overflow value of {len} bytes is implausible (at most {most} here)"));
        }
        self.value.clear();
        self.value.reserve(len);
        while self.value.len() < len {
            if pgno == 0 {
                return Err(format!("the overflow chain ends after {} of {len} bytes", self.value.len()));
            }
            let page = &mut self.overflow_page;
            self.pages.read(pgno, page).map_err(|m| format!("overflow chain: {m}"))?;
            if page[25] != P_OVERFLOW {
                return Err(format!("overflow chain: page {pgno} has type {}, not overflow", page[25]));
            }
            let used = get_u16(page, 22, order).unwrap_or(0) as usize;
            let want = len - self.value.len();
            if used == 0 || PAGE_HEADER + used > ps || used > want {
                return Err(format!("overflow page {pgno}: {used} bytes used, {want} still wanted"));
            }
            self.value.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + used]);
            pgno = get_u32(page, 16, order).unwrap_or(0);
        }
        Ok(())
    }
}

/// Passes on the first [`MAX_MESSAGES`] messages and counts the rest, so a
/// file of nothing but bad pages is a bounded number of `scan_errors` rows.
pub struct Capped<F: FnMut(String)> {
    bad: F,
    count: usize,
}

impl<F: FnMut(String)> Capped<F> {
    pub fn new(bad: F) -> Self {
        Capped { bad, count: 0 }
    }

    pub fn note(&mut self, message: String) {
        self.count += 1;
        if self.count <= MAX_MESSAGES {
            (self.bad)(message);
        }
    }

    pub fn finish(mut self) {
        if self.count > MAX_MESSAGES {
            let more = self.count - MAX_MESSAGES;
            (self.bad)(format!("{more} more problems like the above were not reported one by one"));
        }
    }
}
