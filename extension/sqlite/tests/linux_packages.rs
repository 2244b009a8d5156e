//! installed_software's rpm, snap and flatpak rows through real SQL.

use std::path::Path;
use std::sync::Arc;

use embargo_sqlite::ScanSlot;
use embargo_tables::{Engine, Root};
use rusqlite::Connection;

fn open(fixture: &str) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(fixture);
    embargo_sqlite::register(&conn, ScanSlot::new(Arc::new(Engine::new(Root::new(dir).unwrap())))).unwrap();
    conn
}

#[test]
fn kesl_is_found_by_sql() {
    let conn = open("rpm");
    let row: (String, String, String, i64) = conn
        .query_row(
            "SELECT version, publisher, identifier, installed FROM installed_software WHERE source = 'rpm' AND name = 'kesl'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(row, ("12.1.0.1297-1".into(), "AO Kaspersky Lab".into(), "kesl-12.1.0.1297-1.noarch".into(), 1));
    let errors: i64 = conn
        .query_row("SELECT count(*) FROM scan_errors WHERE table_name = 'installed_software'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(errors, 0);
}

#[test]
fn sources_by_fixture() {
    for (fixture, source, n) in [("rpm", "rpm", 3), ("snap/state", "snap", 3), ("flatpak", "flatpak", 3)] {
        let conn = open(fixture);
        let got: i64 = conn
            .query_row("SELECT count(*) FROM installed_software WHERE source = ?1", [source], |r| r.get(0))
            .unwrap();
        assert_eq!(got, n, "{fixture}");
    }
}
