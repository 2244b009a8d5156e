//! The engine API driven as a surface drives it: open an engine, take a
//! fresh scan per unit of work, turn the surface's constraints into a query
//! with the one policy, read rows, and re-check on the surface side what the
//! policy did not push down.
//!
//! The root is written here from a recipe (a dpkg status file and a few
//! paths), so every expected row comes from the recipe, not from embargo.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use embargo_tables::engine::{Engine, EngineOptions, OpenError};
use embargo_tables::query::{Builder, Folding, MissingRequired, Op};
use embargo_tables::{ErrorKind, RowSet, Table, Value, ValueRef, tables};

/// The recipe: four dpkg packages, one of them only configuration left.
const PACKAGES: &[(&str, &str, &str)] = &[
    ("alpha", "1.0-1", "install ok installed"),
    ("beta", "2:0.5-3", "install ok installed"),
    ("gamma", "7", "install ok installed"),
    ("kesl", "12.1.0.1297", "deinstall ok config-files"),
];

fn write_root(dir: &Path) {
    let mut status = String::new();
    for (name, version, state) in PACKAGES {
        status.push_str(&format!(
            "Package: {name}\nStatus: {state}\nPriority: optional\nArchitecture: amd64\nVersion: {version}\n\
             Maintainer: Someone <someone@example.com>\nDescription: {name}\n\n"
        ));
    }
    std::fs::create_dir_all(dir.join("var/lib/dpkg")).unwrap();
    std::fs::write(dir.join("var/lib/dpkg/status"), status).unwrap();
    // A truncated Berkeley DB rpm database: installed_software reports it
    // as a parse error, but only when it reads rpm at all.
    std::fs::create_dir_all(dir.join("var/lib/rpm")).unwrap();
    std::fs::write(dir.join("var/lib/rpm/Packages"), b"\0\0\0\0\x61\x15\x06\0").unwrap();
    std::fs::create_dir_all(dir.join("opt/kaspersky")).unwrap();
}

fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    write_root(dir.path());
    let engine = Engine::open(&EngineOptions::new(dir.path())).unwrap();
    (dir, engine)
}

