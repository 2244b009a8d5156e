//! embargo's tables inside SQLite.
//!
//! ```
//! use embargo_sqlite::ScanSlot;
//! use embargo_tables::{Engine, EngineOptions};
//! let conn = rusqlite::Connection::open_in_memory().unwrap();
//! let scans = ScanSlot::new(Engine::open(&EngineOptions::new("/")).unwrap().into());
//! embargo_sqlite::register(&conn, scans.clone()).unwrap();
//! let n: i64 = conn.query_row("SELECT count(*) FROM scan_host", [], |r| r.get(0)).unwrap();
//! assert_eq!(n, 1);
//! scans.begin(); // the next statements read the root afresh
//! ```

mod functions;
pub mod guard;
mod statements;
mod vtab;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use embargo_tables::engine::{BudgetError, Deadline, Workers};
use embargo_tables::table::SharedRows;
use embargo_tables::{Engine, Query, Scan, Table};

pub use functions::register_functions;
pub use vtab::register_table;

use statements::Statements;

/// The scan a connection's tables read. The surface starts a fresh one at
/// each of its units of work, so that rows, problems and shared state never
/// outlive it: either by calling [`ScanSlot::begin`] (the CLI, per statement
/// batch), or, for a host whose statements embargo does not see being run
/// (the loadable extension), by a slot made with
/// [`ScanSlot::per_statement`], which starts one per statement by itself.
pub struct ScanSlot {
    engine: Mutex<Arc<Engine>>,
    current: Mutex<Arc<Scan>>,
    statements: Option<Statements>,
    /// How long one scan may spend generating, from its start; none: as
    /// long as it takes (the CLI, whose user can press ^C).
    budget: Mutex<Option<Duration>>,
}

impl ScanSlot {
    /// A slot holding a first scan of `engine`; the surface calls
    /// [`ScanSlot::begin`] at its units of work.
    pub fn new(engine: Arc<Engine>) -> Arc<ScanSlot> {
        Self::make(engine, None)
    }

    /// A slot whose tables start a fresh scan for each statement of the
    /// connection `db` runs (the rule is in `statements.rs`).
    ///
    /// # Safety
    /// `db` must be the connection the slot's tables are registered on, and
    /// the slot must not be used after that connection is closed (the
    /// modules that hold it are dropped when it is).
    pub unsafe fn per_statement(engine: Arc<Engine>, db: *mut rusqlite::ffi::sqlite3) -> Arc<ScanSlot> {
        Self::make(engine, Some(Statements::new(db)))
    }

    fn make(engine: Arc<Engine>, statements: Option<Statements>) -> Arc<ScanSlot> {
        let first = Arc::new(engine.scan());
        Arc::new(ScanSlot {
            engine: Mutex::new(engine),
            current: Mutex::new(first),
            statements,
            budget: Mutex::new(None),
        })
    }

    /// Replaces the current scan with a fresh one, and returns it. A
    /// statement already reading the old one finishes with it.
    pub fn begin(&self) -> Arc<Scan> {
        let fresh = Arc::new(self.engine().scan());
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        fresh
    }

    pub fn current(&self) -> Arc<Scan> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes the scans from now on come from `engine` (another root or
    /// catalog). The current scan is kept for the statements reading it; a
    /// per-statement slot starts the next statement on the new engine.
    pub fn set_engine(&self, engine: Arc<Engine>) {
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = engine;
        if let Some(s) = &self.statements {
            s.engine_changed();
        }
    }

    /// Gives each scan from now on `budget` (from its start) to generate
    /// its tables: a table not done by then fails its statement, and its
    /// generator runs on, abandoned, on a worker of the engine's
    /// ([`Workers::shared`]).
    pub fn set_budget(&self, budget: Option<Duration>) {
        *self.budget.lock().unwrap_or_else(|p| p.into_inner()) = budget;
    }

    pub fn budget(&self) -> Option<Duration> {
        *self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `table`'s rows for `query` from `scan`, within the budget if there is one.
    fn rows(&self, scan: &Arc<Scan>, table: &'static dyn Table, query: &Query) -> Result<SharedRows, BudgetError> {
        match self.budget() {
            None => Ok(scan.rows(table, query)),
            Some(b) => Workers::shared().rows(scan, table, query, Deadline::since(scan.started(), b)),
        }
    }

    /// The scan a table cursor reads, asked once at its first filter.
    fn for_cursor(&self) -> Arc<Scan> {
        match &self.statements {
            Some(s) if s.new_statement() => self.begin(),
            _ => self.current(),
        }
    }

    fn cursor_opened(&self) {
        if let Some(s) = &self.statements {
            s.cursor_opened();
        }
    }

    fn cursor_closed(&self) {
        if let Some(s) = &self.statements {
            s.cursor_closed();
        }
    }
}

/// Registers every embargo table, reading the scans of `scans`, and the SQL
/// functions embargo's queries use, and restricts what SQL may do on `conn`
/// ([`guard::restrict`]): no file is opened or written through it.
pub fn register(conn: &rusqlite::Connection, scans: Arc<ScanSlot>) -> rusqlite::Result<()> {
    for table in embargo_tables::tables::all() {
        register_table(conn, *table, scans.clone())?;
    }
    register_functions(conn)?;
    guard::restrict(conn)
}
