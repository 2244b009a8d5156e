//! `installed_software`: every package manager's view, in one table.

use crate::collectors::dpkg;
use crate::query::Query;
use crate::spec::{Platform, Row, TableSpec};
use crate::table::{Ctx, Declared};

crate::declare_table! {
    /// One row per installed (or partly installed) package or application.
    pub struct InstalledSoftware {
        /// Package or product name.
        name: Text [index],
        /// Version as the source writes it (dpkg keeps the epoch: `1:9.2p1-2`; rpm is `[epoch:]version-release`).
        version: Text,
        /// The best vendor string the source has: Maintainer, Vendor or Packager, publisher.
        publisher: Text,
        /// Where the row comes from: deb, rpm, snap, flatpak, windows, macos_app, macos_receipt, homebrew.
        source: Text [index],
        /// The source's unique key: `name:arch` for deb, NEVRA for rpm, snap id, flatpak ref, bundle id, registry key.
        identifier: Text,
        /// CPU architecture the package is built for.
        arch: Text,
        /// Where the software lives on disk, when the source says.
        install_location: Text,
        /// When it was installed, Unix seconds UTC.
        install_time: BigInt,
        /// Installed size in bytes.
        size: BigInt,
        /// The source's own status text (dpkg's whole Status value; `installed` where a source has none).
        status: Text,
        /// 1 when the software is present, 0 when only traces remain (dpkg `config-files`, half-installed).
        installed: Integer,
        /// The user a per-user install belongs to.
        user: Text,
        /// The file or registry key the row was read from.
        path: Text,
    }
}

pub static SPEC: TableSpec = TableSpec {
    name: "installed_software",
    description: "Software installed on the scanned root, from every package manager embargo reads: dpkg, rpm, snap and flatpak on Linux.",
    columns: <InstalledSoftware as Row>::COLUMNS,
    platforms: &[Platform::Linux],
    examples: &[
        "SELECT name, version, publisher FROM installed_software WHERE source = 'deb'",
        "SELECT source, count(*) FROM installed_software WHERE installed = 1 GROUP BY source",
    ],
};

pub static TABLE: Declared<InstalledSoftware> = Declared {
    spec: &SPEC,
    generate,
};

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledSoftware> {
    let mut rows = Vec::new();
    if q.admits("source", "deb") {
        from_dpkg(ctx, q, &mut rows);
    }
    rows
}

fn from_dpkg(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    let names = q.texts("name");
    let result = dpkg::read_status(
        ctx.root(),
        dpkg::STATUS_PATH,
        |p| {
            if names.as_ref().is_some_and(|n| !n.contains(&p.name)) {
                return;
            }
            let installed = p.is_installed();
            let identifier = match &p.architecture {
                Some(arch) => format!("{}:{}", p.name, arch),
                None => p.name.clone(),
            };
            rows.push(InstalledSoftware {
                identifier: Some(identifier),
                name: Some(p.name),
                version: p.version,
                publisher: p.maintainer,
                source: Some("deb".into()),
                arch: p.architecture,
                install_location: None,
                install_time: None,
                size: p.installed_size_kib.map(|k| k.saturating_mul(1024)),
                status: Some(p.status),
                installed: Some(installed as i64),
                user: None,
                path: Some(dpkg::STATUS_PATH.into()),
            });
        },
        |e| ctx.report(e),
    );
    ctx.ok_if_present(result);
}
