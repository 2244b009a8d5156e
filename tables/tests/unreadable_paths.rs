//! Issue #9 item 8: every path a collector tries and cannot read is a
//! `scan_errors` row. A link that leads nowhere inside the root (dangling, or
//! aimed outside it: links resolve as in a chroot) hides what it names, and a
//! FIFO, socket or device where a file was expected is never opened; both
//! used to vanish silently. A plainly absent file stays silent.
#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use embargo_tables::tables::{browser_extensions, installed_certificates, installed_services, installed_software};
use embargo_tables::testing::{peer_available, systemctl_unit_files};
use embargo_tables::{ErrorKind, Query, Root, Scan};

/// (table_name, path, kind) of every row of `scan_errors` after `table` ran.
fn errors<R>(
    root: &Path,
    table: &'static str,
    generate: fn(&embargo_tables::Ctx<'_>, &Query) -> Vec<R>,
) -> (Vec<R>, Vec<(String, String, ErrorKind)>) {
    let scan = Scan::new(Root::new(root).unwrap());
    let rows = generate(&scan.ctx(table), &Query::all());
    let mut errs: Vec<_> = scan.errors.snapshot().into_iter().map(|e| (e.table_name, e.path, e.kind)).collect();
    errs.sort();
    (rows, errs)
}

fn row(table: &str, path: &str, kind: ErrorKind) -> (String, String, ErrorKind) {
    (table.to_string(), path.to_string(), kind)
}

/// `link` (root-relative) made a symlink to `target`, its parents created.
fn link(root: &Path, target: &str, link: &str) {
    let at = root.join(link);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    symlink(target, at).unwrap();
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

/// A link to a path that exists on the analyst's host (`/etc/passwd`), by
/// a relative target that climbs past the root: inside the root it names
/// the image's own `/etc/passwd`, which is not there.
const OUT_OF_ROOT: &str = "../../../../../../../../../../../../etc/passwd";

#[test]
fn dangling_and_out_of_root_rpm_databases_are_rows() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "/var/lib/rpm/gone.sqlite", "var/lib/rpm/rpmdb.sqlite");
    link(dir.path(), OUT_OF_ROOT, "usr/lib/sysimage/rpm/rpmdb.sqlite");
    let (rows, errs) = errors(dir.path(), "installed_software", installed_software::TABLE.generate);
    assert!(rows.is_empty());
    assert_eq!(
        errs,
        [
            row("installed_software", "/usr/lib/sysimage/rpm/rpmdb.sqlite", ErrorKind::NotFound),
            row("installed_software", "/var/lib/rpm/rpmdb.sqlite", ErrorKind::NotFound),
        ]
    );
}

#[test]
fn an_absent_rpm_database_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
    let (_, errs) = errors(dir.path(), "installed_software", installed_software::TABLE.generate);
    assert_eq!(errs, []);
}

#[test]
fn dangling_and_out_of_root_nss_databases_are_rows() {
    let dir = tempfile::tempdir().unwrap();
    link(dir.path(), "/home/alice/.pki/nssdb/gone.db", "home/alice/.pki/nssdb/cert9.db");
    link(dir.path(), OUT_OF_ROOT, "home/alice/.mozilla/firefox/x.default/cert9.db");
    // A profile without a database says nothing.
    std::fs::create_dir_all(dir.path().join("home/alice/.mozilla/firefox/empty.default")).unwrap();
    let (rows, errs) = errors(dir.path(), "installed_certificates", installed_certificates::TABLE.generate);
    assert!(rows.is_empty());
    assert_eq!(
        errs,
        [
            row("installed_certificates", "/home/alice/.mozilla/firefox/x.default/cert9.db", ErrorKind::NotFound),
            row("installed_certificates", "/home/alice/.pki/nssdb/cert9.db", ErrorKind::NotFound),
        ]
    );
}

const KP: &str = "ahkjpbeeocnddjkakilopmfdlnjdpcdm";

