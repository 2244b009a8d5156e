//! Times the installed_certificates generator in-process.
//! `cargo run --release -p embargo-tables --example certs_bench [N]`:
//! the host root, then a synthetic root of N certificates (default 10000).
//! `... --example certs_bench once`: one host scan, to time the process.

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
        rows = installed_certificates::TABLE.generate(&scan.ctx("installed_certificates"), &Query::all()).len();
        best = best.min(t.elapsed().as_secs_f64());
        errors = scan.errors.len();
    }
    println!("{label}: {rows} rows, {errors} scan errors, best of 10: {:.2} ms", best * 1e3);
}

fn main() -> anyhow::Result<()> {
    // `once`: one scan of the host, for timing the whole process from outside.
    if std::env::args().nth(1).as_deref() == Some("once") {
        let scan = Scan::new(Root::new("/")?);
        let rows = installed_certificates::TABLE.generate(&scan.ctx("installed_certificates"), &Query::all());
        println!("{}", rows.len());
        return Ok(());
    }
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    time("host /", Root::new("/")?);
    let dir = tempfile::tempdir()?;
    certs::synth(dir.path(), n)?;
    time(&format!("synthetic {n}"), Root::new(dir.path())?);
    // The synthetic root repeats the host's certificates, which the scan's
    // cache parses once; this is the cost of parsing every one afresh.
    let bundle = std::fs::read(dir.path().join("etc/ssl/certs/ca-certificates.crt"))?;
    let t = Instant::now();
    let mut parsed = 0;
    for block in embargo_tables::collectors::x509::pem_blocks(&bundle).into_iter().flatten() {
        parsed += embargo_tables::collectors::x509::parse_der(&block.der).is_ok() as usize;
    }
    println!(
        "uncached PEM decode + parse + SHA-1/SHA-256 of {parsed} certificates: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
