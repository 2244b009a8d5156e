//! A certificate file as the PEM stores read it (`parse_cert_bytes`: PEM
//! blocks, a lone DER certificate, `TRUSTED CERTIFICATE` trust data), and
//! `pem_blocks` on its own.
#![no_main]

use embargo_fuzz::check_error;
use embargo_tables::collectors::pem_stores::{self, FileCert};
use embargo_tables::collectors::x509::{self, CertCache};
use libfuzzer_sys::fuzz_target;

const PATH: &str = "/etc/ssl/certs/fuzz.pem";

fuzz_target!(|data: &[u8]| {
    let lines = memchr_count(b'\n', data) + 1;
    let text = String::from_utf8_lossy(data);
    let blocks = x509::pem_blocks(data);
    // Each block, good or bad, starts at its own `-----BEGIN ` line.
    assert!(blocks.len() <= data.len() / 11 + 1, "{} blocks from {} bytes", blocks.len(), data.len());
    for b in blocks.iter().flatten() {
        // Base64 decodes 4 characters into 3 bytes.
        assert!(b.der.len() <= data.len() * 3 / 4, "{} DER bytes from {} bytes of text", b.der.len(), data.len());
        assert!((1..=lines).contains(&b.line), "line {} of a {lines}-line input", b.line);
        if !b.label.contains('\u{FFFD}') {
            assert!(text.contains(&b.label), "label {:?} is not in the input", b.label);
        }
    }

    let mut certs: Vec<FileCert> = Vec::new();
    let mut errors = 0usize;
    pem_stores::parse_cert_bytes(data, PATH, &mut CertCache::default(), &mut |c| certs.push(c), &mut |e| {
        check_error(&e);
        assert_eq!(e.path, PATH);
        errors += 1;
    });
    if x509::looks_like_pem(data) {
        // One row or one error per block, never more; a certificate with bad
        // trust data gives both.
        assert!(certs.len() <= blocks.len(), "{} certificates from {} blocks", certs.len(), blocks.len());
        assert!(errors <= 2 * blocks.len(), "{errors} errors from {} blocks", blocks.len());
    } else {
        assert!(certs.len() + errors == 1, "a non-PEM file is one certificate or one error");
    }
    for c in &certs {
        if let Some(aux) = &c.aux {
            let _ = aux.effective();
        }
    }
});

fn memchr_count(b: u8, data: &[u8]) -> usize {
    data.iter().filter(|&&c| c == b).count()
}
