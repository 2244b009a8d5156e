//! NSS certificate databases (`cert9.db`, SQLite): `~/.pki/nssdb`, Firefox and
//! Thunderbird profiles, `/etc/pki/nssdb`.
//!
//! One table, `nssPublic`; each column is `a` + the lowercase hex PKCS#11
//! attribute type, values are raw bytes (ULONGs 4-byte big-endian). Certificate
//! objects carry the DER in CKA_VALUE; NSS trust objects are matched to them by
//! issuer and serial number. The database is untrusted (a local user owns
//! their profile's): [`sqlite_file`] opens a private copy, so SQLite never
//! opens a file of the scanned system and never waits on a lock.

use std::collections::HashMap;

use rusqlite::Connection;

use super::sqlite_file;
use crate::error::FsError;
use crate::root::Root;

const CKO_CERTIFICATE: u32 = 0x0000_0001;
const CKO_NSS_TRUST: u32 = 0xce53_4353;

/// CKT_NSS_* trust values.
pub const TRUSTED_DELEGATOR: u32 = 0xce53_4352;
pub const TRUSTED: u32 = 0xce53_4351;
pub const NOT_TRUSTED: u32 = 0xce53_435a;

/// Per-purpose trust, in the order server_auth, client_auth, code_signing, email.
pub const PURPOSES: [&str; 4] = ["server_auth", "client_auth", "code_signing", "email"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NssCert {
    pub nickname: Option<String>,
    pub der: Vec<u8>,
    /// CKA_TRUST_* values of the matching trust object; `None` when there is none.
    pub trust: Option<[Option<u32>; 4]>,
}

impl NssCert {
    /// `trusted` when any purpose is TRUSTED_DELEGATOR or TRUSTED; `distrusted`
    /// when server_auth (or every purpose that is set) is NOT_TRUSTED;
    /// otherwise `unspecified`.
    pub fn trust_word(&self) -> &'static str {
        let Some(t) = &self.trust else {
            return "unspecified";
        };
        if t.iter().flatten().any(|&v| v == TRUSTED_DELEGATOR || v == TRUSTED) {
            return "trusted";
        }
        let set: Vec<u32> = t.iter().flatten().copied().collect();
        if t[0] == Some(NOT_TRUSTED) || (!set.is_empty() && set.iter().all(|&v| v == NOT_TRUSTED)) {
            return "distrusted";
        }
        "unspecified"
    }

    /// The purposes the database trusts this certificate for.
    pub fn purposes(&self) -> Vec<&'static str> {
        let Some(t) = &self.trust else {
            return Vec::new();
        };
        PURPOSES
            .iter()
            .zip(t)
            .filter(|(_, v)| matches!(v, Some(TRUSTED_DELEGATOR) | Some(TRUSTED)))
            .map(|(p, _)| *p)
            .collect()
    }
}

/// What reading one cert9.db may cost. A Firefox profile's is well under
/// 1 MiB; one holding thousands of certificates is a few MiB.
pub const LIMITS: sqlite_file::Limits = sqlite_file::Limits {
    label: "NSS database",
    file_bytes: 64 << 20,
    total_bytes: 128 << 20,
    // A certificate is a few KiB; CKA_VALUE of the largest real ones < 64 KiB.
    value_bytes: 16 << 20,
    // 150 certificates take about 5 000 steps.
    vm_steps: 20_000_000,
    time: std::time::Duration::from_secs(20),
};

/// Reads the certificates of the cert9.db at `path` inside `root`. Problems
/// that still leave the database readable go to `note`.
pub fn read_cert9(
    root: &Root,
    path: &(impl AsRef<std::ffi::OsStr> + ?Sized),
    note: impl FnMut(FsError),
) -> Result<Vec<NssCert>, FsError> {
    let db = sqlite_file::open(root, path, &LIMITS, note)?;
    db.table("nssPublic")?;
    query(db.conn()).map_err(|e| db.error(e))
}

type TrustKey = (Vec<u8>, Vec<u8>);

fn query(conn: &Connection) -> rusqlite::Result<Vec<NssCert>> {
    let mut trust: HashMap<TrustKey, [Option<u32>; 4]> = HashMap::new();
    let mut stmt = conn
        .prepare("SELECT a0, a81, a82, ace536358, ace536359, ace53635a, ace53635b FROM main.nssPublic WHERE a0 = ?1")?;
    let mut rows = stmt.query([CKO_NSS_TRUST.to_be_bytes().to_vec()])?;
    while let Some(r) = rows.next()? {
        let (Some(issuer), Some(serial)) = (blob(r.get_ref(1)?), blob(r.get_ref(2)?)) else {
            continue;
        };
        let mut t = [None; 4];
        for (i, slot) in t.iter_mut().enumerate() {
            *slot = blob(r.get_ref(3 + i)?).and_then(ulong);
        }
        trust.insert((issuer, serial), t);
    }
    let mut out = Vec::new();
    let mut stmt = conn.prepare("SELECT a3, a11, a81, a82 FROM main.nssPublic WHERE a0 = ?1")?;
    let mut rows = stmt.query([CKO_CERTIFICATE.to_be_bytes().to_vec()])?;
    while let Some(r) = rows.next()? {
        let Some(der) = blob(r.get_ref(1)?) else {
            continue;
        };
        let nickname = blob(r.get_ref(0)?).map(|b| String::from_utf8_lossy(&b).into_owned());
        let key = (blob(r.get_ref(2)?).unwrap_or_default(), blob(r.get_ref(3)?).unwrap_or_default());
        out.push(NssCert { nickname, der, trust: trust.get(&key).copied() });
    }
    Ok(out)
}

/// A column's bytes; NSS writes `A5 00 5A` for an attribute that is present but empty.
fn blob(v: rusqlite::types::ValueRef<'_>) -> Option<Vec<u8>> {
    let b = match v {
        rusqlite::types::ValueRef::Blob(b) => b,
        rusqlite::types::ValueRef::Text(t) => t,
        _ => return None,
    };
    if b == [0xa5, 0x00, 0x5a] { None } else { Some(b.to_vec()) }
}

fn ulong(b: Vec<u8>) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(t: [Option<u32>; 4]) -> NssCert {
        NssCert { nickname: None, der: Vec::new(), trust: Some(t) }
    }

    #[test]
    fn trust_words() {
        const MUST_VERIFY: u32 = 0xce53_4353;
        let c = cert([Some(TRUSTED_DELEGATOR), Some(MUST_VERIFY), Some(MUST_VERIFY), Some(MUST_VERIFY)]);
        assert_eq!((c.trust_word(), c.purposes()), ("trusted", vec!["server_auth"]));
        let c = cert([Some(NOT_TRUSTED), Some(NOT_TRUSTED), None, None]);
        assert_eq!((c.trust_word(), c.purposes()), ("distrusted", vec![]));
        let c = cert([Some(MUST_VERIFY), None, None, Some(TRUSTED)]);
        assert_eq!((c.trust_word(), c.purposes()), ("trusted", vec!["email"]));
        let c = cert([Some(MUST_VERIFY); 4]);
        assert_eq!(c.trust_word(), "unspecified");
        assert_eq!(NssCert { nickname: None, der: vec![], trust: None }.trust_word(), "unspecified");
    }
}
