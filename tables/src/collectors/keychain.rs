//! Keychain files (the CSSM/"kych" database of `System.keychain`,
//! `SystemRootCertificates.keychain` and users' `login.keychain[-db]`): the
//! DER of their X.509 certificate records.
//!
//! Layout (big-endian), from libyal's "MacOS keychain database file format"
//! (dtformats) and chainbreaker: a 20-byte header (`kych`, major version 1,
//! header size, tables-array offset); the tables array (size, count, then
//! one offset per table, relative to the array); each table a 28-byte header
//! (size, record type, records, records offset, index offset, free list,
//! record-offset count) and the record offsets, relative to the table (0 =
//! free); each record a 24-byte header (size, number, create version,
//! record version, data size, semantic information), one offset per
//! attribute (to the value + 1, 0 = none), then the record's data blob. For
//! an X.509 certificate record (type 0x80001000) the blob is the DER. How
//! many attributes a record type has is in the schema-attributes table
//! (type 2): one record per attribute, its first attribute the record type.
//!
//! Certificates are stored in the clear (only keys and passwords are
//! encrypted), so no password is needed. Every offset is checked against
//! the file; a bad table or record is reported and skipped.

use std::collections::HashMap;
use std::ffi::OsStr;

use crate::error::{ErrorKind, FsError};
use crate::root::{Root, lossy};

pub const SYSTEM_KEYCHAIN: &str = "/Library/Keychains/System.keychain";
pub const SYSTEM_ROOTS: &str = "/System/Library/Keychains/SystemRootCertificates.keychain";
pub const LIMIT: u64 = 64 << 20;

const CERT_TYPE: u32 = 0x8000_1000;
const SCHEMA_ATTRIBUTES: u32 = 2;
/// Attributes of a certificate record when the schema does not say
/// (CertType ... PublicKeyHash, as every keychain written since 10.2 has).
const CERT_ATTRS: u32 = 9;
const RECORD_HEADER: usize = 24;
const TABLE_HEADER: usize = 28;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeychainCert {
    pub der: Vec<u8>,
    /// The PrintName attribute (the label Keychain Access shows).
    pub print_name: Option<String>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

struct Table<'a> {
    rtype: u32,
    /// Each live record's bytes, from its header to the end of the record.
    records: Vec<&'a [u8]>,
}

/// Parses a keychain file. `bad` hears about each table or record skipped;
/// a file that is not a keychain at all is an error.
pub fn parse(b: &[u8], bad: &mut dyn FnMut(String)) -> Result<Vec<KeychainCert>, String> {
    if b.len() < 20 || &b[..4] != b"kych" {
        return Err("not a keychain (no kych signature)".into());
    }
    let major = u16::from_be_bytes([b[4], b[5]]);
    if major != 1 {
        return Err(format!("keychain format version {major} is not supported (only 1)"));
    }
    let array = u32_at(b, 12).unwrap_or(0) as usize;
    let count = u32_at(b, array + 4)
        .ok_or_else(|| format!("tables array offset {array} is past the end ({} bytes)", b.len()))?;
    if count as usize > (b.len() - array - 8) / 4 {
        return Err(format!("{count} tables do not fit in the file"));
    }
    let mut tables = Vec::new();
    for i in 0..count as usize {
        let off = u32_at(b, array + 8 + 4 * i).unwrap_or(0) as usize;
        match table(b, array.saturating_add(off)) {
            Ok(t) => tables.push(t),
            Err(m) => bad(format!("table {i}: {m}")),
        }
    }
    let attrs = attribute_counts(&tables).get(&CERT_TYPE).copied().unwrap_or(CERT_ATTRS);
    let mut out = Vec::new();
    for t in tables.iter().filter(|t| t.rtype == CERT_TYPE) {
        for (i, r) in t.records.iter().enumerate() {
            match certificate(r, attrs as usize) {
                Ok(c) => out.push(c),
                Err(m) => bad(format!("certificate record {i}: {m}")),
            }
        }
    }
    Ok(out)
}

fn table(b: &[u8], at: usize) -> Result<Table<'_>, String> {
    let size = u32_at(b, at).ok_or("header past the end of the file")? as usize;
    let t = b
        .get(at..at.saturating_add(size))
        .filter(|t| t.len() >= TABLE_HEADER)
        .ok_or_else(|| format!("{size} bytes at {at} do not fit in the file or hold a table header"))?;
    let rtype = u32_at(t, 4).unwrap_or(0);
    let n = u32_at(t, 24).unwrap_or(0) as usize;
    if n > (t.len() - TABLE_HEADER) / 4 {
        return Err(format!("{n} record offsets do not fit in a {size}-byte table"));
    }
    let mut records = Vec::new();
    for i in 0..n {
        let off = u32_at(t, TABLE_HEADER + 4 * i).unwrap_or(0) as usize;
        // Free slots are 0; some keychains mark them with odd offsets too.
        if off == 0 || !off.is_multiple_of(4) {
            continue;
        }
        let len = u32_at(t, off).map(|n| n as usize);
        match len.and_then(|len| t.get(off..off.checked_add(len)?)).filter(|r| r.len() >= RECORD_HEADER) {
            Some(r) => records.push(r),
            None => return Err(format!("record {i} at {off} does not fit in the table")),
        }
    }
    Ok(Table { rtype, records })
}

