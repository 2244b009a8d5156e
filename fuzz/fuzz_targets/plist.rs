//! Property lists through `plist::parse` (XML, binary, OpenStep, UTF-16
//! XML), then every macOS record parser on the top dictionary: launchd jobs,
//! bundle Info.plists, receipts, trust settings.
//!
//! Checks besides no panic: what a document expands to is bounded by its
//! size (the budgets against shared-object amplification), nesting is
//! bounded, and a binary plist re-written by the crate parses back to the
//! same value.
#![no_main]

use embargo_tables::collectors::macos_apps::BundleInfo;
use embargo_tables::collectors::plist::{self, Value};
use embargo_tables::collectors::{launchd, receipts, trust_settings};
use libfuzzer_sys::fuzz_target;

/// (values, string and data bytes, depth) of a tree, iteratively.
fn measure(v: &Value) -> (u64, u64, usize) {
    let (mut values, mut text, mut depth) = (0u64, 0u64, 0usize);
    let mut todo = vec![(v, 1usize)];
    while let Some((v, d)) = todo.pop() {
        values += 1;
        depth = depth.max(d);
        match v {
            Value::Array(a) => todo.extend(a.iter().map(|c| (c, d + 1))),
            Value::Dictionary(m) => {
                for (k, c) in m.iter() {
                    values += 1;
                    text += k.len() as u64;
                    todo.push((c, d + 1));
                }
            }
            Value::String(s) => text += s.len() as u64,
            Value::Data(b) => text += b.len() as u64,
            _ => {}
        }
    }
    (values, text, depth)
}

fn has_real(v: &Value) -> bool {
    match v {
        Value::Real(_) | Value::Date(_) => true,
        Value::Array(a) => a.iter().any(has_real),
        Value::Dictionary(m) => m.values().any(has_real),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = plist::parse(data) else { return };
    let len = data.len() as u64;
    let (values, text, depth) = measure(&v);
    assert!(values <= 2 * len + 1024, "{values} values from {len} bytes");
    assert!(text <= 16 * len + (1 << 20), "{text} bytes of text from {len} bytes");
    assert!(depth <= plist::MAX_DEPTH + 1, "depth {depth}");
    // Reals (NaN) and dates (sub-second rounding) do not compare equal after a round trip.
    if !has_real(&v) {
        let mut bin = Vec::new();
        v.to_writer_binary(&mut bin).expect("the crate writes what it read");
        assert_eq!(plist::parse(&bin).as_ref(), Ok(&v), "binary round trip");
    }
    let Value::Dictionary(d) = &v else { return };
    if let Ok(job) = launchd::parse_job(d) {
        assert!(!job.label.is_empty());
        let _ = (job.start_type(), job.command(), job.exec_path());
    }
    let _ = BundleInfo::from_dict(d);
    let _ = receipts::parse(d, "/fuzz.plist");
    for t in trust_settings::parse(d, "/fuzz.plist", &mut |e| embargo_fuzz::check_error(&e)) {
        assert_eq!(t.sha1.len(), 40);
        let _ = (t.trust(), t.purposes());
    }
});
