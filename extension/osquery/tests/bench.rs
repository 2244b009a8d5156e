//! Benchmarks of the extension (ignored by default; `bench/osquery_generate.sh`
//! runs them in release): time of a 10,000-row `generate` through the
//! protocol against `embargo query --format json` for the same rows,
//! alternating, medians; idle and peak RSS. Figures go to standard output.
//! (RSS over 10,000 calls is a normal test: tests/faults.rs.)
//!
//! Environment: `EMBARGO_BIN` (the release `embargo`), `SYNTH_ROOT` (a
//! root made by `embargo-dev synth-root --packages 10000`), `RUNS`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use embargo_osquery::client;
use embargo_osquery::protocol::StringMap;

const T: Duration = Duration::from_secs(120);

fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn generate(socket: &Path, table: &str, context: &str) -> usize {
    let request: StringMap = vec![("action".into(), "generate".into()), ("context".into(), context.into())];
    let resp = client::call_plugin(socket, T, "table", table, &request).unwrap();
    assert_eq!(resp.status.as_ref().map(|s| s.code), Some(0), "{:?}", resp.status);
    resp.response.len()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap_or_else(|_| panic!("set {name} (see bench/osquery_generate.sh)")))
}

#[test]
#[ignore]
fn bench_generate_10k_against_the_cli() {
    let embargo = env_path("EMBARGO_BIN");
    let root = env_path("SYNTH_ROOT");
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(15);
    // No rows kept across calls: each generate is a fresh scan, as each CLI run is.
    let run = Running::start(&["--root", root.to_str().unwrap(), "--cache-ttl", "0"]);
    let pid = run.child.id();
    std::thread::sleep(Duration::from_millis(300));
    let idle = proc_kib(pid, "VmRSS:");

    let cli = |out: &mut usize| {
        let t = Instant::now();
        let o = Command::new(&embargo)
            .args(["--root", root.to_str().unwrap(), "--format", "json", "query", "SELECT * FROM installed_software"])
            .stderr(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success());
        *out = o.stdout.len();
        t.elapsed().as_secs_f64()
    };
    let ext = |rows: &mut usize| {
        let t = Instant::now();
        *rows = generate(&run.socket, "installed_software", "{\"constraints\":[]}");
        t.elapsed().as_secs_f64()
    };
    let (mut bytes, mut rows) = (0, 0);
    // Warm-up: page cache and first-use costs, both sides.
    cli(&mut bytes);
    ext(&mut rows);
    let (mut tc, mut te) = (Vec::new(), Vec::new());
    for i in 0..runs {
        // Alternate which goes first.
        if i % 2 == 0 {
            tc.push(cli(&mut bytes));
            te.push(ext(&mut rows));
        } else {
            te.push(ext(&mut rows));
            tc.push(cli(&mut bytes));
        }
    }
    let (mc, me) = (median(tc), median(te));
    let peak = proc_kib(pid, "VmHWM:");
    println!("rows: {rows} through the protocol; CLI JSON: {bytes} bytes");
    println!("embargo query --format json: median {:.1} ms over {runs} runs", mc * 1e3);
    println!("generate through the protocol: median {:.1} ms over {runs} runs", me * 1e3);
    println!("ratio protocol / CLI: {:.2}", me / mc);
    println!("extension RSS: idle {idle} KiB, peak (VmHWM) {peak} KiB");
    assert!(rows >= 10_000, "a 10,000-package root");
}
