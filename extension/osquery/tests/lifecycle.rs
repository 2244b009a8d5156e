//! The extension's life as osqueryd sees it: waiting for the manager,
//! registering (and retrying a duplicate), serving, and exiting when the
//! manager goes away, stops listing it, or asks it to shut down.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use embargo_osquery::client;

const T: Duration = Duration::from_secs(5);

fn route_columns(routes: &[Vec<(String, String)>]) -> Vec<(String, String, String)> {
    routes
        .iter()
        .map(|r| {
            let get = |k: &str| r.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
            assert_eq!(get("id"), "column");
            (get("name"), get("type"), get("op"))
        })
        .collect()
}

#[test]
fn registers_every_table_and_columns_answers_as_the_broadcast() {
    let root = fixture("roots/debian-mini");
    let run = Running::start(&["--root", root.to_str().unwrap()]);
    let state = run.manager.state.lock().unwrap();
    let (uuid, info, registry) = state.registered[0].clone();
    drop(state);
    assert_eq!(info.name, "embargo");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.sdk_version, "5.23.1");
    assert_eq!(registry.len(), 1);
    assert_eq!(registry[0].0, "table");
    let names: BTreeSet<&str> = registry[0].1.iter().map(|(n, _)| n.as_str()).collect();
    let ours: BTreeSet<&str> = embargo_tables::tables::all().iter().map(|t| t.spec().name).collect();
    assert_eq!(names, ours);
    assert!(names.contains("scan_errors"));

    // The uuid comes back in ping.
    let pong = client::ping(&run.socket, T).unwrap();
    assert_eq!((pong.code, pong.uuid), (0, uuid));

    for (table, routes) in &registry[0].1 {
        let resp =
            client::call_plugin(&run.socket, T, "table", table, &vec![("action".into(), "columns".into())]).unwrap();
        assert_eq!(resp.status.as_ref().map(|s| s.code), Some(0), "{table}");
        assert_eq!(route_columns(&resp.response), route_columns(routes), "{table}: columns == broadcast");
        let spec = embargo_tables::tables::find(table).unwrap().spec();
        let cols = route_columns(routes);
        assert_eq!(cols.len(), spec.columns.len());
        for (c, (name, ty, op)) in spec.columns.iter().zip(&cols) {
            assert_eq!(name, c.name);
            assert!(["TEXT", "INTEGER", "BIGINT", "DOUBLE"].contains(&ty.as_str()), "{table}.{name}: {ty}");
            let op: u32 = op.parse().unwrap();
            assert_eq!(op & 1 != 0, c.options.index, "{table}.{name} INDEX");
            assert_eq!(op & 2 != 0, c.options.required, "{table}.{name} REQUIRED");
            assert_eq!(op & 16 != 0, c.options.hidden, "{table}.{name} HIDDEN");
            assert_eq!(op & !(1 | 2 | 16), 0);
        }
    }
    // Declared in the table declarations: file_presence.path is required.
    let fp = registry[0].1.iter().find(|(n, _)| n == "file_presence").unwrap();
    assert!(route_columns(&fp.1).contains(&("path".into(), "TEXT".into(), "3".into())));
}

#[test]
fn no_table_clashes_with_an_osquery_builtin() {
    let data = include_str!("../data/osquery-5.23.1-tables.txt");
    let builtins: BTreeSet<&str> = data.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    // The list is osquery's: it has the names embargo would most likely clash with.
    for known in ["processes", "deb_packages", "programs", "services", "systemd_units", "certificates", "packages"] {
        assert!(builtins.contains(known), "{known}");
    }
    assert!(builtins.len() > 250);
    for t in embargo_tables::tables::all() {
        assert!(!builtins.contains(t.spec().name), "{} is an osquery 5.23.1 built-in", t.spec().name);
    }
}

