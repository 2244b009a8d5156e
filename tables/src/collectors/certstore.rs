//! Windows certificate stores: the registry stores
//! (`SystemCertificates\<store>\Certificates\<SHA-1>\Blob`) of the machine
//! (SOFTWARE), of group policy and the enterprise, and of each user
//! (NTUSER.DAT), and each user's file-based stores
//! (`AppData/Roaming/Microsoft/SystemCertificates/<store>/Certificates/<SHA-1>`).
//!
//! A Blob, and a store file, is Windows' serialized certificate: properties
//! `{u32 id, u32 reserved, u32 length, data}`, one of which (0x20) is the
//! DER. Others used here: 0x0B the friendly name, 0x09 the purposes the
//! store enables (an EKU list).

use crate::collectors::capped::{BAD_RECORD_ROWS, Capped};
use crate::collectors::hive::{RegError, Registry, utf16_until_nul};
use crate::collectors::windows_hives::{HKLM_SOFTWARE, LoadedHive, WindowsHives, key_path};
use crate::collectors::x509::{self, CertCache, CertInfo};
use crate::error::{ErrorKind, FsError};
use crate::root::{EntryType, Root, join};

const PROP_ENHKEY_USAGE: u32 = 0x09;
const PROP_FRIENDLY_NAME: u32 = 0x0B;
const PROP_CERT: u32 = 0x20;
/// A store file is one certificate; real ones are a few KiB.
pub const STORE_FILE_LIMIT: u64 = 1 << 20;

/// The contract's Windows `store_location`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    LocalMachine,
    CurrentUser,
    GroupPolicy,
    Enterprise,
}

impl StoreLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreLocation::LocalMachine => "LocalMachine",
            StoreLocation::CurrentUser => "CurrentUser",
            StoreLocation::GroupPolicy => "GroupPolicy",
            StoreLocation::Enterprise => "Enterprise",
        }
    }
}

/// What a serialized certificate holds besides properties embargo ignores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob<'a> {
    pub der: &'a [u8],
    pub friendly_name: Option<String>,
    /// Purposes the store enables for it; None when it does not restrict.
    pub purposes: Option<Vec<&'static str>>,
}

/// Parses a serialized certificate (a registry Blob or a store file).
pub fn parse_blob(blob: &[u8]) -> Result<Blob<'_>, String> {
    let mut out = Blob { der: &[], friendly_name: None, purposes: None };
    let mut found = false;
    let mut rest = blob;
    while !rest.is_empty() {
        if rest.len() < 12 {
            return Err(format!("{} stray bytes after the last property", rest.len()));
        }
        let id = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let len = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize;
        let body = &rest[12..];
        if len > body.len() {
            return Err(format!("property 0x{id:x} says {len} bytes, {} are left", body.len()));
        }
        let data = &body[..len];
        match id {
            PROP_CERT => {
                out.der = data;
                found = true;
            }
            PROP_FRIENDLY_NAME => out.friendly_name = Some(utf16_until_nul(data)).filter(|s| !s.is_empty()),
            PROP_ENHKEY_USAGE => out.purposes = Some(x509::parse_eku_sequence(data)?),
            _ => {}
        }
        rest = &body[len..];
    }
    if !found {
        return Err("no certificate in it (property 0x20)".into());
    }
    Ok(out)
}

/// Store names as Windows writes them; a key named in another case shows
/// this spelling, so that `store = 'ROOT'` finds user and policy roots too.
const STORE_NAMES: &[&str] = &[
    "ROOT",
    "AuthRoot",
    "CA",
    "Disallowed",
    "TrustedPublisher",
    "TrustedPeople",
    "My",
    "Trust",
    "AddressBook",
    "SmartCardRoot",
    "ClientAuthIssuer",
    "TrustedDevices",
    "Remote Desktop",
    "FlightRoot",
    "TestSignRoot",
    "Homegroup Machine Certificates",
    "Windows Live ID Token Issuer",
    "eSIM Certification Authorities",
    "REQUEST",
];

pub fn canonical_store(name: &str) -> String {
    STORE_NAMES.iter().find(|s| s.eq_ignore_ascii_case(name)).map_or_else(|| name.to_string(), |s| s.to_string())
}

