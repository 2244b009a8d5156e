//! `os-release(5)` text through `os_release::parse`.
#![no_main]

use embargo_tables::collectors::os_release;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fields = os_release::parse(&text);
    // One key and one value per line; unquoting only shortens.
    assert!(fields.len() <= text.lines().count());
    let total: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(total <= text.len(), "{total} bytes of fields from {} bytes", text.len());
});
