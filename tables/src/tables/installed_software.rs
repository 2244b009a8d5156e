//! `installed_software`: every package manager's view, in one table.

use crate::collectors::{apk, dpkg, flatpak, homebrew, macos_apps, receipts, rpmdb, snap, uninstall};
use crate::query::Query;
use crate::table::{Ctx, ReadInto, from_sources};

crate::declare_table! {
    /// One row per installed (or partly installed) package or application.
    pub struct InstalledSoftware {
        /// Package or product name.
        name: Text [index],
        /// Version as the source writes it (dpkg keeps the epoch: `1:9.2p1-2`; rpm is `[epoch:]version-release`).
        version: Text,
        /// The best vendor string the source has: Maintainer, Vendor or Packager, publisher.
        publisher: Text,
        /// Where the row comes from, one word per source
        source: Text [index],
        /// The source's unique key: `name:arch` for deb, NEVRA for rpm, `name-version` for apk (as `apk info -v` prints it), snap id, flatpak ref, CFBundleIdentifier for a macOS app, the package id of an installer receipt, `formula/<name>` or `cask/<name>` for Homebrew, the Uninstall key's name (a product code `{GUID}` or a name) on Windows.
        identifier: Text,
        /// CPU architecture the package is built for.
        arch: Text,
        /// Where the software lives on disk, when the source says (a macOS app's bundle, a Homebrew keg, a receipt's install prefix).
        install_location: Text,
        /// When it was installed, Unix seconds UTC.
        install_time: BigInt,
        /// Installed size in bytes.
        size: BigInt,
        /// The source's own status text (dpkg's whole Status value; `installed` where a source has none). On Windows `installed`, or the marks of entries Apps & features hides, comma-separated: `system_component` (SystemComponent=1) and `parent=<ParentKeyName>` (an update or part of another entry).
        status: Text,
        /// 1 when the software is present, 0 when only traces remain (dpkg `config-files`, half-installed).
        installed: Integer,
        /// The user a per-user install belongs to.
        user: Text,
        /// The file or registry key the row was read from.
        path: Text,
    }

    table installed_software {
        description: "Software installed on the scanned root, from every package manager embargo reads: on Linux dpkg (the status file with its updates journal applied, and distroless status.d files), rpm (rpmdb.sqlite; where there is none, the NDB Packages.db or the Berkeley DB Packages), snap (snapd state.json), flatpak apps (system and per-user) and Alpine apk (lib/apk/db/installed); on macOS application bundles (system folders, one vendor folder down, and each user's ~/Applications), installer receipts (var/db/receipts, Library/Receipts) and Homebrew formulae and casks (opt/homebrew, usr/local); on Windows the Uninstall keys of the SOFTWARE hive (64-bit and WOW6432Node) and of each user's NTUSER.DAT, hidden entries (SystemComponent, ParentKeyName) included and marked in `status`.",
        class: Evidence,
        sources: source as ReadInto<InstalledSoftware> {
            "deb" [Linux] => from_dpkg,
            "rpm" [Linux] => from_rpmdb,
            "apk" [Linux] => from_apk,
            "snap" [Linux] => from_snap,
            "flatpak" [Linux] => from_flatpak,
            "macos_app" [Macos] => from_macos_apps,
            "macos_receipt" [Macos] => from_receipts,
            "homebrew" [Macos] => from_homebrew,
            "windows" [Windows] => from_uninstall,
        },
        examples: [
            "SELECT name, version, publisher FROM installed_software WHERE source = 'deb'",
            "SELECT source, count(*) FROM installed_software WHERE installed = 1 GROUP BY source",
        ],
        generate: generate,
    }
}

fn generate(ctx: &Ctx<'_>, q: &Query) -> Vec<InstalledSoftware> {
    from_sources(SOURCES, ctx, q)
}

fn from_rpmdb(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    rpmdb::read_all(
        ctx.root(),
        |path, p| {
            if !q.admits("name", &p.name) {
                return;
            }
            rows.push(InstalledSoftware {
                version: Some(p.evr()),
                identifier: Some(p.nevra()),
                publisher: p.vendor.or(p.packager),
                source: Some("rpm".into()),
                arch: p.arch,
                install_location: None,
                install_time: p.install_time,
                size: p.size,
                status: Some("installed".into()),
                installed: Some(1),
                user: None,
                path: Some(path.into()),
                name: Some(p.name),
            });
        },
        |e| ctx.report(e),
    );
}

