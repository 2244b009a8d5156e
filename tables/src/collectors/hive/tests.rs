//! The reader against hivex (the hives are hivex-made, and `hivexregedit
//! --export` dumps them independently), against the recipe in
//! tests/fixtures/windows/make.py, and on damaged copies of those hives.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

pub(crate) fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/windows")
}

pub(crate) fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const SOFTWARE: &str = "root/Windows/System32/config/SOFTWARE";
const SYSTEM: &str = "root/Windows/System32/config/SYSTEM";
const NTUSER: &str = "root/Users/alice/NTUSER.DAT";

pub(super) type Dump = BTreeMap<String, BTreeMap<String, (u32, Vec<u8>)>>;

/// Every key (path from the root, `\`-joined, as hivexregedit prints it)
/// with its values.
pub(super) fn dump(hive: &Hive, errors: &mut Vec<RegError>) -> Dump {
    let mut out = Dump::new();
    let mut bad = |e| errors.push(e);
    let mut keys = Vec::new();
    hive.walk(hive.root_key(), &mut |path, key| keys.push((format!("\\{}", path.join("\\")), key)), &mut bad);
    for (path, key) in keys {
        let values = hive.values(&key, &mut bad).into_iter().map(|(n, v)| (n, (v.kind, v.data))).collect();
        out.insert(path, values);
    }
    out
}

fn unhex(s: &str) -> Vec<u8> {
    s.split(',').filter(|p| !p.is_empty()).map(|p| u8::from_str_radix(p, 16).expect("hex byte")).collect()
}

