//! A flatpak app's AppStream XML (metainfo/appdata) through `parse_appstream`.
#![no_main]

use embargo_tables::collectors::flatpak;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else { return };
    match flatpak::parse_appstream(xml) {
        Ok(a) => {
            // Entities expand (roxmltree bounds that), but one text node or
            // attribute per field: a field cannot outgrow a generous multiple.
            for v in [a.version.as_deref(), a.developer.as_deref()].into_iter().flatten() {
                assert!(v.len() <= 16 * xml.len() + 64, "{} bytes from {} of XML", v.len(), xml.len());
            }
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
