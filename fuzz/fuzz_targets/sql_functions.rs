//! osquery's SQL functions and collations (`embargo_sqlite::register_functions`)
//! on arbitrary text: the first byte picks an index, the rest is `a NUL b`
//! (a query can hand them any value of a scanned image).
//!
//! Checks besides no panic: `version_compare` is -1/0/1, antisymmetric and
//! agrees with its collation in every flavor; `split` gives a trimmed piece
//! of the value holding no token byte; `concat`/`concat_ws` join exactly;
//! `regex_match` gives a piece of the value, and refuses a pattern over 256
//! bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};

thread_local! {
    static CONN: Connection = {
        let c = Connection::open_in_memory().unwrap();
        embargo_sqlite::register_functions(&c).unwrap();
        c
    };
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// A result as SQLite holds it: osquery's functions cut bytes, so text
/// need not be UTF-8 (a multi-byte character split at one of its bytes).
fn one(c: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Value, rusqlite::Error> {
    c.query_row(sql, args, |r| {
        Ok(match r.get_ref(0)? {
            ValueRef::Text(t) | ValueRef::Blob(t) => Value::Blob(t.to_vec()),
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
        })
    })
}

fn text(s: &str) -> Value {
    Value::Blob(s.as_bytes().to_vec())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    // No NUL inside either: osquery's functions stop at one, its collations
    // do not, and these checks compare the two.
    let mut parts = rest.split(|&x| x == 0);
    let (a, b) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (a, b) = (String::from_utf8_lossy(a).into_owned(), String::from_utf8_lossy(b).into_owned());
    CONN.with(|c| {
        for (flavor, collation) in
            [("", "version"), ("ARCH", "version_arch"), ("dpkg", "version_dpkg"), ("Rhel", "version_rhel")]
        {
            let cmp = |l: &str, r: &str| -> i64 {
                let v = if flavor.is_empty() {
                    one(c, "SELECT version_compare(?1, ?2)", &[&l, &r])
                } else {
                    one(c, "SELECT version_compare(?1, ?2, ?3)", &[&l, &r, &flavor])
                };
                match v.unwrap() {
                    Value::Integer(i) => i,
                    other => panic!("version_compare gave {other:?}"),
                }
            };
            let (ab, ba) = (cmp(&a, &b), cmp(&b, &a));
            assert!((-1..=1).contains(&ab), "{ab}");
            assert_eq!(ab, -ba, "{flavor}: not antisymmetric");
            let lt = one(c, &format!("SELECT ?1 < ?2 COLLATE {collation}"), &[&a, &b]).unwrap();
            let eq = one(c, &format!("SELECT ?1 = ?2 COLLATE {collation}"), &[&a, &b]).unwrap();
            assert_eq!(lt, Value::Integer((ab < 0) as i64), "{collation} <");
            assert_eq!(eq, Value::Integer((ab == 0) as i64), "{collation} =");
        }

        let index = i64::from(pick % 8) - 1;
        match one(c, "SELECT split(?1, ?2, ?3)", &[&a, &b, &index]) {
            Err(e) => assert!(b.is_empty(), "split failed with tokens {b:?}: {e}"),
            Ok(Value::Null) => {}
            Ok(Value::Blob(p)) => {
                assert!(contains(a.as_bytes(), &p), "piece not in the value");
                assert!(!p.iter().any(|x| b.as_bytes().contains(x)), "piece holds a token");
                let space = |x: &u8| matches!(x, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
                assert!(p.first().is_none_or(|x| !space(x)) && p.last().is_none_or(|x| !space(x)), "untrimmed");
            }
            Ok(other) => panic!("split gave {other:?}"),
        }

        let joined = one(c, "SELECT concat_ws(?2, ?1, NULL, ?1)", &[&a, &b]).unwrap();
        let sep = &b;
        // osquery's separator follows every non-NULL argument but the last.
        assert_eq!(joined, text(&format!("{a}{sep}{a}")));
        assert_eq!(one(c, "SELECT concat(?1, NULL, ?2)", &[&a, &b]).unwrap(), text(&format!("{a}{b}")));

        match one(c, "SELECT regex_match(?1, ?2, ?3)", &[&a, &b, &index]) {
            Err(e) => assert!(e.to_string().contains("Invalid regex"), "{e}"),
            Ok(Value::Null) => {}
            Ok(Value::Blob(m)) => {
                assert!(b.len() <= 256, "a {}-byte pattern ran", b.len());
                assert!(contains(a.as_bytes(), &m), "match not in the value");
            }
            Ok(other) => panic!("regex_match gave {other:?}"),
        }
    });
});
