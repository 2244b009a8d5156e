//! The tables on a macOS root (issue 11): tests/fixtures/macos/root, written
//! by make.py with Python's plistlib, against expected.json, what plistlib
//! and hashlib read back from it. The table columns follow the interface
//! contract; nothing here is embargo's own output.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};

fn root() -> PathBuf {
    fixture("macos/root")
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("macos/expected.json")).unwrap()).unwrap()
}

/// The rows' values, one compact JSON text each, as a set.
fn set(rows: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    rows.into_iter().map(|v| v.to_string()).collect()
}

fn list<'a>(e: &'a Value, key: &str) -> &'a Vec<Value> {
    e[key].as_array().unwrap_or_else(|| panic!("expected.json has no {key}"))
}

/// Writes `files` under a fresh directory.
fn root_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (rel, body) in files {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    d
}

const SYSTEM_VERSION: (&str, &[u8]) = (
    "System/Library/CoreServices/SystemVersion.plist",
    b"<?xml version=\"1.0\"?><plist><dict><key>ProductName</key><string>macOS</string>\
      <key>ProductVersion</key><string>14.4.1</string></dict></plist>",
);

#[test]
fn installed_software_has_the_apps_receipts_and_kegs() {
    let e = expected();
    let rows = json_rows(
        &root(),
        "SELECT source, name, version, identifier, install_location, install_time, user, path, installed \
         FROM installed_software",
    );
    let want_apps = list(&e, "apps").iter().map(|a| {
        json!({"source": "macos_app", "name": a["name"], "version": a["version"], "identifier": a["identifier"],
            "install_location": a["install_location"], "install_time": null, "user": a["user"],
            "path": a["path"], "installed": 1})
    });
    // A receipt is named by its package id; InstallPrefixPath is relative to the volume.
    let want_receipts = list(&e, "receipts").iter().map(|r| {
        let prefix = format!("/{}", r["install_prefix"].as_str().unwrap().trim_matches('/'));
        json!({"source": "macos_receipt", "name": r["identifier"], "version": r["version"],
            "identifier": r["identifier"], "install_location": prefix, "install_time": r["install_time"],
            "user": null, "path": r["path"], "installed": 1})
    });
    let want_kegs = list(&e, "homebrew").iter().map(|k| {
        json!({"source": "homebrew", "name": k["name"], "version": k["version"],
            "identifier": format!("{}/{}", k["kind"].as_str().unwrap(), k["name"].as_str().unwrap()),
            "install_location": k["path"], "install_time": k["install_time"], "user": null,
            "path": k["path"], "installed": 1})
    });
    let want = set(want_apps.chain(want_receipts).chain(want_kegs));
    assert_eq!(rows.len(), want.len(), "one row per app, receipt and keg");
    assert_eq!(set(rows), want);
}

#[test]
fn installed_services_has_launchd_jobs_kexts_and_system_extensions() {
    let e = expected();
    let rows =
        json_rows(&root(), "SELECT kind, name, start_type, exec_path, command, path, state FROM installed_services");
    let jobs = list(&e, "launchd").iter().map(|j| {
        json!({"kind": "launchd", "name": j["label"], "start_type": j["start_type"], "exec_path": j["program"],
            "command": j["command"], "path": j["path"], "state": "unknown"})
    });
    // Whether a kext loads is recorded in no file read: no start type.
    let kexts = list(&e, "kexts").iter().map(|k| {
        json!({"kind": "macos_kext", "name": k["identifier"], "start_type": null, "exec_path": k["executable"],
            "command": null, "path": k["path"], "state": "unknown"})
    });
    let staged =
        "/Library/SystemExtensions/4A1C3E9E-0000-4000-8000-00000000000A/com.kaspersky.kav.sysext.systemextension";
    let sysexts = list(&e, "system_extensions").iter().map(|x| {
        // make.py gives only the Kaspersky extension a stagedBundleURL.
        let exec = if x["identifier"] == "com.kaspersky.kav.sysext" { Value::from(staged) } else { Value::Null };
        json!({"kind": "macos_system_extension", "name": x["identifier"], "start_type": x["state"],
            "exec_path": exec, "command": null, "path": "/Library/SystemExtensions/db.plist", "state": "unknown"})
    });
    let want = set(jobs.chain(kexts).chain(sysexts));
    assert_eq!(rows.len(), want.len());
    assert_eq!(set(rows), want);
    // A daemon's UserName (make.py: root); a user agent's owner is the home's.
    let users = json_rows(
        &root(),
        "SELECT name, user FROM installed_services WHERE name IN ('com.kaspersky.kav', 'com.example.alice', 'com.apple.Finder')",
    );
    assert_eq!(
        set(users),
        set([
            json!({"name": "com.kaspersky.kav", "user": "root"}),
            json!({"name": "com.example.alice", "user": "alice"}),
            json!({"name": "com.apple.Finder", "user": null}),
        ])
    );
}

