//! Scheduled-query packs for fleets, generated from the catalog and the
//! canned queries (`embargo pack`):
//!
//! - [`Flavor::Osquery`]: an osquery pack that runs the canned queries over
//!   the embargo extension's tables (`embargo.json`);
//! - [`Flavor::OsqueryBuiltin`]: an osquery pack over osquery 5.23.1's own
//!   tables, with the catalog's indicators written into the SQL
//!   (`embargo-builtin.json`), for hosts without the extension;
//! - [`Flavor::Fleet`]: Fleet YAML, `kind: query` and `kind: policy`
//!   documents for `fleetctl apply -f` and the same specs as GitOps `lib/`
//!   files.
//!
//! Generation is pure: it returns the files' text, so that an indicator
//! that cannot be written in osquery's SQL fails before anything is
//! written; [`write_files`] then puts them in place atomically.

mod builtin;
mod fleet;
mod osquery;
mod sql;
mod write;

use embargo_catalog::Catalog;

pub use builtin::{QueryKind, Target};
pub use write::{WriteError, write_files};

/// Which pack to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Osquery,
    OsqueryBuiltin,
    Fleet,
}

impl Flavor {
    pub const ALL: &'static [Flavor] = &[Flavor::Osquery, Flavor::OsqueryBuiltin, Flavor::Fleet];

    /// The word `--flavor` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Osquery => "osquery",
            Flavor::OsqueryBuiltin => "osquery-builtin",
            Flavor::Fleet => "fleet",
        }
    }
}

/// One generated file: its path relative to the output directory (forward
/// slashes) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackFile {
    pub path: String,
    pub contents: String,
}

/// Why a pack cannot be generated from a catalog.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// An indicator that osquery's SQL or its built-in tables cannot express.
    #[error("indicator of {vendor}: {kind} {match_kind} {pattern:?} cannot be expressed in osquery: {why}")]
    Unexpressible { vendor: String, kind: String, match_kind: String, pattern: String, why: String },
    /// A catalog so large that a query would exceed SQLite's limits.
    #[error("the {target} query would have {branches} alternatives, over the {max} osquery's SQLite accepts")]
    TooLarge { target: String, branches: usize, max: usize },
    #[error("cannot render YAML: {0}")]
    Yaml(String),
    #[error("cannot render JSON: {0}")]
    Json(String),
}

/// The files of `flavor`, the first being the one printed when no output
/// directory is given.
pub fn generate(catalog: &Catalog, flavor: Flavor) -> Result<Vec<PackFile>, PackError> {
    match flavor {
        Flavor::Osquery => Ok(vec![osquery::extension_pack()?]),
        Flavor::OsqueryBuiltin => Ok(vec![osquery::builtin_pack(catalog)?]),
        Flavor::Fleet => fleet::files(catalog),
    }
}

/// The SQL of one built-in-tables query: `kind` for `target`, over every
/// banned vendor or only `vendor`.
pub fn builtin_query(
    catalog: &Catalog,
    target: Target,
    kind: QueryKind,
    vendor: Option<&str>,
) -> Result<String, PackError> {
    builtin::query(catalog, target, kind, vendor)
}

/// What a daily or weekly schedule means in seconds.
pub(crate) const DAY: u32 = 86_400;
pub(crate) const WEEK: u32 = 7 * DAY;

/// The schedule of each canned query in every pack: findings and exposure
/// as a daily snapshot (the complete picture each day, so a consumer never
/// has to replay differentials, and `days_without_updates` changes daily
/// anyway), leftovers weekly (they change only when someone cleans up).
pub(crate) fn interval_of(kind: QueryKind) -> u32 {
    match kind {
        QueryKind::Findings | QueryKind::Exposure => DAY,
        QueryKind::Leftovers => WEEK,
    }
}