/// A surface's constraint: column, operator, values (one for `=`).
type Given<'a> = (&'a str, Op, Vec<Value>);

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// The surface's side of a query: the rows the generator made, with every
/// constraint checked again, the pushed ones and the rest (here `LIKE` with
/// a trailing `%`, the one other operator this surface knows). A surface
/// never relies on the generator having filtered.
fn recheck(table: &dyn Table, rows: &dyn RowSet, given: &[Given], like: &[(&str, &str)]) -> Vec<Vec<Option<String>>> {
    let spec = table.spec();
    let cell = |r: usize, col: &str| match rows.cell(r, spec.column_index(col).unwrap()) {
        ValueRef::Text(s) => Some(s.to_string()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Double(d) => Some(d.to_string()),
        ValueRef::Null => None,
    };
    (0..rows.len())
        .filter(|&r| {
            given.iter().filter(|(_, op, _)| matches!(op, Op::Eq | Op::In)).all(|(col, _, values)| {
                let v = cell(r, col);
                values.iter().any(|w| matches!(w, Value::Text(t) if v.as_deref() == Some(t.as_str())))
            }) && like.iter().all(|(col, prefix)| cell(r, col).is_some_and(|v| v.starts_with(prefix)))
        })
        .map(|r| (0..spec.columns.len()).map(|c| cell(r, spec.columns[c].name)).collect())
        .collect()
}

/// Runs one unit of work as a surface would, and gives the rechecked rows'
/// names.
fn names(engine: &Engine, folding: Folding, given: &[Given], like: &[(&str, &str)]) -> BTreeSet<String> {
    let table = tables::find("installed_software").unwrap();
    let mut q = Builder::new(table.spec(), folding);
    for (col, op, values) in given {
        q.push(*col, *op, values.clone());
    }
    let scan = engine.scan();
    let rows = scan.rows(table, &q.build().unwrap());
    let name = table.spec().column_index("name").unwrap();
    recheck(table, &*rows, given, like).into_iter().map(|r| r[name].clone().unwrap()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn equality_and_in_reach_the_generator() {
    let (_dir, engine) = engine();
    let all: Vec<&str> = PACKAGES.iter().map(|p| p.0).collect();
    for folding in [Folding::Intersect, Folding::Union] {
        assert_eq!(names(&engine, folding, &[], &[]), set(&all));
        assert_eq!(names(&engine, folding, &[("name", Op::Eq, vec![text("beta")])], &[]), set(&["beta"]));
        let given = [("name", Op::In, vec![text("alpha"), text("gamma"), text("absent")])];
        assert_eq!(names(&engine, folding, &given, &[]), set(&["alpha", "gamma"]));
    }
}

#[test]
fn a_source_constraint_skips_the_other_sources() {
    let (_dir, engine) = engine();
    let table = tables::find("installed_software").unwrap();
    let rpm_read = |scan: &embargo_tables::Scan| {
        scan.errors.snapshot().iter().any(|e| e.path == "/var/lib/rpm/Packages" && e.kind == ErrorKind::ParseError)
    };
    let scan = engine.scan();
    let mut q = Builder::new(table.spec(), Folding::Union);
    assert!(q.push("source", Op::Eq, [text("deb")]));
    let rows = scan.rows(table, &q.build().unwrap());
    assert_eq!(rows.len(), PACKAGES.len());
    assert!(!rpm_read(&scan), "rpm was read for source = 'deb': {:?}", scan.errors.snapshot());
    // A fresh scan that reads every source meets the rpm database.
    let scan = engine.scan();
    scan.rows(table, &Builder::new(table.spec(), Folding::Union).build().unwrap());
    assert!(rpm_read(&scan));
}

#[test]
fn several_equalities_on_one_column_fold_by_the_surface_s_semantics() {
    let (_dir, engine) = engine();
    let given = [("name", Op::Eq, vec![text("alpha")]), ("name", Op::Eq, vec![text("beta")])];
    // osquery hands `name IN ('alpha', 'beta')` as two `=` entries: a union.
    let table = tables::find("installed_software").unwrap();
    let mut q = Builder::new(table.spec(), Folding::Union);
    for (c, op, v) in &given {
        q.push(*c, *op, v.clone());
    }
    let q = q.build().unwrap();
    assert_eq!(q.texts("name"), Some(&["alpha".to_string(), "beta".to_string()][..]));
    let rows = engine.scan().rows(table, &q);
    let name = table.spec().column_index("name").unwrap();
    let got: BTreeSet<String> = (0..rows.len())
        .map(|r| match rows.cell(r, name) {
            ValueRef::Text(s) => s.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, set(&["alpha", "beta"]));
    // SQLite's `name = 'alpha' AND name = 'beta'` is both at once: nothing.
    let mut q = Builder::new(table.spec(), Folding::Intersect);
    for (c, op, v) in &given {
        q.push(*c, *op, v.clone());
    }
    let q = q.build().unwrap();
    assert_eq!(q.texts("name"), Some(&[][..]));
    assert_eq!(engine.scan().rows(table, &q).len(), 0);
    // And the same through a surface that rechecks: a union of two `=`
    // rechecked as one IN.
    let union_as_in = [("name", Op::In, vec![text("alpha"), text("beta")])];
    assert_eq!(names(&engine, Folding::Union, &given[..1], &[]), set(&["alpha"]));
    assert_eq!(names(&engine, Folding::Union, &union_as_in, &[]), set(&["alpha", "beta"]));
}

#[test]
fn a_missing_required_column_is_refused_with_the_one_message() {
    let (_dir, engine) = engine();
    let table = tables::find("file_presence").unwrap();
    let expected = "file_presence needs a constraint `path = ...` or `path IN (...)` (a required column), e.g. \
                    SELECT * FROM file_presence WHERE path IN ('/opt/kaspersky', '/ProgramData/Kaspersky Lab')";
    for folding in [Folding::Intersect, Folding::Union] {
        let err = Builder::new(table.spec(), folding).build().unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(err, MissingRequired { table: "file_presence", column: "path", example: table.spec().examples[0] });
        // An operator the policy does not push does not count.
        let mut q = Builder::new(table.spec(), folding);
        assert!(!q.push("path", Op::Other, [text("/opt/%")]));
        assert_eq!(q.build().unwrap_err().to_string(), expected);
    }
    // With the path, one row per path asked.
    let mut q = Builder::new(table.spec(), Folding::Union);
    q.push("path", Op::Eq, [text("/opt/kaspersky")]);
    q.push("path", Op::Eq, [text("/opt/absent")]);
    let rows = engine.scan().rows(table, &q.build().unwrap());
    let exists = table.spec().column_index("exists").unwrap();
    let got: Vec<ValueRef> = (0..rows.len()).map(|r| rows.cell(r, exists)).collect();
    assert_eq!(got, [ValueRef::Integer(1), ValueRef::Integer(0)]);
}

#[test]
fn an_operator_no_generator_understands_is_left_to_the_surface() {
    let (_dir, engine) = engine();
    let table = tables::find("installed_software").unwrap();
    let mut q = Builder::new(table.spec(), Folding::Union);
    // `name LIKE 'ga%'`: not handed over, so the generator makes every row…
    assert!(!q.push("name", Op::Other, [text("ga%")]));
    // …as it does for a constraint on a column that is not an index.
    assert!(!q.push("version", Op::Eq, [text("7")]));
    let q = q.build().unwrap();
    assert!(q.is_all());
    assert_eq!(engine.scan().rows(table, &q).len(), PACKAGES.len());
    // The surface's re-check makes the answer right.
    let given = [("version", Op::Eq, vec![text("7")])];
    assert_eq!(names(&engine, Folding::Union, &[], &[("name", "ga")]), set(&["gamma"]));
    assert_eq!(names(&engine, Folding::Union, &given, &[("name", "ga")]), set(&["gamma"]));
    assert_eq!(names(&engine, Folding::Union, &given, &[("name", "al")]), set(&[]));
}

#[test]
fn each_scan_is_fresh_and_keeps_its_rows_to_itself() {
    let (dir, engine) = engine();
    let table = tables::find("installed_software").unwrap();
    let all = embargo_tables::Query::all();
    let first = engine.scan();
    let rows = first.rows(table, &all);
    // Within a scan a table is read once: the same rows serve again.
    assert!(Arc::ptr_eq(&rows, &first.rows(table, &all)));
    assert!(!first.errors.is_empty());
    // The root changes; a new scan sees it, with none of the old problems.
    std::fs::remove_file(dir.path().join("var/lib/rpm/Packages")).unwrap();
    let second = engine.scan();
    let again = second.rows(table, &all);
    assert!(!Arc::ptr_eq(&rows, &again));
    assert!(second.errors.is_empty(), "{:?}", second.errors.snapshot());
    assert!(second.scanned_at >= first.scanned_at);
    // State shared by tables is per scan too.
    struct Parsed(u32);
    assert_eq!(first.shared(|| Parsed(1)).0, 1);
    assert_eq!(first.shared(|| Parsed(2)).0, 1, "made once per scan");
    assert!(second.shared_if_made::<Parsed>().is_none());
}

#[test]
fn opening_checks_the_root_and_the_catalog() {
    let missing = Engine::open(&EngineOptions::new("/nonexistent/embargo-root")).err().unwrap();
    assert!(matches!(missing, OpenError::Root { .. }), "{missing:?}");
    assert!(missing.to_string().starts_with("/nonexistent/embargo-root: "), "{missing}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "this is = not [a catalog").unwrap();
    let options = EngineOptions { catalog: Some(bad), ..EngineOptions::new(dir.path()) };
    assert!(matches!(Engine::open(&options), Err(OpenError::Catalog(_))));
    let options = EngineOptions { as_of: Some(1_759_104_000), ..EngineOptions::new(dir.path()) };
    assert_eq!(Engine::open(&options).unwrap().scan().as_of, 1_759_104_000);
}
