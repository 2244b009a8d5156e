//! dpkg's journal replay: the input split at NUL bytes is the status file,
//! then up to 8 journal files `updates/0000`, `updates/0001`, … (a part that
//! starts with `#` is a distroless `status.d` file instead). Checks: every
//! package comes from one of those files; a journal record is listed once
//! per (name, arch), and a status.d one only when neither the status file
//! nor the journal listed that package; what is listed is bounded by the
//! input.
#![no_main]

use std::collections::HashSet;

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::dpkg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let status = parts.next().unwrap_or_default();
    let mut files: Vec<(String, &[u8])> = vec![(dpkg::STATUS_PATH.to_string(), status)];
    for (i, part) in parts.take(8).enumerate() {
        match part.strip_prefix(b"#") {
            Some(rest) => files.push((format!("{}/p{i}", dpkg::STATUS_D_DIR), rest)),
            None => files.push((format!("{}/{i:04}", dpkg::UPDATES_DIR), part)),
        }
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (p.as_str(), *d)).collect();
    let root = root_with(&refs);
    let (mut journal, mut before_status_d) = (HashSet::new(), HashSet::new());
    let mut packages = 0usize;
    let r = dpkg::read_database(
        &root,
        |p, file| {
            assert!(files.iter().any(|(f, _)| f == file), "a package from {file}");
            assert!(!p.name.is_empty());
            assert_ne!(p.state(), "not-installed", "{p:?}");
            let key = (p.name.clone(), p.architecture.clone());
            if file.starts_with(dpkg::UPDATES_DIR) {
                assert!(journal.insert(key.clone()), "{} listed twice from the journal", p.name);
            }
            if file.starts_with(dpkg::STATUS_D_DIR) {
                assert!(!before_status_d.contains(&key), "{} listed again from {file}", p.name);
            } else {
                before_status_d.insert(key);
            }
            let len = text_len([Some(p.name.as_str()), p.version.as_deref(), p.architecture.as_deref()]);
            assert!(len <= 3 * data.len() + 16, "{len} bytes from {}", data.len());
            packages += 1;
        },
        check_error_owned,
    );
    if let Err(e) = r {
        check_error(&e);
    }
    // Stanzas are separated by a blank line: at most one per two bytes.
    assert!(packages <= data.len() / 2 + 1, "{packages} packages from {} bytes", data.len());
});

fn check_error_owned(e: embargo_tables::error::FsError) {
    check_error(&e);
}
