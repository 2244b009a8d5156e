//! A Firefox profile's `extensions.json` through `read_extensions_json`.
#![no_main]

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::firefox;
use libfuzzer_sys::fuzz_target;

const PATH: &str = "/home/u/.mozilla/firefox/x.default/extensions.json";

fuzz_target!(|data: &[u8]| {
    let root = root_with(&[(PATH, data)]);
    let addons = match firefox::read_extensions_json(&root, PATH, |_| {}) {
        Ok(a) => a,
        Err(e) => return check_error(&e),
    };
    // Every string comes from its own place in the JSON and unescaping only
    // shortens: all add-ons' text together fits in the input.
    let mut total = 0usize;
    for a in &addons {
        total += a.id.len()
            + text_len([
                a.addon_type.as_deref(),
                a.version.as_deref(),
                a.name.as_deref(),
                a.description.as_deref(),
                a.creator.as_deref(),
                a.homepage_url.as_deref(),
                a.update_url.as_deref(),
                a.location.as_deref(),
                a.path.as_deref(),
            ])
            + a.permissions.iter().map(String::len).sum::<usize>();
    }
    assert!(total <= data.len(), "{total} bytes of text from {} bytes", data.len());
    // `{"id":""}` is the smallest entry.
    assert!(addons.len() <= data.len() / 9, "{} add-ons from {} bytes", addons.len(), data.len());
});
