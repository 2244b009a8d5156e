//! A root that changes while it is scanned (a running container's rootfs, a
//! read-write or network mount) must not lead a read outside it. One thread
//! swaps a directory of the root for a symlink to a directory outside it,
//! atomically and over and over (`renameat2(RENAME_EXCHANGE)`); the test
//! thread reads through that directory meanwhile, and no read may ever
//! return what is outside.
//!
//! `ROOT_RACE_MILLIS` sets how long it runs (default 2500).
#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use embargo_tables::Root;

const OUTSIDE: &str = "OUTSIDE-SENTINEL: the analyst's own file";

#[test]
fn a_directory_swapped_for_a_link_out_of_the_root_is_never_followed() {
    let millis = std::env::var("ROOT_RACE_MILLIS").ok().and_then(|s| s.parse().ok()).unwrap_or(2500);
    let tmp = tempfile::tempdir().unwrap();
    let (root_dir, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    for base in [&root_dir, &outside] {
        fs::create_dir_all(base.join("d/sub")).unwrap();
    }
    fs::write(root_dir.join("d/sub/secret"), "image").unwrap();
    symlink("image-link", root_dir.join("d/sub/link")).unwrap();
    // The same names outside, under the directory the swapped-in link names.
    fs::write(outside.join("d/sub/secret"), OUTSIDE).unwrap();
    symlink(OUTSIDE, outside.join("d/sub/link")).unwrap();
    fs::write(outside.join("d/sub/OUTSIDE-ENTRY"), OUTSIDE).unwrap();
    // An absolute host path: the kernel would follow it out, the root's walk
    // looks for it inside (where it does not exist).
    symlink(outside.join("d"), root_dir.join("swap")).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, root_dir) = (stop.clone(), swaps.clone(), root_dir.clone());
        std::thread::spawn(move || {
            let dir = rustix::fs::open(&root_dir, rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
            while !stop.load(Ordering::Relaxed) {
                rustix::fs::renameat_with(&dir, "d", &dir, "swap", rustix::fs::RenameFlags::EXCHANGE).unwrap();
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let mut escaped = Vec::new();
    let (mut reads, mut inside) = (0u64, 0u64);
    let shared = Root::new(&root_dir).unwrap();
    let end = Instant::now() + Duration::from_millis(millis);
    while Instant::now() < end && escaped.len() < 10 {
        // A fresh root has nothing remembered; the shared one walks through
        // what earlier reads remembered.
        let fresh = Root::new(&root_dir).unwrap();
        for root in [&fresh, &shared] {
            reads += 4;
            match root.read("/d/sub/secret") {
                Ok(b) if b == OUTSIDE.as_bytes() => escaped.push("read".to_string()),
                Ok(_) => inside += 1,
                Err(_) => {}
            }
            match root.read_dir("/d/sub") {
                Ok(v) if v.iter().any(|e| e.name == "OUTSIDE-ENTRY") => escaped.push("read_dir".to_string()),
                Ok(_) => inside += 1,
                Err(_) => {}
            }
            match root.read_link("/d/sub/link") {
                Ok(t) if t == OUTSIDE => escaped.push("read_link".to_string()),
                Ok(_) => inside += 1,
                Err(_) => {}
            }
            match root.open("/d/sub/secret").map(|(f, _)| f.metadata().map(|m| m.len())) {
                Ok(Ok(n)) if n == OUTSIDE.len() as u64 => escaped.push("open".to_string()),
                Ok(_) => inside += 1,
                Err(_) => {}
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    assert!(escaped.is_empty(), "read outside the root {} times ({escaped:?}) in {reads} reads", escaped.len());
    // Both states of the swap must have been seen, or the test proves little.
    assert!(inside > 100 && inside < reads, "{inside} of {reads} reads saw the image's files ({swaps} swaps)");
    assert!(swaps > 1000, "only {swaps} swaps");
}
