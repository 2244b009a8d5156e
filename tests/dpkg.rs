//! installed_software's dpkg source against dpkg-query, and against hostile roots.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// `name:arch` of every package dpkg-query calls installed, for an admindir.
fn dpkg_installed(admindir: &Path) -> BTreeSet<String> {
    let admindir = format!("--admindir={}", admindir.display());
    run_peer("dpkg-query", &[&admindir, "-W", "-f=${Package}:${Architecture} ${db:Status-Status}\\n"])
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, state)| *state == "installed")
        .map(|(pkg, _)| pkg.to_string())
        .collect()
}

fn embargo_installed(root: &Path) -> BTreeSet<String> {
    json_rows(root, "SELECT identifier FROM installed_software WHERE source = 'deb' AND installed = 1")
        .into_iter()
        .map(|r| r["identifier"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn this_host_agrees_with_dpkg_query() {
    if !peer("dpkg-query") || !Path::new("/var/lib/dpkg/status").exists() {
        return;
    }
    let ours = embargo_installed(Path::new("/"));
    let theirs = dpkg_installed(Path::new("/var/lib/dpkg"));
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
}

#[test]
fn fixture_agrees_with_dpkg_query() {
    if !peer("dpkg-query") {
        return;
    }
    let root = fixture("roots/debian-mini");
    let theirs = dpkg_installed(&root.join("var/lib/dpkg"));
    assert_eq!(embargo_installed(&root), theirs);
    // Written from the fixture's recipe (make-debian-mini.sh).
    let rows = json_rows(&root, "SELECT name, status, installed, size, version FROM installed_software ORDER BY name");
    let states: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            (r["name"].as_str().unwrap().into(), r["status"].as_str().unwrap().into(), r["installed"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        states,
        [
            ("base-files".to_string(), "install ok installed".to_string(), 1),
            ("bash".into(), "hold ok installed".into(), 1),
            ("broken-tool".into(), "install reinstreq half-installed".into(), 0),
            ("old-tool".into(), "deinstall ok config-files".into(), 0),
            ("zlib1g".into(), "install ok installed".into(), 1),
        ]
    );
    let zlib = rows.iter().find(|r| r["name"] == "zlib1g").unwrap();
    assert_eq!(zlib["version"], "1:1.2.13.dfsg-1");
    // Installed-Size: 168 (KiB)
    assert_eq!(zlib["size"], 168 * 1024);
}

#[test]
fn pushdown_returns_exactly_what_sql_asks() {
    let root = fixture("roots/debian-mini");
    let rows = json_rows(
        &root,
        "SELECT name FROM installed_software WHERE name IN ('bash', 'zlib1g', 'absent') AND source = 'deb' ORDER BY 1",
    );
    assert_eq!(rows, vec![serde_json::json!({"name": "bash"}), serde_json::json!({"name": "zlib1g"})]);
    let rows = json_rows(&root, "SELECT name FROM installed_software WHERE source = 'rpm'");
    assert!(rows.is_empty());
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn errors(root: &Path) -> Vec<serde_json::Value> {
    json_rows(root, "SELECT table_name, path, kind, message FROM scan_errors WHERE table_name = 'installed_software'")
}

/// A dpkg run interrupted after writing its journal: dpkg-query applies
/// `updates/NNNN` over the status file, and so must we.
#[test]
fn the_updates_journal_is_applied_as_dpkg_does() {
    let dir = tempfile::tempdir().unwrap();
    let stanza = |name: &str, status: &str, arch: &str, version: &str| {
        format!(
            "Package: {name}\nStatus: {status}\nMaintainer: M <m@example.org>\nArchitecture: {arch}\nVersion: {version}\nDescription: {name}\n\n"
        )
    };
    // Two architectures of one package are allowed only for `Multi-Arch: same`.
    let multi_arch = |s: String| s.replace("Architecture:", "Multi-Arch: same\nArchitecture:");
    let status = [
        stanza("alpha", "install ok installed", "amd64", "1.0"),
        stanza("beta", "install ok installed", "all", "2.0"),
        multi_arch(stanza("delta", "install ok installed", "amd64", "4.0")),
        multi_arch(stanza("delta", "install ok installed", "i386", "4.0")),
    ]
    .concat();
    write(dir.path(), "var/lib/dpkg/status", status.as_bytes());
    // Removed to its configuration, a new package, an upgrade replayed twice
    // (the later record wins), one architecture of two purged, and dpkg's
    // temporary file, which is not a record.
    write(
        dir.path(),
        "var/lib/dpkg/updates/0000",
        stanza("alpha", "deinstall ok config-files", "amd64", "1.0").as_bytes(),
    );
    write(dir.path(), "var/lib/dpkg/updates/0001", stanza("gamma", "install ok installed", "amd64", "3.0").as_bytes());
    write(dir.path(), "var/lib/dpkg/updates/0002", stanza("beta", "install ok unpacked", "all", "2.1").as_bytes());
    write(dir.path(), "var/lib/dpkg/updates/0010", stanza("beta", "install ok installed", "all", "2.1").as_bytes());
    write(
        dir.path(),
        "var/lib/dpkg/updates/0011",
        multi_arch(stanza("delta", "purge ok not-installed", "i386", "4.0")).as_bytes(),
    );
    write(dir.path(), "var/lib/dpkg/updates/tmp.i", stanza("beta", "install ok installed", "all", "9.9").as_bytes());
    let rows =
        json_rows(dir.path(), "SELECT identifier, version, status, path FROM installed_software ORDER BY identifier");
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["identifier"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "alpha:amd64 1.0 deinstall ok config-files /var/lib/dpkg/updates/0000",
            "beta:all 2.1 install ok installed /var/lib/dpkg/updates/0010",
            "delta:amd64 4.0 install ok installed /var/lib/dpkg/status",
            "gamma:amd64 3.0 install ok installed /var/lib/dpkg/updates/0001",
        ]
    );
    assert!(errors(dir.path()).is_empty());
    if peer("dpkg-query") {
        assert_eq!(embargo_installed(dir.path()), dpkg_installed(&dir.path().join("var/lib/dpkg")));
    }
    // A corrupt journal record costs only itself.
    write(dir.path(), "var/lib/dpkg/updates/0012", b"\x00\xff garbage\n\nPackage: x\n\n");
    let again =
        json_rows(dir.path(), "SELECT identifier, version, status, path FROM installed_software ORDER BY identifier");
    assert_eq!(again, rows);
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e["path"] == "/var/lib/dpkg/updates/0012" && e["kind"] == "parse_error"), "{errs:?}");
}

#[cfg(unix)]
#[test]
fn a_status_file_linked_out_of_the_root_is_not_followed() {
    // The host's own status file is what a hostile image would try to make us read.
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "status", b"Package: analysts-secret\nStatus: install ok installed\n\n");
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("status"), dir.path().join("var/lib/dpkg/status")).unwrap();
    let rows = json_rows(dir.path(), "SELECT name FROM installed_software");
    assert!(rows.is_empty(), "read outside the root: {rows:?}");
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["path"], "/var/lib/dpkg/status");
    assert_eq!(errs[0]["kind"], "not_found");
    // A relative link climbing out lands on the root's own file instead.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "status", b"Package: inside\nStatus: install ok installed\n\n");
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../status", dir.path().join("var/lib/dpkg/status")).unwrap();
    let rows = json_rows(dir.path(), "SELECT name FROM installed_software");
    assert_eq!(rows, vec![serde_json::json!({"name": "inside"})]);
}

