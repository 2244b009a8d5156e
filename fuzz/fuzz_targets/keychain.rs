//! Keychain files through `keychain::parse`.
//!
//! Checks besides no panic: each certificate's DER is a slice of the input
//! (copied, never invented), and certificates plus reported records are
//! bounded by the records the file can hold.
#![no_main]

use embargo_tables::collectors::keychain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bad = 0usize;
    let Ok(certs) = keychain::parse(data, &mut |m| {
        assert!(!m.is_empty());
        bad += 1;
    }) else {
        return;
    };
    let mut total = 0usize;
    for c in &certs {
        assert!(!c.der.is_empty());
        assert!(data.windows(c.der.len()).any(|w| w == c.der.as_slice()), "DER not in the input");
        total += c.der.len();
    }
    // Records of one table may overlap; each still needs a 24-byte header.
    assert!(certs.len() + bad <= data.len() / 4 + 1, "{} certs, {bad} bad from {} bytes", certs.len(), data.len());
    let _ = total;
});
