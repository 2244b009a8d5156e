//! Windows' serialized certificate (a registry `Blob` value, or a file of a
//! user's file-based store) through `certstore::parse_blob`, and the same
//! bytes as a store file through `certstore::read_user_files` on a root.
//!
//! Checks besides no panic: `parse_blob` agrees with an independent walk of
//! the property list (`{u32 id, u32 reserved, u32 length, data}` to the
//! end): it succeeds only when the walk ends exactly at the end and met a
//! 0x20 property, and its DER is that property's data — the very bytes of
//! the input, not a copy; the friendly name is no longer than its property
//! allows; purposes come from the vocabulary, each once. The file-based
//! store gives one row exactly when `parse_blob` and the certificate parse
//! succeed, else one error naming the file.
#![no_main]

use embargo_fuzz::{check_error, root_with};
use embargo_tables::collectors::certstore;
use embargo_tables::collectors::x509::{self, CertCache};
use libfuzzer_sys::fuzz_target;

/// The last property of each id of interest, as (start, end) in the input.
#[derive(Default)]
struct Walk {
    complete: bool,
    cert: Option<(usize, usize)>,
    name: Option<(usize, usize)>,
    eku: Option<(usize, usize)>,
}

fn walk(b: &[u8]) -> Walk {
    let mut w = Walk::default();
    let mut at = 0usize;
    loop {
        if at == b.len() {
            w.complete = true;
            return w;
        }
        let Some(head) = b.get(at..at + 12) else { return w };
        let id = u32::from_le_bytes(head[0..4].try_into().unwrap());
        let len = u32::from_le_bytes(head[8..12].try_into().unwrap()) as usize;
        let start = at + 12;
        let Some(end) = start.checked_add(len).filter(|&e| e <= b.len()) else { return w };
        match id {
            0x20 => w.cert = Some((start, end)),
            0x0B => w.name = Some((start, end)),
            0x09 => w.eku = Some((start, end)),
            _ => {}
        }
        at = end;
    }
}

const PURPOSES: &[&str] = &["server_auth", "client_auth", "code_signing", "email"];

fuzz_target!(|data: &[u8]| {
    let w = walk(data);
    let parsed = certstore::parse_blob(data);
    match &parsed {
        Ok(b) => {
            assert!(w.complete, "parse_blob accepted a property list that does not end at the end");
            let (s, e) = w.cert.expect("parse_blob found a certificate the walk did not");
            assert_eq!(b.der.as_ptr(), data[s..].as_ptr(), "DER is not the last 0x20 property's data");
            assert_eq!(b.der.len(), e - s);
            match (w.name, &b.friendly_name) {
                (Some((s, e)), Some(n)) => {
                    // UTF-16 up to the first NUL: at most 3 UTF-8 bytes per unit.
                    assert!(!n.is_empty() && n.len() <= (e - s) / 2 * 3, "friendly name of {} bytes", n.len());
                }
                (None, Some(_)) => panic!("a friendly name without its property"),
                _ => {}
            }
            match (w.eku, &b.purposes) {
                (Some((s, e)), Some(p)) => {
                    assert_eq!(Ok(p.clone()), x509::parse_eku_sequence(&data[s..e]));
                    for (i, x) in p.iter().enumerate() {
                        assert!(PURPOSES.contains(x), "purpose {x:?}");
                        assert!(!p[..i].contains(x), "purpose {x:?} twice");
                    }
                }
                (None, Some(_)) => panic!("purposes without their property"),
                (Some(_), None) => panic!("an EKU property that gave no purposes"),
                (None, None) => {}
            }
        }
        Err(m) => {
            assert!(!m.is_empty());
            // A complete list with a certificate fails only on its purposes.
            if w.complete && w.cert.is_some() {
                let (s, e) = w.eku.expect("a complete list with a certificate refused without an EKU property");
                assert!(x509::parse_eku_sequence(&data[s..e]).is_err(), "refused, yet its EKU parses");
            }
        }
    }

    // The same bytes as a user's store file.
    let file = "/Users/fuzz/AppData/Roaming/Microsoft/SystemCertificates/Root/Certificates/00FF";
    let root = root_with(&[(file, data)]);
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    certstore::read_user_files(
        &root,
        "/Users/fuzz",
        "fuzz",
        &mut CertCache::default(),
        &mut |c| rows.push(c),
        &mut |e| {
            check_error(&e);
            errors.push(e)
        },
    );
    assert_eq!(rows.len() + errors.len(), 1, "{} rows, {errors:?}", rows.len());
    let expect_row = parsed.as_ref().is_ok_and(|b| x509::parse_der(b.der).is_ok());
    assert_eq!(rows.len() == 1, expect_row, "{errors:?}");
    if let Some(c) = rows.first() {
        assert_eq!(c.path, file);
        assert_eq!(c.store, "ROOT");
        assert_eq!(c.trust, "trusted");
        assert_eq!(c.thumbprint, "00FF");
        assert_eq!(c.user.as_deref(), Some("fuzz"));
        assert_eq!(c.info.sha1.len(), 40);
    } else {
        assert_eq!(errors[0].path, file);
    }
});
