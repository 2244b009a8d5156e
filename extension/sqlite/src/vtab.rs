//! The virtual-table adapter: any [`Table`] becomes an eponymous, read-only
//! SQLite table.
//!
//! The planner hands `=` and `IN` on `index`/`required` columns to the
//! generator and leaves every other predicate to SQLite. It never sets `omit`,
//! so SQLite re-checks every constraint on every row: a generator may use its
//! constraints to skip work but can never make a query wrong.
//!
//! Which constraints those are, what several on one column mean and what a
//! missing required column says are decided in
//! [`embargo_tables::query`], for every surface alike; this file only
//! translates SQLite's `IndexInfo` and `Filters` into that policy's terms
//! (two SQLite constraints on a column are both true: [`Folding::Intersect`]).

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use embargo_tables::engine::BudgetError;
use embargo_tables::query::{self, Builder, Folding, Offer, Op};
use embargo_tables::spec::{Value, ValueRef};
use embargo_tables::table::SharedRows;
use embargo_tables::{Scan, Table, TableSpec};
use rusqlite::vtab::{
    Context, Filters, IndexConstraintOp, IndexInfo, Module, VTab, VTabConfig, VTabConnection, VTabCursor, sqlite3_vtab,
    sqlite3_vtab_cursor,
};
use rusqlite::{Connection, Error, Result, types::ValueRef as SqlValueRef};

use crate::ScanSlot;

/// What one registered module knows: its table and where its scan is.
pub struct Aux {
    table: &'static dyn Table,
    scans: Arc<ScanSlot>,
}

const MODULE: Module<'static, EmbargoTab> = Module::eponymous_only_module();

/// Registers one table as an eponymous virtual table named after it.
pub fn register_table(conn: &Connection, table: &'static dyn Table, scans: Arc<ScanSlot>) -> Result<()> {
    conn.create_module(table.spec().name, &MODULE, Some(Aux { table, scans }))
}

#[repr(C)]
struct EmbargoTab {
    base: sqlite3_vtab,
    table: &'static dyn Table,
    scans: Arc<ScanSlot>,
}

/// Estimated rows of a scan that no constraint narrows.
const FULL_SCAN_ROWS: f64 = 100_000.0;

unsafe impl<'vtab> VTab<'vtab> for EmbargoTab {
    type Aux = Aux;
    type Cursor = EmbargoCursor;

    fn connect(
        db: &mut VTabConnection,
        aux: Option<&Aux>,
        _module: &[u8],
        _database: &[u8],
        _table: &[u8],
        _args: &[&[u8]],
    ) -> Result<(Cow<'static, CStr>, Self)> {
        guard(|| {
            let aux = aux.ok_or_else(|| Error::ModuleError("embargo table registered without its table".into()))?;
            db.config(VTabConfig::Innocuous)?;
            let sql = CString::new(aux.table.spec().create_table_sql())
                .map_err(|e| Error::ModuleError(format!("bad schema: {e}")))?;
            let tab = EmbargoTab { base: sqlite3_vtab::default(), table: aux.table, scans: aux.scans.clone() };
            Ok((Cow::Owned(sql), tab))
        })
    }

    fn best_index(&self, info: &mut IndexInfo) -> Result<bool> {
        guard(|| {
            plan(self.table.spec(), info);
            Ok(true)
        })
    }

    fn open(&'vtab mut self) -> Result<EmbargoCursor> {
        guard(|| {
            self.scans.cursor_opened();
            Ok(EmbargoCursor {
                base: sqlite3_vtab_cursor::default(),
                table: self.table,
                scans: self.scans.clone(),
                scan: None,
                rows: None,
                row: 0,
            })
        })
    }
}

/// One pushed-down constraint, as encoded in `idx_str`: the column, and
/// whether its `IN` list arrives all at once.
#[derive(Debug, PartialEq)]
struct Pushed {
    column: usize,
    in_list: bool,
}

fn encode(pushed: &[Pushed]) -> String {
    pushed.iter().map(|p| format!("{}{}", p.column, if p.in_list { "i" } else { "" })).collect::<Vec<_>>().join(",")
}

fn decode(s: &str) -> Vec<Pushed> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let in_list = p.ends_with('i');
            p.trim_end_matches('i').parse().ok().map(|column| Pushed { column, in_list })
        })
        .collect()
}

