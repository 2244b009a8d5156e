//! A SysV init script's LSB header through `sysv::lsb_description`.
#![no_main]

use embargo_tables::collectors::sysv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(d) = sysv::lsb_description(data) {
        assert!(!d.is_empty());
        assert!(String::from_utf8_lossy(data).contains(&d), "{d:?} is not in the script");
    }
});