#[test]
fn installed_certificates_joins_the_keychain_and_the_admin_trust_settings() {
    let e = expected();
    let rows =
        json_rows(&root(), "SELECT sha1, store, store_location, trust, purposes, path FROM installed_certificates");
    let keychain: BTreeSet<&str> = list(&e, "keychain_sha1").iter().map(|s| s.as_str().unwrap()).collect();
    let want = list(&e, "trust_settings").iter().map(|t| {
        let results: Vec<&str> = t["results"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        // SecTrustSettings.h: TrustRoot trusts, Deny distrusts; the trusting
        // settings name sslServer (server_auth) and basicX509 (no purpose of the contract's).
        let (trust, purposes) = if results.contains(&"trust_root") {
            ("trusted", Value::from("server_auth"))
        } else {
            ("distrusted", Value::Null)
        };
        assert!(keychain.contains(t["sha1"].as_str().unwrap()), "make.py puts both certificates in the keychain");
        json!({"sha1": t["sha1"], "store": "System.keychain", "store_location": "system", "trust": trust,
            "purposes": purposes, "path": "/Library/Keychains/System.keychain"})
    });
    assert_eq!(set(rows), set(want));
}

#[test]
fn scan_host_names_the_mac() {
    let h = &expected()["host"];
    let rows = json_rows(&root(), "SELECT os_family, os_name, os_version, hostname FROM scan_host");
    assert_eq!(
        rows,
        [json!({"os_family": "macos", "os_name": h["product_name"], "os_version": h["product_version"],
            "hostname": h["hostname"]})]
    );
}

/// Each source reads roots of its own OS family only: a Linux root with a
/// stray `Applications` folder, `/usr/local/Cellar` or receipts has none of
/// those rows (the Linux tables' rows stay what they were), and a macOS root
/// is not searched for dpkg or systemd.
#[test]
fn sources_read_only_roots_of_their_family() {
    let app = b"<plist><dict><key>CFBundleIdentifier</key><string>com.kaspersky.kav</string></dict></plist>";
    let job =
        b"<plist><dict><key>Label</key><string>com.kaspersky.kav</string><key>RunAtLoad</key><true/></dict></plist>";
    let dpkg = b"Package: kesl\nStatus: install ok installed\nVersion: 12\nArchitecture: amd64\n\n";
    let unit = b"[Service]\nExecStart=/opt/kaspersky/kesl/libexec/kesl\n[Install]\nWantedBy=multi-user.target\n";
    let stray: [(&str, &[u8]); 5] = [
        ("Applications/Kaspersky.app/Contents/Info.plist", app),
        ("usr/local/Cellar/kav/1.0/README", b""),
        ("var/db/receipts/com.kaspersky.kav.core.plist", b"<plist><dict><key>PackageIdentifier</key><string>com.kaspersky.kav.core</string></dict></plist>"),
        ("Library/LaunchDaemons/com.kaspersky.kav.plist", job),
        ("Library/SystemExtensions/db.plist", b"<plist><dict><key>extensions</key><array><dict><key>identifier</key><string>x</string></dict></array></dict></plist>"),
    ];
    let linux_files: Vec<(&str, &[u8])> = [("etc/os-release", &b"ID=debian\n"[..]), ("var/lib/dpkg/status", dpkg)]
        .into_iter()
        .chain([("etc/systemd/system/kesl.service", &unit[..])])
        .chain(stray)
        .collect();
    let linux = root_with(&linux_files);
    let q = "SELECT DISTINCT source FROM installed_software UNION ALL SELECT DISTINCT kind FROM installed_services";
    let got: BTreeSet<String> =
        json_rows(linux.path(), q).into_iter().map(|r| r["source"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, BTreeSet::from(["deb".to_string(), "systemd".to_string()]));

    let mac_files: Vec<(&str, &[u8])> = [SYSTEM_VERSION, ("var/lib/dpkg/status", dpkg)]
        .into_iter()
        .chain([("etc/systemd/system/kesl.service", &unit[..])])
        .chain(stray)
        .collect();
    let mac = root_with(&mac_files);
    let got: BTreeSet<String> =
        json_rows(mac.path(), q).into_iter().map(|r| r["source"].as_str().unwrap().to_string()).collect();
    let want = ["macos_app", "homebrew", "macos_receipt", "launchd", "macos_system_extension"];
    assert_eq!(got, want.into_iter().map(String::from).collect());
}

/// A Kaspersky system extension that sysextd has not activated (waiting for
/// the user's approval) is a driver that is disabled, not enabled.
#[test]
fn a_system_extension_not_activated_is_a_disabled_driver() {
    let db = b"<plist><dict><key>extensions</key><array><dict>\
        <key>identifier</key><string>com.kaspersky.kav.sysext</string>\
        <key>teamID</key><string>2Y8XE5CQ94</string>\
        <key>state</key><string>activated_waiting_for_user</string>\
        </dict></array></dict></plist>";
    let r = root_with(&[SYSTEM_VERSION, ("Library/SystemExtensions/db.plist", db)]);
    let o = embargo(&["--root", r.path().to_str().unwrap(), "--as-of", "2026-12-01", "--format", "json", "scan"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    let findings = v["findings"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|f| (f["evidence"].as_str().unwrap(), f["name"].as_str().unwrap(), f["state"].as_str().unwrap()))
        .collect();
    // Nothing of Kaspersky is installed, so the driver is a leftover.
    assert_eq!(got, [("driver", "com.kaspersky.kav.sysext", "leftover")]);
    assert_eq!(findings[0]["detail"], "activated_waiting_for_user");
    let e = v["exposure"].as_array().unwrap().iter().find(|e| e["vendor_id"] == "kaspersky").unwrap();
    assert_eq!(e["reasons"], "driver com.kaspersky.kav.sysext disabled (leftover)");
    // The README's model: a disabled driver weighs 10, × 0.6 for a medium
    // indicator = 6, one kind: low (an enabled one would be 35 × 0.6 = 21, medium).
    assert_eq!((e["score"].as_i64(), e["level"].as_str()), (Some(6), Some("low")), "{e}");
}