/// The planner: the policy picks the constraints to push ([`query::plan`]);
/// this prices the plan. Each narrows the scan a hundredfold, an `IN` list
/// of n values n times less. A plan that leaves a required column
/// unconstrained is priced out of reach; if SQLite has no other, `filter`
/// says what is missing.
fn plan(spec: &TableSpec, info: &mut IndexInfo) {
    let offers: Vec<Offer> = info
        .constraints()
        .map(|c| Offer {
            // The rowid (-1) is no column of the declaration: never pushed.
            column: usize::try_from(c.column()).unwrap_or(usize::MAX),
            // An `IN` is planned as `=`; `all_at_once` asks for its list.
            op: if c.operator() == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ { Op::Eq } else { Op::Other },
            usable: c.is_usable(),
        })
        .collect();
    let chosen = query::plan(spec, Folding::Intersect, &offers);
    let mut pushed = Vec::new();
    let mut rows = FULL_SCAN_ROWS;
    for (argv, &i) in chosen.pushed.iter().enumerate() {
        let in_list = all_at_once(info, i);
        let mut usage = info.constraint_usage(i);
        usage.set_argv_index(argv as c_int + 1);
        usage.set_omit(false);
        rows /= 100.0;
        pushed.push(Pushed { column: offers[i].column, in_list });
    }
    let cost = if chosen.missing_required.is_some() { 1e300 } else { rows.max(1.0) * 10.0 };
    info.set_estimated_cost(cost);
    info.set_estimated_rows(rows.max(1.0) as i64);
    info.set_idx_str(&encode(&pushed));
}

#[cfg(feature = "modern")]
fn all_at_once(info: &mut IndexInfo, constraint: usize) -> bool {
    info.is_in_constraint(constraint).unwrap_or(false) && info.set_in_constraint(constraint, true).unwrap_or(false)
}

#[cfg(not(feature = "modern"))]
fn all_at_once(_info: &mut IndexInfo, _constraint: usize) -> bool {
    false
}

#[repr(C)]
struct EmbargoCursor {
    base: sqlite3_vtab_cursor,
    table: &'static dyn Table,
    scans: Arc<ScanSlot>,
    /// The scan of the statement this cursor belongs to, from its first filter.
    scan: Option<Arc<Scan>>,
    rows: Option<SharedRows>,
    row: usize,
}

impl Drop for EmbargoCursor {
    // SQLite closes a cursor when its statement ends or is reset.
    fn drop(&mut self) {
        self.scans.cursor_closed();
    }
}

unsafe impl VTabCursor for EmbargoCursor {
    fn filter(&mut self, _idx_num: c_int, idx_str: Option<&str>, args: &Filters<'_>) -> Result<()> {
        guard(|| {
            let spec = self.table.spec();
            let mut query = Builder::new(spec, Folding::Intersect);
            for (argv, p) in decode(idx_str.unwrap_or("")).iter().enumerate() {
                if p.in_list {
                    query.push(p.column, Op::In, in_values(args, argv)?);
                } else {
                    query.push(p.column, Op::Eq, [args.iter().nth(argv).map_or(Value::Null, owned)]);
                }
            }
            let query = query.build().map_err(|e| Error::ModuleError(e.to_string()))?;
            // The scan of this statement: the surface starts a fresh one at
            // its unit of work, or the slot does per statement.
            let scans = &self.scans;
            let scan = self.scan.get_or_insert_with(|| scans.for_cursor());
            let rows = scans.rows(scan, self.table, &query).map_err(|e| match e {
                BudgetError::OverBudget { .. } => Error::ModuleError(format!("{e} (embargo_budget(seconds) sets it)")),
                e => Error::ModuleError(e.to_string()),
            })?;
            self.rows = Some(rows);
            self.row = 0;
            Ok(())
        })
    }

    fn next(&mut self) -> Result<()> {
        self.row += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.rows.as_ref().is_none_or(|r| self.row >= r.len())
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> Result<()> {
        guard(|| {
            let Some(rows) = &self.rows else { return ctx.set_result(&rusqlite::types::Null) };
            match rows.cell(self.row, i as usize) {
                ValueRef::Null => ctx.set_result(&rusqlite::types::Null),
                ValueRef::Integer(v) => ctx.set_result(&v),
                ValueRef::Double(v) => ctx.set_result(&v),
                ValueRef::Text(v) => ctx.set_result(&v),
            }
        })
    }

    /// A hash of the row's cells. SQLite's MULTI-INDEX OR plan reads the
    /// table once per branch and drops rows whose rowid it has seen, so the
    /// same row must get the same rowid in every read, whatever the
    /// constraints (a position in one read would drop different rows).
    fn rowid(&self) -> Result<i64> {
        guard(|| self.row_hash())
    }
}

impl EmbargoCursor {
    fn row_hash(&self) -> Result<i64> {
        use std::hash::{Hash, Hasher};
        let Some(rows) = &self.rows else { return Ok(0) };
        // DefaultHasher::new() has fixed keys: stable within and across runs.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for col in 0..self.table.spec().columns.len() {
            match rows.cell(self.row, col) {
                ValueRef::Null => 0u8.hash(&mut h),
                ValueRef::Integer(v) => (1u8, v).hash(&mut h),
                ValueRef::Double(v) => (2u8, v.to_bits()).hash(&mut h),
                ValueRef::Text(v) => (3u8, v).hash(&mut h),
            }
        }
        Ok(h.finish() as i64)
    }
}

