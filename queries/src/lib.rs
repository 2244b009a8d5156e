//! The banned-vendor catalog: which vendors US authorities bar, under which
//! authority and from when, and the indicators (package, service, driver,
//! certificate, path … names) that find their software on a host.
//!
//! The data lives in `queries/catalog/<vendor_id>.toml`, one file per vendor,
//! and is compiled into the binary ([`Catalog::embedded`]); `--catalog PATH`
//! replaces it with [`Catalog::from_path`]. Loading checks every field, so a
//! catalog that loads is one whose patterns all compile, mean the same in
//! Rust and in osquery's `regex_match`, and use only the contract's words.
//! See `queries/catalog/README.md` for the file format.

// A catalog error happens at most once per load; its size does not matter,
// and keeping it flat keeps matching on it simple.
#![allow(clippy::result_large_err)]

pub mod canned;
mod date;
mod error;
mod frozen;
mod load;
mod pattern;
mod vocab;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

pub use date::{Date, DateError};
pub use error::{CatalogError, Problem};
pub use pattern::{
    MAX_PATTERN_BYTES, Matcher, REGEX_DFA_SIZE_LIMIT, REGEX_SIZE_LIMIT, check_regex_dialect, compile_regex,
};
pub use vocab::{Confidence, Kind, MatchKind, Platform, Scope};

/// The catalog files compiled into embargo, by file name.
pub const EMBEDDED_FILES: &[(&str, &str)] = &[
    ("kaspersky.toml", include_str!("../catalog/kaspersky.toml")),
    ("ultraav.toml", include_str!("../catalog/ultraav.toml")),
    ("huawei.toml", include_str!("../catalog/huawei.toml")),
    ("zte.toml", include_str!("../catalog/zte.toml")),
    ("hytera.toml", include_str!("../catalog/hytera.toml")),
    ("hikvision.toml", include_str!("../catalog/hikvision.toml")),
    ("dahua.toml", include_str!("../catalog/dahua.toml")),
    ("bytedance.toml", include_str!("../catalog/bytedance.toml")),
    ("deepseek.toml", include_str!("../catalog/deepseek.toml")),
];

/// A checked catalog.
///
/// It serialises for [`frozen`]'s ahead-of-time copy of the embedded
/// catalog. Deserialising trusts the data, so embargo only ever reads the
/// copy its own tests wrote and checked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Catalog {
    vendors: Vec<Vendor>,
}

/// One vendor and everything the catalog says about it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Vendor {
    /// Lowercase id, also the file's stem (`kaspersky`).
    pub id: String,
    pub name: String,
    /// `false` for context vendors (UltraAV): their presence is a sign, never a finding.
    pub banned: bool,
    pub note: Option<String>,
    pub entities: Vec<Entity>,
    pub authorities: Vec<Authority>,
    pub indicators: Vec<Indicator>,
    /// The file the vendor was read from.
    pub file: String,
    pub(crate) id_line: usize,
}

/// A legal entity the authorities name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    pub country: Option<String>,
    pub role: Option<String>,
    pub source: String,
}

/// A law, rule, order or directive that bars (part of) a vendor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Authority {
    pub name: String,
    pub citation: String,
    pub scope: Scope,
    pub effective_date: Option<Date>,
    /// From this date the vendor may no longer update its software for those bound.
    pub updates_end_date: Option<Date>,
    pub url: Option<String>,
    pub source: String,
    pub note: Option<String>,
}

/// One way to recognise a vendor's software.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: Kind,
    /// As written in the catalog.
    pub pattern: String,
    pub match_kind: MatchKind,
    pub platform: Platform,
    pub confidence: Confidence,
    pub source: String,
    pub note: Option<String>,
    matcher: Matcher,
}

impl Indicator {
    /// Whether `value` matches this indicator's pattern (case-insensitive).
    pub fn matches(&self, value: &str) -> bool {
        self.matcher.matches(value)
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }
}

/// Largest catalog file [`Catalog::from_path`] reads, in bytes. The
/// embedded catalog is about 0.1 MiB; 16 MiB holds some 100,000 indicators.
pub const MAX_CATALOG_FILE_BYTES: u64 = 16 << 20;

/// Largest total of a catalog directory's files, in bytes.
pub const MAX_CATALOG_BYTES: u64 = 64 << 20;