/// `trusted` for the stores whose certificates Windows trusts as anchors
/// or explicitly (roots, trusted publishers and people), `distrusted` for
/// Disallowed, `unspecified` for the rest (intermediates, personal).
pub fn trust_of(store: &str) -> &'static str {
    match store.to_ascii_lowercase().as_str() {
        "disallowed" => "distrusted",
        "root" | "authroot" | "smartcardroot" | "trustedpublisher" | "trustedpeople" => "trusted",
        _ => "unspecified",
    }
}

/// One certificate of one store key or file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreCert {
    pub store: String,
    pub location: StoreLocation,
    pub user: Option<String>,
    /// The key (`HKEY_LOCAL_MACHINE\SOFTWARE\…\Certificates\<SHA-1>`) or
    /// the store file's root-relative path.
    pub path: String,
    /// The key's or file's name: Windows names it by the SHA-1 of the DER.
    pub thumbprint: String,
    pub info: CertInfo,
    pub trust: &'static str,
    pub purposes: Option<Vec<&'static str>>,
    pub friendly_name: Option<String>,
}

/// Where one tree of registry stores is and how its rows are labelled.
pub struct Source<'a> {
    /// Below the hive's root: `Microsoft\SystemCertificates`.
    pub key: &'a str,
    /// Shown key path of the hive's root.
    pub shown: &'a str,
    pub location: StoreLocation,
    pub user: Option<&'a str>,
}

fn cert_of(
    blob: &[u8],
    store: &str,
    thumbprint: String,
    path: String,
    src: (StoreLocation, Option<&str>),
    cache: &mut CertCache,
) -> Result<StoreCert, String> {
    let b = parse_blob(blob)?;
    let (info, _) = cache.parse(b.der)?;
    let store = canonical_store(store);
    Ok(StoreCert {
        trust: trust_of(&store),
        store,
        location: src.0,
        user: src.1.map(str::to_string),
        path,
        thumbprint,
        info,
        purposes: b.purposes,
        friendly_name: b.friendly_name,
    })
}

/// Reads every store under one key of any registry.
pub fn read_registry<R: Registry>(
    reg: &R,
    src: &Source<'_>,
    cache: &mut CertCache,
    each: &mut dyn FnMut(StoreCert),
    bad: &mut dyn FnMut(String, RegError),
) {
    let shown = key_path(src.shown, &[src.key]);
    for (store, skey) in reg.subkeys_under(&reg.root_key(), src.key, &mut |e| bad(shown.clone(), e)) {
        let store_path = key_path(&shown, &[&store, "Certificates"]);
        for (thumb, ckey) in reg.subkeys_under(&skey, "Certificates", &mut |e| bad(store_path.clone(), e)) {
            let path = key_path(&store_path, &[&thumb]);
            let blob = match reg.value(&ckey, "Blob") {
                Ok(Some(v)) => v.data,
                Ok(None) => {
                    bad(path, RegError("no Blob value".into()));
                    continue;
                }
                Err(e) => {
                    bad(path, e);
                    continue;
                }
            };
            match cert_of(&blob, &store, thumb, path.clone(), (src.location, src.user), cache) {
                Ok(c) => each(c),
                Err(e) => bad(path, RegError(format!("Blob: {e}"))),
            }
        }
    }
}