#[test]
fn dangling_chromium_manifests_and_preferences_are_rows() {
    let dir = tempfile::tempdir().unwrap();
    let profile = "home/alice/.config/google-chrome/Default";
    let ext = format!("{profile}/Extensions/{KP}");
    link(dir.path(), "/opt/gone/manifest.json", &format!("{ext}/1.0_0/manifest.json"));
    link(dir.path(), OUT_OF_ROOT, &format!("{ext}/2.0_0/manifest.json"));
    // A version directory being written (no manifest yet) is silent.
    std::fs::create_dir_all(dir.path().join(format!("{ext}/3.0_0"))).unwrap();
    // Preferences are read once the profile has an extension to describe.
    let ok = format!("{profile}/Extensions/cjpalhdlnbpafiamejdnhcphjbkeiagm/1.0_0/manifest.json");
    std::fs::create_dir_all(dir.path().join(&ok).parent().unwrap()).unwrap();
    std::fs::write(dir.path().join(&ok), br#"{"name": "uBlock Origin", "version": "1.0"}"#).unwrap();
    link(dir.path(), "/nowhere", &format!("{profile}/Secure Preferences"));
    let (rows, errs) = errors(dir.path(), "browser_extensions", browser_extensions::TABLE.generate);
    assert_eq!(rows.iter().map(|r| r.name.as_deref()).collect::<Vec<_>>(), [Some("uBlock Origin")]);
    let t = "browser_extensions";
    assert_eq!(
        errs,
        [
            row(t, &format!("/{ext}/1.0_0/manifest.json"), ErrorKind::NotFound),
            row(t, &format!("/{ext}/2.0_0/manifest.json"), ErrorKind::NotFound),
            row(t, &format!("/{profile}/Secure Preferences"), ErrorKind::NotFound),
        ]
    );
}

/// Unit links that lead to no file (nothing, or a directory): systemctl
/// lists each as `bad`, and so does embargo, now with a row per link.
#[test]
fn unit_links_that_lead_nowhere_are_bad_with_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let etc = "etc/systemd/system";
    // Linked (outside the unit directories), dangling.
    link(r, "/opt/kaspersky/kesl/kesl.service", &format!("{etc}/kesl.service"));
    // Linked, aimed out of the root.
    link(r, OUT_OF_ROOT, &format!("{etc}/klnagent.service"));
    // An alias to a unit no directory holds.
    link(r, "/lib/systemd/system/kesl-supervisor.service", &format!("{etc}/kesl-alias.service"));
    // A link to a directory.
    std::fs::create_dir_all(r.join("opt/kaspersky/kesl")).unwrap();
    link(r, "/opt/kaspersky/kesl", &format!("{etc}/kesl-dir.service"));
    // A plain unit beside them is unaffected.
    std::fs::create_dir_all(r.join("lib/systemd/system")).unwrap();
    std::fs::write(r.join("lib/systemd/system/ok.service"), "[Service]\nExecStart=/bin/true\n").unwrap();

    let (rows, errs) = errors(r, "installed_services", installed_services::TABLE.generate);
    let mut states: Vec<_> = rows.iter().map(|r| (r.name.clone().unwrap(), r.start_type.clone().unwrap())).collect();
    states.sort();
    let expected = [
        ("kesl-alias.service", "bad"),
        ("kesl-dir.service", "bad"),
        ("kesl.service", "bad"),
        ("klnagent.service", "bad"),
        ("ok.service", "static"),
    ];
    assert_eq!(states, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    if peer_available("systemctl") {
        assert_eq!(states, systemctl_unit_files(r));
    }
    let t = "installed_services";
    assert_eq!(
        errs,
        [
            row(t, "/etc/systemd/system/kesl-alias.service", ErrorKind::NotFound),
            row(t, "/etc/systemd/system/kesl.service", ErrorKind::NotFound),
            row(t, "/etc/systemd/system/klnagent.service", ErrorKind::NotFound),
            row(t, "/opt/kaspersky/kesl", ErrorKind::NotRegularFile),
        ]
    );
}

/// A FIFO, socket or device node named like a unit: systemctl does not list
/// it (nor does embargo), and the root never opens one; a row says it is there.
#[test]
fn fifos_sockets_and_devices_named_like_units_are_rows() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let lib = r.join("lib/systemd/system");
    mkfifo(&lib.join("kesl.service"));
    let _socket = std::os::unix::net::UnixListener::bind(lib.join("kesl.socket")).unwrap();
    // Device nodes need CAP_MKNOD.
    let device = rustix::fs::mknodat(
        rustix::fs::CWD,
        lib.join("klnagent.service"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o600),
        rustix::fs::makedev(1, 3),
    )
    .is_ok();
    if !device {
        eprintln!("not checking a device node: mknod needs CAP_MKNOD");
    }
    // A FIFO in init.d is tried as a script, and refused.
    mkfifo(&r.join("etc/init.d/kesl-control"));

    let (rows, errs) = errors(r, "installed_services", installed_services::TABLE.generate);
    assert!(rows.is_empty(), "{:?}", rows.iter().map(|r| &r.name).collect::<Vec<_>>());
    if peer_available("systemctl") {
        assert_eq!(systemctl_unit_files(r), []);
    }
    let t = "installed_services";
    let mut expected = vec![
        row(t, "/etc/init.d/kesl-control", ErrorKind::NotRegularFile),
        row(t, "/lib/systemd/system/kesl.service", ErrorKind::NotRegularFile),
        row(t, "/lib/systemd/system/kesl.socket", ErrorKind::NotRegularFile),
    ];
    if device {
        expected.push(row(t, "/lib/systemd/system/klnagent.service", ErrorKind::NotRegularFile));
    }
    expected.sort();
    assert_eq!(errs, expected);
}

/// A FIFO that shadows a real unit file makes the unit `bad`, with one row.
/// (systemctl 252 is not asked: it opens the FIFO to read it, and blocks.)
#[test]
fn a_fifo_shadowing_a_unit_file_is_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    mkfifo(&r.join("etc/systemd/system/kesl.service"));
    std::fs::create_dir_all(r.join("lib/systemd/system")).unwrap();
    std::fs::write(r.join("lib/systemd/system/kesl.service"), "[Service]\nExecStart=/bin/kesl\n").unwrap();
    let (rows, errs) = errors(r, "installed_services", installed_services::TABLE.generate);
    let states: Vec<_> = rows.iter().map(|r| (r.name.as_deref(), r.start_type.as_deref())).collect();
    assert_eq!(states, [(Some("kesl.service"), Some("bad"))]);
    assert_eq!(errs, [row("installed_services", "/etc/systemd/system/kesl.service", ErrorKind::NotRegularFile)]);
}
