//! Recovery of a dirty hive from its transaction logs.
//!
//! Windows writes changes to a log before the hive, so the hive file of a
//! running (or crashed) system lags behind: its base block's two sequence
//! numbers differ, or its checksum is wrong. Two log formats exist:
//!
//! * the old one (Windows XP to 8): a base-block copy, a `DIRT` bitmap of
//!   512-byte pages and those pages; it applies when its timestamp is the
//!   hive's;
//! * the new one (Windows 8.1 on, `.LOG1` and `.LOG2` used in turn):
//!   `HvLE` entries of dirty pages, each with a sequence number and two
//!   Marvin32 hashes. Entries are applied in sequence order, from the log
//!   with the earlier entries into the other, and replay stops at the first
//!   gap, bad hash or damaged entry, as the kernel's does.
//!
//! Everything read from a log is bounded: the hive may grow only by as much
//! as the log holds, and pages are written only inside the hive bins the
//! entry announces.

use super::marvin::{LOG_SEED, marvin32};
use super::{BASE_BLOCK, BaseBlock, Notice, checksum, le32};
use crate::error::ErrorKind;

/// One transaction log of a hive.
#[derive(Clone, Copy, Debug)]
pub struct LogFile<'a> {
    /// For messages (`SOFTWARE.LOG1`).
    pub name: &'a str,
    pub data: &'a [u8],
}

/// What replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Indexes of the logs whose data was applied, in the order applied.
    pub used: Vec<usize>,
    /// New-format entries applied.
    pub entries: usize,
    /// Pages written into the hive (dirty pages of new-format entries, or
    /// 512-byte pages of an old-format log).
    pub pages: usize,
    /// The hive's base block was damaged and was taken from a log.
    pub base_from_log: bool,
    /// The sequence number the hive has after replay.
    pub sequence: Option<u32>,
    pub notices: Vec<Notice>,
}

impl Recovery {
    fn log_notice(&mut self, log: usize, kind: ErrorKind, message: String) {
        self.notices.push(Notice { log: Some(log), kind, message });
    }
}

/// Replays `logs` into the dirty hive `data` whose base block is `base`.
/// Problems are notices in the result; the hive is left as it was where a
/// log could not be used.
pub fn recover(data: &mut Vec<u8>, base: &BaseBlock, logs: &[LogFile<'_>]) -> Recovery {
    let mut r = Recovery::default();
    let mut new = Vec::new();
    let mut old = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        if log.data.is_empty() {
            // The unused log of a pair is often empty; it says nothing.
            continue;
        }
        match BaseBlock::parse(log.data) {
            None => r.log_notice(i, ErrorKind::ParseError, "not a transaction log (no regf base block)".into()),
            Some(b) if !b.checksum_ok => {
                r.log_notice(i, ErrorKind::ParseError, "the log's base block checksum is wrong; not applied".into())
            }
            Some(b) if b.primary_seq != b.secondary_seq => r.log_notice(
                i,
                ErrorKind::ParseError,
                format!(
                    "the log was not completely written (sequence numbers {} and {}); not applied",
                    b.primary_seq, b.secondary_seq
                ),
            ),
            Some(b) if b.file_type == 6 => new.push((i, b)),
            Some(b) if b.file_type == 1 || b.file_type == 2 => old.push((i, b)),
            Some(b) => {
                r.log_notice(i, ErrorKind::Unsupported, format!("unknown log file type {}; not applied", b.file_type))
            }
        }
    }
    if !new.is_empty() {
        recover_new(data, base, logs, new, &mut r);
    } else if !old.is_empty() {
        recover_old(data, base, logs, old, &mut r);
    }
    let applied = r.entries > 0 || r.pages > 0;
    if applied {
        let c = checksum(data);
        data[508..512].copy_from_slice(&c.to_le_bytes());
    } else {
        let why = if !base.checksum_ok {
            "its base block checksum is wrong".to_string()
        } else {
            format!(
                "a write began and did not finish: sequence numbers {} and {}",
                base.primary_seq, base.secondary_seq
            )
        };
        let (kind, logs_said) = if logs.iter().all(|l| l.data.is_empty()) {
            (ErrorKind::NotFound, "no transaction log (.LOG1, .LOG2, .LOG) was found to replay")
        } else {
            (ErrorKind::ParseError, "no transaction log could be replayed")
        };
        r.notices.push(Notice {
            log: None,
            kind,
            message: format!(
                "the hive is dirty ({why}) and {logs_said}; changes Windows had not yet written to the hive may be missing"
            ),
        });
    }
    r
}

