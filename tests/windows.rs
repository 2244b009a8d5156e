//! The tables on a Windows root (issue 11): tests/fixtures/windows/root,
//! hives written by hivex from make.py's recipe. Expected values are the
//! recipe's (sizes are its EstimatedSize KiB × 1024, times Python's
//! `calendar.timegm` of its InstallDate), never embargo's own output.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};

fn root() -> PathBuf {
    fixture("windows/root")
}

fn set(rows: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    rows.into_iter().map(|v| v.to_string()).collect()
}

const UNINSTALL: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";
const WOW_UNINSTALL: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall";

#[test]
fn installed_software_has_every_uninstall_view_with_hidden_entries_marked() {
    let rows = json_rows(
        &root(),
        "SELECT name, version, publisher, identifier, install_location, install_time, size, status, installed, user, path \
         FROM installed_software WHERE source = 'windows'",
    );
    let row = |name: &str,
               version: Value,
               publisher: &str,
               id: &str,
               loc: Value,
               time: Value,
               size: Value,
               status: &str,
               user: Value,
               key: &str| {
        json!({"name": name, "version": version, "publisher": publisher, "identifier": id, "install_location": loc,
            "install_time": time, "size": size, "status": status, "installed": 1, "user": user,
            "path": format!("{key}\\{id}")})
    };
    let n = Value::Null;
    let kes = "{8F7D3A52-6C1B-4E0B-9B8E-3A4C2F1D7E65}";
    let agent = "{2924BEDA-E0D7-4DAF-A224-50D2E0B12F5B}";
    let vc = "{D4D6D3E9-7B4C-4B86-8CF5-1E2E2D6E1A10}";
    let want = [
        row(
            "Kaspersky Endpoint Security for Windows",
            "12.3.0.493".into(),
            "AO Kaspersky Lab",
            kes,
            "C:\\Program Files\\Kaspersky Lab\\KES.12.3.0\\".into(),
            1_705_276_800.into(),
            (256_160 * 1024).into(),
            "installed",
            n.clone(),
            UNINSTALL,
        ),
        row(
            "7-Zip 23.01 (x64)",
            "23.01".into(),
            "Igor Pavlov",
            "7-Zip",
            "C:\\Program Files\\7-Zip\\".into(),
            n.clone(),
            (5620 * 1024).into(),
            "installed",
            n.clone(),
            UNINSTALL,
        ),
        // SystemComponent=1: hidden by Windows, kept and marked.
        row(
            "Microsoft Visual C++ 2022 X64 Minimum Runtime - 14.38.33130",
            "14.38.33130".into(),
            "Microsoft Corporation",
            vc,
            n.clone(),
            1_701_388_800.into(),
            n.clone(),
            "system_component",
            n.clone(),
            UNINSTALL,
        ),
        row(
            "Security Update for Microsoft Office 2016 (KB5002467) 64-Bit Edition",
            n.clone(),
            "Microsoft",
            "KB5002467",
            n.clone(),
            n.clone(),
            n.clone(),
            "parent=Office16.PROPLUS",
            n.clone(),
            UNINSTALL,
        ),
        // InstallDate 15.01.2024 is not YYYYMMDD: no time.
        row(
            "Übersetzer Ω 2.0",
            "2.0".into(),
            "Jürgen Müller GmbH",
            "Ubersetzer",
            n.clone(),
            n.clone(),
            n.clone(),
            "installed",
            n.clone(),
            UNINSTALL,
        ),
        row(
            "Notepad++ (32-bit x86)",
            "8.6.2".into(),
            "Notepad++ Team",
            "Notepad++",
            n.clone(),
            n.clone(),
            (14104 * 1024).into(),
            "installed",
            n.clone(),
            WOW_UNINSTALL,
        ),
        row(
            "Kaspersky Security Center Network Agent",
            "14.2.0.26967".into(),
            "AO Kaspersky Lab",
            agent,
            "C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\".into(),
            1_705_363_200.into(),
            (98304 * 1024).into(),
            "installed",
            n.clone(),
            WOW_UNINSTALL,
        ),
        row(
            "Microsoft OneDrive",
            "24.010.0114.0003".into(),
            "Microsoft Corporation",
            "OneDriveSetup.exe",
            n.clone(),
            n.clone(),
            (208_364 * 1024).into(),
            "installed",
            "alice".into(),
            "HKEY_USERS\\alice\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
        ),
    ];
    assert_eq!(set(rows), set(want));
    // Keys without DisplayName (AddressBook, Connection Manager) are not programs.
    let all = json_rows(&root(), "SELECT count(*) AS n FROM installed_software");
    assert_eq!(all[0]["n"], 8);
}