/// apk records no install time (`t:` is when the package was built), so
/// `install_time` stays unknown; `I:` is already in bytes.
fn from_apk(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    apk::read_all(
        ctx.root(),
        |path, p| {
            if !q.admits("name", &p.name) {
                return;
            }
            rows.push(InstalledSoftware {
                identifier: Some(p.identifier()),
                version: Some(p.version),
                publisher: p.maintainer,
                source: Some("apk".into()),
                arch: p.arch,
                install_location: None,
                install_time: None,
                size: p.installed_size,
                status: Some("installed".into()),
                installed: Some(1),
                user: None,
                path: Some(path.into()),
                name: Some(p.name),
            });
        },
        |e| ctx.report(e),
    );
}

fn from_snap(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    snap::read_all(
        ctx.root(),
        |s| {
            if !q.admits("name", &s.name) {
                return;
            }
            rows.push(InstalledSoftware {
                version: s.version,
                publisher: s.publisher,
                source: Some("snap".into()),
                identifier: s.snap_id,
                arch: None,
                install_location: s.install_location,
                install_time: None,
                size: None,
                status: Some(s.status),
                installed: Some(1),
                user: None,
                path: Some(s.path),
                name: Some(s.name),
            });
        },
        |e| ctx.report(e),
    );
}

fn from_flatpak(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    flatpak::read_all(
        ctx.root(),
        |a| {
            if !q.admits("name", &a.id) {
                return;
            }
            rows.push(InstalledSoftware {
                identifier: Some(a.reference()),
                version: a.version,
                publisher: a.developer,
                source: Some("flatpak".into()),
                arch: Some(a.arch),
                install_location: a.deployment,
                install_time: None,
                size: None,
                status: Some("installed".into()),
                installed: Some(1),
                user: a.user,
                path: Some(a.path),
                name: Some(a.id),
            });
        },
        |e| ctx.report(e),
    );
}

fn from_macos_apps(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    let homes = super::mac_homes(ctx);
    for app in macos_apps::read_with_homes(ctx.root(), &homes.0, &mut |e| ctx.report(e)) {
        let name = app.name();
        if !q.admits("name", &name) {
            continue;
        }
        rows.push(InstalledSoftware {
            version: app.version(),
            publisher: None,
            source: Some("macos_app".into()),
            identifier: app.info.identifier,
            arch: None,
            install_location: Some(app.install_location),
            install_time: None,
            size: None,
            status: Some("installed".into()),
            installed: Some(1),
            user: app.user,
            path: Some(app.path),
            name: Some(name),
        });
    }
}

/// A receipt's name is its package id, as `pkgutil --pkgs` lists it: the
/// receipt names nothing else.
fn from_receipts(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    for r in receipts::read(ctx.root(), &mut |e| ctx.report(e)) {
        if !q.admits("name", &r.identifier) {
            continue;
        }
        rows.push(InstalledSoftware {
            name: Some(r.identifier.clone()),
            version: r.version,
            publisher: None,
            source: Some("macos_receipt".into()),
            identifier: Some(r.identifier),
            arch: None,
            install_location: r.install_prefix.map(|p| install_prefix(&p)),
            install_time: r.install_time,
            size: None,
            status: Some("installed".into()),
            installed: Some(1),
            user: None,
            path: Some(r.path),
        });
    }
}

/// InstallPrefixPath is relative to the volume (`Applications`, `/`, `./`).
fn install_prefix(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_matches('/');
    format!("/{p}")
}

fn from_homebrew(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    for keg in homebrew::read(ctx.root(), &mut |e| ctx.report(e)) {
        if !q.admits("name", &keg.name) {
            continue;
        }
        rows.push(InstalledSoftware {
            identifier: Some(format!("{}/{}", keg.kind.as_str(), keg.name)),
            name: Some(keg.name),
            version: Some(keg.version),
            publisher: None,
            source: Some("homebrew".into()),
            arch: None,
            install_location: Some(keg.path.clone()),
            install_time: keg.install_time,
            size: None,
            status: Some("installed".into()),
            installed: Some(1),
            user: None,
            path: Some(keg.path),
        });
    }
}

