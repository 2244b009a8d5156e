//! osquery's query context JSON through `context::query` for every table:
//! a query or a typed error, and a query asks only for values the input
//! holds.
#![no_main]

use embargo_osquery::context;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for table in embargo_tables::tables::all() {
        let spec = table.spec();
        match context::query(spec, Some(text)) {
            Ok(q) => {
                let values: usize = q.constraints().iter().flat_map(|c| c.texts()).map(|t| t.len()).sum();
                // JSON escapes only shorten: every value's bytes are bounded by the input.
                assert!(values <= text.len(), "{values} bytes of values from {} bytes", text.len());
                for c in q.constraints() {
                    let col = spec.column_index(c.column).expect("a constrained column is the table's");
                    assert!(spec.columns[col].options.index, "only index columns reach the generator");
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
