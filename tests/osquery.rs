//! The osquery extension (`embargo-osquery`) against an independent
//! implementation of osquery's side of the protocol: tests/osquery/manager.py
//! plays osqueryd with the Thrift code PyPI's `osquery` package generated
//! from osquery's IDL, and tests/osquery/osquery_sql.py attaches the tables
//! to SQLite (apsw) as osqueryd does (issue 12, items 6 and 7).
//!
//! The harness lives in a venv under target/osquery-venv (.ci/run makes it;
//! this test makes it when it is missing). With CI=true a missing python or
//! venv fails the test; elsewhere the test is skipped with a message.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;
use serde_json::{Value, json};

const AS_OF: &str = "2025-09-29";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The venv's python with `osquery` and `apsw`, made once per test run.
fn python() -> Option<PathBuf> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = std::env::var_os("EMBARGO_OSQUERY_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/osquery-venv"));
        let py = venv.join("bin/python");
        let ready = |py: &Path| {
            Command::new(py).args(["-c", "import osquery, apsw"]).output().is_ok_and(|o| o.status.success())
        };
        if !ready(&py) {
            let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", "--disable-pip-version-check", "osquery", "apsw"])
                    .status()
                    .is_ok_and(|s| s.success());
            if !made || !ready(&py) {
                let msg = format!("no python venv with osquery and apsw at {} (.ci/run makes it)", venv.display());
                assert!(!ci(), "{msg}");
                eprintln!("skipping: {msg}");
                return None;
            }
        }
        Some(py)
    })
    .clone()
}

/// The `embargo-osquery` binary of this build (another package of the
/// workspace, so no CARGO_BIN_EXE_ variable names it): cargo builds it
/// next to this test's profile directory, a no-op when it is up to date.
fn extension() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("EMBARGO_OSQUERY_BIN") {
            return PathBuf::from(p);
        }
        // target/<profile>/deps/osquery-<hash>
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(repo()).args(["build", "-q", "-p", "embargo-osquery", "--bin", "embargo-osquery"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        let st = cmd.status().expect("cargo runs");
        assert!(st.success(), "cargo build -p embargo-osquery failed");
        let bin = profile_dir.join("embargo-osquery");
        assert!(bin.is_file(), "{} not built", bin.display());
        bin
    })
    .clone()
}

