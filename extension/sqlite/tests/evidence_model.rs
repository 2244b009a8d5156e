//! The evidence model (queries/lib/findings.sql) on hand-made source rows.
//! A temp table named like a collector's table shadows it, so each test
//! decides exactly what the host holds; the catalog tables stay real.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use embargo_catalog::canned;
use embargo_tables::{Root, Scan};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

fn connect(root: &Path) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    embargo_sqlite::register(&conn, Arc::new(Scan::new(Root::new(root).unwrap()))).unwrap();
    conn
}

/// Shadows every source table with an empty temp table of the same columns.
fn shadow_sources(conn: &Connection) {
    for name in [
        "installed_software",
        "installed_services",
        "installed_certificates",
        "running_processes",
        "browser_extensions",
    ] {
        let table = embargo_tables::tables::all().iter().find(|t| t.spec().name == name).unwrap();
        let cols: Vec<&str> = table.spec().columns.iter().map(|c| c.name).collect();
        conn.execute_batch(&format!("CREATE TEMP TABLE {name}(\"{}\")", cols.join("\", \""))).unwrap();
    }
}

fn insert(conn: &Connection, table: &str, row: &[(&str, Value)]) {
    let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
    let marks = vec!["?"; row.len()].join(", ");
    conn.execute(
        &format!("INSERT INTO temp.{table}(\"{}\") VALUES ({marks})", cols.join("\", \"")),
        params_from_iter(row.iter().map(|(_, v)| v.clone())),
    )
    .unwrap();
}

/// (vendor_id, evidence, name, indicator) of every finding.
fn findings(conn: &Connection) -> Vec<(String, String, String, String)> {
    conn.execute_batch(&canned::materialize_findings()).unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT vendor_id, evidence, name, indicator FROM temp.{} ORDER BY 1, 2, 3, 4",
            canned::FINDINGS_TABLE
        ))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn a_process_is_found_by_its_executable_name_too() {
    let dir = tempfile::tempdir().unwrap();
    // A Windows root: the catalog's process indicators are Windows ones.
    std::fs::create_dir_all(dir.path().join("Windows/System32/config")).unwrap();
    std::fs::write(dir.path().join("Windows/System32/config/SOFTWARE"), "regf").unwrap();
    let conn = connect(dir.path());
    shadow_sources(&conn);
    let procs = [
        ("renamed.exe", Some(r"C:\Program Files (x86)\Kaspersky Lab\Kaspersky 21.3\avp.exe")),
        ("avpui.exe", None),
        ("x", Some(r"C:\tools\")),
        ("y", Some("/")),
        ("klogd", Some("/usr/sbin/klogd")),
        ("mixed", Some(r"D:/Apps\kl/avpsus.exe")),
    ];
    for (i, (name, path)) in procs.iter().enumerate() {
        insert(
            &conn,
            "running_processes",
            &[("pid", Value::Integer(i as i64 + 100)), ("name", text(name)), ("path", path.map_or(Value::Null, text))],
        );
    }
    let got = findings(&conn);
    let expected = [
        ("kaspersky", "process", "avpui.exe", "process exact avpui.exe"),
        ("kaspersky", "process", "mixed", "process exact avpsus.exe"),
        ("kaspersky", "process", "renamed.exe", "process exact avp.exe"),
    ];
    let got: Vec<(&str, &str, &str, &str)> =
        got.iter().map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str())).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_regex_indicator_runs_only_on_values_holding_its_needle() {
    let dir = tempfile::tempdir().unwrap();
    let conn = connect(dir.path());
    shadow_sources(&conn);
    // Count the regex runs with a stand-in registered over the real one.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    conn.create_scalar_function("regex_match", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        counted.fetch_add(1, Ordering::Relaxed);
        let (value, pattern): (Option<String>, String) = (ctx.get(0)?, ctx.get(1)?);
        let re = regex::Regex::new(&pattern).unwrap();
        Ok(value.and_then(|v| re.find(&v).map(|m| m.as_str().to_string())))
    })
    .unwrap();
    let publishers = [
        ("adduser", "Debian Adduser Developers <adduser@packages.debian.org>"),
        ("nvr-client", "Zhejiang Dahua Technology Co., Ltd."),
        ("smartpss", "Dahua Tech Inc"),
        ("noodles", "Dahuang Ltd"),
    ];
    for (name, publisher) in publishers {
        insert(
            &conn,
            "installed_software",
            &[
                ("name", text(name)),
                ("publisher", text(publisher)),
                ("installed", Value::Integer(1)),
                ("source", text("deb")),
            ],
        );
    }
    let got = findings(&conn);
    let names: Vec<(&str, &str)> = got.iter().map(|(v, _, n, _)| (v.as_str(), n.as_str())).collect();
    // "Zhejiang Dahua …" matches exactly and by the regex; the best one is kept.
    assert_eq!(names, [("dahua", "nvr-client"), ("dahua", "smartpss")]);
    assert!(got.iter().any(|(_, _, n, i)| n == "smartpss" && i == r"publisher regex \bdahua\b"), "{got:?}");
    // Three publishers contain "dahua", none "hikvision": three regex runs,
    // where checking every publisher against both regexes would take eight.
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}
