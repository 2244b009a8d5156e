//! dpkg's status file: the input as `/var/lib/dpkg/status` through
//! `read_database` (chunked streaming, stanza splitting, the updates journal
//! merge), the one path the collector has.
#![no_main]

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::dpkg::{self, Package};
use libfuzzer_sys::fuzz_target;

fn check_package(p: &Package, input: &[u8]) {
    assert!(!p.name.is_empty(), "a package without a name: {p:?}");
    // Fields are copied out of the stanza, never invented; lossy UTF-8
    // turns a bad byte (1) into U+FFFD (3), hence the factor.
    let fields = [Some(p.name.as_str()), p.version.as_deref(), p.architecture.as_deref(), p.maintainer.as_deref()];
    let len = text_len(fields) + p.status.len();
    assert!(len <= 3 * input.len(), "{len} bytes of fields from {} bytes of input", input.len());
    let _ = (p.state(), p.is_installed());
}

fuzz_target!(|data: &[u8]| {
    let root = root_with(&[(dpkg::STATUS_PATH, data)]);
    let mut packages = 0usize;
    let mut errors = 0usize;
    let r = dpkg::read_database(
        &root,
        |p, file| {
            assert_eq!(file, dpkg::STATUS_PATH);
            check_package(&p, data);
            packages += 1;
        },
        |e| {
            check_error(&e);
            errors += 1;
        },
    );
    if let Err(e) = r {
        check_error(&e);
    }
    // Stanzas are separated by a blank line: at most one per two bytes.
    assert!(packages + errors <= data.len() / 2 + 1, "{packages} packages, {errors} errors from {} bytes", data.len());
});