/// Runs tests/osquery/manager.py and returns its JSON report.
fn harness(py: &Path, args: &[&str]) -> Value {
    let o = Command::new(py).arg(repo().join("tests/osquery/manager.py")).args(args).output().expect("python runs");
    assert!(o.status.success(), "manager.py {args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("manager.py output: {e}\n{}", String::from_utf8_lossy(&o.stdout)))
}

/// One extension session making `calls` (see manager.py), ended with shutdown().
fn calls(py: &Path, ext_args: &[&str], calls: Value) -> Value {
    calls_with(py, &[], ext_args, calls)
}

/// [`calls`] with flags for the manager itself (`--manager-gone` ends the
/// session by closing the manager instead of shutdown()).
fn calls_with(py: &Path, manager_args: &[&str], ext_args: &[&str], calls: Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("calls.json");
    std::fs::write(&f, calls.to_string()).unwrap();
    let bin = extension();
    let ext_args = shell_words(ext_args);
    let mut args =
        vec!["calls", "--ext", bin.to_str().unwrap(), "--ext-args", &ext_args, "--calls", f.to_str().unwrap()];
    if !manager_args.contains(&"--manager-gone") {
        args.push("--shutdown");
    }
    args.extend_from_slice(manager_args);
    harness(py, &args)
}

fn shell_words(args: &[&str]) -> String {
    args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect::<Vec<_>>().join(" ")
}

fn root_args(root: &Path) -> [&str; 2] {
    ["--root", root.to_str().unwrap()]
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().expect("results")
}

fn ok_rows(result: &Value) -> &Vec<Value> {
    assert_eq!(result["status"]["code"], 0, "{result}");
    result["typed"].as_array().unwrap_or_else(|| panic!("no typed rows: {result}"))
}

// --- the harness itself, against osquery's Python SDK ---------------------

/// The manager against an extension written with osquery's own Python SDK
/// (tests/osquery/sdk_example_ext.py): the harness is right before it
/// judges embargo. Expected values are that extension's rows and osquery's
/// casting rules (DynamicTableRow::get_column).
#[test]
fn the_harness_speaks_osquery_with_the_python_sdk() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("calls.json");
    std::fs::write(
        &f,
        json!([
            {"table": "sdk_example", "action": "columns"},
            {"table": "sdk_example", "where": [["name", "=", "alpha"], ["name", "=", "beta"], ["count", ">", "0"]],
             "cols": ["name", "count"]},
            {"table": "no_such_table", "action": "generate"},
        ])
        .to_string(),
    )
    .unwrap();
    let sdk = format!("{} {}", py.display(), repo().join("tests/osquery/sdk_example_ext.py").display());
    let r = harness(&py, &["calls", "--ext", &sdk, "--calls", f.to_str().unwrap(), "--shutdown"]);
    assert_eq!(r["info"]["name"], "sdk_example_ext");
    assert_eq!(r["argv"][2], "--verbose", "{}", r["argv"]);
    let res = results(&r);
    assert_eq!(
        res[0]["columns"],
        json!([
            ["name", "TEXT", "0"],
            ["count", "INTEGER", "0"],
            ["size", "BIGINT", "0"],
            ["ratio", "DOUBLE", "0"],
            ["context", "TEXT", "0"]
        ])
    );
    let rows = ok_rows(&res[1]);
    let cells: Vec<_> =
        rows.iter().map(|r| (r["name"].clone(), r["count"].clone(), r["size"].clone(), r["ratio"].clone())).collect();
    // "0x10" and "010" are strtol base 0; "" and a missing key are NULL; "x" is not a double.
    assert_eq!(
        cells,
        [
            (json!("alpha"), json!(1), json!(1_000_000_000_000_i64), json!(0.5)),
            (json!("beta"), json!(16), Value::Null, Value::Null),
            (json!("gamma"), json!(8), Value::Null, json!(2.0)),
        ]
    );
    // The context as the SDK parsed it: every column with its affinity, an
    // IN as two op-2 entries, colsUsed and its bitset in declaration order.
    let ctx: Value = serde_json::from_str(rows[0]["context"].as_str().unwrap()).unwrap();
    assert_eq!(ctx["colsUsedBitset"], 3);
    assert_eq!(ctx["colsUsed"], json!(["name", "count"]));
    let by_name: BTreeMap<_, _> =
        ctx["constraints"].as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap(), c)).collect();
    assert_eq!(by_name.len(), 5);
    assert_eq!(by_name["name"]["list"], json!([{"op": 2, "expr": "alpha"}, {"op": 2, "expr": "beta"}]));
    assert_eq!(by_name["count"]["list"], json!([{"op": 4, "expr": "0"}]));
    assert_eq!(by_name["size"]["affinity"], "BIGINT");
    assert_eq!(res[2]["status"]["code"], 1, "{}", res[2]);
    assert_eq!(r["shutdown_exit"], 0);
}

/// osqueryd's SQL side with the SDK's extension: an IN becomes one
/// generate with several `=` entries, osquery's functions behave as
/// osquery's C++ does (sqlite_string.cpp, sqlite_version.cpp).
#[test]
fn the_sql_harness_attaches_tables_as_osqueryd_does() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(
        &f,
        "SELECT name, count, size, regex_match(name, '^(a)(l)?', 2) AS rm, split(' a, b ,c', ',', 1) AS sp, \
         concat_ws('-', 'a', NULL) AS cw, concat('x', NULL, 1) AS c, version_compare('1.10', '1.9') AS vc, \
         version_compare('1:1.0', '2.0', 'dpkg') AS vd, version_compare('1.0', '1:0.1') AS ve \
         FROM sdk_example WHERE name IN ('alpha', 'gamma') AND count > 0 ORDER BY name",
    )
    .unwrap();
    let sdk = format!("{} {}", py.display(), repo().join("tests/osquery/sdk_example_ext.py").display());
    let r = harness(&py, &["sql", "--ext", &sdk, "-f", f.to_str().unwrap()]);
    let rows = &r["sql"][f.to_str().unwrap()];
    assert_eq!(
        rows,
        &json!([
            {"name": "alpha", "count": 1, "size": 1_000_000_000_000_i64, "rm": "l", "sp": "b", "cw": "a-", "c": "x1",
             "vc": 1, "vd": 1, "ve": -1},
            {"name": "gamma", "count": 8, "size": null, "rm": null, "sp": "b", "cw": "a-", "c": "x1", "vc": 1, "vd": 1, "ve": -1},
        ])
    );
    let calls = r["generate_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let ctx: Value = serde_json::from_str(calls[0]["context"].as_str().unwrap()).unwrap();
    let name = ctx["constraints"].as_array().unwrap().iter().find(|c| c["name"] == "name").unwrap();
    assert_eq!(name["list"], json!([{"op": 2, "expr": "alpha"}, {"op": 2, "expr": "gamma"}]));
}

