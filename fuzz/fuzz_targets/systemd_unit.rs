//! A unit file: `systemd::parse` on the bytes, and the whole collector on a
//! root holding them as `/etc/systemd/system/fuzz.service`. Bytes after the
//! first NUL become a drop-in of that unit (systemd refuses a NUL in a unit
//! file anyway, so the split loses nothing worth fuzzing).
#![no_main]

use embargo_fuzz::{check_error, root_with};
use embargo_tables::collectors::systemd::{self, Scanner};
use libfuzzer_sys::fuzz_target;

const UNIT: &str = "/etc/systemd/system/fuzz.service";
const DROP_IN: &str = "/etc/systemd/system/fuzz.service.d/override.conf";

fuzz_target!(|data: &[u8]| {
    let (unit, drop_in) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };

    let parsed = systemd::parse(unit);
    assert_eq!(parsed.empty, unit.is_empty());

    let mut files: Vec<(&str, &[u8])> = vec![(UNIT, unit)];
    if let Some(d) = drop_in {
        files.push((DROP_IN, d));
    }
    let root = root_with(&files);
    let scanner = Scanner::new(&root);
    // As installed_services reads them: the listed names, then each unit.
    let units: Vec<_> = scanner.names().into_iter().map(|(name, _)| scanner.unit(&name)).collect();
    assert_eq!(units.len(), 1, "the root has one unit: {units:?}");
    let u = &units[0];
    assert_eq!(u.name, "fuzz.service");
    // Values are copied out of the files (a continuation's backslash becomes
    // a space); bad UTF-8 at worst triples a byte.
    for v in [&u.description, &u.exec_start, &u.user].into_iter().flatten() {
        assert!(v.len() <= 3 * data.len(), "{} bytes of value from {} bytes of input", v.len(), data.len());
    }
    if let Some(e) = &u.exec_start
        && let Some(program) = systemd::exec_program(e)
    {
        assert!(!program.is_empty() && program.len() <= e.len(), "program {program:?} of {e:?}");
    }
    let _ = u.state.as_str();
    for e in scanner.take_errors() {
        check_error(&e);
    }
});