/// Hidden entries are kept: a Kaspersky component Windows does not list is
/// still Kaspersky, so `status` says why it is hidden instead.
fn from_uninstall(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    let hives = super::windows_hives(ctx);
    uninstall::read_all(
        &hives,
        |e| {
            if !q.admits("name", &e.name) {
                return;
            }
            rows.push(InstalledSoftware {
                status: Some(uninstall_status(&e)),
                name: Some(e.name),
                version: e.version,
                publisher: e.publisher,
                source: Some("windows".into()),
                identifier: Some(e.identifier),
                arch: None,
                install_location: e.install_location,
                install_time: e.install_time,
                size: e.size,
                installed: Some(1),
                user: e.user,
                path: Some(e.path),
            });
        },
        |e| ctx.report(e),
    );
}

fn uninstall_status(e: &uninstall::UninstallEntry) -> String {
    let mut marks = Vec::new();
    if e.system_component {
        marks.push("system_component".to_string());
    }
    if let Some(p) = &e.parent_key_name {
        marks.push(format!("parent={p}"));
    }
    if marks.is_empty() { "installed".into() } else { marks.join(",") }
}

fn from_dpkg(ctx: &Ctx<'_>, q: &Query, rows: &mut Vec<InstalledSoftware>) {
    let result = dpkg::read_database(
        ctx.root(),
        |p, file| {
            if !q.admits("name", &p.name) {
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
                path: Some(file.into()),
            });
        },
        |e| ctx.report(e),
    );
    ctx.ok_if_present(result);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::root::Root;
    use crate::spec::Value;
    use crate::table::Scan;
    use std::path::Path;

    fn rows_of(fixture: &str, q: &Query) -> (Vec<InstalledSoftware>, Scan) {
        let root = Root::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(fixture)).unwrap();
        let scan = Scan::new(root);
        let rows = generate(&scan.ctx(TABLE.spec.name), q);
        (rows, scan)
    }

    #[test]
    fn rpm_rows_follow_the_contract() {
        let (rows, scan) = rows_of("rpm", &Query::all());
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
        assert_eq!(rows.len(), 3);
        let by = |n: &str| rows.iter().find(|r| r.name.as_deref() == Some(n)).unwrap();
        let kesl = by("kesl");
        assert_eq!(kesl.source.as_deref(), Some("rpm"));
        assert_eq!(kesl.publisher.as_deref(), Some("AO Kaspersky Lab"));
        assert_eq!(kesl.identifier.as_deref(), Some("kesl-12.1.0.1297-1.noarch"));
        assert_eq!(kesl.version.as_deref(), Some("12.1.0.1297-1"));
        assert_eq!((kesl.status.as_deref(), kesl.installed), (Some("installed"), Some(1)));
        assert_eq!(kesl.path.as_deref(), Some("/var/lib/rpm/rpmdb.sqlite"));
        // Packager stands in for a missing Vendor.
        let ep = by("epoch-packager");
        assert_eq!(ep.publisher.as_deref(), Some("Jane Doe <jane@example.com>"));
        assert_eq!(ep.version.as_deref(), Some("2:0.9-1.el9"));

        let q = Query::all().with("source", vec![Value::Text("deb".into())]);
        assert!(rows_of("rpm", &q).0.is_empty());
        let q = Query::all().with("name", vec![Value::Text("kesl".into())]);
        assert_eq!(rows_of("rpm", &q).0.len(), 1);
    }

    #[test]
    fn snap_and_flatpak_rows() {
        let (rows, scan) = rows_of("snap/state", &Query::all());
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
        let ff = rows.iter().find(|r| r.name.as_deref() == Some("firefox")).unwrap();
        assert_eq!(ff.source.as_deref(), Some("snap"));
        assert_eq!(ff.identifier.as_deref(), Some("3wdHCAVyZEmYsCMFDE9qt92UV8rC8Wdk"));
        assert_eq!(ff.install_location.as_deref(), Some("/snap/firefox/4173"));
        assert_eq!(ff.publisher, None);

        let (rows, scan) = rows_of("flatpak", &Query::all());
        assert!(scan.errors.is_empty(), "{:?}", scan.errors.snapshot());
        let users: Vec<_> = rows.iter().map(|r| (r.identifier.as_deref().unwrap(), r.user.as_deref())).collect();
        assert_eq!(
            users,
            [
                ("app/org.example.Hello/x86_64/stable", None),
                ("app/org.example.Legacy/aarch64/beta", None),
                ("app/org.example.Notes/x86_64/stable", Some("alice")),
            ]
        );
        assert!(rows.iter().all(|r| r.source.as_deref() == Some("flatpak") && r.installed == Some(1)));
    }
}