fn read_hive(
    loaded: &LoadedHive,
    sources: &[Source<'_>],
    cache: &mut CertCache,
    each: &mut dyn FnMut(StoreCert),
    bad: &mut dyn FnMut(FsError),
) {
    for p in &loaded.problems {
        bad(p.clone());
    }
    let Some(hive) = &loaded.hive else { return };
    let mut capped = Capped::new(&loaded.path, BAD_RECORD_ROWS, "damaged certificate keys", &mut *bad);
    for src in sources {
        read_registry(hive, src, cache, each, &mut |key, e| capped.push(loaded.error(&key, e)));
    }
    capped.finish();
}

/// A user's file-based stores under `home`.
pub fn read_user_files(
    root: &Root,
    home: &str,
    user: &str,
    cache: &mut CertCache,
    each: &mut dyn FnMut(StoreCert),
    bad: &mut dyn FnMut(FsError),
) {
    let base = format!("{home}/AppData/Roaming/Microsoft/SystemCertificates");
    // An absent folder is no store; one behind a link out of the root
    // (`AppData` pointing elsewhere) hides them.
    let list = |dir: &str, bad: &mut dyn FnMut(FsError)| match root.read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            if e.kind != ErrorKind::NotFound {
                bad(e);
            } else if let Some(e) = root.dangling(dir) {
                bad(e);
            }
            Vec::new()
        }
    };
    let mut capped = Capped::new(&base, BAD_RECORD_ROWS, "bad certificate files", &mut *bad);
    for store in list(&base, &mut |e| capped.push(e)) {
        if store.entry_type != EntryType::Dir {
            continue;
        }
        let dir = format!("{base}/{}/Certificates", store.name);
        for f in list(&dir, &mut |e| capped.push(e)) {
            if !matches!(f.entry_type, EntryType::File | EntryType::Symlink) {
                continue;
            }
            let path = crate::root::lossy(&join(&dir, &f.file_name));
            let data = match root.read_limited(&f.path_in(&dir), STORE_FILE_LIMIT) {
                Ok(d) => d,
                Err(e) => {
                    capped.push(e);
                    continue;
                }
            };
            match cert_of(
                &data,
                &store.name,
                f.name.clone(),
                path.clone(),
                (StoreLocation::CurrentUser, Some(user)),
                cache,
            ) {
                Ok(c) => each(c),
                Err(e) => capped.push(FsError::parse(path, e)),
            }
        }
    }
    capped.finish();
}

