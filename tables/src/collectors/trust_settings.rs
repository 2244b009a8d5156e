//! Admin trust settings: `Library/Security/Trust Settings/Admin.plist`, what
//! `security add-trusted-cert -d` writes. It holds no certificates, only
//! settings keyed by the certificate's SHA-1 (uppercase hex): the table
//! layer joins them to the certificates of the keychains by that digest.
//!
//! Each certificate has a list of settings, one per policy (SSL, S/MIME,
//! code signing, ...), each with a result. An empty list means "trust as a
//! root for everything"; a setting without a result means TrustRoot
//! (Apple's `SecTrustSettings.h`).

use crate::collectors::plist;
use crate::collectors::x509::hex;
use crate::error::FsError;
use crate::root::Root;

pub const ADMIN: &str = "/Library/Security/Trust Settings/Admin.plist";

/// `kSecTrustSettingsResult` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustResult {
    TrustRoot,
    TrustAsRoot,
    Deny,
    Unspecified,
    Other(i64),
}

impl TrustResult {
    pub fn from_code(n: i64) -> Self {
        match n {
            1 => TrustResult::TrustRoot,
            2 => TrustResult::TrustAsRoot,
            3 => TrustResult::Deny,
            4 => TrustResult::Unspecified,
            n => TrustResult::Other(n),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrustResult::TrustRoot => "trust_root",
            TrustResult::TrustAsRoot => "trust_as_root",
            TrustResult::Deny => "deny",
            TrustResult::Unspecified => "unspecified",
            TrustResult::Other(_) => "other",
        }
    }

    fn trusts(self) -> bool {
        matches!(self, TrustResult::TrustRoot | TrustResult::TrustAsRoot)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// `kSecTrustSettingsPolicyName` (`sslServer`, `SMIME`, `CodeSigning`,
    /// `basicX509`, ...), else the name of the policy OID when it is a known one.
    pub policy: Option<String>,
    pub result: TrustResult,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustEntry {
    /// Lowercase hex, as the contract's `sha1`.
    pub sha1: String,
    pub issuer: Option<Vec<u8>>,
    /// Lowercase hex of the serial's bytes.
    pub serial: Option<String>,
    pub mod_time: Option<i64>,
    pub settings: Vec<Setting>,
    pub path: String,
}

impl TrustEntry {
    /// The contract's trust word: `trusted` when some setting trusts it,
    /// `distrusted` when settings deny it and none trusts it, else `unspecified`.
    pub fn trust(&self) -> &'static str {
        if self.settings.is_empty() || self.settings.iter().any(|s| s.result.trusts()) {
            "trusted"
        } else if self.settings.iter().any(|s| s.result == TrustResult::Deny) {
            "distrusted"
        } else {
            "unspecified"
        }
    }

    /// The contract's purposes that the trusting settings name; all of them
    /// when a trusting setting names no policy (it applies to every one).
    pub fn purposes(&self) -> Vec<&'static str> {
        const ALL: [&str; 4] = ["server_auth", "client_auth", "code_signing", "email"];
        let trusting: Vec<&Setting> = self.settings.iter().filter(|s| s.result.trusts()).collect();
        if self.settings.is_empty() || trusting.iter().any(|s| s.policy.is_none()) {
            return ALL.to_vec();
        }
        let mut out: Vec<&'static str> = Vec::new();
        for s in trusting {
            let p = match s.policy.as_deref() {
                Some("sslServer" | "SSL") => "server_auth",
                Some("sslClient") => "client_auth",
                Some("CodeSigning") => "code_signing",
                Some("SMIME") => "email",
                _ => continue,
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// The names of Apple's policy OIDs (1.2.840.113635.100.1.x) that
/// `kSecTrustSettingsPolicy` holds as raw OID content bytes.
fn policy_name(oid: &[u8]) -> Option<&'static str> {
    const APPLE_POLICY: [u8; 8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64, 0x01];
    match oid.strip_prefix(&APPLE_POLICY)? {
        [0x02] => Some("basicX509"),
        [0x03] => Some("sslServer"),
        [0x08] => Some("SMIME"),
        [0x10] => Some("CodeSigning"),
        _ => None,
    }
}

pub fn parse(d: &plist::Dictionary, path: &str, report: &mut dyn FnMut(FsError)) -> Vec<TrustEntry> {
    let Some(list) = plist::dict(d, "trustList") else {
        report(FsError::parse(path, "no trustList dictionary"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, v) in list.iter() {
        let sha1 = key.to_ascii_lowercase();
        if sha1.len() != 40 || !sha1.bytes().all(|b| b.is_ascii_hexdigit()) {
            report(FsError::parse(path, format!("trustList key {key:?} is not a SHA-1 in hex")));
            continue;
        }
        let Some(e) = v.as_dictionary() else {
            report(FsError::parse(path, format!("trustList[{key}] is {}, not a dictionary", plist::kind(v))));
            continue;
        };
        let settings = e
            .get("trustSettings")
            .and_then(plist::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(plist::Value::as_dictionary)
                    .map(|s| Setting {
                        policy: plist::string(s, "kSecTrustSettingsPolicyName").or_else(|| {
                            s.get("kSecTrustSettingsPolicy")
                                .and_then(plist::Value::as_data)
                                .and_then(policy_name)
                                .map(str::to_string)
                        }),
                        result: TrustResult::from_code(plist::integer(s, "kSecTrustSettingsResult").unwrap_or(1)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(TrustEntry {
            sha1,
            issuer: e.get("issuerName").and_then(plist::Value::as_data).map(<[u8]>::to_vec),
            serial: e.get("serialNumber").and_then(plist::Value::as_data).map(hex),
            mod_time: plist::unix_time(e, "modDate"),
            settings,
            path: path.to_string(),
        });
    }
    out
}

/// The admin trust settings; none when the file is absent.
pub fn read(root: &Root, report: &mut dyn FnMut(FsError)) -> Vec<TrustEntry> {
    match plist::read_dict_if_present(root, ADMIN) {
        Ok(None) => Vec::new(),
        Ok(Some(d)) => parse(&d, ADMIN, report),
        Err(e) => {
            report(e);
            Vec::new()
        }
    }
}
