//! What one host connection holds: its engine options and the slot whose
//! scans its tables read.
//!
//! The state lives in the closures of the connection's `embargo_*`
//! functions and in its modules, so SQLite drops it when the connection
//! closes; two connections of one process each have their own. A list of
//! weak references by connection address tells whether this library is
//! already loaded on a connection: loading it again there changes nothing
//! (root and catalog are kept), also from `SELECT load_extension(...)`, a
//! running statement during which SQLite refuses to replace functions.

use std::sync::{Arc, Mutex, Weak};

use embargo_sqlite::ScanSlot;
use embargo_tables::engine::{Engine, EngineOptions};
use rusqlite::{Connection, Error, Result};

use crate::settings;

/// One connection's embargo.
pub struct State {
    pub slot: Arc<ScanSlot>,
    /// What the current engine was opened with; a setting changes one part.
    pub options: Mutex<Settings>,
    /// Whether the host's SQLite may be called from a worker thread, which
    /// a time budget needs.
    pub threadsafe: bool,
}

/// The engine's options as SQL set them, for reading back.
#[derive(Clone, Debug)]
pub struct Settings {
    pub options: EngineOptions,
    /// `--as-of` as given (`YYYY-MM-DD`), or none: each scan's own time.
    pub as_of_text: Option<String>,
}

static LOADED: Mutex<Vec<(usize, Weak<State>)>> = Mutex::new(Vec::new());

/// Registers the tables and functions on `conn`, unless this library already
/// did and the state is still alive.
pub fn attach(conn: &Connection) -> Result<()> {
    // SAFETY: only the address is kept, and only handed back to SQLite for
    // the connection that owns the state.
    let db = unsafe { conn.handle() };
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    // Closed connections leave dead entries; a new connection may reuse an
    // address, which a dead entry must not claim.
    loaded.retain(|(_, w)| w.strong_count() > 0);
    if loaded.iter().any(|(d, _)| *d == db as usize) {
        return Ok(());
    }
    let settings = Settings { options: EngineOptions::new("/"), as_of_text: None };
    let engine = Engine::open(&settings.options).map_err(|e| Error::ModuleError(format!("embargo: root {e}")))?;
    // SAFETY: the slot goes only to this connection's modules, dropped with it.
    let slot = unsafe { ScanSlot::per_statement(Arc::new(engine), db) };
    // In someone else's process a scan must end (or fail) in time, so its
    // generators run on a worker that can be given up on. Collectors call
    // SQLite too (rpmdb.sqlite, cert9.db), which a host built with
    // SQLITE_THREADSAFE=0 forbids from a second thread: there scans stay on
    // the statement's thread, without a budget.
    // SAFETY: sqlite3_threadsafe only reads a compile-time option.
    let threadsafe = unsafe { rusqlite::ffi::sqlite3_threadsafe() } != 0;
    if threadsafe {
        slot.set_budget(Some(embargo_tables::engine::DEFAULT_BUDGET));
    }
    for table in embargo_tables::tables::all() {
        embargo_sqlite::register_table(conn, *table, slot.clone())?;
    }
    embargo_sqlite::register_functions(conn)?;
    let state = Arc::new(State { slot, options: Mutex::new(settings), threadsafe });
    settings::register(conn, &state)?;
    loaded.push((db as usize, Arc::downgrade(&state)));
    Ok(())
}

impl State {
    pub fn settings(&self) -> Settings {
        self.options.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Opens an engine on `next`; on success it serves the statements that
    /// follow, on failure nothing changes.
    pub fn apply(&self, next: Settings) -> std::result::Result<(), embargo_tables::engine::OpenError> {
        let mut current = self.options.lock().unwrap_or_else(|p| p.into_inner());
        let engine = Engine::open(&next.options)?;
        self.slot.set_engine(Arc::new(engine));
        *current = next;
        Ok(())
    }
}