// --- embargo-osquery through the protocol ---------------------------------

/// The broadcast table of a session: {table: [(column, type, op)]}.
fn broadcast(report: &Value) -> BTreeMap<String, Vec<(String, String, i64)>> {
    report["broadcast"]
        .as_object()
        .expect("broadcast")
        .iter()
        .map(|(t, cols)| {
            let cols = cols
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (c[0].as_str().unwrap().to_string(), c[1].as_str().unwrap().to_string(), c[2].as_i64().unwrap())
                })
                .collect();
            (t.clone(), cols)
        })
        .collect()
}

/// Every raw value is a string that osquery's cast keeps (a value that
/// does not parse as its column's type would silently become NULL), and
/// every key is a column.
fn assert_types(table: &str, cols: &[(String, String, i64)], raw_rows: &[Value]) {
    let types: BTreeMap<_, _> = cols.iter().map(|(n, t, _)| (n.as_str(), t.as_str())).collect();
    for row in raw_rows {
        for (k, v) in row.as_object().unwrap() {
            let ty = types.get(k.as_str()).unwrap_or_else(|| panic!("{table}: key {k} is not a column: {row}"));
            let v = v.as_str().unwrap_or_else(|| panic!("{table}.{k}: not a string: {row}"));
            let ok = match *ty {
                "INTEGER" => canonical_int(v) && v.parse::<i32>().is_ok(),
                "BIGINT" | "UNSIGNED BIGINT" => canonical_int(v) && v.parse::<i64>().is_ok(),
                "DOUBLE" => v.parse::<f64>().is_ok(),
                _ => true,
            };
            assert!(
                ok,
                "{table}.{k} ({ty}) = {v:?}: osquery would read NULL or another number (a NULL is an absent key)"
            );
        }
    }
}

/// Plain decimal: osquery reads integers with strtol base 0, so `010`
/// would be 8 and `0x10` 16.
fn canonical_int(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && (digits == "0" || !digits.starts_with('0'))
}

/// The tables and columns of the interface contract (../shared/CONTRACT.md,
/// "Tables (columns at least)").
const CONTRACT: &[(&str, &str)] = &[
    (
        "installed_software",
        "name version publisher source identifier arch install_location install_time size status installed user path",
    ),
    ("installed_services", "name display_name kind start_type exec_path command module_path user state path"),
    (
        "installed_certificates",
        "common_name subject issuer organization serial not_valid_before not_valid_after sha1 sha256 key_algorithm key_strength signing_algorithm ca self_signed store store_location trust purposes user path",
    ),
    ("running_processes", "pid parent name path cmdline user start_time"),
    ("browser_extensions", "browser user profile id name version enabled path"),
    ("file_presence", "path exists type size mtime resolved_path"),
    ("banned_vendors", "vendor_id vendor banned entities authority citation scope effective_date updates_end_date url"),
    ("banned_vendor_indicators", "vendor_id kind pattern match platform confidence source note"),
    ("scan_host", "hostname os_family os_name os_version machine_id root scanned_at as_of"),
    ("scan_errors", "table_name path kind message"),
];

