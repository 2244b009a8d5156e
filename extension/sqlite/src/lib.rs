//! embargo's tables inside SQLite.
//!
//! ```
//! use std::sync::Arc;
//! let conn = rusqlite::Connection::open_in_memory().unwrap();
//! let scan = Arc::new(embargo_tables::Scan::new(embargo_tables::Root::new("/").unwrap()));
//! embargo_sqlite::register(&conn, scan).unwrap();
//! let n: i64 = conn.query_row("SELECT count(*) FROM scan_host", [], |r| r.get(0)).unwrap();
//! assert_eq!(n, 1);
//! ```

mod functions;
pub mod guard;
mod vtab;

use std::sync::Arc;

use embargo_tables::Scan;

pub use functions::register_functions;
pub use vtab::register_table;

/// Registers every embargo table, reading `scan`'s root, and the SQL
/// functions embargo's queries use, and restricts what SQL may do on `conn`
/// ([`guard::restrict`]): no file is opened or written through it.
pub fn register(conn: &rusqlite::Connection, scan: Arc<Scan>) -> rusqlite::Result<()> {
    for table in embargo_tables::tables::all() {
        register_table(conn, *table, scan.clone())?;
    }
    register_functions(conn)?;
    guard::restrict(conn)
}
