//! What SQL may do on a connection that holds embargo's tables.
//!
//! Analysts paste queries written by others and often run embargo as root.
//! SQL here reads the tables and may keep scratch results in the temp
//! schema; it never opens, creates or writes a file. As osquery does
//! (`sqliteAuthorizer`), an authorizer checks every statement while SQLite
//! compiles it: ATTACH and DETACH (and so VACUUM, which attaches its target),
//! writes to any schema but `temp`, pragmas that change state or name a file,
//! and functions that load code or touch files are refused.
//!
//! SQLite's own error for a refusal is only "not authorized"; the reason is
//! kept per thread (compilation runs on the thread that prepares) for
//! [`take_refusal`].

use std::cell::RefCell;

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::{Connection, Result};

/// Longest SQL text accepted: a hundred times the longest canned query, far
/// below SQLite's default of a billion bytes.
pub const MAX_SQL_LENGTH: i32 = 10 << 20;
/// Largest string or blob a statement may build (`zeroblob`, `printf`,
/// `group_concat`); SQLite's default is a billion bytes. Above the largest
/// file a collector reads whole (256 MiB), so no row from a root hits it.
pub const MAX_VALUE_LENGTH: i32 = 512 << 20;
/// Deepest expression tree; SQLite's default is 1000 and the canned queries
/// need far less (their longest `OR` chains are a few dozen terms).
pub const MAX_EXPR_DEPTH: i32 = 500;

/// Pragmas that only report on the connection's own schema or build, whatever
/// their argument. Everything else is refused: most pragmas change state
/// (`journal_mode`, `writable_schema`, `temp_store_directory`), some name
/// files, and the harmless remainder is not needed to query embargo.
const READ_ONLY_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "function_list",
    "module_list",
    "pragma_list",
    "collation_list",
    "compile_options",
];

/// Functions that load code or read and write files: SQLite's own
/// `load_extension`, the sqlite3 shell's `readfile`/`writefile`/`edit` (the
/// loadable extension runs there), and `fts3_tokenizer`, which takes a
/// function pointer.
const REFUSED_FUNCTIONS: &[&str] = &["load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"];

/// The sqlite3 shell's table-valued functions that read the host's files.
const REFUSED_TABLES: &[&str] = &["fsdir", "zipfile", "sqlar"];

thread_local! {
    static REFUSAL: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Why this thread's last statement was refused, once: the text to show
/// with SQLite's "not authorized" (e.g. `ATTACH is refused: …`). Call it
/// before preparing too, to drop a reason nobody asked for.
pub fn take_refusal() -> Option<String> {
    REFUSAL.with(|r| r.borrow_mut().take())
}

/// Installs the authorizer and the limits on `conn`. [`crate::register`]
/// calls it, so every surface that holds embargo's tables gets it.
pub fn restrict(conn: &Connection) -> Result<()> {
    use rusqlite::config::DbConfig;
    // Defensive mode: no writable_schema, no writes to shadow tables or
    // sqlite_dbpage. Schema contents are never trusted to call functions.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_limit(Limit::SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_LENGTH)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_LENGTH)?;
    conn.set_limit(Limit::SQLITE_LIMIT_EXPR_DEPTH, MAX_EXPR_DEPTH)?;
    // A second lock behind the authorizer: no database can be attached.
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.authorizer(Some(authorize))
}

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match decide(&ctx) {
        Ok(()) => Authorization::Allow,
        Err(why) => {
            REFUSAL.with(|r| *r.borrow_mut() = Some(why));
            Authorization::Deny
        }
    }
}

