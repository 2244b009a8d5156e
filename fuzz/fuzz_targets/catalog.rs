//! A catalog vendor file (TOML) through `Catalog::from_sources`; a loaded catalog's matchers run on
//! the input itself.
#![no_main]

use embargo_catalog::{Catalog, CatalogError};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.toml";

fn check_error(e: &CatalogError, file: &str, text: &str) {
    assert_eq!(e.file, file, "the error names another file: {e}");
    if let Some(line) = e.line {
        // 1-based; a problem at the very end may point one past the last line.
        assert!(
            line >= 1 && line <= text.lines().count() + 1,
            "line {line} of a {}-line file: {e}",
            text.lines().count()
        );
    }
    assert!(!e.to_string().is_empty());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Catalog::from_sources([(FILE, text)]) {
        Ok(catalog) => {
            assert_eq!(catalog.vendors().len(), 1);
            let v = &catalog.vendors()[0];
            assert!(!v.id.is_empty());
            assert!(catalog.vendor(&v.id).is_some());
            for (_, ind) in catalog.indicators() {
                assert!(!ind.pattern.is_empty());
                for value in [text, ind.pattern.as_str()] {
                    // Matching ignores ASCII case.
                    let m = ind.matches(value);
                    assert_eq!(
                        m,
                        ind.matches(&value.to_ascii_uppercase()),
                        "case changes {:?} on {value:?}",
                        ind.pattern
                    );
                    // The needle is a prefilter: a match without it would be lost.
                    if m && let Some(needle) = ind.matcher().needle() {
                        assert!(
                            value.to_ascii_lowercase().contains(needle),
                            "{:?} matches {value:?} without its needle {needle:?}",
                            ind.pattern
                        );
                    }
                }
                assert!(catalog.matching(ind.kind, &ind.pattern).count() <= catalog.indicators().count());
            }
        }
        Err(e) => check_error(&e, FILE, text),
    }
});