#[test]
fn waits_for_a_manager_that_comes_late() {
    let m = FakeManager::start();
    m.vanish();
    let mut child = m.spawn(&[], "10", "1");
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().unwrap().is_none(), "still waiting");
    m.listen();
    m.wait_for_extension(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn no_manager_within_the_timeout_is_exit_1() {
    let m = FakeManager::start();
    m.vanish();
    let started = Instant::now();
    let mut child = m.spawn(&[], "1", "1");
    let status = wait_exit(&mut child, Duration::from_secs(10)).expect("gave up");
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(m.log_text().contains("no extension manager answered"), "{}", m.log_text());
}

/// After a quick respawn the manager still holds the dead instance's
/// registration for a while: the extension retries within --timeout.
#[test]
fn a_duplicate_registration_is_retried() {
    let m = FakeManager::start();
    m.state.lock().unwrap().refuse_duplicates = 3;
    let mut child = m.spawn(&[], "5", "1");
    m.wait_for_extension(Duration::from_secs(10));
    assert_eq!(m.state.lock().unwrap().register_calls, 4);
    let _ = child.kill();
    let _ = child.wait();

    // Past the timeout it gives up (exit 1).
    let m = FakeManager::start();
    m.state.lock().unwrap().refuse_duplicates = 1000;
    let mut child = m.spawn(&[], "1", "1");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)).unwrap().code(), Some(1));
    assert!(m.log_text().contains("Duplicate extension registered"), "{}", m.log_text());
}

#[test]
fn exits_0_when_the_manager_goes_away_and_removes_its_socket() {
    let run = Running::start(&[]);
    let socket = run.socket.clone();
    let mut run = run;
    run.manager.vanish();
    let status = wait_exit(&mut run.child, Duration::from_secs(8)).expect("exits after the manager went away");
    assert_eq!(status.code(), Some(0));
    assert!(!socket.exists(), "its socket file is removed");
}

#[test]
fn exits_0_when_the_manager_no_longer_lists_it() {
    let mut run = Running::start(&[]);
    let uuid = run.manager.uuid().unwrap();
    // The manager has pinged-out the extension (or deregistered it).
    run.manager.state.lock().unwrap().deregistered.push(uuid);
    let status = wait_exit(&mut run.child, Duration::from_secs(8)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(run.manager.log_text().contains("no longer lists"), "{}", run.manager.log_text());
    assert!(run.manager.state.lock().unwrap().extensions_calls >= 1);
}

#[test]
fn shutdown_is_exit_0_promptly() {
    let mut run = Running::start(&[]);
    let started = Instant::now();
    client::shutdown(&run.socket, T).unwrap();
    let status = wait_exit(&mut run.child, Duration::from_secs(3)).expect("exits promptly");
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!run.socket.exists());
    let uuid = run.manager.uuid().unwrap();
    assert_eq!(run.manager.state.lock().unwrap().deregistered, vec![uuid]);
}

#[test]
fn sigterm_is_exit_0_and_removes_the_socket() {
    let mut run = Running::start(&[]);
    let pid = run.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = wait_exit(&mut run.child, Duration::from_secs(3)).expect("exits");
    assert_eq!(status.code(), Some(0));
    assert!(!run.socket.exists());
}

#[test]
fn a_stale_socket_of_the_same_name_is_replaced() {
    let m = FakeManager::start();
    let next = m.state.lock().unwrap().next_uuid + 1;
    let stale = std::path::PathBuf::from(format!("{}.{next}", m.socket.display()));
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let mut child = m.spawn(&[], "5", "1");
    let socket = m.wait_for_extension(Duration::from_secs(10));
    assert_eq!(socket, stale);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_flags_and_roots_are_exit_2_with_a_message() {
    for (args, says) in [
        (&["--timeout", "soon"][..], "--timeout"),
        (&["--root", "/no/such/root/dir"], "--root"),
        (&["--catalog", "/no/such/catalog.toml"], "--catalog"),
        (&["--max-connections", "lots"], "--max-connections"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_embargo-osquery"))
            .args(["--socket", "/nonexistent/osquery.em"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_embargo-osquery")).arg("--help").output().unwrap();
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("--socket PATH"));
}

/// Flags a later osqueryd might add, before and after ours, do not stop it.
#[test]
fn unknown_flags_are_ignored() {
    let m = FakeManager::start();
    let mut child = m.spawn(&["--extensions_new_flag", "value", "--another=1", "-x"], "5", "1");
    m.wait_for_extension(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
}
