//! The loadable extension `libembargo.so` (extension/sqlite-loadable), built
//! here with cargo (it is outside the workspace) and tested in three hosts:
//! this process's own SQLite (bundled rusqlite), with the library opened by
//! libloading and its entry point called directly; Debian's `/usr/bin/sqlite3`
//! with `.load`; and Python's `sqlite3` module where its build can load
//! extensions. Rows are compared with `embargo query`'s on the fixture roots
//! of tests/fixtures/scan (how those are made: make.sh there).

mod common;

use std::ffi::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};

use common::{embargo, fixture, peer, stderr};
use rusqlite::{Connection, ffi};
use serde_json::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Builds the library once per test run, with the crate's `quick` profile
/// (no LTO: a minute, not several), into its own target directory: the
/// workspace's is locked by the cargo running these tests.
fn library() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) => PathBuf::from(t).join("sqlite-loadable"),
            None => Path::new(REPO).join("extension/sqlite-loadable/target"),
        };
        let manifest = Path::new(REPO).join("extension/sqlite-loadable/Cargo.toml");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--profile", "quick", "--manifest-path"])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target)
            .stdin(Stdio::null())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "building libembargo.so failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let lib = target.join("quick/libembargo.so");
        assert!(lib.is_file(), "{} was not built", lib.display());
        lib
    })
}

// ---------------------------------------------------------------- in process

type Init = unsafe extern "C" fn(*mut ffi::sqlite3, *mut *mut c_char, *const ffi::sqlite3_api_routines) -> c_int;

/// The library, opened once and never closed: SQLite calls back into it
/// (function and module destructors) until every connection is closed.
fn entry_point() -> Init {
    static LIB: OnceLock<libloading::Library> = OnceLock::new();
    let lib = LIB.get_or_init(|| unsafe { libloading::Library::new(library()) }.expect("dlopen libembargo.so"));
    *unsafe { lib.get::<Init>(b"sqlite3_embargo_init\0") }.expect("the entry point is exported")
}

/// SQLite hands an extension its API routines only through its loader. An
/// auto-extension sees the same pointer: record it from one connection.
fn api_routines() -> *const ffi::sqlite3_api_routines {
    static API: AtomicPtr<ffi::sqlite3_api_routines> = AtomicPtr::new(std::ptr::null_mut());
    unsafe extern "C" fn record(
        _: *mut ffi::sqlite3,
        _: *mut *mut c_char,
        api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        API.store(api.cast_mut(), Ordering::SeqCst);
        ffi::SQLITE_OK
    }
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| unsafe {
        assert_eq!(ffi::sqlite3_auto_extension(Some(record)), ffi::SQLITE_OK);
        drop(Connection::open_in_memory().unwrap());
        ffi::sqlite3_cancel_auto_extension(Some(record));
    });
    let api = API.load(Ordering::SeqCst);
    assert!(!api.is_null(), "no API routines recorded");
    api
}

/// Calls the entry point on `conn`, as SQLite's loader would; returns its
/// code and error message.
fn load(conn: &Connection) -> (c_int, Option<String>) {
    let mut err: *mut c_char = std::ptr::null_mut();
    let rc = unsafe { entry_point()(conn.handle(), &mut err, api_routines()) };
    let msg = (!err.is_null()).then(|| unsafe {
        let s = std::ffi::CStr::from_ptr(err).to_string_lossy().into_owned();
        ffi::sqlite3_free(err.cast());
        s
    });
    (rc, msg)
}

fn loaded() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    let (rc, msg) = load(&conn);
    // SQLITE_OK_LOAD_PERMANENTLY: its state is process-wide, never unloaded.
    assert_eq!(rc, 256, "entry point failed: {msg:?}");
    conn
}

fn text(conn: &Connection, sql: &str) -> Option<String> {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn error(conn: &Connection, sql: &str) -> String {
    match conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0)) {
        Ok(v) => panic!("{sql} gave {v:?}, not an error"),
        Err(e) => e.to_string(),
    }
}

