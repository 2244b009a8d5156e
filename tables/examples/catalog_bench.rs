//! Times loading the embedded catalog and the catalog tables' generators.
//! `cargo run --release -p embargo-tables --example catalog_bench`

use std::time::Instant;

use embargo_tables::embargo_catalog::{Catalog, EMBEDDED_FILES, Kind};
use embargo_tables::spec::Value;
use embargo_tables::tables::{banned_vendor_indicators, file_presence};
use embargo_tables::{Query, Root, Scan, Table};

fn main() {
    // The first call thaws the frozen copy (queries/src/frozen.rs); later
    // calls share it.
    let t = Instant::now();
    std::hint::black_box(Catalog::embedded());
    println!("embedded catalog, first use (frozen copy): {:.3} ms", t.elapsed().as_secs_f64() * 1e3);

    const LOADS: u32 = 50;
    let t = Instant::now();
    for _ in 0..LOADS {
        std::hint::black_box(Catalog::from_sources(EMBEDDED_FILES.iter().copied()).expect("embedded catalog"));
    }
    println!(
        "catalog load from TOML (parse + check), as --catalog does: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / f64::from(LOADS)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("opt/kaspersky/kesl")).expect("mkdir");
    let scan = Scan::new(Root::new(dir.path()).expect("root"));
    let catalog = Catalog::embedded();

    let t = Instant::now();
    let rows = scan.rows(&banned_vendor_indicators::TABLE, &Query::all());
    println!("banned_vendor_indicators: {} rows in {:.3} ms", rows.len(), t.elapsed().as_secs_f64() * 1e3);

    let paths: Vec<Value> = catalog
        .indicators()
        .filter(|(_, i)| i.kind == Kind::Path)
        .map(|(_, i)| Value::Text(i.pattern.clone()))
        .collect();
    let n = paths.len();
    let q = Query::all().with("path", paths);
    let t = Instant::now();
    let rows = file_presence::TABLE.generate(&scan.ctx("file_presence"), &q);
    println!("file_presence: {} paths looked up in {:.3} ms", n.min(rows.len()), t.elapsed().as_secs_f64() * 1e3);
}
