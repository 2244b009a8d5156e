//! snapd's `state.json` through `snap::read_all`. Bytes after the first NUL
//! become `/snap/fuzz/1/meta/snap.yaml`, read when the state names snap
//! `fuzz` at revision 1.
#![no_main]

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::snap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (state, yaml) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut files: Vec<(&str, &[u8])> = vec![(snap::STATE_PATH, state)];
    if let Some(y) = yaml {
        files.push(("/snap/fuzz/1/meta/snap.yaml", y));
    }
    let root = root_with(&files);
    let mut snaps = Vec::new();
    let mut errors = 0usize;
    snap::read_all(
        &root,
        |s| snaps.push(s),
        |e| {
            check_error(&e);
            errors += 1;
        },
    );
    // One row or one error per `data.snaps` entry (`"":{}` is 5 bytes), or one error for the file.
    assert!(
        snaps.len() + errors <= state.len() / 5 + 1,
        "{} snaps, {errors} errors from {} bytes",
        snaps.len(),
        state.len()
    );
    for s in &snaps {
        assert_eq!(s.path, snap::STATE_PATH);
        assert!(s.status == "installed" || s.status == "disabled", "status {:?}", s.status);
        let len = s.name.len()
            + text_len([
                s.snap_id.as_deref(),
                s.revision.as_deref(),
                s.version.as_deref(),
                s.summary.as_deref(),
                s.publisher.as_deref(),
            ]);
        // A numeric revision may print longer than written (`1e5` is
        // `100000.0`); everything else is copied.
        assert!(len <= 4 * data.len() + 32, "{len} bytes of fields from {} bytes", data.len());
    }
});
