//! The catalog tables and `file_presence` through real SQL. Catalog rows are
//! checked against Python's `tomllib` reading the same TOML files; file
//! presence against trees built by each test.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use embargo_sqlite::ScanSlot;
use embargo_tables::embargo_catalog::Catalog;
use embargo_tables::{Engine, Root};
use rusqlite::Connection;
use rusqlite::types::Value;

const CATALOG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/catalog");

fn connect(root: &Path) -> Connection {
    connect_engine(Engine::new(Root::new(root).unwrap()))
}

fn connect_engine(engine: Engine) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    embargo_sqlite::register(&conn, ScanSlot::new(Arc::new(engine))).unwrap();
    conn
}

fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut st = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = st.column_count();
    st.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect()).unwrap().map(|r| r.unwrap()).collect()
}

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    rows(conn, sql).into_iter().map(|r| text(&r[0])).collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(s) => s.clone(),
        Value::Blob(_) => "<blob>".into(),
    }
}

/// The catalog as Python's tomllib reads it, flattened to the tables' rows
/// (tab-separated, NULL for missing), one line per row, sorted.
fn python_rows(which: &str) -> Option<Vec<String>> {
    if !embargo_tables::testing::peer_available("python3") {
        return None;
    }
    let script = r#"
import sys, tomllib, pathlib
which, d = sys.argv[1], pathlib.Path(sys.argv[2])
out = []
n = lambda v: 'NULL' if v is None else str(v)
for f in sorted(d.glob('*.toml')):
    v = tomllib.loads(f.read_text())
    ents = '; '.join(e['name'] for e in v.get('entities', []))
    if which == 'vendors':
        auths = v.get('authorities', []) or [{}]
        for a in auths:
            out.append('\t'.join(n(x) for x in [v['id'], v['name'], int(v['banned']), ents, a.get('name'), a.get('citation'),
                a.get('scope'), a.get('effective_date'), a.get('updates_end_date'), a.get('url')]))
    else:
        for i in v.get('indicators', []):
            out.append('\t'.join(n(x) for x in [v['id'], i['kind'], i['pattern'], i['match'], i['platform'], i['confidence'], i['source'], i.get('note')]))
print('\n'.join(sorted(out)))
"#;
    let out = std::process::Command::new("python3").args(["-c", script, which, CATALOG_DIR]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect())
}

fn sql_rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut got: Vec<String> =
        rows(conn, sql).into_iter().map(|r| r.iter().map(text).collect::<Vec<_>>().join("\t")).collect();
    got.sort();
    got
}

#[test]
fn banned_vendors_match_the_toml_as_python_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path());
    let got = sql_rows(
        &conn,
        "SELECT vendor_id, vendor, banned, entities, authority, citation, scope, effective_date, updates_end_date, url FROM banned_vendors",
    );
    if let Some(expected) = python_rows("vendors") {
        assert_eq!(got, expected);
    }
    // The facts the contract and the seed article name.
    let k = rows(
        &conn,
        "SELECT effective_date, updates_end_date, entities FROM banned_vendors WHERE vendor_id = 'kaspersky' AND scope = 'all_us_persons'",
    );
    assert_eq!(k.len(), 1);
    assert_eq!(text(&k[0][0]), "2024-07-20");
    assert_eq!(text(&k[0][1]), "2024-09-29");
    assert!(text(&k[0][2]).contains("AO Kaspersky Lab; OOO Kaspersky Group; Kaspersky Labs Limited"));
    // UltraAV is context: banned = 0, one row, no authority.
    let u = rows(&conn, "SELECT banned, authority FROM banned_vendors WHERE vendor_id = 'ultraav'");
    assert_eq!(u, vec![vec![Value::Integer(0), Value::Null]]);
    assert_eq!(
        strings(&conn, "SELECT DISTINCT scope FROM banned_vendors WHERE vendor_id IN ('hikvision', 'huawei')"),
        ["equipment_only"]
    );
}

