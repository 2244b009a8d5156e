//! An NDB `Packages.db` through `rpm_ndb::read`, and each blob through
//! `rpmdb::parse_header`.
//!
//! Checks besides no panic: every blob is bytes of the file; blobs never
//! overlap, so their bytes together never exceed the file; package indexes
//! are distinct and never 0; messages are capped.
#![no_main]

use embargo_tables::collectors::{rpm_bdb, rpm_ndb, rpmdb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|db: &[u8]| {
    let mut idx = Vec::new();
    let mut bytes = 0usize;
    let mut messages = 0usize;
    let r = rpm_ndb::read(
        db,
        |pkgidx, blob| {
            let _ = rpmdb::parse_header(blob);
            // A blob is copied out of the file, never made up.
            assert!(blob.is_empty() || memchr_window(db, blob), "a blob that is not in the file");
            idx.push(pkgidx);
            bytes += blob.len();
        },
        |_| messages += 1,
    );
    assert!(bytes <= db.len(), "{bytes} blob bytes from a {}-byte file", db.len());
    assert!(idx.iter().all(|&i| i != 0));
    let n = idx.len();
    idx.sort();
    idx.dedup();
    assert_eq!(idx.len(), n, "a package index twice");
    assert!(messages <= rpm_bdb::MAX_MESSAGES + 1, "{messages} messages");
    assert!(r.is_ok() || (n == 0 && messages == 0));
});

/// Whether `needle` occurs in `hay` (inputs are at most max_len bytes).
fn memchr_window(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
