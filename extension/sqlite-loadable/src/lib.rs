//! `libembargo.so`: every embargo table and the SQL functions of the canned
//! queries inside any SQLite that loads extensions (`sqlite3`'s `.load`,
//! Python's `load_extension`, DB Browser).
//!
//! A thin surface over the engine, as the CLI is: one [`Engine`] per
//! connection (root `/` and the embedded catalog until `embargo_root()` /
//! `embargo_catalog()` change them), one scan per statement (the rule is in
//! `embargo_sqlite`'s `statements.rs`).
//!
//! Unlike the CLI, this lives in someone else's process: it leaves the
//! host's SQL alone (no authorizer, no limits: the host may attach and write
//! its own databases), and no panic may cross into the host's C frames.

mod connection;
mod settings;

use std::ffi::{c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::{Connection, ffi};

/// The entry point SQLite derives from the file name `libembargo.so`.
///
/// # Safety
/// Called by SQLite's extension loader with an open connection, a place for
/// an error message and the host's API routines.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sqlite3_embargo_init(
    db: *mut ffi::sqlite3,
    err: *mut *mut c_char,
    api: *mut ffi::sqlite3_api_routines,
) -> c_int {
    // rusqlite's own path can panic (an error message allocated before the
    // API table is set); a panic here would abort the host.
    // SAFETY: the arguments are SQLite's, handed on unchanged.
    catch_unwind(AssertUnwindSafe(|| unsafe { Connection::extension_init2(db, err, api, init) }))
        .unwrap_or(ffi::SQLITE_ERROR)
}

/// Registers everything on the connection. `Ok(true)`: keep the library
/// loaded after the connection closes (SQLITE_OK_LOAD_PERMANENTLY), since
/// other connections may use it and its state is process-wide.
fn init(conn: Connection) -> rusqlite::Result<bool> {
    connection::attach(&conn)?;
    Ok(true)
}
