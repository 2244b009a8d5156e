//! `cargo test --manifest-path extension/sqlite-loadable/Cargo.toml`: the
//! library this package just built, loaded into `/usr/bin/sqlite3`. The
//! comparisons with `embargo query` on the fixture roots are in the
//! repository's tests/loadable.rs, which builds this library itself.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The library `cargo test` built for these tests: beside them in
/// `target/<profile>/deps/` (a `cargo build` puts it one folder up).
fn library() -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let lib = [deps.join("libembargo.so"), deps.parent().unwrap().join("libembargo.so")]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("libembargo.so not built in {}", deps.display()));
    lib.with_extension("")
}

fn sqlite3(script: &str) -> Option<(String, String)> {
    if !embargo_tables::testing::peer_available("sqlite3") {
        return None;
    }
    let mut child = Command::new("sqlite3")
        .arg(":memory:")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sqlite3 runs");
    let full = format!(".load {}\n{script}\n", library().display());
    child.stdin.take().unwrap().write_all(full.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    // Exit 1 after an SQL error; killed by a signal only if something crashed.
    assert!(out.status.code().is_some(), "sqlite3 crashed: {:?}", out.status);
    Some((String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

#[test]
fn every_table_is_there_with_its_columns() {
    let tables = embargo_tables::tables::all();
    let script: String = tables
        .iter()
        .map(|t| format!("SELECT '{0}', group_concat(name, ',') FROM pragma_table_xinfo('{0}');\n", t.spec().name))
        .collect();
    let Some((out, err)) = sqlite3(&script) else { return };
    assert!(err.is_empty(), "{err}");
    let want: String = tables
        .iter()
        .map(|t| {
            let cols: Vec<&str> = t.spec().columns.iter().map(|c| c.name).collect();
            format!("{}|{}\n", t.spec().name, cols.join(","))
        })
        .collect();
    assert_eq!(out, want);
}

#[test]
fn settings_read_back_and_a_bad_root_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/hostname"), "loadable-test\n").unwrap();
    let root = dir.path().display();
    let Some((out, err)) = sqlite3(&format!(
        "SELECT embargo_root(), embargo_catalog() IS NULL, embargo_as_of() IS NULL;\n\
         SELECT embargo_root('{root}');\n\
         SELECT embargo_root('{root}/missing');\n\
         SELECT hostname, embargo_root() FROM scan_host;\n"
    )) else {
        return;
    };
    assert_eq!(out, format!("/|1|1\n{root}\nloadable-test|{root}\n"));
    assert!(err.contains(&format!("embargo_root: cannot scan {root}/missing")), "{err}");
    assert!(err.contains(&format!("the root stays {root}")), "{err}");
}
