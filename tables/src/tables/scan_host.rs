//! `scan_host`: one row naming the system that was scanned.

use crate::collectors::{macos_version, os_release, windows_host};
use crate::query::Query;
use crate::table::{Ctx, OsFamily};

crate::declare_table! {
    /// The scanned system.
    pub struct ScanHost {
        /// Host name of the scanned system (etc/hostname on Linux; on macOS the SystemConfiguration preferences' HostName, else ComputerName, else LocalHostName; on Windows the SYSTEM hive's ComputerName, else Tcpip's Hostname).
        hostname: Text,
        /// linux, windows or macos.
        os_family: Text,
        /// os-release NAME on Linux; SystemVersion.plist's ProductName (`macOS`) on macOS; the SOFTWARE hive's ProductName on Windows.
        os_name: Text,
        /// os-release VERSION_ID on Linux; SystemVersion.plist's ProductVersion on macOS; `<CurrentMajorVersionNumber>.<CurrentMinorVersionNumber>.<CurrentBuild>` on Windows (CurrentVersion and CurrentBuild before Windows 10).
        os_version: Text,
        /// etc/machine-id on Linux.
        machine_id: Text,
        /// The analyst-side directory that was scanned as `/`.
        root: Text,
        /// When the scan started, Unix seconds UTC.
        scanned_at: BigInt,
        /// The date findings are judged at (`--as-of`, default now), Unix seconds UTC.
        as_of: BigInt,
    }

    table scan_host {
        description: "One row describing the scanned system and when it was scanned.",
        class: Host,
        reads: [Linux, Windows, Macos],
        examples: ["SELECT hostname, os_name, os_version, datetime(as_of, 'unixepoch') FROM scan_host"],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, _q: &Query) -> Vec<ScanHost> {
    let root = ctx.root();
    let family = ctx.scan.os_family();
    let mut row = ScanHost {
        os_family: Some(family.as_str().into()),
        root: Some(root.base().display().to_string()),
        scanned_at: Some(ctx.scan.scanned_at),
        as_of: Some(ctx.scan.as_of),
        ..Default::default()
    };
    if family == OsFamily::Linux {
        row.hostname = ctx.ok(os_release::first_line(root, "/etc/hostname")).flatten();
        row.machine_id = ctx.ok(os_release::first_line(root, "/etc/machine-id")).flatten();
        if let Some(Some((_, fields))) = ctx.ok(os_release::read(root)) {
            row.os_name = fields.get("NAME").cloned();
            row.os_version = fields.get("VERSION_ID").cloned();
        }
    }
    if family == OsFamily::Macos {
        if let Some(Some(v)) = ctx.ok(macos_version::read_version(root)) {
            row.os_name = v.product_name;
            row.os_version = v.product_version;
        }
        row.hostname = ctx.ok(macos_version::read_host_names(root)).flatten().and_then(|h| h.hostname());
    }
    if family == OsFamily::Windows {
        let host = windows_host::read(&super::windows_hives(ctx), |e| ctx.report(e));
        row.os_name = host.product_name;
        row.os_version = host.version;
        row.hostname = host.computer_name;
    }
    vec![row]
}
