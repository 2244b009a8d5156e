//! `installed_certificates`: every certificate in the root's trust stores.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};

use crate::collectors::pem_stores::{self, FileCert};
use crate::collectors::{certstore, keychain, nss, trust_settings, x509};
use crate::error::{ErrorKind, FsError};
use crate::query::Query;
use crate::root::{Root, join, lossy, rsplit_name};
use crate::table::{Ctx, OsFamily};

crate::declare_table! {
    /// One row per certificate per store file (or database).
    pub struct InstalledCertificate {
        /// The subject's first commonName.
        common_name: Text,
        /// Subject as one line, OpenSSL style: `/C=US/O=Org/CN=Name`; inside a value `/ , + = \` and control characters are hex pairs (`O=Acme\2C Inc.`), so separators only separate.
        subject: Text,
        /// Issuer as one line, written as `subject` is.
        issuer: Text,
        /// The subject's first organizationName.
        organization: Text,
        /// Serial number, lowercase hex without separators or leading zero bytes.
        serial: Text,
        /// Start of validity, Unix seconds UTC.
        not_valid_before: BigInt,
        /// End of validity, Unix seconds UTC.
        not_valid_after: BigInt,
        /// SHA-1 of the certificate's DER as stored, lowercase hex.
        sha1: Text [index],
        /// SHA-256 of the certificate's DER as stored, lowercase hex.
        sha256: Text [index],
        /// Public-key algorithm, OpenSSL's name (`rsaEncryption`, `id-ecPublicKey`).
        key_algorithm: Text,
        /// Public-key size in bits.
        key_strength: Integer,
        /// Signature algorithm, OpenSSL's name (`sha256WithRSAEncryption`).
        signing_algorithm: Text,
        /// 1 when basicConstraints says the certificate is a CA.
        ca: Integer,
        /// 1 when the certificate names itself as issuer (OpenSSL's X509_check_issued on itself; the signature is not verified).
        self_signed: Integer,
        /// Store kind: bundle, directory, anchor or nss on Linux; the keychain's file name on macOS (System.keychain, SystemRootCertificates.keychain, login.keychain-db); the store's registry name on Windows (ROOT, AuthRoot, CA, TrustedPublisher, Disallowed, …).
        store: Text [index],
        /// system or user (Linux, macOS); LocalMachine, CurrentUser, GroupPolicy or Enterprise (Windows).
        store_location: Text,
        /// trusted, distrusted or unspecified, as the store says. On macOS the admin trust settings (Library/Security/Trust Settings/Admin.plist, by SHA-1) decide; without one a certificate of SystemRootCertificates.keychain is trusted (Apple's anchors) and any other unspecified. On Windows the store decides: Disallowed is distrusted; ROOT, AuthRoot, SmartCardRoot, TrustedPublisher and TrustedPeople trusted; any other store (CA, My, …) unspecified.
        trust: Text,
        /// Comma list of purposes the store trusts it for (server_auth, client_auth, code_signing, email), where the store says.
        purposes: Text,
        /// Owner of a per-user store.
        user: Text,
        /// The store file the certificate was read from; on Windows the certificate's registry key (`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\SystemCertificates\ROOT\Certificates\<SHA-1>`) or a user's store file.
        path: Text,
    }

    table installed_certificates {
        description: "Certificates in the scanned root's trust stores: on Linux system bundles, OpenSSL's certificate directory, update-ca-certificates and p11-kit anchors and blocklists, and NSS databases (system, ~/.pki, Firefox, Thunderbird); on macOS the System, SystemRootCertificates and users' login keychains, with the admin trust settings; on Windows every registry store of the machine (SOFTWARE: SystemCertificates, group policy, enterprise) and of each user (NTUSER.DAT: SystemCertificates and group policy), and each user's file stores (AppData/Roaming/Microsoft/SystemCertificates).",
        class: Evidence,
        prefetch: First,
        reads: [Linux, Windows, Macos],
        examples: [
            "SELECT common_name, store, trust, path FROM installed_certificates WHERE subject LIKE '%Kaspersky%'",
            "SELECT store, trust, count(*) FROM installed_certificates GROUP BY store, trust",
        ],
        generate: generate,
    }
}

