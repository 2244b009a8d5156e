//! Issue #9 item 6: a file or directory whose name is not UTF-8 is read by
//! its exact bytes, and shown lossy (U+FFFD) in rows and messages. Each test
//! builds a root whose only evidence sits behind such a name; before the fix
//! the collectors opened the lossy name, which does not exist, and gave no row.
#![cfg(unix)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use embargo_tables::tables::{browser_extensions, installed_certificates, installed_services, installed_software};
use embargo_tables::testing::{peer_available, systemctl_unit_files};
use embargo_tables::{Query, Root, Scan, ScanError};

/// `/`-separated bytes under `dir`.
fn at(dir: &Path, rel: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(rel))
}

fn put(dir: &Path, rel: &[u8], data: &[u8]) {
    let p = at(dir, rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(rel)
}

fn rows<R: Clone + 'static>(
    root: &Path,
    table: &'static str,
    generate: fn(&embargo_tables::Ctx<'_>, &Query) -> Vec<R>,
) -> (Vec<R>, Vec<ScanError>) {
    let scan = Scan::new(Root::new(root).unwrap());
    let rows = generate(&scan.ctx(table), &Query::all());
    (rows, scan.errors.snapshot())
}

fn certificates(root: &Path) -> (Vec<installed_certificates::InstalledCertificate>, Vec<ScanError>) {
    rows(root, "installed_certificates", installed_certificates::TABLE.generate)
}

/// The recipe's subject CN of kav.pem (tests/fixtures/certs/make.sh).
const KAV_CN: &str = "Kaspersky Anti-Virus Personal Root Certificate";

#[test]
fn pem_files_and_folders_with_non_utf8_names_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let kav = std::fs::read(fixture("certs/root/usr/local/share/ca-certificates/kaspersky/kav.crt")).unwrap();
    put(dir.path(), b"etc/pki/ca-trust/source/anchors/k\xff.pem", &kav);
    // update-ca-certificates recurses into folders of its anchor directory.
    put(dir.path(), b"usr/local/share/ca-certificates/d\xfe/kav.crt", &kav);
    let (rows, errors) = certificates(dir.path());
    let got: Vec<_> =
        rows.iter().map(|r| (r.path.as_deref().unwrap(), r.common_name.as_deref(), r.store.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("/usr/local/share/ca-certificates/d\u{fffd}/kav.crt", Some(KAV_CN), Some("anchor")),
            ("/etc/pki/ca-trust/source/anchors/k\u{fffd}.pem", Some(KAV_CN), Some("anchor")),
        ]
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Common names of the certificates make.sh adds to each NSS database, sorted.
const ALICE_NSS: [&str; 4] = [
    "Example Root CA",
    "Kasperski Bakery Root CA",
    "Kaspersky Anti-Virus Personal Root Certificate",
    "Revoked Example CA",
];
const SYSTEM_NSS: [&str; 1] = ["Example Root CA"];

fn copy_nss(from: &str, dir: &Path, to: &[u8]) {
    for f in ["cert9.db", "key4.db"] {
        let data = std::fs::read(fixture("certs/root").join(from).join(f)).unwrap();
        put(dir, &[to, b"/", f.as_bytes()].concat(), &data);
    }
}

fn nss_names(rows: &[installed_certificates::InstalledCertificate], path: &str) -> Vec<String> {
    let mut names: Vec<String> =
        rows.iter().filter(|r| r.path.as_deref() == Some(path)).filter_map(|r| r.common_name.clone()).collect();
    names.sort();
    names
}

#[test]
fn nss_databases_in_non_utf8_homes_and_profiles_are_read() {
    let dir = tempfile::tempdir().unwrap();
    copy_nss("home/alice/.mozilla/firefox/abcd1234.default-release", dir.path(), b"home/bo\xffb/.pki/nssdb");
    copy_nss("etc/pki/nssdb", dir.path(), b"home/carol/.mozilla/firefox/p\xfe");
    let (rows, errors) = certificates(dir.path());
    assert!(errors.is_empty(), "{errors:#?}");
    let home_db = "/home/bo\u{fffd}b/.pki/nssdb/cert9.db";
    let profile_db = "/home/carol/.mozilla/firefox/p\u{fffd}/cert9.db";
    assert_eq!(nss_names(&rows, home_db), ALICE_NSS);
    assert_eq!(nss_names(&rows, profile_db), SYSTEM_NSS);
    assert!(
        rows.iter().filter(|r| r.path.as_deref() == Some(home_db)).all(|r| r.user.as_deref() == Some("bo\u{fffd}b"))
    );
    assert_eq!(rows.len(), ALICE_NSS.len() + SYSTEM_NSS.len());
}

/// SQLite's `-wal` beside a database is looked up by the database's exact
/// path: under a lossy directory name it was missed, and the newest changes
/// with it (here, a certificate deleted since the last checkpoint).
#[test]
fn the_wal_beside_a_database_in_a_non_utf8_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    copy_nss("home/alice/.mozilla/firefox/abcd1234.default-release", dir.path(), b"home/bo\xffb/.pki/nssdb");
    let db = at(dir.path(), b"home/bo\xffb/.pki/nssdb/cert9.db");
    // Held open across the scan, with checkpoints off, so the change stays in the WAL.
    let c = rusqlite::Connection::open(&db).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    c.execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    let gone = c
        .execute(
            "DELETE FROM nssPublic WHERE a0 = ?1 AND a3 = ?2",
            (1u32.to_be_bytes().to_vec(), b"Kasperski Bakery Root CA".to_vec()),
        )
        .unwrap();
    assert_eq!(gone, 1);
    assert!(at(dir.path(), b"home/bo\xffb/.pki/nssdb/cert9.db-wal").exists());
    let (rows, errors) = certificates(dir.path());
    assert!(errors.is_empty(), "{errors:#?}");
    let left: Vec<&str> = ALICE_NSS.iter().copied().filter(|n| *n != "Kasperski Bakery Root CA").collect();
    assert_eq!(nss_names(&rows, "/home/bo\u{fffd}b/.pki/nssdb/cert9.db"), left);
    drop(c);
}

const KP: &str = "ahkjpbeeocnddjkakilopmfdlnjdpcdm";

fn extensions(root: &Path) -> (Vec<browser_extensions::BrowserExtension>, Vec<ScanError>) {
    rows(root, "browser_extensions", browser_extensions::TABLE.generate)
}

#[test]
fn chromium_extensions_in_a_non_utf8_home_and_profile_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let profile = b"home/bo\xffb/.config/google-chrome/Pro\xfefile".to_vec();
    let version = [&profile[..], format!("/Extensions/{KP}/21.15.8.493_0").as_bytes()].concat();
    put(
        dir.path(),
        &[&version[..], b"/manifest.json"].concat(),
        br#"{"manifest_version": 3, "name": "Kaspersky Protection", "version": "21.15.8.493"}"#,
    );
    let prefs = format!(r#"{{"extensions": {{"settings": {{"{KP}": {{"disable_reasons": [1]}}}}}}}}"#);
    put(dir.path(), &[&profile[..], b"/Preferences"].concat(), prefs.as_bytes());
    let (rows, errors) = extensions(dir.path());
    assert!(errors.is_empty(), "{errors:#?}");
    let shown = "/home/bo\u{fffd}b/.config/google-chrome/Pro\u{fffd}file";
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.user.as_deref().unwrap(),
                r.profile.as_deref().unwrap(),
                r.id.as_deref().unwrap(),
                r.name.as_deref(),
                r.enabled,
                r.path.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(
            "bo\u{fffd}b",
            "Pro\u{fffd}file",
            KP,
            Some("Kaspersky Protection"),
            Some(0),
            format!("{shown}/Extensions/{KP}/21.15.8.493_0/manifest.json")
        )]
    );
}