fn decide(ctx: &AuthContext<'_>) -> Result<(), String> {
    use AuthAction::*;
    let temp = ctx.database_name == Some("temp");
    let write = |what: &str, name: &str| {
        if temp {
            return Ok(());
        }
        let schema = ctx.database_name.unwrap_or("main");
        // CREATE writes the schema table before SQLite asks about the object.
        let row_write =
            matches!(ctx.action, AuthAction::Insert { .. } | AuthAction::Update { .. } | AuthAction::Delete { .. });
        let what = if row_write && ["sqlite_master", "sqlite_schema"].iter().any(|t| t.eq_ignore_ascii_case(name)) {
            format!("CREATE or DROP in schema {schema:?}")
        } else {
            format!("{what} {name:?} in schema {schema:?}")
        };
        Err(format!("{what} is refused: SQL may write only to the temp schema (CREATE TEMP TABLE, CREATE TEMP VIEW)"))
    };
    match ctx.action {
        Select | Recursive | Transaction { .. } | Savepoint { .. } => Ok(()),
        Read { table_name, .. } => match REFUSED_TABLES.iter().find(|t| t.eq_ignore_ascii_case(table_name)) {
            Some(t) => Err(format!("reading {t} is refused: SQL cannot read files")),
            None => Ok(()),
        },
        Function { function_name } => match REFUSED_FUNCTIONS.iter().find(|f| f.eq_ignore_ascii_case(function_name)) {
            Some(f) => Err(format!("{f}() is refused: SQL cannot load code or touch files")),
            None => Ok(()),
        },
        // VACUUM attaches its target (a temporary file, or the file of
        // VACUUM INTO) with an ATTACH that comes here too.
        Attach { filename } => Err(format!(
            "ATTACH is refused: SQL cannot open, create or write database files{}; \
             VACUUM and VACUUM INTO attach their target and are refused with it",
            if filename.is_empty() { String::new() } else { format!(" ({filename:?})") }
        )),
        Detach { .. } => Err("DETACH is refused: there is nothing to detach".into()),
        Pragma { pragma_name, .. } => {
            if READ_ONLY_PRAGMAS.iter().any(|p| p.eq_ignore_ascii_case(pragma_name)) {
                Ok(())
            } else {
                Err(format!(
                    "PRAGMA {pragma_name} is refused: only pragmas that describe the schema are allowed ({})",
                    READ_ONLY_PRAGMAS.join(", ")
                ))
            }
        }
        // The temp-schema codes are only ever given for `temp`.
        CreateTempTable { .. }
        | CreateTempView { .. }
        | CreateTempIndex { .. }
        | CreateTempTrigger { .. }
        | DropTempTable { .. }
        | DropTempView { .. }
        | DropTempIndex { .. }
        | DropTempTrigger { .. } => Ok(()),
        CreateTable { table_name } => write("CREATE TABLE", table_name),
        CreateView { view_name } => write("CREATE VIEW", view_name),
        CreateIndex { index_name, .. } => write("CREATE INDEX", index_name),
        CreateTrigger { trigger_name, .. } => write("CREATE TRIGGER", trigger_name),
        CreateVtable { table_name, .. } => write("CREATE VIRTUAL TABLE", table_name),
        DropTable { table_name } => write("DROP TABLE", table_name),
        DropView { view_name } => write("DROP VIEW", view_name),
        DropIndex { index_name, .. } => write("DROP INDEX", index_name),
        DropTrigger { trigger_name, .. } => write("DROP TRIGGER", trigger_name),
        DropVtable { table_name, .. } => write("DROP VIRTUAL TABLE", table_name),
        Insert { table_name } => write("INSERT INTO", table_name),
        Update { table_name, .. } => write("UPDATE", table_name),
        Delete { table_name } => write("DELETE FROM", table_name),
        AlterTable { table_name, .. } => write("ALTER TABLE", table_name),
        Reindex { index_name } => write("REINDEX", index_name),
        Analyze { table_name } => write("ANALYZE", table_name),
        // An action this SQLite knows and this code does not: refused, so
        // that a newer SQLite cannot open a hole.
        _ => Err("this kind of statement is refused".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        restrict(&conn).unwrap();
        conn
    }

    fn refused(conn: &Connection, sql: &str) -> String {
        take_refusal();
        let err = conn.execute_batch(sql).expect_err(sql);
        // "not authorized", "authorization denied" or "not authorized to
        // use function", by where SQLite met the refusal.
        assert!(err.to_string().contains("authori"), "{sql}: {err}");
        take_refusal().unwrap_or_else(|| panic!("{sql}: no reason kept"))
    }

    #[test]
    fn files_are_never_opened_and_main_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new.db");
        let c = conn();
        let cases = [
            (format!("ATTACH '{}' AS x", db.display()), "ATTACH is refused"),
            (format!("ATTACH 'file:{}?mode=ro' AS x", db.display()), "ATTACH is refused"),
            (format!("VACUUM INTO '{}'", db.display()), "VACUUM and VACUUM INTO attach their target"),
            ("VACUUM".into(), "VACUUM and VACUUM INTO attach their target"),
            ("DETACH temp".into(), "DETACH is refused"),
            ("CREATE TABLE t(x)".into(), "CREATE or DROP in schema \"main\" is refused"),
            ("CREATE TABLE main.t(x)".into(), "CREATE or DROP in schema \"main\""),
            ("CREATE VIEW v AS SELECT 1".into(), "CREATE or DROP in schema \"main\""),
            ("PRAGMA journal_mode = WAL".into(), "PRAGMA journal_mode is refused"),
            ("PRAGMA writable_schema = ON".into(), "PRAGMA writable_schema is refused"),
            ("PRAGMA temp_store_directory = '/tmp'".into(), "PRAGMA temp_store_directory is refused"),
            ("SELECT load_extension('/tmp/evil.so')".into(), "load_extension() is refused"),
        ];
        for (sql, why) in &cases {
            let got = refused(&c, sql);
            assert!(got.contains(why), "{sql}: {got:?} lacks {why:?}");
        }
        assert!(!db.exists(), "a refused statement created {}", db.display());
    }

    #[test]
    fn temp_scratch_and_schema_reading_stay_allowed() {
        let c = conn();
        c.execute_batch(
            "CREATE TEMP TABLE t(x); INSERT INTO t VALUES (1), (2); UPDATE temp.t SET x = x + 1;
             DELETE FROM t WHERE x = 3; CREATE TEMP VIEW v AS SELECT x FROM t; CREATE INDEX temp.i ON t(x);
             BEGIN; INSERT INTO t VALUES (5); COMMIT; DROP VIEW v; PRAGMA table_info(t);",
        )
        .unwrap();
        let n: i64 = c.query_row("SELECT count(*) FROM pragma_table_info('t')", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        let sum: i64 = c
            .query_row(
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10)
                 SELECT sum(i) + (SELECT sum(x) FROM t) FROM c",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sum, 55 + 2 + 5);
    }

    #[test]
    fn runaway_values_and_text_are_bounded() {
        let c = conn();
        let err = c.query_row("SELECT length(zeroblob(600000000))", [], |r| r.get::<_, i64>(0)).unwrap_err();
        assert!(err.to_string().contains("too big"), "{err}");
        let long = format!("SELECT {}1", "-".repeat(MAX_SQL_LENGTH as usize));
        assert!(c.prepare(&long).is_err());
        let deep = format!("SELECT {}1{}", "-(".repeat(600), ")".repeat(600));
        assert!(c.prepare(&deep).unwrap_err().to_string().contains("depth"));
    }
}
