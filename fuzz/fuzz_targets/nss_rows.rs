//! NSS cert9.db rows: the input describes rows of `nssPublic` (the columns
//! `nss.rs` reads), the target writes them into a real SQLite file in a
//! scratch root and reads it back with `read_cert9`, then through the x509
//! parser as the table does.
//!
//! Input: rows of 9 values (id, a0, a3 label, a11 value, a81 issuer, a82
//! serial, the four CKA_TRUST_* columns minus id = 9); each value is a tag
//! byte then its payload:
//! 0 NULL; 1 BLOB (u16 BE length, bytes); 2 TEXT (same, lossy UTF-8);
//! 3 INTEGER (8 bytes BE); 4 NSS's empty marker `A5 00 5A`; 5 a ULONG
//! (4 bytes BE, stored as a 4-byte BLOB). Tags are taken mod 6.
#![no_main]

use embargo_fuzz::{host_path, root_built};
use embargo_tables::collectors::nss::{self, PURPOSES};
use embargo_tables::collectors::x509::CertCache;
use libfuzzer_sys::fuzz_target;
use rusqlite::types::Value;

const DB: &str = "/etc/pki/nssdb/cert9.db";
const COLUMNS: [&str; 9] = ["a0", "a3", "a11", "a81", "a82", "ace536358", "ace536359", "ace53635a", "ace53635b"];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn sized(&mut self) -> Option<Vec<u8>> {
        let n = self.take(2)?;
        let n = u16::from_be_bytes([n[0], n[1]]) as usize;
        Some(self.take(n.min(self.0.len()))?.to_vec())
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.take(1)?[0] % 6 {
            0 => Value::Null,
            1 => Value::Blob(self.sized()?),
            2 => Value::Text(String::from_utf8_lossy(&self.sized()?).into_owned()),
            3 => Value::Integer(i64::from_be_bytes(self.take(8)?.try_into().ok()?)),
            4 => Value::Blob(vec![0xa5, 0x00, 0x5a]),
            _ => Value::Blob(self.take(4)?.to_vec()),
        })
    }
}

/// The bytes `nss.rs` sees in a column: BLOB and TEXT alike, the empty marker as nothing.
fn bytes(v: &Value) -> Option<Vec<u8>> {
    let b = match v {
        Value::Blob(b) => b.clone(),
        Value::Text(t) => t.as_bytes().to_vec(),
        _ => return None,
    };
    (b != [0xa5, 0x00, 0x5a]).then_some(b)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut rows: Vec<Vec<Value>> = Vec::new();
    'rows: while !input.0.is_empty() && rows.len() < 64 {
        let mut row = Vec::with_capacity(COLUMNS.len());
        for _ in COLUMNS {
            match input.value() {
                Some(v) => row.push(v),
                None => break 'rows,
            }
        }
        rows.push(row);
    }

    let root = root_built(|base| {
        let mut conn = rusqlite::Connection::open(host_path(base, DB)).expect("scratch db");
        conn.execute_batch(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
             CREATE TABLE nssPublic (id PRIMARY KEY UNIQUE ON CONFLICT ABORT, a0, a3, a11, a81, a82,
                 ace536358, ace536359, ace53635a, ace53635b);",
        )
        .expect("schema");
        let tx = conn.transaction().expect("transaction");
        {
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO nssPublic VALUES (?1, {})",
                    (2..=10).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
                ))
                .expect("insert");
            for (id, row) in rows.iter().enumerate() {
                let id = id as i64;
                let mut params: Vec<&dyn rusqlite::ToSql> = vec![&id];
                params.extend(row.iter().map(|v| v as &dyn rusqlite::ToSql));
                insert.execute(params.as_slice()).expect("row");
            }
        }
        tx.commit().expect("commit");
    });

    let certs = match nss::read_cert9(&root, DB, |_| {}) {
        Ok(c) => c,
        Err(e) => panic!("a well-formed cert9.db was refused: {e}"),
    };
    // Exactly the certificate objects that carry a value, with it unchanged.
    let mut expected: Vec<Vec<u8>> = rows
        .iter()
        .filter(|r| matches!(&r[0], Value::Blob(b) if b[..] == [0, 0, 0, 1]))
        .filter_map(|r| bytes(&r[2]))
        .collect();
    let mut got: Vec<Vec<u8>> = certs.iter().map(|c| c.der.clone()).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "certificate values read back differ from those written");

    let mut cache = CertCache::default();
    for c in &certs {
        assert!(["trusted", "distrusted", "unspecified"].contains(&c.trust_word()));
        for p in c.purposes() {
            assert!(PURPOSES.contains(&p));
        }
        if let Err(e) = cache.parse(&c.der) {
            assert!(!e.is_empty());
        }
    }
});