fn root_of(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_string()
}

#[test]
fn entry_point_gives_every_table_with_its_columns() {
    let conn = loaded();
    for table in embargo_tables::tables::all() {
        let spec = table.spec();
        let mut st = conn.prepare(&format!("SELECT name FROM pragma_table_xinfo('{}')", spec.name)).unwrap();
        let got: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        let want: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        assert_eq!(got, want, "columns of {}", spec.name);
    }
    // The tables are read-only.
    let err = conn.execute("DELETE FROM installed_software", []).unwrap_err().to_string();
    assert!(err.contains("may not be modified") || err.contains("read-only"), "{err}");
    // The host's own SQL is not restricted (no authorizer): it may keep
    // results in its own database.
    conn.execute_batch("CREATE TABLE kept AS SELECT * FROM banned_vendors; PRAGMA user_version = 3;").unwrap();
    assert!(text(&conn, "SELECT CAST(count(*) AS TEXT) FROM kept").unwrap() != "0");
}

#[test]
fn root_and_catalog_are_per_connection_and_bad_values_keep_them() {
    let a = loaded();
    let b = loaded();
    let critical = root_of("scan/deb-critical");
    assert_eq!(text(&a, "SELECT embargo_root()").as_deref(), Some("/"));
    assert_eq!(text(&a, "SELECT embargo_catalog()"), None, "the embedded catalog reads back as NULL");
    assert_eq!(text(&a, &format!("SELECT embargo_root('{critical}')")).as_deref(), Some(critical.as_str()));
    // The fixture's etc/hostname (make.sh: `base deb-critical`).
    assert_eq!(text(&a, "SELECT hostname FROM scan_host").as_deref(), Some("deb-critical"));
    assert_eq!(text(&b, "SELECT embargo_root()").as_deref(), Some("/"), "the other connection keeps its root");

    // A root that does not exist, one that is not a directory, one that
    // cannot be listed: an SQL error, and the root stays.
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let as_root = std::fs::read_dir(&locked).is_ok(); // root can list it anyway
    let mut bad = vec![("/no/such/root".to_string(), "No such file"), ("/etc/hostname".into(), "")];
    if !as_root {
        bad.push((locked.to_str().unwrap().into(), "cannot list it"));
    }
    for (path, why) in &bad {
        let err = error(&a, &format!("SELECT embargo_root('{path}')"));
        assert!(err.contains("embargo_root: cannot scan") && err.contains(why), "{path}: {err}");
        assert!(err.contains(&format!("the root stays {critical}")), "{err}");
        assert_eq!(text(&a, "SELECT embargo_root()").as_deref(), Some(critical.as_str()));
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();

    // A file that is not a catalog: an error, the embedded catalog stays.
    let not_catalog = dir.path().join("not.toml");
    std::fs::write(&not_catalog, "this is = = not toml").unwrap();
    for path in [not_catalog.to_str().unwrap(), "/no/such/catalog.toml"] {
        let err = error(&a, &format!("SELECT embargo_catalog('{path}')"));
        assert!(
            err.contains("embargo_catalog: not a catalog") && err.contains("the catalog stays the embedded catalog"),
            "{err}"
        );
        assert_eq!(text(&a, "SELECT embargo_catalog()"), None);
    }
    // A real catalog (the embedded one's sources) is taken and read back.
    let sources = Path::new(REPO).join("queries/catalog");
    let shown = sources.to_str().unwrap();
    assert_eq!(text(&a, &format!("SELECT embargo_catalog('{shown}')")).as_deref(), Some(shown));
    assert_eq!(text(&a, "SELECT embargo_catalog()").as_deref(), Some(shown));
    assert_eq!(text(&a, "SELECT embargo_catalog(NULL)"), None);

    // Arguments of the wrong type, to every function.
    for (sql, why) in [
        ("SELECT embargo_root(NULL)", "embargo_root: the root cannot be NULL"),
        ("SELECT embargo_root(42)", "must be text, not a number"),
        ("SELECT embargo_root(x'2f')", "must be text, not a blob"),
        ("SELECT embargo_root('')", "cannot be empty"),
        ("SELECT embargo_catalog(1.5)", "must be text, not a number"),
        ("SELECT embargo_as_of('2025-02-30')", "not a calendar date"),
        ("SELECT embargo_as_of(20250101)", "must be text, not a number"),
        // osquery's own error texts (osquery/sql/sqlite_string.cpp, sqlite_version.cpp).
        ("SELECT regex_match('a', '(', 0)", "Invalid regex"),
        ("SELECT split('a,b', '', 0)", "Invalid input to split function"),
        ("SELECT concat_ws()", "Missing separator to concat_ws"),
        ("SELECT version_compare(x'00', 2.5)", "Must provide two version strings to compare."),
        ("SELECT count(*) FROM file_presence", "file_presence needs a constraint `path = ...`"),
    ] {
        let err = error(&a, sql);
        assert!(err.contains(why), "{sql}: {err}");
    }
    // NULLs, numbers and blobs as values are values.
    for sql in [
        "SELECT regex_match(NULL, 'a', 0)",
        "SELECT regex_match(x'ff00', 'a', 0)",
        "SELECT split(NULL, ',', 0)",
        "SELECT concat(NULL)",
        "SELECT regex_match('a', 'a', NULL)",
        "SELECT split('a,b', ',', x'00')",
        "SELECT concat_ws(NULL, 1, x'41')",
    ] {
        a.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // osquery's values (osquery/sql/tests/sql.cpp test_split_slash,
    // test_version_compare, test_collate_version_dpkg_gt): the functions and
    // collations reach the host's SQLite through the extension API too.
    assert_eq!(text(&a, "SELECT split('/foo/bar', '/', 1)").as_deref(), Some("bar"));
    for sql in [
        "SELECT version_compare('1.9.9-1ubuntu2.4', '1.9.9-1ubuntu2.3', 'dpkg')",
        "SELECT '3.0.2-0ubuntu1.10' > '3.0.2-0ubuntu1.8' COLLATE version_dpkg",
    ] {
        assert_eq!(a.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or_else(|e| panic!("{sql}: {e}")), 1, "{sql}");
    }
    assert_eq!(text(&a, "SELECT embargo_root()").as_deref(), Some(critical.as_str()));
    assert_eq!(text(&a, "SELECT hostname FROM scan_host").as_deref(), Some("deb-critical"));

    // Loading again into the same connection keeps its settings.
    let (rc, msg) = load(&a);
    assert_eq!(rc, 256, "{msg:?}");
    assert_eq!(text(&a, "SELECT embargo_root()").as_deref(), Some(critical.as_str()));
    // Closing one connection leaves the others working; a new one starts
    // from the defaults.
    drop(b);
    let c = loaded();
    assert_eq!(text(&c, "SELECT embargo_root()").as_deref(), Some("/"));
    assert_eq!(text(&a, "SELECT hostname FROM scan_host").as_deref(), Some("deb-critical"));
}

#[test]
fn each_statement_reads_the_root_afresh() {
    let conn = loaded();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/hostname"), "first\n").unwrap();
    text(&conn, &format!("SELECT embargo_root('{}')", dir.path().display()));
    assert_eq!(text(&conn, "SELECT hostname FROM scan_host").as_deref(), Some("first"));
    std::fs::write(dir.path().join("etc/hostname"), "second\n").unwrap();
    assert_eq!(text(&conn, "SELECT hostname FROM scan_host").as_deref(), Some("second"));
    // One statement is one snapshot: both reads see the same row.
    let same: i64 = conn
        .query_row("SELECT count(*) FROM scan_host a JOIN scan_host b USING (scanned_at, hostname)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(same, 1);
}

#[test]
fn as_of_sets_the_date_findings_are_judged_at() {
    let conn = loaded();
    text(&conn, &format!("SELECT embargo_root('{}')", root_of("scan/deb-critical")));
    assert_eq!(text(&conn, "SELECT embargo_as_of('2025-09-29')").as_deref(), Some("2025-09-29"));
    // 2025-09-29 00:00:00 UTC (date -u -d 2025-09-29 +%s).
    let as_of: i64 = conn.query_row("SELECT as_of FROM scan_host", [], |r| r.get(0)).unwrap();
    assert_eq!(as_of, 1_759_104_000);
    // Kaspersky's updates ended 2024-09-29: 365 days (the README's example).
    let days: i64 = conn
        .query_row(
            &format!(
                "SELECT days_without_updates FROM ({}) WHERE vendor_id = 'kaspersky'",
                canned("host_exposure").trim_end().trim_end_matches(';')
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(days, 365);
    assert_eq!(text(&conn, "SELECT embargo_as_of(NULL)"), None);
}

// ------------------------------------------------------------ sqlite3 shell

fn canned(name: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join("queries").join(format!("{name}.sql"))).unwrap()
}

fn canned_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(REPO).join("queries"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "sql").then(|| p.file_stem().unwrap().to_str().unwrap().to_string())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    names
}

fn scan_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> =
        std::fs::read_dir(fixture("scan")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    roots.sort();
    roots
}

/// Runs `script` in `/usr/bin/sqlite3` on an in-memory database, after
/// `.load` of the library; returns stdout and stderr.
fn sqlite3(script: &str) -> (String, String) {
    use std::io::Write;
    let lib = library().with_extension("");
    let mut child = Command::new("sqlite3")
        .arg(":memory:")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sqlite3 runs");
    let full = format!(".load {}\n{script}\n", lib.display());
    child.stdin.take().unwrap().write_all(full.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Numbers as f64: sqlite3 and embargo write integral reals differently.
fn normalised(v: Value) -> Value {
    match v {
        Value::Number(n) => n.as_f64().map_or(Value::Number(n), |f| serde_json::json!(f)),
        Value::Array(a) => Value::Array(a.into_iter().map(normalised).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalised(v))).collect()),
        other => other,
    }
}

/// sqlite3's `.mode json` prints nothing for no rows, else one array.
fn json_array(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Array(vec![]);
    }
    normalised(serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

#[test]
fn sqlite3_lists_every_table_and_runs_every_canned_query_as_embargo_does() {
    if !peer("sqlite3") {
        return;
    }
    let (out, err) = sqlite3("SELECT name FROM pragma_module_list ORDER BY 1;");
    assert!(err.is_empty(), "{err}");
    let modules: Vec<&str> = out.lines().collect();
    for table in embargo_tables::tables::all() {
        assert!(modules.contains(&table.spec().name), "{} missing from {modules:?}", table.spec().name);
    }
    let mut compared = 0;
    for root in scan_roots() {
        let r = root.to_str().unwrap();
        for name in canned_names() {
            let file = Path::new(REPO).join("queries").join(format!("{name}.sql"));
            let script = format!(
                ".output /dev/null\nSELECT embargo_root('{r}'), embargo_as_of('2025-09-29');\n.output stdout\n.mode json\n.read {}\n",
                file.display()
            );
            let (out, err) = sqlite3(&script);
            assert!(err.is_empty(), "{name} on {r}: {err}");
            let cli = embargo(&[
                "--root",
                r,
                "--as-of",
                "2025-09-29",
                "--format",
                "json",
                "query",
                "-f",
                file.to_str().unwrap(),
            ]);
            assert!(cli.status.success(), "{}", stderr(&cli));
            let want = json_array(&String::from_utf8_lossy(&cli.stdout));
            let got = json_array(&out);
            assert_eq!(got, want, "{name} on {r}");
            compared += got.as_array().unwrap().len();
        }
    }
    assert!(compared > 20, "only {compared} rows compared: the fixtures should find things");
}

#[test]
fn sqlite3_survives_bad_input_and_keeps_its_root() {
    if !peer("sqlite3") {
        return;
    }
    let critical = root_of("scan/deb-critical");
    let (out, err) = sqlite3(&format!(
        "SELECT embargo_root('{critical}');\n\
         SELECT embargo_root('/no/such/root');\n\
         SELECT embargo_catalog('{critical}/etc/hostname');\n\
         SELECT * FROM file_presence;\n\
         SELECT regex_match('a', '(', 0);\n\
         .load {}\n\
         SELECT name FROM installed_software WHERE name IN ('kesl', 'klnagent64', 'absent') ORDER BY 1;\n\
         SELECT embargo_root(), embargo_catalog() IS NULL;\n",
        library().with_extension("").display()
    ));
    for why in [
        "embargo_root: cannot scan /no/such/root",
        "embargo_catalog: not a catalog",
        "file_presence needs a constraint `path = ...`",
        "Invalid regex",
    ] {
        assert!(err.contains(why), "{why:?} not in {err}");
    }
    // The shell is still running, loaded twice, and an IN list, which
    // SQLite 3.40 hands over one value per filter call, is still right
    // (make.sh installs kesl and klnagent64 on this root).
    assert_eq!(out, format!("{critical}\nkesl\nklnagent64\n{critical}|1\n"));
}

/// A Debian root of `n` packages (`testing::write_dpkg_status`), host
/// name `big`: slow enough to read that a small budget is overrun.
fn big_root(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    embargo_tables::testing::write_dpkg_status(dir.path(), n).unwrap();
    std::fs::create_dir(dir.path().join("etc")).unwrap();
    std::fs::write(
        dir.path().join("etc/hostname"),
        "big
",
    )
    .unwrap();
    dir
}

fn real(conn: &Connection, sql: &str) -> f64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn budget_is_set_and_read_back_and_bad_values_keep_it() {
    let a = loaded();
    let b = loaded();
    assert_eq!(real(&a, "SELECT embargo_budget()"), 60.0, "the default");
    assert_eq!(real(&a, "SELECT embargo_budget(5.5)"), 5.5);
    assert_eq!(real(&a, "SELECT embargo_budget()"), 5.5);
    assert_eq!(real(&a, "SELECT embargo_budget(2)"), 2.0);
    assert_eq!(real(&b, "SELECT embargo_budget()"), 60.0, "per connection");
    for (sql, why) in [
        ("SELECT embargo_budget('soon')", "must be a number of seconds"),
        ("SELECT embargo_budget(x'05')", "must be a number of seconds"),
        ("SELECT embargo_budget(0)", "0 is not a number of seconds from 0.001"),
        ("SELECT embargo_budget(-1.5)", "-1.5 is not a number of seconds"),
        ("SELECT embargo_budget(1e300)", "is not a number of seconds"),
        ("SELECT embargo_budget(9e999)", "inf is not a number of seconds"),
    ] {
        let err = error(&a, sql);
        assert!(err.contains("embargo_budget: ") && err.contains(why), "{sql}: {err}");
        assert!(err.contains("the budget stays 2 s"), "{sql}: {err}");
        assert_eq!(real(&a, "SELECT embargo_budget()"), 2.0);
    }
    assert_eq!(real(&a, "SELECT embargo_budget(NULL)"), 60.0, "NULL restores the default");
    // Top-level SQL only, as the other settings.
    a.execute_batch("CREATE VIEW v AS SELECT embargo_budget(1) AS x").unwrap();
    let err = error(&a, "SELECT x FROM v");
    assert!(err.contains("unsafe use of embargo_budget"), "{err}");
}

#[test]
fn a_statement_over_budget_fails_in_time_and_the_connection_goes_on() {
    let root = big_root(40_000);
    let conn = loaded();
    text(&conn, &format!("SELECT embargo_root('{}')", root.path().display()));
    let count = |conn: &Connection| -> rusqlite::Result<i64> {
        conn.query_row("SELECT count(*) FROM installed_software", [], |r| r.get(0))
    };
    // Within the default budget: every package of the recipe.
    let t = std::time::Instant::now();
    assert_eq!(count(&conn).unwrap(), 40_000);
    let full = t.elapsed();
    eprintln!("40,000 packages in the default budget: {:.0} ms", full.as_secs_f64() * 1e3);
    // A budget well under what the table takes here, whatever the machine:
    // a quarter of the full run, at most 20 ms (the API takes 1 ms upward).
    let budget_ms = (full.as_millis() as u64 / 4).clamp(1, 20);
    assert!(full.as_millis() as u64 >= 2 * budget_ms, "the root must overrun the budget: {full:?}");
    let budget = budget_ms as f64 / 1e3;
    for _ in 0..3 {
        real(&conn, &format!("SELECT embargo_budget({budget})"));
        let t = std::time::Instant::now();
        let err = count(&conn).unwrap_err().to_string();
        let took = t.elapsed();
        eprintln!("over a {budget_ms} ms budget after {:.1} ms: {err}", took.as_secs_f64() * 1e3);
        assert!(
            err.contains(&format!("installed_software: generating took longer than the budget of {budget} s")),
            "{err}"
        );
        assert!(err.contains("embargo_budget(seconds) sets it"), "{err}");
        assert!(took >= std::time::Duration::from_millis(budget_ms), "{took:?}");
        assert!(took < std::time::Duration::from_millis(500), "budget {budget_ms} ms, failed after {took:?}");
        // The next statements work while the abandoned scan still runs (with
        // room to spare: a loaded machine may take the tiny budget for them).
        real(&conn, "SELECT embargo_budget(10)");
        assert_eq!(text(&conn, "SELECT hostname FROM scan_host").as_deref(), Some("big"));
        assert_eq!(
            text(&conn, "SELECT CAST(count(*) AS TEXT) FROM banned_vendors WHERE vendor_id = 'kaspersky'")
                .map(|n| n != "0"),
            Some(true)
        );
    }
    // A generous budget again: the whole table.
    real(&conn, "SELECT embargo_budget(120)");
    assert_eq!(count(&conn).unwrap(), 40_000);
}

/// The same in Debian's sqlite3 shell: the statement fails with the
/// budget's message, the shell goes on.
#[test]
fn sqlite3_over_budget_fails_the_statement_and_goes_on() {
    if !peer("sqlite3") {
        return;
    }
    let root = big_root(40_000);
    let t = std::time::Instant::now();
    let (out, err) = sqlite3(&format!(
        "SELECT embargo_root('{}');\n\
         SELECT embargo_budget(0.001);\n\
         SELECT count(*) FROM installed_software;\n\
         SELECT embargo_budget(NULL);\n\
         SELECT hostname FROM scan_host;\n",
        root.path().display()
    ));
    eprintln!("sqlite3 script with an over-budget statement: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    assert!(err.contains("generating took longer than the budget of 0.001 s"), "{err}");
    assert_eq!(out, format!("{}\n0.001\n60.0\nbig\n", root.path().display()));
}

/// A `/proc/PID/status` figure in KiB (VmRSS, VmHWM). Not wait4's
/// ru_maxrss: Linux counts the forking test process's RSS there, before
/// the exec, so every child would show the parent's figure.
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn ten_thousand_statements_keep_memory_flat() {
    use std::io::{BufRead, Write};
    if !peer("sqlite3") {
        return;
    }
    // Each statement's scan is dropped when the next one starts: RSS after
    // 10,000 statements is within 10% of RSS after 1,000, in one sqlite3.
    let critical = root_of("scan/deb-critical");
    let mut child = Command::new("sqlite3")
        .arg(":memory:")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sqlite3 runs");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let load = format!(".load {}\nSELECT embargo_root('{critical}');\n", library().with_extension("").display());
    stdin.write_all(load.as_bytes()).unwrap();
    let t = std::time::Instant::now();
    let mut run = |statements: usize, mark: &str| {
        let mut script = String::from(".output /dev/null\n");
        for _ in 0..statements {
            script.push_str("SELECT count(*) FROM installed_software JOIN scan_host;\n");
        }
        script.push_str(&format!(".output stdout\nSELECT '{mark}';\n"));
        stdin.write_all(script.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        // The mark is printed once every statement before it has run.
        while line.trim() != mark {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "sqlite3 ended before {mark}");
        }
        (proc_kib(pid, "VmRSS:"), proc_kib(pid, "VmHWM:"))
    };
    let (rss_1000, hwm_1000) = run(1_000, "after-1000");
    let (rss_10000, hwm_10000) = run(9_000, "after-10000");
    drop(stdin);
    assert!(child.wait().unwrap().success());
    eprintln!(
        "sqlite3 RSS: after 1,000 statements {rss_1000} KiB (peak {hwm_1000}), after 10,000 {rss_10000} KiB (peak {hwm_10000}), \
         {:+.1}%; {:.1} s",
        (rss_10000 as f64 / rss_1000 as f64 - 1.0) * 100.0,
        t.elapsed().as_secs_f64()
    );
    assert!(rss_1000 > 1_000, "a real figure: {rss_1000} KiB");
    assert!((rss_10000 as f64) <= rss_1000 as f64 * 1.10, "1,000 statements: {rss_1000} KiB, 10,000: {rss_10000} KiB");
    assert!((hwm_10000 as f64) <= hwm_1000 as f64 * 1.10, "peak {hwm_1000} KiB -> {hwm_10000} KiB");
}

// ------------------------------------------------------------------ Python

/// A Python whose sqlite3 module may load extensions (Debian's may; a
/// Python built without `--enable-loadable-sqlite-extensions` may not).
fn python_with_extensions() -> Option<String> {
    let check = "import sqlite3; raise SystemExit(0 if hasattr(sqlite3.Connection, 'enable_load_extension') else 3)";
    let mut tried = Vec::new();
    for py in ["/usr/bin/python3", "python3"] {
        if let Ok(s) = Command::new(py).args(["-c", check]).status() {
            tried.push(py);
            if s.success() {
                return Some(py.to_string());
            }
        }
    }
    assert!(
        !tried.is_empty() || std::env::var("CI").as_deref() != Ok("true"),
        "python3 is missing; .ci/run installs it"
    );
    eprintln!(
        "skipping: no python3 here ({tried:?}) has sqlite3.Connection.enable_load_extension (built without loadable extensions)"
    );
    None
}

#[test]
fn python_loads_it_and_gets_embargos_rows() {
    let Some(py) = python_with_extensions() else { return };
    let root = root_of("scan/deb-critical");
    let file = Path::new(REPO).join("queries/banned_vendor_findings.sql");
    let script = r#"
import json, sqlite3, sys
lib, root, query = sys.argv[1:4]
conn = sqlite3.connect(":memory:")
conn.enable_load_extension(True)
conn.load_extension(lib)
conn.enable_load_extension(False)
conn.execute("SELECT embargo_root(?)", (root,)).fetchall()
conn.execute("SELECT embargo_as_of('2025-09-29')").fetchall()
try:
    conn.execute("SELECT embargo_root('/no/such/root')").fetchall()
    sys.exit("no error for a missing root")
except sqlite3.OperationalError as e:
    assert "cannot scan" in str(e), e
cur = conn.execute(open(query).read())
cols = [d[0] for d in cur.description]
print(json.dumps([dict(zip(cols, row)) for row in cur]))
"#;
    let lib = library().with_extension("");
    let out = Command::new(&py).args(["-c", script]).arg(&lib).arg(&root).arg(&file).output().unwrap();
    assert!(out.status.success(), "{py}: {}", String::from_utf8_lossy(&out.stderr));
    let got = json_array(&String::from_utf8_lossy(&out.stdout));
    let cli =
        embargo(&["--root", &root, "--as-of", "2025-09-29", "--format", "json", "query", "-f", file.to_str().unwrap()]);
    assert!(cli.status.success(), "{}", stderr(&cli));
    let want = json_array(&String::from_utf8_lossy(&cli.stdout));
    assert_eq!(got, want);
    assert!(got.as_array().unwrap().len() >= 3, "{got}");
}
