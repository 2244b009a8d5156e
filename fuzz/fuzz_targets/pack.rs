//! `embargo pack` on a catalog vendor file (TOML): a catalog that loads
//! gives every flavor's files or an error naming one of its indicators,
//! never a panic; the pack JSON always parses.
#![no_main]

use embargo_catalog::Catalog;
use embargo_pack::{Flavor, PackError, generate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(catalog) = Catalog::from_sources([("fuzz.toml", text)]) else { return };
    let id = catalog.vendors()[0].id.clone();
    for flavor in Flavor::ALL {
        match generate(&catalog, *flavor) {
            Ok(files) => {
                assert!(!files.is_empty());
                for f in files.iter().filter(|f| f.path.ends_with(".json")) {
                    serde_json::from_str::<serde_json::Value>(&f.contents).expect("pack JSON parses");
                }
            }
            Err(PackError::Unexpressible { vendor, .. }) => assert_eq!(vendor, id),
            Err(e) => panic!("{}: {e}", flavor.as_str()),
        }
    }
});
