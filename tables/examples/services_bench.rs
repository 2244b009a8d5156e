//! Times the `installed_services` generator: `services_bench [ROOT] [RUNS]`.
//! `services_bench ROOT --list` prints `name start_type` of the systemd rows
//! instead, for comparison with `systemctl list-unit-files --root=ROOT`.

use std::time::Instant;

use embargo_tables::tables::installed_services::{InstalledService, TABLE};
use embargo_tables::{Query, Root, Scan, Table};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().cloned().unwrap_or_else(|| "/".into());
    let scan = Scan::new(Root::new(&dir).expect("root"));
    if args.get(1).map(String::as_str) == Some("--list") {
        let rows = (TABLE.generate)(&scan.ctx("installed_services"), &Query::all());
        for r in rows.iter().filter(|r: &&InstalledService| r.kind.as_deref() == Some("systemd")) {
            println!("{} {}", r.name.as_deref().unwrap_or(""), r.start_type.as_deref().unwrap_or(""));
        }
        for e in scan.errors.snapshot() {
            eprintln!("scan_error: {} {} {}", e.kind, e.path, e.message);
        }
        return;
    }
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut n = 0;
    for _ in 0..runs {
        let scan = Scan::new(Root::new(&dir).expect("root"));
        let t = Instant::now();
        let rows = TABLE.generate(&scan.ctx("installed_services"), &Query::all());
        let ms = t.elapsed().as_secs_f64() * 1e3;
        n = rows.len();
        best = best.min(ms);
        total += ms;
    }
    println!("{dir}: {n} rows, best {best:.2} ms, mean {:.2} ms over {runs} runs", total / runs as f64);
}
