//! The embedded catalog, loaded and checked ahead of time.
//!
//! Parsing and checking the TOML files costs about 1 ms and 150 page
//! faults at every start, which is more than some whole queries.
//! `catalog/embedded.postcard` holds the checked catalog in postcard form
//! with the SHA-256 of the TOML it came from and of the loader's source. The test below keeps it
//! current (`EMBARGO_BLESS=1 cargo test -p embargo-catalog frozen`), and a
//! binary built from TOML edited since only pays for parsing it: the hash no
//! longer matches, so [`thaw`] declines and the TOML is read.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Catalog, EMBEDDED_FILES};

const FROZEN: &[u8] = include_bytes!("../catalog/embedded.postcard");

/// Bumped when the serialised model changes shape: an older file is then
/// refused instead of misread.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Frozen {
    format: u32,
    sources: [u8; 32],
    catalog: Catalog,
}

/// The code that turns the TOML into a `Catalog` and gives it its
/// serialised shape: a change to it makes the frozen copy stale as surely as
/// a change to the data.
const LOADER: &[(&str, &str)] = &[
    ("lib.rs", include_str!("lib.rs")),
    ("load.rs", include_str!("load.rs")),
    ("pattern.rs", include_str!("pattern.rs")),
    ("vocab.rs", include_str!("vocab.rs")),
    ("date.rs", include_str!("date.rs")),
    ("frozen.rs", include_str!("frozen.rs")),
];

/// The hash of the embedded files' and the loader's names and texts, in order.
fn sources_hash() -> [u8; 32] {
    let mut h = Sha256::new();
    for (name, text) in EMBEDDED_FILES.iter().chain(LOADER) {
        for part in [name.as_bytes(), text.as_bytes()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().into()
}

/// The frozen catalog, if it was made from the TOML compiled in.
pub(crate) fn thaw() -> Option<Catalog> {
    thaw_from(FROZEN)
}

fn thaw_from(bytes: &[u8]) -> Option<Catalog> {
    let (f, rest): (Frozen, _) = postcard::take_from_bytes(bytes).ok()?;
    (rest.is_empty() && f.format == FORMAT && f.sources == sources_hash()).then_some(f.catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the frozen catalog lives, relative to this crate.
    const FROZEN_PATH: &str = "catalog/embedded.postcard";

    /// The bytes `FROZEN_PATH` should hold for `catalog`, which must be the
    /// one the embedded TOML loads to.
    fn freeze(catalog: &Catalog) -> Vec<u8> {
        let f = Frozen { format: FORMAT, sources: sources_hash(), catalog: catalog.clone() };
        postcard::to_allocvec(&f).unwrap()
    }

    fn from_toml() -> Catalog {
        Catalog::from_sources(EMBEDDED_FILES.iter().copied()).unwrap()
    }

    #[test]
    fn frozen_catalog_is_current() {
        let want = freeze(&from_toml());
        if FROZEN != want.as_slice() {
            if std::env::var_os("EMBARGO_BLESS").is_some() {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FROZEN_PATH);
                std::fs::write(&path, &want).unwrap();
                panic!("rewrote {}; build again so that the binary includes it", path.display());
            }
            panic!(
                "{FROZEN_PATH} does not match the catalog's TOML; \
                 regenerate it with `EMBARGO_BLESS=1 cargo test -p embargo-catalog frozen`"
            );
        }
    }

    #[test]
    fn thawed_catalog_equals_the_parsed_one() {
        let thawed = thaw().expect("the frozen catalog is current (see frozen_catalog_is_current)");
        let parsed = from_toml();
        // Debug shows every field, private ones included.
        assert_eq!(format!("{thawed:?}"), format!("{parsed:?}"));
        // The regexes compile on first use after thawing and match alike.
        let samples: Vec<String> = parsed
            .indicators()
            .flat_map(|(_, i)| [Some(i.pattern.clone()), i.matcher().needle().map(str::to_string)])
            .flatten()
            .chain(["Kaspersky Lab".into(), "klogd".into(), "avp.exe".into()])
            .collect();
        let mut matched = 0;
        for ((_, a), (_, b)) in thawed.indicators().zip(parsed.indicators()) {
            for s in &samples {
                assert_eq!(a.matches(s), b.matches(s), "{} on {s:?}", a.pattern);
                matched += usize::from(a.matches(s));
            }
        }
        assert!(matched > 100, "only {matched} matches: the samples test nothing");
    }

    #[test]
    fn a_frozen_file_of_another_format_or_other_sources_is_refused() {
        let good = freeze(&from_toml());
        assert!(thaw_from(&good).is_some());
        let mut f: Frozen = postcard::from_bytes(&good).unwrap();
        f.format += 1;
        assert!(thaw_from(&postcard::to_allocvec(&f).unwrap()).is_none());
        f.format -= 1;
        f.sources[0] ^= 1;
        assert!(thaw_from(&postcard::to_allocvec(&f).unwrap()).is_none());
        assert!(thaw_from(&good[..good.len() / 2]).is_none());
        assert!(thaw_from(b"").is_none());
        assert!(thaw_from(&[good.as_slice(), &[0]].concat()).is_none(), "trailing bytes");
        assert!(thaw_from(&[0xff; 64]).is_none());
    }
}