#[test]
fn indicators_match_the_toml_as_python_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path());
    let got = sql_rows(
        &conn,
        r#"SELECT vendor_id, kind, pattern, "match", platform, confidence, source, note FROM banned_vendor_indicators"#,
    );
    if let Some(expected) = python_rows("indicators") {
        assert_eq!(got.len(), expected.len());
        assert_eq!(got, expected);
    }
    // Index columns filter as SQL says, also with IN.
    let paths =
        strings(&conn, "SELECT pattern FROM banned_vendor_indicators WHERE vendor_id = 'kaspersky' AND kind = 'path'");
    assert!(paths.contains(&"/opt/kaspersky".to_string()));
    assert!(paths.contains(&"/ProgramData/Kaspersky Lab".to_string()));
    let kinds = strings(
        &conn,
        "SELECT DISTINCT kind FROM banned_vendor_indicators WHERE kind IN ('driver', 'bundle_id') AND vendor_id = 'kaspersky' ORDER BY 1",
    );
    assert_eq!(kinds, ["bundle_id", "driver"]);
    // The contract's vocabularies, nothing else.
    assert!(
        strings(&conn, r#"SELECT DISTINCT "match" FROM banned_vendor_indicators"#)
            .iter()
            .all(|m| ["exact", "prefix", "glob", "regex"].contains(&m.as_str()))
    );
}

#[test]
fn a_catalog_given_to_the_scan_replaces_the_embedded_one() {
    let acme = r#"
id = "acme"
name = "Acme"
banned = true
[[indicators]]
kind = "path"
pattern = "/opt/acme"
match = "exact"
platform = "linux"
confidence = "high"
source = "test"
"#;
    let catalog = Arc::new(Catalog::from_sources([("acme.toml", acme)]).unwrap());
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("opt/acme")).unwrap();
    let conn = connect_engine(Engine::new(Root::new(dir.path()).unwrap()).with_catalog(catalog));
    assert_eq!(strings(&conn, "SELECT vendor_id FROM banned_vendors"), ["acme"]);
    assert_eq!(
        strings(
            &conn,
            "SELECT f.path FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern WHERE i.kind = 'path' AND f.\"exists\" = 1"
        ),
        ["/opt/acme"]
    );
}

#[test]
fn the_path_join_finds_kaspersky_on_a_linux_root() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("opt/kaspersky/kesl")).unwrap();
    fs::create_dir_all(dir.path().join("etc/init.d")).unwrap();
    fs::write(dir.path().join("etc/init.d/kesl"), "#!/bin/sh\n").unwrap();
    // Look-alikes that no path indicator names.
    fs::create_dir_all(dir.path().join("opt/kaspersky-fan")).unwrap();
    fs::create_dir_all(dir.path().join("etc/klogd")).unwrap();
    let conn = connect(dir.path());
    let found = strings(
        &conn,
        "SELECT f.path FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern \
         WHERE i.kind = 'path' AND f.\"exists\" = 1 ORDER BY 1",
    );
    assert_eq!(found, ["/etc/init.d/kesl", "/opt/kaspersky", "/opt/kaspersky/kesl"]);
    // One row per asked path, also for the absent ones.
    let asked: i64 =
        conn.query_row("SELECT count(*) FROM banned_vendor_indicators WHERE kind = 'path'", [], |r| r.get(0)).unwrap();
    let answered: i64 = conn
        .query_row(
            "SELECT count(*) FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern WHERE i.kind = 'path'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(asked, answered);
    // Windows forms name nothing on a Linux root.
    assert_eq!(strings(&conn, r#"SELECT "exists" FROM file_presence WHERE path = 'C:\opt\kaspersky'"#), ["0"]);
}

#[test]
fn file_presence_describes_each_asked_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("opt/kaspersky")).unwrap();
    fs::write(d.join("opt/kaspersky/agent.conf"), b"0123456789").unwrap();
    // The recipe's mtime is the golden value.
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_727_568_000);
    fs::File::options().write(true).open(d.join("opt/kaspersky/agent.conf")).unwrap().set_modified(mtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        fs::create_dir_all(d.join("data/kaspersky")).unwrap();
        symlink("/data/kaspersky", d.join("opt/kl")).unwrap();
        symlink("/nowhere", d.join("opt/dangling")).unwrap();
        symlink("/opt/loop", d.join("opt/loop")).unwrap();
        let status = std::process::Command::new("mkfifo").arg(d.join("opt/fifo")).status().unwrap();
        assert!(status.success());
    }
    let conn = connect(d);
    let q = |p: &str| {
        rows(
            &conn,
            &format!("SELECT path, \"exists\", type, size, mtime, resolved_path FROM file_presence WHERE path = '{p}'"),
        )
    };
    let t = |s: &str| Value::Text(s.into());
    assert_eq!(
        q("/opt/kaspersky/agent.conf"),
        vec![vec![
            t("/opt/kaspersky/agent.conf"),
            Value::Integer(1),
            t("file"),
            Value::Integer(10),
            Value::Integer(1_727_568_000),
            t("/opt/kaspersky/agent.conf")
        ]]
    );
    let dir_row = &q("/opt/kaspersky/")[0];
    assert_eq!(dir_row[0], t("/opt/kaspersky/"), "path is the value asked");
    assert_eq!((&dir_row[1], &dir_row[2], &dir_row[3]), (&Value::Integer(1), &t("directory"), &Value::Null));
    assert_eq!(dir_row[5], t("/opt/kaspersky"));
    assert_eq!(
        q("/opt/absent"),
        vec![vec![t("/opt/absent"), Value::Integer(0), Value::Null, Value::Null, Value::Null, Value::Null]]
    );
    #[cfg(unix)]
    {
        let link = &q("/opt/kl")[0];
        assert_eq!((&link[1], &link[2], &link[5]), (&Value::Integer(1), &t("symlink"), &t("/data/kaspersky")));
        let dangling = &q("/opt/dangling")[0];
        assert_eq!((&dangling[1], &dangling[2], &dangling[5]), (&Value::Integer(1), &t("symlink"), &Value::Null));
        assert_eq!(q("/opt/fifo")[0][2], t("other"));
        let looped = &q("/opt/loop")[0];
        assert_eq!((&looped[1], &looped[2], &looped[5]), (&Value::Integer(1), &t("symlink"), &Value::Null));
        // Through the loop: cannot be checked, so NULL, and scan_errors says why.
        assert_eq!(q("/opt/loop/x")[0][1], Value::Null);
        let errs = strings(&conn, "SELECT kind FROM scan_errors WHERE table_name = 'file_presence' ORDER BY 1");
        assert!(errs.iter().all(|k| k == "symlink_loop") && !errs.is_empty(), "{errs:?}");
    }
    // IN asks for several at once; duplicates give one row each value.
    assert_eq!(
        strings(
            &conn,
            "SELECT path || ':' || \"exists\" FROM file_presence WHERE path IN ('/opt', '/nope', '/opt') ORDER BY 1"
        ),
        ["/nope:0", "/opt:1"]
    );
    // Without a path the table refuses rather than walk the disk.
    let err = conn.query_row("SELECT count(*) FROM file_presence", [], |r| r.get::<_, i64>(0)).unwrap_err();
    assert!(err.to_string().contains("file_presence needs a constraint `path = ...`"), "{err}");
}

