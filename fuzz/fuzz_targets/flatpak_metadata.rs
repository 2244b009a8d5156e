//! A flatpak deployment's `metadata` keyfile through `parse_metadata`.
#![no_main]

use embargo_fuzz::text_len;
use embargo_tables::collectors::flatpak;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let m = flatpak::parse_metadata(&text);
    for v in [m.name.as_deref(), m.runtime.as_deref()].into_iter().flatten() {
        assert!(text.contains(v), "{v:?} is not in the input");
        assert!(!v.starts_with(char::is_whitespace) && !v.ends_with(char::is_whitespace), "untrimmed {v:?}");
    }
    assert!(text_len([m.name.as_deref(), m.runtime.as_deref()]) <= text.len());
});
