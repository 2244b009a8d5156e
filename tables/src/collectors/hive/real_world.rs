//! Hives written by Windows itself, from public test-data sets (regipy's and
//! yarp's, never committed; tests/real-world.sh DIR puts them in DIR/regipy
//! and DIR/yarp). Skipped unless `EMBARGO_REAL_DATA` names that DIR.
//!
//! Expected values come from the sets' own tests (their recovered-page
//! counts and key checks), from the hives Windows itself recovered
//! (yarp's `RecoveredHive_Windows10`/`_Windows7`), and from
//! `hivexregedit --export` of the same files.

use std::path::PathBuf;

use super::tests::{Dump, dump, hivex_export_path};
use super::*;

fn data_dir() -> Option<PathBuf> {
    match std::env::var_os("EMBARGO_REAL_DATA") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("skipping: EMBARGO_REAL_DATA is not set (fill a directory with tests/real-world.sh DIR)");
            None
        }
    }
}

fn read(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn open_with_logs(dir: &std::path::Path, hive: &str, logs: &[&str]) -> Hive {
    let files: Vec<(String, Vec<u8>)> = logs.iter().map(|l| (l.to_string(), read(dir, l))).collect();
    let logs: Vec<LogFile<'_>> = files.iter().map(|(n, d)| LogFile { name: n, data: d }).collect();
    Hive::parse_with_logs(read(dir, hive), &logs).unwrap_or_else(|e| panic!("{hive}: {e}"))
}

#[test]
fn real_world_hives_read_as_hivexregedit_exports_them() {
    let Some(dir) = data_dir() else { return };
    if !crate::testing::peer_available("hivexregedit") {
        return;
    }
    let hives = [
        "regipy/SAM",
        "regipy/BCD",
        "regipy/SECURITY",
        "regipy/NTUSER.DAT",
        "regipy/NTUSER-WSL.DAT",
        "regipy/NTUSER_with_winscp.DAT",
        "regipy/SYSTEM",
        "regipy/SYSTEM_WIN_10_1709",
        "regipy/amcache.hve",
        "yarp/BigDataHive",
        "yarp/ManySubkeysHive",
        "yarp/UnicodeHive",
        "yarp/ExtendedASCIIHive",
        "yarp/MultiSzHive",
        "yarp/StringValuesHive",
        "yarp/CompHive",
    ];
    for rel in hives {
        let hive = Hive::parse(read(&dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let mut errors = Vec::new();
        let got = dump(&hive, &mut errors);
        let want = hivex_export_path(&dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let values: usize = got.values().map(|v| v.len()).sum();
        eprintln!("{rel}: {} keys, {values} values, {} errors, notices {:?}", got.len(), errors.len(), hive.notices());
        assert_eq!(errors, vec![], "{rel}");
        let strip = |d: &Dump| -> Dump {
            d.iter().filter(|(k, v)| k.as_str() != "\\" || !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let (got, want) = (strip(&got), strip(&want));
        // hivexregedit writes names it cannot print in ASCII lossily; compare
        // the keys whose names it printed exactly, and the counts.
        assert_eq!(got.len(), want.len(), "{rel}: key count");
        for (k, v) in &want {
            if k.contains('\u{FFFD}') || !k.is_ascii() {
                continue;
            }
            let mine = got.get(k).unwrap_or_else(|| panic!("{rel}: key {k} missing"));
            let ascii = |m: &BTreeMap<String, (u32, Vec<u8>)>| -> BTreeMap<String, (u32, Vec<u8>)> {
                m.iter().filter(|(n, _)| n.is_ascii()).map(|(n, x)| (n.clone(), x.clone())).collect()
            };
            assert_eq!(ascii(mine), ascii(v), "{rel}: values of {k}");
        }
    }
}

use std::collections::BTreeMap;

fn recovered_bins(h: &[u8]) -> &[u8] {
    &h[BASE_BLOCK..]
}

/// regipy's SECURITY hive: Windows left it dirty (sequence numbers 107/106)
/// and it comes without logs; it reads as it is, with a notice, as hivex
/// reads it.
#[test]
fn real_world_dirty_hive_without_logs_reads_as_hivex_reads_it() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("regipy/SECURITY");
    let hive = Hive::parse(read(&dir, "regipy/SECURITY")).unwrap();
    let kinds: Vec<_> = hive.notices().iter().map(|n| (n.log, n.kind)).collect();
    assert_eq!(kinds, [(None, ErrorKind::NotFound)]);
    let mut errors = Vec::new();
    let got = dump(&hive, &mut errors);
    assert_eq!(errors, vec![]);
    assert!(got.contains_key("\\Policy\\Accounts\\S-1-5-19\\Sid"));
    if !crate::testing::peer_available("hivexregedit") {
        return;
    }
    let want = hivex_export_path(&path).unwrap();
    let strip = |d: Dump| -> Dump { d.into_iter().filter(|(k, v)| k != "\\" || !v.is_empty()).collect() };
    assert_eq!(strip(got), strip(want));
}

#[test]
fn real_world_new_format_logs_replay_as_windows_10_recovered_them() {
    let Some(dir) = data_dir() else { return };
    let d = "yarp/NewDirtyHive1/";
    for logs in [["NewDirtyHive.LOG1", "NewDirtyHive.LOG2"], ["NewDirtyHive.LOG2", "NewDirtyHive.LOG1"]] {
        let logs = logs.map(|l| format!("{d}{l}"));
        let hive = open_with_logs(&dir, &format!("{d}NewDirtyHive"), &[&logs[0], &logs[1]]);
        let r = hive.recovery().expect("dirty");
        // yarp's test: 4 log entries, both logs applied.
        assert_eq!(r.entries, 4);
        assert_eq!(r.used.len(), 2);
        assert_eq!(hive.notices(), &[]);
        let windows = read(&dir, &format!("{d}RecoveredHive_Windows10"));
        assert_eq!(recovered_bins(hive.bytes()), recovered_bins(&windows), "the bins Windows 10 wrote after recovery");
        assert!(hive.open("Key1").unwrap().is_none());
        let key3 = hive.open("key3").unwrap().expect("Key3");
        assert!(hive.open("Key3\\Key3_3").unwrap().is_some());
        assert_eq!(hive.value(&key3, "").unwrap().unwrap().text().unwrap(), "1".repeat(1440));
    }
    // NewDirtyHive2: only LOG2's entries are new; the sequence ends at 5.
    let d = "yarp/NewDirtyHive2/";
    let hive = open_with_logs(
        &dir,
        &format!("{d}NewDirtyHive"),
        &[&format!("{d}NewDirtyHive.LOG1"), &format!("{d}NewDirtyHive.LOG2")],
    );
    let r = hive.recovery().unwrap();
    assert_eq!(r.used, [1]);
    assert_eq!(r.sequence, Some(5));
}

#[test]
fn real_world_old_format_logs_replay_as_windows_7_recovered_them() {
    let Some(dir) = data_dir() else { return };
    let d = "yarp/OldDirtyHive/";
    let hive = open_with_logs(
        &dir,
        &format!("{d}OldDirtyHive"),
        &[&format!("{d}OldDirtyHive.LOG1"), &format!("{d}OldDirtyHive.LOG2")],
    );
    assert_eq!(hive.recovery().unwrap().used, [0]);
    assert_eq!(hive.notices(), &[]);
    let windows = Hive::parse(read(&dir, &format!("{d}RecoveredHive_Windows7"))).unwrap();
    assert!(hive.open("key_with_many_subkeys\\1").unwrap().is_none());
    assert!(hive.open("key_with_many_subkeys\\5000\\find_me_in_log").unwrap().is_some());
    let k = hive.open("key_with_many_subkeys\\4500").unwrap().unwrap();
    let v = hive.value(&k, "V").unwrap().unwrap();
    assert_eq!(v.strings().unwrap(), ["a", "bb", "ccc"]);
    let wk = windows.open("key_with_many_subkeys\\4500").unwrap().unwrap();
    assert_eq!(Some(v), windows.value(&wk, "v").unwrap());
    let mut errors = Vec::new();
    assert_eq!(dump(&hive, &mut errors), dump(&windows, &mut errors));
    assert_eq!(errors, vec![]);
}

#[test]
fn real_world_bad_base_block_is_recovered_from_the_log() {
    let Some(dir) = data_dir() else { return };
    let d = "yarp/BadBaseBlockHive/";
    let plain = Hive::parse(read(&dir, &format!("{d}BadBaseBlockHive")));
    let hive = open_with_logs(
        &dir,
        &format!("{d}BadBaseBlockHive"),
        &[&format!("{d}BadBaseBlockHive.LOG1"), &format!("{d}BadBaseBlockHive.LOG2")],
    );
    let r = hive.recovery().unwrap();
    assert!(r.base_from_log);
    assert_eq!(r.used, [0]);
    assert!(hive.open("key_with_many_subkeys").unwrap().is_some());
    // Without its log the base block's fields are garbage (yarp: version 1.1).
    assert!(plain.is_err() || plain.unwrap().open("key_with_many_subkeys").is_err());
}

#[test]
fn real_world_bad_logs_are_notices_and_the_hive_still_reads() {
    let Some(dir) = data_dir() else { return };
    for n in 1..=3 {
        let d = format!("yarp/BadLogHive{n}/");
        let hive = open_with_logs(
            &dir,
            &format!("{d}BadLogHive"),
            &[&format!("{d}BadLogHive.LOG1"), &format!("{d}BadLogHive.LOG2")],
        );
        eprintln!("BadLogHive{n}: {:?} {:?}", hive.recovery(), hive.notices());
        let mut errors = Vec::new();
        dump(&hive, &mut errors);
        if n < 3 {
            // yarp refuses these logs (AutoRecoveryException).
            assert_eq!(hive.recovery().unwrap().used, Vec::<usize>::new());
            assert!(hive.notices().iter().any(|n| n.log.is_none() && n.message.contains("may be missing")));
        }
    }
}

#[test]
fn real_world_dirty_hives_replay_the_pages_regipy_counts() {
    let Some(dir) = data_dir() else { return };
    // regipy's tests: 315, 158 and 132 recovered pages.
    for (hive, logs, entries, pages) in [
        ("regipy/SYSTEM_B", &["regipy/SYSTEM_B.LOG1", "regipy/SYSTEM_B.LOG2"][..], 24, 315),
        ("regipy/UsrClass.dat", &["regipy/UsrClass.dat.LOG1", "regipy/UsrClass.dat.LOG2"][..], 14, 158),
        (
            "regipy/transactions_NTUSER.DAT",
            &["regipy/transactions_ntuser.dat.log1", "regipy/transactions_ntuser.dat.log2"][..],
            23,
            132,
        ),
    ] {
        let h = open_with_logs(&dir, hive, logs);
        let r = h.recovery().unwrap();
        eprintln!("{hive}: {} entries, {} pages from {:?}", r.entries, r.pages, r.used);
        assert_eq!((r.entries, r.pages), (entries, pages), "{hive}");
        assert_eq!(h.notices(), &[], "{hive}");
        let before = dump(&Hive::parse(read(&dir, hive)).unwrap(), &mut Vec::new());
        let mut errors = Vec::new();
        let after = dump(&h, &mut errors);
        assert_eq!(errors, vec![], "{hive}");
        let new_keys = after.keys().filter(|k| !before.contains_key(*k)).count();
        eprintln!("{hive}: {} keys before, {} after, {new_keys} new", before.len(), after.len());
        assert!(new_keys > 0, "{hive}: replay adds keys");
    }
}

#[test]
fn real_world_damaged_hives_do_not_panic() {
    let Some(dir) = data_dir() else { return };
    for rel in [
        "regipy/corrupted_system_hive",
        "regipy/ntuser_software_partial",
        "yarp/BadListHive",
        "yarp/BadSubkeyHive",
        "yarp/DuplicateSubkeysHive",
        "yarp/GarbageHive",
        "yarp/TruncatedHive",
        "yarp/TruncatedDirtyHive",
        "yarp/TruncatedNameHive",
        "yarp/InvalidParentHive",
        "yarp/BogusKeyNamesHive",
        "yarp/Carving/0",
        "yarp/Carving/512",
        "yarp/DeletedDataHiveTruncated",
        "yarp/EffectiveSizeHive",
        "yarp/UpcaseHive",
        "yarp/PairHive",
        "yarp/TruncatedPairHive",
        "yarp/TruncatedPairHive2",
        "yarp/WrongOrderHive",
        "yarp/HealedHive",
    ] {
        match Hive::parse(read(&dir, rel)) {
            Ok(hive) => {
                let mut errors = Vec::new();
                let d = dump(&hive, &mut errors);
                eprintln!(
                    "{rel}: {} keys, {} errors, {} notices; first error {:?}",
                    d.len(),
                    errors.len(),
                    hive.notices().len(),
                    errors.first()
                );
            }
            Err(e) => eprintln!("{rel}: refused: {e}"),
        }
    }
}
