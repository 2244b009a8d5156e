//! A Berkeley DB `Packages` file through `rpm_bdb::read`, and each record it
//! yields through `rpmdb::parse_header`.
//!
//! Checks besides no panic: every page is read at most once, so the record
//! bytes together never exceed the file (no amplification through shared or
//! looping chains); record numbers are never 0 (rpm's counter); messages are
//! capped; a second walk gives the same result.
#![no_main]

use embargo_tables::collectors::{rpm_bdb, rpmdb};
use libfuzzer_sys::fuzz_target;

fn walk(db: &[u8]) -> (Vec<(u32, usize)>, usize, bool) {
    let mut records = Vec::new();
    let mut messages = 0;
    let ok = rpm_bdb::read(
        db,
        |hnum, blob| {
            let _ = rpmdb::parse_header(blob);
            records.push((hnum, blob.len()));
        },
        |_| messages += 1,
    )
    .is_ok();
    (records, messages, ok)
}

fuzz_target!(|db: &[u8]| {
    let (records, messages, ok) = walk(db);
    let bytes: usize = records.iter().map(|r| r.1).sum();
    assert!(bytes <= db.len(), "{bytes} record bytes from a {}-byte file", db.len());
    assert!(records.iter().all(|r| r.0 != 0), "record 0 is rpm's counter");
    assert!(messages <= rpm_bdb::MAX_MESSAGES + 1, "{messages} messages");
    assert!(ok || (records.is_empty() && messages == 0));
    assert_eq!(walk(db), (records, messages, ok));
});