/// Record type → number of attributes, from the schema-attributes table.
fn attribute_counts(tables: &[Table<'_>]) -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    for t in tables.iter().filter(|t| t.rtype == SCHEMA_ATTRIBUTES) {
        for r in &t.records {
            if let Some(relation) = attribute(r, 0).and_then(|v| u32_at(v, 0)) {
                *out.entry(relation).or_insert(0) += 1;
            }
        }
    }
    out
}

/// The bytes of attribute `i`'s value, from where its offset points to the
/// end of the record; `None` when unset or out of range.
fn attribute(r: &[u8], i: usize) -> Option<&[u8]> {
    let off = u32_at(r, RECORD_HEADER + 4 * i)? as usize;
    r.get(off.checked_sub(1)?..)
}

fn certificate(r: &[u8], attrs: usize) -> Result<KeychainCert, String> {
    let data_len = u32_at(r, 16).unwrap_or(0) as usize;
    let start = RECORD_HEADER + 4 * attrs;
    let der = start
        .checked_add(data_len)
        .and_then(|end| r.get(start..end))
        .ok_or_else(|| format!("{data_len} bytes of certificate data do not fit in a {}-byte record", r.len()))?;
    if der.is_empty() {
        return Err("no certificate data".into());
    }
    // PrintName is attribute 2: a length-prefixed blob.
    let print_name = attribute(r, 2).and_then(|v| {
        let n = u32_at(v, 0)? as usize;
        let s = v.get(4..4usize.checked_add(n)?)?;
        Some(String::from_utf8_lossy(s).trim_end_matches('\0').to_string())
    });
    Ok(KeychainCert { der: der.to_vec(), print_name })
}

/// Reads the keychain at `path`. Records skipped are reported one by one;
/// an absent file is `Ok(None)`.
pub fn read(
    root: &Root,
    path: &(impl AsRef<OsStr> + ?Sized),
    report: &mut dyn FnMut(FsError),
) -> Result<Option<Vec<KeychainCert>>, FsError> {
    let exact = path.as_ref();
    let path = &lossy(exact);
    let bytes = match root.read_limited(exact, LIMIT) {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::NotFound => return root.dangling(exact).map_or(Ok(None), Err),
        Err(e) => return Err(e),
    };
    let mut bad = |m: String| report(FsError::parse(path, m));
    parse(&bytes, &mut bad).map(Some).map_err(|m| {
        let kind = if m.contains("not supported") { ErrorKind::Unsupported } else { ErrorKind::ParseError };
        FsError::new(kind, path, m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/macos").join(rel))
            .unwrap()
    }

    fn tables(b: &[u8]) -> Vec<Table<'_>> {
        let array = u32_at(b, 12).unwrap() as usize;
        (0..u32_at(b, array + 4).unwrap() as usize)
            .map(|i| table(b, array + u32_at(b, array + 8 + 4 * i).unwrap() as usize).unwrap())
            .collect()
    }

    /// make.py's password keychain (in the shape of a login.keychain): the
    /// schema gives generic passwords 16 attributes and internet passwords
    /// 20, as libyal's format document lists them.
    #[test]
    fn the_schema_of_a_password_keychain_counts_attributes() {
        let b = fixture("shaped/Users/test/Library/Keychains/login.keychain");
        let counts = attribute_counts(&tables(&b));
        assert_eq!((counts.get(&0x8000_0000), counts.get(&0x8000_0001)), (Some(&16), Some(&20)));
    }

    #[test]
    fn bad_tables_and_records_are_reported_and_skipped() {
        let good = fixture("root/Library/Keychains/System.keychain");
        let mut bad = Vec::new();
        assert_eq!(parse(&good, &mut |m| bad.push(m)).unwrap().len(), 2);
        assert!(bad.is_empty());
        // Every truncation is an error or fewer certificates, never a panic.
        for cut in 0..good.len() {
            let mut bad = Vec::new();
            if let Ok(certs) = parse(&good[..cut], &mut |m| bad.push(m)) {
                assert!(certs.len() < 2 || cut == good.len());
            }
        }
        // A certificate record claiming more data than it holds.
        let array = u32_at(&good, 12).unwrap() as usize;
        let t = array + u32_at(&good, array + 8 + 8).unwrap() as usize;
        let r = t + u32_at(&good, t + TABLE_HEADER).unwrap() as usize;
        let mut b = good.clone();
        b[r + 16..r + 20].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        let mut bad = Vec::new();
        assert_eq!(parse(&b, &mut |m| bad.push(m)).unwrap().len(), 1);
        assert!(bad[0].contains("certificate record 0"), "{bad:?}");
        // A table count the file cannot hold, and a table past the end.
        let mut b = good.clone();
        b[array + 4..array + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(&b, &mut |_| {}).unwrap_err().contains("tables do not fit"));
        let mut b = good.clone();
        b[array + 16..array + 20].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
        let mut bad = Vec::new();
        assert_eq!(parse(&b, &mut |m| bad.push(m)).unwrap().len(), 0);
        assert!(bad[0].starts_with("table 2"), "{bad:?}");
        assert!(parse(b"kych\x00\x02", &mut |_| {}).is_err());
        assert!(parse(b"bplist00", &mut |_| {}).unwrap_err().contains("kych"));
    }
}