/// The text of `path`, refused when it holds more than `max` bytes. The
/// size was checked, but a file can grow, or be a device or a FIFO whose
/// size says nothing, so reading stops at the limit too.
fn read_bounded(path: &Path, max: u64) -> Result<String, Problem> {
    use std::io::Read as _;
    let io = |e: std::io::Error| Problem::Io { message: e.to_string() };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(Problem::TooLarge { what: "a catalog file", bytes: bytes.len() as u64, max });
    }
    String::from_utf8(bytes).map_err(|e| Problem::Io { message: format!("not UTF-8 text: {e}") })
}

impl Catalog {
    /// The catalog compiled into embargo. It is checked by this crate's
    /// tests, so failing to load it is a build defect. The copy checked
    /// ahead of time is used while it matches the TOML files ([`frozen`]).
    pub fn embedded() -> Arc<Catalog> {
        static EMBEDDED: OnceLock<Arc<Catalog>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                let catalog =
                    frozen::thaw().map(Ok).unwrap_or_else(|| Catalog::from_sources(EMBEDDED_FILES.iter().copied()));
                match catalog {
                    Ok(c) => Arc::new(c),
                    Err(e) => panic!("the embedded catalog is invalid: {e}"),
                }
            })
            .clone()
    }

    /// Reads a catalog from one `.toml` file or from every `*.toml` file of
    /// a directory (not its subdirectories). A file over
    /// [`MAX_CATALOG_FILE_BYTES`], or files over [`MAX_CATALOG_BYTES`] in
    /// all, are refused before they are read.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |e: std::io::Error| CatalogError::new(name.clone(), Problem::Io { message: e.to_string() });
        let meta = std::fs::metadata(path).map_err(io)?;
        let files: Vec<std::path::PathBuf> = if meta.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(io)? {
                let p = entry.map_err(io)?.path();
                if p.extension().is_some_and(|e| e == "toml") && p.is_file() {
                    files.push(p);
                }
            }
            files.sort();
            if files.is_empty() {
                return Err(CatalogError::new(
                    name,
                    Problem::Io { message: "the directory has no .toml files".into() },
                ));
            }
            files
        } else {
            vec![path.to_path_buf()]
        };
        // Sizes first, so that nothing is read of a catalog that is too large.
        let mut total: u64 = 0;
        for f in &files {
            let display = f.display().to_string();
            let len = std::fs::metadata(f)
                .map_err(|e| CatalogError::new(display.clone(), Problem::Io { message: e.to_string() }))?
                .len();
            if len > MAX_CATALOG_FILE_BYTES {
                return Err(CatalogError::new(
                    display,
                    Problem::TooLarge { what: "a catalog file", bytes: len, max: MAX_CATALOG_FILE_BYTES },
                ));
            }
            total += len;
            if total > MAX_CATALOG_BYTES {
                return Err(CatalogError::new(
                    name,
                    Problem::TooLarge {
                        what: "the catalog's .toml files together",
                        bytes: total,
                        max: MAX_CATALOG_BYTES,
                    },
                ));
            }
        }
        let mut texts = Vec::with_capacity(files.len());
        let mut read: u64 = 0;
        for f in &files {
            let display = f.display().to_string();
            let text = read_bounded(f, MAX_CATALOG_FILE_BYTES.min(MAX_CATALOG_BYTES - read))
                .map_err(|problem| CatalogError::new(display.clone(), problem))?;
            read += text.len() as u64;
            texts.push((display, text));
        }
        Catalog::from_sources(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// Reads a catalog from `(file name, TOML text)` pairs, one vendor each.
    pub fn from_sources<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog, CatalogError> {
        let mut vendors: Vec<Vendor> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (file, text) in files {
            let vendor = load::vendor_from_str(file, text)?;
            if let Some(&other) = by_id.get(&vendor.id) {
                return Err(CatalogError::new(
                    file,
                    Problem::DuplicateVendor { id: vendor.id, other_file: vendors[other].file.clone() },
                )
                .at(Some(vendor.id_line), Some("id".into())));
            }
            by_id.insert(vendor.id.clone(), vendors.len());
            vendors.push(vendor);
        }
        Ok(Catalog { vendors })
    }

    pub fn vendors(&self) -> &[Vendor] {
        &self.vendors
    }

    pub fn vendor(&self, id: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id)
    }

    /// Every indicator with its vendor.
    pub fn indicators(&self) -> impl Iterator<Item = (&Vendor, &Indicator)> {
        self.vendors.iter().flat_map(|v| v.indicators.iter().map(move |i| (v, i)))
    }

    /// The indicators of `kind` that `value` matches.
    pub fn matching<'a>(&'a self, kind: Kind, value: &'a str) -> impl Iterator<Item = (&'a Vendor, &'a Indicator)> {
        self.indicators().filter(move |(_, i)| i.kind == kind && i.matches(value))
    }
}