/// `hivexregedit --export` of a whole hive, parsed.
fn hivex_export(rel: &str) -> Option<Dump> {
    if !crate::testing::peer_available("hivexregedit") {
        return None;
    }
    Some(hivex_export_path(&fixture_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

/// `hivexregedit --export` of the hive at `path`; Err when hivex refuses it.
pub(super) fn hivex_export_path(path: &std::path::Path) -> Result<Dump, String> {
    let out = std::process::Command::new("hivexregedit")
        .arg("--export")
        .arg(path)
        .arg("\\")
        .output()
        .expect("run hivexregedit");
    if !out.status.success() {
        return Err(format!("hivexregedit: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dump = Dump::new();
    let mut current = None;
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        if let Some(key) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let key = if key == "\\" { String::new() } else { key.to_string() };
            dump.entry(format!("\\{}", key.trim_start_matches('\\'))).or_default();
            current = Some(format!("\\{}", key.trim_start_matches('\\')));
            continue;
        }
        let (name, rest) = if let Some(rest) = line.strip_prefix("@=") {
            (String::new(), rest)
        } else {
            let body = line.strip_prefix('"').expect("a value line");
            let end = body.find("\"=").expect("end of the value name");
            (body[..end].replace("\\\"", "\"").replace("\\\\", "\\"), &body[end + 2..])
        };
        let (kind, data) = if let Some(d) = rest.strip_prefix("dword:") {
            (kind::DWORD, u32::from_str_radix(d, 16).expect("dword").to_le_bytes().to_vec())
        } else {
            let inner = rest.strip_prefix("hex(").expect("hex(N):");
            let (k, bytes) = inner.split_once("):").expect("hex(N):");
            (u32::from_str_radix(k, 16).expect("type"), unhex(bytes))
        };
        dump.get_mut(current.as_ref().expect("a key before values")).expect("key").insert(name, (kind, data));
    }
    Ok(dump)
}

#[test]
fn every_fixture_hive_reads_as_hivexregedit_exports_it() {
    for rel in [SOFTWARE, SYSTEM, NTUSER, "dirty/new/expected", "dirty/old/expected"] {
        let Some(want) = hivex_export(rel) else { return };
        let hive = Hive::parse(fixture(rel)).unwrap();
        assert_eq!(hive.notices(), &[], "{rel}");
        let mut errors = Vec::new();
        let got = dump(&hive, &mut errors);
        assert_eq!(errors, vec![], "{rel}");
        // hivexregedit prints no section for the root itself when it has no
        // values; compare the rest exactly.
        let strip = |d: Dump| -> Dump { d.into_iter().filter(|(k, v)| k != "\\" || !v.is_empty()).collect() };
        assert_eq!(strip(got), strip(want), "{rel}");
    }
}

fn types_key(hive: &Hive) -> u32 {
    hive.open("EmbargoFixture\\Types").unwrap().expect("EmbargoFixture\\Types")
}

#[test]
fn value_types_decode_as_the_recipe_wrote_them() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let k = types_key(&hive);
    let v = |name: &str| hive.value(&k, name).unwrap().unwrap_or_else(|| panic!("value {name}"));
    assert_eq!(v("").text().as_deref(), Some("default value"));
    assert_eq!(v("Sz").text().as_deref(), Some("text"));
    assert_eq!(v("Expand").kind, kind::EXPAND_SZ);
    assert_eq!(v("Expand").text().as_deref(), Some("%SystemRoot%\\system32"));
    assert_eq!(v("Multi").strings(), Some(vec!["one".to_string(), "two".into(), "three".into()]));
    assert_eq!(v("Dword").number(), Some(0x1234_5678));
    assert_eq!(v("DwordBE").number(), Some(0x1234_5678));
    assert_eq!(v("Qword").number(), Some(0x1122_3344_5566_7788));
    assert_eq!(v("Binary").data, (0..=255u8).collect::<Vec<_>>());
    assert_eq!(v("Binary").text(), None);
    // 40,000 bytes: three big-data segments.
    let big: Vec<u8> = (0..40000u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(v("BigBinary").data, big);
    assert_eq!(v("BigString").text(), Some("x".repeat(20000)));
    assert_eq!(v("OddLength").text().as_deref(), Some("AB"));
    assert_eq!(v("NoTerminator").text().as_deref(), Some("AB"));
    assert_eq!(v("Empty").text().as_deref(), Some(""));
    assert_eq!(hive.value(&k, "missing").unwrap(), None);
}

#[test]
fn lookups_ignore_case_as_windows_does() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let a = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip").unwrap().expect("7-Zip");
    let b = hive.open("\\MICROSOFT\\windows\\currentVERSION\\uninstall\\7-zip").unwrap();
    assert_eq!(Some(a), b);
    let k = types_key(&hive);
    assert_eq!(hive.value(&k, "dWoRd").unwrap().and_then(|v| v.number()), Some(0x1234_5678));
    assert_eq!(hive.open("Microsoft\\Nope").unwrap(), None);
}

#[test]
fn names_compare_by_uppercase_characters() {
    let n = RawName { bytes: "Ünïcödé".as_bytes(), compressed: false };
    let wide: Vec<u8> = "Ünïcödé".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let n16 = RawName { bytes: &wide, compressed: false };
    assert!(n16.matches("üNÏCÖDÉ"));
    assert!(!n16.matches("Unicode"));
    let latin = RawName { bytes: b"\xdcber", compressed: true };
    assert!(latin.matches("über"));
    assert!(!n.matches("Ünïcödé"), "UTF-8 bytes are not UTF-16");
    // ß has no one-character uppercase; Windows keeps it.
    assert!(RawName { bytes: b"stra\xdfe", compressed: true }.matches("STRAßE"));
    assert!(!RawName { bytes: b"stra\xdfe", compressed: true }.matches("STRASSE"));
}

#[test]
fn marvin32_matches_published_values_and_a_windows_log() {
    use super::marvin::{LOG_SEED, marvin32};
    let fold = |h: u64| (h >> 32) as u32 ^ h as u32;
    assert_eq!(fold(marvin32(LOG_SEED, b"")), 0xB008_92AC);
    assert_eq!(fold(marvin32(LOG_SEED, b"hello, world!")), 0x00C1_8515);
    // The first entry of a log written by make.py's own Marvin32 copy.
    let log = fixture("dirty/new/HIVE.LOG1");
    let e = &log[512..];
    let size = le32(e, 4) as usize;
    assert_eq!(marvin32(LOG_SEED, &e[40..size]), u64::from_le_bytes(e[24..32].try_into().unwrap()));
}

// ---------------------------------------------------------------- dirty --

fn bins(h: &[u8]) -> &[u8] {
    &h[BASE_BLOCK..BASE_BLOCK + le32(h, 40) as usize]
}

fn logs<'a>(files: &'a [(&'a str, Vec<u8>)]) -> Vec<LogFile<'a>> {
    files.iter().map(|(name, data)| LogFile { name, data }).collect()
}

#[test]
fn a_dirty_hive_replays_new_format_logs_across_both_files() {
    let files = [("HIVE.LOG1", fixture("dirty/new/HIVE.LOG1")), ("HIVE.LOG2", fixture("dirty/new/HIVE.LOG2"))];
    let expected = fixture("dirty/new/expected");
    for order in [[0, 1], [1, 0]] {
        let given: Vec<_> = order.iter().map(|&i| files[i].clone()).collect();
        let hive = Hive::parse_with_logs(fixture("dirty/new/HIVE"), &logs(&given)).unwrap();
        let r = hive.recovery().expect("the hive is dirty");
        assert_eq!(r.entries, 2);
        // LOG1 holds the earlier entry, whatever order the files come in.
        let used: Vec<&str> = r.used.iter().map(|&i| given[i].0).collect();
        assert_eq!(used, ["HIVE.LOG1", "HIVE.LOG2"]);
        assert_eq!(hive.notices(), &[]);
        assert_eq!(bins(hive.bytes()), bins(&expected), "the replayed bins are the hive hivex wrote last");
        let late = hive.open("Uninstall\\Late").unwrap().expect("key from the second entry");
        assert_eq!(
            hive.value(&late, "DisplayName").unwrap().unwrap().text().unwrap(),
            "Installed after the last hive write"
        );
        assert!(!BaseBlock::parse(hive.bytes()).unwrap().is_dirty());
    }
}

#[test]
fn a_dirty_hive_without_logs_is_read_as_it_is_with_a_notice() {
    let hive = Hive::parse(fixture("dirty/new/HIVE")).unwrap();
    assert_eq!(hive.notices().len(), 1);
    assert_eq!(hive.notices()[0].kind, ErrorKind::NotFound);
    assert!(hive.notices()[0].message.contains("may be missing"), "{:?}", hive.notices());
    let zip = hive.open("Uninstall\\7-Zip").unwrap().expect("7-Zip is in the stale hive");
    assert_eq!(hive.value(&zip, "DisplayVersion").unwrap().unwrap().text().unwrap(), "23.01");
    assert_eq!(hive.open("Uninstall\\Late").unwrap(), None);
}

#[test]
fn a_log_with_a_bad_hash_is_not_applied() {
    let mut log1 = fixture("dirty/new/HIVE.LOG1");
    let last = log1.len() - 1;
    log1[last] ^= 1;
    let files = [("HIVE.LOG1", log1), ("HIVE.LOG2", fixture("dirty/new/HIVE.LOG2"))];
    let hive = Hive::parse_with_logs(fixture("dirty/new/HIVE"), &logs(&files)).unwrap();
    // Entry 40 is damaged, so 41 has nothing to follow: nothing applies.
    assert_eq!(hive.recovery().unwrap().entries, 0);
    assert_eq!(hive.notices().len(), 1);
    assert_eq!(hive.notices()[0].log, None);
    assert!(hive.open("Uninstall\\7-Zip").unwrap().is_some());
}

#[test]
fn a_dirty_hive_replays_an_old_format_log() {
    let files = [("HIVE.LOG", fixture("dirty/old/HIVE.LOG"))];
    let hive = Hive::parse_with_logs(fixture("dirty/old/HIVE"), &logs(&files)).unwrap();
    let r = hive.recovery().unwrap();
    assert_eq!(r.used, [0]);
    assert!(r.pages > 0);
    assert_eq!(hive.notices(), &[]);
    assert_eq!(bins(hive.bytes()), bins(&fixture("dirty/old/expected")));
}

#[test]
fn an_old_log_of_another_hive_state_is_refused_with_a_notice() {
    let mut log = fixture("dirty/old/HIVE.LOG");
    log[12] ^= 0xFF; // the timestamp
    let c = checksum(&log);
    log[508..512].copy_from_slice(&c.to_le_bytes());
    let files = [("HIVE.LOG", log)];
    let hive = Hive::parse_with_logs(fixture("dirty/old/HIVE"), &logs(&files)).unwrap();
    let logs_said: Vec<_> = hive.notices().iter().map(|n| (n.log, n.kind)).collect();
    assert_eq!(logs_said, [(Some(0), ErrorKind::ParseError), (None, ErrorKind::ParseError)]);
    assert!(hive.open("Uninstall\\7-Zip").unwrap().is_some());
}

// -------------------------------------------------------------- hostile --

/// The offset of a key's `nk` cell in the file.
fn nk_at(hive: &Hive, path: &str) -> usize {
    BASE_BLOCK + hive.open(path).unwrap().unwrap_or_else(|| panic!("{path}")) as usize
}

/// Offsets (in the file) of a field of the key's `nk` (after the cell size).
fn nk_field(hive: &Hive, path: &str, field: usize) -> usize {
    nk_at(hive, path) + 4 + field
}

fn put32(data: &mut [u8], at: usize, v: u32) {
    data[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn uninstall_names(hive: &Hive, errors: &mut Vec<RegError>) -> Vec<String> {
    let k = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall").unwrap().unwrap();
    hive.subkeys(&k, &mut |e| errors.push(e)).into_iter().map(|(n, _)| n).collect()
}

#[test]
fn a_bad_header_checksum_is_a_notice_and_the_hive_reads() {
    let mut data = fixture(SOFTWARE);
    data[100] ^= 1;
    let hive = Hive::parse(data).unwrap();
    assert_eq!(hive.notices().len(), 1);
    assert!(hive.notices()[0].message.contains("checksum"), "{:?}", hive.notices());
    let mut errors = Vec::new();
    assert_eq!(uninstall_names(&hive, &mut errors).len(), 7);
    assert_eq!(errors, vec![]);
}

#[test]
fn a_truncated_hive_reads_what_is_left() {
    let full = fixture(SOFTWARE);
    let whole = dump(&Hive::parse(full.clone()).unwrap(), &mut Vec::new());
    for cut in [full.len() - 5000, full.len() / 2, BASE_BLOCK + 4096 + 100] {
        let truncated = Hive::parse(full[..cut].to_vec()).unwrap();
        assert!(truncated.notices().iter().any(|n| n.message.contains("truncated")), "{:?}", truncated.notices());
        let mut errors = Vec::new();
        let part = dump(&truncated, &mut errors);
        assert!(!errors.is_empty(), "keys past the cut are errors");
        assert!(part.len() < whole.len());
        // What is still read is what the whole hive holds, values and all.
        for (key, values) in &part {
            let all = &whole[key];
            for (name, v) in values {
                assert_eq!(Some(v), all.get(name), "{key}\\{name}");
            }
        }
    }
}

#[test]
fn a_missing_hive_bin_ends_the_bins_with_a_notice() {
    let mut data = fixture(SOFTWARE);
    // The second bin's signature.
    let second = BASE_BLOCK + le32(&data, BASE_BLOCK + 8) as usize;
    data[second..second + 4].copy_from_slice(b"XXXX");
    let hive = Hive::parse(data).unwrap();
    assert!(hive.notices().iter().any(|n| n.message.contains("no hive bin at offset")), "{:?}", hive.notices());
    assert_eq!(hive.bins.len(), 1);
}

#[test]
fn an_out_of_range_subkey_offset_fails_that_key_only() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let mut data = hive.bytes().to_vec();
    // 7-Zip's nk: point its value list far outside the hive.
    put32(&mut data, nk_field(&hive, "Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip", 40), 0x7FFF_0000);
    // The Uninstall list: its first element out of range.
    let uninstall = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall").unwrap().unwrap();
    let list = le32(&data, BASE_BLOCK + uninstall as usize + 4 + 28) as usize;
    put32(&mut data, BASE_BLOCK + list + 4 + 4, 0xFFFF_FFF0);
    let bad = Hive::parse(data).unwrap();
    let mut errors = Vec::new();
    let names = uninstall_names(&bad, &mut errors);
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].0.contains("outside the hive bins"), "{errors:?}");
    let zip = bad.open("Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip");
    // 7-Zip may be the element that was broken; either way no panic, and
    // when reachable its value lookup is an error.
    if let Ok(Some(zip)) = zip {
        assert!(bad.value(&zip, "DisplayName").is_err());
    }
}

#[test]
fn a_subkey_list_that_contains_itself_is_an_error_not_a_loop() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let mut data = hive.bytes().to_vec();
    let uninstall = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall").unwrap().unwrap();
    let list = le32(&data, BASE_BLOCK + uninstall as usize + 4 + 28);
    // Make the list an index root whose first element is the list itself.
    let at = BASE_BLOCK + list as usize + 4;
    data[at..at + 2].copy_from_slice(b"ri");
    put32(&mut data, at + 4, list);
    let bad = Hive::parse(data).unwrap();
    let mut errors = Vec::new();
    uninstall_names(&bad, &mut errors);
    assert!(errors.iter().any(|e| e.0.contains("index root") && e.0.contains("inside an index root")), "{errors:?}");
    let mut walk_errors = Vec::new();
    dump(&bad, &mut walk_errors);
}

#[test]
fn a_key_listed_under_its_own_subkey_is_read_once() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let mut data = hive.bytes().to_vec();
    // EmbargoFixture's one subkey (Types) replaced by the root: a cycle.
    let fixture_key = hive.open("EmbargoFixture").unwrap().unwrap();
    let list = le32(&data, BASE_BLOCK + fixture_key as usize + 4 + 28) as usize;
    put32(&mut data, BASE_BLOCK + list + 4 + 4, hive.root_key());
    let bad = Hive::parse(data).unwrap();
    let mut errors = Vec::new();
    let got = dump(&bad, &mut errors);
    assert!(errors.iter().any(|e| e.0.contains("listed under more than one key")), "{errors:?}");
    assert!(got.contains_key("\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\7-Zip"));
}

fn value_cell(hive: &Hive, key: &str, name: &str) -> usize {
    let k = hive.open(key).unwrap().unwrap();
    let nk = hive.nk(k).unwrap();
    for off in hive.value_offsets(k, &nk).unwrap() {
        if hive.vk(off).unwrap().0.matches(name) {
            return BASE_BLOCK + off as usize;
        }
    }
    panic!("{key}\\{name}")
}

#[test]
fn an_absurd_value_length_fails_that_value_only() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let mut data = hive.bytes().to_vec();
    let vk = value_cell(&hive, "EmbargoFixture\\Types", "Binary");
    put32(&mut data, vk + 4 + 4, 0x7FFF_FFF0);
    let inline = value_cell(&hive, "EmbargoFixture\\Types", "Sz");
    put32(&mut data, inline + 4 + 4, 0x8000_0400);
    let bad = Hive::parse(data).unwrap();
    let k = types_key(&bad);
    let e = bad.value(&k, "Binary").unwrap_err();
    assert!(e.0.contains("more than the whole hive"), "{e}");
    assert!(bad.value(&k, "Sz").unwrap_err().0.contains("stored in the value itself"));
    assert_eq!(bad.value(&k, "Dword").unwrap().unwrap().number(), Some(0x1234_5678));
    let mut errors = Vec::new();
    let values = bad.values(&k, &mut |e| errors.push(e));
    assert_eq!(values.len(), 11);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// hivex stores even a 40,000-byte value in one cell. To test big data
/// (`db`, Windows' form for data over 16,344 bytes), BigBinary's cell is
/// carved into two segments, a segment list and a `db` record holding its
/// first 30,000 bytes, and the value is pointed at the `db`.
fn with_big_data(hive: &Hive) -> (Vec<u8>, usize) {
    let mut data = hive.bytes().to_vec();
    let vk = value_cell(hive, "EmbargoFixture\\Types", "BigBinary");
    let cell = le32(&data, vk + 4 + 8) as usize;
    let at = BASE_BLOCK + cell;
    let len = (le32(&data, at) as i32).unsigned_abs() as usize;
    let pattern: Vec<u8> = (0..30000u32).map(|i| (i * 7) as u8).collect();
    let put_cell = |data: &mut Vec<u8>, off: usize, size: usize, body: &[u8]| {
        put32(data, BASE_BLOCK + off, (-(size as i32)) as u32);
        data[BASE_BLOCK + off + 4..BASE_BLOCK + off + 4 + body.len()].copy_from_slice(body);
    };
    let (seg1, seg2) = (cell, cell + 16352);
    let list = seg2 + 13664;
    let db = list + 16;
    put_cell(&mut data, seg1, 16352, &pattern[..SEGMENT]);
    put_cell(&mut data, seg2, 13664, &pattern[SEGMENT..]);
    let mut l = Vec::new();
    l.extend_from_slice(&(seg1 as u32).to_le_bytes());
    l.extend_from_slice(&(seg2 as u32).to_le_bytes());
    put_cell(&mut data, list, 16, &l);
    let mut d = b"db".to_vec();
    d.extend_from_slice(&2u16.to_le_bytes());
    d.extend_from_slice(&(list as u32).to_le_bytes());
    put_cell(&mut data, db, 16, &d);
    let used = db + 16 - cell;
    put32(&mut data, BASE_BLOCK + db + 16, (len - used) as u32); // the rest, free
    put32(&mut data, vk + 4 + 4, 30000);
    put32(&mut data, vk + 4 + 8, db as u32);
    (data, BASE_BLOCK + list)
}

#[test]
fn big_data_values_are_joined_from_their_segments() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let (data, _) = with_big_data(&hive);
    let big = Hive::parse(data).unwrap();
    let v = big.value(&types_key(&big), "BigBinary").unwrap().unwrap();
    assert_eq!(v.data, (0..30000u32).map(|i| (i * 7) as u8).collect::<Vec<_>>());
}

#[test]
fn big_data_that_names_a_segment_twice_is_refused() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let (mut data, list) = with_big_data(&hive);
    let first = le32(&data, list + 4);
    put32(&mut data, list + 8, first);
    let bad = Hive::parse(data).unwrap();
    let e = bad.value(&types_key(&bad), "BigBinary").unwrap_err();
    assert!(e.0.contains("one segment twice"), "{e}");
}

