//! rpm's NDB database, `Packages.db` (SUSE Linux Enterprise 15, openSUSE):
//! rpm's own format (`lib/backend/ndb/rpmpkg.c`), little-endian throughout.
//!
//! The file starts with slot pages of 4096 bytes: a 32-byte header (`RpmP`,
//! version 0, generation, slot page count, next package index), then 16-byte
//! slots (`Slot`, package index, block offset, block count; offset 0 is a free
//! slot). A slot points at a blob in 16-byte blocks past the slot pages: a
//! 16-byte head (`BlbS`, package index, generation, length), the header blob
//! (the same bytes rpmdb.sqlite holds), zero padding to a block, and a 12-byte
//! tail (Adler-32 of head, blob and padding; length; `BlbE`).
//!
//! rpm refuses the whole database for one bad slot; here a bad slot or blob
//! is one message and the others are still read. Blobs may not overlap, so
//! no byte of the file is read for two packages.

use super::read_at::ReadAt;
use super::rpm_bdb::Capped;

const PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLK_SIZE: usize = 16;
const HEADER_SIZE: usize = 32;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

const DB_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const HEAD_MAGIC: &[u8; 4] = b"BlbS";
const TAIL_MAGIC: &[u8; 4] = b"BlbE";

struct Slot {
    number: usize,
    pkgidx: u32,
    blkoff: u32,
    blkcnt: u32,
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads a `Packages.db`: `each(package index, header blob)` for every
/// package, `bad(message)` for every problem that still let reading go on.
/// The `Err` is a file that is no NDB package database at all.
pub fn read<S: ReadAt + ?Sized>(
    src: &S,
    mut each: impl FnMut(u32, &[u8]),
    bad: impl FnMut(String),
) -> Result<(), String> {
    let len = usize::try_from(src.len()).map_err(|_| "the file is too large to address".to_string())?;
    let mut header = [0u8; HEADER_SIZE];
    if len < HEADER_SIZE || src.read_exact_at(&mut header, 0).is_err() || &header[..4] != DB_MAGIC {
        return Err("not an rpm NDB package database (bad magic)".into());
    }
    let db = &header[..];
    let version = le32(db, 4);
    if version != 0 {
        return Err(format!("unsupported NDB version {version}"));
    }
    let slot_pages = le32(db, 12) as usize;
    if slot_pages == 0 {
        return Err("the header names no slot pages".into());
    }
    let mut bad = Capped::new(bad);
    let slot_end = match slot_pages.checked_mul(PAGE_SIZE) {
        Some(end) if end <= len => end,
        _ => {
            bad.note(format!("truncated: {slot_pages} slot pages of {PAGE_SIZE} bytes, the file has {len} bytes"));
            len - len % SLOT_SIZE
        }
    };
    // The slot area is at most the file, which the caller bounds.
    let mut area = vec![0u8; slot_end];
    src.read_exact_at(&mut area, 0)?;
    let db = &area[..];
    let min_blk = slot_pages.saturating_mul(PAGE_SIZE / BLK_SIZE);
    let file_blks = len / BLK_SIZE;
    let mut slots = Vec::new();
    for (number, at) in (HEADER_SIZE..slot_end).step_by(SLOT_SIZE).enumerate() {
        let s = &db[at..at + SLOT_SIZE];
        if &s[..4] != SLOT_MAGIC {
            bad.note(format!("slot {number}: bad magic"));
            continue;
        }
        let slot = Slot { number, pkgidx: le32(s, 4), blkoff: le32(s, 8), blkcnt: le32(s, 12) };
        if slot.blkoff == 0 {
            continue;
        }
        let (off, cnt) = (slot.blkoff as usize, slot.blkcnt as usize);
        if slot.pkgidx == 0 || cnt == 0 || off < min_blk {
            bad.note(format!(
                "slot {number}: package {} at block {off} ({cnt} blocks) is not a valid entry",
                slot.pkgidx
            ));
        } else if off.saturating_add(cnt) > file_blks {
            bad.note(format!(
                "slot {number}: package {} at blocks {off}+{cnt} is past the end of the file (truncated)",
                slot.pkgidx
            ));
        } else {
            slots.push(slot);
        }
    }
    // In file order, as rpm lists them; a blob that starts inside the one
    // before it is refused, so the work is bounded by the file's size.
    slots.sort_by_key(|s| s.blkoff);
    let mut next_free = 0usize;
    let mut seen_idx = std::collections::HashSet::new();
    let mut buf = Vec::new();
    for slot in slots {
        let start = slot.blkoff as usize;
        let end = start + slot.blkcnt as usize;
        if start < next_free {
            bad.note(format!("slot {}: package {} overlaps the blob before it", slot.number, slot.pkgidx));
            continue;
        }
        if !seen_idx.insert(slot.pkgidx) {
            bad.note(format!("slot {}: package {} has a second slot", slot.number, slot.pkgidx));
            continue;
        }
        next_free = end;
        buf.resize((end - start) * BLK_SIZE, 0);
        if let Err(m) = src.read_exact_at(&mut buf, (start * BLK_SIZE) as u64) {
            bad.note(format!("package {} (slot {}): {m}", slot.pkgidx, slot.number));
            continue;
        }
        match blob(&buf, slot.pkgidx) {
            Ok(b) => each(slot.pkgidx, b),
            Err(m) => bad.note(format!("package {} (slot {}): {m}", slot.pkgidx, slot.number)),
        }
    }
    bad.finish();
    Ok(())
}

/// Checks one blob's head, tail and checksum; `area` is its whole run of blocks.
fn blob(area: &[u8], pkgidx: u32) -> Result<&[u8], String> {
    if area.len() < BLOB_HEAD + BLOB_TAIL {
        return Err(format!("{} bytes cannot hold a blob", area.len()));
    }
    if &area[..4] != HEAD_MAGIC {
        return Err("bad blob head magic".into());
    }
    let owner = le32(area, 4);
    if owner != pkgidx {
        return Err(format!("the blob says it belongs to package {owner}"));
    }
    let len = le32(area, 12) as usize;
    if (BLOB_HEAD + BLOB_TAIL).checked_add(len).map(|n| n.div_ceil(BLK_SIZE) * BLK_SIZE) != Some(area.len()) {
        return Err(format!("a {len}-byte blob does not fill its {} bytes of blocks", area.len()));
    }
    let tail = &area[area.len() - BLOB_TAIL..];
    if &tail[8..12] != TAIL_MAGIC {
        return Err("bad blob tail magic".into());
    }
    if le32(tail, 4) as usize != len {
        return Err(format!("head says {len} bytes, tail says {}", le32(tail, 4)));
    }
    let sum = adler2::adler32_slice(&area[..area.len() - BLOB_TAIL]);
    if sum != le32(tail, 0) {
        return Err(format!("Adler-32 {sum:08x} does not match the stored {:08x}", le32(tail, 0)));
    }
    Ok(&area[BLOB_HEAD..BLOB_HEAD + len])
}