#[test]
fn embargo_registers_every_table_and_columns_answers_the_same() {
    let Some(py) = python() else { return };
    let root = fixture("roots/debian-mini");
    let tables: Vec<&str> = CONTRACT.iter().map(|(t, _)| *t).collect();
    let mut c: Vec<Value> = tables.iter().map(|t| json!({"table": t, "action": "columns"})).collect();
    c.push(json!({"table": "no_such_table", "action": "generate"}));
    c.push(json!({"table": "installed_software", "action": "no_such_action"}));
    c.push(json!({"table": "installed_software", "request": {}}));
    c.push(json!({"table": "installed_software", "request": {"action": "generate", "context": "{not json"}}));
    // A context naming a column the table does not have, and osquery 2's
    // string op and "" list: answered (an error status or rows), never a crash.
    let odd = r#"{"constraints":[{"name":"no_such_column","list":[{"op":2,"expr":"x"}],"affinity":"TEXT"},{"name":"source","list":[{"op":"2","expr":"deb"}],"affinity":"TEXT"},{"name":"name","list":"","affinity":"TEXT"}]}"#;
    c.push(json!({"table": "installed_software", "request": {"action": "generate", "context": odd}}));
    c.push(json!({"table": "scan_host", "where": []}));
    let r = calls(&py, &root_args(&root), Value::Array(c));
    assert_eq!(r["info"]["name"], "embargo", "{}", r["info"]);
    assert_eq!(r["registrations"], json!([["embargo", 0, "OK"]]));
    assert_eq!(r["registry_names"], json!(["table"]));
    let b = broadcast(&r);
    for (table, cols) in CONTRACT {
        let got: BTreeSet<&str> = b[*table].iter().map(|(n, _, _)| n.as_str()).collect();
        let want: BTreeSet<&str> = cols.split(' ').collect();
        assert!(want.is_subset(&got), "{table}: missing {:?}", want.difference(&got).collect::<Vec<_>>());
        for (n, ty, op) in &b[*table] {
            assert!(
                ["TEXT", "INTEGER", "BIGINT", "UNSIGNED BIGINT", "DOUBLE", "BLOB"].contains(&ty.as_str()),
                "{table}.{n} {ty}"
            );
            assert_eq!(op & !(1 | 2 | 16), 0, "{table}.{n}: op {op} has bits beyond INDEX, REQUIRED, HIDDEN");
        }
    }
    // file_presence.path is required (the contract: required, pushed down).
    let path = b["file_presence"].iter().find(|(n, _, _)| n == "path").unwrap();
    assert_eq!(path.2 & 2, 2, "{path:?}");
    let res = results(&r);
    for (i, table) in tables.iter().enumerate() {
        assert_eq!(res[i]["status"]["code"], 0, "{}", res[i]);
        let cols: Vec<(String, String, i64)> = res[i]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (c[0].as_str().unwrap().into(), c[1].as_str().unwrap().into(), c[2].as_str().unwrap().parse().unwrap())
            })
            .collect();
        assert_eq!(cols, b[*table], "{table}: `columns` differs from the registration");
    }
    let n = tables.len();
    for bad in &res[n..n + 4] {
        assert!(bad.get("exception").is_none(), "an exception, not a status: {bad}");
        assert_eq!(bad["status"]["code"], 1, "{bad}");
    }
    assert!(res[n + 4].get("exception").is_none(), "{}", res[n + 4]);
    // The extension still serves: scan_host names the fixture host (etc/hostname).
    let host = std::fs::read_to_string(root.join("etc/hostname")).unwrap();
    assert_eq!(ok_rows(&res[n + 5])[0]["hostname"], host.trim(), "{}", res[n + 5]);
    assert_eq!(r["shutdown_exit"], 0, "{}", r["extension_log"]);
}

/// dpkg-query's view of an admindir: name -> (version, Status line, installed?).
fn dpkg_query(admindir: &Path) -> BTreeMap<String, (String, String, bool)> {
    run_peer(
        "dpkg-query",
        &[
            &format!("--admindir={}", admindir.display()),
            "-W",
            "-f=${Package}\\t${Version}\\t${Status}\\t${db:Status-Status}\\n",
        ],
    )
    .lines()
    .filter_map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f.len() == 4).then(|| (f[0].to_string(), (f[1].to_string(), f[2].to_string(), f[3] == "installed")))
    })
    .collect()
}

