//! running_processes and browser_extensions through real SQL.

use std::sync::Arc;

use embargo_sqlite::ScanSlot;
use embargo_tables::{Engine, Root};
use rusqlite::Connection;

fn connect(root: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    embargo_sqlite::register(&conn, ScanSlot::new(Arc::new(Engine::new(Root::new(root).unwrap())))).unwrap();
    conn
}

#[cfg(target_os = "linux")]
#[test]
fn own_process_by_pid() {
    let conn = connect("/");
    let me = i64::from(std::process::id());
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    let (path, n): (String, i64) = conn
        .query_row("SELECT path, (SELECT count(*) FROM running_processes WHERE pid IN (?1, 1)) FROM running_processes WHERE pid = ?1", [me], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(path, exe.to_str().unwrap());
    assert!(n >= 1);
}

#[test]
fn non_live_root_has_no_processes_and_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path().to_str().unwrap());
    let n: i64 = conn.query_row("SELECT count(*) FROM running_processes", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 0);
    let errors: Vec<(String, String)> = conn
        .prepare("SELECT table_name, kind FROM scan_errors")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(errors, vec![("running_processes".to_string(), "unsupported".to_string())]);
}

#[test]
fn kaspersky_protection_is_found_by_id() {
    let conn = connect(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/browsers/root"));
    let rows: Vec<(String, String, i64)> = conn
        .prepare("SELECT browser, name, enabled FROM browser_extensions WHERE id = 'ahkjpbeeocnddjkakilopmfdlnjdpcdm'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, vec![("chrome".to_string(), "Kaspersky Protection".to_string(), 1)]);
}
