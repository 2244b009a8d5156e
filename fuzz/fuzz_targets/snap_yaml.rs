//! A mounted snap's `meta/snap.yaml` through `parse_snap_yaml`.
#![no_main]

use embargo_fuzz::text_len;
use embargo_tables::collectors::snap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let y = snap::parse_snap_yaml(&text);
    // Each field is one line's value, unquoting only shortens it.
    for f in [y.name.as_deref(), y.version.as_deref(), y.summary.as_deref()] {
        assert!(text_len([f]) <= text.len());
    }
    assert!(text_len([y.name.as_deref(), y.version.as_deref(), y.summary.as_deref()]) <= text.len());
});
