//! The command line: flags, formats, errors and exit codes.

mod common;

use common::*;

#[test]
fn tables_lists_every_table() {
    let o = embargo(&["tables"]);
    assert!(o.status.success());
    let names: Vec<String> = stdout(&o).lines().map(String::from).collect();
    for t in ["installed_software", "scan_host", "scan_errors"] {
        assert!(names.iter().any(|n| n == t), "{t} missing from {names:?}");
    }
    // With a format, each table comes with its description.
    let o = embargo(&["--format", "json", "tables"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), names.len());
    assert!(rows.iter().all(|r| r["description"].as_str().is_some_and(|d| !d.is_empty())), "{v}");
}

#[test]
fn json_keeps_numbers_numbers_and_null_null() {
    let rows = json_rows(&fixture("roots/debian-mini"), "SELECT 1 AS one, NULL AS missing, 'x' AS word, 2.5 AS half");
    assert_eq!(rows, vec![serde_json::json!({"one": 1, "missing": null, "word": "x", "half": 2.5})]);
}

/// Found while moving the row cache into the scan: reading scan_errors
/// generates every table in full, file_presence too, which lists nothing
/// without a path; those empty rows then answered a later `path = ...` in
/// the same statement (n was 0).
#[test]
fn a_path_asked_after_scan_errors_is_still_looked_up() {
    let sql = "SELECT (SELECT count(*) FROM scan_errors) >= 0 AS e, \
               (SELECT count(*) FROM file_presence WHERE path = '/etc' AND \"exists\" = 1) AS n";
    let rows = json_rows(&fixture("roots/debian-mini"), sql);
    assert_eq!(rows, vec![serde_json::json!({"e": 1, "n": 1})]);
}

#[test]
fn global_options_go_before_or_after_the_command() {
    let root = fixture("roots/debian-mini");
    let root = root.to_str().unwrap();
    let sql = "SELECT hostname FROM scan_host";
    let before = embargo(&["--root", root, "--format", "csv", "query", sql]);
    let after = embargo(&["query", sql, "--format", "csv", "--root", root]);
    assert!(before.status.success() && after.status.success(), "{}", stderr(&after));
    assert_eq!(stdout(&before), "hostname\ndebian-mini\n");
    assert_eq!(stdout(&before), stdout(&after));
}

#[test]
fn sql_comes_from_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("q.sql");
    std::fs::write(&f, "SELECT 'a' AS x; SELECT 'b' AS y;").unwrap();
    let o = embargo(&["--format", "jsonl", "query", "-f", f.to_str().unwrap()]);
    assert_eq!(stdout(&o), "{\"x\": \"a\"}\n{\"y\": \"b\"}\n");
    let o = embargo_with_stdin(&["--format", "csv", "query"], b"SELECT 42 AS answer", None);
    assert_eq!(stdout(&o), "answer\n42\n");
}

#[test]
fn json_output_is_one_array_whatever_the_statements() {
    let o = embargo(&["--format", "json", "query", "SELECT 1 AS a; CREATE TEMP TABLE t(x); SELECT 2 AS b"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, serde_json::json!([{"a": 1}, {"b": 2}]));
    // A failing statement still leaves valid JSON behind it, and exit 2.
    let o = embargo(&["--format", "json", "query", "SELECT 1 AS a; SELECT * FROM nope"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, serde_json::json!([{"a": 1}]));
}

#[test]
fn sql_may_start_with_a_comment_as_the_canned_queries_do() {
    let o = embargo(&["--format", "csv", "query", "-- name: answer\nSELECT 42 AS answer"]);
    assert_eq!(stdout(&o), "answer\n42\n", "{}", stderr(&o));
    let leftovers =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/banned_vendor_leftovers.sql")).unwrap();
    assert!(leftovers.starts_with("--"));
    let o = embargo(&["--root", fixture("scan/leftovers").to_str().unwrap(), "--format", "json", "query", &leftovers]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "{rows}");
}

#[test]
fn errors_name_the_problem_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["query", "SELECT * FROM no_such_table"], "the tables are: installed_software"),
        (&["query", "SELEC 1"], "SQL error"),
        (&["--root", "/definitely/not/here", "query", "SELECT 1"], "--root /definitely/not/here"),
        (&["--format", "xml", "query", "SELECT 1"], "xml"),
        (&["--as-of", "2024-02-30", "query", "SELECT 1"], "2024-02-30"),
        (&["schema", "nope"], "no such table: nope"),
        (&["query", "-f", "/definitely/not/here.sql"], "/definitely/not/here.sql"),
        (&["frobnicate"], "frobnicate"),
        (&["query", ""], "no SQL statement given"),
        (&["query", " ;; "], "no SQL statement given"),
        (&["query", "-- only a comment"], "no SQL statement given"),
        (&["query", "--bogus"], "not an option of `query`"),
    ];
    for (args, needle) in cases {
        let o = embargo(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: stderr {:?} lacks {needle:?}", stderr(&o));
    }
}

