//! A registry hive through `Hive::parse_with_logs`, a full walk of its keys
//! and values, and the Windows collectors on it. The input is the hive,
//! optionally followed by transaction logs, each after the marker
//! `\0EMBARGO-LOG\0` (hives are full of NULs, so a plain NUL cannot split).
//!
//! Checks besides no panic: replay grows the hive by no more than the logs
//! hold; keys visited are distinct cells (at most one per 80 bytes of
//! hive); every key the walk names is found again by path lookup, and every
//! value with a unique name by name lookup, with the same bytes.
#![no_main]

use std::collections::HashMap;

use embargo_tables::collectors::hive::{Hive, LogFile, RegError, Registry};
use embargo_tables::collectors::x509::CertCache;
use embargo_tables::collectors::{certstore, services_reg, uninstall, windows_host};
use libfuzzer_sys::fuzz_target;

const MARKER: &[u8] = b"\0EMBARGO-LOG\0";

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(MARKER.len()).position(|w| w == MARKER) {
        parts.push(&rest[..i]);
        rest = &rest[i + MARKER.len()..];
    }
    parts.push(rest);
    parts
}

fuzz_target!(|data: &[u8]| {
    let parts = split(data);
    let names = ["HIVE.LOG1", "HIVE.LOG2", "HIVE.LOG"];
    let logs: Vec<LogFile<'_>> = parts[1..].iter().zip(names).map(|(d, name)| LogFile { name, data: d }).collect();
    let log_bytes: usize = logs.iter().map(|l| l.data.len()).sum();
    let Ok(hive) = Hive::parse_with_logs(parts[0].to_vec(), &logs) else { return };
    assert!(hive.bytes().len() <= parts[0].len() + log_bytes, "replay grew the hive past its logs");
    for n in hive.notices() {
        assert!(!n.message.is_empty());
    }

    let mut errors: Vec<RegError> = Vec::new();
    let mut keys = Vec::new();
    hive.walk(hive.root_key(), &mut |path, key| keys.push((path.to_vec(), key)), &mut |e| errors.push(e));
    assert!(keys.len() <= hive.bytes().len() / 80 + 1, "{} keys from {} bytes", keys.len(), hive.bytes().len());
    // Among siblings that share a name (in any case) a lookup finds the
    // first; only paths whose every key is alone with its name are checked.
    let ambiguous = embargo_fuzz::ambiguous_keys(&hive, &keys);
    let by_path: HashMap<Vec<String>, u32> = keys.iter().cloned().collect();
    for (path, key) in &keys {
        let plain = (1..=path.len()).all(|n| by_path.get(&path[..n]).is_some_and(|k| !ambiguous.contains(k)));
        if plain && path.iter().all(|p| !p.is_empty() && !p.contains('\\')) {
            match hive.open(&path.join("\\")) {
                Ok(found) => assert_eq!(found, Some(*key), "walked to {path:?}, lookup finds another key"),
                Err(e) => assert!(!e.0.is_empty()),
            }
        }
        let values = hive.values(key, &mut |e| errors.push(e));
        let mut count: HashMap<String, usize> = HashMap::new();
        for (name, _) in &values {
            *count.entry(name.to_lowercase()).or_default() += 1;
        }
        for (name, v) in &values {
            if count[&name.to_lowercase()] == 1 && name.chars().all(|c| c.is_ascii()) {
                if let Ok(found) = hive.value(key, name) {
                    assert_eq!(found.as_ref(), Some(v), "value {name:?} by name differs from the listing");
                }
            }
        }
    }
    for e in &errors {
        assert!(!e.0.is_empty());
    }

    // The collectors on the same hive, as SOFTWARE, SYSTEM and NTUSER.DAT.
    let mut sink = |_: String, e: RegError| assert!(!e.0.is_empty());
    for (key, wow64) in [(uninstall::UNINSTALL, false), (uninstall::WOW64_UNINSTALL, true)] {
        let src = uninstall::Source { key, shown: "HKLM", user: None, wow64 };
        uninstall::read_key(&hive, &src, &mut |e| assert!(!e.name.is_empty()), &mut sink);
    }
    if let Ok(Some((name, set))) = services_reg::current_control_set(&hive) {
        services_reg::read_set(
            &hive,
            &set,
            &name,
            "C:\\Windows",
            &mut |s| {
                if let Some(p) = &s.exec_path {
                    assert!(p.starts_with('/'));
                }
            },
            &mut sink,
        );
    }
    let mut cache = CertCache::default();
    let src = certstore::Source {
        key: "Microsoft\\SystemCertificates",
        shown: "HKLM",
        location: certstore::StoreLocation::LocalMachine,
        user: None,
    };
    certstore::read_registry(&hive, &src, &mut cache, &mut |c| assert_eq!(c.info.sha1.len(), 40), &mut sink);
    let mut host = windows_host::WindowsHost::default();
    let _ = windows_host::read_product(&hive, &mut host);
    let _ = windows_host::read_computer_name(&hive);
});