#[test]
fn generate_of_deb_packages_agrees_with_dpkg_query() {
    let Some(py) = python() else { return };
    if !peer("dpkg-query") {
        return;
    }
    let root = fixture("roots/debian-mini");
    let want = dpkg_query(&root.join("var/lib/dpkg"));
    assert!(want.len() >= 3, "{want:?}");
    let two: Vec<&String> = want.keys().take(2).collect();
    let r = calls(
        &py,
        &root_args(&root),
        json!([
            {"table": "installed_software", "where": [["source", "=", "deb"]]},
            {"table": "installed_software", "where": [["source", "=", "deb"], ["name", "=", two[0]], ["name", "=", two[1]]],
             "cols": ["name", "version"]},
            {"table": "installed_software"},
        ]),
    );
    let b = broadcast(&r);
    let res = results(&r);
    for x in res {
        assert_types("installed_software", &b["installed_software"], x["rows"].as_array().unwrap());
    }
    let got: BTreeMap<String, (String, String, bool)> = ok_rows(&res[0])
        .iter()
        .filter(|r| r["source"] == "deb")
        .map(|r| {
            let installed = match r["installed"].as_i64() {
                Some(1) => true,
                Some(0) => false,
                other => panic!("installed is not INTEGER 0/1: {other:?} in {r}"),
            };
            (
                r["name"].as_str().unwrap().into(),
                (r["version"].as_str().unwrap().into(), r["status"].as_str().unwrap().into(), installed),
            )
        })
        .collect();
    for (name, v) in &want {
        assert_eq!(got.get(name), Some(v), "{name}");
    }
    // The pushed-down IN: both named packages come back (osqueryd's SQLite
    // re-checks each row, so a superset would still be right).
    let names: BTreeSet<&str> = ok_rows(&res[1]).iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(names.contains(two[0].as_str()) && names.contains(two[1].as_str()), "{names:?}");
    // Without constraints: the same deb rows.
    let all: BTreeSet<&str> =
        ok_rows(&res[2]).iter().filter(|r| r["source"] == "deb").filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(all, got.keys().map(String::as_str).collect());
    assert_eq!(r["shutdown_exit"], 0);
}

#[test]
fn generate_of_rpm_packages_agrees_with_rpm() {
    let Some(py) = python() else { return };
    if !peer("rpm") {
        return;
    }
    let root = fixture("rpm");
    let dbpath = format!("--dbpath={}", root.join("var/lib/rpm").display());
    let want: BTreeSet<(String, String)> =
        run_peer("rpm", &[&dbpath, "-qa", "--qf", "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n"])
            .lines()
            .filter_map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect();
    assert_eq!(want.len(), 3, "{want:?}");
    let r = calls(
        &py,
        &root_args(&root),
        json!([{"table": "installed_software", "where": [["source", "=", "rpm"]], "cols": ["name", "version", "source"]}]),
    );
    let res = results(&r);
    assert_types("installed_software", &broadcast(&r)["installed_software"], res[0]["rows"].as_array().unwrap());
    let got: BTreeSet<(String, String)> = ok_rows(&res[0])
        .iter()
        .filter(|r| r["source"] == "rpm")
        .map(|r| (r["name"].as_str().unwrap().into(), r["version"].as_str().unwrap().into()))
        .collect();
    assert_eq!(got, want);
}

/// file_presence's required `path`: an IN of two paths (several op-2
/// entries) answers both; no path is an error status whose message is
/// the one every surface gives (the CLI's, word for word).
#[test]
fn file_presence_takes_its_required_path_from_the_context() {
    let Some(py) = python() else { return };
    let root = fixture("roots/debian-mini");
    let r = calls(
        &py,
        &root_args(&root),
        json!([
            {"table": "file_presence", "where": [["path", "=", "/etc/hostname"], ["path", "=", "/opt/kaspersky"]]},
            {"table": "file_presence"},
        ]),
    );
    let res = results(&r);
    let rows = ok_rows(&res[0]);
    let by_path: BTreeMap<&str, &Value> = rows.iter().map(|r| (r["path"].as_str().unwrap(), r)).collect();
    let size = std::fs::metadata(root.join("etc/hostname")).unwrap().len() as i64;
    assert_eq!(by_path["/etc/hostname"]["exists"], 1, "{rows:?}");
    assert_eq!(by_path["/etc/hostname"]["size"], size);
    assert_eq!(by_path["/opt/kaspersky"]["exists"], 0, "{rows:?}");
    assert_eq!(res[1]["status"]["code"], 1, "{}", res[1]);
    let o = embargo(&["--root", root.to_str().unwrap(), "query", "SELECT * FROM file_presence"]);
    assert!(!o.status.success());
    let cli = stderr(&o);
    let msg = res[1]["status"]["message"].as_str().unwrap();
    assert!(!msg.is_empty() && cli.contains(msg), "extension: {msg:?}\nCLI: {cli:?}");
}