#[test]
fn firefox_profiles_with_non_utf8_names_are_read() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        b"home/carol/.mozilla/firefox/p\xfe/extensions.json",
        br#"{"addons": [{"id": "light-plugin@kaspersky.com", "type": "extension", "version": "1.0", "active": true,
             "location": "app-profile", "defaultLocale": {"name": "Kaspersky Protection"}}]}"#,
    );
    let (rows, errors) = extensions(dir.path());
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<_> =
        rows.iter().map(|r| (r.profile.as_deref().unwrap(), r.id.as_deref().unwrap(), r.path.as_deref())).collect();
    assert_eq!(
        got,
        [("p\u{fffd}", "light-plugin@kaspersky.com", Some("/home/carol/.mozilla/firefox/p\u{fffd}/extensions.json"))]
    );
}

fn services(root: &Path) -> (Vec<installed_services::InstalledService>, Vec<ScanError>) {
    rows(root, "installed_services", installed_services::TABLE.generate)
}

/// systemd follows a unit link into a directory whose name is not UTF-8 and
/// reads drop-ins whose names are not (only unit *names* must be ASCII).
/// Before, the first unit was `bad` (systemctl: linked) and the second too
/// (systemctl: static), with a not_found row for the lossy drop-in name.
/// A unit file whose own name is not UTF-8 is no valid unit name: systemctl
/// does not list it, and neither does embargo.
#[test]
fn unit_links_and_drop_ins_with_non_utf8_names_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        b"opt/k\xff/kesl.service",
        b"[Service]\nExecStart=/opt/kaspersky/kesl/bin/kesl\n[Install]\nWantedBy=multi-user.target\n",
    );
    std::fs::create_dir_all(r.join("etc/systemd/system")).unwrap();
    symlink(OsStr::from_bytes(b"/opt/k\xff/kesl.service"), r.join("etc/systemd/system/kesl.service")).unwrap();
    put(r, b"lib/systemd/system/klnagent.service", b"[Service]\nExecStart=/opt/kaspersky/klnagent/bin/klnagent\n");
    put(r, b"lib/systemd/system/klnagent.service.d/n\xfe.conf", b"[Unit]\nDescription=Kaspersky Network Agent\n");
    put(r, b"lib/systemd/system/k\xff.service", b"[Service]\nExecStart=/bin/true\n");

    let (rows, errors) = services(r);
    assert!(errors.is_empty(), "{errors:#?}");
    let mut got: Vec<_> =
        rows.iter().map(|r| (r.name.clone().unwrap(), r.start_type.clone().unwrap())).collect::<Vec<_>>();
    got.sort();
    let expected = [("kesl.service", "linked"), ("klnagent.service", "static")];
    assert_eq!(got, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    if peer_available("systemctl") {
        assert_eq!(got, systemctl_unit_files(r));
    }
    let kesl = rows.iter().find(|r| r.name.as_deref() == Some("kesl.service")).unwrap();
    assert_eq!(kesl.path.as_deref(), Some("/opt/k\u{fffd}/kesl.service"));
    assert_eq!(kesl.exec_path.as_deref(), Some("/opt/kaspersky/kesl/bin/kesl"));
    let agent = rows.iter().find(|r| r.name.as_deref() == Some("klnagent.service")).unwrap();
    assert_eq!(agent.display_name.as_deref(), Some("Kaspersky Network Agent"));
}

