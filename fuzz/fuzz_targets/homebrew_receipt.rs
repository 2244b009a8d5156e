//! Homebrew: `homebrew::read` on a root whose kegs and `INSTALL_RECEIPT.json`
//! come from the input. Before the first NUL, up to 8 lines `name/version`
//! (any bytes but `/` and NUL) are formula kegs under
//! `/opt/homebrew/Cellar`, each holding the receipt, which is the rest of
//! the input; a cask `/usr/local/Caskroom/fuzzcask/2.0` (with the
//! `.metadata` folder a real Caskroom has) is always there.
//!
//! Checks besides no panic: exactly the kegs made are listed, once each,
//! named as their folders; a cask has no install time; a formula's install
//! time is an integer written in the receipt, and the same for every keg
//! (they share the receipt); a receipt that is not JSON is one parse_error
//! row naming it, per keg; nothing else is reported.
#![no_main]

use std::collections::BTreeSet;

use embargo_fuzz::{check_error, root_built};
use embargo_tables::ErrorKind;
use embargo_tables::collectors::homebrew::{self, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (layout, receipt) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"fuzz/1.0"[..], data),
    };
    let mut kegs = BTreeSet::new();
    for line in layout.split(|&b| b == b'\n').take(8) {
        let mut parts = line.splitn(2, |&b| b == b'/');
        let (Some(name), Some(version)) = (parts.next(), parts.next()) else { continue };
        let ok = |p: &[u8]| !p.is_empty() && p[0] != b'.' && !p.contains(&b'/') && p.len() <= 200;
        if ok(name) && ok(version) {
            kegs.insert((name.to_vec(), version.to_vec()));
        }
    }
    let root = root_built(|base| {
        use std::os::unix::ffi::OsStrExt;
        for (name, version) in &kegs {
            let dir = base
                .join("opt/homebrew/Cellar")
                .join(std::ffi::OsStr::from_bytes(name))
                .join(std::ffi::OsStr::from_bytes(version));
            std::fs::create_dir_all(&dir).expect("keg dir");
            std::fs::write(dir.join("INSTALL_RECEIPT.json"), receipt).expect("receipt");
        }
        std::fs::create_dir_all(base.join("usr/local/Caskroom/fuzzcask/2.0")).expect("cask dir");
        std::fs::create_dir_all(base.join("usr/local/Caskroom/fuzzcask/.metadata")).expect("cask metadata");
    });
    let mut errors = Vec::new();
    let got = homebrew::read(&root, &mut |e| {
        check_error(&e);
        errors.push(e)
    });

    let casks: Vec<_> = got.iter().filter(|k| k.kind == Kind::Cask).collect();
    assert_eq!(casks.len(), 1, "{got:?}");
    assert_eq!((casks[0].name.as_str(), casks[0].version.as_str()), ("fuzzcask", "2.0"));
    assert_eq!(casks[0].install_time, None);
    let formulae: Vec<_> = got.iter().filter(|k| k.kind == Kind::Formula).collect();
    let want: BTreeSet<(String, String)> = kegs
        .iter()
        .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
        .collect();
    let have: BTreeSet<(String, String)> = formulae.iter().map(|k| (k.name.clone(), k.version.clone())).collect();
    assert_eq!(formulae.len(), kegs.len(), "a keg listed twice or missed");
    if want.len() == kegs.len() {
        assert_eq!(have, want);
    }
    let text = String::from_utf8_lossy(receipt);
    let mut time = None;
    for k in &formulae {
        assert_eq!(k.prefix, "/opt/homebrew");
        assert!(k.path.starts_with("/opt/homebrew/Cellar/"));
        let utf8 = !k.name.contains('\u{fffd}') && !k.version.contains('\u{fffd}');
        if let Some(t) = k.install_time {
            assert!(text.contains(&t.to_string()), "install time {t} is not in the receipt");
        }
        if utf8 {
            assert_eq!(*time.get_or_insert(k.install_time), k.install_time, "kegs sharing a receipt disagree");
        }
    }
    let is_json = serde_json::from_slice::<serde_json::Value>(receipt).is_ok();
    for e in &errors {
        assert!(e.path.ends_with("/INSTALL_RECEIPT.json"), "{e:?}");
        if e.kind == ErrorKind::ParseError {
            assert!(!is_json, "a JSON receipt reported as unparsable: {e:?}");
        }
    }
    let parse_errors = errors.iter().filter(|e| e.kind == ErrorKind::ParseError).count();
    if !is_json {
        let plain = formulae.iter().filter(|k| !k.name.contains('\u{fffd}') && !k.version.contains('\u{fffd}')).count();
        assert!(parse_errors >= plain, "{parse_errors} parse errors for {plain} unparsable receipts");
    } else {
        assert_eq!(parse_errors, 0);
    }
    assert!(errors.len() <= kegs.len(), "{errors:?}");
});
