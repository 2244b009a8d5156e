//! A synthetic Windows root for benchmarks: a SOFTWARE hive with many
//! Uninstall entries and certificates and a SYSTEM hive with many services,
//! written by [`crate::hive`]. Entries are shaped like real ones (the value
//! names and kinds an MSI install or a service registration writes, ~1 KB
//! of Uninstall values per program); certificates are the host's CA bundle,
//! repeated across stores, in Windows' Blob format.

use std::fs;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use sha1::Digest;

use crate::hive::{self, Key, REG_MULTI_SZ, utf16z};

const HOST_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
const PUBLISHERS: &[&str] = &[
    "Microsoft Corporation",
    "Adobe Inc.",
    "Google LLC",
    "Mozilla",
    "Oracle Corporation",
    "Igor Pavlov",
    "VideoLAN",
    "Intel Corporation",
    "NVIDIA Corporation",
    "Realtek Semiconductor Corp.",
    "The Git Development Community",
    "Python Software Foundation",
    "Notepad++ Team",
    "Zoom Video Communications, Inc.",
    "Dell Inc.",
    "Lenovo",
    "Citrix Systems, Inc.",
    "VMware, Inc.",
    "Cisco Systems, Inc.",
    "AO Kaspersky Lab",
];
const STORES: &[&str] = &["ROOT", "AuthRoot", "CA", "TrustedPublisher", "Disallowed", "TrustedPeople", "My", "Trust"];

fn guid(i: usize, salt: u32) -> String {
    let h = sha1::Sha1::digest(format!("{salt}:{i}").as_bytes());
    format!(
        "{{{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]
    )
}

fn uninstall_entry(k: &mut Key, i: usize, id: &str) {
    let publisher = PUBLISHERS[i % PUBLISHERS.len()];
    let vendor = publisher.split([' ', ',']).next().unwrap_or("Vendor");
    let product = format!("{vendor} Product {i} Suite");
    let version = format!("{}.{}.{}", 1 + i % 30, i % 10, 1000 + i % 9000);
    let location = format!("C:\\Program Files\\{vendor}\\Product {i}\\");
    k.sz("DisplayName", &product)
        .sz("DisplayVersion", &version)
        .sz("Publisher", publisher)
        .sz("InstallLocation", &location)
        .sz("InstallDate", &format!("2023{:02}{:02}", 1 + i % 12, 1 + i % 28))
        .sz("InstallSource", &format!("C:\\ProgramData\\Package Cache\\{id}v{version}\\"))
        .dword("EstimatedSize", 1024 + (i as u32 * 37) % 500_000)
        .expand("UninstallString", &format!("MsiExec.exe /X{id}"))
        .expand("ModifyPath", &format!("MsiExec.exe /I{id}"))
        .sz("DisplayIcon", &format!("{location}app.exe,0"))
        .sz("URLInfoAbout", &format!("https://www.example.com/{vendor}/product{i}"))
        .sz("HelpLink", &format!("https://support.example.com/{vendor}/{i}"))
        .sz("Comments", &format!("{product} installer package"))
        .dword("Language", 1033)
        .dword("Version", (1 + i as u32 % 30) << 24)
        .dword("VersionMajor", 1 + i as u32 % 30)
        .dword("VersionMinor", i as u32 % 10)
        .dword("WindowsInstaller", 1)
        .dword("NoModify", 1)
        .dword("NoRepair", (i % 2) as u32);
}

fn host_ders() -> anyhow::Result<Vec<Vec<u8>>> {
    let text = fs::read_to_string(HOST_BUNDLE).with_context(|| format!("reading {HOST_BUNDLE}"))?;
    let mut out = Vec::new();
    for block in text.split("-----BEGIN CERTIFICATE-----").skip(1) {
        let Some((body, _)) = block.split_once("-----END CERTIFICATE-----") else { continue };
        let b64: String = body.split_whitespace().collect();
        out.push(base64::engine::general_purpose::STANDARD.decode(b64)?);
    }
    if out.is_empty() {
        bail!("{HOST_BUNDLE} holds no certificate");
    }
    Ok(out)
}

fn prop(id: u32, data: &[u8]) -> Vec<u8> {
    let mut v = id.to_le_bytes().to_vec();
    v.extend(1u32.to_le_bytes());
    v.extend((data.len() as u32).to_le_bytes());
    v.extend(data);
    v
}

