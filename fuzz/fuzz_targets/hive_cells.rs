//! Registry hive cells alone: the input's bytes after its first are the
//! cells of hive bins behind a valid base block the target writes (so no
//! mutation is spent finding the `regf` header, its checksum or a bin
//! header), read through `Hive::parse`, a full walk, and lookups by path
//! and by name. The first byte chooses: bit 0, format 1.5 (big data `db`
//! cells) rather than 1.3; bit 1, one bin per 4 KiB page (4,064 bytes of
//! cells each) rather than one bin for all. The root key is at the first
//! cell (0x20), or wherever the reader's search for a root cell finds one.
//!
//! Checks besides no panic: the base block is accepted, so parsing fails
//! only for want of a root key; keys visited are distinct and at most one
//! per 80 bytes; every key the walk names is found again by path and every
//! value with a unique name by name, with the same bytes; in a 1.3 hive
//! (no big data) each value's bytes are bytes of the hive; names and data
//! read together stay within the reader's budget (8 bytes per hive byte
//! plus 16 MiB, names counted as decoded).
#![no_main]

use std::collections::{HashMap, HashSet};

use embargo_tables::collectors::hive::{Hive, Registry};
use libfuzzer_sys::fuzz_target;

const PAGE: usize = 4096;
const HBIN_HEADER: usize = 32;

fn hbin(offset: usize, size: usize) -> Vec<u8> {
    let mut h = vec![0u8; HBIN_HEADER];
    h[..4].copy_from_slice(b"hbin");
    h[4..8].copy_from_slice(&(offset as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(size as u32).to_le_bytes());
    h
}

fn build(control: u8, cells: &[u8]) -> Vec<u8> {
    let minor: u32 = if control & 1 != 0 { 5 } else { 3 };
    let mut bins = Vec::new();
    if control & 2 != 0 {
        for (i, chunk) in cells.chunks(PAGE - HBIN_HEADER).enumerate() {
            bins.extend(hbin(i * PAGE, PAGE));
            bins.extend(chunk);
            bins.resize((i + 1) * PAGE, 0);
        }
        if bins.is_empty() {
            bins.extend(hbin(0, PAGE));
            bins.resize(PAGE, 0);
        }
    } else {
        let size = (HBIN_HEADER + cells.len()).div_ceil(PAGE) * PAGE;
        bins.extend(hbin(0, size));
        bins.extend(cells);
        bins.resize(size, 0);
    }
    let mut base = vec![0u8; PAGE];
    base[..4].copy_from_slice(b"regf");
    for (at, v) in [(4, 1), (8, 1), (20, 1), (24, minor), (32, 1), (36, 0x20), (40, bins.len() as u32), (44, 1)] {
        base[at..at + 4].copy_from_slice(&u32::to_le_bytes(v));
    }
    let sum = base[..508].chunks_exact(4).fold(0u32, |c, w| c ^ u32::from_le_bytes(w.try_into().unwrap()));
    let sum = match sum {
        0 => 1,
        0xFFFF_FFFF => 0xFFFF_FFFE,
        s => s,
    };
    base[508..512].copy_from_slice(&sum.to_le_bytes());
    base.extend(bins);
    base
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, cells)) = data.split_first() else { return };
    let bytes = build(control, cells);
    let len = bytes.len();
    let hive = match Hive::parse(bytes.clone()) {
        Ok(h) => h,
        Err(e) => {
            assert!(e.0.contains("no root key"), "a valid base block refused: {e}");
            return;
        }
    };
    assert_eq!(hive.bytes(), &bytes[..], "a clean hive is read as it is");
    assert!(hive.recovery().is_none());

    let mut keys = Vec::new();
    hive.walk(hive.root_key(), &mut |path, key| keys.push((path.to_vec(), key)), &mut |e| assert!(!e.0.is_empty()));
    assert!(keys.len() <= len / 80 + 1, "{} keys from {len} bytes", keys.len());
    let distinct: HashSet<u32> = keys.iter().map(|(_, k)| *k).collect();
    assert_eq!(distinct.len(), keys.len(), "the walk visited a key twice");

    // Lookups by path are checked where every key on the path is alone
    // with its name among its siblings (a lookup finds the first).
    let ambiguous = embargo_fuzz::ambiguous_keys(&hive, &keys);
    let by_path: HashMap<Vec<String>, u32> = keys.iter().cloned().collect();
    let mut read = 0usize;
    for (path, key) in &keys {
        read += path.last().map_or(0, String::len);
        let plain = (1..=path.len()).all(|n| by_path.get(&path[..n]).is_some_and(|k| !ambiguous.contains(k)));
        if plain && path.iter().all(|p| !p.is_empty() && !p.contains('\\')) {
            match hive.open(&path.join("\\")) {
                Ok(found) => assert_eq!(found, Some(*key), "walked to {path:?}, lookup finds another key"),
                Err(e) => assert!(!e.0.is_empty()),
            }
        }
        let values = hive.values(key, &mut |e| assert!(!e.0.is_empty()));
        let mut count: HashMap<String, usize> = HashMap::new();
        for (name, _) in &values {
            *count.entry(name.to_lowercase()).or_default() += 1;
        }
        for (name, v) in &values {
            read += name.len() + v.data.len();
            if control & 1 == 0 && v.data.len() > 4 {
                assert!(
                    bytes.windows(v.data.len()).any(|w| w == v.data.as_slice()),
                    "value {name:?}: bytes not in the hive"
                );
            }
            if count[&name.to_lowercase()] == 1 && name.chars().all(|c| c.is_ascii()) {
                if let Ok(found) = hive.value(key, name) {
                    assert_eq!(found.as_ref(), Some(v), "value {name:?} by name differs from the listing");
                }
            }
        }
    }
    // A decoded name may take twice its stored bytes (Latin-1 to UTF-8).
    assert!(read <= 2 * (8 * len + (16 << 20)), "{read} bytes of names and data from a {len}-byte hive");
});
