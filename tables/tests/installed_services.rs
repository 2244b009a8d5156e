//! `installed_services` on the fixture built by
//! tests/fixtures/systemd/basic/make.sh, against the states its recipe
//! documents and against `systemctl list-unit-files --root`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use embargo_tables::tables::installed_services::{InstalledService, TABLE};
use embargo_tables::{ErrorKind, Query, Root, Scan};

fn make_fixture(name: &str) -> tempfile::TempDir {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/systemd").join(name).join("make.sh");
    let dir = tempfile::tempdir().unwrap();
    let st = Command::new("sh").arg(&script).arg(dir.path()).status().unwrap();
    assert!(st.success(), "{} failed", script.display());
    dir
}

fn generate(root: &Path) -> (Vec<InstalledService>, Scan) {
    let scan = Scan::new(Root::new(root).unwrap());
    let rows = (TABLE.generate)(&scan.ctx("installed_services"), &Query::all());
    (rows, scan)
}

fn systemd_pairs(rows: &[InstalledService]) -> BTreeSet<(String, String)> {
    rows.iter()
        .filter(|r| r.kind.as_deref() == Some("systemd"))
        .map(|r| (r.name.clone().unwrap(), r.start_type.clone().unwrap()))
        .collect()
}

/// `systemctl list-unit-files --root=DIR --no-legend`, first two columns.
fn systemctl_pairs(root: &Path) -> BTreeSet<(String, String)> {
    let out = Command::new("systemctl")
        .args(["list-unit-files", "--no-legend", "--no-pager"])
        .arg(format!("--root={}", root.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "systemctl failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

fn row<'a>(rows: &'a [InstalledService], name: &str) -> &'a InstalledService {
    rows.iter().find(|r| r.name.as_deref() == Some(name)).unwrap_or_else(|| panic!("no row {name}"))
}

/// The states make.sh's comments give each unit.
const EXPECTED: &[(&str, &str)] = &[
    ("app-alias.service", "alias"),
    ("app.service", "enabled"),
    ("clean.service", "static"),
    ("clean.timer", "enabled"),
    ("data.mount", "static"),
    ("data2.mount", "generated"),
    ("empty.service", "masked"),
    ("front.service", "indirect"),
    ("front.socket", "enabled"),
    ("getty@.service", "enabled"),
    ("gone.service", "masked"),
    ("helper.service", "static"),
    ("huge.service", "bad"),
    ("idle.service", "disabled"),
    ("later.service", "masked-runtime"),
    ("latin1.service", "bad"),
    ("loop-a.service", "bad"),
    ("loop-b.service", "bad"),
    ("multi-user.target", "static"),
    ("rt.service", "linked-runtime"),
    ("rtwant.service", "enabled-runtime"),
    ("run-x.service", "transient"),
    ("sockets.target", "static"),
    ("spool.path", "disabled"),
    ("timers.target", "static"),
    ("tuned.service", "disabled"),
    ("vendor.service", "linked"),
    ("work.slice", "static"),
    ("worker@.service", "indirect"),
];

#[test]
fn fixture_states_follow_the_recipe() {
    let dir = make_fixture("basic");
    let (rows, scan) = generate(dir.path());
    let expected: BTreeSet<_> = EXPECTED.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(systemd_pairs(&rows), expected);

    let app = row(&rows, "app.service");
    assert_eq!(app.command.as_deref(), Some("-/usr/bin/app --serve \"a b\""));
    assert_eq!(app.exec_path.as_deref(), Some("/usr/bin/app"));
    // The type-level service.d drop-in overrides the unit's own User=app.
    assert_eq!(app.user.as_deref(), Some("nobody"));
    assert_eq!(app.display_name.as_deref(), Some("Example app"));
    assert_eq!(app.path.as_deref(), Some("/usr/lib/systemd/system/app.service"));
    assert_eq!(app.state.as_deref(), Some("unknown"));
    assert_eq!(app.module_path, None);
    // An alias row describes the unit it names.
    assert_eq!(row(&rows, "app-alias.service").path.as_deref(), Some("/usr/lib/systemd/system/app.service"));
    // A linked unit's fragment is the file outside the search path.
    let vendor = row(&rows, "vendor.service");
    assert_eq!(vendor.path.as_deref(), Some("/opt/vendor.service"));
    assert_eq!(vendor.exec_path.as_deref(), Some("/opt/vendor/bin/agent"));
    // Drop-ins: ExecStart= reset then set; type-level service.d sets User=.
    let tuned = row(&rows, "tuned.service");
    assert_eq!(tuned.command.as_deref(), Some("/usr/local/bin/tuned --new"));
    assert_eq!(tuned.user.as_deref(), Some("nobody"));
    let getty = row(&rows, "getty@.service");
    assert_eq!(getty.command.as_deref(), Some("-/sbin/agetty -o \"-p -- \\\\u\" %I"));
    assert_eq!(getty.exec_path.as_deref(), Some("/sbin/agetty"));
    // Broken files still give a row, and the other rows are unaffected.
    assert_eq!(row(&rows, "huge.service").exec_path.as_deref(), Some("/usr/bin/huge"));
    assert_eq!(row(&rows, "gone.service").path.as_deref(), Some("/etc/systemd/system/gone.service"));

    let legacy = row(&rows, "legacyd");
    assert_eq!(legacy.kind.as_deref(), Some("sysv"));
    assert_eq!(legacy.start_type.as_deref(), Some("enabled"));
    assert_eq!(legacy.display_name.as_deref(), Some("Legacy daemon"));
    assert_eq!(legacy.path.as_deref(), Some("/etc/init.d/legacyd"));
    assert_eq!(row(&rows, "oldtool").start_type.as_deref(), Some("disabled"));

    let errors = scan.errors.snapshot();
    assert!(errors.iter().any(|e| e.kind == ErrorKind::SymlinkLoop && e.path.contains("loop-a.service")), "{errors:?}");
    assert!(errors.iter().any(|e| e.kind == ErrorKind::ParseError && e.path.ends_with("latin1.service")));
    assert!(errors.iter().any(|e| e.kind == ErrorKind::ParseError && e.path.ends_with("huge.service")));
}

#[test]
fn name_and_kind_constraints_restrict_the_rows() {
    use embargo_tables::Value;
    let dir = make_fixture("basic");
    let scan = Scan::new(Root::new(dir.path()).unwrap());
    let q = Query::all().with("name", vec![Value::Text("app.service".into()), Value::Text("legacyd".into())]);
    let rows = (TABLE.generate)(&scan.ctx("installed_services"), &q);
    let names: BTreeSet<_> = rows.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(names, ["app.service".to_string(), "legacyd".to_string()].into());
    let q = Query::all().with("kind", vec![Value::Text("sysv".into())]);
    let rows = (TABLE.generate)(&scan.ctx("installed_services"), &q);
    assert!(rows.len() == 2 && rows.iter().all(|r| r.kind.as_deref() == Some("sysv")));
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[cfg(unix)]
#[test]
fn fifos_never_hang_the_scan() {
    let dir = make_fixture("basic");
    mkfifo(&dir.path().join("opt/fifo.service"));
    std::os::unix::fs::symlink("/opt/fifo.service", dir.path().join("etc/systemd/system/fifo.service")).unwrap();
    mkfifo(&dir.path().join("etc/systemd/system/rawfifo.service"));
    mkfifo(&dir.path().join("etc/systemd/system/service.d/20-fifo.conf"));
    let (rows, scan) = generate(dir.path());
    assert_eq!(row(&rows, "fifo.service").start_type.as_deref(), Some("bad"));
    assert!(rows.iter().all(|r| r.name.as_deref() != Some("rawfifo.service")));
    assert!(scan.errors.snapshot().iter().any(|e| e.kind == ErrorKind::NotRegularFile));
    assert_eq!(row(&rows, "app.service").start_type.as_deref(), Some("enabled"));
}

#[test]
fn fixture_matches_systemctl() {
    if !embargo_tables::testing::peer_available("systemctl") {
        return;
    }
    for name in ["basic", "edge"] {
        let dir = make_fixture(name);
        let (rows, _) = generate(dir.path());
        assert_eq!(systemd_pairs(&rows), systemctl_pairs(dir.path()), "fixture {name}");
    }
}

#[test]
fn this_host_matches_systemctl() {
    if !embargo_tables::testing::peer_available("systemctl") {
        return;
    }
    let root = PathBuf::from("/");
    let (rows, _) = generate(&root);
    assert_eq!(systemd_pairs(&rows), systemctl_pairs(&root));
    assert!(rows.iter().all(|r| matches!(r.state.as_deref(), Some("running" | "stopped"))));
}

/// Found in the security review: a unit file over 16 MB was not read at
/// all and listed as bad, so padding a Kaspersky agent's unit with comments
/// demoted it from enabled. systemd reads a unit file of any size (only a
/// line of 1 MiB or more makes it refuse one), and so do we, line by line.
#[test]
fn a_unit_padded_with_tens_of_megabytes_keeps_its_state() {
    let dir = make_fixture("basic");
    let unit_dir = dir.path().join("lib/systemd/system");
    std::fs::create_dir_all(&unit_dir).unwrap();
    let mut body = b"[Unit]\nDescription=Kaspersky Network Agent\n".to_vec();
    let comment = format!("# {}\n", "x".repeat(98));
    while body.len() < 20 << 20 {
        body.extend_from_slice(comment.as_bytes());
    }
    body.extend_from_slice(
        b"[Service]\nExecStart=/opt/kaspersky/klnagent64/sbin/klnagent\n[Install]\nWantedBy=multi-user.target\n",
    );
    std::fs::write(unit_dir.join("klnagent64.service"), &body).unwrap();
    // Never enabled, its [Install] section after the padding is what makes it disabled rather than static.
    std::fs::write(unit_dir.join("klnagent-idle.service"), &body).unwrap();
    let wants = dir.path().join("etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink("/lib/systemd/system/klnagent64.service", wants.join("klnagent64.service")).unwrap();

    let (rows, scan) = generate(dir.path());
    let agent = row(&rows, "klnagent64.service");
    assert_eq!(agent.start_type.as_deref(), Some("enabled"));
    assert_eq!(agent.exec_path.as_deref(), Some("/opt/kaspersky/klnagent64/sbin/klnagent"));
    assert_eq!(agent.display_name.as_deref(), Some("Kaspersky Network Agent"));
    assert_eq!(row(&rows, "klnagent-idle.service").start_type.as_deref(), Some("disabled"));
    let errors = scan.errors.snapshot();
    assert!(!errors.iter().any(|e| e.path.contains("klnagent")), "{errors:?}");
    if embargo_tables::testing::peer_available("systemctl") {
        assert_eq!(systemd_pairs(&rows), systemctl_pairs(dir.path()));
    }
}
