//! Times parsing and checking the embedded catalog's TOML, which is what
//! `--catalog PATH` costs and what the frozen copy saves: `catalog_bench [RUNS]`.
use std::time::Instant;

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let c = embargo_catalog::Catalog::from_sources(embargo_catalog::EMBEDDED_FILES.iter().copied()).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(c);
    }
    println!("embedded TOML: best of {runs} {:.3} ms", best * 1e3);
}