// --- the canned queries as osqueryd runs them ------------------------------

const CANNED: &[(&str, &[&str])] = &[
    ("banned_vendor_findings.sql", &["vendor_id", "evidence", "name"]),
    ("host_exposure.sql", &["score", "vendor_id"]),
    ("banned_vendor_leftovers.sql", &["vendor_id", "evidence", "name"]),
];

/// `embargo --root R --as-of D --format json query -f FILE`.
fn cli_rows(root: &Path, as_of: &str, file: &Path) -> Vec<Value> {
    let o = embargo(&[
        "--root",
        root.to_str().unwrap(),
        "--as-of",
        as_of,
        "--format",
        "json",
        "query",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}: {}", file.display(), stderr(&o));
    match serde_json::from_slice(&o.stdout).expect("json") {
        Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

fn canonical(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
    v.sort();
    v
}

/// The three canned queries in osqueryd's SQL (apsw, tables over the
/// socket) and in `embargo query`: the same rows, in the order the query
/// sets.
fn canned_agree(root: &Path, as_of: &str) {
    let Some(py) = python() else { return };
    let files: Vec<PathBuf> = CANNED.iter().map(|(f, _)| repo().join("queries").join(f)).collect();
    let bin = extension();
    let mut args = vec!["sql".to_string(), "--ext".into(), bin.to_str().unwrap().into()];
    args.push("--ext-args".into());
    args.push(shell_words(&["--root", root.to_str().unwrap(), "--as-of", as_of]));
    for f in &files {
        args.push("-f".into());
        args.push(f.to_str().unwrap().into());
    }
    let r = harness(&py, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut nonempty = 0;
    for ((name, order), f) in CANNED.iter().zip(&files) {
        let ours = r["sql"][f.to_str().unwrap()].as_array().unwrap_or_else(|| panic!("{name}: {r}")).clone();
        let cli = cli_rows(root, as_of, f);
        assert_eq!(
            canonical(&ours),
            canonical(&cli),
            "{name} on {}: osqueryd-style rows differ from embargo query's",
            root.display()
        );
        let keys = |rows: &[Value]| {
            rows.iter().map(|r| order.iter().map(|k| r[*k].clone()).collect::<Vec<_>>()).collect::<Vec<_>>()
        };
        assert_eq!(keys(&ours), keys(&cli), "{name}: order");
        nonempty += usize::from(!ours.is_empty());
    }
    // host_exposure has a row per banned vendor on every root.
    assert!(nonempty >= 1, "{}", root.display());
}

#[test]
fn canned_queries_agree_on_a_debian_root_with_kaspersky() {
    canned_agree(&fixture("scan/deb-critical"), AS_OF);
}

#[test]
fn canned_queries_agree_on_a_debian_root_with_leftovers() {
    canned_agree(&fixture("scan/leftovers"), AS_OF);
}

#[test]
fn canned_queries_agree_on_an_rpm_root() {
    canned_agree(&fixture("scan/rpm-kesl"), AS_OF);
}

#[test]
fn canned_queries_agree_on_a_windows_root() {
    canned_agree(&fixture("windows/root"), "2026-12-01");
}

#[test]
fn canned_queries_agree_on_a_windows_root_after_the_ultraav_swap() {
    canned_agree(&fixture("windows/ultraav-swap"), "2026-12-01");
}

#[test]
fn canned_queries_agree_on_a_macos_root() {
    canned_agree(&fixture("macos/root"), "2026-12-01");
}

#[test]
fn generate_of_systemd_units_agrees_with_systemctl() {
    let Some(py) = python() else { return };
    if !peer("systemctl") {
        return;
    }
    for case in ["scan/deb-critical", "scan/leftovers", "scan/neg-systemd"] {
        let root = fixture(case);
        let want = embargo_tables::testing::systemctl_unit_files(&root);
        assert!(!want.is_empty(), "{case}");
        let r = calls(
            &py,
            &root_args(&root),
            json!([{"table": "installed_services", "where": [["kind", "=", "systemd"]], "cols": ["name", "start_type", "kind"]}]),
        );
        let res = results(&r);
        assert_types("installed_services", &broadcast(&r)["installed_services"], res[0]["rows"].as_array().unwrap());
        let mut got: Vec<(String, String)> = ok_rows(&res[0])
            .iter()
            .filter(|r| r["kind"] == "systemd")
            .map(|r| (r["name"].as_str().unwrap().into(), r["start_type"].as_str().unwrap().into()))
            .collect();
        got.sort();
        assert_eq!(got, want, "{case}");
    }
}

/// SHA-1 (lowercase hex) of every certificate of a PEM bundle, by openssl.
fn openssl_sha1s(bundle: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(bundle).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut out = BTreeSet::new();
    for (i, block) in text.split_inclusive("-----END CERTIFICATE-----\n").enumerate() {
        if !block.contains("BEGIN CERTIFICATE") {
            continue;
        }
        let f = dir.path().join(format!("{i}.pem"));
        std::fs::write(&f, block).unwrap();
        let s = run_peer("openssl", &["x509", "-in", f.to_str().unwrap(), "-noout", "-fingerprint", "-sha1"]);
        let fp = s.trim().split_once('=').unwrap().1;
        out.insert(fp.replace(':', "").to_lowercase());
    }
    out
}

#[test]
fn generate_of_bundle_certificates_agrees_with_openssl() {
    let Some(py) = python() else { return };
    if !peer("openssl") {
        return;
    }
    let root = fixture("scan/deb-critical");
    let want = openssl_sha1s(&root.join("etc/ssl/certs/ca-certificates.crt"));
    assert_eq!(want.len(), 2, "{want:?}");
    let r = calls(
        &py,
        &root_args(&root),
        json!([{"table": "installed_certificates", "where": [["store", "=", "bundle"]]}]),
    );
    let res = results(&r);
    assert_types(
        "installed_certificates",
        &broadcast(&r)["installed_certificates"],
        res[0]["rows"].as_array().unwrap(),
    );
    let rows = ok_rows(&res[0]);
    let got: BTreeSet<String> =
        rows.iter().filter(|r| r["store"] == "bundle").map(|r| r["sha1"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, want);
    for row in rows {
        // INTEGER columns arrive as numbers osquery can read.
        assert!(row["not_valid_after"].is_i64() && row["ca"].is_i64(), "{row}");
    }
}

/// A respawned extension can meet "Duplicate extension registered" until
/// osqueryd drops its old registration (osquery#6991): it retries within
/// --timeout and then serves.
#[test]
fn a_registration_refused_as_a_duplicate_is_retried() {
    let Some(py) = python() else { return };
    let root = fixture("roots/debian-mini");
    let r = calls_with(&py, &["--refuse-first", "2"], &root_args(&root), json!([{"table": "scan_host"}]));
    assert_eq!(
        r["registrations"],
        json!([
            ["embargo", 1, "Duplicate extension registered"],
            ["embargo", 1, "Duplicate extension registered"],
            ["embargo", 0, "OK"]
        ])
    );
    let host = std::fs::read_to_string(root.join("etc/hostname")).unwrap();
    assert_eq!(ok_rows(&results(&r)[0])[0]["hostname"], host.trim());
    assert_eq!(r["shutdown_exit"], 0);
}

/// osqueryd dies: every manager connection closes and its socket goes. The
/// extension notices within its --interval (1 s here) and exits 0, as
/// osquery's own test_extension_dies requires.
#[test]
fn the_extension_exits_when_the_manager_goes_away() {
    let Some(py) = python() else { return };
    let root = fixture("roots/debian-mini");
    let r = calls_with(&py, &["--manager-gone"], &root_args(&root), json!([{"table": "scan_host"}]));
    assert_eq!(r["manager_gone_exit"], 0, "{}", r["extension_log"]);
}
