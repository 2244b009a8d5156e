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
mod vtab;

use std::sync::{Arc, Mutex};

use embargo_tables::{Engine, Scan};

pub use functions::register_functions;
pub use vtab::register_table;

/// The scan a connection's tables read. The surface starts a fresh one at
/// each of its units of work ([`ScanSlot::begin`]: the CLI per statement
/// batch, the loadable extension per statement), so that rows, problems and
/// shared state never outlive it.
pub struct ScanSlot {
    engine: Arc<Engine>,
    current: Mutex<Arc<Scan>>,
}

impl ScanSlot {
    /// A slot holding a first scan of `engine`.
    pub fn new(engine: Arc<Engine>) -> Arc<ScanSlot> {
        let first = Arc::new(engine.scan());
        Arc::new(ScanSlot { engine, current: Mutex::new(first) })
    }

    /// Replaces the current scan with a fresh one, and returns it. A
    /// statement already reading the old one finishes with it.
    pub fn begin(&self) -> Arc<Scan> {
        let fresh = Arc::new(self.engine.scan());
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        fresh
    }

    pub fn current(&self) -> Arc<Scan> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
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