/// A Blob as Windows writes it for an AuthRoot entry: hashes, a key
/// identifier, a friendly name, then the certificate.
fn blob(der: &[u8], name: &str) -> Vec<u8> {
    let sha1 = sha1::Sha1::digest(der);
    let mut b = prop(0x03, &sha1);
    b.extend(prop(0x14, &sha1::Sha1::digest(&der[der.len() / 2..])));
    b.extend(prop(0x0F, &sha1[..16]));
    b.extend(prop(0x0B, &utf16z(name)));
    b.extend(prop(0x20, der));
    b
}

fn software(uninstall: usize, certs: usize) -> anyhow::Result<Key> {
    let mut root = Key::new("ROOT");
    let native = uninstall - uninstall / 4;
    for i in 0..uninstall {
        let id = guid(i, 1);
        let path = if i < native {
            format!("Microsoft\\Windows\\CurrentVersion\\Uninstall\\{id}")
        } else {
            format!("WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{id}")
        };
        uninstall_entry(root.at(&path), i, &id);
    }
    let ders = host_ders()?;
    // Each store holds each certificate once (keys are named by SHA-1), so
    // beyond the bundle's size per store, more stores are made.
    for i in 0..certs {
        let der = &ders[i % ders.len()];
        let n = i / ders.len();
        let store = match STORES.get(n) {
            Some(s) => s.to_string(),
            None => format!("Synth{n:03}"),
        };
        let thumb: String = sha1::Sha1::digest(der).iter().map(|b| format!("{b:02X}")).collect();
        root.at(&format!("Microsoft\\SystemCertificates\\{store}\\Certificates\\{thumb}"))
            .binary("Blob", blob(der, &format!("Synthetic certificate {i}")));
    }
    root.at("Microsoft\\Windows NT\\CurrentVersion")
        .sz("ProductName", "Windows 10 Enterprise")
        .dword("CurrentMajorVersionNumber", 10)
        .dword("CurrentMinorVersionNumber", 0)
        .sz("CurrentBuildNumber", "19045")
        .sz("CurrentBuild", "19045")
        .sz("CurrentVersion", "6.3")
        .sz("DisplayVersion", "22H2")
        .sz("SystemRoot", "C:\\Windows");
    Ok(root)
}

fn system(services: usize) -> Key {
    let mut root = Key::new("ROOT");
    root.at("Select").dword("Current", 1).dword("Default", 1).dword("LastKnownGood", 1).dword("Failed", 0);
    root.at("ControlSet001\\Control\\ComputerName\\ComputerName").sz("ComputerName", "SYNTH-HOST");
    for i in 0..services {
        let name = format!("Svc{i:05}");
        let k = root.at(&format!("ControlSet001\\Services\\{name}"));
        let driver = i % 3 == 0;
        k.dword("Start", (i % 5) as u32).dword("ErrorControl", 1).sz("DisplayName", &format!("Synthetic service {i}"));
        k.sz(
            "Description",
            &format!("Provides synthetic functionality number {i} for benchmarks of service enumeration."),
        );
        k.values.push((
            "DependOnService".into(),
            REG_MULTI_SZ,
            [utf16z("RpcSs"), utf16z("Tcpip"), vec![0, 0]].concat(),
        ));
        if driver {
            k.dword("Type", 1 + (i % 2) as u32).sz("Group", "System Bus Extender");
            k.expand("ImagePath", &format!("\\SystemRoot\\System32\\drivers\\svc{i}.sys"));
            k.at("Enum").dword("Count", 1).sz("0", &format!("ROOT\\SYSTEM\\{i:04}"));
        } else if i % 3 == 1 {
            k.dword("Type", 0x20).sz("ObjectName", "LocalSystem");
            k.expand("ImagePath", "%SystemRoot%\\system32\\svchost.exe -k netsvcs -p");
            k.at("Parameters")
                .expand("ServiceDll", &format!("%SystemRoot%\\System32\\svc{i}.dll"))
                .dword("ServiceDllUnloadOnStop", 1);
        } else {
            k.dword("Type", 0x10).sz("ObjectName", "NT AUTHORITY\\LocalService");
            k.expand("ImagePath", &format!("\"C:\\Program Files\\Vendor {}\\svc{i}.exe\" -service", i % 50));
        }
        if i % 2 == 0 {
            k.at("Security").binary("Security", (0..140u8).collect());
        }
    }
    root
}

pub fn synth(out: &Path, uninstall: usize, certs: usize, services: usize) -> anyhow::Result<()> {
    let config = out.join("Windows/System32/config");
    fs::create_dir_all(&config)?;
    fs::write(config.join("SOFTWARE"), hive::write(&software(uninstall, certs)?))?;
    fs::write(config.join("SYSTEM"), hive::write(&system(services)))?;
    Ok(())
}
