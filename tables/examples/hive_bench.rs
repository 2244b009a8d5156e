//! Times the Windows collectors on a root: `hive_bench ROOT [SOURCE] [RUNS]`.
//! SOURCE is `uninstall`, `certs`, `services`, `host` or `all` (default).
//! Each run starts from nothing (a new `Root` and `WindowsHives`, so the
//! hives are read and parsed again) and prints every record (Debug form) to
//! stdout, as a table's `SELECT *` would print its rows; timings and counts
//! go to stderr. With RUNS > 1 it reports the median. For comparisons with
//! other tools, run it with RUNS = 1 under bench/compare.py:
//!
//! ```sh
//! cargo run --release -p embargo-dev -- synth-windows --out /tmp/win
//! cargo build --release -p embargo-tables --example hive_bench
//! python3 bench/compare.py --runs 11 \
//!     "embargo=target/release/examples/hive_bench /tmp/win all 1" \
//!     "hivexml=sh -c 'hivexml /tmp/win/Windows/System32/config/SOFTWARE; hivexml /tmp/win/Windows/System32/config/SYSTEM'"
//! ```

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use embargo_tables::Root;
use embargo_tables::collectors::windows_hives::WindowsHives;
use embargo_tables::collectors::x509::CertCache;
use embargo_tables::collectors::{certstore, services_reg, uninstall, windows_host};

/// Prints each record to `out` and counts it.
fn emit<T: std::fmt::Debug>(out: &mut impl Write, rows: &mut usize) -> impl FnMut(T) {
    move |r| {
        *rows += 1;
        let _ = writeln!(out, "{r:?}");
    }
}

fn pass(base: &str, source: &str, out: &mut impl Write) -> (usize, usize) {
    let root = Root::new(base).expect("root");
    let hives = WindowsHives::new(&root);
    let (mut rows, mut errors) = (0usize, 0usize);
    let all = source == "all";
    if all || source == "uninstall" {
        uninstall::read_all(&hives, emit(out, &mut rows), |_| errors += 1);
    }
    if all || source == "certs" {
        certstore::read_all(&hives, &mut CertCache::default(), emit(out, &mut rows), |_| errors += 1);
    }
    if all || source == "services" {
        services_reg::read_all(&hives, emit(out, &mut rows), |_| errors += 1);
    }
    if all || source == "host" {
        let host = windows_host::read(&hives, |_| errors += 1);
        emit(out, &mut rows)(host);
    }
    (rows, errors)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).map(String::as_str).unwrap_or("/");
    let source = args.get(2).map(String::as_str).unwrap_or("all");
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(11);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut times: Vec<Duration> = Vec::new();
    let mut counts = (0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        counts = pass(base, source, &mut out);
        out.flush().expect("stdout");
        times.push(t.elapsed());
    }
    times.sort();
    eprintln!(
        "{source}: {} rows, {} errors; median {:.1} ms over {runs} runs (min {:.1}, max {:.1})",
        counts.0,
        counts.1,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}