/// One validated new-format entry.
struct Entry<'a> {
    flags: u32,
    seq: u32,
    bins_size: u32,
    /// (offset in the hive bins, bytes) of each page.
    pages: Vec<(usize, &'a [u8])>,
}

/// The valid entries of a new-format log, in file order, up to the first
/// one that is damaged or whose hashes do not match (remnants of older
/// entries after it are not trusted).
fn entries(log: &[u8]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut at = 512;
    while at + 40 <= log.len() && &log[at..at + 4] == b"HvLE" {
        let size = le32(log, at + 4) as usize;
        if size < 40 || !size.is_multiple_of(512) || size > log.len() - at {
            break;
        }
        let e = &log[at..at + size];
        let (flags, seq, bins_size, count) = (le32(e, 8), le32(e, 12), le32(e, 16), le32(e, 20) as usize);
        let h1 = u64::from_le_bytes(e[24..32].try_into().unwrap_or_default());
        let h2 = u64::from_le_bytes(e[32..40].try_into().unwrap_or_default());
        if bins_size % 4096 != 0 || marvin32(LOG_SEED, &e[40..]) != h1 || marvin32(LOG_SEED, &e[..32]) != h2 {
            break;
        }
        let refs_end = count.checked_mul(8).and_then(|n| n.checked_add(40));
        let Some(refs_end) = refs_end.filter(|&n| n <= size) else { break };
        let mut pages = Vec::with_capacity(count);
        let mut data_at = refs_end;
        let mut ok = true;
        for r in e[40..refs_end].chunks_exact(8) {
            let (off, len) = (le32(r, 0) as usize, le32(r, 4) as usize);
            if len > size - data_at || off.checked_add(len).is_none_or(|end| end > bins_size as usize) {
                ok = false;
                break;
            }
            pages.push((off, &e[data_at..data_at + len]));
            data_at += len;
        }
        if !ok {
            break;
        }
        out.push(Entry { flags, seq, bins_size, pages });
        at += size;
    }
    out
}

/// Grows the hive to hold `bins_size` bytes of bins, by no more than
/// `allowance` bytes (the size of the log it comes from). False if it would
/// have to grow more.
fn grow(data: &mut Vec<u8>, bins_size: u32, allowance: usize) -> bool {
    let want = BASE_BLOCK + bins_size as usize;
    if want <= data.len() {
        return true;
    }
    if want - data.len() > allowance {
        return false;
    }
    data.resize(want, 0);
    true
}

fn set_header(data: &mut [u8], seq: u32, bins_size: u32) {
    data[4..8].copy_from_slice(&seq.to_le_bytes());
    data[8..12].copy_from_slice(&seq.to_le_bytes());
    data[40..44].copy_from_slice(&bins_size.to_le_bytes());
}

/// Takes the base block from a log for a hive whose own is damaged: the log
/// holds a copy of its first sector.
fn base_from_log(data: &mut [u8], log: &[u8], r: &mut Recovery) {
    data[..512].copy_from_slice(&log[..512]);
    data[28..32].copy_from_slice(&0u32.to_le_bytes());
    r.base_from_log = true;
}

