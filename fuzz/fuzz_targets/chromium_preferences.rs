//! A Chromium profile's `Preferences` (bytes before the first NUL) and
//! `Secure Preferences` (after it) through `read_settings`, and the lenient
//! JSON reader on the whole input.
#![no_main]

use embargo_fuzz::{check_error, root_with};
use embargo_tables::collectors::chromium;
use libfuzzer_sys::fuzz_target;

const PROFILE: &str = "/home/u/.config/google-chrome/Default";

fuzz_target!(|data: &[u8]| {
    // Comments and trailing commas are a superset of JSON: the lenient reader
    // must agree with the strict one on every document both accept.
    if let Ok(strict) = serde_json::from_slice::<serde_json::Value>(chromium::strip_bom(data)) {
        assert_eq!(chromium::parse_lenient(data).as_ref(), Ok(&strict));
    } else {
        let _ = chromium::parse_lenient(data);
    }

    let (prefs, secure) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let prefs_path = format!("{PROFILE}/Preferences");
    let secure_path = format!("{PROFILE}/Secure Preferences");
    let mut files: Vec<(&str, &[u8])> = vec![(&prefs_path, prefs)];
    if let Some(s) = secure {
        files.push((&secure_path, s));
    }
    let root = root_with(&files);
    let mut errors = 0usize;
    let settings = chromium::read_settings(&root, PROFILE, |e| {
        check_error(&e);
        errors += 1;
    });
    assert!(errors <= files.len());
    // Every id is a distinct JSON key of one of the files.
    let keys: usize = settings.keys().map(String::len).sum();
    assert!(keys <= data.len(), "{keys} bytes of ids from {} bytes", data.len());
    for s in settings.values() {
        if let Some(t) = s.install_time {
            assert!(t > 0);
        }
    }
});
