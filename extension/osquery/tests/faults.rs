//! The extension under faults (issue 16, item 4): the manager dying while a
//! call is in flight, a caller going away mid-call, a `generate` over its
//! time budget or over the response bound, a root where a hive should be
//! a FIFO, and ten thousand calls in a row; through all of them it keeps
//! serving, and it never hangs. Figures go to standard error
//! (`cargo test -p embargo-osquery --test faults -- --nocapture`).

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use embargo_osquery::client;
use embargo_osquery::protocol::{self, StringMap};
use embargo_osquery::thrift::Writer;

const T: Duration = Duration::from_secs(30);

fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn generate_request(context: &str) -> StringMap {
    vec![("action".into(), "generate".into()), ("context".into(), context.into())]
}

/// The status and row count of a generate.
fn generate(socket: &Path, table: &str, context: &str) -> (i32, String, usize) {
    let resp = client::call_plugin(socket, T, "table", table, &generate_request(context)).expect("a reply");
    let s = resp.status.expect("a status");
    (s.code, s.message, resp.response.len())
}

/// A Debian root of `n` packages (`testing::write_dpkg_status`): big
/// enough that reading it takes a while.
fn big_root(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    embargo_tables::testing::write_dpkg_status(dir.path(), n).unwrap();
    dir
}

/// How long one unconstrained generate of installed_software takes on `root`.
fn time_full_generate(root: &Path) -> Duration {
    let run = Running::start(&["--root", root.to_str().unwrap(), "--cache-ttl", "0"]);
    let t = Instant::now();
    let (code, msg, _) = generate(&run.socket, "installed_software", "{}");
    assert_eq!(code, 0, "{msg}");
    t.elapsed()
}