#[test]
fn as_of_sets_the_judgement_date() {
    let rows = json_rows(&fixture("roots/debian-mini"), "SELECT as_of FROM scan_host");
    assert!(rows[0]["as_of"].as_i64().unwrap() > 1_700_000_000);
    let o = embargo(&["--as-of", "2025-01-31", "--format", "csv", "query", "SELECT as_of FROM scan_host"]);
    // date -u -d 2025-01-31 +%s
    assert_eq!(stdout(&o), "as_of\n1738281600\n");
}

#[test]
fn schema_renders_from_the_declarations() {
    let o = embargo(&["schema", "installed_software"]);
    assert!(stdout(&o).starts_with("CREATE TABLE `installed_software` (\n  `name` TEXT,"), "{}", stdout(&o));
    let o = embargo(&["schema", "--as", "osquery-json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sw = v["tables"].as_array().unwrap().iter().find(|t| t["name"] == "installed_software").unwrap();
    let source = sw["columns"].as_array().unwrap().iter().find(|c| c["name"] == "source").unwrap();
    assert_eq!(source["index"], true);
    assert_eq!(source["type"], "text");
}

/// docs/tables.md is generated; this fails when a declaration changed and
/// the file was not regenerated with `embargo schema --as markdown > docs/tables.md`.
#[test]
fn table_reference_is_current() {
    let o = embargo(&["schema", "--as", "markdown"]);
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tables.md")).unwrap_or_default();
    assert!(
        committed == stdout(&o),
        "docs/tables.md is stale: run `cargo run -- schema --as markdown > docs/tables.md`"
    );
}

#[test]
fn scan_host_describes_the_root() {
    let root = fixture("roots/debian-mini");
    let rows = json_rows(&root, "SELECT * FROM scan_host");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["hostname"], "debian-mini");
    assert_eq!(r["os_family"], "linux");
    assert_eq!(r["os_name"], "Debian GNU/Linux");
    assert_eq!(r["os_version"], "12");
    assert_eq!(r["machine_id"], "0123456789abcdef0123456789abcdef");
    assert_eq!(r["root"], std::fs::canonicalize(&root).unwrap().to_str().unwrap());
}

#[test]
fn the_shell_runs_statements_and_dot_commands() {
    let home = tempfile::tempdir().unwrap();
    let o = embargo_with_stdin(
        &["--root", fixture("roots/debian-mini").to_str().unwrap(), "shell"],
        b".tables\n.mode csv\nSELECT hostname\n  FROM scan_host;\n.schema scan_host\n.mode xml\nSELECT * FROM nope;\n.quit\n",
        Some(home.path()),
    );
    // Fed from a pipe the shell runs everything, then fails for the two errors.
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.starts_with("installed_software\n"), "no banner when not on a terminal: {out}");
    // A statement may span lines; .mode csv applies to it.
    assert!(out.contains("hostname\ndebian-mini\n"), "{out}");
    assert!(out.contains("CREATE TABLE `scan_host`"), "{out}");
    let err = stderr(&o);
    assert!(err.contains("unknown mode \"xml\""), "{err}");
    assert!(err.contains("no such table: nope"), "{err}");
    assert!(err.contains("2 statement(s) or command(s) failed"), "{err}");
    // A script's statements are not the user's history.
    assert!(!home.path().join(".embargo_history").exists());
}

#[test]
fn a_piped_shell_is_a_script_runner() {
    // The last statement has no `;`: it still runs.
    let o = embargo_with_stdin(&["--format", "json", "shell"], b"SELECT 7 AS n", None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v, serde_json::json!([{"n": 7}]));
}