#[cfg(feature = "modern")]
fn in_values(args: &Filters<'_>, argv: usize) -> Result<Vec<Value>> {
    use rusqlite::fallible_iterator::FallibleIterator;
    args.in_values(argv)?.map(|v| Ok(owned(v))).collect()
}

#[cfg(not(feature = "modern"))]
fn in_values(_args: &Filters<'_>, _argv: usize) -> Result<Vec<Value>> {
    Err(Error::ModuleError("IN lists are not handed over all at once in this build".into()))
}

fn owned(v: SqlValueRef<'_>) -> Value {
    match v {
        SqlValueRef::Null => Value::Null,
        SqlValueRef::Integer(i) => Value::Integer(i),
        SqlValueRef::Real(f) => Value::Double(f),
        SqlValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        SqlValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// Runs `f`, turning a panic into an SQL error: a panic must never unwind
/// into SQLite's C frames (that aborts the process, osqueryd's child or the
/// `sqlite3` shell included).
fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::ModuleError(format!("internal error in embargo table: {msg}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embargo_tables::Engine;
    use embargo_tables::query::Query;
    use embargo_tables::table::Ctx;
    use std::sync::atomic::{AtomicUsize, Ordering};

    mod pets {
        use super::*;
        embargo_tables::declare_table! {
            /// A test table whose generator records what it was asked.
            pub struct Pet {
                /// Name.
                name: Text [index],
                /// Kind.
                kind: Text [index],
                /// Legs.
                legs: Integer,
            }

            table pets {
                description: "test",
                class: Evidence,
                reads: [Linux],
                examples: [],
                generate: pets,
            }
        }
    }

    // Per thread: tests run in parallel, and a generator runs on the thread
    // that steps the statement.
    thread_local! {
        static CALLS: AtomicUsize = const { AtomicUsize::new(0) };
        static LAST: std::cell::RefCell<Option<Query>> = const { std::cell::RefCell::new(None) };
    }

    fn calls() -> usize {
        CALLS.with(|c| c.load(Ordering::SeqCst))
    }

    fn last() -> Option<Query> {
        LAST.with(|l| l.borrow().clone())
    }

    fn pets(_ctx: &Ctx<'_>, q: &Query) -> Vec<pets::Pet> {
        CALLS.with(|c| c.fetch_add(1, Ordering::SeqCst));
        LAST.with(|l| *l.borrow_mut() = Some(q.clone()));
        if q.admits("name", "boom") && q.texts("name").is_some() {
            panic!("boom requested");
        }
        [("rex", "dog", 4), ("tweety", "bird", 2), ("nemo", "fish", 0)]
            .into_iter()
            // Deliberately ignores `kind`: SQLite must still filter it.
            .filter(|(n, _, _)| q.admits("name", n))
            .map(|(n, k, l)| pets::Pet { name: Some(n.into()), kind: Some(k.into()), legs: Some(l) })
            .collect()
    }

    mod probe {
        use super::*;
        embargo_tables::declare_table! {
            /// A table with a required column.
            pub struct Probe {
                /// Path asked about.
                path: Text [required],
                /// Length of the path.
                len: Integer,
            }

            table probe {
                description: "test",
                class: Evidence,
                prefetch: No,
                reads: [Linux],
                examples: ["SELECT * FROM probe WHERE path = '/etc'"],
                generate: probes,
            }
        }
    }

    fn probes(_ctx: &Ctx<'_>, q: &Query) -> Vec<probe::Probe> {
        q.texts("path")
            .unwrap_or_default()
            .iter()
            .map(|p| probe::Probe { len: Some(p.len() as i64), path: Some(p.clone()) })
            .collect()
    }

    fn conn() -> Connection {
        conn_and_scans().0
    }

    fn conn_and_scans() -> (Connection, Arc<ScanSlot>) {
        let conn = Connection::open_in_memory().unwrap();
        let scans = ScanSlot::new(Arc::new(Engine::new(embargo_tables::Root::new("/").unwrap())));
        register_table(&conn, &pets::TABLE, scans.clone()).unwrap();
        register_table(&conn, &probe::TABLE, scans.clone()).unwrap();
        (conn, scans)
    }

    fn names(conn: &Connection, sql: &str) -> Vec<String> {
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, String>(0)).unwrap().map(|r| r.unwrap()).collect()
    }

    #[test]
    fn equality_and_in_reach_the_generator() {
        let (conn, scans) = conn_and_scans();
        assert_eq!(names(&conn, "SELECT name FROM pets WHERE name = 'rex'"), ["rex"]);
        assert_eq!(last().unwrap().texts("name"), Some(&["rex".to_string()][..]));
        // A new unit of work, as a surface starts one: nothing is served
        // from the rows of the statement before.
        scans.begin();
        let before = calls();
        assert_eq!(names(&conn, "SELECT name FROM pets WHERE name IN ('nemo', 'rex') ORDER BY name"), ["nemo", "rex"]);
        if cfg!(feature = "modern") {
            // One generator call for the whole list.
            assert_eq!(calls() - before, 1);
            let mut got = last().unwrap().texts("name").unwrap().to_vec();
            got.sort();
            assert_eq!(got, ["nemo", "rex"]);
        } else {
            // SQLite hands the list over one value at a time.
            assert_eq!(calls() - before, 2);
        }
    }

    #[test]
    fn sqlite_still_checks_what_a_generator_ignores() {
        let conn = conn();
        assert_eq!(names(&conn, "SELECT name FROM pets WHERE kind = 'bird'"), ["tweety"]);
        assert_eq!(
            names(&conn, "SELECT name FROM pets WHERE legs > 1 AND name LIKE '%e%' ORDER BY 1"),
            ["rex", "tweety"]
        );
    }

    #[test]
    fn a_panic_becomes_an_sql_error() {
        let conn = conn();
        let err =
            conn.query_row("SELECT count(*) FROM pets WHERE name = 'boom'", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert!(err.to_string().contains("boom requested"), "{err}");
        // The connection is still usable.
        assert_eq!(names(&conn, "SELECT name FROM pets WHERE name = 'nemo'"), ["nemo"]);
    }

    #[test]
    fn required_columns_come_from_literals_or_joins() {
        let conn = conn();
        let err = conn.query_row("SELECT count(*) FROM probe", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert!(err.to_string().contains("probe needs a constraint `path = ...`"), "{err}");
        let n: i64 = conn.query_row("SELECT len FROM probe WHERE path = '/etc'", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 4);
        // Pushed down from a join: the planner must put `pets` first.
        let got = names(&conn, "SELECT probe.path FROM pets JOIN probe ON probe.path = '/' || pets.name ORDER BY 1");
        assert_eq!(got, ["/nemo", "/rex", "/tweety"]);
    }

    #[test]
    fn a_per_statement_slot_scans_once_per_statement() {
        let conn = Connection::open_in_memory().unwrap();
        let engine = Arc::new(Engine::new(embargo_tables::Root::new("/").unwrap()));
        // SAFETY: the slot goes only to this connection's modules.
        let scans = unsafe { ScanSlot::per_statement(engine, conn.handle()) };
        register_table(&conn, &pets::TABLE, scans.clone()).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        // One statement reading the table twice with the same constraints:
        // one scan, so one generator call.
        let before = calls();
        assert_eq!(count("SELECT count(*) FROM pets a JOIN pets b ON a.name = b.name"), 3);
        assert_eq!(calls() - before, 1);
        // The same text again, and the same prepared statement run again:
        // each run reads the root afresh.
        assert_eq!(count("SELECT count(*) FROM pets a JOIN pets b ON a.name = b.name"), 3);
        assert_eq!(calls() - before, 2);
        let mut st = conn.prepare("SELECT name FROM pets").unwrap();
        for run in 1..=2 {
            assert_eq!(st.query_map([], |r| r.get::<_, String>(0)).unwrap().count(), 3);
            assert_eq!(calls() - before, 2 + run);
        }
        // A statement left half read keeps its cursor open; a new one still
        // gets a scan of its own.
        let mut half = conn.prepare("SELECT name FROM pets").unwrap();
        let mut rows = half.query([]).unwrap();
        rows.next().unwrap().unwrap();
        assert_eq!(count("SELECT count(*) FROM pets"), 3);
        assert_eq!(calls() - before, 6);
        drop(rows);
    }

    #[test]
    fn plans_round_trip() {
        let p = vec![Pushed { column: 3, in_list: true }, Pushed { column: 0, in_list: false }];
        assert_eq!(decode(&encode(&p)), p);
        assert_eq!(decode(""), vec![]);
    }
}