#[test]
fn bytes_handed_out_are_bounded_by_the_budget() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    hive.budget.store(50_000, Ordering::Relaxed);
    let k = types_key(&hive);
    assert_eq!(hive.value(&k, "BigBinary").unwrap().unwrap().data.len(), 40000);
    let e = hive.value(&k, "BigBinary").unwrap_err();
    assert!(e.0.contains("more names, data and lists read"), "{e}");
}

#[test]
fn list_scans_are_charged_too() {
    // A subkey list shared by many keys is read once per key: with the
    // budget spent, lookups stop instead of scanning on.
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let k = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall").unwrap().unwrap();
    hive.budget.store(10, Ordering::Relaxed);
    let mut errors = Vec::new();
    assert_eq!(hive.subkeys(&k, &mut |e| errors.push(e)), vec![]);
    assert!(errors[0].0.contains("more names, data and lists read"), "{errors:?}");
    assert!(hive.subkey(&k, "7-Zip").is_err());
    assert!(hive.value(&k, "x").is_err() || hive.value(&k, "x").unwrap().is_none());
}

#[test]
fn not_a_hive_and_short_files_are_errors() {
    assert!(Hive::parse(vec![0; 100]).unwrap_err().0.contains("shorter"));
    assert!(Hive::parse(vec![0; 8192]).unwrap_err().0.contains("no regf signature"));
    let mut data = fixture(SOFTWARE);
    put32(&mut data, 20, 2);
    assert!(Hive::parse(data).unwrap_err().0.contains("not supported"));
}

