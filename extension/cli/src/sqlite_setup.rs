//! Process-wide SQLite settings, made before the first connection opens.
//!
//! Memory statistics are off: they take a global mutex on every allocation
//! SQLite makes, for figures embargo never reads. Connections are in
//! multi-thread mode: embargo uses each connection from one thread (the
//! collector threads never touch SQLite), so per-connection mutexes only cost.
//!
//! mimalloc was tried as the allocator of both Rust and SQLite and dropped:
//! no faster here on any benchmark, 50-400 more page faults per run and a
//! fifth more peak memory on large roots.

use std::ffi::c_int;

use rusqlite::ffi;

/// Returns false, changing nothing, if SQLite was already initialised.
pub fn configure_sqlite() -> bool {
    // SAFETY: both options are valid before sqlite3_initialize(); after it
    // SQLite refuses them with SQLITE_MISUSE and nothing changes.
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) == ffi::SQLITE_OK
            && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) == ffi::SQLITE_OK
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_runs_configured() {
        // Alone in this test binary, or after another test already opened
        // SQLite: then the configuration is refused, not half-applied.
        let configured = super::configure_sqlite();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let n: i64 = conn
            .query_row(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000)
                 SELECT count(DISTINCT printf('%0500d', i)) FROM c",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 20000);
        if configured {
            // With statistics off SQLite counts no memory in use.
            assert_eq!(unsafe { rusqlite::ffi::sqlite3_memory_used() }, 0);
        }
    }
}