/// Statements that would open, create or change a file on the analyst's
/// host, each refused through `query` and through `shell` on standard input.
#[test]
fn sql_cannot_touch_files_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let existing = d.join("existing.db");
    {
        let c = rusqlite::Connection::open(&existing).unwrap();
        c.execute_batch("CREATE TABLE keep(x); INSERT INTO keep VALUES (42);").unwrap();
    }
    let before = std::fs::read(&existing).unwrap();
    let fresh = |name: &str| d.join(name).to_str().unwrap().to_string();
    let ex = existing.to_str().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (format!("ATTACH '{}' AS x", fresh("created.db")), "ATTACH is refused"),
        (format!("ATTACH '{ex}' AS x; DROP TABLE x.keep"), "ATTACH is refused"),
        (format!("ATTACH 'file:{ex}?mode=ro' AS x; SELECT * FROM x.keep"), "ATTACH is refused"),
        (format!("VACUUM INTO '{}'", fresh("vacuumed.db")), "VACUUM INTO attach"),
        ("VACUUM".into(), "VACUUM and VACUUM INTO"),
        ("DETACH temp".into(), "DETACH is refused"),
        ("CREATE TABLE t(x)".into(), "may write only to the temp schema"),
        ("PRAGMA journal_mode = WAL".into(), "PRAGMA journal_mode is refused"),
        (format!("PRAGMA temp_store_directory = '{}'", d.display()), "PRAGMA temp_store_directory is refused"),
        ("SELECT load_extension('/nonexistent/evil.so')".into(), "load_extension() is refused"),
    ];
    let home = tempfile::tempdir().unwrap();
    for (sql, needle) in &cases {
        let o = embargo(&["query", sql]);
        assert_eq!(o.status.code(), Some(2), "query {sql}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("embargo: not authorized: ") && err.contains(needle), "query {sql}: {err}");
        let o = embargo_with_stdin(
            &["shell"],
            format!("{sql};\nSELECT 'still here' AS s;\n").as_bytes(),
            Some(home.path()),
        );
        assert_eq!(o.status.code(), Some(2), "shell {sql}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "shell {sql}: {}", stderr(&o));
        assert!(stdout(&o).contains("still here"), "shell {sql}: the next statement did not run");
    }
    let left: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("existing.db")], "files appeared");
    assert_eq!(std::fs::read(&existing).unwrap(), before, "the existing database changed");
    // Scratch tables in the temp schema and schema pragmas stay allowed.
    let o = embargo(&[
        "--format",
        "csv",
        "query",
        "CREATE TEMP TABLE t(x); INSERT INTO t VALUES (1); CREATE TEMP VIEW v AS SELECT x + 1 AS y FROM t;
         SELECT y FROM v; SELECT count(*) AS n FROM pragma_table_info('scan_host')",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("y\n2\n"), "{}", stdout(&o));
}

/// CPU time the process has used, in clock ticks (/proc/PID/stat).
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the parenthesised command name; utime is the 14th field.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace().nth(11).and_then(|t| t.parse().ok()).unwrap_or(0)
}

/// Waits until the main thread of `pid` is blocked in read(2) on stdin,
/// as the kernel reports it in /proc/PID/syscall.
#[cfg(target_os = "linux")]
fn wait_until_reading_stdin(pid: u32) {
    let start = std::time::Instant::now();
    loop {
        let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        let mut words = call.split_whitespace();
        if words.next() == Some(&libc::SYS_read.to_string()) && words.next() == Some("0x0") {
            return;
        }
        assert!(start.elapsed().as_secs() < 20, "the shell never went back to reading stdin: {call}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits for `child`, killing it after `secs` so that a broken interrupt
/// fails the test instead of hanging it.
#[cfg(target_os = "linux")]
fn wait_at_most(child: std::process::Child, secs: u64) -> std::process::Output {
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let watchdog = std::thread::spawn(move || {
        for _ in 0..secs * 10 {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        true
    });
    let out = child.wait_with_output().expect("embargo ends");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(!watchdog.join().unwrap(), "embargo did not end within {secs} s");
    out
}

#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_in_the_shell_interrupts_the_statement_not_the_shell() {
    use std::io::{BufRead, Write};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let home = tempfile::tempdir().unwrap();
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_embargo"))
            .arg("shell")
            .env("HOME", home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("embargo runs")
    };
    // A statement that never ends, then one that must still run.
    let mut child = spawn();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(
            b"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c;\n\
              SELECT 'after' AS a;\n",
        )
        .unwrap();
    drop(stdin);
    // Running the endless statement is what uses CPU: half a second of it.
    let pid = child.id();
    let start = std::time::Instant::now();
    while cpu_ticks(pid) < 50 && start.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let o = wait_at_most(child, 20);
    assert_eq!(o.status.signal(), None, "the shell died of the signal: {}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("interrupted"), "{err}");
    assert!(stdout(&o).contains("after"), "the shell did not go on: {}", stdout(&o));
    // A script with a failed statement ends with exit 2.
    assert_eq!(o.status.code(), Some(2), "{err}");

    // Between statements SIGINT ends a piped shell, as it would without embargo's handler.
    let mut child = spawn();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b".mode csv\nSELECT 1 AS one;\n").unwrap();
    stdin.flush().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "one");
    assert_eq!(lines.next().unwrap().unwrap(), "1");
    // The row is printed before the statement ends; the signal must come
    // once the shell is back waiting for its next line.
    wait_until_reading_stdin(child.id());
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = wait_at_most(child, 20);
    drop(stdin);
    assert_eq!(o.status.signal(), Some(libc::SIGINT), "{:?}", o.status);
}