#[test]
fn a_wrong_root_offset_falls_back_to_the_flagged_root_key() {
    let mut data = fixture(SYSTEM);
    put32(&mut data, 36, 0x10);
    let c = checksum(&data);
    put32(&mut data, 508, c);
    let hive = Hive::parse(data).unwrap();
    assert_eq!(hive.notices().len(), 1, "{:?}", hive.notices());
    assert!(hive.open("Select").unwrap().is_some());
}

#[test]
fn every_prefix_of_a_hive_parses_or_fails_without_panic() {
    let data = fixture("dirty/new/expected");
    for len in (0..data.len()).step_by(509) {
        if let Ok(hive) = Hive::parse(data[..len].to_vec()) {
            dump(&hive, &mut Vec::new());
        }
    }
}

#[test]
fn a_dirty_hive_without_logs_reads_as_hivex_reads_it() {
    // make.py's mid-write hive (sequence numbers 40/39), opened without its
    // logs: every key and value as hivexregedit exports the same file.
    let rel = "dirty/new/HIVE";
    let hive = Hive::parse(fixture(rel)).unwrap();
    let kinds: Vec<_> = hive.notices().iter().map(|n| (n.log, n.kind)).collect();
    assert_eq!(kinds, [(None, ErrorKind::NotFound)]);
    let mut errors = Vec::new();
    let got = dump(&hive, &mut errors);
    assert_eq!(errors, vec![]);
    assert!(got.contains_key("\\Uninstall\\7-Zip"), "{:?}", got.keys().collect::<Vec<_>>());
    let Some(want) = hivex_export(rel) else { return };
    let strip = |d: Dump| -> Dump { d.into_iter().filter(|(k, v)| k != "\\" || !v.is_empty()).collect() };
    assert_eq!(strip(got), strip(want));
}