#[test]
fn init_scripts_with_non_utf8_names_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(
        r,
        b"etc/init.d/k\xff",
        b"#!/bin/sh\n### BEGIN INIT INFO\n# Short-Description: Kaspersky agent\n### END INIT INFO\n",
    );
    std::fs::create_dir_all(r.join("etc/rc2.d")).unwrap();
    symlink(OsStr::from_bytes(b"../init.d/k\xff"), at(r, b"etc/rc2.d/S01k\xff")).unwrap();
    let (rows, errors) = services(r);
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.name.as_deref(), r.display_name.as_deref(), r.start_type.as_deref(), r.path.as_deref()))
        .collect();
    assert_eq!(got, [(Some("k\u{fffd}"), Some("Kaspersky agent"), Some("enabled"), Some("/etc/init.d/k\u{fffd}"))]);
}

fn software(root: &Path) -> (Vec<installed_software::InstalledSoftware>, Vec<ScanError>) {
    rows(root, "installed_software", installed_software::TABLE.generate)
}

/// A per-user flatpak installation in a home whose name is not UTF-8, in
/// flatpak's layout (tests/fixtures/flatpak/make.sh).
#[test]
fn flatpak_apps_in_a_non_utf8_home_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let app = b"home/bo\xffb/.local/share/flatpak/app/com.kaspersky.Vpn/x86_64/stable";
    put(
        r,
        &[&app[..], b"/c0ffee/metadata"].concat(),
        b"[Application]\nname=com.kaspersky.Vpn\nruntime=org.freedesktop.Platform/x86_64/23.08\n",
    );
    put(
        r,
        &[&app[..], b"/c0ffee/files/share/metainfo/com.kaspersky.Vpn.metainfo.xml"].concat(),
        b"<component><id>com.kaspersky.Vpn</id><developer_name>AO Kaspersky Lab</developer_name>\
          <releases><release version=\"1.2\"/></releases></component>",
    );
    symlink("c0ffee", at(r, &[&app[..], b"/active"].concat())).unwrap();
    let (rows, errors) = software(r);
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (r.name.as_deref(), r.version.as_deref(), r.publisher.as_deref(), r.user.as_deref(), r.path.as_deref())
        })
        .collect();
    let path = "/home/bo\u{fffd}b/.local/share/flatpak/app/com.kaspersky.Vpn/x86_64/stable/c0ffee/metadata";
    assert_eq!(
        got,
        [(Some("com.kaspersky.Vpn"), Some("1.2"), Some("AO Kaspersky Lab"), Some("bo\u{fffd}b"), Some(path))]
    );
}