fn ping_ok(socket: &Path) -> Duration {
    let t = Instant::now();
    let pong = client::ping(socket, Duration::from_secs(5)).expect("ping answered");
    assert_eq!(pong.code, 0);
    t.elapsed()
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let made = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A generate over its budget is an error status by the budget (plus a
/// little), while pings and other generates go on being served, also
/// while the abandoned worker still runs; once too many are abandoned the
/// extension refuses more at once instead of piling up threads, and
/// serves again when they finish.
#[test]
fn a_generate_over_budget_is_an_error_within_budget_and_serving_goes_on() {
    let root = big_root(40_000);
    let full = time_full_generate(root.path());
    eprintln!("one full generate of 40,000 packages: {:.0} ms", full.as_secs_f64() * 1e3);
    assert!(full > Duration::from_millis(200), "the root must be slow enough to overrun 20 ms: {full:?}");

    let run =
        Running::start(&["--root", root.path().to_str().unwrap(), "--generate-budget", "0.02", "--cache-ttl", "0"]);
    let pid = run.child.id();
    let t = Instant::now();
    let (code, msg, rows) = generate(&run.socket, "installed_software", "{}");
    let took = t.elapsed();
    eprintln!("over budget: status {code} after {:.1} ms: {msg}", took.as_secs_f64() * 1e3);
    assert_eq!((code, rows), (1, 0));
    assert!(msg.contains("budget of 0.02 s") && msg.contains("--generate-budget"), "{msg}");
    assert!(
        took >= Duration::from_millis(20) && took < Duration::from_millis(500),
        "budget 20 ms, answered after {took:?}"
    );
    // The worker still runs; the extension serves meanwhile.
    let p = ping_ok(&run.socket);
    assert!(p < Duration::from_millis(500), "{p:?}");
    // A quick one (no catalog, no dpkg) within the 20 ms.
    let fp = r#"{"constraints":[{"name":"path","list":[{"op":2,"expr":"/var/lib/dpkg/status"}],"affinity":"TEXT"}]}"#;
    let (code, msg, rows) = generate(&run.socket, "file_presence", fp);
    assert_eq!((code, rows), (0, 1), "{msg}");

    // More over-budget calls than the engine lets run abandoned: the later
    // ones are refused at once.
    let mut refused = 0;
    for _ in 0..embargo_tables::budget::MAX_ABANDONED + 2 {
        let t = Instant::now();
        let (code, msg, _) = generate(&run.socket, "installed_software", "{}");
        assert_eq!(code, 1);
        assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
        if msg.contains("still running") {
            refused += 1;
        } else {
            assert!(msg.contains("budget of 0.02 s"), "{msg}");
        }
        assert!(ping_ok(&run.socket) < Duration::from_millis(500));
    }
    assert!(refused >= 2, "{refused} refused");
    let peak = proc_kib(pid, "VmHWM:");
    // The abandoned workers finish (each a full generate), then calls are
    // accepted again.
    let deadline = Instant::now() + full * 20 + Duration::from_secs(10);
    loop {
        let (_, msg, _) = generate(&run.socket, "installed_software", "{}");
        if !msg.contains("still running") {
            break;
        }
        assert!(Instant::now() < deadline, "abandoned workers never finished");
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("peak RSS with {} abandoned workers: {peak} KiB", embargo_tables::budget::MAX_ABANDONED);
    assert!(run.child.id() == pid);
}

/// A FIFO where a hive or a user's NTUSER.DAT should be: never opened, so
/// nothing blocks; the generate answers at once with a scan_errors row.
#[test]
fn a_fifo_where_a_hive_should_be_answers_at_once_with_a_scan_error() {
    // The SOFTWARE hive itself: the root no longer looks like Windows.
    let software = tempfile::tempdir().unwrap();
    mkfifo(&software.path().join("Windows/System32/config/SOFTWARE"));
    // A Windows root (the fixture's) whose SYSTEM hive and alice's NTUSER.DAT are FIFOs.
    let windows = tempfile::tempdir().unwrap();
    copy_tree(&fixture("windows/root"), windows.path());
    for hive in ["Windows/System32/config/SYSTEM", "Users/alice/NTUSER.DAT"] {
        std::fs::remove_file(windows.path().join(hive)).unwrap();
        mkfifo(&windows.path().join(hive));
    }
    for (root, fifos) in [
        (software.path(), &["/Windows/System32/config/SOFTWARE"][..]),
        (windows.path(), &["/Windows/System32/config/SYSTEM", "/Users/alice/NTUSER.DAT"][..]),
    ] {
        let run = Running::start(&["--root", root.to_str().unwrap(), "--generate-budget", "5"]);
        let pid = run.child.id();
        let t = Instant::now();
        for table in ["installed_software", "installed_services", "installed_certificates", "scan_host"] {
            let (code, msg, _) = generate(&run.socket, table, "{}");
            assert_eq!(code, 0, "{table}: {msg}");
        }
        let resp = client::call_plugin(&run.socket, T, "table", "scan_errors", &generate_request("{}")).unwrap();
        let took = t.elapsed();
        assert_eq!(resp.status.as_ref().map(|s| s.code), Some(0));
        let get = |row: &StringMap, k: &str| row.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        for fifo in fifos {
            let row = resp.response.iter().find(|r| get(r, "path").as_deref() == Some(fifo));
            let row = row.unwrap_or_else(|| panic!("no scan_errors row for {fifo}: {:?}", resp.response));
            assert_eq!(get(row, "kind").as_deref(), Some("not_regular_file"), "{row:?}");
        }
        eprintln!(
            "FIFO hives {fifos:?}: five generates in {:.1} ms, peak RSS {} KiB",
            took.as_secs_f64() * 1e3,
            proc_kib(pid, "VmHWM:")
        );
        assert!(took < Duration::from_secs(3), "{took:?}");
        ping_ok(&run.socket);
    }
}

/// osqueryd killed while a generate runs (as `kill -9` leaves it: every
/// connection closed and the socket file left behind, nobody listening),
/// or shut down cleanly (its socket removed): the extension exits 0 within
/// a few check intervals, the worker still running, and the caller's
/// connection is closed rather than left hanging.
#[test]
fn the_manager_dying_mid_generate_is_exit_0_promptly() {
    let root = big_root(40_000);
    for killed in [true, false] {
        let mut run = Running::start(&["--root", root.path().to_str().unwrap(), "--cache-ttl", "0"]);
        let socket = run.socket.clone();
        let caller = std::thread::spawn(move || {
            let t = Instant::now();
            let r = client::call_plugin(
                &socket,
                Duration::from_secs(60),
                "table",
                "installed_software",
                &generate_request("{}"),
            );
            (r.map(|r| r.status.map(|s| s.code)), t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        if killed {
            run.manager.die();
        } else {
            run.manager.vanish();
        }
        // Interval 1 s: gone at the next check.
        let status = wait_exit(&mut run.child, Duration::from_secs(8)).expect("exits after the manager died");
        let exited = t.elapsed();
        assert_eq!(status.code(), Some(0), "{}", run.manager.log_text());
        let (answer, waited) = caller.join().unwrap();
        eprintln!(
            "manager {}: extension exit 0 after {:.0} ms; the caller's generate ended after {:.0} ms with {answer:?}",
            if killed { "killed" } else { "gone" },
            exited.as_secs_f64() * 1e3,
            waited.as_secs_f64() * 1e3
        );
        assert!(exited < Duration::from_secs(5), "{exited:?}");
        assert!(waited < Duration::from_secs(8), "{waited:?}");
        assert!(!run.socket.exists());
    }
}

/// With EMBARGO_FAKE_MANAGER set, this test is the manager process of
/// the next one: it serves a fake manager, prints its socket path, and
/// runs until killed.
#[test]
#[ignore = "not a test: the manager process the test below starts and kills"]
fn manager_process() {
    assert!(std::env::var_os("EMBARGO_FAKE_MANAGER").is_some(), "run by the_manager_process_killed_mid_generate_…");
    let m = FakeManager::start();
    println!("socket={}", m.socket.display());
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `kill -9` of a real manager process while a generate runs: its
/// connections close, its socket file stays with nobody listening; the
/// extension exits 0 at its next check, the worker still running.
#[test]
fn the_manager_process_killed_mid_generate_is_exit_0_promptly() {
    use std::io::BufRead;
    let root = big_root(40_000);
    // Run this test binary again as the manager (the test above).
    let mut manager = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "manager_process", "--include-ignored", "--nocapture", "--test-threads", "1"])
        .env("EMBARGO_FAKE_MANAGER", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The test harness prints its own words on the same line.
    let (tx, rx) = std::sync::mpsc::channel();
    let out = manager.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(at) = line.find("socket=") {
                let _ = tx.send(line[at + "socket=".len()..].trim().to_string());
                return;
            }
        }
    });
    let Ok(socket) = rx.recv_timeout(Duration::from_secs(20)) else {
        let _ = manager.kill();
        panic!("the manager process did not say where its socket is");
    };
    let socket = std::path::PathBuf::from(socket);
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut ext = std::process::Command::new(env!("CARGO_BIN_EXE_embargo-osquery"))
        .args(["--verbose", "--socket", socket.to_str().unwrap(), "--timeout", "5", "--interval", "1"])
        .args(["--root", root.path().to_str().unwrap(), "--cache-ttl", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    // The fake manager's first uuid (common/mod.rs: next_uuid 4242, plus one).
    let ours = std::path::PathBuf::from(format!("{}.4243", socket.display()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while client::ping(&ours, Duration::from_secs(2)).is_err() {
        assert!(Instant::now() < deadline, "the extension did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let caller = {
        let ours = ours.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let r = client::call_plugin(
                &ours,
                Duration::from_secs(60),
                "table",
                "installed_software",
                &generate_request("{}"),
            );
            (r.is_ok(), t.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    let killed = std::process::Command::new("kill").args(["-KILL", &manager.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let _ = manager.wait();
    assert!(socket.exists(), "kill -9 leaves the socket file");
    let status = wait_exit(&mut ext, Duration::from_secs(8));
    let exited = t.elapsed();
    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
    let _ = std::fs::remove_dir_all(socket.parent().unwrap());
    let status = status.unwrap_or_else(|| {
        let _ = ext.kill();
        panic!("still running 8 s after the manager was killed:\n{text}")
    });
    let (answered, waited) = caller.join().unwrap();
    eprintln!(
        "manager process killed (-9): extension exit {:?} after {:.0} ms; the caller's generate ended after {:.0} ms (answered: {answered})",
        status.code(),
        exited.as_secs_f64() * 1e3,
        waited.as_secs_f64() * 1e3
    );
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("the manager is gone"), "{text}");
    assert!(exited < Duration::from_secs(5), "{exited:?}");
    assert!(!ours.exists(), "its socket file is removed");
}

/// A caller that goes away in the middle of its generate (osqueryd's
/// thrift timeout, a killed shell): the reply has nowhere to go, and the
/// extension goes on serving.
#[test]
fn a_caller_leaving_mid_generate_costs_nothing_else() {
    let root = big_root(20_000);
    let run = Running::start(&["--root", root.path().to_str().unwrap(), "--cache-ttl", "0"]);
    let pid = run.child.id();
    for _ in 0..3 {
        let mut s = UnixStream::connect(&run.socket).unwrap();
        let mut w = Writer::new(Vec::new());
        let request = generate_request("{}");
        protocol::write_call(&mut w, "call", 1, |w| {
            use embargo_osquery::thrift::ttype;
            w.write_field_begin(ttype::STRING, 1)?;
            w.write_string("table")?;
            w.write_field_begin(ttype::STRING, 2)?;
            w.write_string("installed_software")?;
            w.write_field_begin(ttype::MAP, 3)?;
            protocol::write_string_map(w, &request)
        })
        .unwrap();
        s.write_all(&w.into_inner()).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        drop(s);
        assert!(ping_ok(&run.socket) < Duration::from_millis(500));
    }
    let (code, msg, rows) = generate(&run.socket, "installed_software", "{}");
    assert_eq!((code, rows), (0, 20_000), "{msg}");
    assert!(run.child.id() == pid);
}

/// A response over --max-response-bytes is an error status naming the
/// limit; smaller ones go through.
#[test]
fn a_response_over_the_bound_is_an_error_status() {
    let run = Running::start(&["--max-response-bytes", "4K"]);
    let (code, msg, rows) = generate(&run.socket, "banned_vendor_indicators", "{}");
    assert_eq!((code, rows), (1, 0));
    assert!(msg.contains("over the limit of 4096 bytes") && msg.contains("--max-response-bytes"), "{msg}");
    let (code, msg, rows) = generate(&run.socket, "scan_host", "{}");
    assert_eq!((code, rows), (0, 1), "{msg}");
    ping_ok(&run.socket);
    // The default lets a full table through.
    let run = Running::start(&[]);
    let (code, msg, rows) = generate(&run.socket, "banned_vendor_indicators", "{}");
    assert_eq!(code, 0, "{msg}");
    assert!(rows > 10);
}

/// Ten thousand generate calls, each a fresh scan (TTL 0), over a mix of
/// tables and constraints (a new file_presence path every tenth call):
/// RSS after 10,000 is within 10% of RSS after 1,000.
#[test]
fn ten_thousand_generates_keep_rss_flat() {
    let root = fixture("roots/debian-mini");
    let run = Running::start(&["--root", root.to_str().unwrap(), "--cache-ttl", "0"]);
    let pid = run.child.id();
    let idle = proc_kib(pid, "VmRSS:");
    let calls: [(&str, &str); 4] = [
        ("installed_software", "{\"constraints\":[]}"),
        ("scan_host", "{}"),
        ("banned_vendor_indicators", "{}"),
        ("scan_errors", "{}"),
    ];
    // A connection per call, as osqueryd makes them.
    let call = |table: &str, ctx: &str| client::call_plugin(&run.socket, T, "table", table, &generate_request(ctx));
    let mut after_1000 = 0;
    let t = Instant::now();
    for i in 0..10_000usize {
        let (table, ctx) = calls[i % calls.len()];
        let resp = call(table, ctx).unwrap();
        assert_eq!(resp.status.map(|s| s.code), Some(0), "{table}");
        if i % 10 == 0 {
            let fp = format!(
                "{{\"constraints\":[{{\"name\":\"path\",\"list\":[{{\"op\":2,\"expr\":\"/opt/x{i}\"}}],\"affinity\":\"TEXT\"}}]}}"
            );
            let resp = call("file_presence", &fp).unwrap();
            assert_eq!(resp.response.len(), 1);
        }
        if i == 999 {
            after_1000 = proc_kib(pid, "VmRSS:");
        }
    }
    let after = proc_kib(pid, "VmRSS:");
    let took = t.elapsed();
    eprintln!(
        "RSS: idle {idle} KiB, after 1,000 calls {after_1000} KiB, after 10,000 calls {after} KiB ({:+.1}%); \
         11,000 calls in {:.1} s ({:.2} ms each)",
        (after as f64 / after_1000 as f64 - 1.0) * 100.0,
        took.as_secs_f64(),
        took.as_secs_f64() * 1e3 / 11_000.0
    );
    assert!((after as f64) <= after_1000 as f64 * 1.10, "{after_1000} KiB -> {after} KiB: not within 10%");
}
