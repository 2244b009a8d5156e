//! When a statement starts, for a host that runs statements embargo cannot
//! see (the loadable extension inside `sqlite3`, Python, DB Browser).
//!
//! SQLite tells a virtual table nothing about the statement reading it, so
//! a new scan is started at the first filter of a cursor when either
//! - every embargo cursor opened since the current scan began has been
//!   closed (SQLite closes a statement's cursors when the statement ends or
//!   is reset), or
//! - a statement run is busy that was not busy when the current scan began:
//!   the connection's busy statements, each with its run number
//!   (`SQLITE_STMTSTATUS_RUN`, counted at the start of each run), are
//!   compared with those seen then. That catches a new statement while an
//!   earlier one is still half read (a Python cursor left unexhausted),
//!   which keeps its cursors open.
//!
//! So every cursor of one statement reads one scan: one snapshot of each
//! table, one `scan_errors` log. Statements that interleave (two cursors
//! stepped in turn) share the newest scan from the moment the later one
//! starts; rows a cursor has read are never changed.

use std::sync::Mutex;

use rusqlite::ffi;

pub(crate) struct Statements {
    /// The connection, as an address: only handed back to SQLite.
    db: usize,
    state: Mutex<State>,
}

struct State {
    /// Busy statement runs (address, run number) when the current scan began.
    seen: Vec<(usize, i32)>,
    /// Embargo cursors open now.
    open: usize,
    /// Every cursor of the current scan has closed, or the engine changed.
    ended: bool,
}

impl Statements {
    pub(crate) fn new(db: *mut ffi::sqlite3) -> Statements {
        Statements { db: db as usize, state: Mutex::new(State { seen: Vec::new(), open: 0, ended: true }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the cursor filtering now belongs to a statement the current
    /// scan was not started for; if so, the caller starts one and this
    /// remembers the statements busy now.
    pub(crate) fn new_statement(&self) -> bool {
        let busy = self.busy();
        let mut st = self.lock();
        let fresh = st.ended || busy.iter().any(|b| !st.seen.contains(b));
        if fresh {
            st.seen = busy;
            st.ended = false;
        }
        fresh
    }

    pub(crate) fn cursor_opened(&self) {
        self.lock().open += 1;
    }

    pub(crate) fn cursor_closed(&self) {
        let mut st = self.lock();
        st.open = st.open.saturating_sub(1);
        if st.open == 0 {
            st.ended = true;
        }
    }

    pub(crate) fn engine_changed(&self) {
        self.lock().ended = true;
    }

    /// The connection's busy statements with their run numbers.
    fn busy(&self) -> Vec<(usize, i32)> {
        let db = self.db as *mut ffi::sqlite3;
        let mut out = Vec::new();
        // SAFETY: `db` is the open connection whose vtab is calling (see
        // ScanSlot::per_statement); sqlite3_next_stmt and the two status
        // calls only read statements SQLite keeps on it, under its
        // (recursive) connection mutex.
        unsafe {
            let mut stmt = ffi::sqlite3_next_stmt(db, std::ptr::null_mut());
            while !stmt.is_null() {
                if ffi::sqlite3_stmt_busy(stmt) != 0 {
                    out.push((stmt as usize, ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_RUN, 0)));
                }
                stmt = ffi::sqlite3_next_stmt(db, stmt);
            }
        }
        out
    }
}
