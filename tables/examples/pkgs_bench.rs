//! Times the rpm, snap and flatpak sources of `installed_software` in release:
//! `cargo run --release -p embargo-tables --example pkgs_bench`.
//! The rpm figure uses a copy of the fixture grown to N packages by repeating
//! its real header blobs, so per-row cost is visible.

use std::path::Path;
use std::time::Instant;

use embargo_tables::{Query, Root, Scan};

fn time(label: &str, dir: &Path, source: &str, runs: u32) {
    let table = embargo_tables::tables::find("installed_software").unwrap();
    let q = Query::all().with("source", vec![embargo_tables::Value::Text(source.into())]);
    let mut rows = 0;
    let start = Instant::now();
    for _ in 0..runs {
        let scan = Scan::new(Root::new(dir).unwrap());
        rows = scan.rows(table, &q).len();
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!("{label}: {rows} rows in {ms:.3} ms ({:.0} rows/ms)", rows as f64 / ms);
}

fn main() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    time("rpm fixture", &fixtures.join("rpm"), "rpm", 200);

    let grown = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(grown.path().join("var/lib/rpm")).unwrap();
    let db = grown.path().join("var/lib/rpm/rpmdb.sqlite");
    std::fs::copy(fixtures.join("rpm/var/lib/rpm/rpmdb.sqlite"), &db).unwrap();
    let c = rusqlite::Connection::open(&db).unwrap();
    for _ in 0..10 {
        // 3 → 3·2^10 = 3072 packages, about the size of a Fedora workstation.
        c.execute("INSERT INTO Packages(blob) SELECT blob FROM Packages", []).unwrap();
    }
    drop(c);
    time("rpm 3072 packages", grown.path(), "rpm", 20);
    time("snap fixture", &fixtures.join("snap/state"), "snap", 200);
    time("flatpak fixture", &fixtures.join("flatpak"), "flatpak", 200);
}
