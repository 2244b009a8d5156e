//! Times path resolution through the scan root: `root_bench [ROOT] [RUNS]`.
//! Each run lists a few directories of the root and, for every entry,
//! resolves it (through links such as `/lib` -> `usr/lib` on merged-/usr
//! systems), lstat-resolves it, and reads it when it is a regular file of
//! at most 64 KiB; once on a fresh `Root` (nothing remembered), then again
//! on the same one. Under `strace -c -f` it shows the system calls per path.

use std::time::Instant;

use embargo_tables::Root;

const DIRS: &[&str] = &["/lib/systemd/system", "/etc/systemd/system", "/etc/ssl/certs", "/usr/share/doc", "/etc"];

fn pass(root: &Root) -> (usize, usize) {
    let (mut paths, mut bytes) = (0, 0);
    for dir in DIRS {
        let Ok(entries) = root.read_dir(dir) else { continue };
        for e in entries {
            let p = format!("{dir}/{}", e.name);
            paths += 1;
            let _ = root.resolve_nofollow(&p);
            if let Ok(r) = root.resolve(&p)
                && r.metadata.is_file()
                && r.metadata.len() <= 64 << 10
            {
                bytes += root.read(&p).map_or(0, |b| b.len());
            }
        }
    }
    (paths, bytes)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().cloned().unwrap_or_else(|| "/".into());
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let (mut cold, mut warm) = (f64::MAX, f64::MAX);
    let mut n = (0, 0);
    for _ in 0..runs {
        let root = Root::new(&dir).expect("root");
        let t = Instant::now();
        n = pass(&root);
        cold = cold.min(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        pass(&root);
        warm = warm.min(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("{dir}: {} paths, {} bytes read; best of {runs}: fresh root {cold:.2} ms, warm {warm:.2} ms", n.0, n.1);
}
