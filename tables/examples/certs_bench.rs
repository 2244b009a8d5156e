//! Times the installed_certificates generator in-process.
//! `cargo run --release -p embargo-tables --example certs_bench [N]`:
//! the host root, then a synthetic root of N certificates (default 10000).

#[path = "../../dev/src/certs.rs"]
mod certs;

use std::time::Instant;

use embargo_tables::{Query, Root, Scan, Table, tables::installed_certificates};

fn time(label: &str, root: Root) {
    let mut best = f64::MAX;
    let mut rows = 0;
    let mut errors = 0;
    for _ in 0..10 {
        let scan = Scan::new(root.clone());
        let t = Instant::now();
        rows = installed_certificates::TABLE
            .generate(&scan.ctx("installed_certificates"), &Query::all())
            .len();
        best = best.min(t.elapsed().as_secs_f64());
        errors = scan.errors.len();
    }
    println!(
        "{label}: {rows} rows, {errors} scan errors, best of 10: {:.2} ms",
        best * 1e3
    );
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    time("host /", Root::new("/")?);
    let dir = tempfile::tempdir()?;
    certs::synth(dir.path(), n)?;
    time(&format!("synthetic {n}"), Root::new(dir.path())?);
    Ok(())
}
