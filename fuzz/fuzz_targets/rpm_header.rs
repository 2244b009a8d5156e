//! One rpm header blob (`Packages.blob` of rpmdb.sqlite) through `parse_header`.
#![no_main]

use embargo_fuzz::text_len;
use embargo_tables::collectors::rpmdb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|blob: &[u8]| {
    let Ok(p) = rpmdb::parse_header(blob) else { return };
    // Every string is a slice of the blob's data store (lossy UTF-8 at worst
    // triples it). Entries may share a string, so the bound is per field.
    let fields = [
        Some(p.name.as_str()),
        p.version.as_deref(),
        p.release.as_deref(),
        p.arch.as_deref(),
        p.vendor.as_deref(),
        p.packager.as_deref(),
    ];
    for f in fields {
        let len = text_len([f]);
        assert!(len <= 3 * blob.len(), "{len} bytes in one field of a {}-byte blob", blob.len());
    }
    let (evr, nevra) = (p.evr(), p.nevra());
    assert!(nevra.contains(&p.name), "nevra {nevra:?} lacks the name {:?}", p.name);
    assert!(evr.len() <= nevra.len());
    let _ = p.is_gpg_pubkey();
});
