//! Helpers for the integration tests: run the built `embargo` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

pub fn embargo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embargo")).args(args).stdin(Stdio::null()).output().expect("embargo runs")
}

/// Runs embargo with `input` on its standard input (and `HOME` set, when
/// given, so that the shell's history lands in a temporary directory).
pub fn embargo_with_stdin(args: &[&str], input: &[u8], home: Option<&Path>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embargo"));
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(h) = home {
        cmd.env("HOME", h);
    }
    let mut child = cmd.spawn().expect("embargo runs");
    child.stdin.take().expect("piped stdin").write_all(input).expect("stdin written");
    child.wait_with_output().expect("embargo ends")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a query with `--format json` and returns the rows.
pub fn json_rows(root: &Path, sql: &str) -> Vec<serde_json::Value> {
    let o = embargo(&["--root", root.to_str().unwrap(), "--format", "json", "query", sql]);
    assert!(o.status.success(), "embargo failed: {}", stderr(&o));
    match serde_json::from_slice(&o.stdout).expect("json output") {
        serde_json::Value::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

pub fn peer(tool: &str) -> bool {
    embargo_tables::testing::peer_available(tool)
}

pub fn run_peer(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(o.status.success(), "{cmd} {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `$EMBARGO_REAL_DATA/rel`: real-world files (other projects' test data,
/// never committed) that tests/real-world.sh puts there. Unset, the test
/// skips with a note, under CI too (CI cannot fetch them); set, a missing
/// file fails the test.
#[allow(dead_code)]
pub fn real_data(rel: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("EMBARGO_REAL_DATA") else {
        eprintln!("skipping: EMBARGO_REAL_DATA is not set (fill a directory with tests/real-world.sh DIR)");
        return None;
    };
    let p = PathBuf::from(dir).join(rel);
    assert!(p.exists(), "{}: missing; run tests/real-world.sh on EMBARGO_REAL_DATA", p.display());
    Some(p)
}
