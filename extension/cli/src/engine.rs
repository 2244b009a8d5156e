//! One SQLite connection with every embargo table over one scan root.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use embargo_sqlite::ScanSlot;
use embargo_tables::engine::{Engine, EngineOptions, OpenError};
use embargo_tables::{Scan, Table};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};

use crate::args::{Format, Global};
use crate::output::{self, Cell};

/// The CLI's surface: one connection whose tables read the scan of the
/// current statement batch.
pub struct Session {
    pub conn: Connection,
    scans: Arc<ScanSlot>,
}

impl Session {
    pub fn open(g: &Global) -> Result<Session> {
        let options = EngineOptions { root: g.root.clone(), catalog: g.catalog.clone(), as_of: g.as_of };
        let engine = Engine::open(&options).map_err(|e| match e {
            OpenError::Catalog(e) => anyhow!("--catalog: {e}"),
            e => anyhow!("--root {e}"),
        })?;
        let scans = ScanSlot::new(Arc::new(engine));
        let conn = Connection::open_in_memory().context("cannot open SQLite")?;
        embargo_sqlite::register(&conn, scans.clone()).context("cannot register the tables")?;
        Ok(Session { conn, scans })
    }

    /// Starts a fresh scan (a new clock, no problems, no rows) for the
    /// statements that follow.
    pub fn begin(&self) -> Arc<Scan> {
        self.scans.begin()
    }

    pub fn root(&self) -> embargo_tables::Root {
        self.scans.engine().root().clone()
    }

    /// Runs every statement in `sql`, printing the rows of each. Returns how
    /// many statements there were (comments and `;` alone make none).
    pub fn run_sql(&self, sql: &str, format: Format, out: &mut dyn Write) -> Result<usize> {
        let mut sink = output::sink(format, out);
        let ran = self.run_statements(sql, &mut *sink);
        // Closed even after an error, so that JSON output stays valid.
        sink.finish()?;
        ran
    }

    fn run_statements(&self, sql: &str, sink: &mut dyn output::RowSink) -> Result<usize> {
        let mut statements = 0;
        // One scan per batch: scan_errors in a later statement still lists
        // what an earlier one met.
        let scan = self.begin();
        let mut batch = Batch::new(&self.conn, sql);
        loop {
            // Each statement sees the root afresh.
            scan.forget_rows();
            embargo_sqlite::guard::take_refusal();
            let mut stmt = match batch.next() {
                Ok(Some(stmt)) => stmt,
                Ok(None) => return Ok(statements),
                Err(e) => return Err(explain(e)),
            };
            statements += 1;
            let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
            let mut rows = stmt.raw_query();
            if !columns.is_empty() {
                sink.begin(&columns)?;
            }
            let mut cells = vec![Cell::Null; columns.len()];
            while let Some(row) = rows.next().map_err(explain)? {
                for (i, cell) in cells.iter_mut().enumerate() {
                    cell.set(row.get_ref(i).map_err(explain)?);
                }
                sink.row(&cells)?;
            }
            if !columns.is_empty() {
                sink.end()?;
            }
        }
    }
}

impl Session {
    /// Runs one query in the current scan and keeps its rows.
    pub fn table(&self, sql: &str) -> Result<crate::scan::Fetched> {
        embargo_sqlite::guard::take_refusal();
        let mut stmt = self.conn.prepare(sql).map_err(explain)?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(explain)? {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                cells.push(Cell::from_sql(row.get_ref(i).map_err(explain)?));
            }
            out.push(cells);
        }
        Ok(crate::scan::Fetched { columns, rows: out })
    }
}

pub fn find_table(name: &str) -> Result<&'static dyn Table> {
    embargo_tables::tables::find(name)
        .ok_or_else(|| anyhow!("no such table: {name} (the tables are: {})", table_list()))
}

fn table_list() -> String {
    embargo_tables::tables::all().iter().map(|t| t.spec().name).collect::<Vec<_>>().join(", ")
}

/// An SQL error in words, with the list of tables when one is unknown.
pub fn explain(e: rusqlite::Error) -> anyhow::Error {
    // The authorizer refused part of the statement; SQLite only says so.
    if let Some(why) = embargo_sqlite::guard::take_refusal() {
        return anyhow!("not authorized: {why}");
    }
    let msg = shorten(&e.to_string());
    if msg.contains("no such table") {
        return anyhow!("SQL error: {msg} (the tables are: {})", table_list());
    }
    anyhow!("SQL error: {msg}")
}

/// Whether `sql` ends with a complete statement (SQLite's own tokenizer
/// decides, so `;` inside strings and triggers is handled).
pub fn is_complete(sql: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(sql) else { return true };
    // SAFETY: a valid NUL-terminated string; sqlite3_complete only reads it.
    unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
}

/// rusqlite quotes the whole statement in a syntax error; for a canned query
/// that is pages of SQL. Keep a window around the offset instead.
fn shorten(msg: &str) -> String {
    let (Some(start), Some(end)) = (msg.find(" in "), msg.rfind(" at offset ")) else { return msg.to_string() };
    let sql = &msg[start + 4..end];
    if sql.len() <= 200 {
        return msg.to_string();
    }
    let offset: usize = msg[end + 11..].trim().parse().unwrap_or(0).min(sql.len());
    let mut from = offset.saturating_sub(60);
    while !sql.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (offset + 60).min(sql.len());
    while !sql.is_char_boundary(to) {
        to += 1;
    }
    format!("{} near \"…{}…\" (offset {offset})", &msg[..start], sql[from..to].replace('\n', " "))
}