#[test]
fn installed_services_are_the_current_control_sets_services_and_drivers() {
    let rows = json_rows(
        &root(),
        "SELECT name, kind, start_type, exec_path, command, module_path, user, state FROM installed_services",
    );
    let svc = |name: &str, kind: &str, start: &str, exec: Value, cmd: Value, dll: Value, user: Value| {
        json!({"name": name, "kind": kind, "start_type": start, "exec_path": exec, "command": cmd,
            "module_path": dll, "user": user, "state": "unknown"})
    };
    let n = Value::Null;
    let (s, d) = ("windows_service", "windows_driver");
    // SystemRoot is C:\WINDOWS in the recipe's SOFTWARE hive.
    let want = [
        svc(
            "klif",
            d,
            "boot",
            "/WINDOWS/System32/DRIVERS/klif.sys".into(),
            "\\SystemRoot\\System32\\DRIVERS\\klif.sys".into(),
            n.clone(),
            n.clone(),
        ),
        svc(
            "AVP",
            s,
            "automatic",
            "/Program Files/Kaspersky Lab/KES.12.3.0/avp.exe".into(),
            "\"C:\\Program Files\\Kaspersky Lab\\KES.12.3.0\\avp.exe\" -r".into(),
            n.clone(),
            "LocalSystem".into(),
        ),
        svc(
            "klnagent",
            s,
            "automatic",
            "/Program Files (x86)/Kaspersky Lab/NetworkAgent/klnagent.exe".into(),
            "\"C:\\Program Files (x86)\\Kaspersky Lab\\NetworkAgent\\klnagent.exe\"".into(),
            n.clone(),
            "LocalSystem".into(),
        ),
        svc(
            "Dnscache",
            s,
            "automatic",
            "/WINDOWS/system32/svchost.exe".into(),
            "%SystemRoot%\\system32\\svchost.exe -k NetworkService -p".into(),
            "%SystemRoot%\\System32\\dnsrslvr.dll".into(),
            "NT AUTHORITY\\NetworkService".into(),
        ),
        svc(
            "W32Time",
            s,
            "manual",
            "/WINDOWS/system32/svchost.exe".into(),
            "%SystemRoot%\\system32\\svchost.exe -k LocalService".into(),
            "%systemroot%\\system32\\w32time.dll".into(),
            "NT AUTHORITY\\LocalService".into(),
        ),
        svc(
            "Spooler",
            s,
            "disabled",
            "/WINDOWS/System32/spoolsv.exe".into(),
            "%SystemRoot%\\System32\\spoolsv.exe".into(),
            n.clone(),
            n.clone(),
        ),
        svc(
            "disk",
            d,
            "boot",
            "/WINDOWS/System32/drivers/disk.sys".into(),
            "System32\\drivers\\disk.sys".into(),
            n.clone(),
            n.clone(),
        ),
        // No ImagePath: the kernel's default place for a driver.
        svc("Beep", d, "system", "/WINDOWS/System32/drivers/Beep.sys".into(), n.clone(), n.clone(), n.clone()),
        svc("Ntfs", d, "manual", "/WINDOWS/System32/drivers/Ntfs.sys".into(), n.clone(), n.clone(), n.clone()),
        svc(
            "npcap",
            d,
            "system",
            "/Windows/system32/drivers/npcap.sys".into(),
            "\\??\\C:\\Windows\\system32\\drivers\\npcap.sys".into(),
            n.clone(),
            n.clone(),
        ),
        svc(
            "VendorSvc",
            s,
            "automatic",
            "/Program Files/Vendor App/svc.exe".into(),
            "C:\\Program Files\\Vendor App\\svc.exe -service".into(),
            n.clone(),
            n.clone(),
        ),
        svc(
            "CDPUserSvc",
            s,
            "automatic",
            "/Windows/system32/svchost.exe".into(),
            "C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup".into(),
            n.clone(),
            n.clone(),
        ),
    ];
    // Not here: ControlSet002's OldOnly, `.NET CLR Data` (no Type), the
    // nested Instances, Parameters and Enum keys.
    assert_eq!(set(rows), set(want));
    let drivers =
        json_rows(&root(), "SELECT name FROM installed_services WHERE kind = 'windows_driver' AND name = 'klif'");
    assert_eq!(drivers.len(), 1, "a pushed-down kind still reads the Services key");
}

#[test]
fn installed_certificates_has_every_store_and_disallowed_is_distrusted() {
    let rows =
        json_rows(&root(), "SELECT store, store_location, trust, purposes, user, sha1 FROM installed_certificates");
    // SHA-1s as in tables/src/collectors/certstore.rs, from `openssl x509
    // -fingerprint -sha1` of the PEM files make.py stored.
    let (kav, revoked, example, bakery) = (
        "738fdc3887215c4b14c299db015b60890448e63f",
        "64636aac300564aaf24af7ee4cdb18723e9f86d7",
        "2332c36a15bd390dd49f3a655961cc8d353053f6",
        "05fb8947fe05bfb528e2ddfccc46f4046f14d547",
    );
    let c = |store: &str, loc: &str, trust: &str, purposes: Value, user: Value, sha1: &str| json!({"store": store, "store_location": loc, "trust": trust, "purposes": purposes, "user": user, "sha1": sha1});
    let n = Value::Null;
    let want = [
        c("ROOT", "LocalMachine", "trusted", n.clone(), n.clone(), kav),
        c("Disallowed", "LocalMachine", "distrusted", n.clone(), n.clone(), revoked),
        // The recipe's EKU 1.3.6.1.5.5.7.3.1 is serverAuth.
        c("ROOT", "GroupPolicy", "trusted", "server_auth".into(), n.clone(), example),
        c("ROOT", "Enterprise", "trusted", n.clone(), n.clone(), bakery),
        c("ROOT", "CurrentUser", "trusted", n.clone(), "alice".into(), example),
        c("My", "CurrentUser", "unspecified", n.clone(), "alice".into(), bakery),
    ];
    assert_eq!(set(rows), set(want));
    let errors =
        json_rows(&root(), "SELECT table_name, kind FROM scan_errors WHERE table_name = 'installed_certificates'");
    assert_eq!(
        errors,
        [json!({"table_name": "installed_certificates", "kind": "parse_error"})],
        "the broken TrustedPublisher Blob"
    );
}
