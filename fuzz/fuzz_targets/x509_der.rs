//! One DER certificate through `parse_der` and `CertCache::parse`, and what
//! follows it through `parse_openssl_aux` (the trust data of an OpenSSL
//! `TRUSTED CERTIFICATE`).
#![no_main]

use embargo_tables::collectors::x509::{self, CertCache};
use libfuzzer_sys::fuzz_target;

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let direct = x509::parse_der(data);
    // The cache is an optimisation: cold or warm, it answers as parse_der does.
    let mut cache = CertCache::default();
    let cold = cache.parse(data);
    let warm = cache.parse(data);
    match (&direct, &cold, &warm) {
        (Ok((a, ra)), Ok((b, rb)), Ok((c, rc))) => {
            assert_eq!(a, b);
            assert_eq!(a, c);
            assert_eq!(ra.len(), rb.len());
            assert_eq!(ra.len(), rc.len());
        }
        (Err(_), Err(_), Err(_)) => {}
        _ => panic!("parse_der and the cache disagree: {direct:?} / {cold:?} / {warm:?}"),
    }
    let Ok((info, rest)) = direct else { return };
    assert!(rest.len() < data.len(), "a certificate of no bytes");
    assert_eq!(info.sha1.len(), 40);
    assert_eq!(info.sha256.len(), 64);
    assert!(is_lower_hex(&info.sha1) && is_lower_hex(&info.sha256) && is_lower_hex(&info.serial));
    assert!(info.serial.len() <= 2 * data.len());
    if let Some(bits) = info.key_strength {
        assert!(bits >= 0, "negative key size {bits}");
    }

    if let Ok(aux) = x509::parse_openssl_aux(rest) {
        // Each purpose is an OID of at least two bytes in the trust data.
        assert!(aux.trusted.len() + aux.rejected.len() <= rest.len() / 2);
        for p in aux.effective() {
            assert!(aux.trusted.contains(&p) && !aux.rejected.contains(&p));
        }
    }
});