/// Every certificate of every store of a Windows root.
pub fn read_all(
    hives: &WindowsHives,
    cache: &mut CertCache,
    mut each: impl FnMut(StoreCert),
    mut bad: impl FnMut(FsError),
) {
    let machine = [
        Source {
            key: "Microsoft\\SystemCertificates",
            shown: HKLM_SOFTWARE,
            location: StoreLocation::LocalMachine,
            user: None,
        },
        Source {
            key: "Policies\\Microsoft\\SystemCertificates",
            shown: HKLM_SOFTWARE,
            location: StoreLocation::GroupPolicy,
            user: None,
        },
        Source {
            key: "Microsoft\\EnterpriseCertificates",
            shown: HKLM_SOFTWARE,
            location: StoreLocation::Enterprise,
            user: None,
        },
    ];
    read_hive(hives.software(), &machine, cache, &mut each, &mut bad);
    for p in hives.users_problems() {
        bad(p.clone());
    }
    for u in hives.users() {
        let prefix = u.key_prefix();
        let user = [
            Source {
                key: "Software\\Microsoft\\SystemCertificates",
                shown: &prefix,
                location: StoreLocation::CurrentUser,
                user: Some(&u.user),
            },
            Source {
                key: "Software\\Policies\\Microsoft\\SystemCertificates",
                shown: &prefix,
                location: StoreLocation::GroupPolicy,
                user: Some(&u.user),
            },
        ];
        read_hive(&u.hive, &user, cache, &mut each, &mut bad);
        read_user_files(hives.root(), &u.home, &u.user, cache, &mut each, &mut bad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::hive::mem::{MemRegistry, binary};

    // SHA-1 fingerprints by `openssl x509 -fingerprint -sha1` of the PEM
    // files under tests/fixtures/certs that make.py stored.
    const KAV: &str = "738FDC3887215C4B14C299DB015B60890448E63F";
    const REVOKED: &str = "64636AAC300564AAF24AF7EE4CDB18723E9F86D7";
    const EXAMPLE: &str = "2332C36A15BD390DD49F3A655961CC8D353053F6";
    const BAKERY: &str = "05FB8947FE05BFB528E2DDFCCC46F4046F14D547";

    fn certs() -> (Vec<StoreCert>, Vec<FsError>) {
        crate::collectors::windows_hives::tests::collect(|h, each, bad| {
            read_all(h, &mut CertCache::default(), each, bad)
        })
    }

    #[test]
    fn stores_come_out_as_the_recipe_wrote_them() {
        let (rows, errors) = certs();
        let got: Vec<_> = rows
            .iter()
            .map(|c| (c.location.as_str(), c.store.as_str(), c.user.as_deref(), c.info.sha1.to_uppercase(), c.trust))
            .collect();
        assert_eq!(
            got,
            [
                ("LocalMachine", "Disallowed", None, REVOKED.to_string(), "distrusted"),
                ("LocalMachine", "ROOT", None, KAV.to_string(), "trusted"),
                ("GroupPolicy", "ROOT", None, EXAMPLE.to_string(), "trusted"),
                ("Enterprise", "ROOT", None, BAKERY.to_string(), "trusted"),
                ("CurrentUser", "ROOT", Some("alice"), EXAMPLE.to_string(), "trusted"),
                ("CurrentUser", "My", Some("alice"), BAKERY.to_string(), "unspecified"),
            ]
        );
        for c in &rows {
            assert_eq!(c.thumbprint, c.info.sha1.to_uppercase(), "Windows names the key by the SHA-1");
        }
        let kav = &rows[1];
        assert_eq!(
            kav.path,
            format!("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates\\{KAV}")
        );
        assert_eq!(kav.info.common_name.as_deref(), Some("Kaspersky Anti-Virus Personal Root Certificate"));
        assert_eq!(rows[0].friendly_name.as_deref(), Some("Revoked Example CA"));
        assert_eq!(rows[2].purposes, Some(vec!["server_auth"]));
        assert_eq!(
            rows[4].path,
            format!("HKEY_USERS\\alice\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\{EXAMPLE}")
        );
        assert_eq!(
            rows[5].path,
            format!("/Users/alice/AppData/Roaming/Microsoft/SystemCertificates/My/Certificates/{BAKERY}")
        );
        // The broken TrustedPublisher blob: one error, naming its key.
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "/Windows/System32/config/SOFTWARE");
        assert!(errors[0].message.contains("TrustedPublisher\\Certificates\\0000000000000000000000000000000000000000: Blob: property 0x20 says 4000 bytes"), "{errors:?}");
    }

    #[test]
    fn blobs_parse_or_say_why_not() {
        let prop = |id: u32, data: &[u8]| {
            let mut v = id.to_le_bytes().to_vec();
            v.extend(1u32.to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend(data);
            v
        };
        let mut b = prop(0x03, &[0; 20]);
        b.extend(prop(0x20, b"DER"));
        assert_eq!(parse_blob(&b).unwrap().der, b"DER");
        assert!(parse_blob(&prop(0x03, &[0; 20])).unwrap_err().contains("no certificate"));
        let mut stray = b.clone();
        stray.extend([1, 2, 3]);
        assert!(parse_blob(&stray).unwrap_err().contains("3 stray bytes"));
        let mut huge = 0x20u32.to_le_bytes().to_vec();
        huge.extend(1u32.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        assert!(parse_blob(&huge).unwrap_err().contains("are left"));
        assert!(parse_blob(&prop(0x09, b"\x30\x03\x06\x01")).is_err());
        assert_eq!(parse_blob(&[]).unwrap_err(), "no certificate in it (property 0x20)");
    }

    #[test]
    fn a_store_key_without_a_blob_or_with_garbage_is_an_error_row() {
        let mut reg = MemRegistry::new();
        reg.key("SC\\CA\\Certificates\\AAAA");
        reg.set("SC\\Root\\Certificates\\BBBB", "Blob", binary(b"junk"));
        let src = Source { key: "SC", shown: "HKLM", location: StoreLocation::LocalMachine, user: None };
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        read_registry(&reg, &src, &mut CertCache::default(), &mut |c| rows.push(c), &mut |k, e| {
            errors.push(format!("{k}: {e}"))
        });
        assert!(rows.is_empty());
        assert_eq!(
            errors,
            [
                "HKLM\\SC\\CA\\Certificates\\AAAA: no Blob value",
                "HKLM\\SC\\Root\\Certificates\\BBBB: Blob: 4 stray bytes after the last property"
            ]
        );
    }

    #[test]
    fn store_names_and_trust() {
        assert_eq!(canonical_store("root"), "ROOT");
        assert_eq!(canonical_store("Custom Store"), "Custom Store");
        assert_eq!(trust_of("ROOT"), "trusted");
        assert_eq!(trust_of("CA"), "unspecified");
        assert_eq!(trust_of("disallowed"), "distrusted");
    }
}