#[test]
fn windows_roots_accept_drive_letters_backslashes_and_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("Windows/System32/config")).unwrap();
    fs::write(d.join("Windows/System32/config/SOFTWARE"), b"regf").unwrap();
    fs::create_dir_all(d.join("ProgramData/Kaspersky Lab/AVP21.2")).unwrap();
    fs::create_dir_all(d.join("Program Files (x86)/Kaspersky Lab/NetworkAgent")).unwrap();
    let conn = connect(d);
    for asked in [
        r"C:\ProgramData\Kaspersky Lab\",
        r"C:\ProgramData\Kaspersky Lab",
        r"c:\programdata\KASPERSKY LAB",
        "/ProgramData/Kaspersky Lab",
        "/programdata/kaspersky lab/",
    ] {
        let r = rows(
            &conn,
            &format!("SELECT path, \"exists\", type, resolved_path FROM file_presence WHERE path = '{asked}'"),
        );
        assert_eq!(
            r,
            vec![vec![
                Value::Text(asked.into()),
                Value::Integer(1),
                Value::Text("directory".into()),
                Value::Text("/ProgramData/Kaspersky Lab".into())
            ]],
            "{asked}"
        );
    }
    assert_eq!(strings(&conn, r#"SELECT "exists" FROM file_presence WHERE path = 'D:\ProgramData\Missing'"#), ["0"]);
    let found = strings(
        &conn,
        "SELECT f.path FROM banned_vendor_indicators i JOIN file_presence f ON f.path = i.pattern \
         WHERE i.kind = 'path' AND f.\"exists\" = 1 ORDER BY 1",
    );
    assert_eq!(
        found,
        [
            "/Program Files (x86)/Kaspersky Lab",
            "/Program Files (x86)/Kaspersky Lab/NetworkAgent",
            "/ProgramData/Kaspersky Lab",
            "/ProgramData/Kaspersky Lab/AVP21.2"
        ]
    );
}