/// A snap mounted under a directory whose name is not UTF-8 (no snapd
/// state, so the mounts are listed).
#[test]
fn snaps_in_non_utf8_directories_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    put(r, b"snap/k\xff/12/meta/snap.yaml", b"name: kaspersky\nversion: '3.1'\nsummary: Kaspersky\n");
    symlink("12", at(r, b"snap/k\xff/current")).unwrap();
    let (rows, errors) = software(r);
    assert!(errors.is_empty(), "{errors:#?}");
    let got: Vec<_> =
        rows.iter().map(|r| (r.name.as_deref(), r.version.as_deref(), r.install_location.as_deref())).collect();
    assert_eq!(got, [(Some("k\u{fffd}"), Some("3.1"), Some("/snap/k\u{fffd}/12"))]);
}

/// A login keychain in a macOS home whose name is not UTF-8: the home was
/// listed by its lossy name, which opens nothing, so its keychain was never
/// read. make.py's System.keychain serves as the login keychain; its
/// certificates' SHA-1s are make.py's (expected.json).
#[test]
fn login_keychains_in_a_non_utf8_home_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let mac = fixture("macos/root");
    let version = std::fs::read(mac.join("System/Library/CoreServices/SystemVersion.plist")).unwrap();
    put(r, b"System/Library/CoreServices/SystemVersion.plist", &version);
    let keychain = std::fs::read(mac.join("Library/Keychains/System.keychain")).unwrap();
    put(r, b"Users/k\xffuser/Library/Keychains/login.keychain-db", &keychain);
    let (rows, errors) = certificates(r);
    assert!(errors.is_empty(), "{errors:#?}");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("macos/expected.json")).unwrap()).unwrap();
    let want: Vec<_> = expected["keychain_sha1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let path = "/Users/k\u{fffd}user/Library/Keychains/login.keychain-db";
            (s.as_str().unwrap(), Some("login.keychain-db"), Some("user"), Some("k\u{fffd}user"), Some(path))
        })
        .collect();
    assert_eq!(want.len(), 2);
    let got: Vec<_> = rows
        .iter()
        .map(|c| {
            (
                c.sha1.as_deref().unwrap(),
                c.store.as_deref(),
                c.store_location.as_deref(),
                c.user.as_deref(),
                c.path.as_deref(),
            )
        })
        .collect();
    assert_eq!(got, want);
}
