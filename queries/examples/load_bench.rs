//! Times `Catalog::from_path` on generated catalogs of growing size, to see
//! that loading stays linear in the number of indicators.
//! `cargo run --release -p embargo-catalog --example load_bench -- 10000 100000 300000`

use std::fmt::Write as _;
use std::time::Instant;

use embargo_catalog::Catalog;

/// One vendor file with `n` distinct indicators: a mix of kinds and match
/// rules, a quarter of them globs and regexes, as a large real catalog has.
fn generated(id: &str, first: usize, n: usize) -> String {
    let mut s = format!("id = \"{id}\"\nname = \"Bench\"\nbanned = true\n\n");
    s.push_str("[[entities]]\nname = \"Bench Ltd\"\nsource = \"generated\"\n\n");
    let kinds = ["package", "service", "process", "product_name", "publisher"];
    for i in first..first + n {
        let kind = kinds[i % kinds.len()];
        let (rule, pattern) = match i % 8 {
            0 => ("glob", format!("bench-{i}-*.exe")),
            1 => ("regex", format!("^bench{i}(-[a-z]+)?\\\\.\\\\d+$")),
            2 | 3 => ("prefix", format!("Bench {i} ")),
            _ => ("exact", format!("bench-agent-{i}")),
        };
        let _ = write!(
            s,
            "[[indicators]]\nkind = \"{kind}\"\npattern = \"{pattern}\"\nmatch = \"{rule}\"\nplatform = \"all\"\n\
             confidence = \"medium\"\nsource = \"generated indicator {i}\"\n\n"
        );
    }
    s
}

/// Starts a new peak for [`peak_rss_mib`] (Linux: `clear_refs` value 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since [`reset_peak_rss`], from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches(" kB").parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number of indicators")).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    let dir = tempfile::tempdir().expect("tempdir");
    for n in sizes {
        // One file, parsed and checked from memory: the loader's own cost.
        let text = generated("bench", 0, n);
        reset_peak_rss();
        let t = Instant::now();
        let result = Catalog::from_sources([("bench.toml", text.as_str())]);
        let secs = t.elapsed().as_secs_f64();
        let outcome = match &result {
            Ok(c) => format!("{} indicators", c.indicators().count()),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "{n:>7} indicators, one file of {:>5.1} MiB: {secs:8.3} s, {:6.2} us/indicator, peak RSS {:.0} MiB ({outcome})",
            text.len() as f64 / (1 << 20) as f64,
            secs * 1e6 / n as f64,
            peak_rss_mib().unwrap_or(f64::NAN),
        );
        drop(result);
        // The same from disk as --catalog reads it: one file when it is
        // under the per-file limit, else a directory of files of 50,000.
        let sub = dir.path().join(n.to_string());
        std::fs::create_dir(&sub).expect("mkdir");
        let per_file = if text.len() as u64 <= embargo_catalog::MAX_CATALOG_FILE_BYTES { n } else { 50_000 };
        drop(text);
        let mut first = 0;
        while first < n {
            let k = per_file.min(n - first);
            std::fs::write(sub.join(format!("bench{first}.toml")), generated(&format!("bench{first}"), first, k))
                .expect("write");
            first += k;
        }
        reset_peak_rss();
        let t = Instant::now();
        let result = Catalog::from_path(&sub);
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(c) => println!(
                "{n:>7} indicators, --catalog DIR of {} file(s): {secs:8.3} s, peak RSS {:.0} MiB",
                c.vendors().len(),
                peak_rss_mib().unwrap_or(f64::NAN)
            ),
            Err(e) => println!("{n:>7} indicators, --catalog DIR: refused: {e}"),
        }
        std::fs::remove_dir_all(&sub).expect("cleanup");
    }
}
