//! The entry point every surface uses: one long-lived [`Engine`] per root
//! (the CLI for one command, the osquery extension for days, the loadable
//! extension for its host's connection), and from it a fresh, short-lived
//! [`Scan`] per unit of work, with its own clock, problems, row cache and
//! shared state. A surface is then a thin codec: it turns its constraints
//! into a [`Query`](crate::query::Query) with a
//! [`Builder`](crate::query::Builder), reads [`Scan::rows`], and turns the
//! cells back into its own values.
//!
//! ```
//! use embargo_tables::engine::{Engine, EngineOptions};
//! use embargo_tables::query::{Builder, Folding, Op};
//! use embargo_tables::{Value, tables};
//!
//! let engine = Engine::open(&EngineOptions::new("/")).unwrap();
//! let table = tables::find("banned_vendors").unwrap();
//! let mut q = Builder::new(table.spec(), Folding::Union);
//! q.push("vendor_id", Op::Eq, [Value::Text("kaspersky".into())]);
//! let rows = engine.scan().rows(table, &q.build().unwrap());
//! assert!(rows.len() > 0);
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use embargo_catalog::{Catalog, CatalogError};

use crate::limits::ScanLimits;
use crate::root::Root;
use crate::table::Scan;

/// The time budget every surface hosted in another process runs its
/// generators under (see [`crate::budget`]).
pub use crate::budget::{BudgetError, DEFAULT_BUDGET, Deadline, Workers};

/// What an engine is opened on.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// The directory scanned as `/`.
    pub root: PathBuf,
    /// A TOML file or directory of them replacing the embedded catalog.
    pub catalog: Option<PathBuf>,
    /// The date findings are judged at, Unix seconds (default: each scan's
    /// start).
    pub as_of: Option<i64>,
}

impl EngineOptions {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        EngineOptions { root: root.into(), ..Default::default() }
    }
}

/// Why an engine could not be opened. Nothing is scanned then: a root that
/// cannot be read would scan as clean, and a bad catalog would judge wrongly.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{}: {source}", path.display())]
    Root { path: PathBuf, source: std::io::Error },
    #[error("{}: cannot list it: {source}", path.display())]
    Unlistable { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Catalog(Box<CatalogError>),
}

/// One root, catalog and options, from which scans are made.
pub struct Engine {
    root: Root,
    /// Shared by every scan: parsed once, on first use.
    catalog: Arc<OnceLock<Arc<Catalog>>>,
    as_of: Option<i64>,
    limits: ScanLimits,
}

impl Engine {
    /// Opens the root and the catalog the options name, checking that the
    /// root can be listed.
    pub fn open(options: &EngineOptions) -> Result<Engine, OpenError> {
        let path = &options.root;
        let root = Root::new(path).map_err(|source| OpenError::Root { path: path.clone(), source })?;
        check_listable(&root, path)?;
        let mut engine = Engine::new(root);
        if let Some(catalog) = &options.catalog {
            let catalog = Catalog::from_path(catalog).map_err(|e| OpenError::Catalog(Box::new(e)))?;
            engine = engine.with_catalog(Arc::new(catalog));
        }
        engine.as_of = options.as_of;
        Ok(engine)
    }

    /// An engine over an open root, with the embedded catalog.
    pub fn new(root: Root) -> Engine {
        Engine { root, catalog: Arc::default(), as_of: None, limits: ScanLimits::default() }
    }

    /// Shows `catalog` instead of the embedded one.
    pub fn with_catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.catalog = Arc::new(OnceLock::from(catalog));
        self
    }

    /// Judges findings as of `as_of` (Unix seconds) in every scan.
    pub fn with_as_of(mut self, as_of: i64) -> Self {
        self.as_of = Some(as_of);
        self
    }

    /// Bounds every scan of this engine by `limits` instead of the defaults
    /// ([`crate::limits`]).
    pub fn with_limits(mut self, limits: ScanLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> ScanLimits {
        self.limits
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// A fresh scan: clock started now, no problems, no rows, and a root
    /// that remembers nothing of earlier scans' walks.
    pub fn scan(&self) -> Scan {
        let root = self.root.fresh().with_read_budget(self.limits.bytes_per_scan);
        Scan::start(root, self.catalog.clone(), self.as_of, self.limits)
    }
}

fn check_listable(root: &Root, path: &Path) -> Result<(), OpenError> {
    std::fs::read_dir(root.base())
        .map(drop)
        .map_err(|source| OpenError::Unlistable { path: path.to_path_buf(), source })
}