#[test]
fn malformed_stanzas_cost_only_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let mut status = Vec::new();
    status.extend_from_slice(b"Package: good-one\nStatus: install ok installed\nVersion: 1.0\n\n");
    status.extend_from_slice(b"\x00\xff\xfe garbage \x01\x02\n\n");
    status.extend_from_slice(b"Package: no-status\nVersion: 2\n\n");
    status.extend_from_slice(b"Package: good-two\nStatus: install ok installed\nVersion: 2.0\n\n");
    // Truncated mid-stanza, as a crash during a dpkg run leaves it.
    status.extend_from_slice(b"Package: trunc");
    write(dir.path(), "var/lib/dpkg/status", &status);
    let o = embargo(&[
        "--root",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "query",
        "SELECT name FROM installed_software ORDER BY 1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows, vec![serde_json::json!({"name": "good-one"}), serde_json::json!({"name": "good-two"})]);
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 3, "one row per bad stanza: {errs:?}");
    for e in &errs {
        assert_eq!(e["table_name"], "installed_software");
        assert_eq!(e["path"], "/var/lib/dpkg/status");
        assert_eq!(e["kind"], "parse_error");
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var/lib/dpkg")).unwrap();
    let fifo = dir.path().join("var/lib/dpkg/status");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let errs = errors(dir.path());
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["kind"], "not_regular_file");
}

#[test]
fn binary_garbage_everywhere_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic pseudo-random bytes with some newlines and colons.
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            [b'\n', b':', b' ', (x & 0xff) as u8][(x >> 8) as usize % 4]
        })
        .collect();
    write(dir.path(), "var/lib/dpkg/status", &bytes);
    write(dir.path(), "etc/os-release", &bytes[..5000]);
    write(dir.path(), "etc/hostname", &bytes[..100]);
    let o = embargo(&[
        "--root",
        dir.path().to_str().unwrap(),
        "query",
        "SELECT count(*) FROM installed_software; SELECT * FROM scan_host; SELECT count(*) FROM scan_errors",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A file the scanning user may not read is one `permission_denied` row; the
/// rest of the scan goes on. Root reads everything, so as root the binary is
/// run as `nobody` through util-linux's setpriv.
#[cfg(unix)]
#[test]
fn an_unreadable_status_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "var/lib/dpkg/status", b"Package: a\nStatus: install ok installed\n\n");
    write(dir.path(), "etc/hostname", b"locked-host\n");
    std::fs::set_permissions(dir.path().join("var/lib/dpkg/status"), std::fs::Permissions::from_mode(0o000)).unwrap();
    for d in ["", "var", "var/lib", "var/lib/dpkg", "etc"] {
        std::fs::set_permissions(dir.path().join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(dir.path().join("etc/hostname"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let root = dir.path().to_str().unwrap();
    let sql =
        "SELECT kind, path FROM scan_errors WHERE table_name = 'installed_software'; SELECT hostname FROM scan_host";
    let bin = env!("CARGO_BIN_EXE_embargo");
    let is_root = unsafe { libc::geteuid() } == 0;
    // `nobody` may not be able to reach the build directory: run a copy.
    let bin_dir = tempfile::tempdir().unwrap();
    let mut cmd = if is_root {
        if !peer("setpriv") {
            return;
        }
        std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = bin_dir.path().join("embargo");
        std::fs::copy(bin, &copy).unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]).arg(&copy);
        c
    } else {
        std::process::Command::new(bin)
    };
    let o = cmd.args(["--root", root, "--format", "jsonl", "query", sql]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"kind\": \"permission_denied\", \"path\": \"/var/lib/dpkg/status\"}\n{\"hostname\": \"locked-host\"}\n"
    );
}
