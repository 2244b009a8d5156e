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

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

pub use date::Date;
pub use error::{CatalogError, Problem};
pub use pattern::{MAX_PATTERN_BYTES, Matcher, check_regex_dialect};
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
    /// a directory (not its subdirectories).
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
        let mut texts = Vec::with_capacity(files.len());
        for f in &files {
            let display = f.display().to_string();
            let text = std::fs::read_to_string(f)
                .map_err(|e| CatalogError::new(display.clone(), Problem::Io { message: e.to_string() }))?;
            texts.push((display, text));
        }
        Catalog::from_sources(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// Reads a catalog from `(file name, TOML text)` pairs, one vendor each.
    pub fn from_sources<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Catalog, CatalogError> {
        let mut vendors: Vec<Vendor> = Vec::new();
        for (file, text) in files {
            let vendor = load::vendor_from_str(file, text)?;
            if let Some(other) = vendors.iter().find(|v| v.id == vendor.id) {
                return Err(CatalogError::new(
                    file,
                    Problem::DuplicateVendor { id: vendor.id, other_file: other.file.clone() },
                )
                .at(Some(vendor.id_line), Some("id".into())));
            }
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