#[test]
fn values_named_answers_as_the_value_listing_does() {
    let hive = Hive::parse(fixture(SOFTWARE)).unwrap();
    let mut keys = Vec::new();
    hive.walk(hive.root_key(), &mut |_, k| keys.push(k), &mut |e| panic!("{e}"));
    for k in keys {
        let listed = hive.values(&k, &mut |e| panic!("{e}"));
        let mut names: Vec<String> = listed.iter().map(|(n, _)| n.to_uppercase()).collect();
        names.reverse();
        names.push("NoSuchValue".into());
        let asked: Vec<&str> = names.iter().map(String::as_str).collect();
        let got = hive.values_named(&k, &asked);
        for (name, answer) in asked.iter().zip(got) {
            let want = listed.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            assert_eq!(answer.unwrap(), want, "{name}");
        }
    }
}

/// Through a whole scan: the Uninstall key's subkey list names the key
/// itself. The scan does not loop; one parse_error row names the hive, and
/// every other Uninstall entry, and alice's per-user ones, are still listed.
#[test]
fn a_subkey_list_that_names_its_key_is_a_row_in_a_scan_and_the_rest_is_listed() {
    use crate::query::Query;
    use crate::table::Table;
    let rows_of = |software: &[u8]| {
        let dir = tempfile::tempdir().unwrap();
        for (rel, bytes) in
            [("Windows/System32/config/SOFTWARE", software.to_vec()), ("Users/alice/NTUSER.DAT", fixture(NTUSER))]
        {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let scan = crate::Scan::new(crate::Root::new(dir.path()).unwrap());
        let rows = crate::tables::installed_software::TABLE.generate(&scan.ctx("installed_software"), &Query::all());
        let spec = crate::tables::installed_software::TABLE.spec();
        let col = |n: &str| spec.columns.iter().position(|c| c.name == n).unwrap();
        let text = |r, c| match rows.cell(r, c) {
            crate::ValueRef::Text(t) => t.to_string(),
            _ => String::new(),
        };
        let mut got: Vec<(String, String)> =
            (0..rows.len()).map(|r| (text(r, col("user")), text(r, col("name")))).collect();
        got.sort();
        (got, scan.errors.snapshot())
    };
    let good = fixture(SOFTWARE);
    let (all, errors) = rows_of(&good);
    assert!(errors.is_empty(), "{errors:?}");
    let hive = Hive::parse(good.clone()).unwrap();
    let uninstall = hive.open("Microsoft\\Windows\\CurrentVersion\\Uninstall").unwrap().unwrap();
    let list = le32(&good, BASE_BLOCK + uninstall as usize + 4 + 28) as usize;
    let mut bad = good.clone();
    // The list's first element (offset, hash) now names Uninstall itself.
    put32(&mut bad, BASE_BLOCK + list + 4 + 4, uninstall);
    let (got, errors) = rows_of(&bad);
    let hive_rows: Vec<_> = errors.iter().filter(|e| e.path == "/Windows/System32/config/SOFTWARE").collect();
    assert_eq!(hive_rows.len(), 1, "{errors:?}");
    assert_eq!(hive_rows[0].kind, crate::ErrorKind::ParseError);
    assert!(hive_rows[0].message.contains("names the key itself"), "{}", hive_rows[0].message);
    // One machine-wide entry lost with the element it overwrote; the rest,
    // and every per-user row, are still there.
    assert_eq!(got.len(), all.len() - 1, "{got:?}\n{all:?}");
    assert!(got.iter().all(|r| all.contains(r)), "{got:?}");
    assert!(got.iter().any(|(user, _)| user == "alice"), "{got:?}");
}
