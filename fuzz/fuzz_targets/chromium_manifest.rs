//! A Chromium extension's `manifest.json` through `read_manifest` (lenient
//! JSON, field extraction, `__MSG_key__` localisation). Bytes after the first
//! NUL become `_locales/en/messages.json` of the same version directory.
#![no_main]

use embargo_fuzz::{check_error, root_with, text_len};
use embargo_tables::collectors::chromium;
use libfuzzer_sys::fuzz_target;

const ID: &str = "abcdefghijklmnopabcdefghijklmnop";
const DIR: &str = "/home/u/.config/google-chrome/Default/Extensions/abcdefghijklmnopabcdefghijklmnop/1.0_0";

fuzz_target!(|data: &[u8]| {
    let (manifest, messages) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let manifest_path = format!("{DIR}/manifest.json");
    let messages_path = format!("{DIR}/_locales/en/messages.json");
    let root = root_with(&[(&manifest_path, manifest), (&messages_path, messages)]);
    let mut errors = 0usize;
    let r = chromium::read_manifest(&root, DIR, ID, &mut |e| {
        check_error(&e);
        errors += 1;
    });
    assert!(errors <= 1, "one messages file, {errors} errors");
    let ext = match r {
        Ok(Some(ext)) => ext,
        Ok(None) => panic!("the manifest exists but read_manifest saw none"),
        Err(e) => return check_error(&e),
    };
    assert_eq!((ext.id.as_str(), ext.dir.as_str(), ext.manifest_path.as_str()), (ID, DIR, manifest_path.as_str()));
    // Each value is copied from one place in the JSON (unescaping only
    // shortens), and a message replaces a `__MSG_key__` reference. What a
    // row holds must stay within a small multiple of what the files hold:
    // a scanned image is untrusted, and a reference repeated many times to
    // one long message must not multiply memory.
    let fields = [
        ext.name.as_deref(),
        ext.version.as_deref(),
        ext.description.as_deref(),
        ext.author.as_deref(),
        ext.homepage_url.as_deref(),
        ext.update_url.as_deref(),
    ];
    let len = text_len(fields) + ext.permissions.iter().map(String::len).sum::<usize>();
    assert!(len <= 8 * data.len() + 64, "{len} bytes of fields from {} bytes of files", data.len());
});