fn recover_new(
    data: &mut Vec<u8>,
    base: &BaseBlock,
    logs: &[LogFile<'_>],
    mut cands: Vec<(usize, BaseBlock)>,
    r: &mut Recovery,
) {
    if base.checksum_ok {
        // Only entries not yet in the hive: a log whose first entry is older
        // than the hive's last completed write was already applied.
        cands.retain(|(_, b)| b.primary_seq >= base.secondary_seq);
        cands.sort_by_key(|(_, b)| b.primary_seq);
        if cands.is_empty() {
            return;
        }
    } else {
        // A damaged base block leaves no sequence to start from: the log with
        // the latest entries is used alone, with its copy of the base block.
        let Some(latest) = cands.iter().max_by_key(|(_, b)| b.primary_seq).copied() else { return };
        cands = vec![latest];
    }
    let mut expected: Option<u32> = None;
    for (i, lb) in cands {
        let log = logs[i].data;
        let mut applied_here = 0;
        for e in entries(log) {
            if e.seq != expected.unwrap_or(lb.primary_seq) {
                break;
            }
            if !grow(data, e.bins_size, log.len()) {
                r.log_notice(
                    i,
                    ErrorKind::ParseError,
                    format!(
                        "a log entry grows the hive to {} bytes of bins, more than the log can hold; replay stopped",
                        e.bins_size
                    ),
                );
                break;
            }
            if !base.checksum_ok && r.entries == 0 {
                base_from_log(data, log, r);
            }
            for (off, page) in &e.pages {
                data[BASE_BLOCK + off..BASE_BLOCK + off + page.len()].copy_from_slice(page);
            }
            set_header(data, e.seq, e.bins_size);
            // The entry carries the base block's "locked by KTM" bit only.
            let flags = (le32(data, 144) & !1) | (e.flags & 1);
            data[144..148].copy_from_slice(&flags.to_le_bytes());
            r.entries += 1;
            r.pages += e.pages.len();
            r.sequence = Some(e.seq);
            expected = Some(e.seq.wrapping_add(1));
            applied_here += 1;
        }
        if applied_here > 0 {
            r.used.push(i);
        }
        // A log whose first entry could not be applied still says which
        // entry was due: a later log may not skip over it.
        expected.get_or_insert(lb.primary_seq);
    }
}

fn recover_old(
    data: &mut Vec<u8>,
    base: &BaseBlock,
    logs: &[LogFile<'_>],
    cands: Vec<(usize, BaseBlock)>,
    r: &mut Recovery,
) {
    // A log belongs to this state of the hive when its timestamp is the
    // hive's. A damaged base block's own timestamp may still be intact
    // (yarp's BadBaseBlockHive); the first bin keeps a copy too.
    let bin_time =
        data.get(BASE_BLOCK + 20..BASE_BLOCK + 28).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
    let belongs = |t: u64| t == base.timestamp || (!base.checksum_ok && Some(t) == bin_time);
    for (i, lb) in cands {
        let log = logs[i].data;
        if !belongs(lb.timestamp) {
            r.log_notice(
                i,
                ErrorKind::ParseError,
                "the log belongs to another state of the hive (its timestamp differs); not applied".into(),
            );
            continue;
        }
        let sector = 512 * lb.clustering.clamp(1, 8) as usize;
        let bits = lb.bins_size as usize / 512;
        let bitmap_len = bits.div_ceil(8);
        let bitmap = match log.get(sector..sector + 4 + bitmap_len) {
            Some(v) if &v[..4] == b"DIRT" => &v[4..],
            _ => {
                r.log_notice(i, ErrorKind::ParseError, "no dirty-page bitmap (DIRT) in the log; not applied".into());
                continue;
            }
        };
        let pages_at = (sector + 4 + bitmap_len).div_ceil(sector) * sector;
        let dirty: Vec<usize> = (0..bits).filter(|&b| bitmap[b / 8] >> (b % 8) & 1 == 1).collect();
        if pages_at + dirty.len() * 512 > log.len() {
            r.log_notice(
                i,
                ErrorKind::ParseError,
                format!("the log lists {} dirty pages and holds fewer; not applied", dirty.len()),
            );
            continue;
        }
        if !grow(data, lb.bins_size, log.len()) {
            r.log_notice(
                i,
                ErrorKind::ParseError,
                "the log's hive bins size is larger than the log can explain; not applied".into(),
            );
            continue;
        }
        if !base.checksum_ok {
            base_from_log(data, log, r);
        }
        for (k, page) in dirty.iter().enumerate() {
            let from = pages_at + k * 512;
            let to = BASE_BLOCK + page * 512;
            data[to..to + 512].copy_from_slice(&log[from..from + 512]);
        }
        let seq = lb.primary_seq.max(base.primary_seq);
        set_header(data, seq, lb.bins_size);
        r.pages += dirty.len();
        r.sequence = Some(seq);
        r.used.push(i);
        return;
    }
}