/// One store file to read.
struct StoreFile {
    store: &'static str,
    trust: &'static str,
    /// Exact, to open; rows show it lossy.
    path: OsString,
    is_link: bool,
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledCertificate> {
    let mut rows = match ctx.scan.os_family() {
        OsFamily::Macos => from_keychains(ctx, q),
        OsFamily::Windows => from_windows_stores(ctx, q),
        _ => from_linux_stores(ctx, q),
    };
    if q.restricts("sha1") {
        rows.retain(|r| r.sha1.as_deref().is_some_and(|d| q.admits("sha1", d)));
    }
    if q.restricts("sha256") {
        rows.retain(|r| r.sha256.as_deref().is_some_and(|d| q.admits("sha256", d)));
    }
    rows
}

fn from_linux_stores(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledCertificate> {
    let root = ctx.root();
    let mut rows = Vec::new();
    let mut cache = x509::CertCache::default();
    // Files read so far, by resolved path: a file reached again through a
    // link (a `<hash>.0` link, `/etc/ssl/certs/foo.pem` pointing at an anchor,
    // the bundle's own entry in `/etc/ssl/certs`) belongs to the store that
    // claimed it first. Stores the query does not want still claim their
    // files, so that a pushed-down `store = ...` gives the same rows as a full scan.
    let mut seen: HashSet<OsString> = HashSet::new();
    // Listed paths already claimed: a `<hash>.0 -> name.pem` link to one of
    // them is known to be claimed without walking the target's links again.
    let mut claimed: HashSet<OsString> = HashSet::new();
    for f in store_files(ctx, q) {
        if f.is_link && links_to_claimed(root, &f.path, &claimed) {
            continue;
        }
        if !q.admits("store", f.store) {
            if let Ok(r) = root.resolve(&f.path) {
                seen.insert(r.raw_path);
                claimed.insert(f.path);
            }
            continue;
        }
        // Opening resolves the path once, for both the claim and the read.
        let Some((mut file, resolved)) = ctx.ok_if_present(root.open_capped(&f.path, pem_stores::BUNDLE_LIMIT)) else {
            continue;
        };
        if !seen.insert(resolved.raw_path) {
            continue;
        }
        claimed.insert(f.path.clone());
        let shown = lossy(&f.path);
        let result = pem_stores::read_cert_file(
            &mut file,
            &shown,
            &mut cache,
            |c: FileCert| {
                let (trust, purposes) = match &c.aux {
                    Some(aux) => aux_trust(aux),
                    None => (f.trust, None),
                };
                rows.push(row(c.info, f.store, "system", trust, purposes, None, &shown));
            },
            |e| ctx.report(e),
        );
        ctx.ok(result);
    }
    if q.admits("store", "nss") {
        from_nss(ctx, &mut cache, &mut rows);
    }
    rows
}

fn from_windows_stores(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledCertificate> {
    let hives = super::windows_hives(ctx);
    let mut cache = x509::CertCache::default();
    let mut rows = Vec::new();
    certstore::read_all(
        &hives,
        &mut cache,
        |c| {
            if !q.admits("store", &c.store) {
                return;
            }
            let purposes = c.purposes.map(|p| p.join(","));
            rows.push(row(c.info, &c.store, c.location.as_str(), c.trust, purposes, c.user, &c.path));
        },
        |e| ctx.report(e),
    );
    rows
}

/// The keychains of a macOS root: (path, location, user, trust when no
/// admin setting names the certificate).
fn keychains(ctx: &Ctx<'_>) -> Vec<(OsString, &'static str, Option<String>, &'static str)> {
    let mut out = vec![
        (keychain::SYSTEM_KEYCHAIN.into(), "system", None, "unspecified"),
        // Apple's anchors: trusted by the system trust store unless an admin says otherwise.
        (keychain::SYSTEM_ROOTS.into(), "system", None, "trusted"),
    ];
    for (user, home) in &super::mac_homes(ctx).0 {
        for name in ["login.keychain-db", "login.keychain"] {
            out.push((join(home, format!("Library/Keychains/{name}")), "user", Some(user.clone()), "unspecified"));
        }
    }
    out
}

/// Keychain certificates, each with the admin trust setting of its SHA-1.
/// The settings apply to every keychain: they are the admin domain's.
fn from_keychains(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledCertificate> {
    let root = ctx.root();
    let admin = trust_settings::read(root, &mut |e| ctx.report(e));
    let mut cache = x509::CertCache::default();
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for (exact, location, user, default_trust) in keychains(ctx) {
        // Opened by the exact path (a home's name may not be UTF-8), shown lossy.
        let path = lossy(&exact);
        let store = path.rsplit('/').next().unwrap_or(&path).to_string();
        if !q.admits("store", &store) {
            continue;
        }
        // A keychain reached again through a link is the one already read.
        if let Ok(r) = root.resolve(&exact)
            && !seen.insert(r.raw_path)
        {
            continue;
        }
        let Some(Some(certs)) = ctx.ok(keychain::read(root, &exact, &mut |e| ctx.report(e))) else {
            continue;
        };
        for (i, c) in certs.into_iter().enumerate() {
            let info = match cache.parse(&c.der) {
                Ok((info, _)) => info,
                Err(e) => {
                    let label = c.print_name.unwrap_or_else(|| format!("record {i}"));
                    ctx.report(FsError::parse(&path, format!("certificate {label:?}: {e}")));
                    continue;
                }
            };
            let setting = admin.iter().find(|t| t.sha1 == info.sha1);
            let (trust, purposes) = match setting {
                Some(t) => {
                    let p = t.purposes();
                    (t.trust(), (t.trust() == "trusted" && !p.is_empty()).then(|| p.join(",")))
                }
                None => (default_trust, None),
            };
            rows.push(row(info, &store, location, trust, purposes, user.clone(), &path));
        }
    }
    rows
}

/// The store files to read, in claiming order: bundles, then anchor folders,
/// then the certificate directory.
fn store_files(ctx: &Ctx<'_>, q: &Query) -> Vec<StoreFile> {
    let root = ctx.root();
    let mut out = Vec::new();
    let mut claim = |store: &'static str, trust: &'static str, path: OsString, is_link: bool| {
        out.push(StoreFile { store, trust, path, is_link });
    };
    for b in pem_stores::BUNDLES {
        claim("bundle", "trusted", b.into(), false);
    }
    for a in pem_stores::ANCHOR_DIRS {
        let keep = |name: &str| !a.crt_only || name.ends_with(".crt");
        let mut errors = Vec::new();
        let files = pem_stores::list_files(root, a.path, a.recursive, &keep, &mut |e| errors.push(e));
        let trust = if a.distrusted { "distrusted" } else { "trusted" };
        if q.admits("store", "anchor") {
            errors.into_iter().for_each(|e| ctx.report(e));
            ctx.ok_if_present(files.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        for f in files.unwrap_or_default() {
            claim("anchor", trust, f.path, f.is_link);
        }
    }
    for d in pem_stores::DIRECTORIES {
        let mut files = pem_stores::list_files(root, d, false, &pem_stores::is_directory_cert_name, &mut |_| {});
        // Named entries first, so that a certificate's row carries its name
        // rather than that of a `<hash>.0` link to it.
        if let Ok(f) = files.as_mut() {
            f.sort_by_key(|f| {
                let name = crate::root::file_name(&f.path).to_string_lossy();
                (pem_stores::is_hash_link_name(&name), f.path.clone())
            });
        }
        if q.admits("store", "directory") {
            ctx.ok_if_present(files.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        for f in files.unwrap_or_default() {
            claim("directory", "trusted", f.path, f.is_link);
        }
    }
    out
}

/// Whether the link at `path` names, in its own directory, a file already claimed.
fn links_to_claimed(root: &Root, path: &OsStr, claimed: &HashSet<OsString>) -> bool {
    let Ok(target) = root.read_link_os(path) else {
        return false;
    };
    if target.as_encoded_bytes().contains(&b'/') || target == "." || target == ".." {
        return false;
    }
    let Some((dir, _)) = rsplit_name(path) else {
        return false;
    };
    claimed.contains(&join(dir, target))
}

/// Trust from OpenSSL's aux data: the purposes trusted and not rejected; a
/// certificate with only rejections is distrusted.
fn aux_trust(aux: &x509::AuxTrust) -> (&'static str, Option<String>) {
    let effective = aux.effective();
    if !effective.is_empty() {
        ("trusted", Some(effective.join(",")))
    } else if !aux.rejected.is_empty() {
        ("distrusted", None)
    } else {
        ("unspecified", None)
    }
}

/// NSS databases: the system one, then each home's `.pki/nssdb`, Firefox
/// (also the snap's) and Thunderbird profiles. Paths are exact (a home or
/// profile name need not be UTF-8); the user is shown lossy.
fn nss_databases(ctx: &Ctx<'_>) -> Vec<(OsString, Option<String>)> {
    let root = ctx.root();
    let mut dirs: Vec<(OsString, Option<String>)> = vec![("/etc/pki/nssdb".into(), None)];
    let mut homes: Vec<(OsString, String)> = vec![("/root".into(), "root".into())];
    if let Some(entries) = ctx.ok_if_present(root.read_dir("/home")) {
        homes.extend(entries.into_iter().map(|e| (e.path_in("/home"), e.name)));
    }
    for (home, user) in homes {
        dirs.push((join(&home, ".pki/nssdb"), Some(user.clone())));
        for profiles in [".mozilla/firefox", "snap/firefox/common/.mozilla/firefox", ".thunderbird"] {
            let parent = join(&home, profiles);
            let Ok(entries) = root.read_dir(&parent) else {
                continue;
            };
            for e in entries {
                dirs.push((e.path_in(&parent), Some(user.clone())));
            }
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (dir, user) in dirs {
        let db = join(&dir, "cert9.db");
        match root.resolve(&db) {
            Ok(r) => {
                if seen.insert(r.raw_path) {
                    out.push((db, user));
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                // A link that leads nowhere inside the root hides a database.
                if let Some(e) = root.dangling(&db) {
                    ctx.report(e);
                    continue;
                }
                // Berkeley DB stores from before NSS 3.35 (2018).
                let old = join(&dir, "cert8.db");
                if root.exists(&old) {
                    ctx.report(FsError::new(
                        ErrorKind::Unsupported,
                        lossy(&old),
                        "legacy NSS cert8.db (Berkeley DB) is not read",
                    ));
                }
            }
            Err(e) => ctx.report(e),
        }
    }
    out
}

fn from_nss(ctx: &Ctx<'_>, cache: &mut x509::CertCache, rows: &mut Vec<InstalledCertificate>) {
    for (db, user) in nss_databases(ctx) {
        let Some(certs) = ctx.ok(nss::read_cert9(ctx.root(), &db, |e| ctx.report(e))) else {
            continue;
        };
        let shown = lossy(&db);
        let location = if user.is_some() { "user" } else { "system" };
        for c in certs {
            let info = match cache.parse(&c.der) {
                Ok((info, _)) => info,
                Err(e) => {
                    let nick = c.nickname.as_deref().unwrap_or("(no nickname)");
                    ctx.report(FsError::parse(&shown, format!("certificate {nick:?}: {e}")));
                    continue;
                }
            };
            let purposes = c.purposes();
            let purposes = (!purposes.is_empty()).then(|| purposes.join(","));
            rows.push(row(info, "nss", location, c.trust_word(), purposes, user.clone(), &shown));
        }
    }
}

fn row(
    c: x509::CertInfo,
    store: &str,
    location: &str,
    trust: &str,
    purposes: Option<String>,
    user: Option<String>,
    path: &str,
) -> InstalledCertificate {
    InstalledCertificate {
        common_name: c.common_name,
        subject: Some(c.subject),
        issuer: Some(c.issuer),
        organization: c.organization,
        serial: Some(c.serial),
        not_valid_before: Some(c.not_valid_before),
        not_valid_after: Some(c.not_valid_after),
        sha1: Some(c.sha1),
        sha256: Some(c.sha256),
        key_algorithm: Some(c.key_algorithm),
        key_strength: c.key_strength,
        signing_algorithm: Some(c.signing_algorithm),
        ca: Some(c.ca as i64),
        self_signed: Some(c.self_signed as i64),
        store: Some(store.into()),
        store_location: Some(location.into()),
        trust: Some(trust.into()),
        purposes,
        user,
        path: Some(path.into()),
    }
}
