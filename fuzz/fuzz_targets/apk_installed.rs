//! Alpine's `lib/apk/db/installed`: `apk::parse` on the input in memory, and
//! `apk::read_all` on a root holding it (the streamed path the scan takes).
//! The two must agree; values are copied from the input, never invented.
#![no_main]

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::apk::{self, ApkPackage};
use libfuzzer_sys::fuzz_target;

fn check_package(p: &ApkPackage, input: &[u8]) {
    assert!(!p.name.is_empty() && !p.version.is_empty(), "{p:?}");
    let fields = [Some(p.name.as_str()), Some(p.version.as_str()), p.arch.as_deref(), p.maintainer.as_deref()];
    // Lossy UTF-8 makes one bad byte three.
    let len = text_len(fields);
    assert!(len <= 3 * input.len(), "{len} bytes of fields from {} bytes", input.len());
    assert!(p.installed_size.is_none_or(|n| n >= 0) && p.build_time.is_none_or(|n| n >= 0));
}

fuzz_target!(|data: &[u8]| {
    let parsed = apk::parse(data);
    for r in &parsed {
        match r {
            Ok(p) => check_package(p, data),
            Err(m) => assert!(m.starts_with("record "), "{m}"),
        }
    }
    // A record is at least one line and its newline.
    assert!(parsed.len() <= data.len() / 2 + 1, "{} records from {} bytes", parsed.len(), data.len());

    let root = root_with(&[(apk::INSTALLED_PATHS[0], data)]);
    let (mut streamed, mut errors) = (Vec::new(), 0usize);
    apk::read_all(
        &root,
        |path, p| {
            assert_eq!(path, apk::INSTALLED_PATHS[0]);
            streamed.push(p);
        },
        |e| {
            check_error(&e);
            errors += 1;
        },
    );
    let good: Vec<&ApkPackage> = parsed.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(streamed.iter().collect::<Vec<_>>(), good, "streamed and in-memory parses differ");
    let bad = parsed.len() - good.len();
    let rows = if bad > apk::BAD_RECORD_ROWS { apk::BAD_RECORD_ROWS + 1 } else { bad };
    assert_eq!(errors, rows, "{bad} bad records, {errors} error rows");
});
